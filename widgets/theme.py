"""The theme: a QSS style sheet and a QPalette built from the tokens, applied to the app.

``apply_theme(app, "light" | "dark" | "system")`` sets the Fusion style, the palette and
the style sheet; ``"system"`` follows ``QStyleHints.colorScheme()``. ``ThemeManager``
keeps following the OS while the user has not picked a theme and announces changes.
Widgets that paint by hand read the active tokens with ``current_colors()``.
"""

from __future__ import annotations

from typing import Final, Literal, cast

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from widgets.tokens import (
    BORDER_WIDTH,
    FOCUS_RING_WIDTH,
    Colors,
    ControlHeight,
    FontSize,
    Radius,
    Spacing,
    ThemeName,
    colors_for,
)

ThemeMode = Literal["light", "dark", "system"]
THEME_MODES: Final[tuple[ThemeMode, ...]] = ("light", "dark", "system")

#: Application property holding the active theme name, read by ``current_theme()``.
THEME_PROPERTY: Final = "pc_theme"

#: Space kept around a button for its focus ring, so focusing never moves the layout.
FOCUS_MARGIN: Final = FOCUS_RING_WIDTH + 1


def resolve_mode(mode: str, scheme: Qt.ColorScheme | None = None) -> ThemeName:
    """The concrete theme for ``mode``; ``"system"`` uses ``scheme`` or asks the OS.

    An unknown scheme (platforms that do not report one) counts as light.

    Raises:
        ValueError: ``mode`` is not light, dark or system.
    """
    if mode not in THEME_MODES:
        raise ValueError(f"theme: must be one of {', '.join(THEME_MODES)}, got {mode!r}")
    if mode == "light":
        return "light"
    if mode == "dark":
        return "dark"
    if scheme is None:
        gui = QGuiApplication.instance()
        if isinstance(gui, QGuiApplication):
            scheme = gui.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def current_theme() -> ThemeName:
    """The theme last applied to the running application (light before any)."""
    app = QGuiApplication.instance()
    value = app.property(THEME_PROPERTY) if app is not None else None
    return "dark" if value == "dark" else "light"


def current_colors() -> Colors:
    """The colour tokens of the active theme, for widgets that paint by hand."""
    return colors_for(current_theme())


def build_palette(colors: Colors) -> QPalette:
    """A QPalette for the stock Qt widgets (line edits, lists, menus) from the tokens."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: colors.window,
        QPalette.ColorRole.WindowText: colors.text,
        QPalette.ColorRole.Base: colors.surface,
        QPalette.ColorRole.AlternateBase: colors.surface_alt,
        QPalette.ColorRole.Text: colors.text,
        QPalette.ColorRole.Button: colors.surface_alt,
        QPalette.ColorRole.ButtonText: colors.text,
        QPalette.ColorRole.BrightText: colors.on_danger,
        QPalette.ColorRole.Highlight: colors.selection,
        QPalette.ColorRole.HighlightedText: colors.on_selection,
        QPalette.ColorRole.ToolTipBase: colors.surface,
        QPalette.ColorRole.ToolTipText: colors.text,
        QPalette.ColorRole.PlaceholderText: colors.text_muted,
        QPalette.ColorRole.Link: colors.link,
        QPalette.ColorRole.LinkVisited: colors.link,
        QPalette.ColorRole.Light: colors.surface,
        QPalette.ColorRole.Midlight: colors.surface_alt,
        QPalette.ColorRole.Mid: colors.border,
        QPalette.ColorRole.Dark: colors.border_strong,
        QPalette.ColorRole.Shadow: colors.border_strong,
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colors.on_disabled))
    palette.setColor(
        QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, QColor(colors.disabled)
    )
    return palette


def _button_rules(c: Colors, px: _Px) -> str:
    rules = [
        f"""
