"""Write a new migration: ``purplecross db revision -m "..."`` (``make migration m=...``).

Alembic's autogenerate compares the models with a database that must already be at the
head. Done by hand that means finding, upgrading and pointing at some database (and a
relative SQLite path lands inside the repository); here it is one call that

1. upgrades a throwaway SQLite database in a temporary directory to the head,
2. autogenerates against the models (``purplecross_desktop.database.models``),
3. writes back, after every batch block that makes SQLite rebuild a table, the table's
   indexes on expressions (``lower(name)``), which the rebuild would silently drop,
4. names the file and the revision ``000N_slug`` (the next number after the highest one),
5. lint-fixes and formats the file with ruff, as CI checks it,
6. refuses to write anything when the models and the migrations already agree.

The throwaway database is SQLite, so what SQLite cannot reflect is not compared: a new
index on an expression and PostgreSQL-only objects must be written by hand.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops

from purplecross_desktop.database.session import MIGRATIONS_DIR, alembic_config, make_engine

#: ``0007_events.py`` -> 7: the number that orders the files of ``versions/``.
NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")
#: Longest slug kept in a file name (the message itself goes whole into the docstring).
MAX_SLUG = 40
#: A restored index as autogenerate renders it (one line, before ruff formats the file).
RESTORED = re.compile(r"^(\s*)op\.create_index\((['\"])\w+\2, (['\"])(\w+)\3, .*if_not_exists=True")


class RevisionError(Exception):
    """The revision cannot be written; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class NewRevision:
    """A migration file just written.

    Attributes:
        revision: its revision id, also the file's stem (``0012_patient_coat_length``).
        down_revision: the head it revises.
        path: where it was written.
        triggers: per table the migration rebuilds on SQLite, the triggers the table has:
            the rebuild drops them and the file must create them again (docs/developer.md,
            "Migrations"). Expression indexes are restored in the file already.
    """

    revision: str
    down_revision: str | None
    path: Path
    triggers: dict[str, tuple[str, ...]]


def slugify(message: str) -> str:
    """``"Patient: coat length"`` -> ``"patient_coat_length"`` (ASCII, at most 40 chars)."""
    ascii_text = unicodedata.normalize("NFKD", message).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}_{word}" if slug else word
        if len(candidate) > MAX_SLUG:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:MAX_SLUG]  # one very long word
    return slug


def next_number(versions_dir: Path) -> int:
    """One more than the highest ``000N_`` prefix in ``versions_dir`` (1 when empty)."""
    numbers = [
        int(match.group(1))
        for path in versions_dir.glob("*.py")
        if (match := NUMBERED.match(path.name))
    ]
    return max(numbers, default=0) + 1


def write_revision(
    message: str,
    *,
    migrations_dir: Path = MIGRATIONS_DIR,
    format_with_ruff: bool = True,
) -> NewRevision:
    """Autogenerate a migration for what the models have and the migrations lack.

    Args:
        message: what changed, in words; the first line of the file's docstring, and (as
            a slug) the end of its name.
        migrations_dir: the Alembic script directory (the packaged one by default).
        format_with_ruff: run ``ruff check --fix`` and ``ruff format`` on the new file.

    Returns:
        The new revision and its path.

    Raises:
        RevisionError: a message without words, several heads, no difference to write, or
            a file ruff cannot make clean (it is written, and the error says what to fix).
    """
    from alembic import command

    slug = slugify(message)
    if not slug:
        raise RevisionError("message: must contain a letter or digit (it names the file)")
    revision_id = f"{next_number(migrations_dir / 'versions'):04d}_{slug}"
    found_changes: list[bool] = []
    rebuilt: set[str] = set()

    def keep_only_changes(_context: Any, _revision: Any, directives: list[Any]) -> None:
        script = directives[0]
        found_changes.append(not script.upgrade_ops.is_empty())
        if script.upgrade_ops.is_empty():
            directives[:] = []  # nothing is written
            return
        for container in (script.upgrade_ops, script.downgrade_ops):
            rebuilt.update(_restore_expression_indexes(container))

    with tempfile.TemporaryDirectory(prefix="purplecross-revision-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        config = alembic_config(url)
        config.set_main_option("script_location", str(migrations_dir))
        config.set_main_option("file_template", "%%(rev)s")
        config.cmd_opts = argparse.Namespace(quiet=True)  # the caller says what was written
        heads = _heads(config)
        if len(heads) > 1:
            raise RevisionError(
                f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): "
                "chain them into one line first (each file's down_revision)"
            )
        command.upgrade(config, "head")
        with warnings.catch_warnings():
            # SQLite cannot reflect lower(name) indexes, so autogenerate warns that it does
            # not compare them; _restore_expression_indexes keeps them where they matter.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            script = command.revision(
                config,
                message=message.strip(),
                autogenerate=True,
                rev_id=revision_id,
                process_revision_directives=keep_only_changes,
            )
        triggers = _triggers(url, rebuilt)
    if not any(found_changes) or script is None or isinstance(script, list):
        raise RevisionError(
            "no change to write: the models and the migrations agree "
            "(save the model change first; indexes on expressions such as lower(name) "
            "and PostgreSQL-only objects are not compared and must be written by hand)"
        )
    path = Path(script.path)
    _comment_restored_indexes(path)
    if format_with_ruff:
        _ruff(path)
    down = script.down_revision
    return NewRevision(
        revision=revision_id,
        down_revision=down if isinstance(down, str) or down is None else ",".join(down),
        path=path,
        triggers=triggers,
    )


