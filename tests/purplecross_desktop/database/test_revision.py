"""``make migration m=...`` / ``purplecross db revision``: a new field's migration is one
command on a fresh clone, and what it writes upgrades and downgrades on both backends."""

from __future__ import annotations

import json
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from purplecross_desktop.database.revision import (
    RevisionError,
    next_number,
    slugify,
    write_revision,
)
from purplecross_desktop.database.session import MIGRATIONS_DIR
from purplecross_desktop.schema_check import migration_heads
from tests.support.checkout import VENV, copy_checkout, run_in

#: The model change a developer makes first: two new patient fields, one of our own type.
NEW_FIELDS = (
    "    coat_length: Mapped[str | None] = mapped_column(sa.String(20))\n"
    "    coat_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)\n"
)
ANCHOR = "    colour: Mapped[str | None] = mapped_column(sa.String(60))\n"


def test_slugs_name_files_in_the_repositorys_style() -> None:
    assert slugify("Patient: coat length") == "patient_coat_length"
    assert slugify("  Ça va? Größe  ") == "ca_va_groe"
    assert slugify("a " * 40) == "_".join(["a"] * 20)
    assert slugify("x" * 60) == "x" * 40
    assert slugify("!!!") == ""


def test_the_next_number_follows_the_highest(tmp_path: Path) -> None:
    assert next_number(tmp_path) == 1
    for name in ("0001_a.py", "0009_b.py", "0003_c.py", "notes.py", "12_d.py"):
        (tmp_path / name).write_text("")
    assert next_number(tmp_path) == 10


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MIGRATIONS_DIR, tmp_path / "migrations"))


def _files(directory: Path) -> set[str]:
    return {p.name for p in (directory / "versions").glob("*.py")}


def test_no_difference_writes_nothing(migrations_copy: Path) -> None:
    before = _files(migrations_copy)
    with pytest.raises(RevisionError, match="no change to write: the models and the migrations"):
        write_revision("nothing changed", migrations_dir=migrations_copy)
    assert _files(migrations_copy) == before


def test_a_message_without_words_is_refused(migrations_copy: Path) -> None:
    with pytest.raises(RevisionError, match="message: must contain a letter or digit"):
        write_revision(" ?! ", migrations_dir=migrations_copy)
    assert not (migrations_copy / "versions" / "0012_.py").exists()


def test_two_heads_are_refused(migrations_copy: Path) -> None:
    """Two branches that both revise one parent (each merged without re-chaining)."""
    (migrations_copy / "versions" / "0099_side_branch.py").write_text(
        'revision = "0099_side_branch"\ndown_revision = "0001_clinic"\n'
        "def upgrade():\n    pass\ndef downgrade():\n    pass\n"
    )
    with pytest.raises(RevisionError, match="have 2 heads"):
        write_revision("one more", migrations_dir=migrations_copy)


