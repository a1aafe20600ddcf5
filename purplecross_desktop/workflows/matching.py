"""Which enabled workflows an event starts: triggers compiled once, indexed by event name.

The dispatcher asks :meth:`TriggerIndex.match` for every event; the index is rebuilt only
when a workflow changes. Exact event names are a dictionary lookup; patterns
(``appointment.*``, ``*``) are few and checked in a short list; each candidate's ``when``
is a compiled predicate (:mod:`conditions`), so an event no workflow listens to costs one
lookup (docs/benchmarks.md: 10k events x 100 workflows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from purplecross_desktop.workflows.conditions import Predicate, compile_condition
from purplecross_desktop.workflows.document import Document


@dataclass(frozen=True, slots=True)
class Matcher:
    """One enabled workflow's trigger, compiled.

    Attributes:
        workflow_id: the workflow.
        version_id: the stored version new runs start on.
        version: its number.
        name: the workflow's name.
        kind: the trigger type (``event``, ``schedule``, ``date``, ``manual``).
        pattern: the event name or pattern (event triggers).
        when: the trigger's condition, compiled (None: always).
        document: the version's document.
    """

    workflow_id: int
    version_id: int
    version: int
    name: str
    kind: str
    pattern: str
    when: Predicate | None
    document: Document

    @classmethod
    def build(cls, workflow_id: int, version_id: int, version: int, document: Document) -> Matcher:
        trigger = document.trigger
        when = compile_condition(trigger["when"]) if "when" in trigger else None
        return cls(
            workflow_id,
            version_id,
            version,
            document.name,
            str(trigger["type"]),
            str(trigger.get("event", "")),
            when,
            document,
        )


class TriggerIndex:
    """The matchers of the enabled workflows, looked up by event name."""

    def __init__(self, matchers: Iterable[Matcher] = ()) -> None:
        self.matchers = list(matchers)
        self._exact: dict[str, list[Matcher]] = {}
        self._patterns: list[tuple[str, Matcher]] = []
        for matcher in self.matchers:
            if matcher.kind != "event":
                continue
            if matcher.pattern == "*" or matcher.pattern.endswith(".*"):
                self._patterns.append((matcher.pattern.rstrip("*"), matcher))
            else:
                self._exact.setdefault(matcher.pattern, []).append(matcher)

    def candidates(self, event_name: str) -> list[Matcher]:
        """Event-triggered matchers whose event is ``event_name`` (conditions unchecked)."""
        found = self._exact.get(event_name, [])
        if self._patterns:
            found = found + [m for prefix, m in self._patterns if event_name.startswith(prefix)]
        return found

    def match(self, event_name: str, trigger: Mapping[str, Any]) -> list[Matcher]:
        """The matchers an event with ``trigger`` data starts."""
        candidates = self.candidates(event_name)
        if not candidates:
            return candidates
        context = {"trigger": trigger}
        return [m for m in candidates if m.when is None or m.when(context)]

    def of_kind(self, kind: str) -> list[Matcher]:
        return [m for m in self.matchers if m.kind == kind]
