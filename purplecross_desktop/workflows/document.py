"""The workflow document: load YAML or JSON, check it whole, compile it into a flat program.

A document is plain data (what YAML or JSON gives) and stays plain data: the builder and
the command line edit that data, so exporting what was imported gives it back unchanged.
:func:`validate` lists every problem, each naming the workflow, the step (or the
trigger or settings) and the field with the rule it breaks; :class:`Document` exists only
for data without problems, so an invalid document can never be stored or enabled.

:meth:`Document.program` flattens the step tree (branches, loops) into a list of
instructions with jump targets: a run's position is then one number, saved after every
step, which is what lets a run resume exactly where it stopped.

The schema every document follows is published as ``workflow.schema.json`` beside this
module (tests check each template and each problem against it).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from purplecross_desktop.workflows import catalogue
from purplecross_desktop.workflows.conditions import check_condition
from purplecross_desktop.workflows.cron import Cron, CronError
from purplecross_desktop.workflows.templating import PLACEHOLDER, TemplateError, references

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DURATION_KEYS = ("days", "hours", "minutes", "seconds")
TOP_KEYS = frozenset({"name", "description", "trigger", "steps", "settings"})
STEP_KEYS = frozenset({"id", "action", "name", "with", "if", "then", "else", "steps", "retries"})
SETTING_KEYS: dict[str, type] = {
    "enabled": bool,
    "max_runtime": dict,
    "concurrency": int,
    "max_runs_per_hour": int,
    "max_depth": int,
    "owner": str,
    "time_saved_minutes": int,
}
MAX_STEPS = 200
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document: where (step or area, field) and the rule broken."""

    where: str  # "trigger", "settings", "document" or "step <id>"
    field: str
    rule: str

    def message(self, workflow: str) -> str:
        return f"workflow {workflow!r}, {self.where}, {self.field}: {self.rule}"


class WorkflowInvalid(ValueError):  # noqa: N818 (reads as a sentence: raise WorkflowInvalid)
    """A document with problems; ``str()`` lists each one on its own line.

    Attributes:
        workflow: the document's name (or ``"(unnamed)"``).
        problems: every problem found.
    """

    def __init__(self, workflow: str, problems: Sequence[Problem]) -> None:
        self.workflow = workflow
        self.problems = list(problems)
        super().__init__("\n".join(p.message(workflow) for p in self.problems))


