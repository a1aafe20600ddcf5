"""The clinic database: declarative base, engines, sessions and migrations (Qt-free)."""

from purplecross_desktop.database.base import Base, UTCDateTime, utcnow
from purplecross_desktop.database.session import (
    SessionFactory,
    make_engine,
    make_session_factory,
    transaction,
    upgrade,
)

__all__ = [
    "Base",
    "SessionFactory",
    "UTCDateTime",
    "make_engine",
    "make_session_factory",
    "transaction",
    "upgrade",
    "utcnow",
]
