"""What the cache tells the admin: the Health page rows and the CLI, without secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytestqt.qtbot import QtBot

from purplecross_desktop import cli_extensions
from purplecross_desktop.app import build_context, build_window, shutdown
from purplecross_desktop.cli import cli
from purplecross_desktop.settings import load_settings, mask_url
from purplecross_desktop.ui.pages.health_page import HealthPage
from tests.support.redis_server import RedisServer

SECRET = "s3cret-pw"


@pytest.mark.parametrize(
    "url",
    [
        f"redis://127.0.0.1:6379/0?password={SECRET}",
        f"redis://127.0.0.1:6379/0?socket_timeout=1&password={SECRET}&db=2",
        f"rediss://cache.clinic:6380/0?PASSWORD={SECRET}",
        f"redis://user:{SECRET}@127.0.0.1:6379/0?password={SECRET}",
        f"postgresql+psycopg://u@db.clinic/vet?password={SECRET}",
    ],
)
def test_mask_url_hides_a_password_given_as_a_query_parameter(url: str) -> None:
    masked = mask_url(url)
    assert SECRET not in masked
    assert "***" in masked
    assert masked.split("?")[0].rsplit("@", 1)[-1] == url.split("?")[0].rsplit("@", 1)[-1]


def test_mask_url_leaves_urls_without_secrets_alone() -> None:
    for url in ("redis://127.0.0.1:6379/0?db=2", "sqlite:///x.db", "unix:///run/redis.sock"):
        assert mask_url(url) == url


@pytest.fixture
def redis_with_password() -> Iterator[RedisServer]:
    server = RedisServer(password=SECRET)
    server.start()
    yield server
    server.cleanup()


def test_cache_stats_never_prints_a_query_password(
    redis_with_password: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", f"{redis_with_password.url}?password={SECRET}")
    cli_extensions.register(cli)
    result = CliRunner().invoke(cli, ["cache", "stats"])
    assert result.exit_code == 0, result.output
    assert "tier       redis" in result.output  # the password in the query worked
    assert SECRET not in result.output


@pytest.mark.gui
def test_the_health_page_never_shows_a_query_password(
    redis_with_password: RedisServer, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", f"{redis_with_password.url}?password={SECRET}")
    context = build_context(load_settings(), start_jobs=False)
    try:
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("health")
        assert isinstance(page, HealthPage)
        qtbot.waitUntil(lambda: any(label == "Cache tier" for label, _ in page.rows), timeout=10000)
        rows = dict(page.rows)
        assert "Redis ping" in rows, rows
        assert rows["Cache tier"].startswith("redis")
        assert all(SECRET not in f"{label} {value}" for label, value in page.rows)
    finally:
        shutdown(context)


@pytest.mark.gui
def test_a_corrupt_disk_cache_is_set_aside_and_the_health_page_says_so(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Issue 16, case 2: the app starts with an empty disk tier and tells the admin."""
    settings = load_settings()
    database = settings.cache_path / "values" / "cache.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"\x00 this is not a database \xff" * 300)
    with caplog.at_level("WARNING"):
        context = build_context(settings, start_jobs=False)
    try:
        assert "could not be read (DatabaseError: file is not a database)" in caplog.text
        window = build_window(context)
        qtbot.addWidget(window)
        page = window.show_page("health")
        assert isinstance(page, HealthPage)
        qtbot.waitUntil(lambda: any(label == "Cache tier" for label, _ in page.rows), timeout=10000)
        rows = dict(page.rows)
        notice = rows["Cache notice"]
        assert notice.startswith(f"The disk cache at {settings.cache_path / 'values'} could not")
        assert "moved aside to" in notice
        assert "started empty" in notice
        assert rows["Cache disk"].endswith("0 errors")
        window.resize(900, 600)
        window.grab().save(str(tmp_path / "health-corrupt-cache.png"))
    finally:
        shutdown(context)
    aside = [p for p in settings.cache_path.iterdir() if p.name.startswith("values.unreadable-")]
    assert len(aside) == 1


def test_cache_stats_says_a_disk_cache_was_set_aside() -> None:
    settings = load_settings()
    database = settings.cache_path / "values" / "cache.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"\x00 this is not a database \xff" * 300)
    cli_extensions.register(cli)
    result = CliRunner().invoke(cli, ["cache", "stats"])
    assert result.exit_code == 0, result.output
    assert "notice     The disk cache at" in result.output
    assert "moved aside to" in result.output