Button {{
    margin: {px(FOCUS_MARGIN)}px;
    border: {px(BORDER_WIDTH)}px solid transparent;
    border-radius: {px(Radius.MD)}px;
    padding: 0px {px(Spacing.LG)}px;
    min-height: {px(ControlHeight.MEDIUM - 2 * BORDER_WIDTH)}px;
    font-size: {px(FontSize.BODY)}px;
    font-weight: 600;
}}
Button[button_size="small"] {{
    padding: 0px {px(Spacing.MD)}px;
    min-height: {px(ControlHeight.SMALL - 2 * BORDER_WIDTH)}px;
    font-size: {px(FontSize.SMALL)}px;
    border-radius: {px(Radius.SM)}px;
}}
Button[button_size="large"] {{
    padding: 0px {px(Spacing.XL)}px;
    min-height: {px(ControlHeight.LARGE - 2 * BORDER_WIDTH)}px;
    font-size: {px(FontSize.LARGE)}px;
    border-radius: {px(Radius.LG)}px;
}}"""
    ]
    for variant in ("primary", "secondary", "danger", "success"):
        rest, hover, pressed, on = (
            getattr(c, variant),
            getattr(c, f"{variant}_hover"),
            getattr(c, f"{variant}_pressed"),
            getattr(c, f"on_{variant}"),
        )
        border = c.border if variant == "secondary" else rest
        sel = f'Button[variant="{variant}"]'
        rules.append(
            f"""
{sel} {{ background: {rest}; color: {on}; border-color: {border}; }}
{sel}:hover, {sel}[sim_state="hover"] {{ background: {hover}; border-color: {hover}; }}
{sel}:pressed, {sel}[sim_state="pressed"] {{ background: {pressed}; border-color: {pressed}; }}"""
        )
    rules.append(
        f"""
Button:disabled, Button[variant]:disabled {{
    background: {c.disabled}; color: {c.on_disabled}; border-color: {c.border};
}}"""
    )
    return "".join(rules)


# Combo and spin boxes keep Fusion's arrows (a style sheet border would drop them); their
# outline and focus ring are drawn by TokenStyle instead.
_INPUTS = ("QLineEdit", "QPlainTextEdit", "QTextEdit")


def _input_rules(c: Colors, px: _Px) -> str:
    """Text inputs: a visible outline, a focus ring in ``focus_ring`` (2 px, the padding
    shrinks by the extra pixel so the text never moves), and ``[invalid="true"]`` in the
    error colour (set by FormField while its input breaks a rule)."""

    def each(suffix: str) -> str:
        return ", ".join(f"{name}{suffix}" for name in _INPUTS)

    pad_v, pad_h = px(Spacing.XS), px(Spacing.SM)
    invalid = each('[invalid="true"]')
    return f"""
{each("")} {{
    background: {c.surface};
    color: {c.text};
    border: {px(BORDER_WIDTH)}px solid {c.border_strong};
    border-radius: {px(Radius.SM)}px;
    padding: {pad_v}px {pad_h}px;
    selection-background-color: {c.selection};
    selection-color: {c.on_selection};
}}
{invalid} {{ border-color: {c.error_icon}; }}
{each(":focus")} {{
    border: {px(FOCUS_RING_WIDTH)}px solid {c.focus_ring};
    padding: {max(0, pad_v - 1)}px {max(0, pad_h - 1)}px;
}}
{each(":disabled")} {{
    background: {c.disabled}; color: {c.on_disabled}; border-color: {c.border};
}}
QAbstractSpinBox QLineEdit, QComboBox QLineEdit, QAbstractSpinBox QLineEdit:focus,
QComboBox QLineEdit:focus {{
    border: none; padding: 0px; background: transparent;
}}
QComboBox QAbstractItemView {{
    background: {c.surface}; color: {c.text}; border: 1px solid {c.border};
    selection-background-color: {c.selection}; selection-color: {c.on_selection};
}}
QCheckBox {{ color: {c.text}; spacing: {px(Spacing.SM)}px; }}"""


class _Px:
    """Scales a pixel token (the gallery shows widgets at 100-200 %)."""

    def __init__(self, scale: float) -> None:
        self._scale = scale

    def __call__(self, value: int) -> int:
        return max(1, round(value * self._scale)) if value else 0


def build_qss(colors: Colors, scale: float = 1.0) -> str:
    """The style sheet of our widgets for ``colors`` at ``scale`` (1.0 = 100 %).

    Raises:
        ValueError: ``scale`` is not between 0.5 and 4.
    """
    if not 0.5 <= scale <= 4:
        raise ValueError(f"scale: must be between 0.5 and 4, got {scale!r}")
    px = _Px(scale)
    c = colors
    alerts = "".join(
        f"""
