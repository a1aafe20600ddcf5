"""The SMS family: ``sms.send`` jobs (queue ``notifications``) through a pluggable gateway.

Two gateways come with the app:

- :class:`LogSmsGateway`, the embedded default: the message is written to the log (and
  the SMS log says ``logged``); nothing leaves the machine.
- :class:`HttpSmsGateway`: ``POST`` of ``{"to", "text", "sender", "reference"}`` as JSON
  to the configured URL with ``Authorization: Bearer <token>`` (the token from the
  keyring, ``sms_gateway_token``) and an ``Idempotency-Key`` header. A 2xx reply is
  sent; a 5xx reply, a 408, a 429 or a connection that could not be made is retried; any
  other 4xx is refused for good (the gateway said the request itself is wrong).

Each message is sent at most once per idempotency key, as for email: the SMS log holds a
row per key with a lease; a run finds ``sent`` and does nothing, and a run that finds an
earlier attempt still marked ``sending`` (its worker died mid-request) or a request that
timed out after it was sent marks the message ``unknown`` and does not send it again.
An expired message (``expires_at`` passed before it ran) is dropped, never sent late.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Table, or_, select, update

from jobs.models import JobId
from jobs.platform import JobContext, JobPlatform, RecordLinks, TaskSpec
from jobs.policy import PermanentError, RetryPolicy, TransientError
from jobs.queues import NOTIFICATIONS
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.notifications import SmsLog
from purplecross_desktop.domain.validation import normalize_phone

if TYPE_CHECKING:
    from collections.abc import Mapping

    from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

TASK = "sms.send"
#: A job key is ``sms:<key>`` within the registry's 200 characters.
MAX_KEY = 196
#: Ten concatenated SMS segments.
MAX_TEXT = 1530
LEASE_SECONDS = 120.0
LOG = cast(Table, SmsLog.__table__)
RETRIED_4XX = frozenset({408, 429})


class SmsDeliveryError(PermanentError):
    """The gateway refused the message for good (a 4xx), or its outcome is unknown."""


class SmsRetryableError(TransientError):
    """The gateway failed in a way worth retrying (a 5xx, 408, 429, no connection)."""


class SmsSentUnknown(SmsDeliveryError):  # noqa: N818
    """The request went out but no reply came: the gateway may have taken it."""


class SmsGateway(Protocol):
    """Sends one text; raises :class:`SmsRetryableError` or :class:`SmsDeliveryError`."""

    @property
    def name(self) -> str:
        """``log``, ``http``, ...: recorded in the SMS log."""
        ...

    def send(self, to: str, text: str, reference: str) -> str:
        """Send ``text`` to ``to``; returns the gateway's reply (its message id)."""
        ...


class LogSmsGateway:
    """The embedded default: texts go to the log, nothing leaves the machine."""

    name = "log"

    def send(self, to: str, text: str, reference: str) -> str:
        log.info("SMS to %s (%s): %s", to, reference, text)
        return "written to the log"


