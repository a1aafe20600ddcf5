"""The front desk's reads through the shared cache, where the morning-replay benchmark says
it pays (docs/benchmarks.md, "Front desk through the cache"). Qt-free.

What is cached, and what drops it (every committed write invalidates through
``wire_cache_invalidation``, on whichever workstation made it):

| read | key | dropped by |
|---|---|---|
| vets | ``staff:list:vets`` | any staff change |
| rooms | ``room:list:active`` | any room change |
| price list | ``price_item:list:active`` | any price list change |
| a client's open balance | ``client:<id>:balance`` | any write naming the client |
| the Today board and its probe | ``search:desk:board:...`` | every write (it joins patients, |
|  |  | clients, staff, rooms and invoices) |

The cache is used only while its tier is Redis, the one every workstation shares: the
disk tier (no Redis configured, or Redis down) would only see this workstation's
invalidations, so another desk's change could be shown stale. Then reads go straight to
the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, TypeVar

from cache import TTL, CacheService
from purplecross_desktop.database.session import SessionFactory
from purplecross_desktop.domain.appointments import AppointmentStatus
from purplecross_desktop.domain.front_desk import BoardProbe, BoardRow, Choice, FrontDeskQueries
from purplecross_desktop.domain.price_list import PriceItem, PriceKind

T = TypeVar("T")

#: The board is read by every desk's poll; a write anywhere drops it, and a write that
#: bypassed the app (a manual SQL fix) shows within this many seconds.
BOARD_TTL: Final = 15.0


class CachedFrontDesk(FrontDeskQueries):
    """:class:`FrontDeskQueries` reading through ``cache`` while its tier is Redis.

    Args:
        session_factory: opens one session per call.
        cache: the workstation's cache service.
    """

    def __init__(self, session_factory: SessionFactory, cache: CacheService) -> None:
        super().__init__(session_factory)
        self.cache = cache

    def shared(self) -> bool:
        """Whether reads go through the cache now (its tier is the shared Redis)."""
        return self.cache.tier == "redis"

    def vets(self) -> list[Choice]:
        return self._through("staff:list:vets", super().vets, TTL.LONG, _choices)

    def rooms(self) -> list[Choice]:
        return self._through("room:list:active", super().rooms, TTL.LONG, _choices)

    def price_items(self) -> list[PriceItem]:
        return self._through(
            "price_item:list:active", super().price_items, TTL.LONG, _price_items, _price_rows
        )

    def client_balance(self, client_id: int) -> Decimal:
        return self._through(
            f"client:{int(client_id)}:balance",
            lambda: super(CachedFrontDesk, self).client_balance(client_id),
            TTL.MEDIUM,
            Decimal,
        )

    def board(
        self,
        starts_from: dt.datetime,
        starts_before: dt.datetime,
        *,
        vet_id: int | None = None,
        room_id: int | None = None,
    ) -> list[BoardRow]:
        key = f"search:desk:board:{_range_key(starts_from, starts_before, vet_id, room_id)}"
        return self._through(
            key,
            lambda: super(CachedFrontDesk, self).board(
                starts_from, starts_before, vet_id=vet_id, room_id=room_id
            ),
            BOARD_TTL,
            _board_rows,
        )

    def board_probe(
        self,
        starts_from: dt.datetime,
        starts_before: dt.datetime,
        *,
        vet_id: int | None = None,
        room_id: int | None = None,
    ) -> BoardProbe:
        key = f"search:desk:board:probe:{_range_key(starts_from, starts_before, vet_id, room_id)}"
        return self._through(
            key,
            lambda: super(CachedFrontDesk, self).board_probe(
                starts_from, starts_before, vet_id=vet_id, room_id=room_id
            ),
            BOARD_TTL,
            _probe,
        )

    # Internals ----------------------------------------------------------------
    def _through(
        self,
        key: str,
        load: Callable[[], T],
        ttl: float,
        rebuild: Callable[[Any], T],
        snapshot: Callable[[T], Any] = lambda value: value,
    ) -> T:
        if not self.shared():
            return load()
        return rebuild(self.cache.get_or_set(key, lambda: snapshot(load()), ttl))


def _range_key(
    starts_from: dt.datetime, starts_before: dt.datetime, vet_id: int | None, room_id: int | None
) -> str:
    """The board's cache key part: the range, then whose (everyone's keeps the old key)."""
    key = f"{starts_from.isoformat()}:{starts_before.isoformat()}"
    if vet_id is not None:
        key += f":vet:{int(vet_id)}"
    if room_id is not None:
        key += f":room:{int(room_id)}"
    return key


def _choices(rows: Any) -> list[Choice]:
    return [Choice(**row) for row in rows]


def _price_rows(items: list[PriceItem]) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "name": i.name,
            "kind": i.kind.value,
            "unit_price": i.unit_price,
            "tax_rate": i.tax_rate,
            "active": i.active,
            "updated_at": i.updated_at,
        }
        for i in items
    ]


def _price_items(rows: Any) -> list[PriceItem]:
    # Detached snapshots: checkout reads their fields, never lazy-loads from them.
    return [PriceItem(**{**row, "kind": PriceKind(row["kind"])}) for row in rows]


def _board_rows(rows: Any) -> list[BoardRow]:
    return [
        BoardRow(
            **{
                **row,
                "status": AppointmentStatus(row["status"]),
                "alerts": tuple(row["alerts"]),
            }
        )
        for row in rows
    ]


def _probe(data: Any) -> BoardProbe:
    return BoardProbe(
        statuses=tuple((str(s), int(c), changed) for s, c, changed in data["statuses"]),
        patients_changed=data["patients_changed"],
        invoices_changed=data["invoices_changed"],
        open_balance=data["open_balance"],
    )