def _heads(config: Any) -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(config).get_heads())


def _rebuilds_on_sqlite(table_ops: ops.ModifyTableOps) -> bool:
    """Whether Alembic's batch mode copies the table to apply ``table_ops`` on SQLite (the
    rule of ``alembic.ddl.sqlite.SQLiteImpl.requires_recreate_in_batch``)."""
    for op in table_ops.ops:
        if isinstance(op, ops.AddColumnOp):
            default = op.column.server_default
            if isinstance(default, sa.DefaultClause) and isinstance(default.arg, sa.ClauseElement):
                return True
            if isinstance(default, sa.Computed) and default.persisted:
                return True
        elif not isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
            return True
    return False


def _restore_expression_indexes(container: ops.OpContainer) -> set[str]:
    """After each batch block that rebuilds a table on SQLite, create the table's expression
    indexes again (``if_not_exists``: on PostgreSQL the table was altered in place and they
    are still there). Returns the names of the rebuilt tables."""
    from purplecross_desktop.database.models import metadata

    rebuilt: set[str] = set()
    result: list[ops.MigrateOperation] = []
    for op in container.ops:
        result.append(op)
        if not isinstance(op, ops.ModifyTableOps) or not _rebuilds_on_sqlite(op):
            continue
        rebuilt.add(op.table_name)
        table = metadata.tables.get(op.table_name)
        indexes = sorted(table.indexes, key=lambda i: str(i.name)) if table is not None else []
        for index in indexes:
            if any(not isinstance(e, sa.Column) for e in index.expressions):
                restore = ops.CreateIndexOp.from_index(index)
                restore.if_not_exists = True
                result.append(restore)
    container.ops = result
    return rebuilt


def _comment_restored_indexes(path: Path) -> None:
    """Say above each restored index why it is there (the next reader would wonder)."""
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = RESTORED.match(line)
        if match:
            indent = match.group(1)
            lines.append(f"{indent}# SQLite rebuilt {match.group(4)} above, which drops its")
            lines.append(f"{indent}# expression indexes: create them again (no-op on PostgreSQL).")
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _triggers(url: str, tables: set[str]) -> dict[str, tuple[str, ...]]:
    """The triggers on ``tables`` in the SQLite database at ``url``, per table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {}
    for table, name in rows:
        if table in tables:
            found.setdefault(table, []).append(name)
    return {table: tuple(sorted(names)) for table, names in sorted(found.items())}


def _ruff(path: Path) -> None:
    """Lint-fix and format ``path`` with the repository's ruff settings."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise RevisionError(
            f"wrote {path}, but ruff is not installed to format it: "
            "install the development tools (pip install -e '.[dev]' -c constraints-dev.txt)"
        )
    for args in (["check", "--fix", "--quiet"], ["format", "--quiet"]):
        result = subprocess.run(
            [ruff, *args, str(path)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RevisionError(
                f"wrote {path}; ruff {args[0]} reports what to fix by hand:\n"
                f"{result.stdout}{result.stderr}"
            )
