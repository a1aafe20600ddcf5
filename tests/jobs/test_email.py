"""Email against a real SMTP server (aiosmtpd on loopback): parts, TLS, auth, 4xx, 5xx, once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jobs
from jobs.email import LOG, Attachment, EmailService, SmtpConfig, message_id_for
from jobs.email_templates import ClinicInfo, EmailTemplateError
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import RetryPolicy
from jobs.queues import EMAIL
from jobs.registry import JobNotFoundError, JobRegistry
from purplecross_desktop.database.base import utcnow
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.smtp_server import SmtpServer, self_signed_context

CONTEXT = {"client_name": "Ada <Lovelace>", "patient_name": "Rex", "appointment_time": "Mon 9:00"}
INVOICE = {"client_name": "Ada", "invoice_number": "INV-7", "total": "€42.00"}
CLINIC = ClinicInfo("Purple Cross Vets", "1 High Street", "555-0100")
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)


def _service(platform: JobPlatform, smtp: SmtpConfig) -> EmailService:
    service = EmailService(platform, smtp, CLINIC)
    platform.register(TaskSpec("email.send", service.send, EMAIL, policy=FAST, context=True))
    platform.services["email"] = service
    return service


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


@pytest.fixture
def platform(harness: Harness) -> JobPlatform:
    return harness.platform()


def _plain(server: SmtpServer, tmp_path: Path) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=server.port,
        tls="none",
        sender="Clinic <clinic@example.org>",
        timeout=5,
        outbox_dir=tmp_path / "outbox",
    )


def _state(platform: JobPlatform, job_id: str) -> str:
    return JobRegistry(platform).get(job_id).job.state


def test_both_parts_attachment_and_headers_arrive(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    service = _service(platform, _plain(server, tmp_path))
    harness.runner(platform)
    pdf = Attachment("INV-7.pdf", b"%PDF-1.4 fake invoice", "application/pdf")
    job_id = service.queue(
        "ada@example.org",
        "Your invoice",
        "invoice",
        {"client_name": "Ada", "invoice_number": "INV-7", "total": "€42.00"},
        attachments=[pdf],
        idempotency_key="inv-7",
    )
    wait_until(lambda: _state(platform, job_id) == "completed")
    (message,) = server.inbox.messages
    assert message["Subject"] == "Your invoice"
    assert message["Message-ID"] == message_id_for("inv-7")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "INV-7" in text
    assert "€42.00" in text
    assert "Purple Cross Vets" in html
    assert "attached as a PDF" in text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "INV-7.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake invoice"
    entry = service.log_entry("inv-7")
    assert entry is not None
    assert entry["status"] == "sent"
    assert entry["server_response"].startswith("250")
    assert entry["job_id"] == job_id


def test_html_is_autoescaped_and_text_is_not(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    _service(platform, _plain(server, tmp_path))
    jobs.configure(platform)
    try:
        harness.runner(platform)
        job_id = jobs.queue_email("ada@example.org", "Booked", "appointment_confirmation", CONTEXT)
        wait_until(lambda: _state(platform, job_id) == "completed")
    finally:
        jobs.configure(None)
    (message,) = server.inbox.messages
    assert "Ada &lt;Lovelace&gt;" in message.get_body(("html",)).get_content()
    assert "Ada <Lovelace>" in message.get_body(("plain",)).get_content()


def test_starttls_with_auth_delivers(
    harness: Harness, platform: JobPlatform, tmp_path: Path
) -> None:
    context, cert = self_signed_context(tmp_path)
    with SmtpServer(context, user="clinic", password="s3cret") as server:
        smtp = dataclasses.replace(
            _plain(server, tmp_path), tls="starttls", user="clinic", password="s3cret", ca_file=cert
        )
        service = _service(platform, smtp)
        harness.runner(platform)
        job_id = service.queue("ada@example.org", "Reminder", "appointment_reminder", CONTEXT)
        wait_until(lambda: _state(platform, job_id) == "completed")
        assert len(server.inbox.messages) == 1


# aiosmtpd warns about AUTH without STARTTLS; here the whole connection is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_with_auth_delivers(
    harness: Harness, platform: JobPlatform, tmp_path: Path
) -> None:
    context, cert = self_signed_context(tmp_path)
    with SmtpServer(user="clinic", password="s3cret", implicit_tls=context) as server:
        smtp = dataclasses.replace(
            _plain(server, tmp_path), tls="ssl", user="clinic", password="s3cret", ca_file=cert
        )
        service = _service(platform, smtp)
        harness.runner(platform)
        job_id = service.queue("ada@example.org", "Reminder", "appointment_reminder", CONTEXT)
        wait_until(lambda: _state(platform, job_id) == "completed")
        assert len(server.inbox.messages) == 1


def test_an_untrusted_certificate_fails_at_once(
    harness: Harness, platform: JobPlatform, tmp_path: Path
) -> None:
    context, _cert = self_signed_context(tmp_path)
    with SmtpServer(context) as server:
        smtp = dataclasses.replace(_plain(server, tmp_path), tls="starttls")  # system CAs only
        service = _service(platform, smtp)
        harness.runner(platform)
        job_id = service.queue("ada@example.org", "Reminder", "appointment_reminder", CONTEXT)
        wait_until(lambda: _state(platform, job_id) == "dead")
        assert "certificate" in (JobRegistry(platform).get(job_id).job.error_message or "")
        assert server.inbox.messages == []


def test_auth_failure_fails_at_once_with_the_servers_message(
    harness: Harness, platform: JobPlatform, tmp_path: Path
) -> None:
    context, cert = self_signed_context(tmp_path)
    with SmtpServer(context, user="clinic", password="s3cret") as server:
        smtp = dataclasses.replace(
            _plain(server, tmp_path), tls="starttls", user="clinic", password="wrong", ca_file=cert
        )
        service = _service(platform, smtp)
        harness.runner(platform)
        job_id = service.queue("ada@example.org", "Reminder", "appointment_reminder", CONTEXT)
        wait_until(lambda: _state(platform, job_id) == "dead")
        job = JobRegistry(platform).get(job_id).job
        assert job.attempts == 1
        assert job.error_class == "jobs.email.EmailDeliveryError"
        assert "535" in (job.error_message or "")
        assert server.inbox.messages == []


def test_4xx_is_retried_then_delivered(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    server.inbox.data_replies = ["451 4.3.0 Try again later"]
    service = _service(platform, _plain(server, tmp_path))
    harness.runner(platform)
    job_id = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "k451")
    wait_until(lambda: _state(platform, job_id) == "completed", timeout=15)
    detail = JobRegistry(platform).get(job_id)
    assert detail.job.attempts == 2
    assert [e.kind for e in detail.timeline].count("retrying") == 1
    assert "451" in next(e.detail for e in detail.timeline if e.kind == "retrying")
    assert len(server.inbox.messages) == 1
    entry = service.log_entry("k451")
    assert entry is not None
    assert entry["status"] == "sent"


@pytest.mark.parametrize("fault", ["hang_up", "stall"])
def test_no_second_copy_when_the_data_reply_is_lost(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path, fault: str
) -> None:
    """The server kept the message but the client never heard "250": never send it again."""
    harness = any_db_harness  # SQLite, then PostgreSQL
    platform = harness.platform()
    server.inbox.data_faults = [fault]  # type: ignore[list-item]
    server.inbox.stall_seconds = 1.5
    smtp = dataclasses.replace(_plain(server, tmp_path), timeout=0.5)
    service = _service(platform, smtp)
    harness.runner(platform)
    job_id = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "lost")
    wait_until(lambda: _state(platform, job_id) in {"dead", "completed"}, timeout=15)
    job = JobRegistry(platform).get(job_id).job
    assert job.state == "dead"
    assert job.attempts == 1
    assert job.error_class == "jobs.email.EmailDeliveryError"
    assert "may have been accepted" in (job.error_message or "")
    entry = service.log_entry("lost")
    assert entry is not None
    assert entry["status"] == "unknown"
    wait_until(lambda: server.inbox.messages, timeout=5)  # the stalled server takes it late
    assert len(server.inbox.messages) == 1


def test_5xx_fails_at_once_with_the_servers_message(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    server.inbox.rcpt_replies = ["550 5.1.1 No such user here"]
    service = _service(platform, _plain(server, tmp_path))
    harness.runner(platform)
    job_id = service.queue("ghost@example.org", "Hi", "appointment_reminder", CONTEXT, (), "k550")
    wait_until(lambda: _state(platform, job_id) == "dead")
    job = JobRegistry(platform).get(job_id).job
    assert job.attempts == 1
    assert "550 5.1.1 No such user here" in (job.error_message or "")
    entry = service.log_entry("k550")
    assert entry is not None
    assert entry["status"] == "failed"
    assert "550" in entry["server_response"]
    assert server.inbox.messages == []


def test_without_smtp_host_mail_goes_to_the_eml_outbox(
    harness: Harness, platform: JobPlatform, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    service = _service(platform, SmtpConfig(host=None, outbox_dir=outbox))
    harness.runner(platform)
    job_id = service.queue(
        "ada@example.org",
        "Due",
        "vaccination_due",
        {"client_name": "Ada", "patient_name": "Rex", "vaccine": "Rabies", "due_date": "1 May"},
        (),
        "vac-1",
    )
    wait_until(lambda: _state(platform, job_id) == "completed")
    (eml,) = outbox.glob("*.eml")
    body = eml.read_bytes()
    assert b"Rabies" in body
    assert message_id_for("vac-1").encode() in body
    entry = service.log_entry("vac-1")
    assert entry is not None
    assert entry["status"] == "outbox"


def test_the_same_key_is_queued_and_sent_once(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    service = _service(platform, _plain(server, tmp_path))
    first = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "once")
    second = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "once")
    assert first == second
    harness.runner(platform)
    wait_until(lambda: _state(platform, first) == "completed")
    # An admin duplicates the job: same payload, same key, so no second copy.
    copy = JobRegistry(platform).duplicate(first)
    wait_until(lambda: _state(platform, copy) == "completed")
    summary = JobRegistry(platform).get(copy).job.result_summary or ""
    assert summary.startswith("already sent")
    assert len(server.inbox.messages) == 1


@pytest.mark.parametrize(
    ("template", "context", "to", "match"),
    [
        ("nope", CONTEXT, "a@example.org", "template: unknown"),
        (
            "appointment_reminder",
            {"client_name": "A", "patient_name": "R"},
            "a@example.org",
            "appointment_time",
        ),
        ("appointment_confirmation", {"client_name": "A"}, "a@example.org", "patient_name"),
        ("appointment_reminder", CONTEXT, "not an address", "to:"),
        ("appointment_reminder", CONTEXT, [], "to:"),
    ],
)
def test_bad_emails_fail_at_enqueue_and_queue_nothing(
    platform: JobPlatform,
    tmp_path: Path,
    template: str,
    context: dict[str, str],
    to: object,
    match: str,
) -> None:
    service = _service(platform, SmtpConfig(host=None, outbox_dir=tmp_path))
    with pytest.raises((EmailTemplateError, ValueError), match=match):
        service.queue(to, "Hi", template, context)  # type: ignore[arg-type]
    assert JobRegistry(platform).search() == []


def test_required_keys_are_exactly_documented() -> None:
    from jobs.email_templates import TEMPLATES

    for name in ("appointment_reminder", "appointment_confirmation"):
        assert TEMPLATES[name].required == {"client_name", "patient_name", "appointment_time"}


def test_queue_email_needs_a_configured_platform() -> None:
    with pytest.raises(jobs.NotConfiguredError):
        jobs.queue_email("a@example.org", "Hi", "appointment_reminder", CONTEXT)


def test_two_runs_of_one_key_that_overlap_send_one_copy(
    any_db_harness: Harness,
    server: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 9, case 2: a duplicate made while the original is still being sent.

    The original is held inside the message data (after ``sending``, before ``sent``),
    the narrowest window; the duplicate must wait for its outcome, not call it unknown.
    """
    harness = any_db_harness  # SQLite, then PostgreSQL
    platform = harness.platform()
    in_data = threading.Event()
    release = threading.Event()

    def hold() -> None:  # runs on the server's loop: the reply waits until released
        in_data.set()
        release.wait(30)

    server.inbox.on_data = hold
    caplog.set_level(logging.INFO, logger="jobs.email")
    service = _service(platform, _plain(server, tmp_path))
    registry = JobRegistry(platform)
    harness.runner(platform)  # two email threads
    first = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "lap")
    try:
        assert in_data.wait(20)
        assert (service.log_entry("lap") or {}).get("status") == "sending"
        copy = registry.duplicate(first)  # same payload, same key

        def copy_waits_or_ended() -> bool:
            waiting = any("waiting for run" in r.getMessage() for r in list(caplog.records))
            return waiting or _state(platform, copy) in {"completed", "dead"}

        wait_until(copy_waits_or_ended, timeout=20)
        assert _state(platform, copy) == "active"  # it waits on the lease, it did not decide
    finally:
        release.set()
    wait_until(lambda: {_state(platform, j) for j in (first, copy)} == {"completed"}, timeout=20)
    assert len(server.inbox.messages) == 1
    assert (registry.get(copy).job.result_summary or "").startswith("already sent")
    assert (registry.get(first).job.result_summary or "").startswith("sent")
    entry = service.log_entry("lap")
    assert entry is not None
    assert (entry["status"], entry["lease_owner"]) == ("sent", None)


