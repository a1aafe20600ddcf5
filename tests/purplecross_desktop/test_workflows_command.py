"""``purplecross workflows``: the whole life of a workflow from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from purplecross_desktop import cli_extensions
from purplecross_desktop.cli import cli
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


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["workflows", *args], catch_exceptions=False)


def _run(*args: str) -> str:
    result = _invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_a_template_enable_export_and_get_it_back(url: str, tmp_path: Path) -> None:
    assert "vaccination-due" in _run("templates")
    assert _run("import", "no-show-follow-up") == (
        "workflow 1 'No-show follow-up': version 1, disabled\n"
    )
    assert "disabled  v1   on appointment.status_changed" in _run("list")
    assert _run("enable", "No-show follow-up") == "workflow 1 'No-show follow-up': enabled\n"
    exported = tmp_path / "flow.yaml"
    _run("export", "1", "-o", str(exported))
    data = yaml.safe_load(exported.read_text("utf-8"))
    assert data["settings"]["enabled"] is True
    # Re-importing the export changes nothing; a changed time makes version 2.
    assert _run("import", str(exported)).endswith(": unchanged, enabled\n")
    data["steps"][1]["with"]["at"] = "10:00"
    exported.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    assert _run("import", str(exported)).endswith(": version 2, enabled\n")
    assert (
        json.loads(_run("export", "1", "--version", "1", "--format", "json"))["steps"][1]["with"][
            "at"
        ]
        == "09:00"
    )
    assert "versions: v1" in _run("show", "1")
    assert _run("disable", "1", "--running", "cancel").endswith("0 running run(s) cancelled\n")


def test_validate_lists_every_problem_and_fails(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                "name": "Bad",
                "trigger": {"type": "event", "event": "client.created"},
                "steps": [
                    {"id": "a", "action": "send_email", "with": {"to": "owner"}},
                    {"id": "b", "action": "wait", "with": {}},
                ],
            }
        ),
        "utf-8",
    )
    result = _invoke("validate", str(bad))
    assert result.exit_code == 1
    assert "workflow 'Bad', step 'a', with.subject: is required by send_email" in result.output
    assert (
        "workflow 'Bad', step 'b', with: wait needs a duration, an until or an at" in result.output
    )
    assert _invoke("import", str(bad)).exit_code == 1
    assert "no workflows yet" in _run("list")
    assert _run("validate", "new-client-welcome") == "new-client-welcome: valid (3 steps)\n"


def test_a_dry_run_against_a_past_event_prints_each_step(url: str) -> None:
    engine = make_engine(url)
    services = build_services(make_session_factory(engine), EventBus("desk"))
    services.clients.create(ClientData(name="Ada", email="ada@example.org"))
    engine.dispose()
    _run("import", "new-client-welcome", "--enable")
    out = _run("run", "New client welcome", "--event", "1", "--dry-run")
    assert out.splitlines()[1] == (
        "welcome (send_email): email ada@example.org: Welcome to the clinic, Ada"
    )
    assert _run("runs") == "no runs\n"


def test_run_checks_inputs_and_starts_a_run(url: str, tmp_path: Path) -> None:
    flow = tmp_path / "manual.yaml"
    flow.write_text(
        yaml.safe_dump(
            {
                "name": "By hand",
                "trigger": {"type": "manual", "inputs": {"client_id": "integer"}},
                "steps": [{"id": "done", "action": "stop", "with": {"reason": "nothing to do"}}],
                "settings": {"enabled": True},
            }
        ),
        "utf-8",
    )
    _run("import", str(flow))
    bad = _invoke("run", "By hand", "--input", '{"client_id": "x"}')
    assert bad.exit_code == 1
    assert "inputs.client_id: must be integer" in bad.output
    assert _run("run", "By hand", "--input", '{"client_id": 5}') == (
        "run 1 started; `purplecross workflows runs` shows how it goes\n"
    )
    assert "ready" in _run("runs", "By hand")
    not_failed = _invoke("retry", "1")
    assert not_failed.exit_code == 1
    assert "run: only a failed run can be retried; run 1 is ready" in not_failed.output
    assert _run("runs", "--failed") == "no runs\n"
