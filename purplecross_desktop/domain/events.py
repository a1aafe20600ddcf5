"""Domain events and the in-process bus the composition root wires to jobs, cache and UI."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from purplecross_desktop.database.base import utcnow

log = logging.getLogger(__name__)

Handler = Callable[["DomainEvent"], None]


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened, published after its transaction committed.

    Attributes:
        name: ``"<entity>.<verb>"``, e.g. ``"appointment.booked"``.
        entity: ``"appointment"``, ``"patient"``, ``"client"``, ``"invoice"``, ...
        entity_id: the id of that entity.
        data: a small JSON-able payload (related ids, ISO timestamps, new status).
        occurred_at: when the change committed (aware UTC).
        event_id: its id in the durable event table (None until recorded).
    """

    name: str
    entity: str
    entity_id: int
    data: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)
    event_id: int | None = None


def matches(pattern: str, name: str) -> bool:
    """Whether ``name`` matches ``pattern``: exact, ``"patient.*"`` or ``"*"``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


class EventBus:
    """Synchronous publish/subscribe, safe to use from several threads.

    Handlers run on the publisher's thread in subscription order; a handler that raises is
    logged and skipped, so it never breaks the publisher or the other handlers.

    The bus also says how the services of its process record events durably.

    Args:
        workstation: who makes the changes (stored with every event row): the host name
            by default; workers pass their worker id.
        durable: write every event to the ``domain_event`` table in the transaction of its
            change (off only to measure what recording costs).
    """

    def __init__(self, workstation: str | None = None, *, durable: bool = True) -> None:
        self.workstation = workstation or socket.gethostname()
        self.durable = durable
        self._lock = threading.Lock()
        self._subscriptions: list[tuple[str, Handler]] = []

    def subscribe(self, pattern: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` for every event matching ``pattern``; returns the unsubscriber."""
        entry = (pattern, handler)
        with self._lock:
            self._subscriptions.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscriptions:
                    self._subscriptions.remove(entry)

        return unsubscribe

    def publish(self, event: DomainEvent) -> None:
        """Deliver ``event`` to every matching handler."""
        with self._lock:
            targets = [h for p, h in self._subscriptions if matches(p, event.name)]
        for handler in targets:
            try:
                handler(event)
            except Exception:
                log.exception("event handler %r failed on %s", handler, event.name)
