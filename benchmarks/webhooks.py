"""Webhooks: deliveries per second against bare httpx, event → first attempt, a dead endpoint.

1. **Throughput.** The same N signed payloads posted to one local receiver
   (``http.server``, keep-alive) at the same concurrency (4, the ``webhooks`` queue's
   threads): baseline, a bare ``httpx.Client`` shared by 4 threads, each request signed
   (``sign_headers``); ours, N durable events fanned out by the dispatcher, one message
   and one ``webhooks.attempt`` job each, every attempt logged (embedded SQLite queue,
   clinic and registry in one SQLite file). Timed from the dispatch to the last success.
2. **Event → first attempt.** 60 clients created 0.25 s apart at a desk (the commit
   triggers the dispatcher, as in the app); latency from the event's time to the
   receiver's receipt. Budget p95 ≤ 1 s.
3. **A dead endpoint beside a healthy one.** 10,000 messages due for an endpoint that
   accepts connections and never answers (the worst case: every attempt waits the full
   15 s timeout), and a healthy endpoint subscribed to the same events; 60 events 0.25 s
   apart. The healthy endpoint's latency with the backlog vs without it, and the dead
   endpoint's attempts in flight, measured together.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

import purplecross_desktop.database.models  # noqa: F401  (every table)
from jobs.event_dispatch import DispatchTrigger, EventHandlers
from jobs.event_dispatch import register as register_dispatch
from jobs.platform import JobPlatform, JobsConfig
from jobs.queues import BrokerConfig
from jobs.runner import Runner
from jobs.webhooks import DeliveryPolicy, PumpTrigger, Sender, endpoint_service, register
from jobs.webhooks.signing import sign_headers
from purplecross_desktop.database import Base, make_engine, make_session_factory
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.clients import ClientData
from purplecross_desktop.domain.event_log import record_events
from purplecross_desktop.domain.events import DomainEvent, EventBus
from purplecross_desktop.domain.webhooks import MESSAGE, new_msg_id
from purplecross_desktop.domain.webhooks.catalogue import body_for
from purplecross_desktop.services import build_services

N = 2000
CONCURRENCY = 4
THROUGHPUT_BUDGET = 0.5
LATENCY_BUDGET_S = 1.0
SAMPLES = 60
DEAD_BACKLOG = 10_000


class Receiver:
    """A keep-alive HTTP receiver on loopback that notes when each webhook-id arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.bodies: dict[str, bytes] = {}
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.count += 1
                    msg_id = self.headers.get("webhook-id", "")
                    receiver.arrived.setdefault(msg_id, time.time())
                    receiver.bodies.setdefault(msg_id, body)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clinic:
    """A workstation: clinic, registry and embedded SQLite queue, the webhook family."""

    def __init__(
        self, folder: Path, policy: DeliveryPolicy | None = None, redis_url: str | None = None
    ) -> None:
        self.engine = make_engine(f"sqlite:///{folder / 'clinic.db'}")
        Base.metadata.create_all(self.engine)
        broker = BrokerConfig(redis_url=redis_url, queue_file=folder / "queue.db")
        self.platform = JobPlatform(JobsConfig(broker=broker, signing_key=b"bench"), self.engine)
        self.services = build_services(make_session_factory(self.engine), EventBus("bench"))
        self.endpoints = endpoint_service(self.platform, self.services)
        handlers = EventHandlers()
        self.delivery = register(
            self.platform, handlers, self.endpoints, Sender(), policy or DeliveryPolicy()
        )
        self.events = register_dispatch(self.platform, handlers, horizon=0.0)
        self.events.dispatcher.dispatch()  # the handler starts at the events after this
        self.runner = Runner(self.platform, embedded=True)
        self.runner.start()
        self.trigger = DispatchTrigger(self.events, poll_interval=1.0)
        self.trigger.attach(self.services.events)
        self.pump = PumpTrigger(self.delivery)
        self.pump.start()

    def add(self, url: str, events: str) -> int:
        return self.endpoints.create(url, events, allow_local_network=True).endpoint.id

    def record(self, count: int, name: str = "appointment.booked") -> None:
        sessions = make_session_factory(self.engine)
        for first in range(0, count, 500):
            events = [
                DomainEvent(name, name.split(".")[0], i + 1, {"patient_id": i}, utcnow())
                for i in range(first, min(first + 500, count))
            ]
            with sessions() as session, session.begin():
                record_events(session, events, workstation="bench", staff_id=None)

    def close(self) -> None:
        self.trigger.stop()
        self.pump.stop()
        self.runner.stop()
        self.delivery.sender.close()
        self.platform.close()
        self.engine.dispose()


