"""A real HTTP server standing in for an SMS gateway: records requests, replies as scripted."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GatewayRequest:
    """One request the gateway received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class GatewayServer:
    """Listens on 127.0.0.1 (a free port); ``replies`` are consumed one per request
    (``(status, body)``), then every request gets ``200 {"id": "msg-<n>"}``."""

    replies: list[tuple[int, str]] = field(default_factory=list)
    requests: list[GatewayRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with gateway.lock:
                    gateway.requests.append(
                        GatewayRequest(self.path, dict(self.headers.items()), body)
                    )
                    n = len(gateway.requests)
                    status, text = (
                        gateway.replies.pop(0) if gateway.replies else (200, f'{{"id": "msg-{n}"}}')
                    )
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"

    def received(self) -> list[GatewayRequest]:
        with self.lock:
            return list(self.requests)

    def __enter__(self) -> GatewayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
