"""One transaction per write: events only after commit, audit rows with the change, and a
failing subscriber never undoes or breaks a committed write."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from purplecross_desktop.database.base import ClientId, StaffId
from purplecross_desktop.database.models import metadata
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.clients import Client, ClientData
from purplecross_desktop.domain.errors import Conflict, NotFound, ValidationError
from purplecross_desktop.domain.events import DomainEvent
from purplecross_desktop.domain.staff import StaffData
from tests.purplecross_desktop.domain.conftest import Clinic


def test_events_are_published_after_the_commit(clinic: Clinic) -> None:
    seen_in_db: list[bool] = []

    def check_committed(event: DomainEvent) -> None:
        # A fresh session sees the row: the transaction had committed before publishing.
        with clinic.sessions() as session:
            seen_in_db.append(session.get(Client, event.entity_id) is not None)

    clinic.bus.subscribe("client.created", check_committed)
    client = clinic.client()
    assert seen_in_db == [True]
    event = clinic.events[-1]
    assert (event.name, event.entity, event.entity_id) == ("client.created", "client", client.id)
    assert event.occurred_at == clinic.clock.now


def test_no_event_and_no_row_when_the_write_fails(clinic: Clinic) -> None:
    with pytest.raises(ValidationError):
        clinic.clients.create(ClientData(name=""))
    assert clinic.events == []
    with clinic.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_a_failing_subscriber_does_not_break_the_service(clinic: Clinic) -> None:
    def broken(event: DomainEvent) -> None:
        raise RuntimeError("subscriber bug")

    clinic.bus.subscribe("*", broken)
    client = clinic.client()
    assert clinic.clients.get(ClientId(client.id)).name == "Ada Lovelace"


def test_audit_rows_name_the_actor_the_change_and_the_time(clinic: Clinic) -> None:
    vet = clinic.vet()
    client = clinic.client()
    clinic.clock.advance(minutes=5)
    clinic.clients.update(ClientId(client.id), {"city": "London"}, actor=StaffId(vet.id))
    entries = clinic.audit.search(entity="client", entity_id=client.id).items
    assert [e.action for e in entries] == ["updated", "created"]
    updated, created = entries
    assert updated.staff_id == vet.id
    assert updated.changes == {"city": [None, "London"]}
    assert updated.occurred_at == clinic.clock.now
    assert created.staff_id is None  # the system
    assert created.changes["name"] == [None, "Ada Lovelace"]
    by_vet = clinic.audit.search(staff_id=StaffId(vet.id))
    assert by_vet.total == 1


def test_an_update_that_changes_nothing_writes_nothing(clinic: Clinic) -> None:
    client = clinic.client()
    before = clinic.snapshot()
    clinic.events.clear()
    clinic.clients.update(ClientId(client.id), {"name": "Ada Lovelace"})
    assert clinic.snapshot() == before
    assert clinic.events == []


def test_unknown_ids_raise_not_found(clinic: Clinic) -> None:
    with pytest.raises(NotFound, match=r"^client 404: not found$"):
        clinic.clients.get(ClientId(404))
    with pytest.raises(NotFound, match=r"^client 404: not found$"):
        clinic.clients.update(ClientId(404), {"name": "X"})


def test_a_clash_only_the_database_sees_is_a_conflict_with_no_event(clinic: Clinic) -> None:
    """Another workstation inserts the same login and commits while our write is in
    flight: PostgreSQL's unique index refuses ours (``Conflict``, nothing published);
    SQLite makes our write wait for the lock and then names the rule."""
    staff = metadata.tables["staff"]
    other = clinic.engine.connect()
    transaction = other.begin()
    if clinic.engine.dialect.name == "sqlite":
        other.exec_driver_sql("BEGIN IMMEDIATE")  # the other desk holds the write lock
    other.execute(
        staff.insert().values(
            name="Other desk",
            role="admin",
            login="boss",
            password_hash="x",
            active=True,
            created_at=clinic.clock.now,
            updated_at=clinic.clock.now,
        )
    )
    outcome: list[BaseException] = []
    # The moment to commit the other desk: on PostgreSQL once our INSERT is sent (its
    # checks passed, so only the unique index can refuse it); on SQLite once our
    # BEGIN IMMEDIATE is sent (it waits for the other desk's lock).
    wanted = "INSERT INTO staff" if clinic.engine.dialect.name == "postgresql" else "BEGIN"
    reached = threading.Event()

    def watch(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if threading.current_thread() is worker and statement.lstrip().startswith(wanted):
            reached.set()

    def create() -> None:
        try:
            clinic.staff.create(StaffData("Boss", "admin", "boss"), "long enough")
        except (Conflict, ValidationError) as exc:
            outcome.append(exc)

    worker = threading.Thread(target=create)
    sa.event.listen(clinic.engine, "before_cursor_execute", watch)
    try:
        worker.start()
        assert reached.wait(30), f"our write never sent {wanted}"
    finally:
        sa.event.remove(clinic.engine, "before_cursor_execute", watch)
    transaction.commit()
    other.close()
    worker.join(timeout=30)
    assert len(outcome) == 1
    if clinic.engine.dialect.name == "postgresql":
        assert isinstance(outcome[0], Conflict)
        assert "reload and try again" in str(outcome[0])
    else:
        assert str(outcome[0]) == "login: is already taken"
    assert clinic.events == []
    with clinic.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
