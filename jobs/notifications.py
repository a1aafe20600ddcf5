"""The notifications family (queue ``notifications``): a job per recipient, fanned out per channel.

``queue_notification(kind, recipients, title, message, channels=None, expires_at=None)``
checks everything first (an unknown kind, a recipient that is not one, a channel no
recipient can get: a :class:`ValidationError` naming the field and the rule, and nothing
is queued), then enqueues one ``notifications.send`` job per recipient: a bulk send is one
call. When a job runs it re-reads its recipient and decides the channels then:

- a client gets ``channels`` (or, when None, their preferred channel), minus every
  channel they opted out of, on the addresses they have now: email through the email
  family, SMS through the SMS family (``jobs.sms``);
- a staff member gets the in-app inbox (and email when asked); a role (``role:admin``)
  means each of its active members;
- a bare email address or phone number gets email or SMS.

An expired notification (``expires_at`` passed before its job ran) is dropped, and the
email and SMS jobs it made are dropped too if they have not gone by then. A job that runs
twice (a retry, a worker that died) sends each channel once: every delivery carries a
key derived from the notification's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.email import check_addresses
from jobs.models import JobId
from jobs.platform import JobContext, JobPlatform, JobRequest, RecordLinks, TaskSpec
from jobs.policy import PermanentError, RetryPolicy
from jobs.queues import NOTIFICATIONS
from jobs.sms import MAX_TEXT, check_phone
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.domain.clients import Client, ContactChannel
from purplecross_desktop.domain.errors import ValidationError
from purplecross_desktop.domain.notifications import (
    IMPORTANT_KINDS,
    NotificationChannel,
    NotificationKind,
)
from purplecross_desktop.domain.roles import StaffRole
from purplecross_desktop.domain.staff import Staff

if TYPE_CHECKING:
    from purplecross_desktop.services import Services

SEND = "notifications.send"
MAX_TITLE = 200
MAX_MESSAGE = 1000
MAX_KEY = 100
#: Problems listed per call before "... and N more".
MAX_LISTED = 10

EMAIL = NotificationChannel.EMAIL
SMS = NotificationChannel.SMS
IN_APP = NotificationChannel.IN_APP
#: Which channels each kind of recipient can get.
CAN_GET: dict[str, frozenset[NotificationChannel]] = {
    "client": frozenset({EMAIL, SMS}),
    "staff": frozenset({IN_APP, EMAIL}),
    "email": frozenset({EMAIL}),
    "phone": frozenset({SMS}),
}
#: The channels a recipient gets when the caller names none.
DEFAULTS: dict[str, tuple[NotificationChannel, ...]] = {
    "staff": (IN_APP,),
    "email": (EMAIL,),
    "phone": (SMS,),
}


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a notification goes to.

    Args:
        kind: ``client``, ``staff``, ``email`` (an address) or ``phone`` (a number).
        value: the client or staff id, the address or the number.
    """

    kind: str
    value: int | str

    @classmethod
    def client(cls, client_id: int) -> Recipient:
        return cls("client", client_id)

    @classmethod
    def staff(cls, staff_id: int) -> Recipient:
        return cls("staff", staff_id)

    @property
    def key(self) -> str:
        """``client:12``, ``staff:3``, ``email:a@b.org``, ``phone:+4477...``."""
        return f"{self.kind}:{self.value}"


