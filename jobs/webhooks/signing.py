"""Standard Webhooks headers: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``.

The signature is ``v1,`` + base64(HMAC-SHA256(secret, "<id>.<timestamp>.<body>")), made
by the reference library (``standardwebhooks``), so any receiver using it, or the
spec's few lines in another language, verifies it. The timestamp is signed too: a
receiver that rejects timestamps older than five minutes (the library does) cannot be
fed a captured request again later. During a secret rotation one signature per secret
is sent, space-separated, and a receiver accepts the request if any matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from standardwebhooks.webhooks import Webhook


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,<base64>`` for one secret (``whsec_…``)."""
    when = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return Webhook(secret).sign(msg_id, when, body)


def sign_headers(msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for one request, one signature per secret."""
    if not secrets:
        raise ValueError("secrets: at least one signing secret is required")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets),
    }
