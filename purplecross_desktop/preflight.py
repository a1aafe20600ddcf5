"""Checks before Qt starts, so that a missing display or library gets a clear message.

Qt's own message for a missing xcb dependency ("Could not load the Qt platform plugin
xcb ... This application failed to start") names no package; this module does. It is
also ``make run``'s set-up step (``python -m purplecross_desktop.preflight``): where it
may (root or passwordless sudo, and apt-get), it installs the missing libraries the way
``scripts/ensure-redis-server`` installs Redis; elsewhere it prints the commands. The app
and the set-up read the one list below, so they never disagree.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SystemLibrary:
    """A shared library Qt's xcb platform plugin loads, and the packages that ship it.

    Attributes:
        name: the name ``ctypes.util.find_library`` looks up (``xcb-icccm`` for
            ``libxcb-icccm.so.4``).
        debian: the Debian/Ubuntu package.
        fedora: the Fedora package.
    """

    name: str
    debian: str
    fedora: str


#: Every library libqxcb.so and libQt6XcbQpa.so of the pinned PySide6 link against that a
#: minimal Linux may lack (tests/purplecross_desktop/test_preflight.py checks this list
#: against the installed plugin).
QT_XCB_LIBRARIES: tuple[SystemLibrary, ...] = (
    SystemLibrary("xcb", "libxcb1", "libxcb"),
    SystemLibrary("X11-xcb", "libx11-xcb1", "libX11-xcb"),
    SystemLibrary("xcb-cursor", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLibrary("xcb-icccm", "libxcb-icccm4", "xcb-util-wm"),
    SystemLibrary("xcb-keysyms", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLibrary("xcb-image", "libxcb-image0", "xcb-util-image"),
    SystemLibrary("xcb-util", "libxcb-util1", "xcb-util"),
    SystemLibrary("xcb-render", "libxcb-render0", "libxcb"),
    SystemLibrary("xcb-render-util", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLibrary("xcb-shape", "libxcb-shape0", "libxcb"),
    SystemLibrary("xcb-shm", "libxcb-shm0", "libxcb"),
    SystemLibrary("xcb-xkb", "libxcb-xkb1", "libxcb"),
    SystemLibrary("xcb-randr", "libxcb-randr0", "libxcb"),
    SystemLibrary("xcb-xfixes", "libxcb-xfixes0", "libxcb"),
    SystemLibrary("xcb-sync", "libxcb-sync1", "libxcb"),
    SystemLibrary("xkbcommon", "libxkbcommon0", "libxkbcommon"),
    SystemLibrary("xkbcommon-x11", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLibrary("EGL", "libegl1", "libglvnd-egl"),
    SystemLibrary("GL", "libgl1", "libglvnd-glx"),
    SystemLibrary("fontconfig", "libfontconfig1", "fontconfig"),
)

#: library name -> Debian/Ubuntu package (the same list, for messages and old callers).
XCB_LIBRARIES: dict[str, str] = {lib.name: lib.debian for lib in QT_XCB_LIBRARIES}

#: Looks a library up by name; returns a path/soname, or None when it is not installed.
LibraryLookup = Callable[[str], str | None]

HEADLESS_PLATFORMS = {"offscreen", "minimal", "vnc"}


def missing_xcb_libraries(find: LibraryLookup | None = None) -> list[SystemLibrary]:
    """The libraries of :data:`QT_XCB_LIBRARIES` the loader cannot find."""
    finder = find or ctypes.util.find_library
    return [lib for lib in QT_XCB_LIBRARIES if not finder(lib.name)]


def missing_xcb_packages(find: LibraryLookup | None = None) -> list[str]:
    """Debian packages whose libraries the xcb platform plugin needs but cannot find."""
    return _unique(lib.debian for lib in missing_xcb_libraries(find))


def install_commands(missing: Sequence[SystemLibrary]) -> str:
    """The exact commands that install ``missing``, for Debian/Ubuntu and for Fedora."""
    debian = " ".join(_unique(lib.debian for lib in missing))
    fedora = " ".join(_unique(lib.fedora for lib in missing))
    return (
        f"    Debian/Ubuntu:  sudo apt-get install {debian}\n"
        f"    Fedora:         sudo dnf install {fedora}"
    )


def no_display_message(run_command: str = "purplecross run") -> str:
    """One line: there is no screen, and the two ways to run anyway."""
    return (
        "No display (DISPLAY and WAYLAND_DISPLAY are unset): run "
        f"`xvfb-run -a {run_command}` for a virtual screen, or "
        f"`QT_QPA_PLATFORM=offscreen {run_command}` for a headless smoke start."
    )


def needs_x11(env: Mapping[str, str], platform: str = sys.platform) -> bool | None:
    """Whether Qt will use its X11 (xcb) plugin: True, False, or None when there is no
    display at all (the caller says so)."""
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa in HEADLESS_PLATFORMS or qpa.startswith("wayland") or not platform.startswith("linux"):
        return False
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return None
    return bool(env.get("DISPLAY"))


def check_display(
    env: Mapping[str, str] | None = None,
    find: LibraryLookup | None = None,
    run_command: str = "purplecross run",
) -> str | None:
    """None when Qt can open a window; otherwise what to do about it, in plain words."""
    env = os.environ if env is None else env
    x11 = needs_x11(env)
    if x11 is None:
        return no_display_message(run_command)
    if not x11:
        return None
    missing = missing_xcb_libraries(find)
    if missing:
        return (
            "Qt's X11 (xcb) plugin needs system libraries that this machine lacks. "
            f"Install them, then run the app again:\n{install_commands(missing)}"
        )
    return None


# The set-up step of `make run` -------------------------------------------------------


@dataclass(frozen=True)
class Machine:
    """What the set-up may do here: who we are and which tools exist."""

    is_root: bool
    has_passwordless_sudo: bool
    has_apt: bool

    @classmethod
    def this_one(cls) -> Machine:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        sudo = False
        if not is_root and shutil.which("sudo"):
            probe = subprocess.run(["sudo", "-n", "true"], capture_output=True, check=False)
            sudo = probe.returncode == 0
        return cls(is_root, sudo, shutil.which("apt-get") is not None)


@dataclass(frozen=True)
class SetupPlan:
    """What ``make run``'s set-up decided.

    Attributes:
        action: ``ready`` (start the app), ``no-display``, ``install`` (run ``commands``,
            then start) or ``instruct`` (print ``message`` and stop).
        message: what to tell the user (empty when ready).
        missing: the libraries that are missing.
        commands: the commands to run, in order, for ``install``.
    """

    action: Literal["ready", "no-display", "install", "instruct"]
    message: str = ""
    missing: tuple[SystemLibrary, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()


def plan_setup(
    env: Mapping[str, str],
    find: LibraryLookup,
    machine: Machine,
    run_command: str = "make run",
    platform: str = sys.platform,
) -> SetupPlan:
    """Decide what ``make run`` must do before Qt starts (nothing is run here)."""
    x11 = needs_x11(env, platform)
    if x11 is None:
        return SetupPlan("no-display", no_display_message(run_command))
    if not x11:
        return SetupPlan("ready")
    missing = tuple(missing_xcb_libraries(find))
    if not missing:
        return SetupPlan("ready")
    packages = _unique(lib.debian for lib in missing)
    if machine.has_apt and (machine.is_root or machine.has_passwordless_sudo):
        prefix: tuple[str, ...] = () if machine.is_root else ("sudo", "-n")
        return SetupPlan(
            "install",
            "Qt's X11 (xcb) plugin needs system libraries that this machine lacks: "
            f"installing {' '.join(packages)} with apt-get (Debian/Ubuntu packages).",
            missing,
            (
                (*prefix, "apt-get", "update", "-qq"),
                (*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages),
            ),
        )
    reason = (
        "apt-get is not available"
        if not machine.has_apt
        else "installing needs root (or passwordless sudo)"
    )
    return SetupPlan(
        "instruct",
        "Qt's X11 (xcb) plugin needs system libraries that this machine lacks, and "
        f"{reason}. Install them, then run `{run_command}` again:\n{install_commands(missing)}",
        missing,
    )


def setup(
    env: Mapping[str, str] | None = None,
    find: LibraryLookup | None = None,
    machine: Machine | None = None,
    run: Callable[[Sequence[str]], int] | None = None,
    out: Callable[[str], None] | None = None,
    run_command: str = "make run",
) -> int:
    """Carry out :func:`plan_setup`; returns the exit status (0: start the app).

    Args:
        env: the environment (``os.environ``).
        find: the library lookup (``ctypes.util.find_library``).
        machine: what may be done here (:meth:`Machine.this_one`).
        run: runs one command and returns its exit status.
        out: prints one message (to stderr).
        run_command: how the user started this, for the hints.
    """
    env = os.environ if env is None else env
    finder = find or ctypes.util.find_library
    say = out or (lambda text: print(text, file=sys.stderr))
    plan = plan_setup(env, finder, machine or Machine.this_one(), run_command)
    if plan.action == "ready":
        return 0
    say(plan.message)
    if plan.action != "install":
        return 1
    runner = run or _run
    for command in plan.commands:
        status = runner(command)
        if status != 0:
            say(
                f"`{' '.join(command)}` failed (exit {status}). Install them yourself, then "
                f"run `{run_command}` again:\n{install_commands(plan.missing)}"
            )
            return 1
    still = missing_xcb_libraries(finder)
    if still:
        say(
            "Installed, but the loader still cannot find "
            f"{', '.join('lib' + lib.name for lib in still)}; install these, then run "
            f"`{run_command}` again:\n{install_commands(still)}"
        )
        return 1
    return 0


def _run(command: Sequence[str]) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(list(command), env=env, check=False, stdout=subprocess.DEVNULL).returncode


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m purplecross_desktop.preflight``: ``make run``'s set-up step."""
    parser = argparse.ArgumentParser(
        prog="python -m purplecross_desktop.preflight",
        description="Install the system libraries Qt needs where allowed; else say how.",
    )
    parser.add_argument("--run-command", default="make run", help="named in the hints")
    args = parser.parse_args(argv)
    return setup(run_command=args.run_command)


if __name__ == "__main__":
    sys.exit(main())