def schema() -> dict[str, Any]:
    """The published JSON Schema of a workflow document."""
    text = resources.files(__package__).joinpath("workflow.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def template_paths() -> dict[str, Path]:
    """The shipped templates (``templates/*.yaml`` beside this module) by name."""
    folder = resources.files(__package__).joinpath("templates")
    return {
        Path(str(entry)).stem: Path(str(entry))
        for entry in folder.iterdir()
        if str(entry).endswith(".yaml")
    }


def parse_text(text: str, source: str = "document") -> Any:
    """YAML or JSON text → data (JSON is YAML, but JSON is tried first for its messages).

    Raises:
        WorkflowInvalid: the text is neither.
    """
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise WorkflowInvalid(
            "(unreadable)", [Problem("document", source, f"is not valid YAML or JSON ({exc})")]
        ) from None


def load(source: str | Path) -> Document:
    """A checked document from a ``.yaml``/``.yml``/``.json`` file.

    Raises:
        WorkflowInvalid: unreadable, or any problem (all listed).
        OSError: the file cannot be read.
    """
    path = Path(source)
    return Document.from_data(parse_text(path.read_text("utf-8"), path.name))


def loads(text: str) -> Document:
    """A checked document from YAML or JSON text."""
    return Document.from_data(parse_text(text))


def dump(data: Mapping[str, Any], fmt: str = "yaml") -> str:
    """The document as YAML (keys in document order) or JSON."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)


def duration_seconds(value: Any) -> float:
    """``{days, hours, minutes, seconds}`` → seconds (a checked duration)."""
    factors = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
    return float(sum(float(value.get(k, 0)) * factors[k] for k in DURATION_KEYS))


@dataclass(frozen=True, slots=True)
class Instruction:
    """One entry of a compiled program.

    Attributes:
        kind: ``action`` (any library action, waits and stop included), ``branch``,
            ``loop`` (a for-each head), ``jump`` (no step: the end of a block).
        step: the step's data (None for a jump).
        target: where a false branch, a finished loop or a jump goes.
    """

    kind: str
    step: Mapping[str, Any] | None
    target: int | None = None

    @property
    def step_id(self) -> str:
        return "" if self.step is None else str(self.step["id"])


@dataclass(frozen=True)
class Document:
    """A workflow document without problems. Build it with :meth:`from_data` or :func:`load`."""

    data: Mapping[str, Any]
    _checked: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_data(cls, data: Any) -> Document:
        """Check ``data`` and wrap a deep copy of it.

        Raises:
            WorkflowInvalid: every problem, each naming workflow, step, field and rule.
        """
        problems = validate(data)
        if problems:
            name = data.get("name") if isinstance(data, Mapping) else None
            raise WorkflowInvalid(name if isinstance(name, str) and name else "(unnamed)", problems)
        return cls(copy.deepcopy(dict(data)), True)

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def trigger(self) -> Mapping[str, Any]:
        trigger: Mapping[str, Any] = self.data["trigger"]
        return trigger

    @property
    def settings(self) -> Mapping[str, Any]:
        settings: Mapping[str, Any] = self.data.get("settings") or {}
        return settings

    @property
    def enabled(self) -> bool:
        return bool(self.settings.get("enabled", False))

    @property
    def max_runtime(self) -> float:
        """Seconds a run may take before it fails (default 90 days)."""
        value = self.settings.get("max_runtime")
        return duration_seconds(value) if value else 90 * 86400.0

    @property
    def max_depth(self) -> int:
        return int(self.settings.get("max_depth", 3))

    @property
    def concurrency(self) -> int:
        return int(self.settings.get("concurrency", 50))

    @property
    def max_runs_per_hour(self) -> int | None:
        """The rate limit: runs started in any hour at most (None: no limit)."""
        value = self.settings.get("max_runs_per_hour")
        return None if value is None else int(value)

    def steps(self) -> Iterator[Mapping[str, Any]]:
        """Every step, depth-first in document order."""
        yield from _walk(self.data.get("steps") or [])

    def step(self, step_id: str) -> Mapping[str, Any]:
        for each in self.steps():
            if each["id"] == step_id:
                return each
        raise KeyError(step_id)

    @cached_property
    def program(self) -> tuple[Instruction, ...]:
        """The steps flattened: branches and loops become jumps."""
        out: list[Instruction] = []
        _compile(self.data.get("steps") or [], out)
        return tuple(out)

    def with_settings(self, **changes: Any) -> Document:
        """A copy with some settings changed (checked again)."""
        data = copy.deepcopy(dict(self.data))
        data["settings"] = {**(data.get("settings") or {}), **changes}
        return Document.from_data(data)

    def canonical(self) -> str:
        """Stable JSON of the data (what versions compare)."""
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"))


def _walk(steps: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for step in steps:
        yield step
        for key in ("then", "else", "steps"):
            yield from _walk(step.get(key) or [])


def _compile(steps: Sequence[Mapping[str, Any]], out: list[Instruction]) -> None:
    for step in steps:
        action = step["action"]
        if action == "branch":
            at = len(out)
            out.append(Instruction("branch", step))
            _compile(step.get("then") or [], out)
            if step.get("else"):
                jump_at = len(out)
                out.append(Instruction("jump", None))
                else_start = len(out)
                _compile(step["else"], out)
                out[jump_at] = Instruction("jump", None, len(out))
                out[at] = Instruction("branch", step, else_start)
            else:
                out[at] = Instruction("branch", step, len(out))
        elif action == "for_each":
            head = len(out)
            out.append(Instruction("loop", step))
            _compile(step.get("steps") or [], out)
            out.append(Instruction("jump", None, head))
            out[head] = Instruction("loop", step, len(out))
        else:
            out.append(Instruction("action", step))


# --- validation ------------------------------------------------------------------------


def validate(data: Any) -> list[Problem]:
    """Every problem of ``data`` as a workflow document (empty: it is valid)."""
    if not isinstance(data, Mapping):
        return [Problem("document", "(top)", "must be an object with name, trigger and steps")]
    problems: list[Problem] = []
    add = problems.append
    for key in sorted(set(data) - TOP_KEYS):
        add(Problem("document", key, f"is not a known key ({', '.join(sorted(TOP_KEYS))})"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        add(Problem("document", "name", "must not be empty"))
    elif len(name) > 120:
        add(Problem("document", "name", "must be at most 120 characters"))
    if "description" in data and not isinstance(data["description"], str):
        add(Problem("document", "description", "must be text"))
    trigger_fields = _check_trigger(data.get("trigger"), add)
    _check_settings(data.get("settings"), add)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        add(Problem("document", "steps", "must be a non-empty list of steps"))
        return problems
    scope = _Scope(trigger_fields)
    _check_steps(steps, "steps", scope, add, in_loop=False)
    if scope.count > MAX_STEPS:
        add(Problem("document", "steps", f"must be at most {MAX_STEPS} steps in all"))
    return problems


class _Scope:
    """What the steps seen so far define: ids and their actions (for references)."""

    def __init__(self, trigger_fields: frozenset[str] | None) -> None:
        self.trigger_fields = trigger_fields
        self.actions: dict[str, str] = {}
        self.count = 0


def _check_trigger(trigger: Any, add: Any) -> frozenset[str] | None:
    """Check the trigger; returns the fields ``trigger.*`` offers (None: not known)."""
    where = "trigger"
    if not isinstance(trigger, Mapping):
        add(Problem(where, "trigger", f"must be an object with type ({_types()})"))
        return None
    kind = trigger.get("type")
    base = {"type"}
    fields: set[str] | None = None
    if kind == "event":
        allowed = base | {"event", "when"}
        event = trigger.get("event")
        if not isinstance(event, str) or not event:
            add(Problem(where, "event", "must name an event, e.g. appointment.booked"))
        elif event not in catalogue.EVENTS and not _known_pattern(event):
            add(Problem(where, "event", f"{event!r} is not an event the clinic emits"))
        else:
            fields = {"event", "event_id", "entity", "id", "occurred_at", "data"}
            fields |= set(catalogue.PEOPLE)
            for name, keys in catalogue.EVENTS.items():
                if _matches(event, name):
                    fields |= set(keys) | ({"type"} if name.startswith("appointment.") else set())
    elif kind == "schedule":
        allowed = base | {"cron", "when"}
        cron = trigger.get("cron")
        try:
            Cron.parse(cron if isinstance(cron, str) else "")
        except CronError as exc:
            add(Problem(where, "cron", str(exc)))
        fields = {"fired_at"}
    elif kind == "date":
        allowed = base | {"field", "offset", "at", "when"}
        date_field = trigger.get("field")
        if date_field not in catalogue.DATE_FIELDS:
            choices = ", ".join(catalogue.DATE_FIELDS)
            add(Problem(where, "field", f"must be one of {choices}"))
        else:
            fields = {"record", "id", *catalogue.PEOPLE, *catalogue.DATE_FIELDS[str(date_field)]}
        _check_duration(trigger.get("offset", {}), where, "offset", add, signed=True)
        at = trigger.get("at", "09:00")
        if not isinstance(at, str) or not _HHMM.fullmatch(at):
            add(Problem(where, "at", "must be a local time HH:MM"))
    elif kind == "manual":
        allowed = base | {"inputs"}
        inputs = trigger.get("inputs", {})
        if not isinstance(inputs, Mapping):
            add(Problem(where, "inputs", "must map input names to kinds (integer, text, ...)"))
            inputs = {}
        for key, value in inputs.items():
            if not ID_RE.match(str(key)):
                add(Problem(where, f"inputs.{key}", "must be lower_snake_case"))
            if value not in ("text", "integer", "number", "boolean", "moment"):
                add(
                    Problem(
                        where, f"inputs.{key}", "must be text, integer, number, boolean or moment"
                    )
                )
        fields = {"inputs", *map(str, inputs)}
    else:
        add(Problem(where, "type", f"must be one of {_types()}"))
        return None
    for key in sorted(set(trigger) - allowed):
        add(Problem(where, key, f"is not a field of a {kind} trigger"))
    if "when" in trigger:
        for path, rule in check_condition(trigger["when"], "when"):
            add(Problem(where, path, rule))
        if fields is not None:
            _check_refs(trigger["when"], where, "when", _Scope(frozenset(fields)), add, False)
    return None if fields is None else frozenset(fields)


def _types() -> str:
    return ", ".join(catalogue.TRIGGER_TYPES)


def _known_pattern(event: str) -> bool:
    return event == "*" or (
        event.endswith(".*") and any(n.startswith(event[:-1]) for n in catalogue.EVENTS)
    )


def _matches(pattern: str, name: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def _check_settings(settings: Any, add: Any) -> None:
    if settings is None:
        return
    if not isinstance(settings, Mapping):
        add(Problem("settings", "settings", "must be an object"))
        return
    for key, value in settings.items():
        kind = SETTING_KEYS.get(key)
        if kind is None:
            add(Problem("settings", key, f"is not a setting ({', '.join(SETTING_KEYS)})"))
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            add(Problem("settings", key, f"must be {_KIND_NAMES[kind]}"))
        elif (
            kind is int
            and isinstance(value, int)
            and value < (0 if key == "time_saved_minutes" else 1)
        ):
            add(
                Problem(
                    "settings",
                    key,
                    "must be at least 1" if key != "time_saved_minutes" else "must not be negative",
                )
            )
    if isinstance(settings.get("max_runtime"), Mapping):
        _check_duration(settings["max_runtime"], "settings", "max_runtime", add)
    owner = settings.get("owner")
    if isinstance(owner, str) and not re.fullmatch(r"(staff:\d+|role:[a-z_]+)", owner):
        add(Problem("settings", "owner", "must be staff:<id> or role:<role>"))


_KIND_NAMES = {bool: "true or false", dict: "an object", int: "a whole number", str: "text"}


def _check_duration(value: Any, where: str, name: str, add: Any, signed: bool = False) -> None:
    if isinstance(value, str) and PLACEHOLDER.fullmatch(value.strip()):
        return
    if not isinstance(value, Mapping) or not value or set(value) - set(DURATION_KEYS):
        add(Problem(where, name, "must be a duration such as {days: 3} (days, hours, minutes)"))
        return
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            add(Problem(where, f"{name}.{key}", "must be a number"))
        elif amount < 0 and not signed:
            add(Problem(where, f"{name}.{key}", "must not be negative"))


def _check_steps(steps: Any, path: str, scope: _Scope, add: Any, *, in_loop: bool) -> None:
    if not isinstance(steps, list):
        add(Problem("document", path, "must be a list of steps"))
        return
    for index, step in enumerate(steps):
        scope.count += 1
        if not isinstance(step, Mapping):
            add(Problem("document", f"{path}[{index}]", "must be an object with id and action"))
            continue
        step_id = step.get("id")
        if not isinstance(step_id, str) or not ID_RE.match(step_id):
            where = f"step {path}[{index}]"
            add(Problem(where, "id", "must be lower_snake_case, starting with a letter, ≤ 40"))
            step_id = f"{path}[{index}]"
        else:
            where = f"step {step_id!r}"
            if step_id in scope.actions:
                add(Problem(where, "id", "is used by another step; ids must be unique"))
        _check_step(step, where, scope, add, in_loop)
        scope.actions[str(step_id)] = str(step.get("action"))


def _check_step(
    step: Mapping[str, Any], where: str, scope: _Scope, add: Any, in_loop: bool
) -> None:
    for key in sorted(set(step) - STEP_KEYS):
        add(Problem(where, key, f"is not a step field ({', '.join(sorted(STEP_KEYS))})"))
    action = step.get("action")
    spec = catalogue.ACTIONS.get(action) if isinstance(action, str) else None
    if spec is None:
        add(Problem(where, "action", f"must be one of {', '.join(catalogue.ACTIONS)}"))
        return
    if "name" in step and not isinstance(step["name"], str):
        add(Problem(where, "name", "must be text"))
    retries = step.get("retries")
    if retries is not None and (
        isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 10
    ):
        add(Problem(where, "retries", "must be a whole number from 1 to 10"))
    given = step.get("with", {})
    if not isinstance(given, Mapping):
        add(Problem(where, "with", "must be an object of the action's inputs"))
        given = {}
    for key in sorted(set(given) - set(spec.inputs)):
        known = ", ".join(spec.inputs) or "none"
        add(Problem(where, f"with.{key}", f"is not an input of {action} (inputs: {known})"))
    for key, want in spec.inputs.items():
        value = given.get(key)
        if key not in given:
            if want.required:
                add(Problem(where, f"with.{key}", f"is required by {action}"))
            continue
        _check_input(value, want, where, f"with.{key}", add)
    structural = {"branch": {"if", "then", "else"}, "for_each": {"steps"}}.get(str(action), set())
    for key in ("if", "then", "else", "steps"):
        if key in step and key not in structural:
            add(
                Problem(
                    where,
                    key,
                    f"belongs to {'branch' if key != 'steps' else 'for_each'} steps only",
                )
            )
    if action == "wait":
        if not ({"duration", "until", "at"} & set(given)):
            add(Problem(where, "with", "wait needs a duration, an until or an at"))
        elif "until" in given and len(given) > 1:
            add(Problem(where, "with.until", "cannot be combined with duration or at"))
        at = given.get("at")
        if at is not None and not (isinstance(at, str) and _HHMM.fullmatch(at)):
            add(Problem(where, "with.at", "must be a local time HH:MM"))
    if action == "wait_for_event":
        event = given.get("event")
        if isinstance(event, str) and event not in catalogue.EVENTS and not _known_pattern(event):
            add(Problem(where, "with.event", f"{event!r} is not an event the clinic emits"))
        if "match" in given:
            for path, rule in check_condition(given["match"], "with.match"):
                add(Problem(where, path, rule))
    if action == "branch":
        if "if" not in step:
            add(Problem(where, "if", "is required by branch (a condition)"))
        else:
            for path, rule in check_condition(step["if"], "if"):
                add(Problem(where, path, rule))
            _check_refs(step["if"], where, "if", scope, add, in_loop)
        if not step.get("then") and not step.get("else"):
            add(Problem(where, "then", "a branch needs steps in then or else"))
    if action == "generate_report":
        _check_period(given, where, add)
    if action == "for_each" and not step.get("steps"):
        add(Problem(where, "steps", "for_each needs steps to repeat"))
    _check_refs(given, where, "with", scope, add, in_loop, event_ok=action == "wait_for_event")
    for key in ("then", "else"):
        if key in step:
            _check_steps(step[key], f"{where}.{key}", scope, add, in_loop=in_loop)
    if "steps" in step:
        _check_steps(step["steps"], f"{where}.steps", scope, add, in_loop=True)


def _check_period(given: Mapping[str, Any], where: str, add: Any) -> None:
    """A report's literal ``start`` and ``end`` are days, the end not before the start."""
    days: dict[str, dt.date] = {}
    for key in ("start", "end"):
        value = given.get(key)
        if not isinstance(value, str) or "{{" in value:
            continue
        try:
            days[key] = dt.date.fromisoformat(value)
        except ValueError:
            add(Problem(where, f"with.{key}", f"must be a day YYYY-MM-DD; got {value!r}"))
    if len(days) == 2 and days["end"] < days["start"]:
        add(Problem(where, "with.end", f"must not be before the start ({days['start']})"))


def _check_input(value: Any, want: catalogue.Input, where: str, name: str, add: Any) -> None:
    if isinstance(value, str) and "{{" in value:
        return  # a placeholder: checked by _check_refs, typed when the run renders it
    kind = want.kind
    ok = {
        "text": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, Mapping),
        "list": isinstance(value, list),
        "moment": isinstance(value, str),
        "duration": True,
    }[kind]
    if kind == "duration":
        _check_duration(value, where, name, add)
    elif not ok:
        add(Problem(where, name, f"must be {_INPUT_NAMES[kind]}"))
    elif want.choices and value not in want.choices:
        add(Problem(where, name, f"must be one of {', '.join(want.choices)}"))
    elif kind == "text" and not value.strip() and want.required:
        add(Problem(where, name, "must not be empty"))


