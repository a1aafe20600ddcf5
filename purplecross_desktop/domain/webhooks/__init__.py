"""Webhooks: endpoints, the event catalogue, messages and attempts (Qt-free; docs/webhooks.md)."""

from purplecross_desktop.domain.webhooks.catalogue import (
    CATALOGUE,
    TEST_EVENT,
    EventType,
    check_filter,
)
from purplecross_desktop.domain.webhooks.model import (
    ATTEMPT,
    ENDPOINT,
    MESSAGE,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookMessage,
)
from purplecross_desktop.domain.webhooks.secret_box import SecretBox, new_secret
from purplecross_desktop.domain.webhooks.service import (
    AttemptRow,
    CreatedEndpoint,
    EndpointInfo,
    MessageRow,
    WebhookService,
    new_msg_id,
)
from purplecross_desktop.domain.webhooks.urls import DestinationRefused, parse_url

__all__ = [
    "ATTEMPT",
    "CATALOGUE",
    "ENDPOINT",
    "MESSAGE",
    "TEST_EVENT",
    "AttemptRow",
    "CreatedEndpoint",
    "DestinationRefused",
    "EndpointInfo",
    "EventType",
    "MessageRow",
    "SecretBox",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookService",
    "check_filter",
    "new_msg_id",
    "new_secret",
    "parse_url",
]
