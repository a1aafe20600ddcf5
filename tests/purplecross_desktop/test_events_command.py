"""``purplecross events``: list and search recorded events on a migrated database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.event_dispatch import DurableHandler, EventDispatcher, EventHandlers
from purplecross_desktop import cli_extensions
from purplecross_desktop.cli import cli
from purplecross_desktop.cli_time import parse_when
from purplecross_desktop.database import make_engine, make_session_factory
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.services import build_services


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    upgrade(url)
    cli_extensions.register(cli)
    return url


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["events", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_events_lists_newest_first_with_deliveries_and_filters(url: str) -> None:
    engine = make_engine(url)
    services = build_services(make_session_factory(engine), EventBus("front-desk-2"))
    ada = services.clients.create(ClientData(name="Ada", email="ada@example.org"))
    services.clients.update(ada.id, {"city": "London"})
    services.rooms.create("Room 1")
    handlers = EventHandlers()
    handlers.add(DurableHandler("crm", ("client.*",), lambda e: ["job-1"]))
    EventDispatcher(engine, handlers).dispatch()
    engine.dispose()

    lines = [json.loads(line) for line in _run("--json", "--name", "client.*").splitlines()]
    assert [e["name"] for e in lines] == ["client.updated", "client.created"]
    created = lines[1]
    assert created["entity"] == "client"
    assert created["entity_id"] == ada.id
    assert created["workstation"] == "front-desk-2"
    assert created["data"]["name"] == "Ada"
    assert created["deliveries"] == [
        {
            "handler": "crm",
            "state": "done",
            "attempts": 1,
            "finished_at": created["deliveries"][0]["finished_at"],
            "error": None,
            "job_ids": ["job-1"],
        }
    ]
    text = _run("--since", "1h")
    assert "room.created" in text
    assert "crm:done (1 jobs)" in text
    assert "front-desk-2" in text
    assert _run("--since", "2999-01-01").strip() == "no events"


def test_a_bad_since_names_the_option_and_the_forms(url: str) -> None:
    result = CliRunner().invoke(cli, ["events", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "--since" in result.output
    assert "30m, 2h, 7d, 1w" in result.output


def test_since_accepts_durations_and_iso_times() -> None:
    now = dt.datetime(2031, 3, 3, 12, 0, tzinfo=dt.UTC)
    assert parse_when("90m", now=now) == now - dt.timedelta(minutes=90)
    assert parse_when("2d", now=now) == now - dt.timedelta(days=2)
    assert parse_when("1.5h", now=now) == now - dt.timedelta(minutes=90)
    assert parse_when("2031-03-01", now=now, tz=dt.UTC) == dt.datetime(2031, 3, 1, tzinfo=dt.UTC)
    assert parse_when("2031-03-01T09:00+01:00", now=now).utcoffset() == dt.timedelta(hours=1)


def test_a_zoneless_since_is_the_clinics_local_time_as_for_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """events, webhooks and jobs read ``--since 2031-03-01T09:00`` alike: 09:00 at the clinic."""
    monkeypatch.setenv("PURPLECROSS_CLINIC_TIMEZONE", "America/Chicago")
    moment = parse_when("2031-03-01T09:00")
    assert moment == dt.datetime(2031, 3, 1, 15, 0, tzinfo=dt.UTC)  # CST is UTC-6
    assert parse_when("2031-03-01T09:00", "--until") == moment
    monkeypatch.setenv("PURPLECROSS_CLINIC_TIMEZONE", "UTC")
    assert parse_when("2031-03-01T09:00") == dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_an_age_reaching_before_the_year_one_is_refused_with_the_option_named() -> None:
    result = CliRunner().invoke(cli, ["events", "--since", "1000000d"])
    assert result.exit_code == 2
    assert "'--since': '1000000d' reaches back before the year 1" in result.output


def test_event_retention_is_a_whole_number_of_days_of_at_least_one() -> None:
    from purplecross_desktop.settings import SettingsError, load_settings

    assert load_settings(env={}).event_retention_days == 90
    env = {"PURPLECROSS_EVENT_RETENTION_DAYS": "0"}
    with pytest.raises(SettingsError, match="event_retention_days: must be at least 1"):
        load_settings(env=env, config_file=Path("/nonexistent.toml"))
    assert load_settings(env={"PURPLECROSS_EVENT_RETENTION_DAYS": "30"}).event_retention_days == 30
