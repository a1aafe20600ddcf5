"""Signed JSON payloads: round trip, tampering refused before decoding, key file fallback."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from huey.registry import Message

from jobs.signing import (
    KEY_FILE_NAME,
    SignedJsonSerializer,
    TamperedPayloadError,
    load_or_create_key,
)


def _message() -> Message:
    eta = dt.datetime(2026, 1, 2, 3, 4, 5)
    return Message(
        "job-1",
        "jobs.platform.run",
        eta,
        0,
        0,
        5,
        ("job-1", "tok", "t", [1], {}, {}),
        {},
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    )


def test_round_trip_keeps_messages_datetimes_and_tuples() -> None:
    s = SignedJsonSerializer(b"k", "email")
    message = _message()
    back = s.deserialize(s.serialize(message))
    assert isinstance(back, Message)
    assert back == message
    assert s.deserialize(s.serialize((None, True))) == (None, True)


def test_payload_is_json_not_pickle() -> None:
    data = SignedJsonSerializer(b"k", "email").serialize(_message())
    assert data.startswith(b"pc1:")
    assert b'"$msg"' in data


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace(b'"t"', b'"x"'),
        lambda d: d[:-1] + b" ",
        lambda d: d.split(b":", 2)[2],  # signature stripped
        lambda d: b"\x80\x04pickle",
    ],
)
def test_tampered_payload_is_refused_and_reported(tamper) -> None:  # type: ignore[no-untyped-def]
    refused: list[TamperedPayloadError] = []
    s = SignedJsonSerializer(b"k", "email", on_refused=refused.append)
    with pytest.raises(TamperedPayloadError):
        s.deserialize(tamper(s.serialize(_message())))
    assert len(refused) == 1
    assert refused[0].queue == "email"
    assert len(refused[0].digest) == 64


def test_signature_is_bound_to_the_queue_and_the_key() -> None:
    data = SignedJsonSerializer(b"k", "email").serialize(_message())
    with pytest.raises(TamperedPayloadError):
        SignedJsonSerializer(b"k", "reports").deserialize(data)
    with pytest.raises(TamperedPayloadError):
        SignedJsonSerializer(b"other", "email").deserialize(data)


def test_claimed_job_id_is_read_for_the_record_only() -> None:
    refused: list[TamperedPayloadError] = []
    s = SignedJsonSerializer(b"k", "email", on_refused=refused.append)
    with pytest.raises(TamperedPayloadError):
        s.deserialize(s.serialize(_message()).replace(b'"t"', b'"x"'))
    assert refused[0].claimed_job_id == "job-1"


def test_non_json_values_are_refused_at_serialize() -> None:
    with pytest.raises(TypeError, match="JSON-friendly"):
        SignedJsonSerializer(b"k", "email").serialize({"x": object()})


def test_secret_wins_over_the_key_file(tmp_path: Path) -> None:
    assert load_or_create_key("s3cret", tmp_path) == b"s3cret"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_key_file_is_created_once_with_0600(tmp_path: Path) -> None:
    first = load_or_create_key(None, tmp_path / "data")
    second = load_or_create_key(None, tmp_path / "data")
    assert first == second
    assert len(first) == 32
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / KEY_FILE_NAME).st_mode)
    assert mode == 0o600


def test_redis_without_a_signing_secret_is_refused_naming_the_secret(tmp_path: Path) -> None:
    from jobs.platform import JobsConfig, JobsConfigError
    from purplecross_desktop.settings import Settings

    shared = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
    with pytest.raises(JobsConfigError, match="job_signing_key") as info:
        JobsConfig.from_settings(shared, None)
    assert "PURPLECROSS_JOB_SIGNING_KEY" in str(info.value)
    assert not (tmp_path / KEY_FILE_NAME).exists()  # no private key that others won't know
    assert JobsConfig.from_settings(shared, "s3cret").signing_key == b"s3cret"
    # A single machine on its own SQLite queue still gets a generated key file.
    alone = Settings(data_dir=tmp_path)
    assert len(JobsConfig.from_settings(alone, None).signing_key) == 32
    assert (tmp_path / KEY_FILE_NAME).exists()