def test_a_run_whose_worker_died_mid_envelope_frees_its_lease(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path
) -> None:
    """Issue 9, case 2: a re-run after a worker was reaped waits for nobody who is gone.

    The log says ``queued`` under a lease of a worker that stopped heart-beating long
    before the lease would run out: the re-run takes the lease and sends, once.
    """
    harness = any_db_harness  # SQLite, then PostgreSQL
    platform = harness.platform()
    service = _service(platform, _plain(server, tmp_path))
    registry = JobRegistry(platform)
    job_id = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "gone")
    recorder = platform.recorder
    recorder.register_worker(
        "dead-host:1:aaaaaa",
        {"host": "dead-host", "pid": 1, "queues": [], "concurrency": {}, "embedded": False},
    )
    recorder.worker_stopped("dead-host:1:aaaaaa")
    payload = registry.get(job_id).job.args[0]
    with platform.engine.begin() as conn:  # what the dead run left: its lease, for 5 minutes
        conn.execute(
            LOG.insert().values(
                idempotency_key="gone",
                message_id=message_id_for("gone"),
                job_id=job_id,
                to=", ".join(payload["to"]),
                subject="Hi",
                template="appointment_reminder",
                status="queued",
                server_response="",
                attempts=1,
                created_at=utcnow(),
                updated_at=utcnow(),
                lease_owner=f"{'0' * 32}:1",  # a duplicate of it, on the dead worker
                lease_worker="dead-host:1:aaaaaa",
                lease_until=utcnow() + dt.timedelta(minutes=5),
            )
        )
    harness.runner(platform)
    wait_until(lambda: _state(platform, job_id) == "completed", timeout=20)
    assert len(server.inbox.messages) == 1
    entry = service.log_entry("gone")
    assert entry is not None
    assert (entry["status"], entry["attempts"]) == ("sent", 2)


