"""Workflows: trigger matching of 10k events against 100 enabled workflows.

The engine's path (``TriggerIndex.match``: the candidates of the event's name, then each
candidate's compiled ``when``) against a bare Python loop doing the same comparisons on
conditions precompiled to ``(event name, [(key, operator function, value)])`` tuples,
over the same events, in interleaved rounds (median of 7). Both must find the same
matches. The budget (DESIGN.md) is ≤ 2x the bare loop.
"""

from __future__ import annotations

import operator
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.matching import Matcher, TriggerIndex

EVENTS = 10_000
WORKFLOWS = 100
ROUNDS = 7
BUDGET = 2.0
STATUSES = ("scheduled", "confirmed", "arrived", "completed", "no_show", "cancelled", "open")


#: Events that carry a status and a client (appointments, invoices, reminders).
NAMES = [n for n, keys in catalogue.EVENTS.items() if {"status", "client_id"} <= set(keys)]


def _workflows(rng: random.Random) -> list[tuple[str, str, str, int]]:
    """(event, status wanted, op on client_id, threshold) per workflow."""
    names = NAMES
    return [
        (rng.choice(names), rng.choice(STATUSES), rng.choice(("gt", "lte")), rng.randrange(1000))
        for _ in range(WORKFLOWS)
    ]


def _documents(specs: list[tuple[str, str, str, int]]) -> list[Document]:
    out = []
    for n, (event, status, op, threshold) in enumerate(specs):
        out.append(
            Document.from_data(
                {
                    "name": f"Flow {n}",
                    "trigger": {
                        "type": "event",
                        "event": event,
                        "when": {
                            "all": [
                                {"field": "trigger.status", "op": "eq", "value": status},
                                {"field": "trigger.client_id", "op": op, "value": threshold},
                            ]
                        },
                    },
                    "steps": [{"id": "done", "action": "stop"}],
                    "settings": {"enabled": True},
                }
            )
        )
    return out


def _events(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    names = list(catalogue.EVENTS)  # every event the clinic emits, most with no workflow
    return [
        (
            rng.choice(names),
            {"status": rng.choice(STATUSES), "client_id": rng.randrange(1000), "patient_id": 7},
        )
        for _ in range(EVENTS)
    ]


def main() -> int:
    rng = random.Random(14)
    specs = _workflows(rng)
    index = TriggerIndex(
        Matcher.build(n, n, 1, document) for n, document in enumerate(_documents(specs))
    )
    events = _events(rng)
    ops: dict[str, Callable[[Any, Any], bool]] = {"gt": operator.gt, "lte": operator.le}
    bare_conditions = [
        (event, [("status", operator.eq, status), ("client_id", ops[op], threshold)])
        for event, status, op, threshold in specs
    ]

    def engine() -> int:
        hits = 0
        for name, data in events:
            hits += len(index.match(name, data))
        return hits

    def bare() -> int:
        hits = 0
        for name, data in events:
            for wanted, conditions in bare_conditions:
                if wanted == name and all(fn(data.get(k), v) for k, fn, v in conditions):
                    hits += 1
        return hits

    def bare_indexed() -> int:
        by_name: dict[str, list[Any]] = {}
        for wanted, conditions in bare_conditions:
            by_name.setdefault(wanted, []).append(conditions)
        hits = 0
        for name, data in events:
            for conditions in by_name.get(name, ()):
                if all(fn(data.get(k), v) for k, fn, v in conditions):
                    hits += 1
        return hits

    assert engine() == bare() == bare_indexed(), "the engine and the bare loop disagree"
    timings: dict[str, list[float]] = {"engine": [], "bare": [], "bare_indexed": []}
    for _ in range(ROUNDS):
        for label, fn in (("engine", engine), ("bare", bare), ("bare_indexed", bare_indexed)):
            start = time.perf_counter()
            fn()
            timings[label].append(time.perf_counter() - start)
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    ratio, ratio_indexed = med["engine"] / med["bare"], med["engine"] / med["bare_indexed"]
    print(f"matches found: {engine()} of {EVENTS} events x {WORKFLOWS} workflows")
    print(f"engine (TriggerIndex.match)          {med['engine']:8.1f} ms")
    print(
        f"bare loop, precompiled conditions    {med['bare']:8.1f} ms   "
        f"ratio {ratio:.2f}x (budget ≤ {BUDGET}x)"
    )
    print(
        f"bare loop, also indexed by name      {med['bare_indexed']:8.1f} ms   "
        f"ratio {ratio_indexed:.2f}x"
    )
    return 0 if med["engine"] <= BUDGET * med["bare"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
