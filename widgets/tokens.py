"""Design tokens: the one palette (light and dark), spacing, radii and font sizes.

Every colour a widget paints or a style sheet uses comes from here; widgets never
hold colour literals. Both themes are built from the same token names, so a widget
written against ``Colors`` works in either theme. The text/background pairs the
widgets actually use are listed in ``TEXT_PAIRS`` and meet WCAG AA (4.5:1); a test
checks every pair in both themes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final, Literal

ThemeName = Literal["light", "dark"]
THEME_NAMES: Final[tuple[ThemeName, ...]] = ("light", "dark")


@dataclass(frozen=True, slots=True)
class Colors:
    """The colour tokens of one theme, as ``#rrggbb`` strings.

    Names say the role, never the hue: ``primary`` is the brand action colour,
    ``on_primary`` the text drawn on it, ``info_bg``/``info_text`` an info alert.
    """

    # Surfaces and text
    window: str
    surface: str
    surface_alt: str
    border: str
    border_strong: str
    text: str
    text_muted: str
    link: str
    focus_ring: str
    selection: str
    on_selection: str
    # Button variants: resting, hover, pressed, text on top
    primary: str
    primary_hover: str
    primary_pressed: str
    on_primary: str
    secondary: str
    secondary_hover: str
    secondary_pressed: str
    on_secondary: str
    danger: str
    danger_hover: str
    danger_pressed: str
    on_danger: str
    success: str
    success_hover: str
    success_pressed: str
    on_success: str
    disabled: str
    on_disabled: str
    # Alert kinds: background, border, text, icon
    info_bg: str
    info_border: str
    info_text: str
    info_icon: str
    success_bg: str
    success_border: str
    success_text: str
    success_icon: str
    warning_bg: str
    warning_border: str
    warning_text: str
    warning_icon: str
    error_bg: str
    error_border: str
    error_text: str
    error_icon: str

    def as_dict(self) -> dict[str, str]:
        """Every token by name (used by the theme builder and the gallery docs)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


LIGHT: Final = Colors(
    window="#f6f5fa",
    surface="#ffffff",
    surface_alt="#f0eef6",
    border="#d6d2e3",
    border_strong="#8f89a3",
    text="#1f1b2e",
    text_muted="#5b5670",
    link="#5b21b6",
    focus_ring="#2563eb",
    selection="#6d28d9",
    on_selection="#ffffff",
    primary="#6d28d9",
    primary_hover="#5b21b6",
    primary_pressed="#4c1d95",
    on_primary="#ffffff",
    secondary="#ece8f5",
    secondary_hover="#ddd6ee",
    secondary_pressed="#cfc6e6",
    on_secondary="#3b2368",
    danger="#b42318",
    danger_hover="#912018",
    danger_pressed="#7a1a13",
    on_danger="#ffffff",
    success="#15803d",
    success_hover="#166534",
    success_pressed="#14532d",
    on_success="#ffffff",
    disabled="#e4e1ec",
    on_disabled="#5f5b6e",
    info_bg="#e8f1fc",
    info_border="#9ec5f0",
    info_text="#0b4a8b",
    info_icon="#1d64c2",
    success_bg="#e7f6ec",
    success_border="#9fd8b2",
    success_text="#115c2e",
    success_icon="#15803d",
    warning_bg="#fff6e0",
    warning_border="#f0cf7e",
    warning_text="#7a4a00",
    warning_icon="#a15c00",
    error_bg="#fdecea",
    error_border="#f2aaa3",
    error_text="#8f1d14",
    error_icon="#b42318",
)

