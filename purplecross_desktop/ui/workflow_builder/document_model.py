"""The builder's one model: the workflow document as plain data, edited through undoable commands.

The canvas, the outline and the properties panel are views of this model; every edit is
a snapshot command on a ``QUndoStack`` (undo gives back the document exactly), and the
document itself is what is imported and exported, so the canvas can never hold anything
the file does not.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.document import Problem, validate

Data = dict[str, Any]
BLOCKS = ("then", "else", "steps")


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
        sig_document_changed(): the data changed (an edit, undo or redo, a load).
    """

    sig_document_changed = Signal()

    def __init__(self, data: Data | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._data: Data = copy.deepcopy(data) if data else _blank()

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
        return validate(self._data)

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
