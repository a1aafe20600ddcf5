"""The staff sign-in migration: the practice manager role and the last sign-in time arrive,
the name index survives SQLite's table copy, and going back maps managers to front desk."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from purplecross_desktop.database import make_engine
from purplecross_desktop.database.session import alembic_config, downgrade, upgrade


def _staff_roles_revision() -> tuple[str, str]:
    """(this migration's revision, the one before it), found by content, not by id: the
    integrator renumbers migrations when branches land."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for rev in script.walk_revisions():
        if "practice_manager" in getattr(rev.module, "NEW_ROLES", ()):
            assert isinstance(rev.down_revision, str)
            return rev.revision, rev.down_revision
    raise AssertionError("no migration adds the practice manager role")


def _insert(conn: sa.Connection, login: str, role: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO staff (name, role, login, password_hash, active, created_at, updated_at)"
            " VALUES (:n, :r, :l, 'x', :a, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"n": login.title(), "r": role, "l": login, "a": True},
    )


def _name_index_exists(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT 1 FROM sqlite_master WHERE type='index' AND name='ix_staff_name_lower'"
        else:
            sql = "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_staff_name_lower'"
        return conn.execute(sa.text(sql)).first() is not None


def test_practice_manager_role_and_back(database_url: str) -> None:
    mine, before = _staff_roles_revision()
    upgrade(database_url, before)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            _insert(conn, "desk", "front_desk")
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            _insert(conn, "boss", "practice_manager")

        upgrade(database_url, mine)
        assert _name_index_exists(engine)
        with engine.begin() as conn:
            _insert(conn, "boss", "practice_manager")
            conn.execute(sa.text("UPDATE staff SET last_sign_in_at = CURRENT_TIMESTAMP"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            _insert(conn, "wizard", "wizard")

        downgrade(database_url, before)
        assert _name_index_exists(engine)
        with engine.connect() as conn:
            roles = dict(conn.execute(sa.text("SELECT login, role FROM staff")).all())
            columns = {c["name"] for c in sa.inspect(conn).get_columns("staff")}
        assert roles == {"desk": "front_desk", "boss": "front_desk"}
        assert "last_sign_in_at" not in columns
    finally:
        engine.dispose()
