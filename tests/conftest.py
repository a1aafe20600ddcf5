"""Shared fixtures: real Redis, real PostgreSQL, SQLite files, isolated settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.support.postgres import create_database, drop_database, require_postgres
from tests.support.redis_server import RedisServer


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's real settings, data dir or keyring."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith("PURPLECROSS_") and key != "PURPLECROSS_TEST_POSTGRES_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("PURPLECROSS_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("PURPLECROSS_CONFIG_FILE", str(home / "settings.toml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    # Grids remember layouts in QSettings(); keep those out of the real user config too.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(home / "config"))


@pytest.fixture(scope="session")
def redis_server_session() -> Iterator[RedisServer]:
    """One redis-server for the whole run; tests that must not share one use ``redis_server``."""
    server = RedisServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def redis_url(redis_server_session: RedisServer) -> str:
    """A URL of the shared test server, flushed before each test."""
    if not redis_server_session.is_running():
        redis_server_session.start()
    redis_server_session.flushall()
    return redis_server_session.url


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server that this test may SIGKILL and restart."""
    server = RedisServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'clinic.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    require_postgres()
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs on a SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    require_postgres()
    url = create_database()
    yield url
    drop_database(url)
