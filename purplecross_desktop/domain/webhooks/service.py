"""Registering webhook endpoints and reading and steering their deliveries (admins only).

Every call, reads included, needs the ``manage_integrations`` permission (admins): the
URLs and the delivery log say which systems the clinic talks to. Writes are one
transaction each, audited (never with a secret), and bad input changes nothing. The
secret is returned once, by :meth:`WebhookService.create` and
:meth:`WebhookService.rotate_secret`; afterwards only the delivery side decrypts it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.errors import NotFound, ValidationError
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.domain.service import (
    Clock,
    CurrentActor,
    ServiceBase,
    check_actor,
    system_actor,
)
from purplecross_desktop.domain.webhooks.catalogue import check_filter
from purplecross_desktop.domain.webhooks.model import (
    ATTEMPT,
    MAX_DESCRIPTION,
    MESSAGE,
    WebhookEndpoint,
    WebhookMessage,
)
from purplecross_desktop.domain.webhooks.secret_box import SecretBox, new_secret
from purplecross_desktop.domain.webhooks.urls import DestinationRefused, parse_url

PERMISSION = Permission.MANAGE_INTEGRATIONS
DEFAULT_GRACE = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    """An endpoint as the screens and the CLI show it (never its secret)."""

    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    allow_local_network: bool
    failing_since: dt.datetime | None
    rotating_until: dt.datetime | None
    created_at: dt.datetime
    counts: dict[str, int]

    @classmethod
    def from_row(cls, row: WebhookEndpoint, counts: dict[str, int]) -> EndpointInfo:
        return cls(
            row.id,
            row.url,
            row.description,
            list(row.event_types),
            row.enabled,
            row.disabled_reason,
            row.disabled_at,
            row.allow_local_network,
            row.failing_since,
            row.previous_secret_until,
            row.created_at,
            counts,
        )


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    """A new endpoint and its secret (shown once)."""

    endpoint: EndpointInfo
    secret: str

    def __repr__(self) -> str:
        return f"CreatedEndpoint(endpoint={self.endpoint!r}, secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One line of the delivery log."""

    id: int
    msg_id: str
    message_id: int
    endpoint_id: int
    event_type: str
    event_id: int | None
    attempt: int
    trigger: str
    started_at: dt.datetime
    duration_ms: float
    status_code: int | None
    succeeded: bool
    response_excerpt: str
    error: str | None
    message_state: str
    request: dict[str, Any]
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message with its delivery state."""

    id: int
    msg_id: str
    endpoint_id: int
    event_type: str
    event_id: int | None
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


def new_msg_id() -> str:
    """A message id: ``msg_`` and 32 hex digits."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookService(ServiceBase):
    """Endpoints and the delivery log.

    Args:
        session_factory: the clinic database.
        events: the process's bus (endpoint changes emit no clinic events).
        secret_box: encrypts the endpoint secrets (key from the job signing key).
        grace: how long a rotated-out secret still signs (both signatures are sent).
        clock: now (aware UTC).
        current_actor: the signed-in staff member.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        events: EventBus,
        secret_box: SecretBox,
        *,
        grace: dt.timedelta = DEFAULT_GRACE,
        clock: Clock = utcnow,
        current_actor: CurrentActor = system_actor,
    ) -> None:
        super().__init__(session_factory, events, clock=clock, current_actor=current_actor)
        self.secret_box = secret_box
        self.grace = grace

    # Endpoints ------------------------------------------------------------------------
    def create(
        self,
        url: str,
        event_types: Sequence[str] | str,
        description: str = "",
        *,
        allow_local_network: bool = False,
        actor: StaffId | None = None,
    ) -> CreatedEndpoint:
        """Register an endpoint; returns it with its new secret (shown once).

        Raises:
            ValidationError: every problem as ``field: rule`` (url, events, description).
            PermissionDenied: the actor is not an admin.
        """
        problems: dict[str, list[str]] = {}
        try:
            clean_url = parse_url(url, allow_local_network=bool(allow_local_network)).url
        except DestinationRefused as exc:
            problems.setdefault("url", []).append(str(exc).split(": ", 1)[1])
        try:
            patterns = check_filter(event_types)
        except ValueError as exc:
            problems.setdefault("events", []).append(str(exc).split(": ", 1)[1])
        if not isinstance(description, str):
            problems.setdefault("description", []).append("must be text")
        elif len(description.strip()) > MAX_DESCRIPTION:
            problems.setdefault("description", []).append(
                f"at most {MAX_DESCRIPTION} characters; got {len(description.strip())}"
            )
        if problems:
            raise ValidationError(problems)
        secret = new_secret()
        with self._write(actor, permission=PERMISSION) as uow:
            row = WebhookEndpoint(
                url=clean_url,
                description=description.strip(),
                event_types=patterns,
                enabled=True,
                allow_local_network=bool(allow_local_network),
                secret_encrypted=self.secret_box.seal(secret),
                created_at=uow.now,
                updated_at=uow.now,
                created_by=uow.actor,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.audit(
                "created",
                "webhook_endpoint",
                row.id,
                {
                    "url": [None, row.url],
                    "event_types": [None, patterns],
                    "description": [None, row.description],
                    "allow_local_network": [None, row.allow_local_network],
                },
            )
            info = EndpointInfo.from_row(row, {})
        return CreatedEndpoint(info, secret)

    def endpoints(self, *, actor: StaffId | None = None) -> list[EndpointInfo]:
        """Every endpoint, oldest first, with its messages counted by state."""
        with self._reader(actor) as session:
            rows = list(session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))
            counts = self._counts(session, [r.id for r in rows])
            return [EndpointInfo.from_row(r, counts.get(r.id, {})) for r in rows]

    def get(self, endpoint_id: int, *, actor: StaffId | None = None) -> EndpointInfo:
        """One endpoint, or ``NotFound``."""
        with self._reader(actor) as session:
            row = self._endpoint(session, endpoint_id)
            return EndpointInfo.from_row(row, self._counts(session, [row.id]).get(row.id, {}))

    def disable(
        self, endpoint_id: int, reason: str = "", *, actor: StaffId | None = None
    ) -> EndpointInfo:
        """Stop deliveries (messages keep their place and go out again once enabled)."""
        with self._write(actor, permission=PERMISSION) as uow:
            row = self._endpoint(uow.session, endpoint_id)
            if row.enabled:
                row.enabled = False
                row.disabled_at = uow.now
                row.disabled_reason = reason.strip()[:500] or "disabled by an admin"
                row.updated_at = uow.now
                uow.audit("disabled", "webhook_endpoint", row.id, {"enabled": [True, False]})
            return EndpointInfo.from_row(row, {})

    def enable(self, endpoint_id: int, *, actor: StaffId | None = None) -> EndpointInfo:
        """Deliver again; the failure window starts afresh. See :meth:`recover`."""
        with self._write(actor, permission=PERMISSION) as uow:
            row = self._endpoint(uow.session, endpoint_id)
            if not row.enabled:
                row.enabled = True
                row.disabled_at = None
                row.disabled_reason = None
                row.failing_since = None
                row.updated_at = uow.now
                uow.audit("enabled", "webhook_endpoint", row.id, {"enabled": [False, True]})
            return EndpointInfo.from_row(row, {})

    def remove(self, endpoint_id: int, *, actor: StaffId | None = None) -> None:
        """Delete the endpoint with its messages and delivery log."""
        with self._write(actor, permission=PERMISSION) as uow:
            row = self._endpoint(uow.session, endpoint_id)
            uow.audit("removed", "webhook_endpoint", row.id, {"url": [row.url, None]})
            message_ids = sa.select(MESSAGE.c.id).where(MESSAGE.c.endpoint_id == row.id)
            uow.session.execute(sa.delete(ATTEMPT).where(ATTEMPT.c.message_id.in_(message_ids)))
            uow.session.execute(sa.delete(MESSAGE).where(MESSAGE.c.endpoint_id == row.id))
            uow.session.delete(row)

    def rotate_secret(self, endpoint_id: int, *, actor: StaffId | None = None) -> str:
        """A new secret (returned once); the old one also signs for the grace period."""
        secret = new_secret()
        with self._write(actor, permission=PERMISSION) as uow:
            row = self._endpoint(uow.session, endpoint_id)
            row.previous_secret_encrypted = row.secret_encrypted
            row.previous_secret_until = uow.now + self.grace
            row.secret_encrypted = self.secret_box.seal(secret)
            row.updated_at = uow.now
            uow.audit(
                "secret_rotated",
                "webhook_endpoint",
                row.id,
                {"previous_secret_until": [None, row.previous_secret_until.isoformat()]},
            )
        return secret

    def signing_secrets(self, endpoint_id: int) -> list[str]:
        """The secrets that sign now: the current one, then the previous during its grace.

        For the delivery side (the system); never shown.
        """
        with self._read() as session:
            row = self._endpoint(session, endpoint_id)
            return self.secrets_of(
                {
                    "secret_encrypted": row.secret_encrypted,
                    "previous_secret_encrypted": row.previous_secret_encrypted,
                    "previous_secret_until": row.previous_secret_until,
                }
            )

    def secrets_of(self, row: Mapping[str, Any]) -> list[str]:
        """:meth:`signing_secrets` of an endpoint row already read (a mapping of columns)."""
        out = [self.secret_box.open(row["secret_encrypted"])]
        until = row["previous_secret_until"]
        if row["previous_secret_encrypted"] and until is not None and until > self._clock():
            out.append(self.secret_box.open(row["previous_secret_encrypted"]))
        return out

    # Replays --------------------------------------------------------------------------
    def replay(self, msg_id: str, *, actor: StaffId | None = None) -> MessageRow:
        """Send a message again now (whatever its state), with a fresh retry schedule."""
        with self._write(actor, permission=PERMISSION) as uow:
            row = uow.session.scalars(
                sa.select(WebhookMessage).where(WebhookMessage.msg_id == msg_id)
            ).first()
            if row is None:
                raise NotFound("webhook message", msg_id)
            if row.state in ("queued", "sending"):
                raise ValidationError.single("message", f"{msg_id} is being sent right now")
            self._restart(row, "replay", uow.now)
            uow.audit("replayed", "webhook_message", row.id, {"state": [None, "pending"]})
            return _message(row)

    def recover(self, endpoint_id: int, since: dt.datetime, *, actor: StaffId | None = None) -> int:
        """Send again each message of the endpoint that failed since ``since``; returns how many."""
        if not isinstance(since, dt.datetime) or since.tzinfo is None:
            raise ValidationError.single("since", "must be a date and time with a time zone")
        with self._write(actor, permission=PERMISSION) as uow:
            self._endpoint(uow.session, endpoint_id)
            rows = list(
                uow.session.scalars(
                    sa.select(WebhookMessage).where(
                        WebhookMessage.endpoint_id == endpoint_id,
                        WebhookMessage.state == "failed",
                        WebhookMessage.created_at >= since,
                    )
                )
            )
            for row in rows:
                self._restart(row, "recover", uow.now)
            uow.audit(
                "recovered",
                "webhook_endpoint",
                endpoint_id,
                {"since": [None, since.isoformat()], "messages": [None, len(rows)]},
            )
            return len(rows)

    @staticmethod
    def _restart(row: WebhookMessage, trigger: str, now: dt.datetime) -> None:
        row.state = "pending"
        row.round_attempts = 0
        row.next_attempt_at = now
        row.next_trigger = trigger
        row.finished_at = None
        row.job_id = None

    # The delivery log -----------------------------------------------------------------
    def attempts(
        self,
        *,
        endpoint_id: int | None = None,
        msg_id: str | None = None,
        event_id: int | None = None,
        succeeded: bool | None = None,
        event_type: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 200,
        actor: StaffId | None = None,
    ) -> list[AttemptRow]:
        """Attempts newest first, filtered; ``event_type`` may be ``entity.*``."""
        stmt = sa.select(
            ATTEMPT,
            MESSAGE.c.msg_id,
            MESSAGE.c.event_type,
            MESSAGE.c.event_id,
            MESSAGE.c.state.label("message_state"),
        ).join(MESSAGE, MESSAGE.c.id == ATTEMPT.c.message_id)
        stmt = stmt.where(*self._filters(endpoint_id, msg_id, event_id, event_type))
        if succeeded is not None:
            stmt = stmt.where(ATTEMPT.c.succeeded.is_(succeeded))
        if since is not None:
            stmt = stmt.where(ATTEMPT.c.started_at >= since)
        stmt = stmt.order_by(ATTEMPT.c.id.desc()).limit(max(1, limit))
        with self._reader(actor) as session:
            return [
                AttemptRow(
                    m["id"],
                    m["msg_id"],
                    m["message_id"],
                    m["endpoint_id"],
                    m["event_type"],
                    m["event_id"],
                    m["attempt"],
                    m["trigger"],
                    m["started_at"],
                    m["duration_ms"],
                    m["status_code"],
                    m["succeeded"],
                    m["response_excerpt"],
                    m["error"],
                    m["message_state"],
                    dict(m["request"] or {}),
                    m["job_id"],
                )
                for m in session.execute(stmt).mappings()
            ]

    def messages(
        self,
        *,
        endpoint_id: int | None = None,
        states: Iterable[str] | None = None,
        event_type: str | None = None,
        event_id: int | None = None,
        limit: int = 200,
        actor: StaffId | None = None,
    ) -> list[MessageRow]:
        """Messages newest first, filtered."""
        stmt = sa.select(WebhookMessage).where(
            *self._filters(endpoint_id, None, event_id, event_type)
        )
        if states is not None:
            stmt = stmt.where(WebhookMessage.state.in_(list(states)))
        stmt = stmt.order_by(WebhookMessage.id.desc()).limit(max(1, limit))
        with self._reader(actor) as session:
            return [_message(r) for r in session.scalars(stmt)]

    @staticmethod
    def _filters(
        endpoint_id: int | None, msg_id: str | None, event_id: int | None, event_type: str | None
    ) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if endpoint_id is not None:
            out.append(MESSAGE.c.endpoint_id == endpoint_id)
        if msg_id is not None:
            out.append(MESSAGE.c.msg_id == msg_id)
        if event_id is not None:
            out.append(MESSAGE.c.event_id == event_id)
        if event_type:
            if event_type.endswith(".*"):
                out.append(MESSAGE.c.event_type.startswith(event_type[:-1], autoescape=True))
            else:
                out.append(MESSAGE.c.event_type == event_type)
        return out

    # Helpers --------------------------------------------------------------------------
    @contextmanager
    def _reader(self, actor: StaffId | None) -> Iterator[Session]:
        """A read session, after checking that the actor may manage integrations."""
        with self._sessions() as session:
            check_actor(session, actor if actor is not None else self._current_actor(), PERMISSION)
            yield session

    @staticmethod
    def _endpoint(session: Any, endpoint_id: object) -> WebhookEndpoint:
        row = (
            session.get(WebhookEndpoint, endpoint_id)
            if isinstance(endpoint_id, int) and not isinstance(endpoint_id, bool)
            else None
        )
        if row is None:
            raise NotFound("webhook endpoint", endpoint_id)
        assert isinstance(row, WebhookEndpoint)
        return row

    @staticmethod
    def _counts(session: Any, endpoint_ids: list[int]) -> dict[int, dict[str, int]]:
        if not endpoint_ids:
            return {}
        out: dict[int, dict[str, int]] = {}
        rows = session.execute(
            sa.select(MESSAGE.c.endpoint_id, MESSAGE.c.state, sa.func.count())
            .where(MESSAGE.c.endpoint_id.in_(endpoint_ids))
            .group_by(MESSAGE.c.endpoint_id, MESSAGE.c.state)
        )
        for endpoint_id, state, count in rows:
            out.setdefault(int(endpoint_id), {})[str(state)] = int(count)
        return out


def _message(row: WebhookMessage) -> MessageRow:
    return MessageRow(
        row.id,
        row.msg_id,
        row.endpoint_id,
        row.event_type,
        row.event_id,
        row.state,
        row.attempts,
        row.next_attempt_at,
        row.last_status,
        row.last_error,
        row.created_at,
        row.finished_at,
    )
