"""Demo rows for the clinic's diary: appointments, medical records, invoices, reminders."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from purplecross_desktop.demo_catalog import (
    APPOINTMENT_TYPES,
    MEDICATIONS,
    SERVICES,
    VACCINES,
)
from purplecross_desktop.demo_people import PeopleRows, accumulate
from purplecross_desktop.domain.appointments import AppointmentType
from purplecross_desktop.domain.columns import to_cents

OPEN_MINUTE = 8 * 60  # slots of 30 minutes from 08:00 to 18:00 UTC, Monday to Saturday
SLOTS_PER_DAY = 20
SLOT_MINUTES = 30
FILL = 0.85  # share of slots that are booked
FUTURE_DAYS = 42  # the diary is open six weeks ahead
TAX = Decimal("0.20")
CANCEL_REASONS = ("owner ill", "pet recovered", "clash with work", "moved away", "")


class ClinicRows(PeopleRows):
    """Every table's rows, people first, then the diary that refers to them."""

    def run(self, clients: int, patients: int, appointments: int) -> None:
        """Write every table, parents before children."""
        self.staff(appointments)
        self.clients(clients)
        self.patients(patients, clients)
        if appointments:
            self.appointments(appointments)
        self.invoices()
        self.reminders()

    def appointments(self, n: int) -> None:
        per_week = self.vets * SLOTS_PER_DAY * 6
        days_needed = -(-n * 7 // int(per_week * FILL)) + 7
        future = min(FUTURE_DAYS, max(1, days_needed // 10))
        first_day, last_day = future - days_needed, future
        slots = (
            sum(1 for d in range(first_day, last_day + 1) if self._open(d))
            * self.vets
            * SLOTS_PER_DAY
        )
        slots = max(slots, n)
        self.completed: list[tuple[int, int, int, int, str]] = []  # (appt, patient, vet, day, type)
        self.upcoming: list[
            tuple[int, int, int, int, int]
        ] = []  # (appt, client, patient, day, minute)
        columns = (
            "id",
            "patient_id",
            "client_id",
            "vet_id",
            "room_id",
            "starts_at",
            "ends_at",
            "type",
            "reason",
            "notes",
            "status",
            "booked_at",
            "confirmed_at",
            "arrived_at",
            "consult_started_at",
            "completed_at",
            "cancelled_at",
            "no_show_at",
            "cancel_reason",
            "updated_at",
        )
        self.w.write(
            "appointments", columns, self._appointment_rows(n, slots, first_day, last_day), n
        )

    def _open(self, day: int) -> bool:
        return (self.today + dt.timedelta(days=day)).weekday() != 6  # closed on Sundays

    def _appointment_rows(
        self, n: int, slots: int, first_day: int, last_day: int
    ) -> Iterator[tuple[Any, ...]]:
        # locals: this loop runs a million times
        stamp, pick, lifecycle, times = self.stamp, self.pick, self._lifecycle, self._times
        random_, alive, owner, vets = self.random, self.alive, self.owner, self.vets
        completed, upcoming = self.completed, self.upcoming
        # staff and rooms made before the demo (the first admin) keep their ids
        staff_offset, room_offset = self.staff_offset, self.room_offset
        kinds = [
            (t.value, minutes, reasons) for t, (_, minutes, reasons) in APPOINTMENT_TYPES.items()
        ]
        cumulative = list(accumulate([share for share, _, _ in APPOINTMENT_TYPES.values()]))
        weight_total, n_alive = cumulative[-1], len(alive)
        remaining_slots, needed, aid = slots, n, 0
        for day in range(first_day, last_day + 1):
            if not self._open(day):
                continue
            base, before = self.day_base(day), self.day_base(day - 1)
            for slot in range(SLOTS_PER_DAY):
                start = OPEN_MINUTE + slot * SLOT_MINUTES
                busy: set[int] = set()  # a patient is in one place at a time
                for vet in range(1, vets + 1):
                    # selection sampling: exactly n of the slots, evenly spread
                    take = random_() * remaining_slots < needed
                    remaining_slots -= 1
                    if not take:
                        continue
                    needed -= 1
                    aid += 1
                    patient = alive[int(random_() * n_alive)]
                    while patient in busy and len(busy) < n_alive:
                        patient = alive[int(random_() * n_alive)]
                    busy.add(patient)
                    kind, minutes, reasons = kinds[
                        bisect.bisect(cumulative, random_() * weight_total)
                    ]
                    end = start + minutes
                    row = lifecycle(day, start, end, base, before)
                    status = row[0]
                    booked_day = min(day - 1 - int(random_() * 60), -1)
                    booked = stamp(booked_day, 480 + int(random_() * 601))
                    if status == "completed":
                        completed.append((aid, patient, staff_offset + vet, day, kind))
                    elif status == "scheduled" or status == "confirmed":
                        upcoming.append((aid, owner[patient], patient, day, start))
                    last_change = row[6] or row[5] or row[4] or row[3] or row[2] or row[1] or booked
                    yield (
                        aid,
                        patient,
                        owner[patient],
                        staff_offset + vet,
                        room_offset + (vet + day) % vets + 1,  # each vet its own room a day
                        base + times[start],
                        base + times[end],
                        kind,
                        pick(reasons),
                        "",
                        status,
                        booked,
                        *row[1:],
                        pick(CANCEL_REASONS) if status == "cancelled" else None,
                        last_change,
                    )

    def _lifecycle(self, day: int, start: int, end: int, base: Any, before: Any) -> tuple[Any, ...]:
        """status, confirmed, arrived, consult started, completed, cancelled, no-show.

        ``base``/``before`` are the day's and the previous day's midnight values (same-day
        moments are ``base + times[minute]``: no call per timestamp in this hot path).
        """
        random_, times, stamp = self.random, self._times, self.stamp
        now = self.now_minute
        past = day < 0 or (day == 0 and end <= now)
        started = day < 0 or (day == 0 and start <= now)
        confirmed = before + times[540 + int(random_() * 481)] if random_() < 0.75 else None
        if past:
            roll = random_()
            if roll < 0.86:
                arrived = base + times[start - 2 - int(random_() * 14)]
                called_in = base + times[start + int(random_() * 6)]
                return ("completed", confirmed, arrived, called_in, base + times[end], None, None)
            if roll < 0.94:
                cancelled = stamp(day - 1 - int(random_() * 5), 600)
                return ("cancelled", None, None, None, None, cancelled, None)
            return ("no_show", confirmed, None, None, None, None, base + times[start + 20])
        if started:
            return (
                "in_consult",
                confirmed,
                base + times[start - 5],
                base + times[start],
                None,
                None,
                None,
            )
        if random_() < 0.05:
            cancelled = stamp(-1, 540 + int(random_() * 481))
            return ("cancelled", None, None, None, None, cancelled, None)
        if confirmed is not None and day <= 2:
            return ("confirmed", stamp(min(day - 1, -1), 600), None, None, None, None, None)
        return ("scheduled", None, None, None, None, None, None)

    def invoices(self) -> None:
        """Medical records for the completed visits, and invoices for the most recent ones."""
        rng, completed = self.rng, getattr(self, "completed", [])
        prescriptions: list[tuple[Any, ...]] = []
        vaccinations: list[tuple[Any, ...]] = []
        self.due_vaccinations: list[tuple[int, int, int]] = []
        for _aid, patient, vet, day, kind in completed:
            if kind == "vaccination":
                vaccines = VACCINES.get(self.species[patient])
                if vaccines:
                    due = day + 365
                    vaccinations.append(
                        (
                            len(vaccinations) + 1,
                            patient,
                            vet,
                            self.pick(vaccines),
                            f"B{self.between(10000, 99999)}",
                            self.date(day),
                            self.date(due),
                            "",
                            self.stamp(day, 720),
                        )
                    )
                    if -30 <= due <= 60:
                        self.due_vaccinations.append((len(vaccinations), patient, due))
            elif kind in ("consultation", "surgery", "dental", "emergency") and rng.random() < 0.2:
                medication, dosage, frequency = self.pick(MEDICATIONS)
                prescriptions.append(
                    (
                        len(prescriptions) + 1,
                        patient,
                        vet,
                        medication,
                        dosage,
                        frequency,
                        self.date(day),
                        self.date(day + self.between(5, 14)),
                        self.between(0, 2),
                        "",
                        self.stamp(day, 720),
                    )
                )
        self.w.write(
            "prescriptions",
            (
                "id",
                "patient_id",
                "vet_id",
                "medication",
                "dosage",
                "frequency",
                "starts_on",
                "ends_on",
                "refills",
                "instructions",
                "created_at",
            ),
            prescriptions,
            len(prescriptions),
        )
        self.w.write(
            "vaccinations",
            (
                "id",
                "patient_id",
                "vet_id",
                "vaccine",
                "batch_number",
                "given_on",
                "next_due_on",
                "notes",
                "created_at",
            ),
            vaccinations,
            len(vaccinations),
        )
        recent = completed[-max(50, len(completed) // 9) :] if completed else []
        invoices, lines, payments = [], [], []
        self.overdue: list[tuple[int, int]] = []
        kind_service = {t.value: i for i, t in enumerate(AppointmentType)}
        for iid, (aid, patient, _vet, day, kind) in enumerate(recent, start=1):
            items = [SERVICES[min(kind_service[kind], len(SERVICES) - 1)]]
            items += rng.sample(SERVICES[7:], self.between(0, 2))
            net_total = tax_total = Decimal("0.00")
            for position, (description, price) in enumerate(items):
                net = Decimal(price)
                tax = to_cents(net * TAX)
                net_total, tax_total = net_total + net, tax_total + tax
                lines.append((iid, position, description, Decimal(1), net, TAX, net, tax))
            total = net_total + tax_total
            paid = (
                total
                if (day < -30 and rng.random() < 0.97) or rng.random() < 0.6
                else Decimal("0.00")
            )
            if paid:
                payments.append(
                    (
                        iid,
                        paid,
                        rng.choice(("card", "card", "cash", "insurance")),
                        self.stamp(day, 1000),
                        None,
                    )
                )
            status = "paid" if paid else "open"
            if not paid and day + 14 < 0:
                self.overdue.append((iid, self.owner[patient]))
            issued = self.today + dt.timedelta(days=day)
            invoices.append(
                (
                    iid,
                    f"{issued.year}-{iid:06d}",
                    self.owner[patient],
                    patient,
                    aid,
                    status,
                    self.date(day),
                    self.date(day + 14),
                    "",
                    net_total,
                    tax_total,
                    total,
                    paid,
                    total - paid,
                    self.stamp(day, 1000),
                    self.stamp(day, 1000),
                )
            )
        self.w.write(
            "invoices",
            (
                "id",
                "number",
                "client_id",
                "patient_id",
                "appointment_id",
                "status",
                "issued_on",
                "due_on",
                "notes",
                "subtotal",
                "tax",
                "total",
                "paid",
                "balance",
                "created_at",
                "updated_at",
            ),
            invoices,
            len(invoices),
        )
        self.w.write(
            "invoice_lines",
            (
                "invoice_id",
                "position",
                "description",
                "quantity",
                "unit_price",
                "tax_rate",
                "net_amount",
                "tax_amount",
            ),
            lines,
            len(lines),
        )
        self.w.write(
            "payments",
            ("invoice_id", "amount", "method", "paid_at", "reference"),
            payments,
            len(payments),
        )

    def reminders(self) -> None:
        """Appointment reminders the day before, vaccination reminders two weeks ahead,
        payment reminders for overdue invoices."""
        rows = []
        channel_of = {"email": "email", "sms": "sms", "none": "desktop"}

        def add(
            kind: str, client: int, due_day: int, minute: int, links: tuple[Any, ...], text: str
        ) -> None:
            due = (due_day, minute)
            pending = due > (0, self.now_minute)
            when = self.stamp(due_day, minute)
            rows.append(
                (
                    kind,
                    channel_of[self.channels[client]],
                    "pending" if pending else "sent",
                    when,
                    client,
                    *links,
                    text,
                    None if pending else when,
                    self.stamp(-1, 600),
                    self.stamp(-1, 600),
                )
            )

        for aid, client, patient, day, minute in getattr(self, "upcoming", []):
            add(
                "appointment",
                client,
                day - 1,
                minute,
                (patient, aid, None, None),
                "Reminder: your appointment is tomorrow.",
            )
        for vid, patient, due in self.due_vaccinations:
            add(
                "vaccination",
                self.owner[patient],
                due - 14,
                540,
                (patient, None, vid, None),
                "A vaccination is due soon.",
            )
        for iid, client in self.overdue:
            add("payment", client, 1, 540, (None, None, None, iid), "An invoice is overdue.")
        self.w.write(
            "reminders",
            (
                "kind",
                "channel",
                "state",
                "due_at",
                "client_id",
                "patient_id",
                "appointment_id",
                "vaccination_id",
                "invoice_id",
                "message",
                "sent_at",
                "created_at",
                "updated_at",
            ),
            rows,
            len(rows),
        )