Alert[kind="{kind}"] {{
    background: {getattr(c, f"{kind}_bg")};
    border: {px(BORDER_WIDTH)}px solid {getattr(c, f"{kind}_border")};
    border-radius: {px(Radius.MD)}px;
}}
Alert[kind="{kind}"] QLabel {{ color: {getattr(c, f"{kind}_text")}; background: transparent; }}"""
        for kind in ("info", "success", "warning", "error")
    )
    return f"""
QToolTip {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border}; }}
{_button_rules(c, px)}
{_input_rules(c, px)}
Card {{
    background: {c.surface};
    border: {px(BORDER_WIDTH)}px solid {c.border};
    border-radius: {px(Radius.LG)}px;
}}
Card QLabel {{ color: {c.text}; background: transparent; font-size: {px(FontSize.BODY)}px; }}
Card QLabel#card_title {{ font-size: {px(FontSize.TITLE)}px; font-weight: 600; }}
Card QLabel#card_subtitle {{ color: {c.text_muted}; font-size: {px(FontSize.SMALL)}px; }}
FormField QLabel#form_field_label {{
    color: {c.text}; font-size: {px(FontSize.SMALL)}px; font-weight: 600;
}}
FormField QLabel#form_field_hint {{ color: {c.text_muted}; font-size: {px(FontSize.SMALL)}px; }}
FormField QLabel#form_field_error {{ color: {c.error_text}; font-size: {px(FontSize.SMALL)}px; }}
Card QFrame#card_divider {{ background: {c.border}; border: none; max-height: {px(1)}px; }}
{alerts}
Alert QLabel, AlertIcon, AlertCloseButton {{ font-size: {px(FontSize.BODY)}px; }}
Alert QLabel#alert_title {{ font-weight: 600; }}
"""


def apply_theme(
    app: QApplication,
    mode: str = "system",
    scale: float = 1.0,
    scheme: Qt.ColorScheme | None = None,
) -> ThemeName:
    """Style ``app`` with the tokens of ``mode`` and return the concrete theme applied.

    Sets the Fusion style (the only built-in style that honours a dark palette on every
    OS, with token-coloured check boxes: ``TokenStyle``), the token palette and the style
    sheet, and records the theme for ``current_colors()``. ``scheme`` overrides the OS
    colour scheme for "system".

    Raises:
        ValueError: ``mode`` is not light, dark or system (nothing is changed).
    """
    theme = resolve_mode(mode, scheme)
    colors = colors_for(theme)
    if app.property(THEME_PROPERTY) is None:
        # Once: a style sheet wraps the style in a proxy whose name() is empty.
        from widgets.token_style import TokenStyle  # it paints with current_colors()

        app.setStyle(TokenStyle())
    app.setProperty(THEME_PROPERTY, theme)
    # Re-applying the same theme is free: setting a style sheet re-polishes every widget.
    palette = build_palette(colors)
    if app.palette() != palette:
        app.setPalette(palette)
    sheet = build_qss(colors, scale)
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
    return theme


class ThemeManager(QObject):
    """Applies the user's theme choice and follows the OS scheme while it is "system".

    Args:
        app: the application to style.
        mode: "light", "dark" or "system" (the default).

    Signals:
        sig_theme_changed(str): the concrete theme ("light" or "dark") just applied.
    """

    sig_theme_changed = Signal(str)

    def __init__(self, app: QApplication, mode: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._mode: ThemeMode = "system"
        self._theme: ThemeName | None = None
        self._scheme: Qt.ColorScheme | None = None
        app.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)
        self.set_mode(mode)

    @property
    def mode(self) -> ThemeMode:
        """What the user picked: light, dark or system."""
        return self._mode

    @property
    def theme(self) -> ThemeName:
        """The theme in effect."""
        return self._theme or "light"

    def set_mode(self, mode: str) -> None:
        """Pick light, dark or system; re-styles the app and emits when the theme changes.

        Raises:
            ValueError: ``mode`` is not light, dark or system (nothing is changed).
        """
        resolve_mode(mode, self._scheme)  # validate before touching anything
        self._mode = cast(ThemeMode, mode)
        self._apply()

    def _apply(self) -> None:
        theme = apply_theme(self._app, self._mode, scheme=self._scheme)
        if theme != self._theme:
            self._theme = theme
            self.sig_theme_changed.emit(theme)

    def _on_color_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        self._scheme = scheme
        if self._mode == "system":
            self._apply()
