"""BarChart: values, totals, the accessible description and bad input."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from widgets.bar_chart import BarChart
from widgets.theme import current_colors

pytestmark = pytest.mark.gui


def test_values_totals_description_and_paint(qtbot: QtBot) -> None:
    chart = BarChart(("done", "failed"), ("success", "danger"))
    qtbot.addWidget(chart)
    chart.resize(300, 120)
    chart.set_values([(3, 0), (5, 2), (0, 0)])
    assert chart.totals() == (8, 2)
    assert chart.accessibleDescription() == "8 done, 2 failed over 3 intervals"
    image = chart.bars.grab().toImage()
    height = image.height()
    colors = current_colors()
    # The middle bar is the tallest: done at its foot, failed stacked on top near the top.
    assert image.pixelColor(150, height - 3).name() == colors.success
    assert image.pixelColor(150, 10).name() == colors.danger
    assert image.pixelColor(250, height // 2).name() != colors.success  # the empty bucket


@pytest.mark.parametrize("bad", [[(1,)], [(1, -1)]])
def test_bad_buckets_are_refused(qtbot: QtBot, bad: list[tuple[int, ...]]) -> None:
    chart = BarChart(("done", "failed"), ("success", "danger"))
    qtbot.addWidget(chart)
    with pytest.raises(ValueError, match=r"values\[0\]"):
        chart.set_values(bad)
    assert chart.values() == []


def test_series_need_tones() -> None:
    with pytest.raises(ValueError, match="series/tones"):
        BarChart(("done",), ())
