"""Is a database at the migrations' head? Answered at app start without importing Alembic.

Running Alembic's upgrade on a current database executes the migration environment
(every table module, the jobs stack) and importing Alembic alone costs ~0.15 s (Mako,
Pygments); reading the revision identifiers from the migration files and one
``alembic_version`` query answers the same question in a few milliseconds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sqlalchemy as sa

from purplecross_desktop.database.session import MIGRATIONS_DIR, make_engine


def migration_heads(versions_dir: Path = MIGRATIONS_DIR / "versions") -> set[str] | None:
    """Revisions no other migration revises; None when a file does not say plainly."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions_dir.glob("*.py"):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    return None
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, tuple | list):
            revised.update(str(item) for item in down)
        elif down is not None:
            return None
    return (revisions - revised) or None


def schema_is_current(url: str) -> bool:
    """True when the database at ``url`` is stamped with exactly the migrations' heads
    (False when unsure: the caller then runs the upgrade, which is always safe)."""
    heads = migration_heads()
    if heads is None:
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return False
            stamped = conn.execute(sa.text("select version_num from alembic_version"))
            return set(stamped.scalars()) == heads
    finally:
        engine.dispose()
