"""Tokens: both themes complete, WCAG AA contrast for every text pair, clear errors."""

from __future__ import annotations

import re

import pytest

from widgets.tokens import (
    DARK,
    GRAPHIC_PAIRS,
    LIGHT,
    TEXT_PAIRS,
    THEME_NAMES,
    colors_for,
    contrast_ratio,
    relative_luminance,
)


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_pairs_meet_wcag_aa(theme: str, fg: str, bg: str) -> None:
    colors = colors_for(theme)  # type: ignore[arg-type]
    ratio = contrast_ratio(getattr(colors, fg), getattr(colors, bg))
    assert ratio >= 4.5, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"


@pytest.mark.parametrize("theme", THEME_NAMES)
@pytest.mark.parametrize(("fg", "bg"), GRAPHIC_PAIRS)
def test_graphics_meet_non_text_contrast(theme: str, fg: str, bg: str) -> None:
    colors = colors_for(theme)  # type: ignore[arg-type]
    ratio = contrast_ratio(getattr(colors, fg), getattr(colors, bg))
    assert ratio >= 3.0, f"{theme}: {fg} on {bg} is {ratio:.2f}:1"


def test_contrast_ratio_known_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)


def test_every_token_is_a_hex_colour_in_both_themes() -> None:
    assert LIGHT.as_dict().keys() == DARK.as_dict().keys()
    for colors in (LIGHT, DARK):
        for name, value in colors.as_dict().items():
            assert re.fullmatch(r"#[0-9a-f]{6}", value), name


def test_themes_differ_where_it_matters() -> None:
    assert LIGHT.window != DARK.window
    assert relative_luminance(DARK.window) < relative_luminance(LIGHT.window)


def test_bad_theme_and_colour_are_named() -> None:
    with pytest.raises(ValueError, match="theme: must be one of light, dark"):
        colors_for("blue")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="color: must be #rrggbb"):
        relative_luminance("#fff")
