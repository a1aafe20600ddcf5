"""Durations as people read them, for the monitor and the command line (Qt-free)."""

from __future__ import annotations


def milliseconds(value: float | None) -> str:
    """A duration as people read it: "-" when unknown, "850 ms", "12.4 s", "3.0 min"."""
    if value is None:
        return "-"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"
