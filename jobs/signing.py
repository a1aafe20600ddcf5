"""Signed JSON payloads for Huey: HMAC-SHA256 per queue; a tampered message is never decoded.

Huey pickles by default; here every message is JSON (so nothing executable crosses
the broker) and carries an HMAC over the queue name and the body. A payload whose
signature does not match raises :class:`TamperedPayloadError` before a single byte of it
is interpreted, and the ``on_refused`` callback records it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from huey.registry import Message
from huey.serializer import Serializer

log = logging.getLogger(__name__)

PREFIX = b"pc1:"
KEY_FILE_NAME = "job_signing.key"


class TamperedPayloadError(Exception):
    """A message whose signature does not match its body; it was refused, not run.

    Attributes:
        queue: the queue it was read from.
        digest: SHA-256 of the raw payload, to find it in logs.
        claimed_job_id: the job id the unverified body claims (untrusted, for the record).
    """

    def __init__(self, queue: str, digest: str, claimed_job_id: str | None, reason: str) -> None:
        super().__init__(f"refused a payload on queue {queue!r}: {reason} (sha256 {digest[:16]})")
        self.queue = queue
        self.digest = digest
        self.claimed_job_id = claimed_job_id
        self.reason = reason


RefusedCallback = Callable[[TamperedPayloadError], None]


def load_or_create_key(secret: str | None, data_dir: Path) -> bytes:
    """The signing key: ``secret`` when given, else a per-data-dir key file (0600).

    The composition root passes ``get_secret("job_signing_key")``; every process
    sharing a broker must share the key, so with Redis that secret is required
    (``JobsConfig.from_settings`` refuses to start without it), while a workstation on
    its own SQLite queue gets a key generated once in its own data dir.
    """
    if secret:
        return secret.encode("utf-8")
    path = data_dir / KEY_FILE_NAME
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    try:
        # link() fails if another process won the race; then use its key.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


# JSON with tags for the few non-JSON types Huey puts in messages -------------------
def _encode(value: Any) -> Any:
    if isinstance(value, Message):
        return {"$msg": [_encode(v) for v in value]}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"job data must be JSON-friendly; got {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$msg":
                return Message(*[_decode(v) for v in inner])
            if tag == "$dt":
                return dt.datetime.fromisoformat(inner)
            if tag == "$tuple":
                return tuple(_decode(v) for v in inner)
        return {k: _decode(v) for k, v in value.items()}
    return value


_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _encode_message(message: Message) -> dict[str, Any]:
    # The fast path for task messages: only Huey's own fields get tags; the job's
    # args and kwargs go to orjson as they are and must be plain JSON.
    fields: list[Any] = []
    for value in message:
        if isinstance(value, dt.datetime):
            fields.append({"$dt": value.isoformat()})
        elif isinstance(value, Message):
            fields.append(_encode_message(value))
        elif isinstance(value, tuple):
            fields.append({"$tuple": list(value)})
        else:
            fields.append(value)
    return {"$msg": fields}


def dumps(value: Any) -> bytes:
    """Tagged JSON bytes of a Huey message or stored value.

    Raises:
        TypeError: the value holds something that is not plain JSON (dates included:
            pass them as ISO text).
    """
    try:
        if isinstance(value, Message):
            return orjson.dumps(_encode_message(value), option=_STRICT)
        return orjson.dumps(_encode(value), option=_STRICT)
    except orjson.JSONEncodeError as exc:
        raise TypeError(f"job data must be JSON-friendly: {exc}") from None


def _decode_message(fields: list[Any]) -> Message:
    # Mirrors _encode_message: only Huey's fields carry tags; args stay as they are.
    out: list[Any] = []
    for value in fields:
        if isinstance(value, dict) and len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$dt":
                value = dt.datetime.fromisoformat(inner)
            elif tag == "$tuple":
                value = tuple(inner)
            elif tag == "$msg":
                value = _decode_message(inner)
        out.append(value)
    return Message(*out)


def loads(data: bytes) -> Any:
    """The value of :func:`dumps` bytes."""
    value = orjson.loads(data)
    if isinstance(value, dict) and len(value) == 1 and "$msg" in value:
        return _decode_message(value["$msg"])
    return _decode(value)


class SignedJsonSerializer(Serializer):  # type: ignore[misc]
    """Huey serializer: tagged JSON, signed with HMAC-SHA256 under a per-queue key.

    Args:
        key: the shared signing key.
        queue: the queue name, mixed into the key so a message cannot move queues.
        on_refused: called with the :class:`TamperedPayloadError` before it is raised.
    """

    def __init__(self, key: bytes, queue: str, on_refused: RefusedCallback | None = None) -> None:
        super().__init__()
        self.queue = queue
        self._key = hmac.new(key, b"purplecross-jobs:" + queue.encode(), hashlib.sha256).digest()
        self.on_refused = on_refused

    def sign(self, body: bytes) -> bytes:
        """``pc1:<hex signature>:<body>``."""
        signature = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode("ascii")
        return PREFIX + signature + b":" + body

    def serialize(self, data: Any) -> bytes:
        return self.sign(dumps(data))

    def deserialize(self, data: bytes) -> Any:
        raw = bytes(data)
        body = self.verify(raw)
        return loads(body)

    def verify(self, raw: bytes) -> bytes:
        """The body of a signed payload; else records and raises :class:`TamperedPayloadError`."""
        reason = ""
        body = b""
        if not raw.startswith(PREFIX) or raw.count(b":") < 2:
            reason = "no signature"
        else:
            signature, _, body = raw[len(PREFIX) :].partition(b":")
            expected = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode("ascii")
            if hmac.compare_digest(signature, expected):
                return body
            reason = "signature mismatch"
        error = TamperedPayloadError(
            self.queue, hashlib.sha256(raw).hexdigest(), _claimed_job_id(body or raw), reason
        )
        log.warning("%s", error)
        if self.on_refused is not None:
            try:
                self.on_refused(error)
            except Exception:
                log.exception("recording a refused payload failed")
        raise error


def _claimed_job_id(body: bytes) -> str | None:
    """The job id an unverified body claims, parsed as plain JSON only (never executed)."""
    try:
        value = orjson.loads(body)
        fields = value["$msg"]
        job_id = fields[0]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    return job_id if isinstance(job_id, str) and len(job_id) <= 64 else None
