"""Alembic environment: runs the packaged migrations against the URL in the config."""

from __future__ import annotations

from typing import Any

from alembic import context

from purplecross_desktop.database.models import metadata
from purplecross_desktop.database.session import make_engine

config = context.config
target_metadata = metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Our own column types (``UTCDateTime``) as ``UTCDateTime()`` with their import, so a
    generated migration runs as written; everything else rendered as Alembic does."""
    cls = type(obj)
    if kind == "type" and cls.__module__.startswith("purplecross_desktop."):
        autogen_context.imports.add(f"from {cls.__module__} import {cls.__name__}")
        return f"{cls.__name__}()"
    return False


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
