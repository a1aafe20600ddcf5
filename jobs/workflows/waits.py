"""Waits: when a ``wait`` ends, a ``wait_for_event`` set up, woken by a matching event (the
durable handler) or checked once more at its deadline against the recorded events.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from jobs.workflows.core import Outcome, _follow_jumps
from jobs.workflows.triggers import Triggers
from purplecross_desktop.domain.event_log import EventLog, StoredEvent
from purplecross_desktop.workflows.conditions import evaluate
from purplecross_desktop.workflows.document import duration_seconds
from purplecross_desktop.workflows.models import RUN
from purplecross_desktop.workflows.templating import render

if TYPE_CHECKING:
    pass


class Waits(Triggers):
    """Runs that wait for a time or for an event."""

    def _wait(
        self,
        run: Mapping[str, Any],
        step: Mapping[str, Any],
        inputs: dict[str, Any],
        pc: int,
        context: dict[str, Any],
        resumed: bool,
        now: dt.datetime,
    ) -> Outcome:
        if resumed:
            # The wake job (or the tick) after the time: the wait is over.
            if step["action"] == "wait":
                return Outcome(inputs, {"resumed_at": now.isoformat()}, pc + 1)
            # At the deadline the condition is checked once more against the events
            # recorded since the wait began: one the dispatcher has not handed over yet
            # (it was down, or behind) still counts.
            found = self._recheck(inputs, context)
            context.pop("wait_since", None)
            return Outcome(inputs, found or {"matched": False, "event_id": None}, pc + 1)
        if step["action"] == "wait_for_event":
            context["wait_since"] = now.isoformat()
            wake = now + dt.timedelta(seconds=duration_seconds(inputs["timeout"]))
            return Outcome(inputs, {}, pc, wake_at=wake, wait_event=str(inputs["event"]))
        return Outcome(inputs, {}, pc, wake_at=self.wake_time(inputs, now))

    def _recheck(self, inputs: Mapping[str, Any], context: dict[str, Any]) -> dict[str, Any] | None:
        """A matching event recorded since the wait began, as the step's output, or None."""
        since_text = context.get("wait_since")
        if not since_text:
            return None
        since = dt.datetime.fromisoformat(str(since_text))
        match = inputs.get("match")
        recent = EventLog(self.engine).search(since=since, name=str(inputs["event"]), limit=200)
        for event in reversed(recent):  # oldest first
            view = {**self.event_context(event), "name": event.name}
            if match is None or evaluate(match, {**context, "event": view}):
                return {"matched": True, "event_id": event.id}
        return None

    def wake_time(self, inputs: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
        """When a ``wait`` with these inputs ends."""
        if inputs.get("until"):
            until = dt.datetime.fromisoformat(str(inputs["until"]))
            return until if until.tzinfo else until.replace(tzinfo=self.zone)
        moment = now
        if inputs.get("duration"):
            moment += dt.timedelta(seconds=duration_seconds(inputs["duration"]))
        if inputs.get("at"):
            hour, minute = (int(p) for p in str(inputs["at"]).split(":"))
            local = moment.astimezone(self.zone)
            candidate = dt.datetime.combine(local.date(), dt.time(hour, minute), self.zone)
            if candidate < local:
                candidate = dt.datetime.combine(
                    local.date() + dt.timedelta(days=1), dt.time(hour, minute), self.zone
                )
            moment = candidate.astimezone(dt.UTC)
        return moment

    def _wake_waiting(self, event: StoredEvent) -> list[str]:
        prefix = event.name.split(".", 1)[0] + ".*"
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(RUN).where(
                    RUN.c.status == "waiting", RUN.c.wait_event.in_((event.name, prefix, "*"))
                )
            ).all()
        jobs: list[str] = []
        if not rows:
            return jobs
        event_view = {**self.event_context(event), "name": event.name}
        for row in rows:
            run = dict(row._mapping)
            document = self.document(run["version_id"])
            program = document.program
            pc = _follow_jumps(program, run["pc"])
            step = program[pc].step if pc < len(program) else None
            if step is None or step["action"] != "wait_for_event":
                continue
            match = (step.get("with") or {}).get("match")
            context = copy.deepcopy(run["context"])
            if match is not None and not evaluate(match, {**context, "event": event_view}):
                continue
            output = {"matched": True, "event_id": event.id}
            context.setdefault("steps", {})[step["id"]] = output
            now = self.clock()
            with self.engine.begin() as conn:
                moved = conn.execute(
                    sa.update(RUN)
                    .where(
                        RUN.c.id == run["id"],
                        RUN.c.seq == run["seq"],
                        RUN.c.status == "waiting",
                        RUN.c.updated_at == run["updated_at"],
                    )
                    .values(
                        status="ready",
                        pc=pc + 1,
                        seq=run["seq"] + 1,
                        attempt=1,
                        context=context,
                        wake_at=None,
                        wait_event=None,
                        updated_at=now,
                    )
                ).rowcount
                if moved != 1:
                    continue
                self._record_step(
                    conn,
                    run["id"],
                    run["seq"],
                    run["attempt"],
                    step,
                    "done",
                    render(step.get("with") or {}, context),
                    output,
                    now,
                    None,
                )
            jobs.append(
                self._enqueue(run["id"], run["seq"] + 1, f"wf:{run['id']}:{run['seq'] + 1}")
            )
        return jobs
