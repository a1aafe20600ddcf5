"""The email job family: ``queue_email`` and the ``email.send`` task (SMTP or an .eml outbox).

Each message is sent at most once per idempotency key. The email log records
``sending`` only after the server has taken the envelope (connection, TLS, login,
sender and recipients all accepted), then ``sent`` with the server's reply once it
accepts the data. A worker that dies between the two leaves ``sending``: whoever
runs the job next cannot know whether the server kept the message, so it marks the
log ``unknown`` and does not send a second copy (the admin can check the mailbox; the
Message-ID, derived from the key, is the same on every attempt so it can be found).
The same holds when the connection drops or times out after the data was sent: the
log says ``unknown`` and the job fails for good, while an explicit 4xx reply to the
data (the server said it did not take the message) is retried.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.policy
import hashlib
import logging
import mimetypes
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Table, delete, literal, or_, select, update

from jobs.email_templates import ClinicInfo, EmailTemplates
from jobs.models import EmailLog, JobId, JobState, JobWorker
from jobs.platform import JobContext, JobPlatform, RecordLinks, TaskSpec
from jobs.policy import PermanentError, TransientError
from jobs.queues import EMAIL
from jobs.recorder import JOB
from purplecross_desktop.database.base import utcnow

if TYPE_CHECKING:
    from purplecross_desktop.settings import Settings

log = logging.getLogger(__name__)

TASK = "email.send"
MAX_ATTACHMENTS_BYTES = 10 * 1024 * 1024
#: The job's key is ``email:<key>`` within the registry's 200 characters.
MAX_KEY = 194
#: Email log rows are kept this long by default (``email_log_retention_days``).
DEFAULT_LOG_RETENTION_DAYS = 365
#: Job states from which an email job can never send again.
_FINISHED_FOR_GOOD = {JobState.COMPLETED.value, JobState.REVOKED.value}
#: Longest a run may hold a message's send lease before another may take it over.
LEASE_SECONDS = 300.0
LOG = cast(Table, EmailLog.__table__)
WORKER = cast(Table, JobWorker.__table__)
TlsMode = Literal["none", "starttls", "ssl"]


class EmailDeliveryError(PermanentError):
    """The SMTP server refused the message for good (5xx); the message is the server's."""


