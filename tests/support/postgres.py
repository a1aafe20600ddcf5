"""Throwaway databases on the real PostgreSQL server (skipped off CI only when it is absent)."""

from __future__ import annotations

import os
import uuid

import pytest

ADMIN_URL = os.environ.get(
    "PURPLECROSS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    import sqlalchemy as sa

    engine = sa.create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()


def require_postgres() -> None:
    """Skip when PostgreSQL is absent, but fail on CI, where it must be there."""
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
        pytest.fail(f"PostgreSQL is required on CI ({ADMIN_URL}): {reason}")
    pytest.skip(f"PostgreSQL not available at {ADMIN_URL}: {reason}")


def create_database() -> str:
    """Create an empty database and return its URL."""
    import sqlalchemy as sa

    name = f"pc_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
