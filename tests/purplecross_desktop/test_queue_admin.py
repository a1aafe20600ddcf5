"""Queue actions: only admins may take them, and each leaves an audit row with the staff member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from jobs.registry import JobRegistry
from purplecross_desktop.app import build_context, shutdown
from purplecross_desktop.domain.errors import PermissionDenied
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.queue_admin import AUDIT_ENTITY, QueueAdmin
from purplecross_desktop.settings import load_settings
from purplecross_desktop.ui.context import AppContext
from tests.support.staff import sign_in

pytestmark = pytest.mark.gui


@pytest.fixture
def context(qtbot: QtBot) -> Iterator[AppContext]:
    context = build_context(load_settings())
    yield context
    shutdown(context)


def _admin(context: AppContext) -> tuple[QueueAdmin, JobRegistry]:
    assert context.services is not None
    registry = JobRegistry(context.job_runtime().platform)
    admin = QueueAdmin(
        registry,
        context.services.access,
        context.session_factory,
        lambda: context.staff_session.current.staff_id if context.staff_session.current else None,
    )
    return admin, registry


def _email(context: AppContext) -> str:
    job_id = context.job_runtime().email.queue(
        "owner@example.org",
        "Your appointment",
        "appointment_reminder",
        {"client_name": "Ada", "patient_name": "Rex", "appointment_time": "Mon 10:00"},
    )
    return str(job_id)


def test_actions_are_audited_with_the_staff_member(context: AppContext) -> None:
    signed = sign_in(context)
    admin, registry = _admin(context)
    admin.pause("email")
    first, second = _email(context), _email(context)
    assert admin.revoke([first]).summary() == "Revoke: 1 job."
    copy = admin.duplicate([second]).done[0]
    assert registry.get(copy).job.args == registry.get(second).job.args
    removed = admin.remove([first, second])
    assert removed.done == [first, second]  # the waiting one is revoked, then removed
    plan = admin.retry_failed("email", dry_run=True)
    assert plan.dry_run
    assert admin.clean("email", "revoked", dt.timedelta(0)) == 0
    with pytest.raises(ValueError, match="older_than"):
        admin.clean("email", "revoked", dt.timedelta(seconds=-1))
    admin.resume("email")
    assert context.services is not None
    entries = context.services.audit.search(entity=AUDIT_ENTITY, limit=20).items
    actions = [e.action for e in reversed(entries)]
    assert actions == [
        "jobs.pause",
        "jobs.revoke",
        "jobs.duplicate",
        "jobs.remove",
        "jobs.clean",
        "jobs.resume",
    ]  # the dry run changed nothing and is not recorded
    assert {e.staff_id for e in entries} == {signed.staff_id}
    removal = next(e for e in entries if e.action == "jobs.remove")
    assert removal.changes["jobs"] == [first, second]


def test_other_roles_are_refused_and_nothing_changes(context: AppContext) -> None:
    sign_in(context, StaffRole.FRONT_DESK)
    admin, registry = _admin(context)
    with pytest.raises(PermissionDenied, match="only admin staff may monitor queues"):
        admin.pause("email")
    assert registry.paused_queues() == set()
