"""A clinic with the webhook family on a fresh database and queue, for the webhook tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jobs.event_dispatch import EventDispatchService, EventHandlers
from jobs.event_dispatch import register as register_dispatch
from jobs.platform import JobPlatform
from jobs.webhooks import DeliveryPolicy, Sender, WebhookDelivery, endpoint_service, register
from purplecross_desktop.database.base import StaffId
from purplecross_desktop.database.session import make_session_factory
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.staff import StaffData, StaffRole
from purplecross_desktop.domain.webhooks import WebhookService
from purplecross_desktop.services import Services, build_services
from tests.jobs.conftest import Harness

PASSWORD = "a long enough password"
#: The schedule shrunk 1,000 times: 0, 5 ms, 300 ms, 1.8 s, ...
FAST_SCALE = 0.001


@dataclass
class Clinic:
    """A platform, its services, an admin signed in, and the webhook family."""

    platform: JobPlatform
    services: Services
    admin: StaffId
    endpoints: WebhookService
    delivery: WebhookDelivery
    events: EventDispatchService
    alerts: list[tuple[int, str, str]] = field(default_factory=list)

    def dispatch(self) -> None:
        """Run the durable-event dispatcher once (fan-out of what was committed)."""
        self.events.dispatcher.dispatch()


def make_clinic(
    harness: Harness,
    *,
    policy: DeliveryPolicy | None = None,
    sender: Sender | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    redis_url: str | None = None,
    **platform_overrides: Any,
) -> Clinic:
    platform = harness.platform(redis_url, **platform_overrides)
    actor: list[StaffId | None] = [None]
    services = build_services(
        make_session_factory(harness.engine), EventBus("test"), current_actor=lambda: actor[0]
    )
    admin = services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), PASSWORD
    )
    actor[0] = StaffId(admin.id)
    extra = {} if clock is None else {"clock": clock}
    endpoints = endpoint_service(platform, services, current_actor=lambda: actor[0], **extra)
    handlers = EventHandlers()
    alerts: list[tuple[int, str, str]] = []
    delivery = register(
        platform,
        handlers,
        endpoints,
        sender or Sender(total_timeout=2.0, connect_timeout=1.0),
        policy or DeliveryPolicy(scale=FAST_SCALE, jitter=0.0),
        clock=clock,
    )
    delivery.alert = lambda *a: alerts.append(a)
    events = register_dispatch(platform, handlers, horizon=0.0)
    close_platform = platform.close

    def close() -> None:  # the harness closes platforms; the sender's sockets go with it
        close_platform()
        delivery.sender.close()

    platform.close = close  # type: ignore[method-assign]
    # A new handler starts at the events recorded after a dispatcher first sees it.
    events.dispatcher.dispatch()
    return Clinic(platform, services, StaffId(admin.id), endpoints, delivery, events, alerts)
