"""Health of a workstation or clinic server: database, Redis, queues, cache, SMTP and disk.

Qt-free: ``purplecross health [--json]`` prints it (exit code 0 healthy, 1 degraded,
2 down, for a clinic's monitoring) and the Health page shows it. Each check returns
a status and the facts behind it; a check that fails is a finding, never a crash.
"""

from __future__ import annotations

import datetime as dt
import shutil
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from purplecross_desktop.settings import Settings, mask_url

Status = Literal["healthy", "degraded", "down"]
_RANK = {"healthy": 0, "degraded": 1, "down": 2}
#: Below this much free space the data dir is degraded; below a tenth of it, down.
DISK_LOW_BYTES = 1024**3
#: A queue whose oldest waiting job waited longer than this is degraded.
BACKLOG_AGE_S = 15 * 60
#: Short network timeouts: a health check must answer fast even when a host is frozen.
NETWORK_TIMEOUT_S = 2.0
BACKLOG_STATES = ("outbox", "waiting", "scheduled", "failed_retrying", "paused")


@dataclass
class Check:
    """One subsystem's health.

    Attributes:
        name: "database", "redis", "queues", "cache", "smtp" or "disk".
        status: healthy, degraded or down.
        summary: one line for people.
        facts: the figures behind it (JSON-able).
        reasons: why it is not healthy (empty when healthy).
    """

    name: str
    status: Status
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


@dataclass
class HealthReport:
    """Every check and the overall status (the worst of them)."""

    checks: list[Check]

    @property
    def status(self) -> Status:
        worst = max((_RANK[c.status] for c in self.checks), default=0)
        statuses: tuple[Status, ...] = ("healthy", "degraded", "down")
        return statuses[worst]

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {r}" for c in self.checks for r in c.reasons]

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 degraded, 2 down."""
        return _RANK[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": self.reasons,
            "checks": [asdict(c) for c in self.checks],
        }


def check_health(settings: Settings, cache: Any = None) -> HealthReport:
    """Run every check (each on its own; one failing does not stop the others).

    Args:
        settings: the effective settings.
        cache: this process's cache service, if it has one (its hit rates are this
            process's); otherwise a new one is asked for its tier and sizes.
    """
    checks: list[Check] = []
    db = _guard("database", lambda: database_check(settings))
    checks.append(db)
    checks.append(_guard("redis", lambda: redis_check(settings)))
    if db.status != "down":
        checks.append(_guard("queues", lambda: queues_check(settings)))
    checks.append(_guard("cache", lambda: cache_check(settings, cache)))
    checks.append(_guard("smtp", lambda: smtp_check(settings)))
    checks.append(_guard("disk", lambda: disk_check(settings)))
    return HealthReport(checks)


def _guard(name: str, run: Callable[[], Check]) -> Check:
    try:
        return run()
    except Exception as exc:  # a broken check is a finding, not a crash
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check(name, "degraded", f"check failed: {text}", reasons=[f"check failed: {text}"])


def database_check(settings: Settings) -> Check:
    """Reachable, round trip, and whether the schema is at the newest migration."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from purplecross_desktop.database.session import alembic_config, make_engine

    url = settings.effective_database_url
    facts: dict[str, Any] = {"url": mask_url(url)}
    engine = make_engine(url, pool_pre_ping=False, connect_args=_connect_args(url))
    try:
        started = time.perf_counter()
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
                facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
                from alembic.runtime.migration import MigrationContext

                current = MigrationContext.configure(conn).get_current_revision()
        except Exception as exc:
            reason = f"unreachable: {str(exc).splitlines()[0]}"
            return Check("database", "down", reason, facts, [reason])
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    facts.update(revision=current, head=head)
    if current != head:
        reason = f"schema at {current or 'nothing'}, newest is {head}: run `purplecross db upgrade`"
        return Check("database", "degraded", reason, facts, [reason])
    return Check(
        "database", "healthy", f"reachable in {facts['latency_ms']} ms, schema current", facts
    )


