"""Cache values are data, not code: JSON bytes (orjson) that round-trip the types we cache.

Supported: everything JSON has, plus ``datetime``/``date``/``time``/``Decimal`` (restored
to the same type on read), ``UUID`` and enums (stored as their value), tuples and sets
(read back as lists), dataclasses and row snapshots (anything with ``_asdict()``, like a
SQLAlchemy ``Row``, or a ``Mapping``), which are read back as dicts. Nothing is pickled,
so a tampered cache entry can at worst be wrong data, never code.

Encoded values carry a one-byte header. ``J``: plain JSON, decoded by orjson alone.
``T``: the JSON array ``[value, fixes]`` where each fix ``[tag, path]`` says which
string in ``value`` is really a date, time or decimal. Reading a hit therefore costs
orjson plus one step per such value, never a Python walk of the whole structure; the
walk that finds them happens once, when the value is stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, cast

import orjson

PLAIN = b"J"
TAGGED = b"T"

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_TAGS: tuple[tuple[type, str], ...] = (
    (dt.datetime, "dt"),  # before date: a datetime is a date
    (dt.date, "d"),
    (dt.time, "t"),
    (Decimal, "dec"),
)
_RESTORE: dict[str, Any] = {
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "dec": Decimal,
}
Path = list[str | int]


class _IsoFormat(Protocol):
    def isoformat(self) -> str: ...


class _NeedsTagsError(Exception):
    """Raised out of orjson when the value holds a type that needs a fix on decode."""


def _as_data(obj: Any) -> Any:
    """Dataclasses, rows and mappings as dicts; sets as lists; anything else unchanged."""
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
    return obj


def _plain_default(obj: Any) -> Any:
    if isinstance(obj, dt.date | dt.time | Decimal):
        raise _NeedsTagsError
    converted = _as_data(obj)
    if converted is obj:
        raise TypeError(f"type {type(obj).__name__} is not cacheable data")
    return converted


def _prepare(obj: Any, path: Path, fixes: list[list[Any]]) -> Any:
    """``obj`` with tagged types as strings, recording where they were in ``fixes``."""
    for kind, tag in _TAGS:
        if isinstance(obj, kind):
            fixes.append([tag, path])
            return str(obj) if tag == "dec" else cast(_IsoFormat, obj).isoformat()
    obj = _as_data(obj)
    if isinstance(obj, dict):
        return {key: _prepare(item, [*path, key], fixes) for key, item in obj.items()}
    if isinstance(obj, list | tuple):
        return [_prepare(item, [*path, i], fixes) for i, item in enumerate(obj)]
    return obj


def encode(value: Any) -> bytes:
    """The stored form of ``value``.

    Raises:
        TypeError: the value (or something inside it) is not data the cache can hold.
    """
    try:
        try:
            return PLAIN + orjson.dumps(value, default=_plain_default, option=_OPTIONS)
        except orjson.JSONEncodeError as exc:
            if not isinstance(exc.__cause__, _NeedsTagsError):
                raise
        fixes: list[list[Any]] = []
        prepared = _prepare(value, [], fixes)
        return TAGGED + orjson.dumps([prepared, fixes], default=_plain_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None


def decode(data: bytes) -> Any:
    """The value stored as ``data`` by :func:`encode`.

    Raises:
        ValueError: ``data`` is not something :func:`encode` produced.
    """
    header = data[:1]
    if header == PLAIN:
        return orjson.loads(data[1:])
    if header != TAGGED:
        raise ValueError(f"not a cache value (header {header!r})")
    try:
        value, fixes = orjson.loads(data[1:])
        for tag, path in fixes:
            if not path:
                return _RESTORE[tag](value)
            parent = value
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = _RESTORE[tag](parent[path[-1]])
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"not a cache value ({exc!r})") from None
    return value