def test_a_recipient_the_server_defers_is_not_dropped(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path
) -> None:
    """Issue 9, case 10: a 4xx for one of two recipients retries the message for both."""
    harness = any_db_harness  # SQLite, then PostgreSQL
    platform = harness.platform()
    server.inbox.rcpt_replies = ["250 OK", "451 4.2.1 Mailbox busy, try later"]
    service = _service(platform, _plain(server, tmp_path))
    harness.runner(platform)
    to = ["ada@example.org", "bob@example.org"]
    job_id = service.queue(to, "Hi", "appointment_reminder", CONTEXT, (), "two")
    wait_until(lambda: _state(platform, job_id) == "completed", timeout=15)
    (message,) = server.inbox.messages
    assert message["To"] == "ada@example.org, bob@example.org"
    assert JobRegistry(platform).get(job_id).job.attempts == 2
    entry = service.log_entry("two")
    assert entry is not None
    assert entry["status"] == "sent"
    assert "refused" not in entry["server_response"]


def test_international_addresses_are_sent_or_refused_at_enqueue(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path
) -> None:
    """Issue 9, case 10: a Unicode domain is sent in IDNA form; a Unicode mailbox is refused.

    With a display name and without one: a bare address is what reached the worker
    unconverted and died there, with its log left at "queued".
    """
    harness = any_db_harness  # SQLite, then PostgreSQL
    platform = harness.platform()
    service = _service(platform, _plain(server, tmp_path))
    with pytest.raises(ValueError, match=r"to: .*non-ASCII"):
        service.queue("josé@example.org", "Hi", "appointment_reminder", CONTEXT)
    assert JobRegistry(platform).search() == []
    harness.runner(platform)
    named = service.queue(
        "Zoë <zoe@bücher.example>", "Hi", "appointment_reminder", CONTEXT, (), "idn"
    )
    bare = service.queue("max@bücher.example", "Hi", "appointment_reminder", CONTEXT, (), "bare")
    for job_id in (named, bare):
        wait_until(lambda job_id=job_id: _state(platform, job_id) == "completed")
    to = sorted(message["To"] for message in server.inbox.messages)
    assert to == ["Zoë <zoe@xn--bcher-kva.example>", "max@xn--bcher-kva.example"]
    for key in ("idn", "bare"):
        entry = service.log_entry(key)
        assert entry is not None
        assert entry["status"] == "sent"


