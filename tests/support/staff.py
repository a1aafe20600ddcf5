"""Signing a workstation in for tests: the screens' writes are made as the signed-in staff."""

from __future__ import annotations

from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import StaffData
from purplecross_desktop.staff_session import SignedIn
from purplecross_desktop.ui.context import AppContext

PASSWORD = "test password"


def sign_in(context: AppContext, role: StaffRole = StaffRole.ADMIN, login: str = "") -> SignedIn:
    """Sign ``context``'s workstation in as a staff member with ``role``.

    The clinic's first admin ("admin") is created when it has no staff; another role gets
    a member created by that admin. Everyone's password is ``PASSWORD``.
    """
    services = context.services
    assert services is not None
    session = context.staff_session
    admin = services.staff.authenticate("admin", PASSWORD)
    if admin is None:
        admin = services.staff.create_first_admin(
            StaffData("Alex Admin", StaffRole.ADMIN, "admin"), PASSWORD
        )
    if role == StaffRole.ADMIN and not login:
        return session.sign_in(admin)
    login = login or role.value.replace("_", "-")
    member = services.staff.authenticate(login, PASSWORD)
    if member is None:
        session.sign_in(admin)
        member = services.staff.create(StaffData(f"{role.label} tester", role, login), PASSWORD)
    return session.sign_in(member)
