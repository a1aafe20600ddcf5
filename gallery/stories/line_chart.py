"""LineChart stories: a weight history, one value, no values, a gap of a year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QWidget

from gallery.story import Component, Story
from widgets.line_chart import ChartPoint, LineChart

# Fake weights of a growing puppy: the gallery never touches the database.
_START = dt.date(2031, 1, 6)
_SERIES = {
    "puppy": [(0, 4.2), (21, 5.9), (49, 8.1), (90, 11.4), (150, 14.8), (240, 17.9)],
    "single": [(0, 25.1)],
    "none": [],
    "gap": [(0, 31.0), (30, 30.2), (400, 27.5), (420, 28.1)],
}


def render(args: Mapping[str, Any]) -> QWidget:
    """A chart of one of the fake series."""
    chart = LineChart(str(args["unit"]), "No weight recorded yet")
    chart.setAccessibleName("Weight history")
    chart.set_points(
        [ChartPoint(_START + dt.timedelta(days=d), v) for d, v in _SERIES[str(args["series"])]]
    )
    chart.setFixedSize(440, 200)
    return chart


def code(args: Mapping[str, Any]) -> str:
    return (
        "import datetime as dt\n"
        "from widgets.line_chart import ChartPoint, LineChart\n\n"
        f"chart = LineChart({args['unit']!r}, 'No weight recorded yet')\n"
        "chart.set_points([\n"
        "    ChartPoint(dt.date(2031, 1, 6), 4.2),\n"
        "    ChartPoint(dt.date(2031, 2, 24), 8.1),\n"
        "])\n"
    )


def _story(name: str, docs: str, series: str) -> Story:
    return Story(
        name=name,
        render=render,
        args={"series": series, "unit": "kg"},
        choices={"series": tuple(_SERIES)},
        docs=docs,
        code=code,
        width=460,
    )


COMPONENT = Component(
    name="LineChart",
    widget=LineChart,
    stories=(
        _story("WeightHistory", "A puppy's weights: the time axis is to scale.", "puppy"),
        _story("OneValue", "A single weighing is a dot.", "single"),
        _story("Empty", "No values: the chart says so instead of drawing axes.", "none"),
        _story("LongGap", "A year without a visit reads as a long flat stretch.", "gap"),
    ),
    arg_docs={
        "series": "Which fake series to plot (a weight history, one value, a long gap, none).",
        "unit": "The unit shown on the axis and in tooltips.",
    },
)
