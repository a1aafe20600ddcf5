"""Conditions as data: ``all``/``any``/``not`` groups of ``field, op, value`` tests, never ``eval``.

A condition is checked once (:func:`check_condition` lists every problem with its path)
and compiled once (:func:`compile_condition`) into plain closures, so matching an event
against many workflows costs a few Python calls per test. ``value`` may be a literal or a
``{{ … }}`` placeholder read from the run's context when the condition is evaluated.

Operators by kind of value:

- any value: ``eq``, ``ne``, ``in``, ``not_in``, ``is_empty``, ``is_not_empty``
- numbers: ``gt``, ``gte``, ``lt``, ``lte`` (numeric text such as ``"12.50"`` is read
  as a number)
- text: ``contains``, ``not_contains``, ``starts_with``, ``ends_with`` (case-insensitive)
- dates and times (ISO text): ``before``, ``after``, ``on_or_before``, ``on_or_after``
- lists: ``contains``, ``not_contains`` (membership), ``is_empty``
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from purplecross_desktop.workflows.templating import TemplateError, check_path, lookup, render

Context = Mapping[str, Any]
Predicate = Callable[[Context], bool]

UNARY = frozenset({"is_empty", "is_not_empty"})
OPERATORS = frozenset(
    {
        "eq",
        "ne",
        "in",
        "not_in",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "before",
        "after",
        "on_or_before",
        "on_or_after",
    }
    | UNARY
)
GROUPS = ("all", "any", "not")


def check_condition(cond: Any, where: str = "condition") -> list[tuple[str, str]]:
    """Every problem of ``cond`` as ``(field path, rule)``; empty when it is well formed."""
    problems: list[tuple[str, str]] = []
    if not isinstance(cond, Mapping):
        return [(where, "must be an object with all, any, not, or field/op/value")]
    groups = [g for g in GROUPS if g in cond]
    if groups:
        if len(cond) != 1:
            return [(where, f"a group has exactly one key ({' or '.join(GROUPS)})")]
        group = groups[0]
        inner = cond[group]
        if group == "not":
            return check_condition(inner, f"{where}.not")
        if not isinstance(inner, list) or not inner:
            return [(f"{where}.{group}", "must be a non-empty list of conditions")]
        for i, each in enumerate(inner):
            problems += check_condition(each, f"{where}.{group}[{i}]")
        return problems
    unknown = sorted(set(cond) - {"field", "op", "value"})
    if unknown:
        problems.append((where, f"unknown key(s) {', '.join(unknown)}"))
    field = cond.get("field")
    if not isinstance(field, str) or not field:
        problems.append((f"{where}.field", "must be a dotted path such as trigger.status"))
    else:
        try:
            check_path(field.removeprefix("{{").removesuffix("}}").strip())
        except TemplateError as exc:
            problems.append((f"{where}.field", str(exc)))
    op = cond.get("op")
    if op not in OPERATORS:
        problems.append((f"{where}.op", f"must be one of {', '.join(sorted(OPERATORS))}"))
    elif op in UNARY:
        if "value" in cond:
            problems.append((f"{where}.value", f"must be absent for {op}"))
    elif "value" not in cond:
        problems.append((f"{where}.value", f"is required for {op}"))
    elif op in ("in", "not_in") and not isinstance(cond["value"], list | str):
        problems.append((f"{where}.value", f"must be a list for {op}"))
    return problems


def compile_condition(cond: Mapping[str, Any]) -> Predicate:
    """A predicate over a run context; ``cond`` must pass :func:`check_condition`.

    Compiled for the dispatcher's hot path: paths are split once, literal values are
    prepared once (case-folded text, numbers), and the common cases (text equality, a
    number against a number) skip the general conversions.
    """
    if "all" in cond or "any" in cond:
        is_all = "all" in cond
        parts = tuple(compile_condition(c) for c in cond["all" if is_all else "any"])
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            first, second = parts
            if is_all:
                return lambda ctx: first(ctx) and second(ctx)
            return lambda ctx: first(ctx) or second(ctx)

        def group(ctx: Context) -> bool:
            for part in parts:
                if bool(part(ctx)) is not is_all:
                    return not is_all
            return is_all

        return group
    if "not" in cond:
        inner = compile_condition(cond["not"])
        return lambda ctx: not inner(ctx)
    path = str(cond["field"]).removeprefix("{{").removesuffix("}}").strip()
    read = _reader(path)
    op = cond["op"]
    test = _TESTS[op]
    raw = cond.get("value")
    if _has_placeholder(raw):

        def dynamic(ctx: Context) -> bool:
            return test(read(ctx), render(raw, ctx))

        return dynamic
    fast = _fast_test(op, raw)
    if fast is not None:
        return lambda ctx: fast(read(ctx))
    return lambda ctx: test(read(ctx), raw)


def _reader(path: str) -> Callable[[Context], Any]:
    """A function reading ``path`` from a context (see :func:`templating.lookup`)."""
    parts = tuple(path.split("."))
    if len(parts) == 2 and not any(p.isdigit() for p in parts):
        outer, key = parts

        def read_two(ctx: Context) -> Any:
            inner = ctx.get(outer)
            return inner.get(key) if isinstance(inner, Mapping) else None

        return read_two
    return lambda ctx: lookup(ctx, path)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda x, y: x > y,
    "gte": lambda x, y: x >= y,
    "lt": lambda x, y: x < y,
    "lte": lambda x, y: x <= y,
}


def _fast_test(op: str, expected: Any) -> Callable[[Any], bool] | None:
    """A one-argument test with the literal ``expected`` prepared, for the common ops."""
    if op == "eq" and isinstance(expected, str):
        folded = expected.casefold()
        general = _TESTS["eq"]

        def eq_text(actual: Any) -> bool:
            if isinstance(actual, str):
                return actual == expected or actual.casefold() == folded
            return bool(general(actual, expected))

        return eq_text
    if op in _ORDER and type(expected) in (int, float):
        compare = _ORDER[op]
        general = _TESTS[op]

        def order(actual: Any) -> bool:
            if type(actual) in (int, float):
                return bool(compare(actual, expected))
            return bool(general(actual, expected))

        return order
    return None


def evaluate(cond: Mapping[str, Any] | None, context: Context) -> bool:
    """Compile and evaluate once (None is true)."""
    return True if cond is None else compile_condition(cond)(context)


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return False


# --- the tests -------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict | tuple) and len(value) == 0)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    x, y = _number(a), _number(b)  # 5 equals "5" and "5.0"
    return x is not None and y is not None and x == y


def _compare(op: Callable[[Any, Any], bool], kind: Callable[[Any], Any]) -> Callable[..., bool]:
    def test(actual: Any, expected: Any) -> bool:
        x, y = kind(actual), kind(expected)
        return x is not None and y is not None and op(x, y)

    return test


def _members(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")]
    return [value]


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return any(_same(item, expected) for item in actual)
    if isinstance(actual, str) and expected is not None:
        return str(expected).casefold() in actual.casefold()
    return False


def _text(op: Callable[[str, str], bool]) -> Callable[..., bool]:
    def test(actual: Any, expected: Any) -> bool:
        if not isinstance(actual, str) or expected is None:
            return False
        return op(actual.casefold(), str(expected).casefold())

    return test


_TESTS: dict[str, Callable[..., bool]] = {
    "eq": _same,
    "ne": lambda a, b: not _same(a, b),
    "in": lambda a, b: any(_same(a, m) for m in _members(b)),
    "not_in": lambda a, b: not any(_same(a, m) for m in _members(b)),
    "gt": _compare(lambda x, y: x > y, _number),
    "gte": _compare(lambda x, y: x >= y, _number),
    "lt": _compare(lambda x, y: x < y, _number),
    "lte": _compare(lambda x, y: x <= y, _number),
    "contains": _contains,
    "not_contains": lambda a, b: not _contains(a, b),
    "starts_with": _text(str.startswith),
    "ends_with": _text(str.endswith),
    "before": _compare(lambda x, y: x < y, _moment),
    "after": _compare(lambda x, y: x > y, _moment),
    "on_or_before": _compare(lambda x, y: x <= y, _moment),
    "on_or_after": _compare(lambda x, y: x >= y, _moment),
    "is_empty": lambda a, _b: _empty(a),
    "is_not_empty": lambda a, _b: not _empty(a),
}
