"""Widget tests run under the real theme (the QSS sets sizes, colours and focus rings)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from widgets.theme import apply_theme


@pytest.fixture(autouse=True)
def themed_app(qapp: QApplication) -> QApplication:
    """The QApplication with the light theme applied."""
    apply_theme(qapp, "light")
    return qapp
