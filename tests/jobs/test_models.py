"""The 0002_jobs migration builds exactly the registry tables of ``jobs.models``."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, inspect

from jobs import models
from purplecross_desktop.database import Base, make_engine
from purplecross_desktop.database.session import MIGRATIONS_DIR

JOB_TABLES = {"job", "job_event", "job_worker", "job_paused_queue", "email_log"}


def _migration() -> ModuleType:
    path = MIGRATIONS_DIR / "versions" / "0002_jobs.py"
    spec = importlib.util.spec_from_file_location("migration_0002_jobs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jobs_metadata() -> MetaData:
    meta = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in JOB_TABLES:
        Base.metadata.tables[name].to_metadata(meta)
    return meta


def test_revision_chain() -> None:
    module = _migration()
    assert module.revision == "0002_jobs"
    clinic = MIGRATIONS_DIR / "versions" / "0001_clinic.py"
    assert module.down_revision == ("0001_clinic" if clinic.exists() else None)


def test_upgrade_and_downgrade_through_alembic(sqlite_url: str) -> None:
    from purplecross_desktop.database.session import current_revision, downgrade, upgrade

    upgrade(sqlite_url, "0002_jobs")
    assert current_revision(sqlite_url) == "0002_jobs"
    engine = make_engine(sqlite_url)
    try:
        assert set(inspect(engine).get_table_names()) >= JOB_TABLES
    finally:
        engine.dispose()
    downgrade(sqlite_url, "base")
    engine = make_engine(sqlite_url)
    try:
        assert not JOB_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_matches_the_models_and_downgrades_cleanly(database_url: str) -> None:
    assert models.Job.__tablename__ in JOB_TABLES
    module = _migration()
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            context = MigrationContext.configure(conn, opts={"render_as_batch": True})
            with Operations.context(context):
                module.upgrade()
            assert set(inspect(conn).get_table_names()) >= JOB_TABLES
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), _jobs_metadata()
            )
            assert diff == []
            with Operations.context(context):
                module.downgrade()
            assert not JOB_TABLES & set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
