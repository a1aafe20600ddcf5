"""Webhooks: Standard Webhooks signatures verified by the reference library at a real
receiver, retries on the schedule, 410, redirects, SSRF, auto-disable, replay and recovery."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from jobs.webhooks import DeliveryPolicy, Sender, sign_headers
from purplecross_desktop.database.base import StaffId, utcnow
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.errors import PermissionDenied, ValidationError
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.domain.webhooks import ENDPOINT, MESSAGE, new_secret
from tests.jobs.conftest import Harness, wait_until
from tests.jobs.webhook_fixtures import PASSWORD, Clinic, make_clinic
from tests.jobs.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _endpoint(clinic: Clinic, receiver: Receiver, events: str = "client.*", **kw: object) -> int:
    created = clinic.endpoints.create(receiver.url, events, "the lab", allow_local_network=True)
    receiver.secrets.append(created.secret)
    return created.endpoint.id


def _new_clients(clinic: Clinic, n: int) -> None:
    for i in range(n):
        clinic.services.clients.create(ClientData(f"Client {i}"))


def _states(clinic: Clinic) -> dict[str, int]:
    return clinic.delivery.counts()


# Signatures ------------------------------------------------------------------------------
def test_the_signature_is_the_specs_hmac_of_id_timestamp_and_body() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123").decode()
    headers = sign_headers("msg_1", 1_700_000_000, '{"a":1}', [secret])
    expected = hmac.new(b"0123456789abcdef0123", b'msg_1.1700000000.{"a":1}', hashlib.sha256)
    assert headers == {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": "v1," + base64.b64encode(expected.digest()).decode(),
    }


def test_an_event_arrives_signed_and_verifies_with_the_reference_library(
    any_db_harness: Harness, receiver: Receiver
) -> None:
    clinic = make_clinic(any_db_harness)
    any_db_harness.runner(clinic.platform)
    _endpoint(clinic, receiver)
    clinic.services.clients.create(ClientData("Ada Lovelace", email="ada@example.org"))
    clinic.dispatch()
    [request] = wait_until(receiver.received)
    assert request.verified, request.error
    body = json.loads(request.body)
    assert body["type"] == "client.created"
    assert set(body["data"]) == {"id"}  # the name stays in the clinic (catalogue)
    assert "Ada" not in request.body.decode()
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 10
    wait_until(lambda: _states(clinic) == {"succeeded": 1})
    [attempt] = clinic.endpoints.attempts()
    assert (attempt.status_code, attempt.succeeded, attempt.attempt) == (200, True, 1)
    assert attempt.msg_id == request.msg_id


def test_a_tampered_body_or_an_old_timestamp_fails_at_the_receiver(
    harness: Harness, receiver: Receiver
) -> None:
    clinic = make_clinic(harness)
    endpoint = _endpoint(clinic, receiver)
    result = clinic.delivery.send_test(endpoint)
    assert result.outcome.status_code == 200
    [request] = receiver.received()
    assert request.verified
    webhook = Webhook(receiver.secrets[0])
    tampered = request.body.replace(b"test", b"tEst")
    with pytest.raises(WebhookVerificationError, match="signature"):
        webhook.verify(tampered, request.headers)
    old = int(time.time()) - 6 * 60
    replayed = sign_headers(request.msg_id, old, request.body.decode(), receiver.secrets)
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhook.verify(request.body, replayed)


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(
    harness: Harness, receiver: Receiver
) -> None:
    now = [utcnow()]
    clinic = make_clinic(harness, clock=lambda: now[0])
    endpoint = _endpoint(clinic, receiver)
    old_secret = receiver.secrets[0]
    new = clinic.endpoints.rotate_secret(endpoint)
    clinic.delivery.send_test(endpoint)
    headers = receiver.received()[-1].headers
    assert len(headers["webhook-signature"].split(" ")) == 2
    body = receiver.received()[-1].body
    Webhook(old_secret).verify(body, headers)  # a receiver not yet updated
    Webhook(new).verify(body, headers)  # one already updated
    now[0] += dt.timedelta(hours=25)  # past the grace period
    clinic.delivery.send_test(endpoint)
    last = receiver.received()[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(last.body, last.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(last.body, last.headers)


def test_the_secret_is_never_logged_nor_stored_in_clear(
    harness: Harness, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clinic = make_clinic(harness)
    created = clinic.endpoints.create(receiver.url, ["client.*"], allow_local_network=True)
    receiver.secrets.append(created.secret)
    assert created.secret.startswith("whsec_")
    assert created.secret not in repr(created)
    clinic.delivery.send_test(created.endpoint.id)
    rotated = clinic.endpoints.rotate_secret(created.endpoint.id)
    clinic.delivery.send_test(created.endpoint.id)
    for secret in (created.secret, rotated):
        raw = secret.removeprefix("whsec_")
        assert raw not in caplog.text
        with harness.engine.connect() as conn:
            stored = conn.execute(sa.select(ENDPOINT)).mappings().one()
        assert all(raw not in str(v) for v in stored.values())
        attempts = clinic.endpoints.attempts()
        assert all(raw not in json.dumps(a.request) for a in attempts)


# Bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "events", "description", "field", "rule"),
    [
        ("ftp://lab.example.org/hook", "client.*", "", "url", "http:// or https://"),
        ("not a url", "client.*", "", "url", "spaces"),
        ("http://lab.example.org/hook", "client.*", "", "url", "must use https://"),
        ("https://10.0.0.5/hook", "client.*", "", "url", "allow local network"),
        ("https://127.0.0.1/hook", "client.*", "", "url", "loopback"),
        ("https://localhost/hook", "client.*", "", "url", "this machine"),
        ("https://user:pw@lab.example.org/hook", "client.*", "", "url", "user name or password"),
        ("https://lab.example.org/hook", "client.eaten", "", "events", "not an event type"),
        ("https://lab.example.org/hook", "spaceship.*", "", "events", "no event types"),
        ("https://lab.example.org/hook", [], "", "events", "at least one"),
        ("https://lab.example.org/hook", "client.*", "x" * 501, "description", "at most 500"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    harness: Harness, url: str, events: object, description: str, field: str, rule: str
) -> None:
    clinic = make_clinic(harness)
    with pytest.raises(ValidationError) as caught:
        clinic.endpoints.create(url, events, description)  # type: ignore[arg-type]
    assert field in caught.value.errors
    assert rule in str(caught.value)
    assert clinic.endpoints.endpoints() == []


def test_only_admins_may_register_or_read_endpoints(harness: Harness) -> None:
    clinic = make_clinic(harness)
    desk = clinic.services.staff.create(
        StaffData("Dee Desk", StaffRole.FRONT_DESK, "dee"), PASSWORD
    )
    with pytest.raises(PermissionDenied, match="only admin"):
        clinic.endpoints.create("https://lab.example.org/h", "client.*", actor=StaffId(desk.id))
    with pytest.raises(PermissionDenied):
        clinic.endpoints.endpoints(actor=StaffId(desk.id))
    with pytest.raises(PermissionDenied):
        clinic.delivery.send_test(1, actor=desk.id)


def test_an_address_that_turned_private_is_refused_at_send_time(harness: Harness) -> None:
    sender = Sender(total_timeout=1.0)
    outcome = sender.post(
        "https://127.0.0.1:9/hook", "{}", {"webhook-id": "msg_x"}, allow_local_network=False
    )
    assert not outcome.succeeded
    assert outcome.error is not None
    assert "loopback" in outcome.error
    sender.close()


# Retries and failures --------------------------------------------------------------------
def test_failures_are_retried_on_the_schedule_until_delivered(
    any_db_harness: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda n, msg_id: 500 if n <= 2 else 200
    clinic = make_clinic(any_db_harness)
    any_db_harness.runner(clinic.platform)
    _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()
    started = time.monotonic()
    while _states(clinic) != {"succeeded": 1}:
        clinic.delivery.pump()  # what PumpTrigger does every second
        time.sleep(0.02)
        assert time.monotonic() - started < 15
    ids = {r.msg_id for r in receiver.received()}
    assert len(ids) == 1
    assert len(receiver.received()) == 3
    assert all(r.verified for r in receiver.received())
    log = sorted(clinic.endpoints.attempts(), key=lambda a: a.attempt)
    assert [(a.attempt, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


def test_the_schedule_is_svixs_with_jitter() -> None:
    policy = DeliveryPolicy(jitter=0.1, rng=lambda: 1.0)
    assert policy.schedule == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert policy.delay_before(2) == pytest.approx(5.5)
    assert DeliveryPolicy(rng=lambda: 0.0).delay_before(3) == pytest.approx(270)
    assert policy.delay_before(9) is None


def test_410_gone_disables_the_endpoint_and_the_admins_hear_of_it(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda n, msg_id: 410
    clinic = make_clinic(harness)
    harness.runner(clinic.platform)
    endpoint = _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()
    wait_until(lambda: _states(clinic) == {"failed": 1})
    info = clinic.endpoints.get(endpoint)
    assert not info.enabled
    assert info.disabled_reason is not None
    assert "410" in info.disabled_reason
    assert [a[0] for a in clinic.alerts] == [endpoint]
    assert len(receiver.received()) == 1


def test_a_redirect_is_not_followed(harness: Harness, receiver: Receiver) -> None:
    receiver.script = lambda n, msg_id: 302
    clinic = make_clinic(harness)
    endpoint = _endpoint(clinic, receiver)
    result = clinic.delivery.send_test(endpoint)
    assert result.outcome.status_code == 302
    assert not result.outcome.succeeded
    assert result.outcome.error is not None
    assert "not followed" in result.outcome.error
    assert [r.path for r in receiver.received()] == ["/hook"]  # /moved never requested


def test_an_endpoint_failing_for_five_days_is_disabled(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.script = lambda n, msg_id: 503
    now = [utcnow()]
    clinic = make_clinic(harness, clock=lambda: now[0])
    harness.runner(clinic.platform)
    endpoint = _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()
    wait_until(lambda: clinic.endpoints.attempts())
    wait_until(lambda: _states(clinic).get("pending") == 1)
    assert clinic.endpoints.get(endpoint).enabled
    failing_since = clinic.endpoints.get(endpoint).failing_since
    assert failing_since is not None
    now[0] += dt.timedelta(days=5, minutes=1)  # the clock moves on; still failing
    clinic.delivery.pump()
    wait_until(lambda: not clinic.endpoints.get(endpoint).enabled)
    info = clinic.endpoints.get(endpoint)
    assert info.disabled_reason is not None
    assert "every attempt failed" in info.disabled_reason
    assert [a[0] for a in clinic.alerts] == [endpoint]


def test_a_success_resets_the_failure_window(harness: Harness, receiver: Receiver) -> None:
    receiver.script = lambda n, msg_id: 500 if n == 1 else 200
    clinic = make_clinic(harness)
    harness.runner(clinic.platform)
    endpoint = _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()
    wait_until(lambda: clinic.endpoints.get(endpoint).failing_since is not None)
    while _states(clinic) != {"succeeded": 1}:
        clinic.delivery.pump()
        time.sleep(0.02)
    assert clinic.endpoints.get(endpoint).failing_since is None


def test_recovery_resends_exactly_what_failed(any_db_harness: Harness, receiver: Receiver) -> None:
    failing = {"on": True}
    receiver.script = lambda n, msg_id: 500 if failing["on"] and n % 2 == 0 else 200
    clinic = make_clinic(any_db_harness, policy=DeliveryPolicy(schedule=(0,), jitter=0))
    any_db_harness.runner(clinic.platform)
    endpoint = _endpoint(clinic, receiver)
    since = utcnow() - dt.timedelta(seconds=1)
    _new_clients(clinic, 6)
    clinic.dispatch()
    wait_until(lambda: sum(_states(clinic).values()) == 6 and not _in_flight(clinic))
    failed = {m.msg_id for m in clinic.endpoints.messages(states=["failed"])}
    assert len(failed) == 3
    failing["on"] = False
    before = len(receiver.received())
    assert clinic.delivery.recover(endpoint, since) == 3
    wait_until(lambda: _states(clinic) == {"succeeded": 6})
    again = {r.msg_id for r in receiver.received()[before:]}
    assert again == failed
    triggers = {a.trigger for a in clinic.endpoints.attempts() if a.msg_id in failed}
    assert triggers == {"scheduled", "recover"}


def test_replay_sends_the_same_message_again_under_its_id(
    any_db_harness: Harness, receiver: Receiver
) -> None:
    clinic = make_clinic(any_db_harness)
    any_db_harness.runner(clinic.platform)
    _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()
    wait_until(lambda: _states(clinic) == {"succeeded": 1})
    [message] = clinic.endpoints.messages()
    clinic.delivery.replay(message.msg_id)
    wait_until(lambda: len(receiver.received()) == 2)
    first, second = receiver.received()
    assert first.msg_id == second.msg_id == message.msg_id
    assert first.body == second.body
    assert second.verified


def _in_flight(clinic: Clinic) -> bool:
    states = _states(clinic)
    return bool(states.get("queued") or states.get("sending") or states.get("pending"))


def test_a_message_whose_job_died_is_sent_again(harness: Harness, receiver: Receiver) -> None:
    clinic = make_clinic(harness)
    endpoint = _endpoint(clinic, receiver)
    _new_clients(clinic, 1)
    clinic.dispatch()  # queued, but no worker runs: now its job is lost
    assert _states(clinic) == {"queued": 1}
    with harness.engine.begin() as conn:
        conn.execute(sa.text("UPDATE job SET state = 'dead'"))
    assert clinic.delivery.repair(queued_for=0) == 1
    harness.runner(clinic.platform)
    clinic.delivery.pump([endpoint])
    wait_until(lambda: _states(clinic) == {"succeeded": 1})
    assert len(receiver.received()) == 1


def test_events_before_an_endpoint_existed_are_not_sent_and_filters_match(
    harness: Harness, receiver: Receiver
) -> None:
    clinic = make_clinic(harness)
    harness.runner(clinic.platform)
    _endpoint(clinic, receiver, "patient.created")
    _new_clients(clinic, 2)  # client.created: not in the filter
    clinic.dispatch()
    assert _states(clinic) == {}
    with harness.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(MESSAGE)).scalar() == 0
    assert new_secret() != new_secret()


def test_tls_is_verified_against_the_system_or_the_clinics_ca_file(tmp_path: Path) -> None:
    from tests.jobs.smtp_server import self_signed_context

    context, cert = self_signed_context(tmp_path)
    receiver = Receiver()
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    with receiver:
        secret = new_secret()
        receiver.secrets.append(secret)
        url = receiver.url.replace("http://", "https://")
        body = '{"data":{"id":1},"timestamp":"2026-03-01T09:15:00+00:00","type":"client.created"}'
        headers = sign_headers("msg_tls", int(time.time()), body, [secret])
        system = Sender(total_timeout=2.0)
        refused = system.post(url, body, headers, allow_local_network=True)
        system.close()
        assert not refused.succeeded
        assert refused.error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in refused.error
        clinic_ca = Sender(cert, total_timeout=2.0)
        accepted = clinic_ca.post(url, body, headers, allow_local_network=True)
        clinic_ca.close()
        assert accepted.status_code == 200
        assert [r.verified for r in receiver.received()] == [True]


def test_recovery_after_a_disabled_spell_sends_the_events_it_missed(
    harness: Harness, receiver: Receiver
) -> None:
    clinic = make_clinic(harness)
    harness.runner(clinic.platform)
    endpoint = _endpoint(clinic, receiver)
    since = utcnow() - dt.timedelta(seconds=1)
    clinic.endpoints.disable(endpoint, "lab moving")
    _new_clients(clinic, 2)  # while disabled: no message is made for it
    clinic.dispatch()
    assert _states(clinic) == {}
    clinic.endpoints.enable(endpoint)
    assert clinic.delivery.recover(endpoint, since) == 2
    wait_until(lambda: _states(clinic) == {"succeeded": 2})
    bodies = sorted(json.loads(r.body)["data"]["id"] for r in receiver.received())
    assert len(bodies) == 2
    assert all(r.verified for r in receiver.received())
    assert clinic.delivery.recover(endpoint, since) == 0  # nothing missed twice
    assert {a.trigger for a in clinic.endpoints.attempts()} == {"recover"}