@dataclass(frozen=True, slots=True)
class HttpSmsGateway:
    """A gateway reached by HTTP POST (see the module docstring for the request).

    Args:
        url: the gateway's send endpoint.
        token: the bearer token (from the keyring); None sends no Authorization header.
        sender: the sender name or number shown on the phone.
        timeout: seconds for connecting and for the reply.
    """

    url: str
    token: str | None = None
    sender: str = "PurpleCross"
    timeout: float = 10.0
    name: str = "http"

    def __repr__(self) -> str:  # never show the token
        return f"HttpSmsGateway(url={self.url!r}, sender={self.sender!r})"

    def send(self, to: str, text: str, reference: str) -> str:
        body = json.dumps(
            {"to": to, "text": text, "sender": self.sender, "reference": reference}
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": reference,
            "User-Agent": "purplecross-desktop",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = response.read(2000).decode(errors="replace")
                return f"{response.status} {reply}".strip()
        except urllib.error.HTTPError as exc:
            reply = exc.read(2000).decode(errors="replace") if exc.fp is not None else ""
            detail = f"{exc.code} {reply or exc.reason}".strip()
            if exc.code >= 500 or exc.code in RETRIED_4XX:
                raise SmsRetryableError(f"the SMS gateway failed: {detail}") from None
            raise SmsDeliveryError(f"the SMS gateway refused the message: {detail}") from None
        except TimeoutError as exc:
            raise SmsSentUnknown(f"no reply from the SMS gateway within {self.timeout}s") from exc
        except urllib.error.URLError as exc:
            # urllib wraps only what happens before the request is sent (refused, no route,
            # a connect timeout): nothing reached the gateway, so a retry cannot duplicate.
            raise SmsRetryableError(f"the SMS gateway is unreachable: {exc.reason}") from exc
        except (ConnectionError, OSError) as exc:
            raise SmsSentUnknown(f"the connection to the SMS gateway broke: {exc}") from exc


def check_phone(number: object, field: str = "to") -> str:
    """``number`` as sent (digits, a leading + kept), or ValueError naming ``field``."""
    if not isinstance(number, str):
        raise ValueError(f"{field}: {number!r} is not a phone number")
    normalized = normalize_phone(number)
    digits = normalized.lstrip("+")
    if not 7 <= len(digits) <= 15 or not digits.isdigit() or any(c.isalpha() for c in number):
        raise ValueError(f"{field}: {number!r} is not a phone number (7 to 15 digits, + allowed)")
    return normalized


class SmsService:
    """Queues and sends text messages.

    Args:
        platform: the job platform.
        gateway: where texts go.
    """

    def __init__(self, platform: JobPlatform, gateway: SmsGateway) -> None:
        self.platform = platform
        self.gateway = gateway
        self.engine = platform.engine

    def queue(
        self,
        to: str,
        text: str,
        idempotency_key: str | None = None,
        record: RecordLinks | Mapping[str, int | None] | None = None,
        expires_at: dt.datetime | None = None,
    ) -> JobId:
        """Check, then enqueue one text on the ``notifications`` queue; returns the job id.

        Raises:
            ValueError: a number that is not one, an empty or too long text, a naive or
                past ``expires_at``, a key that is too long.
        """
        number = check_phone(to)
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text: must not be empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text: at most {MAX_TEXT} characters (10 SMS); got {len(text)}")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise ValueError("expires_at: must be timezone-aware")
            if expires_at <= utcnow():
                raise ValueError("expires_at: must be in the future")
        key = idempotency_key or uuid.uuid4().hex
        if len(key) > MAX_KEY:
            raise ValueError(f"idempotency_key: at most {MAX_KEY} characters; got {len(key)}")
        payload = {
            "key": key,
            "to": number,
            "text": text,
            "expires_at": None if expires_at is None else expires_at.astimezone(dt.UTC).isoformat(),
        }
        return self.platform.enqueue(
            NOTIFICATIONS, TASK, payload, idempotency_key=f"sms:{key}", record=record
        )

    # The task -----------------------------------------------------------------------
    def send(self, payload: dict[str, Any], job: JobContext) -> str:
        """Send one queued text; at most once per key, never after it expired."""
        key = payload["key"]
        expires = payload.get("expires_at")
        if expires is not None and dt.datetime.fromisoformat(expires) <= utcnow():
            self._record_expired(key, payload, job.job_id)
            return f"dropped: expired at {expires}"
        owner = f"{job.job_id}:{job.attempt}"
        status = self._take_lease(key, payload, job.job_id, owner)
        if status in {"sent", "logged"}:
            return f"already {status}"
        if status in {"sending", "unknown"}:
            self._log(
                key, None, "unknown", "a previous attempt may have reached the gateway; not re-sent"
            )
            return "not re-sent (outcome of an earlier attempt unknown)"
        if status == "expired":
            return "not sent: expired"
        self._log(key, owner, "sending", "", keep_lease=True)
        try:
            reply = self.gateway.send(payload["to"], payload["text"], key)
        except SmsSentUnknown as exc:
            self._log(key, owner, "unknown", str(exc))
            raise
        except SmsDeliveryError as exc:
            self._log(key, owner, "failed", str(exc))
            raise
        except SmsRetryableError as exc:
            self._log(key, owner, "retrying", str(exc))
            raise
        except Exception as exc:
            self._log(key, owner, "unknown", f"{type(exc).__name__}: {exc}")
            raise SmsDeliveryError(f"SMS gateway error: {exc}") from exc
        status = "logged" if self.gateway.name == "log" else "sent"
        self._log(key, owner, status, reply)
        return f"{status}: {reply}"

    def _take_lease(self, key: str, payload: Mapping[str, Any], job_id: str, owner: str) -> str:
        recorder = self.platform.recorder
        deadline = time.monotonic() + LEASE_SECONDS
        while True:
            with recorder.tx() as conn:
                now = recorder.now(conn)
                until = now + dt.timedelta(seconds=LEASE_SECONDS)
                created = conn.execute(
                    recorder._insert(LOG)
                    .values(
                        idempotency_key=key,
                        job_id=job_id,
                        to=payload["to"],
                        text=payload["text"],
                        gateway=self.gateway.name,
                        status="queued",
                        gateway_response="",
                        attempts=1,
                        created_at=now,
                        updated_at=now,
                        lease_owner=owner,
                        lease_until=until,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(LOG.c.id)
                ).first()
                if created is not None:
                    return "queued"
                status = str(
                    conn.execute(
                        select(LOG.c.status).where(LOG.c.idempotency_key == key)
                    ).scalar_one()
                )
                if status not in {"queued", "retrying", "failed"}:
                    if status != "sending":
                        return status
                    held = conn.execute(
                        select(LOG.c.lease_until).where(LOG.c.idempotency_key == key)
                    ).scalar_one()
                    if held is None or held <= now:
                        return status  # its run is gone mid-request
                else:
                    free = or_(
                        LOG.c.lease_owner.is_(None),
                        LOG.c.lease_owner == owner,
                        LOG.c.lease_until <= now,
                    )
                    taken = conn.execute(
                        update(LOG)
                        .where(LOG.c.idempotency_key == key, free)
                        .values(
                            lease_owner=owner,
                            lease_until=until,
                            job_id=job_id,
                            attempts=LOG.c.attempts + 1,
                            updated_at=now,
                        )
                    ).rowcount
                    if taken:
                        return status
            if time.monotonic() > deadline:
                raise SmsRetryableError(f"another run is still sending SMS {key}")
            time.sleep(0.2)

    def _record_expired(self, key: str, payload: Mapping[str, Any], job_id: str) -> None:
        recorder = self.platform.recorder
        with recorder.tx() as conn:
            now = recorder.now(conn)
            conn.execute(
                recorder._insert(LOG)
                .values(
                    idempotency_key=key,
                    job_id=job_id,
                    to=payload["to"],
                    text=payload["text"],
                    gateway=self.gateway.name,
                    status="expired",
                    gateway_response=f"expired at {payload['expires_at']}; not sent",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )

    def _log(
        self, key: str, owner: str | None, status: str, response: str, keep_lease: bool = False
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "gateway_response": response[:2000],
            "updated_at": utcnow(),
        }
        if not keep_lease:
            values.update(lease_owner=None, lease_until=None)
        stmt = update(LOG).where(LOG.c.idempotency_key == key)
        if owner is not None:
            stmt = stmt.where(LOG.c.lease_owner == owner)
        with self.engine.begin() as conn:
            conn.execute(stmt.values(**values))

    def log_entry(self, key: str) -> dict[str, Any] | None:
        """The SMS log row of an idempotency key (for tests and the monitor)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(LOG).where(LOG.c.idempotency_key == key)).mappings().first()
        return None if row is None else dict(row)


def gateway_from_settings(settings: Settings, token: str | None = None) -> SmsGateway:
    """The gateway the settings name (``sms_gateway``: ``log`` or ``http``)."""
    if settings.sms_gateway == "http":
        if not settings.sms_gateway_url:
            raise ValueError("sms_gateway_url: required when sms_gateway is http")
        if token is None:
            from purplecross_desktop.secrets import get_secret

            token = get_secret("sms_gateway_token")
        return HttpSmsGateway(
            settings.sms_gateway_url, token, settings.sms_sender, settings.sms_timeout
        )
    return LogSmsGateway()


def register(
    platform: JobPlatform, gateway: SmsGateway, policy: RetryPolicy | None = None
) -> SmsService:
    """Add the ``sms.send`` task kind to ``platform`` and return the service behind it.

    ``policy``: its retries (the ``notifications`` queue's when None: 3 attempts).
    """
    service = SmsService(platform, gateway)
    platform.register(TaskSpec(TASK, service.send, NOTIFICATIONS, policy=policy, context=True))
    platform.services["sms"] = service
    return service
