"""``purplecross health``: embedded, with Redis up, with Redis killed, database unreachable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from purplecross_desktop import cli_extensions
from purplecross_desktop.cli import cli
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.settings import load_settings
from tests.support.redis_server import RedisServer, free_port


@pytest.fixture(autouse=True)
def _commands() -> None:
    cli_extensions.register(cli)


def _health(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["health", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def _upgraded() -> None:
    upgrade(load_settings().effective_database_url)


def test_embedded_mode_is_healthy() -> None:
    _upgraded()
    code, report = _health()
    checks = _checks(report)
    assert (code, report["status"], report["reasons"]) == (0, "healthy", [])
    assert checks["redis"]["summary"].startswith("not configured")
    assert checks["smtp"]["summary"].startswith("outbox mode")
    assert checks["database"]["facts"]["revision"] == checks["database"]["facts"]["head"]
    assert checks["cache"]["facts"]["tier"] == "disk"
    assert checks["disk"]["facts"]["free_bytes"] > 0


def test_schema_behind_is_degraded() -> None:
    code, report = _health()  # no migrations run at all
    assert code == 1
    assert report["status"] == "degraded"
    assert any("purplecross db upgrade" in r for r in report["reasons"])


def test_redis_up_then_killed(monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer) -> None:
    _upgraded()
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", redis_server.url)
    code, report = _health()
    redis = _checks(report)["redis"]
    assert (code, redis["status"]) == (0, "healthy")
    assert redis["facts"]["version"]
    assert redis["facts"]["used_memory"] > 0
    redis_server.kill()
    code, report = _health()
    checks = _checks(report)
    assert (code, report["status"]) == (1, "degraded")
    assert checks["redis"]["status"] == "degraded"
    assert checks["cache"]["status"] == "degraded"
    assert checks["database"]["status"] == "healthy"


def test_database_unreachable_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    code, report = _health()
    checks = _checks(report)
    assert (code, report["status"]) == (2, "down")
    assert checks["database"]["summary"].startswith("unreachable")
    assert "queues" not in checks  # nothing to read them from


def test_text_output_names_each_check() -> None:
    _upgraded()
    result = CliRunner().invoke(cli, ["health"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "Overall: healthy"
    assert {line.split()[0] for line in result.output.splitlines()[1:]} == {
        "database",
        "redis",
        "queues",
        "cache",
        "smtp",
        "disk",
    }
