"""Conditions and placeholders: every operator, groups, and no way to run code."""

from __future__ import annotations

from typing import Any

import pytest

from purplecross_desktop.workflows.conditions import check_condition, compile_condition, evaluate
from purplecross_desktop.workflows.cron import Cron, CronError
from purplecross_desktop.workflows.templating import TemplateError, render

CTX: dict[str, Any] = {
    "trigger": {
        "status": "no_show",
        "balance": "120.50",
        "count": 3,
        "tags": ["vip", "cat"],
        "empty": "",
        "due": "2031-04-01",
        "name": "Rex",
    },
    "steps": {"wait": {"matched": False}},
}


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("trigger.status", "eq", "NO_SHOW", True),
        ("trigger.status", "ne", "no_show", False),
        ("trigger.count", "eq", "3", True),
        ("trigger.balance", "gt", 100, True),
        ("trigger.balance", "lte", "120.5", True),
        ("trigger.balance", "lt", 0, False),
        ("trigger.name", "contains", "ex", True),
        ("trigger.name", "starts_with", "r", True),
        ("trigger.name", "ends_with", "z", False),
        ("trigger.tags", "contains", "VIP", True),
        ("trigger.tags", "not_contains", "dog", True),
        ("trigger.status", "in", ["no_show", "cancelled"], True),
        ("trigger.status", "not_in", "cancelled, completed", True),
        ("trigger.due", "before", "2031-04-02", True),
        ("trigger.due", "after", "2031-04-02T00:00:00+00:00", False),
        ("trigger.due", "on_or_after", "2031-04-01", True),
        ("trigger.empty", "is_empty", None, True),
        ("trigger.missing", "is_empty", None, True),
        ("trigger.name", "is_not_empty", None, True),
        ("steps.wait.matched", "eq", False, True),
        ("trigger.name", "eq", "{{ trigger.name }}", True),
        ("trigger.balance", "gt", "not a number", False),
    ],
)
def test_operators(field: str, op: str, value: Any, expected: bool) -> None:
    cond: dict[str, Any] = {"field": field, "op": op}
    if op not in ("is_empty", "is_not_empty"):
        cond["value"] = value
    assert check_condition(cond) == []
    assert compile_condition(cond)(CTX) is expected


def test_groups_nest() -> None:
    cond = {
        "any": [
            {"field": "trigger.status", "op": "eq", "value": "arrived"},
            {
                "all": [
                    {"field": "trigger.count", "op": "gte", "value": 3},
                    {"not": {"field": "trigger.name", "op": "eq", "value": "Tom"}},
                ]
            },
        ]
    }
    assert check_condition(cond) == []
    assert evaluate(cond, CTX) is True


def test_code_in_a_value_is_only_text() -> None:
    cond = {"field": "trigger.name", "op": "eq", "value": "__import__('os').system('false')"}
    assert evaluate(cond, CTX) is False
    with pytest.raises(TemplateError):
        render("{{ trigger.name.upper() }}", CTX)


def test_placeholders_keep_types_alone_and_become_text_inside_text() -> None:
    assert render("{{ trigger.count }}", CTX) == 3
    assert render("{{trigger.tags}}", CTX) == ["vip", "cat"]
    assert render("Rex x{{ trigger.count }}", CTX) == "Rex x3"
    assert render({"a": ["{{ trigger.missing }}!"]}, CTX) == {"a": ["!"]}
    assert render("{{ trigger.tags.1 }}", CTX) == "cat"


def test_placeholders_never_reach_python_attributes() -> None:
    assert render("{{ trigger.name.__class__ }}", CTX) is None
    with pytest.raises(TemplateError, match="must start with one of"):
        render("{{ os.environ }}", CTX)


@pytest.mark.parametrize(
    ("cond", "where"),
    [
        ({"all": "x"}, "condition.all"),
        ({"field": "trigger.x", "op": "eq"}, "condition.value"),
        ({"field": "trigger.x", "op": "is_empty", "value": 1}, "condition.value"),
        ({"field": "nowhere.x", "op": "eq", "value": 1}, "condition.field"),
        ({"all": [{"field": "trigger.x", "op": "eq", "value": 1}], "any": []}, "condition"),
    ],
)
def test_malformed_conditions_say_where(cond: Any, where: str) -> None:
    assert next(w for w, _ in check_condition(cond)) == where


def test_cron() -> None:
    import datetime as dt
    import zoneinfo

    cron = Cron.parse("30 9 * * 1-5")
    london = zoneinfo.ZoneInfo("Europe/London")
    monday = dt.datetime(2031, 6, 2, 9, 30, tzinfo=london)
    assert cron.matches(monday)
    assert not cron.matches(monday + dt.timedelta(days=5))  # Saturday
    fires = cron.fire_times(
        dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC),
        dt.datetime(2031, 6, 2, 12, tzinfo=dt.UTC),
        london,
    )
    assert fires == [dt.datetime(2031, 6, 2, 8, 30, tzinfo=dt.UTC)]  # 09:30 BST
    assert Cron.parse("*/15 * * * *").minutes == frozenset({0, 15, 30, 45})
    with pytest.raises(CronError, match="five fields"):
        Cron.parse("* * *")
    with pytest.raises(CronError, match="hour: '24'"):
        Cron.parse("0 24 * * *")
