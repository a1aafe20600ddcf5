"""The table of the cache's invalidation channel (``purplecross_desktop.cache_channel``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from purplecross_desktop.database.base import Base, UTCDateTime

ChannelIdType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class CacheInvalidationRow(Base):
    """One invalidation some desk could not deliver to Redis (see docs/caching.md)."""

    __tablename__ = "cache_invalidation"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused after a prune

    id: Mapped[int] = mapped_column(ChannelIdType, primary_key=True, autoincrement=True)
    # The invalidation as the replay log stores it: JSON keys, patterns and prefix.
    payload: Mapped[str] = mapped_column(sa.Text)
    # The writer's clock: only retention reads it, and prunes only a run of the oldest
    # ids (a desk's clock may be days off: ages are not in id order).
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
