"""The workflow document: every template loads and follows the published schema; each kind
of mistake gives one message naming the workflow, the step, the field and the rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from purplecross_desktop.workflows.document import (
    Document,
    WorkflowInvalid,
    dump,
    load,
    loads,
    schema,
    validate,
)

TEMPLATES = sorted(
    (Path(__file__).resolve().parents[3] / "purplecross_desktop/workflows/templates").glob("*.yaml")
)
BASE: dict[str, Any] = {
    "name": "Test flow",
    "trigger": {"type": "event", "event": "appointment.booked"},
    "steps": [
        {
            "id": "tell",
            "action": "send_email",
            "with": {
                "to": "owner",
                "client_id": "{{ trigger.client_id }}",
                "subject": "Booked",
                "message": "See you at {{ trigger.starts_at }}",
            },
        },
        {"id": "later", "action": "wait", "with": {"duration": {"days": 1}}},
    ],
}


def test_there_are_five_templates_all_disabled() -> None:
    assert len(TEMPLATES) == 5
    for path in TEMPLATES:
        assert load(path).enabled is False, path.name


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_each_template_follows_the_published_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text("utf-8")), schema())


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_export_gives_back_what_was_imported(path: Path) -> None:
    document = load(path)
    for fmt in ("yaml", "json"):
        again = loads(dump(document.data, fmt))
        assert again.data == document.data
        assert again.canonical() == document.canonical()


def test_the_step_tree_compiles_to_jumps() -> None:
    data = copy.deepcopy(BASE)
    data["steps"] = [
        {
            "id": "check",
            "action": "branch",
            "if": {"all": [{"field": "trigger.status", "op": "eq", "value": "scheduled"}]},
            "then": [{"id": "a", "action": "stop"}],
            "else": [
                {
                    "id": "each",
                    "action": "for_each",
                    "with": {"items": "{{ trigger.data.fields }}"},
                    "steps": [{"id": "b", "action": "stop", "with": {"reason": "{{ item }}"}}],
                }
            ],
        },
        {"id": "c", "action": "stop"},
    ]
    program = Document.from_data(data).program
    assert [(i.kind, i.step_id, i.target) for i in program] == [
        ("branch", "check", 3),
        ("action", "a", None),
        ("jump", "", 6),
        ("loop", "each", 6),
        ("action", "b", None),
        ("jump", "", 3),
        ("action", "c", None),
    ]


def _problem(mutate: Any) -> list[str]:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(WorkflowInvalid) as caught:
        Document.from_data(data)
    return str(caught.value).splitlines()


def _set(path: str, value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("name", ""), "workflow '(unnamed)', document, name: must not be empty"),
        (
            _set("trigger/event", "appointment.exploded"),
            "workflow 'Test flow', trigger, event: 'appointment.exploded' is not an event the "
            "clinic emits",
        ),
        (
            _set("trigger", {"type": "schedule", "cron": "61 * * * *"}),
            "workflow 'Test flow', trigger, cron: minute: '61' must be a number from 0 to 59",
        ),
        (
            _set("steps/0/action", "launch_rocket"),
            "workflow 'Test flow', step 'tell', action: must be one of send_email,",
        ),
        (
            _set("steps/0/action", "http_request"),
            "workflow 'Test flow', step 'tell', with.endpoint_id: is required by http_request",
        ),
        (
            _set("steps/0/with/colour", "red"),
            "workflow 'Test flow', step 'tell', with.colour: is not an input of send_email",
        ),
        (
            _set("steps/0/with/subject", ""),
            "workflow 'Test flow', step 'tell', with.subject: must not be empty",
        ),
        (
            _set("steps/1/id", "tell"),
            "workflow 'Test flow', step 'tell', id: is used by another step; ids must be unique",
        ),
        (
            _set("steps/1/id", "Wait Now"),
            "workflow 'Test flow', step steps[1], id: must be lower_snake_case",
        ),
        (
            _set("steps/0/with/message", "{{ steps.later.resumed_at }}"),
            "workflow 'Test flow', step 'tell', with.message: {{ steps.later.resumed_at }} refers "
            "to step 'later', which does not run before this one",
        ),
        (
            _set("steps/1/with", {"duration": "{{ steps.tell.size }}"}),
            "workflow 'Test flow', step 'later', with.duration: {{ steps.tell.size }}: step "
            "'tell' has no output 'size' (outputs: job_id, to)",
        ),
        (
            _set("steps/0/with/subject", "{{ trigger.weather }}"),
            "workflow 'Test flow', step 'tell', with.subject: {{ trigger.weather }}: the trigger "
            "offers no 'weather'",
        ),
        (
            _set("steps/0/with/subject", "{{ trigger.name.__class__ }}"),
            "workflow 'Test flow', step 'tell', with.subject: {{ trigger.name.__class__ }}",
        ),
        (
            _set("steps/0/with/subject", "{{ __import__('os').system('ls') }}"),
            "is not a dotted path such as trigger.patient_id",
        ),
        (
            _set("steps/1/with", {}),
            "workflow 'Test flow', step 'later', with: wait needs a duration, an until or an at",
        ),
        (
            _set("steps/1/with", {"duration": {"weeks": 2}}),
            "workflow 'Test flow', step 'later', with.duration: must be a duration",
        ),
        (
            _set(
                "trigger/when",
                {"all": [{"field": "trigger.status", "op": "resembles", "value": "x"}]},
            ),
            "workflow 'Test flow', trigger, when.all[0].op: must be one of",
        ),
        (
            _set("trigger/when", {"any": []}),
            "workflow 'Test flow', trigger, when.any: must be a non-empty list of conditions",
        ),
        (
            _set("steps/0/with/message", "{{ item }}"),
            "workflow 'Test flow', step 'tell', with.message: {{ item }} is only defined inside "
            "a for_each",
        ),
        (
            _set("settings", {"max_depth": 0}),
            "workflow 'Test flow', settings, max_depth: must be at least 1",
        ),
        (_set("steps", []), "workflow 'Test flow', document, steps: must be a non-empty list"),
    ],
)
def test_each_kind_of_mistake_names_workflow_step_field_and_rule(mutate: Any, message: str) -> None:
    lines = _problem(mutate)
    assert any(line.startswith(message) or message in line for line in lines), lines


def test_every_problem_is_listed_at_once() -> None:
    data = copy.deepcopy(BASE)
    data["steps"][0]["with"]["subject"] = ""
    data["steps"][1]["with"] = {}
    data["trigger"]["event"] = "nope"
    assert len(validate(data)) == 3


def test_yaml_that_does_not_parse_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(WorkflowInvalid, match=r"broken\.yaml: is not valid YAML or JSON"):
        load(path)


def test_json_documents_load_too(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(BASE), "utf-8")
    assert load(path).name == "Test flow"


def test_the_schema_rejects_what_validation_rejects() -> None:
    data = copy.deepcopy(BASE)
    data["steps"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema())
    assert validate(data)
