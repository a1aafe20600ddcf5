"""The builder's one model: the workflow document as plain data, edited through undoable commands.

The canvas, the outline and the properties panel are views of this model; every edit is
a snapshot command on a ``QUndoStack`` (undo gives back the document exactly), and the
document itself is what is imported and exported, so the canvas can never hold anything
the file does not.

A *connection* (drawn on the canvas by dragging from a node's port onto another node,
or chosen from "Connect to…") moves the target step, with its own blocks, to run right
after the source's port: ``next`` (after the step, or first for the trigger), or first
in a branch's ``then``/``else`` or a loop's ``steps``. The flow only runs forward, so a
connection onto a step that already runs before the source (a cycle), onto the trigger
or onto the step itself is refused with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from purplecross_desktop.domain.webhooks import EndpointInfo
from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Problem, validate

Data = dict[str, Any]
BLOCKS = ("then", "else", "steps")
#: An edge of the flow: (source step id, "" for the trigger; its port; target step id).
Edge = tuple[str, str, str]


class ConnectionRefused(ValueError):  # noqa: N818 (reads as a sentence)
    """A connection the document cannot take; ``str()`` says why, for the builder."""


class _Snapshot(QUndoCommand):
    def __init__(self, model: BuilderDocument, before: Data, after: Data, text: str) -> None:
        super().__init__(text)
        self._model = model
        self._before = before
        self._after = after

    def redo(self) -> None:
        self._model._set(self._after)

    def undo(self) -> None:
        self._model._set(self._before)


class BuilderDocument(QObject):
    """A workflow document being edited.

    Signals:
        sig_document_changed(): the data changed (an edit, undo or redo, a load), or what
            it is checked against did (the registered webhook endpoints).
    """

    sig_document_changed = Signal()

    def __init__(self, data: Data | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._data: Data = copy.deepcopy(data) if data else _blank()
        self._endpoints: dict[int, EndpointInfo] | None = None
        self.endpoints_note = "The webhook endpoints are not loaded yet."

    # The document -------------------------------------------------------------------
    @property
    def data(self) -> Data:
        """A copy of the document as it stands."""
        return copy.deepcopy(self._data)

    def load(self, data: Data) -> None:
        """Replace the document (a new undo history starts)."""
        self.undo_stack.clear()
        self._set(copy.deepcopy(data))

    def problems(self) -> list[Problem]:
        """The document's problems, then its http_request steps' missing or disabled endpoints
        (checked only once the endpoints are known: see :meth:`set_endpoints`)."""
        return validate(self._data) + self._endpoint_problems()

    # Webhook endpoints (what http_request steps may name) ------------------------------
    def set_endpoints(self, endpoints: Sequence[EndpointInfo] | None, note: str = "") -> None:
        """The registered webhook endpoints (None: they cannot be listed; ``note`` says why)."""
        new = None if endpoints is None else {e.id: e for e in endpoints}
        if _shown(new) == _shown(self._endpoints) and note == self.endpoints_note:
            return  # a refresh that changes nothing must not rebuild the fields being edited
        self._endpoints = new
        self.endpoints_note = note
        self.sig_document_changed.emit()

    def endpoints(self) -> list[EndpointInfo] | None:
        """The registered endpoints, oldest first (None when they could not be listed)."""
        return None if self._endpoints is None else list(self._endpoints.values())

    def _endpoint_problems(self) -> list[Problem]:
        if self._endpoints is None:
            return []
        out: list[Problem] = []
        for step in self.steps():
            given = step.get("with")
            if step.get("action") != "http_request" or not isinstance(given, dict):
                continue
            value = given.get("endpoint_id")
            if isinstance(value, bool) or not isinstance(value, int):
                continue  # absent, a placeholder or mistyped: validate() says so
            endpoint = self._endpoints.get(value)
            where = f"step {step.get('id')!r}"
            if endpoint is None:
                out.append(
                    Problem(
                        where,
                        "with.endpoint_id",
                        f"webhook endpoint {value} is not registered (any more): pick another",
                    )
                )
            elif not endpoint.enabled:
                out.append(
                    Problem(
                        where,
                        "with.endpoint_id",
                        f"webhook endpoint {value} ({endpoint.url}) is disabled: enable it in "
                        "Settings → Integrations → Webhooks, or pick another",
                    )
                )
        return out

    def steps(self) -> Iterator[Data]:
        """Every step, depth-first in document order."""

        def walk(steps: list[Data]) -> Iterator[Data]:
            for step in steps:
                yield step
                for key in BLOCKS:
                    yield from walk(step.get(key) or [])

        yield from walk(self._data.get("steps") or [])

    def step(self, step_id: str) -> Data | None:
        return next((copy.deepcopy(s) for s in self.steps() if s.get("id") == step_id), None)

    def step_ids(self) -> list[str]:
        return [str(s.get("id")) for s in self.steps()]

    def earlier_outputs(self, step_id: str | None) -> list[str]:
        """``steps.<id>.<output>`` of every step before ``step_id`` (the builder's picker)."""
        out: list[str] = []
        for step in self.steps():
            if step.get("id") == step_id:
                break
            spec = catalogue.ACTIONS.get(str(step.get("action")))
            out += [f"steps.{step['id']}.{name}" for name in (spec.outputs if spec else ())]
        return out

    # Edits ---------------------------------------------------------------------------
    def edit(self, text: str, change: Any) -> None:
        """Apply ``change(data)`` to a copy and push it as one undoable step."""
        before = copy.deepcopy(self._data)
        after = copy.deepcopy(self._data)
        change(after)
        if after != before:
            self.undo_stack.push(_Snapshot(self, before, after, text))

    def set_field(self, path: tuple[Any, ...], value: Any, text: str = "Edit") -> None:
        """Set the value at ``path`` (keys and list indexes); None removes a key."""

        def change(data: Data) -> None:
            target: Any = data
            for part in path[:-1]:
                target = target.setdefault(part, {}) if isinstance(target, dict) else target[part]
            if value is None and isinstance(target, dict):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = value

        self.edit(text, change)

    def set_step_field(self, step_id: str, key: str, value: Any) -> None:
        """Set (or with None remove) one field of a step: ``name``, ``with``, ``if``..."""

        def change(data: Data) -> None:
            step = _find(data, step_id)
            if step is None:
                return
            if value is None:
                step[1][step[2]].pop(key, None)
            else:
                step[1][step[2]][key] = value

        self.edit(f"Change {key} of {step_id}", change)

    def set_input(self, step_id: str, name: str, value: Any) -> None:
        """Set (or with None/"" remove) one input of a step's ``with``."""

        def change(data: Data) -> None:
            found = _find(data, step_id)
            if found is None:
                return
            step = found[1][found[2]]
            given = dict(step.get("with") or {})
            if value is None or value == "":
                given.pop(name, None)
            else:
                given[name] = value
            if given:
                step["with"] = given
            else:
                step.pop("with", None)

        self.edit(f"Change {name} of {step_id}", change)

    def add_step(self, action: str, after: str | None = None, into: str | None = None) -> str:
        """Add a step with a fresh id after step ``after`` (or at the end, or at the end of
        block ``into`` of a branch/loop: ``"<id>.then"``); returns the new id."""
        new_id = self._fresh_id(action)
        step: Data = {"id": new_id, "action": action}
        spec = catalogue.ACTIONS[action]
        required = {k: _example(i.kind) for k, i in spec.inputs.items() if i.required}
        if action == "wait":
            required = {"duration": {"days": 1}}
        if required:
            step["with"] = required
        if action == "branch":
            step["if"] = {"all": [{"field": "trigger.id", "op": "is_not_empty"}]}
            step["then"] = [{"id": self._fresh_id("stop", {new_id}), "action": "stop"}]
        if action == "for_each":
            step["steps"] = [{"id": self._fresh_id("stop", {new_id}), "action": "stop"}]

        def change(data: Data) -> None:
            if into:
                owner_id, _, block = into.partition(".")
                found = _find(data, owner_id)
                if found is not None:
                    found[1][found[2]].setdefault(block, []).append(step)
                    return
            found = _find(data, after) if after else None
            if found is None:
                data.setdefault("steps", []).append(step)
            else:
                found[1].insert(found[2] + 1, step)

        self.edit(f"Add {action}", change)
        return new_id

    def remove_step(self, step_id: str) -> None:
        def change(data: Data) -> None:
            found = _find(data, step_id)
            if found is not None:
                del found[1][found[2]]

        self.edit(f"Remove {step_id}", change)

    def move_step(self, step_id: str, delta: int) -> None:
        """Move a step up (-1) or down (+1) within its block."""

        def change(data: Data) -> None:
            found = _find(data, step_id)
            if found is None:
                return
            _, siblings, index = found
            target = index + delta
            if 0 <= target < len(siblings):
                siblings[index], siblings[target] = siblings[target], siblings[index]

        self.edit(f"Move {step_id}", change)

    # Connections ---------------------------------------------------------------------
    def ports(self, step_id: str) -> tuple[str, ...]:
        """The ports a connection can start from: ``next`` for every node (the trigger
        too), ``then`` and ``else`` for a branch, ``steps`` for a for_each."""
        step = _find(self._data, step_id) if step_id else None
        action = step[0].get("action") if step is not None else None
        if action == "branch":
            return ("then", "else", "next")
        if action == "for_each":
            return ("steps", "next")
        return ("next",)

    def edges(self) -> list[Edge]:
        """The flow as the canvas draws it: who runs after whom, from which port.

        A block's steps follow its port; what follows a branch follows the tails of both
        arms (and the ``else`` port when there is no else: a false condition goes on); what
        follows a loop follows its ``next`` port and the tails of its body.
        """
        out: list[Edge] = []

        def flow(steps: list[Data], previous: list[tuple[str, str]]) -> list[tuple[str, str]]:
            for step in steps:
                step_id = str(step.get("id"))
                out.extend((source, port, step_id) for source, port in previous)
                blocks = [k for k in BLOCKS if k in step]
                if not blocks:
                    previous = [(step_id, "next")]
                    continue
                branch = step.get("action") == "branch"
                tails: list[tuple[str, str]] = [] if branch else [(step_id, "next")]
                for key in blocks:
                    tails += flow(step.get(key) or [], [(step_id, key)])
                if branch and "else" not in step:
                    tails.append((step_id, "else"))
                previous = tails
            return previous

        flow(self._data.get("steps") or [], [("", "next")])
        return out

    def connection_problem(self, source: str, port: str, target: str) -> str | None:
        """Why ``target`` cannot run after ``source``'s ``port`` (None: it can)."""
        named = "the trigger" if not source else repr(source)
        if not target:
            return "The trigger starts the workflow: no step can lead into it."
        if source and _find(self._data, source) is None:
            return f"There is no step {source!r}."
        if _find(self._data, target) is None:
            return f"There is no step {target!r}."
        if port not in self.ports(source):
            return f"{named} has no {port!r} port (ports: {', '.join(self.ports(source))})."
        if target == source:
            return f"Step {target!r} cannot follow itself (that would be a cycle)."
        holder = _holder(self._data, source)
        while holder is not None:
            if holder[0] == target:
                return (
                    f"Cannot connect {named} to {target!r}: {source!r} is inside {target!r}, "
                    "and a step cannot run inside itself (that would be a cycle)."
                )
            holder = _holder(self._data, holder[0])
        after: dict[str, set[str]] = {}
        for start, _, end in self.edges():
            after.setdefault(start, set()).add(end)
        seen, todo = {target}, [target]
        while todo:
            for nxt in after.get(todo.pop(), ()):
                if nxt == source:
                    return (
                        f"Cannot connect {named} to {target!r}: {target!r} already runs before "
                        f"{named}, so the workflow would loop back (a cycle). Steps only run "
                        f"forward: to run {target!r} later, move it down (Ctrl+Down)."
                    )
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return None

    def connect_step(self, source: str, port: str, target: str) -> bool:
        """Make ``target`` (with its blocks) run right after ``source``'s ``port``: one
        undoable edit. Returns False when it already does (nothing changes).

        Raises:
            ConnectionRefused: the connection is not possible (a cycle, the trigger as the
                target, an unknown step or port); its text says why.
        """
        problem = self.connection_problem(source, port, target)
        if problem:
            raise ConnectionRefused(problem)

        def change(data: Data) -> None:
            holder = _holder(data, target)
            found = _find(data, target)
            assert found is not None
            step, siblings, index = found
            del siblings[index]
            if holder is not None and not siblings and holder[1] in ("then", "else"):
                _find_step(data, holder[0]).pop(holder[1], None)
            if port != "next":
                _find_step(data, source).setdefault(port, []).insert(0, step)
            elif not source:
                data.setdefault("steps", []).insert(0, step)
            else:
                _, where, at = _find(data, source) or ({}, [], 0)
                where.insert(at + 1, step)

        before = copy.deepcopy(self._data)
        self.edit(f"Connect {source or 'trigger'} {port} → {target}", change)
        return self._data != before

    # Internals -----------------------------------------------------------------------
    def _set(self, data: Data) -> None:
        self._data = copy.deepcopy(data)
        self.sig_document_changed.emit()

    def _fresh_id(self, action: str, taken: set[str] | None = None) -> str:
        used = set(self.step_ids()) | (taken or set())
        n = 1
        while f"{action}_{n}" in used:
            n += 1
        return f"{action}_{n}"


def _find(data: Data, step_id: str | None) -> tuple[Data, list[Data], int] | None:
    """(the step, the list holding it, its index) or None."""

    def walk(steps: list[Data]) -> tuple[Data, list[Data], int] | None:
        for index, step in enumerate(steps):
            if step.get("id") == step_id:
                return step, steps, index
            for key in BLOCKS:
                found = walk(step.get(key) or [])
                if found is not None:
                    return found
        return None

    return walk(data.get("steps") or [])


def _shown(endpoints: dict[int, EndpointInfo] | None) -> object:
    """What the picker and the checks read of the endpoints (not their delivery counts)."""
    if endpoints is None:
        return None
    return [(e.id, e.url, e.description, e.enabled, e.event_types) for e in endpoints.values()]


def _find_step(data: Data, step_id: str) -> Data:
    found = _find(data, step_id)
    assert found is not None, step_id
    return found[0]


def _holder(data: Data, step_id: str) -> tuple[str, str] | None:
    """(the id of the branch or loop holding step ``step_id``, the block) or None."""

    def walk(steps: list[Data], owner: tuple[str, str] | None) -> tuple[str, str] | bool | None:
        for step in steps:
            if step.get("id") == step_id:
                return owner if owner is not None else False
            for key in BLOCKS:
                found = walk(step.get(key) or [], (str(step.get("id")), key))
                if found is not None:
                    return found
        return None

    found = walk(data.get("steps") or [], None)
    return found if isinstance(found, tuple) else None


def _example(kind: str) -> Any:
    return {
        "integer": "{{ trigger.id }}",
        "duration": {"days": 1},
        "object": {},
        "list": [],
        "boolean": False,
    }.get(kind, "…")


def _blank() -> Data:
    return {
        "name": "New workflow",
        "trigger": {"type": "event", "event": "appointment.booked"},
        "steps": [{"id": "stop_1", "action": "stop"}],
        "settings": {"enabled": False},
    }
