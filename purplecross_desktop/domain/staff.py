"""Staff members (front desk, veterinarians, admins), their logins and argon2 password hashes."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Mapped, mapped_column, validates

from purplecross_desktop.database.base import Base, StaffId, UTCDateTime, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.database.text_order import fold_text, sort_key_column
from purplecross_desktop.domain.columns import enum_type
from purplecross_desktop.domain.errors import Conflict
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.query import Page, like_pattern, paginate
from purplecross_desktop.domain.roles import Permission, StaffRole
from purplecross_desktop.domain.service import (
    Clock,
    CurrentActor,
    ServiceBase,
    apply_changes,
    check_actor,
    get_or_raise,
    system_actor,
)
from purplecross_desktop.domain.validation import Checker, unknown_fields

__all__ = ["Staff", "StaffData", "StaffRole", "StaffService", "require_role"]

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD_LENGTH = 8


class Staff(Base):
    """A person who logs in to the app."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), index=True)
    # fold_text(name): the grids sort by it (same order in memory, SQLite, PostgreSQL)
    name_key: Mapped[str] = sort_key_column("name")

    @validates("name")
    def _keep_name_key(self, _key: str, name: str) -> str:
        self.name_key = fold_text(name)
        return name

    role: Mapped[StaffRole] = mapped_column(enum_type(StaffRole, "role"), index=True)
    login: Mapped[str] = mapped_column(sa.String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_staff_name_lower", sa.func.lower(name)),)


@dataclass(frozen=True, slots=True)
class StaffData:
    """The editable fields of a staff member (the password is set separately)."""

    name: str
    role: StaffRole | str
    login: str
    email: str | None = None
    active: bool = True


EDITABLE = frozenset(f.name for f in dataclasses.fields(StaffData))


class StaffService(ServiceBase):
    """Create, update, find and authenticate staff members.

    Creating and changing staff needs ``Permission.MANAGE_STAFF`` (admins); anyone may
    change their own password. The first admin of an empty clinic is created by
    :meth:`create_first_admin`, which refuses once any staff member exists.
    """

    ORDER = {
        "name": sa.func.lower(Staff.name),
        "role": Staff.role,
        "login": Staff.login,
        "active": Staff.active,
        "created_at": Staff.created_at,
    }

    def __init__(
        self,
        session_factory: SessionFactory,
        events: EventBus,
        *,
        clock: Clock = utcnow,
        password_hasher: PasswordHasher | None = None,
        current_actor: CurrentActor = system_actor,
    ) -> None:
        super().__init__(session_factory, events, clock=clock, current_actor=current_actor)
        self._hasher = password_hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def create(self, data: StaffData, password: str, *, actor: StaffId | None = None) -> Staff:
        """Add a staff member with ``password`` (stored as an argon2 hash only)."""
        checker = Checker()
        values = self._validate(data, checker)
        _check_password(password, checker)
        with self._write(actor, permission=Permission.MANAGE_STAFF) as uow:
            self._check_login_free(uow.session, values.get("login"), None, checker)
            checker.raise_if_any()
            staff = Staff(**values, password_hash=self._hasher.hash(password))
            staff.created_at = staff.updated_at = uow.now
            uow.session.add(staff)
            uow.session.flush()
            uow.audit("created", "staff", staff.id, {k: [None, v] for k, v in values.items()})
            uow.emit("staff.created", staff.id, role=staff.role, login=staff.login)
        return staff

    def update(
        self, staff_id: StaffId, changes: Mapping[str, object], *, actor: StaffId | None = None
    ) -> Staff:
        """Change some fields of a staff member."""
        unknown_fields(dict(changes), EDITABLE)
        with self._write(actor, permission=Permission.MANAGE_STAFF) as uow:
            staff = get_or_raise(uow.session, Staff, "staff", staff_id)
            current = StaffData(staff.name, staff.role, staff.login, staff.email, staff.active)
            checker = Checker()
            values = self._validate(dataclasses.replace(current, **changes), checker)  # type: ignore[arg-type]
            self._check_login_free(uow.session, values.get("login"), staff.id, checker)
            self._check_an_admin_remains(uow.session, staff, values, checker)
            checker.raise_if_any()
            changed = apply_changes(staff, values)
            if changed:
                staff.updated_at = uow.now
                uow.audit("updated", "staff", staff.id, changed)
                uow.emit("staff.updated", staff.id, fields=sorted(changed))
        return staff

    def set_password(
        self, staff_id: StaffId, password: str, *, actor: StaffId | None = None
    ) -> None:
        """Replace the password of a staff member (their own, or anyone's for an admin)."""
        checker = Checker()
        _check_password(password, checker)
        checker.raise_if_any()
        with self._write(actor) as uow:
            if uow.actor != staff_id:
                check_actor(uow.session, uow.actor, Permission.MANAGE_STAFF)
            staff = get_or_raise(uow.session, Staff, "staff", staff_id)
            staff.password_hash = self._hasher.hash(password)
            staff.updated_at = uow.now
            uow.audit("password_changed", "staff", staff.id, {})
            uow.emit("staff.updated", staff.id, fields=["password"])

    def create_first_admin(self, data: StaffData, password: str) -> Staff:
        """The first staff member of a new clinic: an admin, created by nobody.

        Raises:
            ValidationError: a field breaks its rule (``role`` must be admin).
            Conflict: the clinic has staff already (sign in instead).
        """
        checker = Checker()
        values = self._validate(data, checker)
        _check_password(password, checker)
        if checker.ok("role") and values["role"] != StaffRole.ADMIN:
            checker.add("role", "must be admin for the first account")
        checker.raise_if_any()
        with self._write(None, as_system=True) as uow:
            if uow.session.get_bind().dialect.name == "postgresql":
                # two desks running the first start at once: the second waits, then sees one
                uow.session.execute(sa.text("LOCK TABLE staff IN SHARE ROW EXCLUSIVE MODE"))
            if uow.session.scalar(sa.select(Staff.id).limit(1)) is not None:
                raise Conflict("the clinic has staff already; sign in with an existing account")
            staff = Staff(**values, password_hash=self._hasher.hash(password))
            staff.created_at = staff.updated_at = uow.now
            uow.session.add(staff)
            uow.session.flush()
            uow.audit("created", "staff", staff.id, {k: [None, v] for k, v in values.items()})
            uow.emit("staff.created", staff.id, role=staff.role, login=staff.login)
        return staff

    def has_staff(self) -> bool:
        """Whether any staff member exists (if not, the app asks for the first admin)."""
        with self._read() as session:
            return session.scalar(sa.select(Staff.id).limit(1)) is not None

    def authenticate(self, login: str, password: str) -> Staff | None:
        """The active staff member with this login and password, else None."""
        with self._read() as session:
            staff = session.scalar(sa.select(Staff).where(Staff.login == login.strip().lower()))
            if staff is None or not staff.active:
                if staff is None:
                    # as slow as a real check, so timing does not tell which logins exist
                    self._verify_dummy(password)
                return None
            try:
                self._hasher.verify(staff.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return staff

    def _verify_dummy(self, password: str) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not a password anyone has")
        with contextlib.suppress(VerificationError, InvalidHashError):
            self._hasher.verify(self._dummy_hash, password)

    def sign_in(self, login: str, password: str) -> Staff | None:
        """:meth:`authenticate`, and on success stamp ``last_sign_in_at`` (no audit row:
        signing in changes nothing in the clinic's records)."""
        staff = self.authenticate(login, password)
        if staff is None:
            return None
        now = self._clock()
        with self._sessions() as session, session.begin():
            session.execute(
                sa.update(Staff).where(Staff.id == staff.id).values(last_sign_in_at=now)
            )
        staff.last_sign_in_at = now
        return staff

    def get(self, staff_id: StaffId) -> Staff:
        """One staff member, or ``NotFound``."""
        with self._read() as session:
            return get_or_raise(session, Staff, "staff", staff_id)

    def search(
        self,
        text: str | None = None,
        *,
        role: StaffRole | str | None = None,
        active: bool | None = None,
        order: str = "name",
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Staff]:
        """Staff whose name or login contains ``text``, filtered by role and active flag."""
        stmt = sa.select(Staff)
        if text and text.strip():
            pattern = like_pattern(text)
            stmt = stmt.where(
                sa.or_(
                    sa.func.lower(Staff.name).like(pattern, escape="\\"),
                    Staff.login.like(pattern, escape="\\"),
                )
            )
        if role is not None:
            checker = Checker()
            member = checker.choice("role", role, StaffRole)
            checker.raise_if_any()
            stmt = stmt.where(Staff.role == member)
        if active is not None:
            stmt = stmt.where(Staff.active == active)
        with self._read() as session:
            return paginate(session, stmt, order, self.ORDER, limit, offset, tiebreak=Staff.id)

    def _validate(self, data: StaffData, checker: Checker) -> dict[str, object]:
        values: dict[str, object] = {
            "name": checker.text("name", data.name, max_length=120),
            "role": checker.choice("role", data.role, StaffRole),
            "email": checker.email("email", data.email),
            "active": checker.flag("active", data.active),
        }
        login = checker.text("login", data.login, max_length=40)
        if login is not None:
            login = login.lower()
            if not LOGIN_RE.match(login):
                checker.add("login", "must be 2-40 characters: letters, digits, '.', '_' or '-'")
        values["login"] = login
        return values

    @staticmethod
    def _check_an_admin_remains(
        session: sa.orm.Session, staff: Staff, values: Mapping[str, object], checker: Checker
    ) -> None:
        """Refuse to demote or deactivate the last active admin (nobody could manage staff)."""
        if staff.role != StaffRole.ADMIN or not staff.active:
            return
        demoted = values.get("role") not in (None, StaffRole.ADMIN)
        deactivated = values.get("active") is False
        if not (demoted or deactivated):
            return
        others = session.scalar(
            sa.select(sa.func.count(Staff.id)).where(
                Staff.role == StaffRole.ADMIN, Staff.active.is_(True), Staff.id != staff.id
            )
        )
        if not others:
            field = "role" if demoted else "active"
            checker.add(field, "must leave the clinic at least one active admin")

    @staticmethod
    def _check_login_free(
        session: sa.orm.Session, login: object, own_id: int | None, checker: Checker
    ) -> None:
        if not isinstance(login, str) or not checker.ok("login"):
            return
        other = session.scalar(sa.select(Staff.id).where(Staff.login == login))
        if other is not None and other != own_id:
            checker.add("login", "is already taken")


def _check_password(password: object, checker: Checker) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        checker.add("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")


def require_role(
    session: sa.orm.Session, staff_id: object, role: StaffRole, field: str, checker: Checker
) -> None:
    """Check that ``staff_id`` is an active staff member with ``role`` (for foreign keys)."""
    if staff_id is None:
        return
    staff = session.get(Staff, staff_id) if isinstance(staff_id, int) else None
    if staff is None:
        checker.add(field, "must be an existing staff member")
    elif staff.role != role:
        checker.add(field, f"must be a staff member with the role {role.value}")
    elif not staff.active:
        checker.add(field, "must be an active staff member")
