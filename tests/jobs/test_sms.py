"""SMS: the HTTP gateway gets the right request; 5xx retried, 4xx not; once per key; expiry."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table on Base.metadata)
from jobs.models import Job
from jobs.platform import JobPlatform
from jobs.policy import RetryPolicy
from jobs.registry import JobRecord, JobRegistry
from jobs.sms import HttpSmsGateway, LogSmsGateway, SmsService, check_phone, gateway_from_settings
from jobs.sms import register as register_sms
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.settings import Settings
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.sms_gateway import GatewayServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1, jitter=0)
TOKEN = "gw-token-123"


@pytest.fixture
def gateway() -> Iterator[GatewayServer]:
    with GatewayServer() as server:
        yield server


def _sms(harness: Harness, gateway: GatewayServer) -> tuple[JobPlatform, SmsService]:
    platform = harness.platform()
    service = register_sms(platform, HttpSmsGateway(gateway.url, TOKEN, "Clinic"), FAST)
    return platform, service


def _finished(platform: JobPlatform, job_id: str) -> JobRecord:
    registry = JobRegistry(platform)

    def done() -> JobRecord | None:
        job = registry.get(job_id).job
        return job if job.state in ("completed", "dead") else None

    record: JobRecord = wait_until(done, timeout=15)
    return record


def _job_count(platform: JobPlatform) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(Job)).scalar_one())


def test_the_gateway_receives_the_number_the_text_the_token_and_the_key(
    any_db_harness: Harness, gateway: GatewayServer
) -> None:
    platform, sms = _sms(any_db_harness, gateway)
    any_db_harness.runner(platform)
    job_id = sms.queue("+44 (0)7700 900123", "Rex is ready to collect", idempotency_key="rx-1")
    job = _finished(platform, job_id)
    assert job.state == "completed"
    [request] = gateway.received()
    assert request.path == "/v1/messages"
    assert request.body == {
        "to": "+4407700900123",
        "text": "Rex is ready to collect",
        "sender": "Clinic",
        "reference": "rx-1",
    }
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == "rx-1"
    entry = sms.log_entry("rx-1")
    assert entry is not None
    assert entry["status"] == "sent"
    assert "msg-1" in entry["gateway_response"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_from_the_gateway_is_retried(
    harness: Harness, gateway: GatewayServer, status: int
) -> None:
    gateway.replies = [(status, '{"error": "busy"}')]
    platform, sms = _sms(harness, gateway)
    harness.runner(platform)
    job = _finished(platform, sms.queue("07700900123", "hello", idempotency_key="k5"))
    assert job.state == "completed"
    assert job.attempts == 2
    assert len(gateway.received()) == 2
    assert sms.log_entry("k5")["status"] == "sent"  # type: ignore[index]


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_4xx_from_the_gateway_is_not_retried(
    harness: Harness, gateway: GatewayServer, status: int
) -> None:
    gateway.replies = [(status, '{"error": "bad number"}')]
    platform, sms = _sms(harness, gateway)
    harness.runner(platform)
    job = _finished(platform, sms.queue("07700900123", "hello", idempotency_key="k4"))
    assert job.state == "dead"
    assert job.attempts == 1
    assert str(status) in (job.error_message or "")
    assert len(gateway.received()) == 1
    entry = sms.log_entry("k4")
    assert entry is not None
    assert entry["status"] == "failed"


def test_an_unreachable_gateway_is_retried(harness: Harness, gateway: GatewayServer) -> None:
    platform = harness.platform()
    dead_url = "http://127.0.0.1:9/v1/messages"  # the discard port: nothing listens
    sms = register_sms(platform, HttpSmsGateway(dead_url, TOKEN, timeout=2), FAST)
    harness.runner(platform)
    job = _finished(platform, sms.queue("07700900123", "hello", idempotency_key="k0"))
    assert job.state == "dead"
    assert job.attempts == 3  # every attempt failed to connect, none was given up early
    assert sms.log_entry("k0")["status"] == "retrying"  # type: ignore[index]


def test_a_text_is_sent_once_per_key_even_when_its_job_runs_again(
    harness: Harness, gateway: GatewayServer
) -> None:
    platform, sms = _sms(harness, gateway)
    harness.runner(platform)
    first = _finished(platform, sms.queue("07700900123", "hello", idempotency_key="once"))
    assert first.state == "completed"
    again = JobRegistry(platform).duplicate(first.id)  # same payload, same key, a new job
    second = _finished(platform, again)
    assert second.result_summary == "already sent"
    assert len(gateway.received()) == 1


def test_an_expired_text_is_dropped_not_sent_late(harness: Harness, gateway: GatewayServer) -> None:
    platform, sms = _sms(harness, gateway)
    expires = utcnow() + dt.timedelta(seconds=0.5)
    job_id = sms.queue("07700900123", "the surgery closes in 10 minutes", expires_at=expires)
    wait_until(lambda: utcnow() > expires)  # no runner yet: it expires while queued
    harness.runner(platform)
    job = _finished(platform, job_id)
    assert job.state == "completed"
    assert (job.result_summary or "").startswith("dropped: expired")
    assert gateway.received() == []


@pytest.mark.parametrize(
    ("to", "text", "expires", "message"),
    [
        ("call me", "hi", None, "to: 'call me' is not a phone number"),
        ("12", "hi", None, "to: '12' is not a phone number"),
        ("07700900123", "  ", None, "text: must not be empty"),
        ("07700900123", "x" * 1531, None, "text: at most 1530 characters"),
        ("07700900123", "hi", dt.datetime(2030, 1, 1), "expires_at: must be timezone-aware"),
        ("07700900123", "hi", dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "expires_at: must be in"),
    ],
)
def test_bad_input_is_refused_at_enqueue_and_nothing_is_queued(
    harness: Harness,
    gateway: GatewayServer,
    to: str,
    text: str,
    expires: dt.datetime | None,
    message: str,
) -> None:
    platform, sms = _sms(harness, gateway)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        sms.queue(to, text, expires_at=expires)
    assert _job_count(platform) == 0


def test_the_log_gateway_writes_the_text_to_the_log(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    platform = harness.platform()
    sms = register_sms(platform, LogSmsGateway(), FAST)
    harness.runner(platform)
    with caplog.at_level(logging.INFO, logger="jobs.sms"):
        job = _finished(platform, sms.queue("07700900123", "hello there", idempotency_key="lg"))
    assert job.result_summary == "logged: written to the log"
    assert any("hello there" in r.getMessage() for r in caplog.records)
    assert sms.log_entry("lg")["status"] == "logged"  # type: ignore[index]


def test_settings_choose_the_gateway_and_the_token_never_shows() -> None:
    assert isinstance(gateway_from_settings(Settings()), LogSmsGateway)
    http = gateway_from_settings(
        Settings(sms_gateway="http", sms_gateway_url="https://sms.example/send"), token="s3cret"
    )
    assert isinstance(http, HttpSmsGateway)
    assert http.token == "s3cret"
    assert "s3cret" not in repr(http)
    with pytest.raises(ValueError, match="sms_gateway_url: required"):
        gateway_from_settings(Settings(sms_gateway="http"))


def test_phone_numbers_are_normalized() -> None:
    assert check_phone("+44 20 7946 0000") == "+442079460000"
    assert check_phone("(555) 010-0000") == "5550100000"
    with pytest.raises(ValueError, match="not a phone number"):
        check_phone("555-CALL-NOW")


def test_a_retried_request_carries_the_same_idempotency_key(
    harness: Harness, gateway: GatewayServer
) -> None:
    gateway.replies = [(503, "")]
    platform, sms = _sms(harness, gateway)
    harness.runner(platform)
    started = time.monotonic()
    _finished(platform, sms.queue("07700900123", "hello", idempotency_key="same"))
    assert time.monotonic() - started < 10
    keys = [r.headers["Idempotency-Key"] for r in gateway.received()]
    assert keys == ["same", "same"]
