"""Before Qt starts: a missing display or xcb library gets a message naming what to do, and
`make run`'s set-up installs the libraries where it may."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from purplecross_desktop import preflight
from purplecross_desktop.preflight import QT_XCB_LIBRARIES, Machine, setup

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is Linux-only")
ALL = {lib.name for lib in QT_XCB_LIBRARIES}
ROOT_WITH_APT = Machine(is_root=True, has_passwordless_sudo=False, has_apt=True)


class FakeSystem:
    """A package lookup over a set of installed libraries; "apt-get install" adds to it."""

    def __init__(self, installed: set[str], install_works: bool = True, status: int = 0) -> None:
        self.installed = set(installed)
        self.install_works = install_works
        self.status = status
        self.commands: list[tuple[str, ...]] = []
        self.messages: list[str] = []
        self.lookups = 0

    def find(self, name: str) -> str | None:
        self.lookups += 1
        return f"lib{name}.so" if name in self.installed else None

    def run(self, command: Sequence[str]) -> int:
        self.commands.append(tuple(command))
        if "install" in command and self.install_works and self.status == 0:
            by_package = {lib.debian: lib.name for lib in QT_XCB_LIBRARIES}
            self.installed |= {by_package[arg] for arg in command if arg in by_package}
        return self.status

    def setup(self, machine: Machine, env: dict[str, str] | None = None) -> int:
        return setup(
            env={"DISPLAY": ":0"} if env is None else env,
            find=self.find,
            machine=machine,
            run=self.run,
            out=self.messages.append,
        )


def test_offscreen_needs_nothing() -> None:
    assert preflight.check_display({"QT_QPA_PLATFORM": "offscreen"}) is None


@linux_only
def test_no_display_says_how_to_run_anyway_in_one_line() -> None:
    message = preflight.check_display({})
    assert message is not None
    assert "\n" not in message
    assert "xvfb-run -a purplecross run" in message
    assert "QT_QPA_PLATFORM=offscreen" in message


@linux_only
def test_missing_xcb_libraries_are_named_as_packages_for_debian_and_fedora() -> None:
    message = preflight.check_display({"DISPLAY": ":0"}, find=FakeSystem(ALL - {"xcb-icccm"}).find)
    assert message is not None
    assert "sudo apt-get install libxcb-icccm4\n" in message
    assert message.endswith("sudo dnf install xcb-util-wm")


def test_all_libraries_present_is_fine() -> None:
    assert preflight.check_display({"DISPLAY": ":0"}, find=FakeSystem(ALL).find) is None


def test_this_machine_reports_what_it_lacks() -> None:
    """Against the real loader: whatever is missing here is named by its package."""
    missing = preflight.missing_xcb_packages()
    assert all(package in preflight.XCB_LIBRARIES.values() for package in missing)


@linux_only
def test_the_list_covers_every_x11_library_of_the_installed_qt_plugin() -> None:
    """The list must follow the pinned PySide6: every xcb/xkb/GL/fontconfig library the
    xcb plugin links against is in it (so the set-up installs all of them)."""
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    plugin = [qt / "plugins" / "platforms" / "libqxcb.so", *(qt / "lib").glob("libQt6XcbQpa.so*")]
    out = subprocess.run(["ldd", *map(str, plugin)], capture_output=True, text=True, check=True)
    needed = set(
        re.findall(r"\blib(xcb[\w-]*|X11-xcb|xkbcommon[\w-]*|EGL|GL|fontconfig)\.so", out.stdout)
    )
    assert "xcb-icccm" in needed  # the parse found the plugin's libraries
    assert sorted(needed - ALL) == []


# make run's set-up: the decisions, on a fake package lookup --------------------------


@linux_only
def test_setup_with_everything_installed_does_nothing() -> None:
    system = FakeSystem(ALL)
    assert system.setup(ROOT_WITH_APT) == 0
    assert system.commands == []
    assert system.messages == []


@linux_only
@pytest.mark.parametrize(
    ("machine", "prefix"),
    [
        (ROOT_WITH_APT, ()),
        (Machine(is_root=False, has_passwordless_sudo=True, has_apt=True), ("sudo", "-n")),
    ],
    ids=["root", "passwordless-sudo"],
)
def test_setup_installs_what_is_missing_with_apt(machine: Machine, prefix: tuple[str, ...]) -> None:
    system = FakeSystem(ALL - {"xcb-icccm", "xcb-keysyms"})
    assert system.setup(machine) == 0
    assert system.commands == [
        (*prefix, "apt-get", "update", "-qq"),
        (*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends",
         "libxcb-icccm4", "libxcb-keysyms1"),
    ]  # fmt: skip
    assert system.messages == [
        "Qt's X11 (xcb) plugin needs system libraries that this machine lacks: installing "
        "libxcb-icccm4 libxcb-keysyms1 with apt-get (Debian/Ubuntu packages)."
    ]
    assert system.installed == ALL


@linux_only
@pytest.mark.parametrize(
    ("machine", "reason"),
    [
        (Machine(is_root=False, has_passwordless_sudo=False, has_apt=True), "needs root"),
        (Machine(is_root=True, has_passwordless_sudo=False, has_apt=False), "apt-get is not"),
    ],
    ids=["no-root-no-sudo", "no-apt"],
)
def test_setup_prints_the_commands_when_it_may_not_install(machine: Machine, reason: str) -> None:
    system = FakeSystem(ALL - {"xcb-icccm", "xcb-shape", "xcb-sync"})
    assert system.setup(machine) == 1
    assert system.commands == []
    (message,) = system.messages
    assert reason in message
    assert (
        "Debian/Ubuntu:  sudo apt-get install libxcb-icccm4 libxcb-shape0 libxcb-sync1\n" in message
    )
    assert message.endswith("Fedora:         sudo dnf install xcb-util-wm libxcb")
    assert "run `make run` again" in message


@linux_only
def test_setup_stops_when_apt_fails() -> None:
    system = FakeSystem(ALL - {"xcb-icccm"}, status=100)
    assert system.setup(ROOT_WITH_APT) == 1
    assert len(system.commands) == 1  # nothing after the failed update
    assert "failed (exit 100)" in system.messages[-1]
    assert "sudo apt-get install libxcb-icccm4" in system.messages[-1]


@linux_only
def test_setup_says_so_when_the_install_did_not_help() -> None:
    system = FakeSystem(ALL - {"xcb-icccm"}, install_works=False)
    assert system.setup(ROOT_WITH_APT) == 1
    assert "still cannot find libxcb-icccm" in system.messages[-1]


@linux_only
def test_setup_without_a_display_says_how_to_run_in_one_line() -> None:
    system = FakeSystem(set())
    assert system.setup(ROOT_WITH_APT, env={}) == 1
    assert system.commands == []
    assert system.lookups == 0
    (message,) = system.messages
    assert "\n" not in message
    assert "`xvfb-run -a make run`" in message
    assert "`QT_QPA_PLATFORM=offscreen make run`" in message


@pytest.mark.parametrize(
    "env", [{"QT_QPA_PLATFORM": "offscreen"}, {"WAYLAND_DISPLAY": "wayland-0"}]
)
def test_setup_without_x11_needs_no_xcb_library(env: dict[str, str]) -> None:
    system = FakeSystem(set())
    assert system.setup(ROOT_WITH_APT, env=env) == 0
    assert system.commands == []


@linux_only
def test_the_set_up_step_as_make_runs_it() -> None:
    """`python -m purplecross_desktop.preflight` exits 0 silently when Qt is headless, and
    with no display prints the one line and exits 1."""
    module = [sys.executable, "-m", "purplecross_desktop.preflight"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    ok = subprocess.run(module, env=env, capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    env.pop("QT_QPA_PLATFORM")
    headless = subprocess.run(module, env=env, capture_output=True, text=True, check=False)
    assert headless.returncode == 1
    assert headless.stderr.count("\n") == 1
    assert headless.stderr.startswith("No display")
