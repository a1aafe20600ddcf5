"""Cache values are data, not code: JSON bytes (orjson) that round-trip the types we cache.

Supported: everything JSON has, plus ``datetime``/``date``/``time``/``Decimal`` and the
floats JSON lacks (NaN, infinities), restored to the same type on read, ``UUID`` and
enums (stored as their value), tuples and sets (read back as lists), dataclasses and row
snapshots (anything with ``_asdict()``, like a SQLAlchemy ``Row``, or a ``Mapping``),
which are read back as dicts. Nothing is pickled,
so a tampered cache entry can at worst be wrong data, never code.

Encoded values carry a one-byte header. ``J``: plain JSON, decoded by orjson alone.
``S``: a *shape* line, newline, then the value as JSON with its dates, times and
decimals as strings. The shape is the JSON list of groups ``[parent path, [[key, tag],
...]]`` saying which strings under one parent are really dates, times or decimals (or
the tag alone when the value is one itself). Values of one kind share their shape, so a
reader parses each shape once into a plan of converters and keeps it (a bounded table):
reading a hit costs orjson on the value plus one converter call per such string, never a
Python walk of the whole structure; the walk that finds them happens once, on store.
``T`` (``[value, groups, root]`` in one array, from earlier versions) is still read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol, cast

import orjson

PLAIN = b"J"
SHAPED = b"S"
TAGGED = b"T"  # read only: what earlier versions wrote
# Shapes come from the tier, which anyone who can write to Redis can fill: keep a few.
MAX_SHAPES = 256

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
    "f": float,  # "nan", "inf", "-inf": JSON has no such numbers (orjson writes null)
}


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


def _tag_of(obj: Any) -> str | None:
    if isinstance(obj, float):
        return None if math.isfinite(obj) else "f"
    for kind, tag in _TAGS:
        if isinstance(obj, kind):
            return tag
    return None


def _text(obj: Any, tag: str) -> str:
    if tag == "f":
        return repr(float(obj))
    return str(obj) if tag == "dec" else cast(_IsoFormat, obj).isoformat()


def _has_nonfinite(obj: Any) -> bool:
    """Whether a NaN or an infinity hides in ``obj`` (orjson would write it as null)."""
    if isinstance(obj, float):
        return not math.isfinite(obj)
    obj = _as_data(obj)
    if isinstance(obj, dict):
        return any(_has_nonfinite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_has_nonfinite(v) for v in obj)
    return False


def _prepare(obj: Any, path: tuple[str | int, ...], groups: dict[Any, list[Any]]) -> Any:
    """``obj`` with tagged values as strings; ``groups[parent path]`` lists ``[key, tag]``
    of each, so decoding walks to each parent once."""
    obj = _as_data(obj)
    items: Any
    if isinstance(obj, dict):
        out: Any = {}
        items = obj.items()
    elif isinstance(obj, list | tuple):
        out = [None] * len(obj)
        items = enumerate(obj)
    else:
        return obj
    for key, item in items:
        tag = _tag_of(item)
        if tag is None:
            out[key] = _prepare(item, (*path, key), groups)
        else:
            groups.setdefault(path, []).append([key, tag])
            out[key] = _text(item, tag)
    return out


def encode(value: Any) -> bytes:
    """The stored form of ``value``.

    Raises:
        TypeError: the value (or something inside it) is not data the cache can hold.
    """
    try:
        try:
            data = PLAIN + orjson.dumps(value, default=_plain_default, option=_OPTIONS)
        except orjson.JSONEncodeError as exc:
            if not isinstance(exc.__cause__, _NeedsTagsError):
                raise
        else:
            # orjson writes NaN and infinities as null; only a null can hide one.
            if b"null" not in data or not _has_nonfinite(value):
                return data
        root = _tag_of(value)
        shape: Any
        if root is not None:
            prepared: Any = _text(value, root)
            shape = root
        else:
            groups: dict[Any, list[Any]] = {}
            prepared = _prepare(value, (), groups)
            shape = [[list(p), items] for p, items in groups.items()]
        # orjson never writes a raw newline (not even inside a string): a safe separator.
        return b"%b%b\n%b" % (
            SHAPED,
            orjson.dumps(shape),
            orjson.dumps(prepared, default=_plain_default, option=_OPTIONS),
        )
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None


_plans: dict[bytes, Any] = {}


def _plan(shape: bytes) -> Any:
    """The converters for ``shape``: a callable for a tagged root, else a tuple of
    ``(parent path, ((key, converter), ...))``. Raises KeyError/TypeError/ValueError on a
    shape we did not write."""
    plan = _plans.get(shape)
    if plan is not None:
        return plan
    parsed = orjson.loads(shape)
    if isinstance(parsed, str):
        plan = _RESTORE[parsed]
    else:
        plan = tuple(
            (tuple(path), tuple((key, _RESTORE[tag]) for key, tag in items))
            for path, items in parsed
        )
    if len(_plans) >= MAX_SHAPES:
        _plans.clear()  # rare: an app caches a few dozen kinds of value
    _plans[shape] = plan
    return plan


def decode(data: bytes) -> Any:
    """The value stored as ``data`` by :func:`encode`.

    Raises:
        ValueError: ``data`` is not something :func:`encode` produced.
    """
    header = data[:1]
    if header == PLAIN:
        return orjson.loads(data[1:])
    if header == SHAPED:
        shape, newline, body = data[1:].partition(b"\n")
        try:
            if not newline:
                raise ValueError("no shape line")
            plan = _plan(shape)
            value = orjson.loads(body)
            if callable(plan):
                return plan(value)
            for path, converters in plan:
                parent = value
                for step in path:
                    parent = parent[step]
                for key, convert in converters:
                    parent[key] = convert(parent[key])
        except (KeyError, IndexError, TypeError, ArithmeticError) as exc:
            raise ValueError(f"not a cache value ({exc!r})") from None
        return value
    if header != TAGGED:
        raise ValueError(f"not a cache value (header {header!r})")
    try:
        value, groups, root = orjson.loads(data[1:])
        if root is not None:
            return _RESTORE[root](value)
        restore = _RESTORE
        for path, items in groups:
            parent = value
            for step in path:
                parent = parent[step]
            for key, tag in items:
                parent[key] = restore[tag](parent[key])
    except (KeyError, IndexError, TypeError, ArithmeticError) as exc:
        # ArithmeticError: decimal.InvalidOperation from a corrupt "dec" value.
        raise ValueError(f"not a cache value ({exc!r})") from None
    return value