class EmailRetryableError(TransientError):
    """The SMTP server or the network failed in a way worth retrying (4xx, connection)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to an email."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"

    @classmethod
    def from_path(cls, path: Path) -> Attachment:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return cls(path.name, path.read_bytes(), mime)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """How to reach the mail server; ``host=None`` writes .eml files to ``outbox_dir``.

    Args:
        host: SMTP server, or None for the local outbox folder.
        port: its port.
        tls: ``none``, ``starttls`` or ``ssl``.
        user: login name (no login when None).
        password: from the keyring (``smtp_password``), passed in by the composition root.
        sender: the From address.
        timeout: seconds for connecting and for each server reply.
        outbox_dir: where .eml files go without a host.
        ca_file: a CA bundle to trust (a clinic server's own certificate).
    """

    host: str | None
    port: int = 587
    tls: TlsMode = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "Purple Cross <clinic@localhost>"
    timeout: float = 30.0
    outbox_dir: Path | None = None
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings, password: str | None) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=password,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout,
            outbox_dir=settings.email_outbox_path,
            ca_file=settings.smtp_ca_file,
        )


def message_id_for(key: str) -> str:
    """The Message-ID of the email sent under idempotency ``key`` (the same on every try)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@purplecross.invalid>"


def check_addresses(to: str | Sequence[str]) -> list[str]:
    """The recipients as they will be sent; a domain in Unicode is sent in IDNA form.

    A mailbox name (before the @) in Unicode needs SMTPUTF8, which not every server
    offers, so it is refused here rather than failing in a worker later.
    """
    addresses = [to] if isinstance(to, str) else list(to)
    if not addresses:
        raise ValueError("to: at least one recipient is required")
    out: list[str] = []
    for address in addresses:
        if not isinstance(address, str):
            raise ValueError(f"to: {address!r} is not an email address")
        name, email_address = parseaddr(address)
        local, at, domain = email_address.rpartition("@")
        if not (at and local and "." in domain) or any(c.isspace() for c in email_address):
            raise ValueError(f"to: {address!r} is not an email address")
        if not local.isascii():
            raise ValueError(
                f"to: {address!r} has non-ASCII characters before the @; such mailboxes "
                "need SMTPUTF8, which is not supported: use an ASCII address"
            )
        if not domain.isascii():
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError:
                raise ValueError(f"to: {address!r} has an invalid domain name") from None
        plain = f"{local}@{domain}"
        out.append(formataddr((name, plain)) if name else plain)
    return out


_check_addresses = check_addresses


class EmailBusyError(TransientError):
    """Another run holds the send lease of this message and did not finish in time."""


class EmailService:
    """Queues and sends emails.

    Args:
        platform: the job platform (for enqueue and the registry database).
        smtp: the mail server (or outbox folder).
        clinic: the clinic details shown in every email.
        templates: the template renderer.
        log_retention_days: email log rows older than this are deleted by
            :meth:`purge_log` (see there for the rows that are always kept).
    """

    def __init__(
        self,
        platform: JobPlatform,
        smtp: SmtpConfig,
        clinic: ClinicInfo,
        templates: EmailTemplates | None = None,
        log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS,
    ) -> None:
        if log_retention_days < 1:
            raise ValueError("email_log_retention_days: must be at least 1 (days)")
        self.platform = platform
        self.smtp = smtp
        self.clinic = clinic
        self.templates = templates or EmailTemplates()
        self.log_retention_days = log_retention_days
        self.engine = platform.engine

    # Enqueue ------------------------------------------------------------------------
    def queue(
        self,
        to: str | Sequence[str],
        subject: str,
        template: str,
        context: Mapping[str, Any],
        attachments: Sequence[Attachment | Path] = (),
        idempotency_key: str | None = None,
        record: RecordLinks | Mapping[str, int | None] | None = None,
        expires_at: dt.datetime | None = None,
    ) -> JobId:
        """Check, then enqueue an email on the ``email`` queue; returns the job id.

        With ``expires_at``, a message that has not gone by then is dropped, never sent late.

        Raises:
            ValueError: a bad address, an empty subject, oversized attachments, a naive or
                past ``expires_at``.
            EmailTemplateError: an unknown template or a missing required context key.
        """
        addresses = _check_addresses(to)
        if not subject.strip():
            raise ValueError("subject: must not be empty")
        files = [a if isinstance(a, Attachment) else Attachment.from_path(a) for a in attachments]
        if sum(len(f.content) for f in files) > MAX_ATTACHMENTS_BYTES:
            raise ValueError(f"attachments: at most {MAX_ATTACHMENTS_BYTES // 2**20} MiB in all")
        # Render now: a broken template or context fails here, not in a worker later.
        self.templates.render(template, context, self.clinic, subject, bool(files))
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise ValueError("expires_at: must be timezone-aware")
            if expires_at <= utcnow():
                raise ValueError("expires_at: must be in the future")
        key = idempotency_key or uuid.uuid4().hex
        if len(key) > MAX_KEY:
            raise ValueError(f"idempotency_key: at most {MAX_KEY} characters; got {len(key)}")
        # The bytes are stored once, apart from the args (which every claim reads and the
        # monitor's search scans): the args name each file by its SHA-256.
        digests = [hashlib.sha256(f.content).hexdigest() for f in files]
        blobs = dict(zip(digests, (f.content for f in files), strict=True))
        payload: dict[str, Any] = {
            "key": key,
            "to": addresses,
            "subject": subject,
            "template": template,
            "context": dict(context),
            "attachments": [
                [f.filename, f.mime_type, {"blob": digest, "size": len(f.content)}]
                for f, digest in zip(files, digests, strict=True)
            ],
        }
        if expires_at is not None:
            payload["expires_at"] = expires_at.astimezone(dt.UTC).isoformat()
        return self.platform.enqueue(
            EMAIL, TASK, payload, idempotency_key=f"email:{key}", record=record, blobs=blobs
        )

    # The task -----------------------------------------------------------------------
    def send(self, payload: dict[str, Any], job: JobContext) -> str:
        """Send (or write to the outbox) one queued email; at most once per key.

        The run first takes the message's lease in the email log (one row per key):
        only the lease holder connects to the server, from before the connection until
        the outcome is recorded. Another run of the same key (a duplicate, or a re-run
        after its worker was reaped while the first still sends) waits for that
        outcome instead of sending a second copy.
        """
        key = payload["key"]
        expires = payload.get("expires_at")
        if expires is not None and dt.datetime.fromisoformat(expires) <= utcnow():
            return f"dropped: expired at {expires}"
        message = self.build(payload, job.blob)
        owner = f"{job.job_id}:{job.attempt}"
        status = self._take_lease(key, payload, job.job_id, message["Message-ID"], owner)
        if status in {"sent", "outbox"}:
            return f"already {status}: {message['Message-ID']}"
        if status in {"sending", "unknown"}:
            if status == "sending":  # we took the lease of a run that is gone
                self._log(
                    key,
                    owner,
                    "unknown",
                    "a previous attempt may have been accepted; not re-sent",
                )
            return f"not re-sent (outcome of an earlier attempt unknown): {message['Message-ID']}"
        try:
            if self.smtp.host is None:
                path = self._write_eml(key, message)
                self._log(key, owner, "outbox", f"written to {path}")
                return f"outbox: {path}"
            return self._send_smtp(key, owner, message, payload["to"])
        except (EmailDeliveryError, EmailRetryableError):
            raise  # already in the log
        except Exception as exc:
            # Anything unforeseen: the log says so instead of staying at "queued".
            self._log(key, owner, "retrying", f"{type(exc).__name__}: {exc}")
            raise

    def build(
        self, payload: Mapping[str, Any], blob: Callable[[str], bytes] | None = None
    ) -> EmailMessage:
        """The MIME message of a queued email (text and HTML parts, attachments).

        ``blob`` reads an attachment stored with the job (``JobContext.blob``); emails
        queued before attachments were stored apart carry them inline, in base64.
        """
        rendered = self.templates.render(
            payload["template"],
            payload["context"],
            self.clinic,
            payload["subject"],
            bool(payload["attachments"]),
        )
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = ", ".join(payload["to"])
        message["Subject"] = payload["subject"]
        message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
        message["Message-ID"] = message_id_for(payload["key"])
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        for filename, mime_type, data in payload["attachments"]:
            maintype, _, subtype = mime_type.partition("/")
            if isinstance(data, dict):
                if blob is None:
                    raise LookupError(f"attachment {filename}: stored with the job, no reader")
                content = blob(data["blob"])
            else:
                content = base64.b64decode(data)
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
        return message

    def _send_smtp(self, key: str, owner: str, message: EmailMessage, to: list[str]) -> str:
        smtp = self.smtp
        assert smtp.host is not None
        context = ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)
        client: smtplib.SMTP | None = None
        data_sent = False
        try:
            if smtp.tls == "ssl":
                client = smtplib.SMTP_SSL(
                    smtp.host, smtp.port, timeout=smtp.timeout, context=context
                )
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            client.ehlo()
            if smtp.tls == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            sender = parseaddr(smtp.sender)[1]
            code, reply = client.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused = {}
            for address in to:
                rcpt = parseaddr(address)[1]
                code, reply = client.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, reply)
            deferred = {r: v for r, v in refused.items() if v[0] < 500}
            if deferred or len(refused) == len(to):
                # A recipient the server defers (4xx) must not be dropped: send nothing
                # now and retry the whole message, so every recipient gets one copy.
                client.rset()
                raise smtplib.SMTPRecipientsRefused(deferred or refused)
            # The server took the envelope: from here on the outcome may be ambiguous.
            self._log(key, owner, "sending", "", keep_lease=True)
            data_sent = True
            code, reply = client.data(message.as_bytes(policy=email.policy.SMTP))
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            response = f"{code} {reply.decode(errors='replace')}"
            if refused:
                response += f"; refused {sorted(refused)}"
            self._log(key, owner, "sent", response)
            return f"sent {message['Message-ID']}: {response}"
        except smtplib.SMTPResponseException as exc:
            self._fail(key, owner, exc.smtp_code, exc.smtp_error)
            raise AssertionError("unreachable") from exc  # _fail always raises
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {msg.decode(errors='replace')}"
                for rcpt, (code, msg) in exc.recipients.items()
            )
            permanent = any(code >= 500 for code in codes)
            self._log(key, owner, "failed" if permanent else "retrying", detail)
            if permanent:
                raise EmailDeliveryError(f"recipients refused: {detail}") from None
            raise EmailRetryableError(f"recipients deferred: {detail}") from None
        except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
            self._log(key, owner, "failed", f"{type(exc).__name__}: {exc}")
            raise EmailDeliveryError(f"mail server settings: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            if data_sent:
                # No reply to the data (timeout, dropped connection): the server may have
                # kept the message, so sending again could deliver a second copy.
                detail = f"{type(exc).__name__}: {exc}"
                self._log(key, owner, "unknown", f"no reply to the message data ({detail})")
                raise EmailDeliveryError(
                    f"no reply after the message data ({detail}); it may have been accepted, "
                    f"so it is not sent again (look for Message-ID {message['Message-ID']})"
                ) from exc
            self._log(key, owner, "retrying", f"{type(exc).__name__}: {exc}")
            raise EmailRetryableError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()

    def _fail(self, key: str, owner: str, code: int, error: bytes | str) -> None:
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        detail = f"{code} {text}"
        if code >= 500:
            self._log(key, owner, "failed", detail)
            raise EmailDeliveryError(f"the mail server refused the message: {detail}")
        self._log(key, owner, "retrying", detail)
        raise EmailRetryableError(f"the mail server deferred the message: {detail}")

    def _write_eml(self, key: str, message: EmailMessage) -> Path:
        folder = self.smtp.outbox_dir
        if folder is None:
            raise EmailDeliveryError("no SMTP host and no outbox folder configured")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{digest}.eml"
        existing = sorted(folder.glob(f"*-{digest}.eml"))
        if existing:
            return existing[0]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(message.as_bytes())
        tmp.replace(path)
        return path

    # The email log --------------------------------------------------------------------
    def _take_lease(
        self, key: str, payload: Mapping[str, Any], job_id: str, message_id: str, owner: str
    ) -> str:
        """Take the send lease of ``key`` for ``owner``; returns the log's status then.

        A finished status (``sent``, ``outbox``, ``unknown``) is returned without taking
        the lease. Otherwise this run waits while another run holds the lease (its outcome
        decides whether this one sends at all): until the holder records an outcome, its
        lease runs out, or its worker stops heart-beating (database clock). ``sending``
        is returned only with the lease taken from a holder that is gone. Raises
        :class:`EmailBusyError` if the lease is still held after ``LEASE_SECONDS``.
        """
        recorder = self.platform.recorder
        worker = self.platform.worker_id
        deadline = time.monotonic() + LEASE_SECONDS
        waiting_logged = False
        while True:
            with recorder.tx() as conn:
                now = recorder.now(conn)
                until = now + dt.timedelta(seconds=LEASE_SECONDS)
                created = conn.execute(
                    recorder._insert(LOG)
                    .values(
                        idempotency_key=key,
                        message_id=message_id,
                        job_id=job_id,
                        to=", ".join(payload["to"]),
                        subject=payload["subject"],
                        template=payload["template"],
                        status="queued",
                        server_response="",
                        attempts=1,
                        created_at=now,
                        updated_at=now,
                        lease_owner=owner,
                        lease_worker=worker,
                        lease_until=until,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(LOG.c.id)
                ).first()
                if created is not None:
                    return "queued"
                status, holder, holder_worker, held_until = conn.execute(
                    select(
                        LOG.c.status, LOG.c.lease_owner, LOG.c.lease_worker, LOG.c.lease_until
                    ).where(LOG.c.idempotency_key == key)
                ).one()
                if status in {"sent", "outbox", "unknown"}:
                    return str(status)
                free = (
                    holder is None
                    or holder == owner
                    or held_until is None
                    or held_until <= now
                    or self._worker_gone(conn, holder_worker, now)
                )
                if free:
                    held_by = (
                        LOG.c.lease_owner.is_(None)
                        if holder is None
                        else (LOG.c.lease_owner == holder)
                    )
                    taken = conn.execute(
                        update(LOG)
                        .where(LOG.c.idempotency_key == key, LOG.c.status == status, held_by)
                        .values(
                            lease_owner=owner,
                            lease_worker=worker,
                            lease_until=until,
                            job_id=job_id,
                            attempts=LOG.c.attempts + 1,
                            updated_at=now,
                        )
                    ).rowcount
                    if taken:
                        return str(status)
                    continue  # changed under us: look again at once
            if not waiting_logged:
                log.info("email %s: waiting for run %s, which holds its send lease", key, holder)
                waiting_logged = True
            if time.monotonic() > deadline:
                raise EmailBusyError(f"another run is still sending {message_id}")
            time.sleep(0.2)

    def _worker_gone(self, conn: Any, worker_id: str | None, now: dt.datetime) -> bool:
        """Whether the worker that holds a lease stopped, or fell silent (database clock).

        An unknown worker (no row, or a lease written before leases named their worker)
        is not known to be gone: its lease is honoured until it runs out.
        """
        if worker_id is None:
            return False
        row = conn.execute(
            select(WORKER.c.last_heartbeat, WORKER.c.stopped_at).where(WORKER.c.id == worker_id)
        ).first()
        if row is None:
            return False
        last_heartbeat, stopped_at = row
        silent = dt.timedelta(seconds=self.platform.config.heartbeat_timeout)
        return stopped_at is not None or bool(last_heartbeat < now - silent)

    def _log(
        self, key: str, owner: str, status: str, response: str, keep_lease: bool = False
    ) -> None:
        """Record ``status``; an outcome (anything but ``sending``) releases the lease."""
        values: dict[str, Any] = {
            "status": status,
            "server_response": response[:2000],
            "updated_at": utcnow(),
        }
        if not keep_lease:
            values.update(lease_owner=None, lease_worker=None, lease_until=None)
        with self.engine.begin() as conn:
            conn.execute(
                update(LOG)
                .where(LOG.c.idempotency_key == key, LOG.c.lease_owner == owner)
                .values(**values)
            )

    def purge_log(self, older_than: dt.timedelta | None = None) -> int:
        """Delete email log rows created more than ``older_than`` ago; returns how many.

        ``older_than`` defaults to ``log_retention_days``; ages follow the database's
        clock. A row is the "sent once" record of its key, so two kinds are kept whatever
        their age: a row whose send lease is still held (a run is sending now), and a row
        with a job of its key that could still run (waiting, scheduled, active, retrying,
        paused, or dead and so retryable): deleting it would let that job send a second
        copy. A job of the key is one enqueued under it, or a duplicate of one (the
        monitor's duplicate has no idempotency key of its own; its payload names the
        key). Rows of completed or revoked jobs, and of jobs already cleaned, go.
        """
        age = older_than if older_than is not None else dt.timedelta(days=self.log_retention_days)
        recorder = self.platform.recorder
        could_run = [s.value for s in JobState if s.value not in _FINISHED_FOR_GOOD]
        with recorder.tx() as conn:
            now = recorder.now(conn)
            duplicated = {
                args[0]["key"]
                for (args,) in conn.execute(
                    select(JOB.c.args).where(
                        JOB.c.task == TASK,
                        JOB.c.idempotency_key.is_(None),
                        JOB.c.state.in_(could_run),
                    )
                )
                if args and isinstance(args[0], dict) and isinstance(args[0].get("key"), str)
            }
            result = conn.execute(
                delete(LOG).where(
                    LOG.c.created_at < now - age,
                    or_(LOG.c.lease_until.is_(None), LOG.c.lease_until <= now),
                    LOG.c.idempotency_key.not_in(duplicated),
                    ~select(JOB.c.id)
                    .where(
                        JOB.c.idempotency_key == literal("email:") + LOG.c.idempotency_key,
                        JOB.c.state.in_(could_run),
                    )
                    .exists(),
                )
            )
        removed = int(result.rowcount)
        if removed:
            log.info("removed %d email log rows older than %s", removed, age)
        return removed

    def log_entry(self, key: str) -> dict[str, Any] | None:
        """The email log row of an idempotency key (for tests and the monitor)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(LOG).where(LOG.c.idempotency_key == key)).mappings().first()
        return None if row is None else dict(row)


def register(
    platform: JobPlatform, settings: Settings, smtp_password: str | None = None
) -> EmailService:
    """Add the ``email.send`` task kind to ``platform`` and return the service behind it."""
    if smtp_password is None and settings.smtp_user:
        from purplecross_desktop.secrets import get_secret

        smtp_password = get_secret("smtp_password")
    clinic = ClinicInfo(settings.clinic_name, settings.clinic_address, settings.clinic_phone)
    service = EmailService(
        platform,
        SmtpConfig.from_settings(settings, smtp_password),
        clinic,
        log_retention_days=settings.email_log_retention_days,
    )
    platform.register(TaskSpec(TASK, service.send, EMAIL, context=True))
    platform.services["email"] = service
    platform.add_retention("email log", service.purge_log)
    return service
