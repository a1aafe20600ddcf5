"""Checks before Qt starts, so that a missing display or library gets a clear message.

Qt's own message for a missing xcb dependency ("Could not load the Qt platform plugin
xcb ... This application failed to start") names no package; this module does.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# library soname stem -> Debian/Ubuntu package that ships it (Qt 6.5+ xcb plugin needs).
XCB_LIBRARIES: dict[str, str] = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-randr": "libxcb-randr0",
    "xcb-xfixes": "libxcb-xfixes0",
    "xcb-sync": "libxcb-sync1",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
    "GL": "libgl1",
}


def missing_xcb_packages(find: object = None) -> list[str]:
    """Debian packages whose libraries the xcb platform plugin needs but cannot find."""
    finder = find if callable(find) else ctypes.util.find_library
    return [package for lib, package in XCB_LIBRARIES.items() if not finder(lib)]


def check_display(env: dict[str, str] | None = None) -> str | None:
    """None when Qt can open a window; otherwise what to do about it, in plain words."""
    env = dict(os.environ) if env is None else env
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform in {"offscreen", "minimal", "vnc"} or platform.startswith("wayland"):
        return None
    if not sys.platform.startswith("linux"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "No display: DISPLAY and WAYLAND_DISPLAY are unset, so there is no screen to open "
            "the window on. Run it from a desktop session, under a virtual screen "
            "(xvfb-run -a purplecross run), or headless with QT_QPA_PLATFORM=offscreen."
        )
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return None
    missing = missing_xcb_packages()
    if missing:
        return (
            "Qt's X11 (xcb) plugin needs system libraries that this machine lacks. Install them "
            f"with:\n    sudo apt-get install {' '.join(missing)}\n"
            "(on Fedora: sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms), "
            "then run the app again."
        )
    return None