def test_queue_email_links_the_email_to_clinic_records(
    platform: JobPlatform, tmp_path: Path
) -> None:
    """Issue 21: ``jobs.queue_email`` takes ``record=`` like ``jobs.enqueue``."""
    _service(platform, SmtpConfig(host=None, outbox_dir=tmp_path))
    jobs.configure(platform)
    try:
        job_id = jobs.queue_email(
            "ada@example.org", "Hi", "appointment_reminder", CONTEXT, record={"appointment": 40}
        )
    finally:
        jobs.configure(None)
    found = JobRegistry(platform).search(record={"appointment": 40})
    assert [j.id for j in found] == [job_id]


def test_attachments_are_stored_once_outside_the_args_and_deleted_with_the_job(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path
) -> None:
    """Issue 9, personal data at rest: the args carry a reference, the bytes sit in one row.

    Claims read a job's args on every attempt and the monitor's search scans them; an
    attachment inline (base64) went through both, and into every copy of the args.
    """
    from sqlalchemy import func, select

    from jobs.recorder import BLOB, JOB

    harness = any_db_harness
    platform = harness.platform()
    service = _service(platform, _plain(server, tmp_path))
    content = bytes(range(256)) * 4096  # 1 MiB, not text
    pdf = Attachment("xray.pdf", content, "application/pdf")
    same = Attachment("copy.pdf", content, "application/pdf")
    job_id = service.queue("ada@example.org", "X-ray", "invoice", INVOICE, attachments=[pdf, same])
    with harness.engine.connect() as conn:
        args = conn.execute(select(JOB.c.args).where(JOB.c.id == job_id)).scalar_one()
        stored = conn.execute(
            select(func.count(), func.sum(BLOB.c.size)).where(BLOB.c.job_id == job_id)
        ).one()
    assert len(json.dumps(args)) < 2000  # a reference, not the file
    assert tuple(stored) == (1, len(content))  # one row for two equal files
    harness.runner(platform)
    wait_until(lambda: _state(platform, job_id) == "completed")
    (message,) = server.inbox.messages
    files = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
    assert files == {"xray.pdf": content, "copy.pdf": content}
    # A duplicate carries the files too; cleaning a job deletes its blobs.
    copy = JobRegistry(platform).duplicate(job_id)
    assert platform.recorder.blobs_of(copy) == platform.recorder.blobs_of(job_id)
    JobRegistry(platform).clean(None, "completed")
    with harness.engine.connect() as conn:
        left = conn.execute(select(BLOB.c.job_id)).scalars().all()
    assert job_id not in left


