"""Values that refer to the run: ``{{ trigger.patient_id }}``, ``{{ steps.lookup.owner_email }}``.

Deliberately tiny and sandboxed: a placeholder is a dotted path into the run's context
(``trigger``, ``steps``, ``item``, ``workflow``, ``run``) and nothing else: no calls,
no attribute access on Python objects, no arithmetic, no loops. A string that is one
placeholder and nothing more keeps the referenced value's type (a number stays a
number); anywhere else the value is written as text (``None`` as the empty string).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

#: The roots a placeholder may start with.
ROOTS = frozenset({"trigger", "steps", "item", "workflow", "run", "event"})

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


class TemplateError(ValueError):
    """A placeholder that is not a plain dotted path from a known root."""


def references(text: str) -> Iterator[str]:
    """Every placeholder path in ``text``, in order.

    Raises:
        TemplateError: a placeholder is not a dotted path or starts from an unknown root.
    """
    for match in PLACEHOLDER.finditer(text):
        yield check_path(match.group(1))
    rest = PLACEHOLDER.sub("", text)
    if "{{" in rest or "}}" in rest:
        raise TemplateError("an unclosed or nested {{ … }} placeholder")


def check_path(path: str) -> str:
    """``path`` if it is a dotted path from a known root, else :class:`TemplateError`."""
    if not PATH.match(path):
        raise TemplateError(
            f"{{{{ {path} }}}} is not a dotted path such as trigger.patient_id "
            "(no expressions, calls or filters)"
        )
    root = path.split(".", 1)[0]
    if root not in ROOTS:
        raise TemplateError(f"{{{{ {path} }}}} must start with one of {', '.join(sorted(ROOTS))}")
    return path


_MISSING = object()


def lookup(context: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at dotted ``path`` in ``context`` (``default`` when any part is missing).

    Only mappings (by key) and lists (by a numeric part) are walked: never attributes.
    """
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit():
            index = int(part)
            value = value[index] if index < len(value) else _MISSING
        else:
            value = _MISSING
        if value is _MISSING:
            return default
    return value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder in its strings replaced (dicts and lists walked)."""
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, Mapping):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def render_text(text: str, context: Mapping[str, Any]) -> Any:
    """One string: a lone placeholder keeps its value's type; otherwise text."""
    if "{{" not in text:
        return text
    whole = PLACEHOLDER.fullmatch(text.strip())
    if whole is not None:
        return lookup(context, check_path(whole.group(1)))

    def replace(match: re.Match[str]) -> str:
        found = lookup(context, check_path(match.group(1)))
        return "" if found is None else str(found)

    return PLACEHOLDER.sub(replace, text)
