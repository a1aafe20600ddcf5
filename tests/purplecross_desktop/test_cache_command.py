"""``purplecross cache stats|clear`` on the configured clinic database's namespace."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from purplecross_desktop import cli_extensions
from purplecross_desktop.cache_wiring import build_cache_service
from purplecross_desktop.cli import cli
from purplecross_desktop.settings import load_settings
from tests.support.redis_server import RedisServer


@pytest.fixture
def runner() -> CliRunner:
    cli_extensions.register(cli)
    return CliRunner()


@pytest.fixture(params=["redis", "disk"])
def tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "redis":
        monkeypatch.setenv("PURPLECROSS_REDIS_URL", request.getfixturevalue("redis_url"))
    return str(request.param)


def seed() -> None:
    with build_cache_service(load_settings()) as cache:
        cache.set_many({"patient:1": 1, "patient:2": 2, "client:1": 3})


def test_stats_reports_the_tier_and_entries(runner: CliRunner, tier: str) -> None:
    seed()
    result = runner.invoke(cli, ["cache", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["tier"] == tier
    assert stats["tiers"][tier]["keys"] == 3
    text = runner.invoke(cli, ["cache", "stats"])
    assert text.exit_code == 0, text.output
    assert f"tier       {tier}" in text.output
    assert "namespace  sqlite-" in text.output


def test_clear_by_pattern_then_everything(runner: CliRunner, tier: str) -> None:
    seed()
    result = runner.invoke(cli, ["cache", "clear", "--pattern", "patient:*"])
    assert result.exit_code == 0, result.output
    assert "removed 2 entries matching 'patient:*'" in result.output
    with build_cache_service(load_settings()) as cache:
        assert cache.get_many(["patient:1", "patient:2", "client:1"]) == {"client:1": 3}
    result = runner.invoke(cli, ["cache", "clear"])
    assert "removed 1 entry matching '*'" in result.output


def test_clear_refuses_an_empty_pattern(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["cache", "clear", "--pattern", ""])
    assert result.exit_code == 2
    assert "--pattern" in result.output
    assert "must be a non-empty glob" in result.output


def test_clear_takes_any_glob_redis_takes(runner: CliRunner, tier: str) -> None:
    with build_cache_service(load_settings()) as cache:
        cache.set_many({"k:]": 1, "k:x": 2, "k:y": 3})
    result = runner.invoke(cli, ["cache", "clear", "--pattern", "k:[\\]x]"])
    assert result.exit_code == 0, result.output
    assert "removed 2 entries" in result.output
    with build_cache_service(load_settings()) as cache:
        assert cache.get_many(["k:]", "k:x", "k:y"]) == {"k:y": 3}


def test_clear_while_redis_is_down_is_applied_when_it_returns(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, redis_server: RedisServer
) -> None:
    monkeypatch.setenv("PURPLECROSS_REDIS_URL", redis_server.url)
    seed()
    redis_server.kill()
    result = runner.invoke(cli, ["cache", "clear", "--pattern", "patient:*"])
    assert result.exit_code == 0, result.output
    assert "Redis is unreachable" in result.output
    redis_server.start()  # empty again, but the point is the recorded removal
    result = runner.invoke(cli, ["cache", "stats", "--json"])
    stats = json.loads(result.output)
    assert (stats["tier"], stats["replay_pending"]) == ("redis", 0)
