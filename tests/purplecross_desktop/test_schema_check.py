"""The start-up schema check agrees with Alembic without importing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from purplecross_desktop.database.session import alembic_config, downgrade, upgrade
from purplecross_desktop.schema_check import migration_heads, schema_is_current


def test_the_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert migration_heads() == set(script.get_heads())


def test_a_database_is_current_only_at_the_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    assert not schema_is_current(url)  # no alembic_version table yet
    upgrade(url)
    assert schema_is_current(url)
    downgrade(url, "-1")
    assert not schema_is_current(url)


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_branches_and_merges_give_the_right_heads(tmp_path: Path) -> None:
    _write(tmp_path, "a.py", 'revision = "a"\ndown_revision = None\n')
    _write(tmp_path, "b.py", 'revision: str = "b"\ndown_revision: str | None = "a"\n')
    _write(tmp_path, "c.py", 'revision = "c"\ndown_revision = "a"\n')
    assert migration_heads(tmp_path) == {"b", "c"}
    _write(tmp_path, "d.py", 'revision = "d"\ndown_revision = ("b", "c")\n')
    assert migration_heads(tmp_path) == {"d"}


@pytest.mark.parametrize(
    "text",
    [
        "revision = make_id()\ndown_revision = None\n",
        "down_revision = None\n",
        'revision = "x"\ndown_revision = 3\n',
    ],
)
def test_a_file_that_does_not_say_plainly_means_unsure(tmp_path: Path, text: str) -> None:
    _write(tmp_path, "x.py", text)
    assert migration_heads(tmp_path) is None
