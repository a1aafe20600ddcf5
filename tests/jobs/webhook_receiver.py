"""A real webhook receiver on loopback that verifies every request with `standardwebhooks`.

It answers as scripted (``script``: a function of the request number and webhook-id
returning a status, or ``"hang"`` to keep the connection open without answering) and
records each request with whether the reference library accepted its signature.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Script = Callable[[int, str], int | str]


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None
    status: int | str
    at: float

    @property
    def msg_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    """Listens on 127.0.0.1 on a free port; verifies with ``secrets`` (any may match)."""

    secrets: list[str] = field(default_factory=list)
    script: Script = field(default=lambda n, msg_id: 200)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hang_seconds: float = 30.0
    outages_done: int = 0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = receiver.verify(body, headers)
                with receiver.lock:
                    n = len(receiver.requests) + 1
                    status = receiver.script(n, headers.get("webhook-id", ""))
                    receiver.requests.append(
                        Received(self.path, headers, body, verified, error, status, time.time())
                    )
                if status == "hang":
                    time.sleep(receiver.hang_seconds)
                    return
                if status == "drop":  # read it, then close without an answer (a lost reply)
                    self.close_connection = True
                    return
                assert isinstance(status, int)
                data = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "scripted"}'
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url_for("/moved"))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[bool, str | None]:
        last = "no secret configured"
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                return True, None
            except WebhookVerificationError as exc:
                last = str(exc)
        return False, last

    def outage(self, seconds: float) -> threading.Thread:
        """Stop listening for ``seconds`` (connections are refused), then listen again on
        the same port; runs on a thread, which is returned."""

        def run() -> None:
            port = self.server.server_address[1]
            handler = self.server.RequestHandlerClass
            self.server.shutdown()
            self.server.server_close()
            time.sleep(seconds)
            self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
            self.server.daemon_threads = True
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self.thread.start()
            self.outages_done += 1

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def url_for(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    @property
    def url(self) -> str:
        return self.url_for()

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