_INPUT_NAMES = {
    "text": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "list": "a list",
    "moment": "an ISO date and time",
}


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "field" and isinstance(inner, str):  # a condition's field is a bare path
                yield f"{path}.{key}", "{{ " + inner.strip("{} ") + " }}"
            else:
                yield from _strings(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{i}]")


def _check_refs(
    value: Any,
    where: str,
    path: str,
    scope: _Scope,
    add: Any,
    in_loop: bool,
    event_ok: bool = False,
) -> None:
    for field_path, text in _strings(value, path):
        try:
            refs = list(references(text))
        except TemplateError as exc:
            add(Problem(where, field_path, str(exc)))
            continue
        for ref in refs:
            rule = _reference_problem(ref, scope, in_loop, event_ok)
            if rule:
                add(Problem(where, field_path, rule))


def _reference_problem(ref: str, scope: _Scope, in_loop: bool, event_ok: bool) -> str | None:
    parts = ref.split(".")
    root = parts[0]
    if root == "steps":
        if len(parts) < 2:
            return "{{ steps }} needs a step id: steps.<id>.<output>"
        step_id = parts[1]
        if step_id not in scope.actions:
            return f"{{{{ {ref} }}}} refers to step {step_id!r}, which does not run before this one"
        outputs = (
            catalogue.ACTIONS[scope.actions[step_id]].outputs
            if scope.actions[step_id] in catalogue.ACTIONS
            else ()
        )
        if len(parts) >= 3 and parts[2] not in outputs:
            shown = ", ".join(outputs) or "none"
            return (
                f"{{{{ {ref} }}}}: step {step_id!r} has no output {parts[2]!r} (outputs: {shown})"
            )
    elif root == "trigger":
        fields = scope.trigger_fields
        if fields is not None and len(parts) >= 2 and parts[1] not in fields:
            return (
                f"{{{{ {ref} }}}}: the trigger offers no {parts[1]!r} ({', '.join(sorted(fields))})"
            )
    elif root == "item" and not in_loop:
        return f"{{{{ {ref} }}}} is only defined inside a for_each"
    elif root == "event" and not event_ok:
        return f"{{{{ {ref} }}}} is only defined in a wait_for_event match"
    return None
