"""Roles and permissions: admin actions are refused by the services for every other role,
the signed-in staff member is the actor of every write, and the first admin bootstraps."""

from __future__ import annotations

from typing import Any

import pytest

from purplecross_desktop.database.base import StaffId
from purplecross_desktop.domain.access import AccessService
from purplecross_desktop.domain.clients import ClientData, ClientService
from purplecross_desktop.domain.errors import Conflict, PermissionDenied, ValidationError
from purplecross_desktop.domain.roles import Permission, StaffRole, can, roles_with
from purplecross_desktop.domain.staff import Staff, StaffData
from tests.purplecross_desktop.domain.conftest import Clinic

NON_ADMIN = [StaffRole.FRONT_DESK, StaffRole.VETERINARIAN, StaffRole.PRACTICE_MANAGER]


def _member(clinic: Clinic, role: StaffRole, login: str | None = None) -> Staff:
    login = login or role.value.replace("_", "-")
    return clinic.staff.create(StaffData(f"{role.label} person", role, login), "long enough")


def test_only_admins_hold_the_admin_permissions() -> None:
    for permission in Permission:
        if permission is Permission.MANAGE_WORKFLOWS:
            continue
        assert roles_with(permission) == [StaffRole.ADMIN]
        assert not any(can(role, permission) for role in NON_ADMIN)
    assert not can("wizard", Permission.MANAGE_STAFF)


def test_workflows_belong_to_practice_managers_and_admins() -> None:
    # Issue 14: the builder and the runs are for admins and practice managers.
    assert roles_with(Permission.MANAGE_WORKFLOWS) == [
        StaffRole.PRACTICE_MANAGER,
        StaffRole.ADMIN,
    ]


