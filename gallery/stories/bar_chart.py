"""BarChart stories: jobs done and failed per minute, a quiet hour, a failure spike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.bar_chart import BarChart


def render(args: Mapping[str, Any]) -> QWidget:
    """A done/failed chart of the story's buckets."""
    chart = BarChart(("done", "failed"), ("success", "danger"))
    chart.set_values([tuple(b) for b in args["buckets"]])
    return chart


def _busy() -> list[list[int]]:
    # Fake data: a working hour with a short burst of failures.
    return [[(i * 7) % 13 + 2, 6 if 38 <= i <= 41 else 0] for i in range(60)]


COMPONENT = Component(
    name="BarChart",
    widget=BarChart,
    stories=(
        Story(
            name="Throughput",
            render=render,
            args={"buckets": _busy()},
            docs="Jobs completed (green) and failed (red) per minute over the last hour.",
            width=360,
        ),
        Story(
            name="Quiet",
            render=render,
            args={"buckets": [[0, 0]] * 60},
            docs="Nothing finished: only the baseline shows.",
            width=360,
        ),
    ),
    matrix_states=("normal",),
    arg_docs={
        "buckets": "The bars: a JSON list of [done, failed] pairs, one per minute.",
    },
)