def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not done within {timeout}s")
        time.sleep(0.02)


def _bare_httpx(url: str, bodies: list[str], secret: str) -> float:
    client = httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0), follow_redirects=False)

    def post(body: str) -> None:
        headers = sign_headers(new_msg_id(), int(time.time()), body, [secret])
        headers["content-type"] = "application/json"
        response = client.post(url, content=body.encode(), headers=headers)
        assert response.status_code == 204

    began = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(post, bodies))
    elapsed = time.perf_counter() - began
    client.close()
    return elapsed


def _pending(clinic: Clinic, endpoint: int, bodies: list[str]) -> None:
    """``bodies`` as messages due now for ``endpoint`` (what the fan-out leaves behind)."""
    now = utcnow()
    with clinic.engine.begin() as conn:
        conn.execute(
            sa.insert(MESSAGE),
            [
                {
                    "msg_id": new_msg_id(), "endpoint_id": endpoint, "event_id": None,
                    "event_type": "appointment.booked", "body": body, "state": "pending",
                    "attempts": 0, "round_attempts": 0, "next_attempt_at": now,
                    "next_trigger": "scheduled", "created_at": now,
                }
                for body in bodies
            ],
        )  # fmt: skip


def _throughput(folder: Path, redis_url: str | None = None) -> float:
    receiver = Receiver()
    clinic = Clinic(folder, DeliveryPolicy(endpoint_concurrency=CONCURRENCY), redis_url)
    try:
        endpoint = clinic.add(receiver.url, "appointment.*")
        now = utcnow()
        bodies = [body_for("appointment.booked", i + 1, {"patient_id": i}, now) for i in range(N)]
        secret = clinic.endpoints.rotate_secret(endpoint)
        bare = _bare_httpx(receiver.url, bodies, secret)
        _pending(clinic, endpoint, bodies)
        began = time.perf_counter()
        clinic.delivery.pump([endpoint])
        _wait(lambda: clinic.delivery.counts().get("succeeded", 0) >= N, timeout=600)
        ours = time.perf_counter() - began
        clinic.record(N)  # end to end: N events committed, fanned out, delivered
        began = time.perf_counter()
        clinic.events.enqueue("bench")
        _wait(lambda: clinic.delivery.counts().get("succeeded", 0) >= 2 * N, timeout=600)
        end_to_end = time.perf_counter() - began
    finally:
        clinic.close()
        receiver.close()
    ratio = (N / ours) / (N / bare)
    verdict = "ok" if ratio >= THROUGHPUT_BUDGET else "UNDER BUDGET"
    broker = "Redis broker" if redis_url else "embedded SQLite queue"
    print(
        f"throughput ({broker}), {N} signed deliveries at concurrency {CONCURRENCY}: bare httpx "
        f"{bare:.2f} s ({N / bare:.0f}/s); webhooks family {ours:.2f} s ({N / ours:.0f}/s) "
        f"→ {ratio:.2f}x (budget ≥ {THROUGHPUT_BUDGET}x) {verdict}; end to end from "
        f"{N} committed events (dispatcher fan-out included) {end_to_end:.2f} s "
        f"({N / end_to_end:.0f}/s)"
    )
    return ratio


