"""Bulk notifications: ``queue_notification`` to 10,000 clients vs 10,000 raw tracked enqueues.

A private redis-server, the registry and clinic in one SQLite file (the workstation
setup). The baseline is ``JobPlatform.enqueue`` of a no-op task with a payload of the same
size, one call per job; ours is one ``NotificationJobs.queue`` call for all recipients
(every recipient checked, the clients looked up, one job each). Interleaved rounds, the
median of each side; the brokers' queues are emptied between rounds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from jobs.notifications import NotificationJobs
from jobs.notifications import register as register_notifications
from jobs.platform import JobPlatform, JobsConfig, TaskSpec
from jobs.queues import NOTIFICATIONS, BrokerConfig
from purplecross_desktop.database import Base, make_engine, make_session_factory
from purplecross_desktop.database.base import utcnow
from purplecross_desktop.domain.clients import Client
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.services import build_services

TARGET = 0.5
RECIPIENTS = 10_000
ROUNDS = 3


def _setup(folder: Path, redis_url: str) -> tuple[JobPlatform, NotificationJobs, list[int]]:
    import purplecross_desktop.database.models  # noqa: F401

    engine = make_engine(f"sqlite:///{folder / 'clinic.db'}")
    Base.metadata.create_all(engine)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Client),
            [
                {
                    "name": f"Client {i}",
                    "name_key": f"client {i}",
                    "email": f"client{i}@example.org",
                    "preferred_contact": "email",
                    "notes": "",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(RECIPIENTS)
            ],
        )
        ids = [int(i) for i in conn.execute(sa.select(Client.id).order_by(Client.id)).scalars()]
    config = JobsConfig(
        broker=BrokerConfig(redis_url=redis_url, queue_file=folder / "queue.db", read_timeout=0.5),
        signing_key=b"benchmark-key",
        maintenance_interval=0.5,
    )
    platform = JobPlatform(config, engine)
    services = build_services(make_session_factory(engine), EventBus("bench"))
    notifications = register_notifications(platform, services)
    platform.register(TaskSpec("bench.noop", lambda payload: None, NOTIFICATIONS))
    return platform, notifications, ids


def main() -> int:
    from tests.support.redis_server import RedisServer

    server = RedisServer()
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="pc-bench-notify-"))
    platform, notifications, ids = _setup(folder, server.url)
    recipients = [f"client:{i}" for i in ids]
    title, message = "Invoice due", "Invoice 2031-000123 is due on 4 March; 45.00 is outstanding."
    payload = {
        "kind": "invoice_due",
        "title": title,
        "message": message,
        "channels": None,
        "expires_at": None,
        "link": None,
        "important": False,
        "recipient": "client:10000",
        "delivery": "notify:0123456789abcdef0123456789abcdef:0123456789abcdef0123",
    }
    raw_s: list[float] = []
    bulk_s: list[float] = []
    try:
        for _ in range(ROUNDS):
            start = time.perf_counter()
            for i in ids:
                platform.enqueue(NOTIFICATIONS, "bench.noop", payload, record={"client": i})
            raw_s.append(time.perf_counter() - start)
            platform.hueys[NOTIFICATIONS].storage.flush_queue()

            start = time.perf_counter()
            jobs = notifications.queue("invoice_due", recipients, title, message)
            bulk_s.append(time.perf_counter() - start)
            assert len(jobs) == RECIPIENTS
            platform.hueys[NOTIFICATIONS].storage.flush_queue()
    finally:
        platform.close()
        platform.engine.dispose()
        server.cleanup()
    raw, bulk = statistics.median(raw_s), statistics.median(bulk_s)
    ratio = raw / bulk  # speed of ours relative to the baseline
    print(
        f"bulk notifications to {RECIPIENTS:,} clients: raw tracked enqueue {raw:.2f} s "
        f"({RECIPIENTS / raw:,.0f} jobs/s)   queue_notification {bulk:.2f} s "
        f"({RECIPIENTS / bulk:,.0f} jobs/s)   speed ratio {ratio:.2f}x "
        f"(target ≥ {TARGET}x; median of {ROUNDS} interleaved rounds)"
    )
    ok = ratio >= TARGET
    print("notifications: target met" if ok else "notifications: TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
