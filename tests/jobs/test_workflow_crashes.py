"""Kill a worker at every step boundary of a five-step run: each run completes, and each side
effect (three emails over real SMTP, a note, a reminder) happens exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401
from jobs.email import EmailService, SmtpConfig
from jobs.email_templates import ClinicInfo
from jobs.event_dispatch import EventHandlers
from jobs.platform import TaskSpec
from jobs.queues import EMAIL
from jobs.workflows import register
from purplecross_desktop.database import make_session_factory
from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.reminders import Reminder
from purplecross_desktop.services import build_services
from purplecross_desktop.workflows.document import Document
from tests.jobs.conftest import KEY, Harness, wait_until
from tests.jobs.smtp_server import SmtpServer
from tests.jobs.workflow_crash import CRASH_ENV

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.redis, pytest.mark.slow]
POINTS = ("before_action", "after_action", "after_save")


def _email(step: str) -> dict[str, object]:
    return {
        "id": step,
        "action": "send_email",
        "with": {
            "to": "owner",
            "client_id": "{{ trigger.client_id }}",
            "subject": f"{step} {{{{ run.id }}}}",
            "message": "a step of a run that is killed",
        },
    }


FIVE_STEPS = Document.from_data(
    {
        "name": "Five steps",
        "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
        "steps": [
            _email("one"),
            _email("two"),
            {
                "id": "three",
                "action": "add_note",
                "with": {"entity": "client", "id": "{{ trigger.client_id }}", "text": "three"},
            },
            {
                "id": "four",
                "action": "create_reminder",
                "with": {
                    "client_id": "{{ trigger.client_id }}",
                    "kind": "follow_up",
                    "due_in": {"days": 30},
                    "message": "four",
                },
            },
            _email("five"),
        ],
        "settings": {"enabled": True},
    }
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_killing_a_worker_at_every_step_boundary_loses_and_repeats_nothing(
    harness: Harness, redis_server: object, smtp: SmtpServer, tmp_path: Path
) -> None:
    redis_url = redis_server.url  # type: ignore[attr-defined]
    platform = harness.platform(redis_url)
    email = EmailService(
        platform,
        SmtpConfig(host="127.0.0.1", port=smtp.port, tls="none", timeout=5),
        ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100"),
    )
    platform.register(TaskSpec("email.send", email.send, EMAIL, context=True))
    platform.services["email"] = email
    services = build_services(make_session_factory(harness.engine), EventBus("desk"))
    engine = register(platform, services, EventHandlers())
    info, _ = services.workflows.save(FIVE_STEPS)
    client = services.clients.create(
        ClientData(name="Kay", email="kay@example.org", preferred_contact="email")
    ).id
    env = {
        **os.environ,
        "PURPLECROSS_DATABASE_URL": harness.engine.url.render_as_string(hide_password=False),
        "PURPLECROSS_REDIS_URL": redis_url,
        "PURPLECROSS_JOB_SIGNING_KEY": KEY.decode(),
        "PURPLECROSS_DATA_DIR": str(tmp_path / "worker-data"),
        "PURPLECROSS_SMTP_HOST": "127.0.0.1",
        "PURPLECROSS_SMTP_PORT": str(smtp.port),
        "PURPLECROSS_SMTP_TLS": "none",
    }

    def worker(crash_at: str | None, n: int, queues: tuple[str, ...]) -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{n}.log").open("wb") as log:
            return _spawn(crash_at, log, queues)

    def _spawn(crash_at: str | None, log: Any, queues: tuple[str, ...]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "purplecross_desktop",
                "worker",
                *(arg for queue in queues for arg in ("--queue", queue)),
                "--workers",
                "1",
                "--heartbeat",
                "0.2",
                "--heartbeat-timeout",
                "1",
                "--shutdown-timeout",
                "3",
                "--register",
                "tests.jobs.workflow_crash:register",
            ],
            cwd=ROOT,
            env={**env, CRASH_ENV: crash_at}
            if crash_at
            else {k: v for k, v in env.items() if k != CRASH_ENV},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    # The emails go through a worker that is never killed: an email job killed mid-send is
    # the email family's business (it is buried, not risked twice), not the engine's.
    mailer = worker(None, 100, ("email", "events"))
    # Worker k resumes what worker k-1 left mid-step and is itself killed at boundary k.
    runs: list[int] = []
    for n, (seq, point) in enumerate((s, p) for s in range(5) for p in POINTS):
        run_id = engine.start_manual(info.id, {"client_id": client})
        runs.append(run_id)
        process = worker(f"{run_id}:{point}:{seq}", n, ("workflows",))
        assert process.wait(timeout=120) == -signal.SIGKILL, (
            tmp_path / f"worker-{n}.log"
        ).read_text()
    final = worker(None, 99, ("workflows",))
    try:
        wait_until(
            lambda: (
                [services.workflows.run(r)[0].status for r in runs] == ["succeeded"] * len(runs)
            ),
            timeout=180,
            interval=0.5,
        )
        wait_until(lambda: len(smtp.inbox.messages) >= 3 * len(runs), timeout=60, interval=0.5)
        time.sleep(2.0)  # nothing else trickles in
    finally:
        for process in (final, mailer):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    subjects = Counter(str(m["Subject"]) for m in smtp.inbox.messages)
    assert subjects == Counter(f"{step} {r}" for r in runs for step in ("one", "two", "five"))
    notes = services.clients.get(ClientId(client)).notes
    assert all(notes.count(f"[workflow-run:{r}:step:2]") == 1 for r in runs), notes
    with harness.engine.connect() as conn:
        reminders = (
            conn.execute(sa.select(Reminder.dedupe_key).where(Reminder.message == "four"))
            .scalars()
            .all()
        )
    assert sorted(reminders) == sorted(f"workflow-run:{r}:step:3" for r in runs)
