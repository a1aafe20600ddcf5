"""Dry runs: what a run would do, step by step, without doing anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobs.workflows.core import _follow_jumps
from jobs.workflows.tick import human
from jobs.workflows.waits import Waits
from purplecross_desktop.domain.errors import DomainError
from purplecross_desktop.workflows.conditions import evaluate
from purplecross_desktop.workflows.document import Document
from purplecross_desktop.workflows.templating import render

if TYPE_CHECKING:
    pass


@dataclass(frozen=True, slots=True)
class Preview:
    """One step of a dry run: what it would do and what the run would know after it."""

    step_id: str
    action: str
    input: dict[str, Any]
    output: dict[str, Any]
    description: str


class DryRuns(Waits):
    """Previews a run (the builder's test run, ``purplecross workflows test``)."""

    def dry_run(
        self, document: Document, trigger: Mapping[str, Any], *, events_arrive: bool = False
    ) -> list[Preview]:
        """What a run would do, step by step, without doing anything.

        Waits are taken as over at once; a ``wait_for_event`` counts as matched when
        ``events_arrive`` (else as timed out). Emails are rendered, conditions evaluated.
        """
        context: dict[str, Any] = {"trigger": dict(trigger), "steps": {}, "loops": {}}
        program = document.program
        out: list[Preview] = []
        pc = 0
        now = self.clock()
        for _ in range(1000):
            pc = _follow_jumps(program, pc)
            if pc >= len(program):
                break
            instruction = program[pc]
            step = instruction.step
            assert step is not None
            action = str(step["action"])
            if instruction.kind == "branch":
                result = evaluate(step["if"], context)
                context["steps"][step["id"]] = {"result": result}
                out.append(
                    Preview(
                        step["id"],
                        action,
                        {},
                        {"result": result},
                        f"condition is {'true' if result else 'false'}",
                    )
                )
                pc = pc + 1 if result else (instruction.target or pc + 1)
                continue
            if instruction.kind == "loop":
                outcome = self._loop(step, instruction, pc, context)
                out.append(
                    Preview(
                        step["id"],
                        action,
                        outcome.input,
                        outcome.output,
                        f"item {outcome.input.get('index', 'done')}",
                    )
                )
                context["steps"][step["id"]] = outcome.output
                pc = outcome.next_pc if outcome.next_pc is not None else len(program)
                continue
            inputs = render(step.get("with") or {}, context)
            if action == "stop":
                out.append(
                    Preview(
                        step["id"],
                        action,
                        inputs,
                        {"reason": inputs.get("reason", "")},
                        f"stop: {inputs.get('reason', '')}",
                    )
                )
                break
            if action == "wait":
                wake = self.wake_time(inputs, now)
                output: dict[str, Any] = {"resumed_at": wake.isoformat()}
                text = f"wait until {wake.astimezone(self.zone):%Y-%m-%d %H:%M}"
                now = wake
            elif action == "wait_for_event":
                output = {"matched": events_arrive, "event_id": None}
                text = (
                    f"wait for {inputs.get('event')} (up to {human(inputs.get('timeout'))}): "
                    + ("assumed to arrive" if events_arrive else "assumed not to arrive")
                )
            else:
                try:
                    text, output = self.actions.preview(action, inputs)
                except (DomainError, ValueError, KeyError) as exc:
                    text, output = f"would fail: {exc}", {}
            context["steps"][step["id"]] = output
            out.append(Preview(step["id"], action, inputs, output, text))
            pc += 1
        return out
