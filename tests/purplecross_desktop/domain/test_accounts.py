"""A client's account: open invoices oldest due first, payments spread over them in one
transaction, change recorded, and nothing changed by a refused payment."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest

from purplecross_desktop.database.base import ClientId, InvoiceId
from purplecross_desktop.domain.accounts import AccountService
from purplecross_desktop.domain.billing import InvoiceData, InvoiceStatus, LineData, PaymentData
from purplecross_desktop.domain.errors import NotFound, ValidationError
from tests.purplecross_desktop.domain.conftest import Clinic


def _accounts(clinic: Clinic) -> AccountService:
    return AccountService(clinic.sessions, clinic.bus, clock=clinic.clock)


def _owing(clinic: Clinic) -> tuple[ClientId, list[InvoiceId]]:
    """A client with three invoices: 30.00 due in 5 days, 20.00 due in 1, 50.00 paid."""
    client = ClientId(clinic.client().id)
    today = clinic.clock.now.date()
    ids = []
    for price, due_in in (("30.00", 5), ("20.00", 1), ("50.00", 9)):
        invoice = clinic.invoices.create(
            InvoiceData(
                client_id=client,
                lines=[LineData("Visit", 1, price)],
                issued_on=today,
                due_on=today + dt.timedelta(days=due_in),
            )
        )
        ids.append(InvoiceId(invoice.id))
    clinic.invoices.add_payment(ids[2], PaymentData("50.00", "card"))
    return client, ids


def test_the_account_lists_open_invoices_oldest_due_first(clinic: Clinic) -> None:
    client, ids = _owing(clinic)
    account = _accounts(clinic).account(client)
    assert [i.id for i in account.invoices] == [ids[1], ids[0]]
    assert account.balance == Decimal("50.00")
    with pytest.raises(NotFound):
        _accounts(clinic).account(ClientId(999_999))


def test_a_payment_settles_the_oldest_due_first_and_records_the_change(clinic: Clinic) -> None:
    client, ids = _owing(clinic)
    clinic.events.clear()
    paid = _accounts(clinic).pay(client, PaymentData("35.00", "cash", tendered="40.00"))
    assert [(i, a) for i, _n, a in paid.allocations] == [
        (ids[1], Decimal("20.00")),
        (ids[0], Decimal("15.00")),
    ]
    assert paid.change_due == Decimal("5.00")
    assert paid.balance_left == Decimal("15.00")
    first, second = clinic.invoices.get(ids[1]), clinic.invoices.get(ids[0])
    assert first.status is InvoiceStatus.PAID
    assert first.balance == 0
    assert second.status is InvoiceStatus.OPEN
    assert second.balance == Decimal("15.00")
    # the change handed back is on the receipt of the last invoice paid, and only once
    changes = [p.change_due for inv in (first, second) for p in inv.payments]
    assert sum(changes) == Decimal("5.00")
    names = [e.name for e in clinic.events]
    assert names == ["invoice.updated", "invoice.paid", "invoice.updated"]
    assert _accounts(clinic).account(client).balance == Decimal("15.00")


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        (PaymentData("50.01", "card"), "amount", "must not exceed the balance of 50.00"),
        (PaymentData("0", "card"), "amount", "must be positive"),
        (PaymentData("10", "cheque"), "method", "must be one of"),
        (PaymentData("10", "cash", tendered="5"), "tendered", "must be at least the amount"),
        (PaymentData("10", "card", tendered="20"), "tendered", "is only for cash payments"),
    ],
)
def test_a_bad_payment_names_the_field_and_changes_nothing(
    clinic: Clinic, data: PaymentData, field: str, rule: str
) -> None:
    client, _ids = _owing(clinic)
    before = clinic.snapshot()
    with pytest.raises(ValidationError) as caught:
        _accounts(clinic).pay(client, data)
    assert field in caught.value.errors
    assert any(rule in message for message in caught.value.errors[field]), caught.value.errors
    assert clinic.snapshot() == before


def test_nothing_owed_is_refused(clinic: Clinic) -> None:
    client = ClientId(clinic.client().id)
    with pytest.raises(ValidationError) as caught:
        _accounts(clinic).pay(client, PaymentData("1", "card"))
    assert caught.value.errors == {
        "client_id": ["has nothing to pay: no open invoice has a balance"]
    }


def test_two_desks_paying_the_whole_account_at_once_take_it_once(clinic: Clinic) -> None:
    client, _ids = _owing(clinic)
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def pay() -> None:
        start.wait()
        try:
            outcomes.append(_accounts(clinic).pay(client, PaymentData("50.00", "card")))
        except ValidationError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(outcomes) == 2, outcomes
    assert len(refused) == 1, outcomes
    assert _accounts(clinic).account(client).balance == 0
