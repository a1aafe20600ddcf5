"""Workflows are stored in versions; only admins and practice managers change them, audited."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.database.models import metadata
from purplecross_desktop.domain.audit import AuditEntry
from purplecross_desktop.domain.errors import PermissionDenied, ValidationError
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.services import Services, build_services
from purplecross_desktop.workflows.document import Document, load
from purplecross_desktop.workflows.models import RUN
from purplecross_desktop.workflows.sample_runs import add_sample_runs

TEMPLATES = Path(__file__).resolve().parents[3] / "purplecross_desktop/workflows/templates"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    metadata.create_all(engine)
    yield build_services(make_session_factory(engine))
    engine.dispose()


def test_an_edit_makes_a_new_version_and_enabling_does_not(services: Services) -> None:
    document = load(TEMPLATES / "no-show-follow-up.yaml")
    info, created = services.workflows.save(document)
    assert (info.version, info.enabled, created) == (1, False, True)
    assert services.workflows.save(document)[1] is False  # the same again: nothing new
    services.workflows.set_enabled(info.id, True)
    assert services.workflows.find(info.id).version == 1
    data = copy.deepcopy(dict(document.data))
    data["steps"][1]["with"]["at"] = "10:30"
    info2, created = services.workflows.save(Document.from_data(data))
    assert (info2.version, created) == (2, True)
    assert services.workflows.document(info.id, 1).data["steps"][1]["with"]["at"] == "09:00"
    current = services.workflows.document(info.id)
    assert current.data["steps"][1]["with"]["at"] == "10:30"
    assert current.enabled is False  # the edited document said enabled: false
    assert [n for n, _ in services.workflows.versions(info.id)] == [1, 2]


def test_only_admins_and_practice_managers_change_workflows(services: Services) -> None:
    admin = services.staff.create_first_admin(
        StaffData("Alex", StaffRole.ADMIN, "admin"), "a long password"
    )
    desk = services.staff.create(
        StaffData("Dee", StaffRole.FRONT_DESK, "dee"), "a long password", actor=StaffId(admin.id)
    )
    manager = services.staff.create(
        StaffData("Pat", StaffRole.PRACTICE_MANAGER, "pat"),
        "a long password",
        actor=StaffId(admin.id),
    )
    document = load(TEMPLATES / "new-client-welcome.yaml")
    with pytest.raises(PermissionDenied, match="manage workflows"):
        services.workflows.save(document, actor=StaffId(desk.id))
    info, _ = services.workflows.save(document, actor=StaffId(manager.id))
    services.workflows.set_enabled(info.id, True, actor=StaffId(manager.id))
    entries = services.audit.search(entity="workflow", entity_id=info.id).items
    assert sorted(e.action for e in entries) == ["created", "enabled"]
    assert {e.staff_id for e in entries} == {manager.id}


def test_disabling_asks_what_happens_to_running_instances(services: Services) -> None:
    info, _ = services.workflows.save(load(TEMPLATES / "new-client-welcome.yaml"))
    with pytest.raises(ValidationError, match="running: must be finish or cancel"):
        services.workflows.set_enabled(info.id, False, running="abandon")


def test_an_archived_workflow_cannot_be_enabled(services: Services) -> None:
    info, _ = services.workflows.save(load(TEMPLATES / "new-client-welcome.yaml"))
    services.workflows.archive(info.id)
    assert services.workflows.all() == []
    with pytest.raises(ValidationError, match="enabled: an archived workflow"):
        services.workflows.set_enabled(info.id, True)


def test_a_stored_document_broken_behind_the_services_back_is_never_enabled(
    services: Services,
) -> None:
    info, _ = services.workflows.save(load(TEMPLATES / "new-client-welcome.yaml"))
    engine = services.workflows._sessions.kw["bind"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE workflow_version SET document = :d"), {"d": '{"name": "x"}'})
    with pytest.raises(Exception, match="steps: must be a non-empty list"):
        services.workflows.set_enabled(info.id, True)
    assert services.workflows.find(info.id).enabled is False
    with make_session_factory(engine)() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1


def test_runs_per_day_counts_the_clinic_s_days(database_url: str) -> None:
    """The Workflows page's chart: a run at 02:00 UTC is the evening before in New York."""
    engine = make_engine(database_url)
    try:
        metadata.create_all(engine)
        services = build_services(make_session_factory(engine))
        services.workflows.save(load(TEMPLATES / "new-client-welcome.yaml"))
        add_sample_runs(engine, per_workflow=2)
        now = utcnow()
        early = dt.datetime.combine(now.date(), dt.time(2, 0), tzinfo=dt.UTC)
        if early > now:
            early -= dt.timedelta(days=1)
        with engine.begin() as conn:
            conn.execute(sa.update(RUN).values(started_at=early, status="succeeded"))
        york = ZoneInfo("America/New_York")
        clinic = services.workflows.runs_per_day(zone=york)
        assert clinic[-1][0] == now.astimezone(york).date().isoformat()
        assert [(day, ok) for day, ok, _ in clinic if ok] == [
            (early.astimezone(york).date().isoformat(), 2)
        ]
        utc = services.workflows.runs_per_day()
        assert [(day, ok) for day, ok, _ in utc if ok] == [(early.date().isoformat(), 2)]
    finally:
        engine.dispose()
