"""Another workstation in its own process: the app's services, cache and invalidation wiring
(no Qt), doing what it is told on stdin, one JSON command a line, answering ``ok`` after the
change is committed (and its invalidations sent) or ``error <message>``.

Run with ``python -m tests.purplecross_desktop.other_workstation`` and the settings of the
clinic in the environment (``PURPLECROSS_DATABASE_URL``, ``PURPLECROSS_REDIS_URL``, its own
``PURPLECROSS_DATA_DIR``).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from purplecross_desktop.cache_wiring import build_cache_service, wire_cache_invalidation
from purplecross_desktop.database.base import AppointmentId, ClientId, PatientId, StaffId
from purplecross_desktop.database.session import make_engine, make_session_factory
from purplecross_desktop.domain.appointments import AppointmentService, Booking
from purplecross_desktop.domain.billing import InvoiceData, LineData, PaymentData
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.services import build_services
from purplecross_desktop.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


class OtherWorkstation:
    """``other_workstation.py`` in a subprocess, on the same database and Redis."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.purplecross_desktop.other_workstation"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._answer()

    def do(self, **command: Any) -> Any:
        """Do ``command`` and return its result (fails the test on an error)."""
        self.send(**command)
        return self.result(command)

    def send(self, **command: Any) -> None:
        """Start ``command`` without waiting for it (see :meth:`answer`)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def result(self, command: object = None) -> Any:
        answer = self.answer()
        assert answer.startswith("ok "), f"{command}: {answer}"
        return json.loads(answer[3:])

    def answer(self) -> str:
        """The next answer line: ``ok <json>`` or ``error <message>``."""
        return self._answer()

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(30)
        self.process.stdout.close()

    def _answer(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line, f"the other workstation exited ({self.process.wait(30)})"
        return line


def main() -> None:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    factory = make_session_factory(engine)
    bus = EventBus("other workstation")
    cache = build_cache_service(settings)
    wire_cache_invalidation(bus, cache)
    services = build_services(factory, bus, cache=cache)
    print(f"ready {cache.tier}", flush=True)
    for line in sys.stdin:
        command: dict[str, Any] = json.loads(line)
        try:
            result = run(services, factory, bus, command)
            print(f"ok {json.dumps(result)}", flush=True)
        except Exception as exc:
            print(f"error {type(exc).__name__}: {exc}", flush=True)
    cache.close()
    engine.dispose()


def run(services: Any, factory: Any, bus: EventBus, command: dict[str, Any]) -> Any:
    """Do one command; returns something JSON for the caller to check."""
    kind = command["do"]
    if kind == "check_in":
        services.appointments.check_in(AppointmentId(command["appointment_id"]))
    elif kind == "rename_room":
        services.rooms.update(command["room_id"], {"name": command["name"]})
    elif kind == "rename_vet":
        services.staff.update(StaffId(command["staff_id"]), {"name": command["name"]})
    elif kind == "price":
        services.price_list.update(command["item_id"], {"unit_price": command["unit_price"]})
    elif kind == "alert":
        services.patients.update(PatientId(command["patient_id"]), {"alerts": command["alerts"]})
    elif kind == "invoice":
        lines = [LineData("Visit", 1, command["amount"])]
        services.invoices.create(InvoiceData(client_id=ClientId(command["client_id"]), lines=lines))
    elif kind == "pay":
        services.accounts.pay(
            ClientId(command["client_id"]), PaymentData(Decimal(command["amount"]), "card")
        )
    elif kind == "book":
        starts = dt.datetime.fromisoformat(command["starts_at"])
        booker = AppointmentService(factory, bus, clock=lambda: starts - dt.timedelta(hours=12))
        appointment = booker.book(
            Booking(
                patient_id=PatientId(command["patient_id"]),
                vet_id=StaffId(command["vet_id"]),
                room_id=command["room_id"],
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=command.get("minutes", 15)),
            )
        )
        return appointment.id
    elif kind == "board":
        start = dt.datetime.fromisoformat(command["start"])
        rows = services.front_desk.board(start, start + dt.timedelta(days=1))
        return {str(row.id): row.status.value for row in rows}
    else:
        raise ValueError(f"unknown command {kind!r}")
    return None


if __name__ == "__main__":
    main()