def _connect_args(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_timeout": int(NETWORK_TIMEOUT_S)}
    return {}


def redis_check(settings: Settings) -> Check:
    """Reachable, round trip, version and memory; "not configured" in embedded mode."""
    url = settings.redis_url
    if not url:
        return Check("redis", "healthy", "not configured (jobs and cache use this computer)")
    import redis

    from purplecross_desktop.secrets import redis_password_for

    client = redis.Redis.from_url(
        url,
        password=redis_password_for(url),
        socket_connect_timeout=NETWORK_TIMEOUT_S,
        socket_timeout=NETWORK_TIMEOUT_S,
    )
    facts: dict[str, Any] = {"url": mask_url(url)}
    try:
        started = time.perf_counter()
        client.ping()
        facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        info = client.info()
        facts.update(version=info.get("redis_version"), used_memory=info.get("used_memory"))
    except redis.RedisError as exc:
        reason = f"unreachable: {exc}"
        return Check("redis", "degraded", reason, facts, [reason])
    finally:
        client.close()
    memory = facts.get("used_memory") or 0
    return Check(
        "redis",
        "healthy",
        f"Redis {facts['version']} in {facts['latency_ms']} ms, {memory / 1024**2:.1f} MiB used",
        facts,
    )


def queues_check(settings: Settings) -> Check:
    """Per queue: backlog, the oldest waiting job's age, failures in the last hour, live
    workers. A queue with a backlog and no live worker, or whose oldest job has waited
    more than ``BACKLOG_AGE_S``, is degraded."""
    from sqlalchemy import func, inspect, select

    from jobs.config import JobsConfig
    from jobs.models import Job, JobWorker, PausedQueue
    from purplecross_desktop.database.session import make_engine

    engine = make_engine(settings.effective_database_url)
    try:
        if "job" not in inspect(engine).get_table_names():
            return Check("queues", "degraded", "no job tables", reasons=["no job tables"])
        with engine.connect() as conn:
            now = _db_now(conn)
            backlog = conn.execute(
                select(Job.queue, func.count(), func.min(Job.enqueued_at))
                .where(Job.state.in_(BACKLOG_STATES))
                .group_by(Job.queue)
            ).all()
            failed = dict(
                conn.execute(
                    select(Job.queue, func.count())
                    .where(Job.state == "dead", Job.finished_at >= now - dt.timedelta(hours=1))
                    .group_by(Job.queue)
                ).all()
            )
            default = {f.name: f.default for f in fields(JobsConfig)}["heartbeat_timeout"]
            timeout = dt.timedelta(seconds=float(default))  # type: ignore[arg-type]
            workers = conn.execute(
                select(JobWorker.queues).where(
                    JobWorker.stopped_at.is_(None), JobWorker.last_heartbeat > now - timeout
                )
            ).all()
            paused = set(conn.execute(select(PausedQueue.queue)).scalars())
    finally:
        engine.dispose()
    serving: dict[str, int] = {}
    for (queues,) in workers:
        for queue in queues:
            serving[queue] = serving.get(queue, 0) + 1
    facts: dict[str, Any] = {}
    reasons: list[str] = []
    names = sorted({q for q, _c, _m in backlog} | set(failed) | set(serving))
    waiting = {q: (int(c), m) for q, c, m in backlog}
    for queue in names:
        count, oldest = waiting.get(queue, (0, None))
        age = (now - _aware(oldest)).total_seconds() if oldest is not None else None
        facts[queue] = {
            "backlog": count,
            "oldest_waiting_s": round(age, 1) if age is not None else None,
            "failed_last_hour": int(failed.get(queue, 0)),
            "live_workers": serving.get(queue, 0),
            "paused": queue in paused,
        }
        if queue in paused:
            continue
        if count and not serving.get(queue):
            reasons.append(f"{queue}: {count} jobs waiting and no live worker")
        elif age is not None and age > BACKLOG_AGE_S:
            reasons.append(f"{queue}: the oldest job has waited {age / 60:.0f} min")
    total = sum(v["backlog"] for v in facts.values())
    summary = f"{len(facts)} queues, {total} jobs waiting"
    return Check("queues", "degraded" if reasons else "healthy", summary, facts, reasons)


def _db_now(conn: Any) -> dt.datetime:
    from sqlalchemy import func, select

    if conn.dialect.name == "postgresql":
        return _aware(conn.execute(select(func.now())).scalar_one())
    value = conn.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def cache_check(settings: Settings, cache: Any = None) -> Check:
    """Which tier serves calls, hit rate per tier, failovers; on disk while Redis is
    configured is degraded."""
    own = cache is None
    if own:
        from purplecross_desktop.cache_wiring import build_cache_service

        cache = build_cache_service(settings)
        cache.check_redis()
    try:
        stats = cache.stats()
    finally:
        if own:
            cache.close()
    facts: dict[str, Any] = {
        "tier": stats.tier,
        "breaker": stats.breaker,
        "failovers": stats.failovers,
        "tiers": {t.name: {"hit_rate": round(t.hit_rate, 4), "keys": t.keys} for t in stats.tiers},
        "channel": stats.channel,
    }
    if settings.redis_url and stats.tier != "redis":
        reason = f"on the disk tier, Redis unavailable ({stats.last_error or 'no answer'})"
        return Check("cache", "degraded", reason, facts, [reason])
    if stats.channel.startswith("failing"):
        reason = (
            "the invalidation channel in the clinic database is failing "
            f"({stats.channel.removeprefix('failing: ')}): other desks' changes that Redis "
            "did not get may show late here"
        )
        return Check("cache", "degraded", reason, facts, [reason])
    return Check("cache", "healthy", f"serving from {stats.tier}", facts)


def smtp_check(settings: Settings) -> Check:
    """Connects and authenticates to the SMTP server; "outbox mode" when none is set."""
    host = settings.smtp_host
    if not host:
        return Check("smtp", "healthy", "outbox mode (no server configured; mail waits)")
    from purplecross_desktop.secrets import get_secret

    facts: dict[str, Any] = {"host": host, "port": settings.smtp_port}
    started = time.perf_counter()
    try:
        if settings.smtp_tls == "ssl":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                host, settings.smtp_port, timeout=NETWORK_TIMEOUT_S
            )
        else:
            server = smtplib.SMTP(host, settings.smtp_port, timeout=NETWORK_TIMEOUT_S)
        try:
            server.ehlo()
            if settings.smtp_tls == "starttls":
                server.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
                server.ehlo()
            if settings.smtp_user:
                server.login(settings.smtp_user, get_secret("smtp_password") or "")
                facts["authenticated"] = True
        finally:
            server.close()
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"{host}:{settings.smtp_port} not usable: {exc}"
        return Check("smtp", "degraded", reason, facts, [reason])
    facts["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return Check("smtp", "healthy", f"{host} answers in {facts['latency_ms']} ms", facts)


def disk_check(settings: Settings) -> Check:
    """Free space of the data dir."""
    path = settings.data_dir
    path.mkdir(parents=True, exist_ok=True)
    usage = shutil.disk_usage(path)
    facts = {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
    free_gib = usage.free / 1024**3
    if usage.free < DISK_LOW_BYTES // 10:
        reason = f"only {free_gib:.2f} GiB free in {path}"
        return Check("disk", "down", reason, facts, [reason])
    if usage.free < DISK_LOW_BYTES:
        reason = f"only {free_gib:.2f} GiB free in {path}"
        return Check("disk", "degraded", reason, facts, [reason])
    return Check("disk", "healthy", f"{free_gib:.1f} GiB free", facts)