DARK: Final = Colors(
    window="#16141d",
    surface="#211e2b",
    surface_alt="#2a2636",
    border="#3d3850",
    border_strong="#7d7694",
    text="#ece9f5",
    text_muted="#a9a3bd",
    link="#c4b0f5",
    focus_ring="#60a5fa",
    selection="#7346c8",
    on_selection="#ffffff",
    primary="#7346c8",
    primary_hover="#8052d6",
    primary_pressed="#6239b3",
    on_primary="#ffffff",
    secondary="#2e2840",
    secondary_hover="#3a3350",
    secondary_pressed="#453d5e",
    on_secondary="#d9ccf5",
    danger="#b91c1c",
    danger_hover="#c92a2a",
    danger_pressed="#991b1b",
    on_danger="#ffffff",
    success="#15803d",
    success_hover="#157a3b",
    success_pressed="#166534",
    on_success="#ffffff",
    disabled="#2a2636",
    on_disabled="#9590a8",
    info_bg="#132a45",
    info_border="#2c5282",
    info_text="#a8cdf5",
    info_icon="#6aaef0",
    success_bg="#12311f",
    success_border="#276b40",
    success_text="#a6e3b8",
    success_icon="#4fc27a",
    warning_bg="#3a2a08",
    warning_border="#7a5a12",
    warning_text="#f5d38a",
    warning_icon="#f0b429",
    error_bg="#3d1614",
    error_border="#8a2c25",
    error_text="#f5b1aa",
    error_icon="#f0776b",
)

#: (foreground token, background token) pairs that carry text; each must reach 4.5:1.
TEXT_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("text", "window"),
    ("text", "surface"),
    ("text", "surface_alt"),
    ("text_muted", "window"),
    ("text_muted", "surface"),
    ("text_muted", "surface_alt"),
    ("link", "surface"),
    ("on_selection", "selection"),
    ("on_primary", "primary"),
    ("on_primary", "primary_hover"),
    ("on_primary", "primary_pressed"),
    ("on_secondary", "secondary"),
    ("on_secondary", "secondary_hover"),
    ("on_secondary", "secondary_pressed"),
    ("on_danger", "danger"),
    ("on_danger", "danger_hover"),
    ("on_danger", "danger_pressed"),
    ("on_success", "success"),
    ("on_success", "success_hover"),
    ("on_success", "success_pressed"),
    ("on_disabled", "disabled"),
    ("info_text", "info_bg"),
    ("success_text", "success_bg"),
    ("warning_text", "warning_bg"),
    ("error_text", "error_bg"),
    # FormField's inline error sits on the page or on a card
    ("error_text", "window"),
    ("error_text", "surface"),
    ("error_text", "surface_alt"),
)

#: (graphic token, background token) pairs for icons and focus rings: 3:1 (WCAG 1.4.11).
GRAPHIC_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("focus_ring", "window"),
    ("focus_ring", "surface"),
    ("border_strong", "surface"),
    ("info_icon", "info_bg"),
    ("success_icon", "success_bg"),
    ("warning_icon", "warning_bg"),
    ("error_icon", "error_bg"),
)


def colors_for(theme: ThemeName) -> Colors:
    """The colour tokens of ``theme``."""
    if theme == "light":
        return LIGHT
    if theme == "dark":
        return DARK
    raise ValueError(f"theme: must be one of {', '.join(THEME_NAMES)}, got {theme!r}")


class Spacing:
    """Spacing steps in device-independent pixels (a 4 px grid)."""

    XS: Final = 4
    SM: Final = 8
    MD: Final = 12
    LG: Final = 16
    XL: Final = 24


class Radius:
    """Corner radii in pixels."""

    SM: Final = 4
    MD: Final = 6
    LG: Final = 10


class FontSize:
    """Font sizes in pixels."""

    SMALL: Final = 12
    BODY: Final = 14
    LARGE: Final = 16
    TITLE: Final = 18


class ControlHeight:
    """Minimum heights of controls per size, in pixels (large is a comfortable touch target)."""

    SMALL: Final = 28
    MEDIUM: Final = 36
    LARGE: Final = 44


FOCUS_RING_WIDTH: Final = 2
BORDER_WIDTH: Final = 1


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"color: must be #rrggbb, got {color!r}")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)
