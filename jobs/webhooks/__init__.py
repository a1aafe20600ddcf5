"""The webhook family: signed deliveries of clinic events on the ``webhooks`` queue.

See :mod:`jobs.webhooks.delivery` for how a message goes out and docs/webhooks.md for
what a receiver sees.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from jobs.event_dispatch import DurableHandler, EventHandlers
from jobs.platform import JobPlatform, TaskSpec
from jobs.policy import SINGLE_ATTEMPT
from jobs.queues import WEBHOOKS
from jobs.webhooks.delivery import (
    HANDLER,
    SCHEDULE,
    TASK,
    DeliveryPolicy,
    PumpTrigger,
    TestResult,
    WebhookDelivery,
)
from jobs.webhooks.sender import Outcome, Sender
from jobs.webhooks.signing import sign_headers
from purplecross_desktop.domain.webhooks import SecretBox, WebhookService

if TYPE_CHECKING:
    from purplecross_desktop.services import Services
    from purplecross_desktop.settings import Settings

__all__ = [
    "HANDLER",
    "SCHEDULE",
    "TASK",
    "DeliveryPolicy",
    "Outcome",
    "PumpTrigger",
    "Sender",
    "TestResult",
    "WebhookDelivery",
    "endpoint_service",
    "policy_from_settings",
    "register",
    "sign_headers",
]


def policy_from_settings(settings: Settings) -> DeliveryPolicy:
    """The delivery policy the settings describe."""
    return DeliveryPolicy(
        scale=settings.webhook_retry_scale,
        endpoint_concurrency=settings.webhook_endpoint_concurrency,
        disable_after=dt.timedelta(hours=settings.webhook_disable_after_hours),
    )


def endpoint_service(
    platform: JobPlatform, services: Services, settings: Settings | None = None, **kwargs: Any
) -> WebhookService:
    """The endpoint service on the platform's database, sealing with its signing key.

    It acts as the services' current actor (the workstation's signed-in staff member in
    the app, the system in a worker) unless ``current_actor`` is given.
    """
    kwargs.setdefault("current_actor", services.clients._current_actor)
    grace = dt.timedelta(hours=settings.webhook_rotation_grace_hours if settings else 24)
    return WebhookService(
        services.clients._sessions,
        services.events,
        SecretBox(platform.config.signing_key),
        grace=grace,
        **kwargs,
    )


def register(
    platform: JobPlatform,
    handlers: EventHandlers,
    endpoints: WebhookService,
    sender: Sender,
    policy: DeliveryPolicy | None = None,
    services: Services | None = None,
    **kwargs: Any,
) -> WebhookDelivery:
    """Add ``webhooks.attempt`` and the ``webhooks`` durable handler (new events only)."""
    alert = _admin_alert(platform) if services is not None else None
    delivery = WebhookDelivery(platform, endpoints, sender, policy, alert, **kwargs)
    platform.register(
        TaskSpec(TASK, delivery.run_attempt, WEBHOOKS, policy=SINGLE_ATTEMPT, context=True)
    )
    handlers.add(DurableHandler(HANDLER, ("*",), delivery.on_event, from_start=False))
    platform.services["webhooks"] = delivery
    return delivery


def _admin_alert(platform: JobPlatform) -> Any:
    def alert(endpoint_id: int, url: str, reason: str) -> None:
        notifications = platform.services.get("notifications")
        if notifications is None:
            return
        from purplecross_desktop.domain.notifications import NotificationKind

        notifications.queue(
            NotificationKind.SYSTEM_ALERT,
            ["role:admin"],
            f"Webhook endpoint {endpoint_id} was disabled",
            f"{url}: {reason}. Fix the receiver, then enable the endpoint in Settings → "
            "Integrations → Webhooks and recover what it missed.",
            channels=["in_app", "email"],
            link=f"webhook:{endpoint_id}",
            idempotency_key=f"webhook-disabled:{endpoint_id}:{dt.datetime.now(dt.UTC):%Y%m%d%H%M}",
        )

    return alert