def test_blobs_must_be_named_by_their_digest(harness: Harness, platform: JobPlatform) -> None:
    platform.register(TaskSpec("t.blob", lambda: None, EMAIL))
    with pytest.raises(ValueError, match=r"blobs\['abc'\]: the key must be the SHA-256"):
        platform.enqueue(EMAIL, "t.blob", blobs={"abc": b"data"})
    with pytest.raises(ValueError, match="must be bytes"):
        platform.enqueue(EMAIL, "t.blob", blobs={"abc": "text"})  # type: ignore[dict-item]


def test_old_email_log_rows_go_unless_a_job_of_their_key_could_still_send(
    any_db_harness: Harness, tmp_path: Path
) -> None:
    """Issue 9: the email log (recipients, subjects) is kept ``email_log_retention_days``.

    A row is the "sent once" record of its key, so it stays, whatever its age, while a
    run holds its lease or a job of its key could still run (a dead job can be retried).
    """
    from sqlalchemy import insert, select

    from jobs.email import register
    from jobs.recorder import JOB
    from jobs.runner import Runner
    from purplecross_desktop.settings import SettingsError, load_settings

    harness = any_db_harness
    platform = harness.platform()
    env = {"PURPLECROSS_DATA_DIR": str(tmp_path), "PURPLECROSS_EMAIL_LOG_RETENTION_DAYS": "30"}
    register(platform, load_settings(env=env))
    now = platform.recorder.now()
    old = now - dt.timedelta(days=31)
    jobs_of = {"dead": "dead", "done": "completed", "waiting": "waiting"}
    with harness.engine.begin() as conn:
        for key, created, lease_until in [
            ("sent", old, None),
            ("dead", old, None),
            ("done", old, None),
            ("waiting", old, None),
            ("held", old, now + dt.timedelta(minutes=5)),
            ("expired-lease", old, now - dt.timedelta(minutes=5)),
            ("recent", now - dt.timedelta(days=29), None),
        ]:
            conn.execute(
                insert(LOG).values(
                    idempotency_key=key,
                    message_id=message_id_for(key),
                    to="ada@example.org",
                    subject="Hi",
                    template="appointment_reminder",
                    status="sent",
                    created_at=created,
                    updated_at=created,
                    lease_owner=None if lease_until is None else "job:1",
                    lease_until=lease_until,
                )
            )
    for key, state in jobs_of.items():
        assert platform.recorder.insert_job(
            {
                "id": f"{key:x<32}"[:32],
                "queue": EMAIL,
                "task": "email.send",
                "state": state,
                "idempotency_key": f"email:{key}",
                "token": "t0ken",
                "seq": 1,
                "max_attempts": 3,
            }
        )
    # The first hourly pass of a runner applies it (through the family's retention hook).
    Runner(platform, embedded=False).purge_expired()
    with harness.engine.connect() as conn:
        left = set(conn.execute(select(LOG.c.idempotency_key)).scalars())
        assert conn.execute(select(JOB.c.id)).all()  # jobs are not the log's to delete
    assert left == {"dead", "waiting", "held", "recent"}
    with pytest.raises(SettingsError, match="email_log_retention_days: must be at least 1"):
        load_settings(env={**env, "PURPLECROSS_EMAIL_LOG_RETENTION_DAYS": "0"})


