"""The front desk's writes: price list, discounts, checkout with payments, check-in weight."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from purplecross_desktop.database.base import AppointmentId, ClientId, PatientId, StaffId
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.domain.billing import (
    InvoiceData,
    InvoiceStatus,
    LineData,
    PaymentData,
    line_amounts,
)
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.price_list import (
    PriceItemData,
    PriceKind,
    PriceListService,
)
from purplecross_desktop.domain.staff import StaffData, StaffRole
from tests.purplecross_desktop.domain.conftest import Clinic


def _prices(clinic: Clinic) -> PriceListService:
    return PriceListService(clinic.sessions, clinic.bus, clock=clinic.clock)


# --- price list ------------------------------------------------------------------------


def test_price_list_entries_are_validated_per_field_and_unique(clinic: Clinic) -> None:
    prices = _prices(clinic)
    consult = prices.create(PriceItemData("Consultation", PriceKind.SERVICE, "45.00", "0.2"))
    assert consult.unit_price == Decimal("45.00")
    before = clinic.snapshot()
    with pytest.raises(ValidationError) as caught:
        prices.create(PriceItemData("consultation", "food", "-1", "1.5"))
    assert caught.value.errors == {
        "name": [f"is already used by price item {consult.id}"],
        "kind": ["must be one of: service, product"],
        "unit_price": ["must not be negative"],
        "tax_rate": ["must be at most 1"],
    }
    assert clinic.snapshot() == before


def test_price_list_update_and_retire(clinic: Clinic) -> None:
    prices = _prices(clinic)
    item = prices.create(PriceItemData("Wormer", PriceKind.PRODUCT, "9.99", "0.2"))
    prices.update(item.id, {"unit_price": "10.49"})
    prices.update(item.id, {"active": False})
    assert prices.get(item.id).unit_price == Decimal("10.49")
    assert [i.name for i in prices.search().items] == []
    assert [i.name for i in prices.search(active=None).items] == ["Wormer"]
    assert clinic.events[-1].name == "price_item.updated"
    with pytest.raises(ValidationError, match="shoe_size: is not a field"):
        prices.update(item.id, {"shoe_size": 3})


def test_only_an_admin_changes_prices(clinic: Clinic) -> None:
    prices = _prices(clinic)
    desk = clinic.staff.create(
        StaffData(name="Pat Desk", role=StaffRole.FRONT_DESK, login="pat"), "correct horse"
    )
    admin = clinic.staff.create(
        StaffData(name="Ann Admin", role=StaffRole.ADMIN, login="ann"), "correct horse"
    )
    data = PriceItemData("Microchip", PriceKind.SERVICE, "25", "0.2")
    with pytest.raises(ValidationError, match="actor: must be an admin"):
        prices.create(data, actor=StaffId(desk.id))
    assert prices.search().items == []
    assert prices.create(data, actor=StaffId(admin.id)).name == "Microchip"


# --- invoices: discounts and checkout --------------------------------------------------


def test_a_line_discount_comes_off_before_tax() -> None:
    # 2 x 10.00 = 20.00, 10 % off = 2.00, net 18.00, tax 20 % = 3.60
    assert line_amounts(Decimal(2), Decimal("10.00"), Decimal("0.2"), Decimal("0.1")) == (
        Decimal("18.00"),
        Decimal("3.60"),
    )


def test_checkout_creates_the_invoice_and_its_payments_in_one_go(clinic: Clinic) -> None:
    prices = _prices(clinic)
    item = prices.create(PriceItemData("Consultation", PriceKind.SERVICE, "40.00", "0.2"))
    client = clinic.client()
    invoice = clinic.invoices.create(
        InvoiceData(
            client_id=ClientId(client.id),
            lines=[
                LineData("Consultation", 1, "40.00", "0.2", "0.1", price_item_id=item.id),
                LineData("Wormer", 2, "5.00", "0.2"),
            ],
        ),
        payments=[PaymentData("20.00", "card"), PaymentData("10.00", "cash", tendered="20")],
    )
    # 40 - 4 = 36 net + 7.20 tax; 10 net + 2 tax -> 55.20; discount 4.00
    assert invoice.discount == Decimal("4.00")
    assert invoice.subtotal == Decimal("46.00")
    assert invoice.total == Decimal("55.20")
    assert invoice.paid == Decimal("30.00")
    assert invoice.balance == Decimal("25.20")
    assert invoice.status is InvoiceStatus.OPEN
    stored = clinic.invoices.get(invoice.id)
    assert stored.lines[0].price_item_id == item.id
    assert [p.change_due for p in stored.payments] == [Decimal("0.00"), Decimal("10.00")]


def test_checkout_paid_in_full_settles_and_publishes_paid(clinic: Clinic) -> None:
    client = clinic.client()
    invoice = clinic.invoices.create(
        InvoiceData(client_id=ClientId(client.id), lines=[LineData("Nail clip", 1, "12", "0")]),
        payments=[PaymentData("12.00", "cash", tendered="20.00")],
    )
    assert invoice.status is InvoiceStatus.PAID
    assert [e.name for e in clinic.events[-2:]] == ["invoice.created", "invoice.paid"]


def test_a_bad_checkout_writes_nothing(clinic: Clinic) -> None:
    client = clinic.client()
    before = clinic.snapshot()
    with pytest.raises(ValidationError) as caught:
        clinic.invoices.create(
            InvoiceData(client_id=ClientId(client.id), lines=[LineData("X", 1, "10", "0")]),
            payments=[
                PaymentData("8", "card", tendered="9"),
                PaymentData("5", "cash", tendered="2"),
            ],
        )
    assert caught.value.errors == {
        "payments[0].tendered": ["is only for cash payments"],
        "payments[1].tendered": ["must be at least the amount of 5"],
        "payments": ["must not exceed the total of 10.00"],
    }
    with pytest.raises(ValidationError, match=r"lines\[0\].price_item_id: must be an existing"):
        clinic.invoices.create(
            InvoiceData(
                client_id=ClientId(client.id), lines=[LineData("X", 1, "10", "0", "0", 999)]
            )
        )
    assert clinic.snapshot() == before


def test_an_appointment_is_invoiced_once(clinic: Clinic) -> None:
    patient = clinic.patient()
    appt = clinic.appointments.book(clinic.booking(patient, clinic.vet(), clinic.room()))
    data = InvoiceData(
        client_id=ClientId(patient.client_id),
        patient_id=PatientId(patient.id),
        appointment_id=appt.id,
        lines=[LineData("Consultation", 1, "40", "0.2")],
    )
    first = clinic.invoices.create(data)
    with pytest.raises(
        ValidationError, match=f"appointment_id: is already invoiced .{first.number}"
    ):
        clinic.invoices.create(data)
    clinic.invoices.void(first.id, "wrong lines")
    assert clinic.invoices.create(data).appointment_id == appt.id


def test_a_cash_payment_records_the_change_due(clinic: Clinic) -> None:
    client = clinic.client()
    invoice = clinic.invoices.create(
        InvoiceData(client_id=ClientId(client.id), lines=[LineData("X", 1, "42.50", "0")])
    )
    payment = clinic.invoices.add_payment(
        invoice.id, PaymentData("42.50", "cash", tendered="50.00")
    )
    assert payment.change_due == Decimal("7.50")
    assert clinic.invoices.get(invoice.id).status is InvoiceStatus.PAID


# --- check-in with a weight ------------------------------------------------------------


def test_check_in_records_the_weight_in_the_same_transaction(clinic: Clinic) -> None:
    patient = clinic.patient()
    appt = clinic.appointments.book(clinic.booking(patient, clinic.vet(), clinic.room()))
    clinic.appointments.check_in(AppointmentId(appt.id), weight_kg="12.4")
    assert clinic.appointments.get(appt.id).status is AppointmentStatus.ARRIVED
    weights = clinic.patients.get(patient.id).weights
    assert [(w.measured_on, w.weight_kg) for w in weights] == [
        (clinic.clock.now.date(), Decimal("12.400"))
    ]
    names = [e.name for e in clinic.events]
    assert names[-2:] == ["appointment.status_changed", "patient.updated"]


def test_a_refused_check_in_keeps_neither_status_nor_weight(clinic: Clinic) -> None:
    patient = clinic.patient()
    appt = clinic.appointments.book(clinic.booking(patient, clinic.vet(), clinic.room()))
    before = clinic.snapshot()
    with pytest.raises(ValidationError) as caught:
        clinic.appointments.check_in(AppointmentId(appt.id), weight_kg="-2")
    assert caught.value.errors == {"weight_kg": ["must be positive"]}
    clinic.appointments.cancel(AppointmentId(appt.id), "owner phoned")
    after_cancel = clinic.snapshot()
    with pytest.raises(ValidationError, match="status: cannot go from cancelled to arrived"):
        clinic.appointments.check_in(AppointmentId(appt.id), weight_kg="12")
    assert clinic.snapshot() == after_cancel
    assert before["patient_weights"] == after_cancel["patient_weights"]


def test_check_in_without_a_weight_still_works(clinic: Clinic) -> None:
    patient = clinic.patient()
    appt = clinic.appointments.book(
        clinic.booking(patient, clinic.vet(), clinic.room(), at=clinic.clock.now)
    )
    clinic.clock.advance(minutes=1)
    clinic.appointments.check_in(AppointmentId(appt.id), weight_kg="")
    assert clinic.appointments.get(appt.id).arrived_at == clinic.clock.now
    assert clinic.patients.get(patient.id).weights == []
    assert clinic.clock.now - dt.timedelta(minutes=1) == appt.starts_at


# --- the Today board's read model ------------------------------------------------------


def test_the_board_lists_the_day_with_alerts_and_open_balance(clinic: Clinic) -> None:
    from purplecross_desktop.domain.front_desk import FrontDeskQueries

    client = clinic.client()
    rex = clinic.patient(client.id, alerts=["Bites"])
    vet, room = clinic.vet(), clinic.room()
    later = clinic.appointments.book(clinic.booking(rex, vet, room, at=START_PLUS(3)))
    first = clinic.appointments.book(clinic.booking(rex, vet, room, at=START_PLUS(1)))
    clinic.appointments.book(clinic.booking(rex, vet, room, at=START_PLUS(26)))  # tomorrow
    invoice = clinic.invoices.create(
        InvoiceData(client_id=ClientId(client.id), lines=[LineData("X", 1, "30", "0")])
    )
    clinic.invoices.add_payment(invoice.id, PaymentData("10", "card"))
    queries = FrontDeskQueries(clinic.sessions)
    day = (START_PLUS(-8), START_PLUS(16))
    rows = queries.board(*day)
    assert [r.id for r in rows] == [first.id, later.id]
    assert rows[0].alerts == ("Bites",)
    assert rows[0].balance == Decimal("20.00")
    assert rows[0].vet == "Dr Who"
    card = queries.appointment_card(first.id)
    assert (card.patient, card.balance, card.alerts) == ("Rex", Decimal("20.00"), ("Bites",))


def test_one_vet_s_or_one_room_s_board_and_probe(clinic: Clinic) -> None:
    """A week on the Calendar is one vet's or one room's: only theirs is read."""
    from purplecross_desktop.domain.front_desk import FrontDeskQueries

    rex, tom = clinic.patient(name="Rex"), clinic.patient(name="Tom")
    who, house = clinic.vet(), clinic.vet("house", "Dr House")
    one, two = clinic.room(), clinic.room("Room 2")
    a = clinic.appointments.book(clinic.booking(rex, who, one, at=START_PLUS(1)))
    b = clinic.appointments.book(clinic.booking(tom, house, two, at=START_PLUS(1)))
    c = clinic.appointments.book(clinic.booking(tom, who, two, at=START_PLUS(3)))
    queries = FrontDeskQueries(clinic.sessions)
    week = (START_PLUS(-8), START_PLUS(160))
    assert [r.id for r in queries.board(*week)] == [a.id, b.id, c.id]
    assert [r.id for r in queries.board(*week, vet_id=who.id)] == [a.id, c.id]
    assert [r.id for r in queries.board(*week, room_id=two.id)] == [b.id, c.id]
    assert queries.board_probe(*week).count == 3
    assert queries.board_probe(*week, vet_id=house.id).count == 1
    before = queries.board_probe(*week, room_id=one.id)
    clinic.appointments.check_in(AppointmentId(b.id))  # Room 2's: Room 1's week is as it was
    assert queries.board_probe(*week, room_id=one.id) == before
    assert queries.board_probe(*week, room_id=two.id).count == 2


def test_the_probe_moves_even_when_the_writer_s_clock_is_behind(clinic: Clinic) -> None:
    from purplecross_desktop.domain.front_desk import FrontDeskQueries

    rex = clinic.patient()
    appt = clinic.appointments.book(clinic.booking(rex, clinic.vet(), clinic.room()))
    queries = FrontDeskQueries(clinic.sessions)
    day = (START_PLUS(-8), START_PLUS(16))
    before = queries.board_probe(*day)
    assert before.count == 1
    clinic.clock.advance(hours=-1)  # this workstation's clock runs an hour behind
    clinic.appointments.check_in(AppointmentId(appt.id))
    assert queries.board_probe(*day) != before


def START_PLUS(hours: float) -> dt.datetime:
    from tests.purplecross_desktop.domain.conftest import START

    return START + dt.timedelta(hours=hours)


# --- finding a free slot and a patient -------------------------------------------------


def test_next_free_slot_skips_busy_vets_rooms_and_the_patient(clinic: Clinic) -> None:
    rex = clinic.patient()
    tom = clinic.patient(name="Tom")
    who, house = clinic.vet(), clinic.vet("house", "Dr House")
    room1, room2 = clinic.room(), clinic.room("Room 2")
    nine = START_PLUS(1)
    window = [(nine, START_PLUS(10))]
    half = dt.timedelta(minutes=30)
    slot = clinic.appointments.next_free_slot(window, half, vet_id=StaffId(who.id))
    assert slot is not None
    assert (slot.starts_at, slot.vet_id) == (nine, who.id)
    clinic.appointments.book(clinic.booking(rex, who, room1, at=nine))
    slot = clinic.appointments.next_free_slot(window, half, vet_id=StaffId(who.id))
    assert slot is not None
    assert (slot.starts_at, slot.room_id) == (nine + half, room1.id)
    # Any vet: Dr House (the other vet, other room) is free at nine.
    slot = clinic.appointments.next_free_slot(window, half)
    assert slot is not None
    assert (slot.starts_at, slot.vet_id, slot.room_id) == (nine, house.id, room2.id)
    # Rex is busy at nine whoever sees him.
    slot = clinic.appointments.next_free_slot(window, half, patient_id=PatientId(rex.id))
    assert slot is not None
    assert slot.starts_at == nine + half
    assert (
        clinic.appointments.next_free_slot([(nine, nine + half)], half, vet_id=StaffId(who.id))
        is None
    )
    with pytest.raises(ValidationError, match="length: must be between"):
        clinic.appointments.next_free_slot(window, dt.timedelta(minutes=1))
    assert tom.id


def test_find_patients_by_name_owner_or_any_part_of_a_phone(clinic: Clinic) -> None:
    from purplecross_desktop.domain.clients import Phone
    from purplecross_desktop.domain.front_desk import FrontDeskQueries

    ada = clinic.client(phones=(Phone("+44 20 7946 0123"),))
    clinic.patient(ada.id, name="Rex")
    bob = clinic.client("Bob Stone", email="bob@example.org", phones=(Phone("01632 960555"),))
    clinic.patient(bob.id, name="Bella", species="cat")
    queries = FrontDeskQueries(clinic.sessions)
    assert [p.name for p in queries.find_patients("bel")] == ["Bella"]
    assert [p.name for p in queries.find_patients("lovelace")] == ["Rex"]
    assert [p.name for p in queries.find_patients("960 555")] == ["Bella"]
    assert [p.name for p in queries.find_patients("7946")] == ["Rex"]
    assert queries.find_patients("bella")[0].label == "Bella (cat), owner Bob Stone"
    # each word in the pet's or the owner's name, in any order
    clinic.patient(ada.id, name="Bella", species="dog")
    assert [p.client for p in queries.find_patients("bella love")] == ["Ada Lovelace"]
    assert [p.client for p in queries.find_patients("stone  BELLA")] == ["Bob Stone"]
    assert queries.find_patients("bella smith") == []
    assert [c.name for c in queries.vets()] == []
