"""LineChart: points sorted by day, a description that reads the values, empty and single."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from widgets.line_chart import ChartPoint, LineChart
from widgets.theme import current_colors

pytestmark = pytest.mark.gui

D = dt.date(2031, 1, 1)


def _has_colour(image: QImage, colour: str) -> bool:
    wanted = QColor(colour).rgb()
    return any(
        image.pixel(x, y) == wanted
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )


def test_points_are_sorted_and_described(qtbot: QtBot) -> None:
    chart = LineChart("kg")
    qtbot.addWidget(chart)
    chart.set_points([ChartPoint(D + dt.timedelta(days=30), 12.5), ChartPoint(D, 10.0)])
    assert [p.value for p in chart.points()] == [10.0, 12.5]
    assert chart.accessibleDescription() == "2031-01-01: 10.0 kg; 2031-01-31: 12.5 kg"


def test_a_long_history_describes_the_latest_five(qtbot: QtBot) -> None:
    chart = LineChart("kg")
    qtbot.addWidget(chart)
    chart.set_points([ChartPoint(D + dt.timedelta(days=i), float(i + 1)) for i in range(8)])
    assert chart.accessibleDescription().startswith("8 values; latest 2031-01-04: 4.0 kg")


@pytest.mark.parametrize(
    ("points", "line_drawn"),
    [([], False), ([ChartPoint(D, 3.0)], True), ([ChartPoint(D, 3.0), ChartPoint(D, 3.0)], True)],
)
def test_empty_single_and_flat_series_paint(
    qtbot: QtBot, points: list[ChartPoint], line_drawn: bool
) -> None:
    chart = LineChart("kg", "No weight recorded yet")
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    chart.set_points(points)
    image = chart.grab().toImage()
    assert _has_colour(image, current_colors().primary) is line_drawn
    if not points:
        assert chart.accessibleDescription() == "No weight recorded yet"
