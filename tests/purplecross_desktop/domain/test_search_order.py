"""Every ``search`` orders empty values the same way on SQLite and PostgreSQL: last,
ascending or descending (the grid's rule). A plain ORDER BY puts NULL first on SQLite
ascending and first on PostgreSQL descending, so the two backends paged differently."""

from __future__ import annotations

import datetime as dt

import pytest

from purplecross_desktop.database.base import ClientId
from purplecross_desktop.domain.clients import ClientService
from purplecross_desktop.domain.patients import PatientService
from purplecross_desktop.domain.query import order_clauses
from purplecross_desktop.domain.validation import Checker
from tests.purplecross_desktop.domain.conftest import Clinic


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("city", ["Bath", "York", "-", "-"]),
        ("-city", ["York", "Bath", "-", "-"]),
        ("postal_code", ["BA1", "YO1", "-", "-"]),
        ("-postal_code", ["YO1", "BA1", "-", "-"]),
        (["city", "-name"], ["Bath", "York", "-", "-"]),
    ],
)
def test_client_search_puts_empty_values_last_either_way(
    clinic: Clinic, order: str | list[str], expected: list[str]
) -> None:
    clinic.client("Ann", city="York", postal_code="YO1")
    clinic.client("Bea")
    clinic.client("Cid", city="Bath", postal_code="BA1")
    clinic.client("Dot")
    key = "city" if "city" in str(order) else "postal_code"
    found = clinic.clients.search(order=order).items
    assert [getattr(c, key) or "-" for c in found] == expected


def test_patient_search_puts_empty_values_last_either_way(clinic: Clinic) -> None:
    owner = ClientId(clinic.client().id)
    clinic.patient(owner, "Rex", breed="Collie", date_of_birth=dt.date(2020, 1, 1))
    clinic.patient(owner, "Ace")
    clinic.patient(owner, "Tom", breed="Beagle", date_of_birth=dt.date(2021, 1, 1))

    def names(order: str) -> list[str]:
        return [p.name for p in clinic.patients.search(client_id=owner, order=order).items]

    assert names("breed") == ["Tom", "Rex", "Ace"]
    assert names("-breed") == ["Rex", "Tom", "Ace"]
    assert names("date_of_birth") == ["Rex", "Tom", "Ace"]
    assert names("-date_of_birth") == ["Tom", "Rex", "Ace"]


@pytest.mark.parametrize("service", [ClientService, PatientService])
def test_not_null_columns_are_ordered_plainly(service: type[ClientService]) -> None:
    """NULLS LAST on a column that is never NULL would only keep PostgreSQL from walking
    its index backwards for a descending sort."""
    for key in ("id", "-id", "name", "-name"):
        (clause,) = order_clauses(key, service.ORDER, Checker())
        assert "NULLS" not in str(clause)
    (clause,) = order_clauses("-created_at", service.ORDER, Checker())
    assert "NULLS" not in str(clause)
