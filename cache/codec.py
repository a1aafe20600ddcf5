"""Cache values are data, not code: JSON bytes (orjson) that round-trip the types we cache.

Supported: everything JSON has, plus ``datetime``/``date``/``time``/``Decimal`` (restored
to the same type on read), ``UUID`` and enums (stored as their value), tuples and sets
(read back as lists), dataclasses and row snapshots (anything with ``_asdict()``, like a
SQLAlchemy ``Row``, or a ``Mapping``), which are read back as dicts. Nothing is pickled,
so a tampered cache entry can at worst be wrong data, never code.

Encoded values carry a one-byte header: ``J`` for plain JSON (decoded by orjson alone,
the fast path) and ``T`` when tagged objects such as ``{"__pc__": "dt", "v": ...}`` must
be turned back into dates and decimals.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

PLAIN = b"J"
TAGGED = b"T"
TAG = "__pc__"

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class _Encoder:
    """One encoding: ``default`` for orjson, remembering whether it produced a tag."""

    __slots__ = ("tagged",)

    def __init__(self) -> None:
        self.tagged = False

    def default(self, obj: Any) -> Any:
        # datetime is a subclass of date: test it first.
        if isinstance(obj, dt.datetime):
            self.tagged = True
            return {TAG: "dt", "v": obj.isoformat()}
        if isinstance(obj, dt.date):
            self.tagged = True
            return {TAG: "d", "v": obj.isoformat()}
        if isinstance(obj, dt.time):
            self.tagged = True
            return {TAG: "t", "v": obj.isoformat()}
        if isinstance(obj, Decimal):
            self.tagged = True
            return {TAG: "dec", "v": str(obj)}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        asdict = getattr(obj, "_asdict", None)
        if callable(asdict):  # SQLAlchemy Row, namedtuple: a snapshot of the columns
            snapshot = asdict()
            if isinstance(snapshot, Mapping):
                return dict(snapshot)
        if isinstance(obj, Mapping):
            return dict(obj)
        if isinstance(obj, set | frozenset):
            return list(obj)
        raise TypeError(f"type {type(obj).__name__} is not cacheable data")


def encode(value: Any) -> bytes:
    """The stored form of ``value``.

    Raises:
        TypeError: the value (or something inside it) is not data the cache can hold.
    """
    encoder = _Encoder()
    try:
        body = orjson.dumps(value, default=encoder.default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None
    return (TAGGED if encoder.tagged else PLAIN) + body


def decode(data: bytes) -> Any:
    """The value stored as ``data`` by :func:`encode`.

    Raises:
        ValueError: ``data`` is not something :func:`encode` produced.
    """
    header = data[:1]
    if header == PLAIN:
        return orjson.loads(data[1:])
    if header == TAGGED:
        return _restore(orjson.loads(data[1:]))
    raise ValueError(f"not a cache value (header {header!r})")


_RESTORE = {
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "dec": Decimal,
}


def _restore(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_restore(item) for item in obj]
    if isinstance(obj, dict):
        tag = obj.get(TAG)
        if tag is not None and len(obj) == 2 and tag in _RESTORE:
            return _RESTORE[tag](obj["v"])
        return {key: _restore(item) for key, item in obj.items()}
    return obj
