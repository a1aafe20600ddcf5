"""StatusChip and ChipDelegate: tones from the tokens, sizes that fit, chips in a table."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from widgets.chip_delegate import TONE_ROLE, ChipDelegate
from widgets.status_chip import TONE_TOKENS, TONES, StatusChip
from widgets.theme import apply_theme, current_colors
from widgets.tokens import TEXT_PAIRS, THEME_NAMES, colors_for, contrast_ratio

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("theme", THEME_NAMES)
def test_every_tone_is_a_readable_token_pair(tone: str, theme: str) -> None:
    background, text = TONE_TOKENS[tone]
    assert (text, background) in TEXT_PAIRS
    colors = colors_for(theme)  # type: ignore[arg-type]
    assert contrast_ratio(getattr(colors, text), getattr(colors, background)) >= 4.5


@pytest.mark.parametrize("tone", TONES)
def test_the_chip_paints_its_tone(qtbot: QtBot, qapp: QApplication, tone: str) -> None:
    chip = StatusChip("Arrived", tone)  # type: ignore[arg-type]
    qtbot.addWidget(chip)
    chip.show()
    qtbot.waitExposed(chip)
    image = chip.grab().toImage()
    background = getattr(current_colors(), TONE_TOKENS[tone][0])
    # The middle of the left padding is pure background.
    assert image.pixelColor(4, image.height() // 2) == QColor(background)
    text_colour = chip.palette().color(QPalette.ColorRole.WindowText).name()
    assert text_colour == getattr(current_colors(), TONE_TOKENS[tone][1])


def test_the_chip_follows_the_theme(qtbot: QtBot, qapp: QApplication) -> None:
    chip = StatusChip("Paid", "success")
    qtbot.addWidget(chip)
    chip.show()
    qtbot.waitExposed(chip)
    apply_theme(qapp, "dark")
    chip.repaint()
    assert (
        chip.palette().color(QPalette.ColorRole.WindowText).name()
        == colors_for("dark").success_text
    )
    apply_theme(qapp, "light")


def test_the_chip_fits_its_text_and_names_itself(qtbot: QtBot) -> None:
    chip = StatusChip("Bites · Allergic to penicillin", "error")
    qtbot.addWidget(chip)
    assert chip.accessibleName() == "Bites · Allergic to penicillin"
    assert chip.sizeHint().width() > chip.fontMetrics().horizontalAdvance("Bites · Allergic")
    chip.set_text("No-show")
    assert chip.accessibleName() == "No-show"
    assert chip.get_text() == "No-show"


def test_an_unknown_tone_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="tone: must be one of neutral, info"):
        StatusChip("x", "purple")  # type: ignore[arg-type]


def test_the_delegate_paints_chips_only_where_the_model_gives_a_tone(qtbot: QtBot) -> None:
    model = QStandardItemModel(2, 1)
    chip = QStandardItem("Overdue")
    chip.setData("error", TONE_ROLE)
    model.setItem(0, 0, chip)
    model.setItem(1, 0, QStandardItem("plain"))
    view = QTableView()
    view.setModel(model)
    view.setItemDelegateForColumn(0, ChipDelegate(view))
    view.resize(300, 200)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    error_bg = QColor(current_colors().error_bg)
    rows = [view.visualRect(model.index(r, 0)) for r in range(2)]
    hits = [
        sum(
            image.pixelColor(x, rect.center().y()) == error_bg
            for x in range(rect.left(), rect.right())
        )
        for rect in rows
    ]
    assert hits[0] > 20  # a chip's worth of error background on the toned row
    assert hits[1] == 0  # the plain row is drawn as ordinary text