def test_retention_keeps_the_log_row_of_a_duplicate_that_could_still_send(
    any_db_harness: Harness, server: SmtpServer, tmp_path: Path
) -> None:
    """A duplicate (monitor) carries the payload's key but no idempotency key of its own:
    its job row does not name the key. Retention must still see it as a job of the key,
    or deleting the log row lets the duplicate send a second copy."""
    harness = any_db_harness
    platform = harness.platform()
    service = _service(platform, _plain(server, tmp_path))
    registry = JobRegistry(platform)
    first = service.queue("ada@example.org", "Hi", "appointment_reminder", CONTEXT, (), "yearly")
    harness.runner(platform)
    wait_until(lambda: _state(platform, first) == "completed", timeout=30)
    registry.pause(EMAIL)
    copy = registry.duplicate(first)  # waits while the queue is paused
    wait_until(lambda: _state(platform, copy) in {"waiting", "paused"}, timeout=30)
    service.purge_log(older_than=dt.timedelta(0))  # the row is older than the retention
    registry.resume(EMAIL)
    wait_until(lambda: _state(platform, copy) == "completed", timeout=30)
    assert len(server.inbox.messages) == 1
    assert (registry.get(copy).job.result_summary or "").startswith("already sent")


def test_a_duplicate_racing_a_clean_is_refused_not_sent_without_its_attachments(
    harness: Harness, platform: JobPlatform, server: SmtpServer, tmp_path: Path
) -> None:
    """The monitor duplicates a completed email while another admin cleans completed
    jobs: the clean lands between the duplicate's read of the job and of its blobs. The
    copy must not be enqueued naming attachments it does not carry (it would fail at
    every attempt, and the email would never go)."""
    service = _service(platform, _plain(server, tmp_path))
    pdf = Attachment("xray.pdf", b"%PDF-1.4 x-ray", "application/pdf")
    job_id = service.queue("ada@example.org", "X-ray", "invoice", INVOICE, attachments=[pdf])
    harness.runner(platform)
    wait_until(lambda: _state(platform, job_id) == "completed")
    registry = JobRegistry(platform)
    read_job = registry.get

    def get_then_cleaned(job: str) -> Any:
        detail = read_job(job)
        JobRegistry(platform).clean(None, "completed")  # the other admin, just then
        return detail

    registry.get = get_then_cleaned  # type: ignore[method-assign]
    try:
        copy = registry.duplicate(job_id)
    except JobNotFoundError:
        return  # refused: the job is gone
    wait_until(lambda: _state(platform, copy) in {"completed", "dead", "failed_retrying"})
    assert _state(platform, copy) == "completed"
    assert len(server.inbox.messages) == 1
