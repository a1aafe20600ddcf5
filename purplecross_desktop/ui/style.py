"""Style of the app's own chrome (navigation, page headings), built from the widget tokens."""

from __future__ import annotations

from widgets.tokens import Colors, FontSize, Radius, Spacing


def chrome_qss(c: Colors) -> str:
    """QSS for the main window; set on the window so the app-wide theme stays untouched."""
    return f"""
QFrame#sidebar {{ background: {c.surface_alt}; border-right: 1px solid {c.border}; }}
QFrame#userPanel {{ border-top: 1px solid {c.border}; }}
QLabel#userName {{ color: {c.text}; font-weight: 600; font-size: {FontSize.BODY}px; }}
QLabel#userRole {{ color: {c.text_muted}; font-size: {FontSize.SMALL}px; }}
QWidget#signInScreen {{ background: {c.window}; }}
QListWidget#navigation {{
    background: {c.surface_alt};
    border: none;
    padding: {Spacing.SM}px;
    font-size: {FontSize.BODY}px;
    outline: none;
}}
QListWidget#navigation::item {{
    color: {c.text};
    padding: {Spacing.SM}px {Spacing.MD}px;
    border-radius: {Radius.MD}px;
    margin: 1px 0;
}}
QListWidget#navigation::item:hover {{ background: {c.surface}; }}
QListWidget#navigation::item:selected {{ background: {c.primary}; color: {c.on_primary}; }}
QListWidget#navigation::item:focus {{ border: 2px solid {c.focus_ring}; }}
QLabel#pageHeading {{
    color: {c.text}; font-size: {round(FontSize.TITLE * 4 / 3)}px; font-weight: 600;
}}
QStatusBar {{
    background: {c.surface_alt}; color: {c.text_muted}; border-top: 1px solid {c.border};
}}
QStatusBar QLabel {{ color: {c.text_muted}; padding: 0 {Spacing.SM}px; }}
"""