def _latencies(clinic: Clinic, receiver: Receiver, count: int) -> list[float]:
    """Create ``count`` clients 0.25 s apart; seconds from each event to its receipt."""
    start = receiver.count
    for i in range(count):
        clinic.services.clients.create(ClientData(f"Client {i}"))
        time.sleep(0.25)
    _wait(lambda: receiver.count >= start + count, timeout=120)
    out: list[float] = []
    with receiver.lock:
        items = list(receiver.bodies.items())
    for msg_id, body in items:
        data = orjson.loads(body)
        if data["type"] != "client.created":
            continue
        occurred = dt.datetime.fromisoformat(data["timestamp"]).timestamp()
        out.append(receiver.arrived[msg_id] - occurred)
    return sorted(out)[-count:] if len(out) > count else sorted(out)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _first_attempt(folder: Path) -> float:
    receiver = Receiver()
    clinic = Clinic(folder)
    try:
        clinic.add(receiver.url, "client.*")
        values = _latencies(clinic, receiver, SAMPLES)
    finally:
        clinic.close()
        receiver.close()
    p95 = _pct(values, 0.95)
    verdict = "ok" if p95 <= LATENCY_BUDGET_S else "OVER BUDGET"
    print(
        f"event → first attempt, embedded runner, {SAMPLES} events 0.25 s apart: p50 "
        f"{_pct(values, 0.5) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
        f"{max(values) * 1000:.0f} ms (budget p95 ≤ {LATENCY_BUDGET_S:.0f} s) {verdict}"
    )
    return p95


def _blackhole() -> socket.socket:
    """Accepts TCP connections (the kernel does) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(DEAD_BACKLOG)
    return sock


def _dead_endpoint(folder: Path) -> float:
    receiver = Receiver()
    hole = _blackhole()
    clinic = Clinic(folder)
    try:
        healthy = clinic.add(receiver.url, "client.*")
        alone = _latencies(clinic, receiver, SAMPLES)
        dead_url = f"http://127.0.0.1:{hole.getsockname()[1]}/hook"
        dead = clinic.add(dead_url, "client.*")
        now = utcnow()
        with clinic.engine.begin() as conn:
            conn.execute(
                sa.insert(MESSAGE),
                [
                    {
                        "msg_id": new_msg_id(), "endpoint_id": dead, "event_id": None,
                        "event_type": "client.created", "body": "{}", "state": "pending",
                        "attempts": 0, "round_attempts": 0, "next_attempt_at": now,
                        "next_trigger": "scheduled", "created_at": now,
                    }
                    for _ in range(DEAD_BACKLOG)
                ],
            )  # fmt: skip
        clinic.delivery.pump([dead])
        time.sleep(1.0)
        beside = _latencies(clinic, receiver, SAMPLES)
        counts = clinic.delivery.counts([dead])
        in_flight = counts.get("queued", 0) + counts.get("sending", 0)
        assert healthy != dead
    finally:
        hole.close()  # resets the connections it held, so the hung attempts end now
        clinic.close()
        receiver.close()
    ratio = _pct(beside, 0.95) / _pct(alone, 0.95)
    print(
        f"healthy endpoint beside a dead one with {DEAD_BACKLOG:,} messages due: p50 "
        f"{_pct(beside, 0.5) * 1000:.0f} ms, p95 {_pct(beside, 0.95) * 1000:.0f} ms vs alone "
        f"p50 {_pct(alone, 0.5) * 1000:.0f} ms, p95 {_pct(alone, 0.95) * 1000:.0f} ms "
        f"({ratio:.2f}x); the dead endpoint had {in_flight} attempts in flight "
        f"and {counts.get('pending', 0):,} waiting in the database"
    )
    return ratio


def main() -> int:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    failed = 0
    from tests.support.redis_server import RedisServer

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        (root / "throughput").mkdir()
        failed += _throughput(root / "throughput") < THROUGHPUT_BUDGET
        server = RedisServer()
        server.start()
        try:
            (root / "throughput-redis").mkdir()
            failed += _throughput(root / "throughput-redis", server.url) < THROUGHPUT_BUDGET
        finally:
            server.cleanup()
        (root / "latency").mkdir()
        failed += _first_attempt(root / "latency") > LATENCY_BUDGET_S
        folder = root / "dead"
        folder.mkdir()
        _dead_endpoint(folder)
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