@dataclass(frozen=True)
class Generated:
    checkout: Path
    path: Path
    output: str
    empty_output: str
    empty_code: int
    old_head: str


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A fresh copy of the repository where a developer adds two patient fields and runs
    ``make migration`` (with this test run's venv, so nothing is installed)."""
    checkout = copy_checkout(tmp_path_factory.mktemp("clone"))
    make = ["make", "--no-print-directory", f"VENV={VENV}", "STAMP="]
    versions = checkout / "purplecross_desktop/database/migrations/versions"
    (old_head,) = migration_heads(versions) or {"?"}
    # Before the model change there is nothing to write, and nothing is written.
    empty = run_in(checkout, [*make, "migration", "m=Patient: coat length"])
    assert sorted(p.name for p in versions.glob("*.py")) == sorted(
        p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")
    )
    model = checkout / "purplecross_desktop/domain/patients.py"
    text = model.read_text(encoding="utf-8")
    assert ANCHOR in text
    model.write_text(text.replace(ANCHOR, ANCHOR + NEW_FIELDS), encoding="utf-8")
    result = run_in(checkout, [*make, "migration", "m=Patient: coat length"])
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = set(versions.glob("*.py")) - {versions / n for n in _files(MIGRATIONS_DIR)}
    return Generated(
        checkout, path, result.stdout, empty.stdout + empty.stderr, empty.returncode, old_head
    )


@pytest.mark.slow
def test_make_migration_refuses_when_nothing_changed(generated: Generated) -> None:
    assert generated.empty_code != 0
    assert "no change to write" in generated.empty_output


@pytest.mark.slow
def test_make_migration_writes_the_next_numbered_file_formatted(generated: Generated) -> None:
    number = next_number(MIGRATIONS_DIR / "versions")
    assert generated.path.name == f"{number:04d}_patient_coat_length.py"
    relative = generated.path.relative_to(generated.checkout)
    assert f"wrote {relative} (revision {generated.path.stem}, revises {generated.old_head})" in (
        generated.output
    )
    source = generated.path.read_text(encoding="utf-8")
    assert source.startswith('"""Patient: coat length\n')
    assert f'revision: str = "{generated.path.stem}"' in source
    assert f'down_revision: str | None = "{generated.old_head}"' in source
    assert "from purplecross_desktop.database.base import UTCDateTime" in source
    # The start-up check reads the new head without Alembic.
    assert migration_heads(generated.path.parent) == {generated.path.stem}
    for args in (["check", relative], ["format", "--check", relative]):
        ruff = run_in(generated.checkout, [VENV / "bin" / "ruff", *args])
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    # The downgrade rebuilds patients on SQLite: the lower(name) index is written back.
    downgrade = source[source.index("def downgrade") :]
    assert '"ix_patients_name_lower"' in downgrade
    assert "if_not_exists=True" in downgrade


ROUND_TRIP = textwrap.dedent(
    """
    import json, sys, warnings
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from purplecross_desktop.database.models import metadata
    from purplecross_desktop.database.session import downgrade, make_engine, upgrade

    warnings.filterwarnings("ignore", message=".*expression-based index")
    url = sys.argv[1]

    def state():
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                inspector = sa.inspect(conn)
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                return {
                    "columns": sorted(c["name"] for c in inspector.get_columns("patients")),
                    "indexes": sorted(i["name"] for i in inspector.get_indexes("patients"))
                    if engine.dialect.name != "sqlite"
                    else sorted(conn.execute(sa.text(
                        "SELECT name FROM sqlite_master WHERE type = 'index'"
                        " AND tbl_name = 'patients' AND sql IS NOT NULL")).scalars()),
                    "diff": [str(d) for d in compare_metadata(context, metadata)],
                    "revision": context.get_current_revision(),
                }
        finally:
            engine.dispose()

    upgrade(url)
    head = state()
    downgrade(url, "-1")
    down = state()
    upgrade(url)
    print(json.dumps({"head": head, "down": down, "again": state()}))
    """
)


@pytest.mark.slow
def test_the_generated_migration_upgrades_and_downgrades(
    generated: Generated, database_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "round_trip.py"
    script.write_text(ROUND_TRIP, encoding="utf-8")
    result = run_in(generated.checkout, [VENV / "bin" / "python", script, database_url])
    assert result.returncode == 0, result.stderr
    states = json.loads(result.stdout.splitlines()[-1])
    head, down, again = states["head"], states["down"], states["again"]
    assert head["revision"] == again["revision"] == generated.path.stem
    assert down["revision"] == generated.old_head
    assert {"coat_length", "coat_checked_at"} <= set(head["columns"])
    assert not {"coat_length", "coat_checked_at"} & set(down["columns"])
    assert head["diff"] == again["diff"] == []
    assert "ix_patients_name_lower" in head["indexes"]
    assert down["indexes"] == head["indexes"] == again["indexes"]


def test_an_installed_copy_is_not_written_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a checkout (no pyproject.toml above the package) the command refuses."""
    from click.testing import CliRunner

    from purplecross_desktop import cli
    from purplecross_desktop.database import session

    installed = Path(shutil.copytree(MIGRATIONS_DIR, tmp_path / "site" / "pkg" / "db" / "mig"))
    monkeypatch.setattr(session, "MIGRATIONS_DIR", installed)
    result = CliRunner().invoke(cli.cli, ["db", "revision", "-m", "anything"])
    assert result.exit_code == 1
    assert "is an installed copy: run it from a checkout" in result.output
    assert _files(installed) == _files(MIGRATIONS_DIR)


def test_which_batch_blocks_rebuild_a_table_on_sqlite() -> None:
    """The rule Alembic's SQLite implementation applies, mirrored by the tool."""
    from alembic.operations import ops

    from purplecross_desktop.database.revision import _rebuilds_on_sqlite

    def block(*table_ops: ops.AlterTableOp) -> ops.ModifyTableOps:
        return ops.ModifyTableOps("patients", list(table_ops))

    plain = sa.Column("coat", sa.String(20))
    assert not _rebuilds_on_sqlite(block(ops.AddColumnOp("patients", plain)))
    assert not _rebuilds_on_sqlite(block(ops.CreateIndexOp("ix_coat", "patients", ["coat"])))
    assert _rebuilds_on_sqlite(block(ops.DropColumnOp("patients", "coat")))
    assert _rebuilds_on_sqlite(block(ops.AlterColumnOp("patients", "coat", modify_nullable=False)))
    computed = sa.Column("n", sa.Integer(), server_default=sa.text("1 + 1"))
    assert _rebuilds_on_sqlite(block(ops.AddColumnOp("patients", computed)))


def test_a_rebuilt_table_gets_its_expression_indexes_back_and_its_triggers_named(
    sqlite_url: str,
) -> None:
    from alembic.operations import ops

    from purplecross_desktop.database.revision import _restore_expression_indexes, _triggers
    from purplecross_desktop.database.session import upgrade

    container = ops.UpgradeOps(
        [
            ops.ModifyTableOps("patients", [ops.DropColumnOp("patients", "colour")]),
            ops.ModifyTableOps("appointments", [ops.DropColumnOp("appointments", "notes")]),
            ops.ModifyTableOps("rooms", [ops.AddColumnOp("rooms", sa.Column("x", sa.Text()))]),
        ]
    )
    assert _restore_expression_indexes(container) == {"patients", "appointments"}
    restored = [op for op in container.ops if isinstance(op, ops.CreateIndexOp)]
    assert [(op.index_name, op.if_not_exists) for op in restored] == [
        ("ix_patients_name_lower", True)
    ]
    assert container.ops.index(restored[0]) == 1  # right after the patients block
    upgrade(sqlite_url)
    assert _triggers(sqlite_url, {"patients", "appointments"}) == {
        "appointments": (
            "tr_appointments_no_overlap_insert",
            "tr_appointments_no_overlap_update",
        )
    }
