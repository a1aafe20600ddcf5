"""One signed POST to an endpoint over httpx: timeouts, no redirects, TLS, bounded reads.

Connect timeout 5 s; every read and write 15 s; once the status has come, the body is
read for the log until 15 s have passed since the request began (then cut). Redirects
are never followed (a 3xx is a failed attempt: a receiver that moved must be registered
again, or a redirect could aim the clinic at an address it refused). TLS is verified
against the system's CAs or the ``webhook_ca_file`` setting; at most ``max_body`` bytes
of the response are read, and an excerpt is kept. The host's addresses are checked
before every request (see :mod:`purplecross_desktop.domain.webhooks.urls`).
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from purplecross_desktop.domain.webhooks.urls import (
    DestinationRefused,
    parse_url,
    resolve_checked,
)

USER_AGENT = "PurpleCross-Webhooks/1"
EXCERPT = 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request did.

    Attributes:
        status_code: the HTTP status, or None when no response came.
        succeeded: a 2xx came back.
        duration_ms: from the start of the request to the end of the read.
        excerpt: the start of the response body (text, cut at 1,000 characters).
        error: why it failed without a response (timeout, refused, TLS, address).
        request: method, URL and headers as sent (signatures, never secrets).
    """

    status_code: int | None
    succeeded: bool
    duration_ms: float
    excerpt: str = ""
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)

    @property
    def gone(self) -> bool:
        """The receiver answered ``410 Gone``: it wants no more deliveries."""
        return self.status_code == 410


class Sender:
    """Posts webhook requests; one per process, shared by the worker threads.

    Args:
        ca_file: a PEM bundle to verify TLS against instead of the system's CAs.
        connect_timeout: seconds to connect.
        total_timeout: seconds for each read/write and for the whole response read.
        max_body: bytes of the response read at most.
    """

    def __init__(
        self,
        ca_file: Path | None = None,
        *,
        connect_timeout: float = 5.0,
        total_timeout: float = 15.0,
        max_body: int = 64 * 1024,
    ) -> None:
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=str(ca_file))
        self.total_timeout = total_timeout
        self.max_body = max_body
        self.client = httpx.Client(
            verify=verify,
            follow_redirects=False,
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            headers={"User-Agent": USER_AGENT},
            trust_env=False,  # no proxy from the environment: the address check must hold
        )

    def close(self) -> None:
        self.client.close()

    def post(
        self, url: str, body: str, headers: dict[str, str], *, allow_local_network: bool
    ) -> Outcome:
        """POST ``body`` (JSON text) with ``headers``; never raises for a network failure."""
        sent_headers = {"content-type": "application/json", **headers}
        request = {"method": "POST", "url": url, "headers": sent_headers}
        started = time.perf_counter()
        try:
            destination = parse_url(url, allow_local_network=allow_local_network)
            resolve_checked(destination, allow_local_network)
        except DestinationRefused as exc:
            return Outcome(None, False, _ms(started), error=f"refused: {exc}", request=request)
        except OSError as exc:
            return Outcome(None, False, _ms(started), error=f"DNS: {exc}", request=request)
        deadline = started + self.total_timeout
        try:
            with self.client.stream(
                "POST", url, content=body.encode("utf-8"), headers=sent_headers
            ) as response:
                data = bytearray()
                # The status has arrived: it decides the outcome. The body is only read
                # for the excerpt, up to max_body and until the total timeout.
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) >= self.max_body or time.perf_counter() > deadline:
                        break
                status = response.status_code
                excerpt = bytes(data[: self.max_body]).decode("utf-8", errors="replace")[:EXCERPT]
                error = None
                if 300 <= status < 400:
                    location = response.headers.get("location", "")
                    error = f"redirect to {location!r} not followed"
                elif not 200 <= status < 300:
                    error = f"HTTP {status}"
                return Outcome(status, 200 <= status < 300, _ms(started), excerpt, error, request)
        except httpx.TimeoutException as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "response"
            return Outcome(
                None, False, _ms(started), error=f"timeout ({kind}): {exc}", request=request
            )
        except httpx.HTTPError as exc:
            return Outcome(
                None, False, _ms(started), error=f"{type(exc).__name__}: {exc}", request=request
            )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 2)
