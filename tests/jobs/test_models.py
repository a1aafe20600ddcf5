"""The job migrations build exactly the registry tables of ``jobs.models``."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect

from jobs import models
from purplecross_desktop.database import Base, make_engine
from purplecross_desktop.database.session import MIGRATIONS_DIR, alembic_config
from purplecross_desktop.jobs_wiring import JOB_TABLES

#: The migrations of the job registry, oldest first (found by file name, not revision id).
JOB_MIGRATIONS = (
    "jobs",
    "job_guarantees",
    "email_lease_worker",
    "job_event_link",
    "reports",
    "job_storage",
)


def _migration(slug: str) -> ModuleType:
    (path,) = (MIGRATIONS_DIR / "versions").glob(f"[0-9][0-9][0-9][0-9]_{slug}.py")
    spec = importlib.util.spec_from_file_location(f"migration_{slug}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The tables the job migrations create (the runtime also needs the event tables, which
#: the events migration creates).
REGISTRY_TABLES = tuple(
    cls.__tablename__
    for cls in vars(models).values()
    if isinstance(cls, type) and issubclass(cls, Base) and cls.__module__ == models.__name__
)


def _jobs_metadata() -> MetaData:
    meta = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in REGISTRY_TABLES:
        Base.metadata.tables[name].to_metadata(meta)
    return meta


def _head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_the_runtime_checks_every_registry_table() -> None:
    assert set(REGISTRY_TABLES) <= set(JOB_TABLES)


def test_the_job_migrations_are_chained_in_order(sqlite_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(sqlite_url))
    history = [r.revision for r in reversed(list(script.walk_revisions()))]
    ours = [history.index(_migration(slug).revision) for slug in JOB_MIGRATIONS]
    assert ours == sorted(ours)


def test_upgrade_and_downgrade_through_alembic(sqlite_url: str) -> None:

    from purplecross_desktop.database.session import (
        current_revision,
        downgrade,
        upgrade,
    )

    upgrade(sqlite_url)
    assert current_revision(sqlite_url) == _head(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        assert set(inspect(engine).get_table_names()) >= set(REGISTRY_TABLES)
    finally:
        engine.dispose()
    downgrade(sqlite_url, "base")
    engine = make_engine(sqlite_url)
    try:
        assert not set(REGISTRY_TABLES) & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_match_the_models_and_downgrade_cleanly(database_url: str) -> None:
    assert models.Job.__tablename__ in REGISTRY_TABLES
    modules = [_migration(slug) for slug in JOB_MIGRATIONS]
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            context = MigrationContext.configure(conn, opts={"render_as_batch": True})
            with Operations.context(context):
                for module in modules:
                    module.upgrade()
            assert set(inspect(conn).get_table_names()) >= set(REGISTRY_TABLES)
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), _jobs_metadata()
            )
            assert diff == []
            with Operations.context(context):
                for module in reversed(modules):
                    module.downgrade()
            assert not set(REGISTRY_TABLES) & set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