@pytest.mark.parametrize("role", NON_ADMIN)
def test_staff_changes_are_refused_for_non_admins_and_change_nothing(
    clinic: Clinic, role: StaffRole
) -> None:
    actor = StaffId(_member(clinic, role).id)
    other = _member(clinic, StaffRole.VETERINARIAN, "other-vet")
    before = clinic.snapshot()
    attempts: list[Any] = [
        lambda: clinic.staff.create(StaffData("New", "admin", "new"), "long enough", actor=actor),
        lambda: clinic.staff.update(StaffId(other.id), {"role": "admin"}, actor=actor),
        lambda: clinic.staff.update(StaffId(actor), {"role": "admin"}, actor=actor),
        lambda: clinic.staff.set_password(StaffId(other.id), "new password", actor=actor),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.permission == "manage_staff"
        assert "only admin staff may manage staff" in str(refused.value)
        assert role.label.lower() in str(refused.value)
    with pytest.raises(PermissionDenied):
        AccessService(clinic.sessions).require(Permission.MANAGE_SETTINGS, actor=actor)
    assert clinic.snapshot() == before


def test_admins_manage_staff_and_everyone_changes_their_own_password(clinic: Clinic) -> None:
    admin = StaffId(_member(clinic, StaffRole.ADMIN).id)
    desk = clinic.staff.create(StaffData("Desk", "front_desk", "desk"), "long enough", actor=admin)
    clinic.staff.update(StaffId(desk.id), {"role": "practice_manager"}, actor=admin)
    clinic.staff.set_password(StaffId(desk.id), "my own secret", actor=StaffId(desk.id))
    assert clinic.staff.authenticate("desk", "my own secret") is not None
    clinic.staff.set_password(StaffId(desk.id), "reset by admin", actor=admin)
    assert clinic.staff.authenticate("desk", "reset by admin") is not None
    AccessService(clinic.sessions).require(Permission.MONITOR_QUEUES, actor=admin)
    actors = {
        e.action: e.staff_id for e in clinic.audit.search(entity="staff", entity_id=desk.id).items
    }
    assert actors == {"created": admin, "updated": admin, "password_changed": admin}


def test_an_inactive_account_can_change_nothing(clinic: Clinic) -> None:
    desk = _member(clinic, StaffRole.FRONT_DESK)
    clinic.staff.update(StaffId(desk.id), {"active": False})
    with pytest.raises(PermissionDenied, match="inactive"):
        clinic.clients.create(ClientData(name="Ada"), actor=StaffId(desk.id))
    assert clinic.clients.search().total == 0


def test_the_current_actor_signs_every_write_and_nobody_signed_in_writes_nothing(
    clinic: Clinic,
) -> None:
    desk = _member(clinic, StaffRole.FRONT_DESK)
    signed_in: list[StaffId] = [StaffId(desk.id)]

    def current() -> StaffId:
        if not signed_in:
            raise PermissionDenied("nobody is signed in at this workstation")
        return signed_in[0]

    clients = ClientService(clinic.sessions, clinic.bus, clock=clinic.clock, current_actor=current)
    ada = clients.create(ClientData(name="Ada Lovelace"))
    clients.update(ada.id, {"notes": "prefers mornings"})
    entries = clinic.audit.search(entity="client", entity_id=ada.id).items
    assert [e.staff_id for e in entries] == [desk.id, desk.id]
    signed_in.clear()
    with pytest.raises(PermissionDenied, match="nobody is signed in"):
        clients.create(ClientData(name="Grace Hopper"))
    assert clinic.clients.search().total == 1


def test_the_first_admin_is_created_once(clinic: Clinic) -> None:
    assert not clinic.staff.has_staff()
    with pytest.raises(ValidationError) as bad:
        clinic.staff.create_first_admin(StaffData("Jo", "front_desk", "jo"), "long enough")
    assert bad.value.errors == {"role": ["must be admin for the first account"]}
    with pytest.raises(ValidationError) as short:
        clinic.staff.create_first_admin(StaffData("Jo", "admin", "jo"), "short")
    assert short.value.errors == {"password": ["must be at least 8 characters"]}
    jo = clinic.staff.create_first_admin(StaffData("Jo", "admin", "jo"), "long enough")
    assert clinic.staff.has_staff()
    assert jo.role == StaffRole.ADMIN
    entry = clinic.audit.search(entity="staff", entity_id=jo.id).items[0]
    assert entry.staff_id is None
    assert entry.action == "created"
    with pytest.raises(Conflict, match="has staff already"):
        clinic.staff.create_first_admin(StaffData("Eve", "admin", "eve"), "long enough")
    assert clinic.staff.search().total == 1


def test_the_last_active_admin_stays(clinic: Clinic) -> None:
    jo = clinic.staff.create_first_admin(StaffData("Jo", "admin", "jo"), "long enough")
    for change, field in (({"role": "front_desk"}, "role"), ({"active": False}, "active")):
        with pytest.raises(ValidationError) as refused:
            clinic.staff.update(StaffId(jo.id), change, actor=StaffId(jo.id))
        assert refused.value.errors == {field: ["must leave the clinic at least one active admin"]}
    second = _member(clinic, StaffRole.ADMIN, "second")
    clinic.staff.update(StaffId(jo.id), {"role": "front_desk"}, actor=StaffId(second.id))
    assert clinic.staff.get(StaffId(jo.id)).role == StaffRole.FRONT_DESK


def test_sign_in_stamps_the_time_and_refuses_wrong_passwords(clinic: Clinic) -> None:
    desk = _member(clinic, StaffRole.FRONT_DESK)
    assert desk.last_sign_in_at is None
    assert clinic.staff.sign_in("front-desk", "wrong one") is None
    assert clinic.staff.sign_in("nobody", "long enough") is None
    signed = clinic.staff.sign_in(" Front-Desk ", "long enough")
    assert signed is not None
    assert signed.id == desk.id
    assert clinic.staff.get(StaffId(desk.id)).last_sign_in_at == clinic.clock.now
    assert clinic.audit.search(entity="staff", entity_id=desk.id).total == 1  # only "created"
