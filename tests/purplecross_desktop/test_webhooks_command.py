"""``purplecross webhooks``: add, list, show, test, rotate, disable/enable, replay, deliveries,
remove and the catalogue, on a migrated database against a verifying receiver."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from purplecross_desktop import cli_extensions
from purplecross_desktop.cli import cli
from purplecross_desktop.database.session import upgrade
from purplecross_desktop.domain.webhooks import CATALOGUE
from tests.jobs.webhook_receiver import Receiver


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", url)
    monkeypatch.setenv("PURPLECROSS_DATA_DIR", str(tmp_path / "data"))
    upgrade(url)
    cli_extensions.register(cli)
    with Receiver() as server:
        yield server


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["webhooks", *args])
    assert result.exit_code == code, result.output
    return result


def test_the_admin_workflow_from_the_command_line(receiver: Receiver) -> None:
    added = _run(
        "add",
        receiver.url,
        "--events",
        "client.*,appointment.booked",
        "--description",
        "Lab bridge",
        "--allow-local-network",
    ).output
    secret = re.search(r"secret: (whsec_\S+)", added)
    assert secret is not None
    receiver.secrets.append(secret.group(1))
    assert "not shown again" in added

    listed = _run("list", "--json").output
    [endpoint] = [json.loads(line) for line in listed.splitlines()]
    assert endpoint["events"] == ["appointment.booked", "client.*"]
    assert secret.group(1) not in listed

    tested = _run("test", str(endpoint["id"])).output
    assert "webhook-signature: v1," in tested
    assert "-> 200" in tested
    [request] = receiver.received()
    assert request.verified

    rotated = _run("rotate-secret", str(endpoint["id"])).output
    new_secret = re.search(r"secret: (whsec_\S+)", rotated)
    assert new_secret is not None
    assert new_secret.group(1) != secret.group(1)
    _run("test", str(endpoint["id"]))
    assert len(receiver.received()[-1].headers["webhook-signature"].split()) == 2

    log = [json.loads(x) for x in _run("deliveries", "--json").output.splitlines()]
    assert [(x["event_type"], x["status"], x["trigger"]) for x in log] == [
        ("webhook.test", 200, "test")
    ] * 2
    shown = _run("show", str(endpoint["id"])).output
    assert "webhook.test" in shown
    assert "Lab bridge" in shown

    _run("disable", str(endpoint["id"]), "--reason", "lab moving")
    assert "lab moving" in _run("list").output
    _run("enable", str(endpoint["id"]), "--recover-since", "1h")
    assert "enabled" in _run("list").output

    replayed = _run("replay", log[0]["msg_id"]).output
    assert "queued again" in replayed
    assert (
        "0 failed or missed message(s)"
        in _run("replay", "--endpoint", str(endpoint["id"]), "--since", "1d").output
    )

    _run("remove", str(endpoint["id"]), "--yes")
    assert "no endpoints" in _run("list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "ftp://lab.example.org/x", "--events", "client.*"], "url: must be an http://"),
        (["add", "http://10.1.2.3/x", "--events", "client.*"], "url: must use https://"),
        (
            ["add", "https://lab.example.org/x", "--events", "client.eaten"],
            "events: 'client.eaten'",
        ),
        (
            [
                "add",
                "https://lab.example.org/x",
                "--events",
                "client.*",
                "--description",
                "x" * 501,
            ],
            "description: at most 500",
        ),
        (["show", "99"], "webhook endpoint 99: not found"),
        (["replay"], "either MSG_ID or --endpoint"),
    ],
)
def test_bad_input_says_which_field_and_rule(
    receiver: Receiver, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["webhooks", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "no endpoints" in _run("list").output


def test_the_catalogue_lists_every_event_type_with_schema_and_example(receiver: Receiver) -> None:
    text = _run("events").output
    assert all(name in text for name in CATALOGUE)
    entries = json.loads(_run("events", "--json").output)
    booked = next(e for e in entries if e["type"] == "appointment.booked")
    assert booked["version"] == 1
    assert set(booked["example"]["data"]) == set(
        booked["schema"]["properties"]["data"]["properties"]
    )
