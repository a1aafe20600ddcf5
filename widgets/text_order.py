"""The grid's text order: :func:`textorder.fold_text`, the app's one definition."""

from __future__ import annotations

from textorder import fold_text as fold_text

__all__ = ["fold_text"]
