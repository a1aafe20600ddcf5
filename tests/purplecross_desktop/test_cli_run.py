"""`purplecross run` on a configuration it cannot start on says what to do, no traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from purplecross_desktop.cli import cli


@pytest.mark.postgres
def test_an_old_server_schema_asks_for_db_upgrade(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PURPLECROSS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1
    assert "is not at this version's schema" in result.output
    assert "purplecross db upgrade" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_server_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PURPLECROSS_DATABASE_URL", "postgresql+psycopg://clinic:secret@127.0.0.1:1/clinic"
    )
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 1
    assert "cannot reach the clinic database at postgresql+psycopg://clinic:***@" in result.output
    assert "secret" not in result.output