def parse_recipient(item: object, field: str) -> Recipient | StaffRole:
    """One recipient as given, or ValueError naming ``field`` and the rule.

    Accepted: a :class:`Recipient`; ``"client:<id>"``, ``"staff:<id>"``,
    ``"role:<role>"``; ``"email:<address>"`` or a bare address; ``"sms:<number>"`` or a
    bare number starting with ``+`` or a digit.
    """
    if isinstance(item, Recipient):
        item = item.key
    if not isinstance(item, str):
        raise ValueError(
            f"{field}: {item!r} is not a recipient (client:<id>, staff:<id>, role:<role>, "
            "an email address or a phone number)"
        )
    prefix, sep, rest = item.partition(":")
    if sep and prefix in ("client", "staff"):
        if not rest.isdigit() or int(rest) < 1:
            raise ValueError(f"{field}: {item!r}: the {prefix} id must be a positive number")
        return Recipient(prefix, int(rest))
    if sep and prefix == "role":
        try:
            return StaffRole(rest)
        except ValueError:
            roles = ", ".join(r.value for r in StaffRole)
            raise ValueError(f"{field}: {item!r}: the role must be one of {roles}") from None
    if (sep and prefix == "email") or "@" in item:
        address = rest if prefix == "email" else item
        try:
            return Recipient("email", check_addresses(address)[0])
        except ValueError:
            raise ValueError(f"{field}: {address!r} is not an email address") from None
    if (sep and prefix in ("sms", "phone")) or (item and item[0] in "+0123456789"):
        number = rest if prefix in ("sms", "phone") else item
        return Recipient("phone", check_phone(number, field))
    raise ValueError(
        f"{field}: {item!r} is not a recipient (client:<id>, staff:<id>, role:<role>, "
        "an email address or a phone number)"
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class NotificationJobs:
    """Queues notifications and runs their jobs.

    Args:
        platform: the job platform (the email and SMS families registered on it).
        services: the domain services (clients, staff, the staff inboxes).
        clock: now (aware UTC); tests move it.
    """

    def __init__(
        self,
        platform: JobPlatform,
        services: Services,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.platform = platform
        self.services = services
        self.clock = clock
        self._sessions = services.clients._sessions

    # Enqueue ------------------------------------------------------------------------
    def queue(
        self,
        kind: NotificationKind | str,
        recipients: Sequence[Recipient | str] | Recipient | str,
        title: str,
        message: str,
        channels: Iterable[NotificationChannel | str] | None = None,
        expires_at: dt.datetime | None = None,
        *,
        link: str | None = None,
        important: bool | None = None,
        idempotency_key: str | None = None,
        record: RecordLinks | Mapping[str, int | None] | None = None,
    ) -> list[JobId]:
        """Check everything, then enqueue one job per recipient; returns their job ids.

        Args:
            kind: a :class:`NotificationKind` (or its value).
            recipients: one or many (see :func:`parse_recipient`); repeated ones count once.
            title: the email subject, the inbox title, the start of the SMS.
            message: the text.
            channels: the channels to use where the recipient can get them; None: a
                client's preferred channel, a staff member's inbox.
            expires_at: drop what has not gone by then (aware, in the future).
            link: what "open" does in the inbox (a file path, ``job:<id>``, ...).
            important: pop up a tray message (default: report ready and system alerts).
            idempotency_key: the same key and recipient never make a second job.
            record: clinic records to link every job to (a client recipient's own id is
                linked anyway).

        Raises:
            ValidationError: every problem found, as ``field: rule``; nothing is queued.
        """
        checker = _Problems()
        kind_value = self._check_kind(kind, checker)
        wanted = self._check_channels(channels, checker)
        self._check_text(title, message, checker)
        expires = self._check_expiry(expires_at, checker)
        if idempotency_key is not None and not (
            isinstance(idempotency_key, str) and 0 < len(idempotency_key) <= MAX_KEY
        ):
            checker.add("idempotency_key", f"must be 1 to {MAX_KEY} characters")
        targets = self._resolve(recipients, wanted, checker)
        links = None
        try:
            links = RecordLinks.coerce(record)
        except (TypeError, ValueError) as exc:
            checker.add("record", str(exc))
        checker.raise_if_any()
        assert kind_value is not None
        assert links is not None
        key = idempotency_key or uuid.uuid4().hex
        base: dict[str, Any] = {
            "kind": kind_value.value,
            "title": title.strip(),
            "message": message.strip(),
            "channels": None if wanted is None else [c.value for c in wanted],
            "expires_at": None if expires is None else expires.isoformat(),
            "link": link,
            "important": kind_value in IMPORTANT_KINDS if important is None else bool(important),
        }
        requests: list[JobRequest] = []
        for target in targets:
            delivery = f"notify:{key}:{_digest(target.key)}"
            job_record = links
            if target.kind == "client":
                job_record = RecordLinks(
                    client=int(target.value),
                    patient=links.patient,
                    appointment=links.appointment,
                    invoice=links.invoice,
                )
            requests.append(
                JobRequest(
                    SEND,
                    ({**base, "recipient": target.key, "delivery": delivery},),
                    record=job_record,
                    idempotency_key=delivery if idempotency_key is not None else None,
                )
            )
        # One transaction and one broker round trip for the whole fan-out: every
        # recipient's job is written, or none is.
        return self.platform.enqueue_many(NOTIFICATIONS, requests)

    @staticmethod
    def _check_kind(kind: object, checker: _Problems) -> NotificationKind | None:
        try:
            if not isinstance(kind, str):
                raise ValueError(kind)
            return NotificationKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in NotificationKind)
            checker.add("kind", f"{kind!r} is not one of {kinds}")
            return None

    @staticmethod
    def _check_channels(
        channels: Iterable[NotificationChannel | str] | None, checker: _Problems
    ) -> tuple[NotificationChannel, ...] | None:
        if channels is None:
            return None
        if isinstance(channels, str):
            channels = [channels]
        out: list[NotificationChannel] = []
        for i, channel in enumerate(channels):
            try:
                member = NotificationChannel(channel)
            except ValueError:
                names = ", ".join(c.value for c in NotificationChannel)
                checker.add(f"channels[{i}]", f"{channel!r} is not one of {names}")
                continue
            if member not in out:
                out.append(member)
        if not out and checker.ok("channels"):
            checker.add("channels", "at least one channel is required (or None for the default)")
        return tuple(out)

    @staticmethod
    def _check_text(title: object, message: object, checker: _Problems) -> None:
        for name, value, limit in (("title", title, MAX_TITLE), ("message", message, MAX_MESSAGE)):
            if not isinstance(value, str) or not value.strip():
                checker.add(name, "must not be empty")
            elif len(value.strip()) > limit:
                checker.add(name, f"at most {limit} characters; got {len(value.strip())}")

    def _check_expiry(self, expires_at: object, checker: _Problems) -> dt.datetime | None:
        if expires_at is None:
            return None
        if not isinstance(expires_at, dt.datetime) or expires_at.tzinfo is None:
            checker.add("expires_at", "must be a timezone-aware date and time")
            return None
        if expires_at <= self.clock():
            checker.add("expires_at", "must be in the future")
            return None
        return expires_at.astimezone(dt.UTC)

    def _resolve(
        self,
        recipients: Sequence[Recipient | str] | Recipient | str,
        wanted: tuple[NotificationChannel, ...] | None,
        checker: _Problems,
    ) -> list[Recipient]:
        """The recipients, each checked, roles expanded, repeats removed."""
        if isinstance(recipients, (str, Recipient)):
            recipients = [recipients]
        items = list(recipients) if isinstance(recipients, Sequence) else None
        if not items:
            checker.add("recipients", "at least one recipient is required")
            return []
        parsed: list[tuple[int, Recipient]] = []
        roles: list[tuple[int, StaffRole]] = []
        for i, item in enumerate(items):
            try:
                value = parse_recipient(item, f"recipients[{i}]")
            except ValueError as exc:
                field, _, rule = str(exc).partition(": ")
                checker.add(field, rule)
                continue
            if isinstance(value, StaffRole):
                roles.append((i, value))
            else:
                parsed.append((i, value))
        clients = sorted({int(r.value) for _, r in parsed if r.kind == "client"})
        staff = sorted({int(r.value) for _, r in parsed if r.kind == "staff"})
        known_clients, known_staff, by_role = self._lookup(clients, staff, [r for _, r in roles])
        out: dict[str, Recipient] = {}
        for i, r in parsed:
            if r.kind == "client" and r.value not in known_clients:
                checker.add(f"recipients[{i}]", f"client {r.value} does not exist")
                continue
            if r.kind == "staff" and r.value not in known_staff:
                checker.add(
                    f"recipients[{i}]", f"staff member {r.value} does not exist or is inactive"
                )
                continue
            if wanted is not None and not CAN_GET[r.kind].intersection(wanted):
                names = ", ".join(c.value for c in wanted)
                can = ", ".join(sorted(c.value for c in CAN_GET[r.kind]))
                checker.add(f"recipients[{i}]", f"a {r.kind} cannot get {names} (only {can})")
                continue
            out.setdefault(r.key, r)
        for i, role in roles:
            if wanted is not None and not CAN_GET["staff"].intersection(wanted):
                names = ", ".join(c.value for c in wanted)
                checker.add(f"recipients[{i}]", f"staff cannot get {names} (only email, in_app)")
                continue
            for staff_id in by_role.get(role, []):
                recipient = Recipient.staff(staff_id)
                out.setdefault(recipient.key, recipient)
        return list(out.values())

    def _lookup(
        self, clients: list[int], staff: list[int], roles: list[StaffRole]
    ) -> tuple[set[int], set[int], dict[StaffRole, list[int]]]:
        known_clients: set[int] = set()
        known_staff: set[int] = set()
        by_role: dict[StaffRole, list[int]] = {}
        with self._sessions() as session:
            for start in range(0, len(clients), 900):
                chunk = clients[start : start + 900]
                known_clients.update(
                    session.scalars(sa.select(Client.id).where(Client.id.in_(chunk)))
                )
            for start in range(0, len(staff), 900):
                chunk = staff[start : start + 900]
                known_staff.update(
                    session.scalars(
                        sa.select(Staff.id).where(Staff.id.in_(chunk), Staff.active.is_(True))
                    )
                )
            if roles:
                rows = session.execute(
                    sa.select(Staff.role, Staff.id)
                    .where(Staff.role.in_(roles), Staff.active.is_(True))
                    .order_by(Staff.id)
                )
                for role, staff_id in rows:
                    by_role.setdefault(role, []).append(staff_id)
        return known_clients, known_staff, by_role

    # The task -----------------------------------------------------------------------
    def send(self, payload: dict[str, Any], job: JobContext | None = None) -> str:
        """The task: re-read the recipient and send on each channel it should get now."""
        expires = payload.get("expires_at")
        expires_at = None if expires is None else dt.datetime.fromisoformat(expires)
        if expires_at is not None and expires_at <= self.clock():
            return f"dropped: expired at {expires}"
        recipient = parse_recipient(payload["recipient"], "recipient")
        assert isinstance(recipient, Recipient)
        wanted = payload.get("channels")
        channels = None if wanted is None else [NotificationChannel(c) for c in wanted]
        outcomes: list[str] = []
        try:
            if recipient.kind == "client":
                self._to_client(int(recipient.value), channels, payload, expires_at, outcomes)
            elif recipient.kind == "staff":
                self._to_staff(int(recipient.value), channels, payload, expires_at, outcomes)
            elif recipient.kind == "email":
                outcomes.append(self._email(str(recipient.value), "", payload, expires_at, None))
            else:
                outcomes.append(self._sms(str(recipient.value), payload, expires_at, None))
        except ValueError as exc:
            if str(exc).startswith("expires_at"):  # it expired while this job ran
                return f"dropped: expired at {expires}"
            raise PermanentError(f"{recipient.key}: {exc}") from exc
        return "; ".join(outcomes) or "skipped: nothing to send"

    def _to_client(
        self,
        client_id: int,
        channels: list[NotificationChannel] | None,
        payload: Mapping[str, Any],
        expires_at: dt.datetime | None,
        outcomes: list[str],
    ) -> None:
        with self._sessions() as session:
            client = session.get(Client, client_id)
        if client is None:
            outcomes.append("skipped: client deleted")
            return
        if not client.active:
            outcomes.append("skipped: client inactive")
            return
        if channels is None:
            preferred = client.preferred_contact
            if preferred is ContactChannel.NONE:
                outcomes.append("skipped: client prefers no contact")
                return
            channels = [NotificationChannel(preferred.value)]
        opted_out = self.services.notifications.opted_out(client.id)  # type: ignore[arg-type]
        for channel in channels:
            if channel is IN_APP:
                continue
            if channel in opted_out:
                outcomes.append(f"{channel.value} skipped: client opted out")
            elif channel is EMAIL:
                if client.email:
                    outcomes.append(
                        self._email(client.email, client.name, payload, expires_at, client.id)
                    )
                else:
                    outcomes.append("email skipped: client has no email address")
            elif client.phones:
                mobiles = [p for p in client.phones if p.kind.value == "mobile"] or client.phones
                outcomes.append(self._sms(mobiles[0].number, payload, expires_at, client.id))
            else:
                outcomes.append("sms skipped: client has no phone number")

    def _to_staff(
        self,
        staff_id: int,
        channels: list[NotificationChannel] | None,
        payload: Mapping[str, Any],
        expires_at: dt.datetime | None,
        outcomes: list[str],
    ) -> None:
        with self._sessions() as session:
            member = session.get(Staff, staff_id)
        if member is None or not member.active:
            outcomes.append("skipped: staff member inactive")
            return
        for channel in channels or DEFAULTS["staff"]:
            if channel is IN_APP:
                new = self.services.notifications.deliver(
                    StaffId(staff_id),
                    NotificationKind(payload["kind"]),
                    payload["title"],
                    payload["message"],
                    dedupe_key=f"{payload['delivery']}:in_app",
                    link=payload.get("link"),
                    important=bool(payload.get("important")),
                )
                outcomes.append(f"in-app {new}" if new is not None else "in-app already delivered")
            elif channel is EMAIL:
                if member.email:
                    outcomes.append(
                        self._email(member.email, member.name, payload, expires_at, None)
                    )
                else:
                    outcomes.append("email skipped: staff member has no email address")

    def _email(
        self,
        address: str,
        name: str,
        payload: Mapping[str, Any],
        expires_at: dt.datetime | None,
        client_id: int | None,
    ) -> str:
        service = self.platform.services.get("email")
        if service is None:
            raise PermanentError("email: the email job family is not registered")
        context = {"message": payload["message"], "recipient_name": name, "title": payload["title"]}
        job_id: str = service.queue(
            address,
            payload["title"],
            "notification",
            context,
            idempotency_key=f"{payload['delivery']}:email",
            record={"client": client_id},
            expires_at=expires_at,
        )
        return f"email job {job_id}"

    def _sms(
        self,
        number: str,
        payload: Mapping[str, Any],
        expires_at: dt.datetime | None,
        client_id: int | None,
    ) -> str:
        service = self.platform.services.get("sms")
        if service is None:
            raise PermanentError("sms: no SMS gateway is configured")
        text = f"{payload['title']}: {payload['message']}"[:MAX_TEXT]
        job_id: str = service.queue(
            number,
            text,
            idempotency_key=f"{payload['delivery']}:sms",
            record={"client": client_id},
            expires_at=expires_at,
        )
        return f"sms job {job_id}"


class _Problems:
    """Collects ``field: rule`` problems; lists the first few and counts the rest."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.more = 0

    def add(self, field: str, rule: str) -> None:
        if len(self.errors) >= MAX_LISTED and field not in self.errors:
            self.more += 1
            return
        self.errors.setdefault(field, []).append(rule)

    def ok(self, field: str) -> bool:
        return field not in self.errors

    def raise_if_any(self) -> None:
        if self.more:
            self.errors.setdefault("recipients", []).append(f"... and {self.more} more problems")
        if self.errors:
            raise ValidationError(self.errors)


def register(
    platform: JobPlatform,
    services: Services,
    clock: Callable[[], dt.datetime] = utcnow,
    policy: RetryPolicy | None = None,
) -> NotificationJobs:
    """Add the ``notifications.send`` task kind and return the service behind it."""
    service = NotificationJobs(platform, services, clock)
    platform.register(TaskSpec(SEND, service.send, NOTIFICATIONS, policy=policy, context=True))
    platform.services["notifications"] = service
    return service
