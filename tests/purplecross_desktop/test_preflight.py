"""Before Qt starts: a missing display or xcb library gets a message naming what to do."""

from __future__ import annotations

import pytest

from purplecross_desktop import preflight


def test_offscreen_needs_nothing() -> None:
    assert preflight.check_display({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(
    not preflight.sys.platform.startswith("linux"), reason="X11 check is Linux-only"
)
def test_no_display_says_how_to_run_anyway() -> None:
    message = preflight.check_display({})
    assert message is not None
    assert "xvfb-run" in message
    assert "QT_QPA_PLATFORM=offscreen" in message


@pytest.mark.skipif(
    not preflight.sys.platform.startswith("linux"), reason="X11 check is Linux-only"
)
def test_missing_xcb_libraries_are_named_as_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    present = {"xcb-cursor"}
    monkeypatch.setattr(
        preflight.ctypes.util,
        "find_library",
        lambda name: f"lib{name}.so" if name in present else None,
    )
    message = preflight.check_display({"DISPLAY": ":0"})
    assert message is not None
    assert "apt-get install" in message
    assert "libxcb-icccm4" in message
    assert "libxcb-keysyms1" in message
    assert "libxcb-cursor0" not in message


def test_all_libraries_present_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.ctypes.util, "find_library", lambda name: f"lib{name}.so")
    assert preflight.check_display({"DISPLAY": ":0"}) is None


def test_this_machine_reports_what_it_lacks() -> None:
    """Against the real loader: whatever is missing here is named by its package."""
    missing = preflight.missing_xcb_packages()
    assert all(package in preflight.XCB_LIBRARIES.values() for package in missing)
