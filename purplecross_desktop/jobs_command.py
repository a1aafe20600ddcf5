"""``purplecross worker``, ``purplecross queues`` and ``purplecross jobs …`` (no Qt)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from purplecross_desktop.cli_time import clinic_zone, parse_when
from purplecross_desktop.durations import milliseconds
from purplecross_desktop.settings import SettingsError, load_settings


@contextmanager
def _platform(registrations: tuple[str, ...] = (), **overrides: Any) -> Iterator[tuple[Any, Any]]:
    """The platform and registry on the configured database; closed on exit."""
    from jobs.registry import JobRegistry
    from purplecross_desktop.database import make_engine
    from purplecross_desktop.jobs_wiring import (
        SchemaMissingError,
        build_job_platform,
        check_schema,
        load_registration,
    )

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    engine = make_engine(settings.effective_database_url)
    try:
        check_schema(engine)
        extra = [load_registration(spec) for spec in registrations]
        platform = build_job_platform(settings, engine, extra, **overrides)
    except (SchemaMissingError, ValueError, ImportError) as exc:
        engine.dispose()
        raise click.ClickException(str(exc)) from None
    try:
        yield platform, JobRegistry(platform)
    finally:
        platform.close()
        engine.dispose()


@click.command()
@click.option("--queue", "queues", multiple=True, help="Queue to serve (repeatable; default all).")
@click.option(
    "--workers", type=click.IntRange(min=1), help="Threads per queue (default: per queue)."
)
@click.option(
    "--heartbeat",
    type=click.FloatRange(min=0.05),
    default=5.0,
    show_default=True,
    help="Seconds between heartbeats.",
)
@click.option(
    "--heartbeat-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Silence after which another worker counts as dead.",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds SIGTERM waits for running jobs.",
)
@click.option(
    "--register",
    "registrations",
    multiple=True,
    metavar="MODULE:FUNCTION",
    help="Also register the task kinds a function adds (plugins).",
)
def worker(
    queues: tuple[str, ...],
    workers: int | None,
    heartbeat: float,
    heartbeat_timeout: float,
    shutdown_timeout: float,
    registrations: tuple[str, ...],
) -> None:
    """Run job consumers without a window. SIGTERM or Ctrl+C drains them gracefully."""
    import logging

    from jobs.platform import UnknownQueueError
    from jobs.runner import Runner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with _platform(
        registrations,
        heartbeat_interval=heartbeat,
        heartbeat_timeout=heartbeat_timeout,
        maintenance_interval=min(1.0, heartbeat),
    ) as (platform, _registry):
        try:
            names = platform.queue_names(queues)
        except UnknownQueueError as exc:
            raise click.ClickException(str(exc)) from None
        concurrency = dict.fromkeys(names, workers) if workers else None
        runner = Runner(
            platform,
            names,
            concurrency,
            embedded=False,
            shutdown_timeout=shutdown_timeout,
        )

        def _stop(signum: int, _frame: Any) -> None:
            click.echo(f"{signal.Signals(signum).name}: draining…", err=True)
            runner.request_stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        runner.start()
        from purplecross_desktop.jobs_wiring import start_families

        # Also at worker start: dispatch, sweeps, the admins' alerts as the settings say.
        stop_families = start_families(platform, settings=load_settings())
        click.echo(f"worker {platform.worker_id} serving {', '.join(names)}", err=True)
        while not runner.wait(0.5):
            pass
        stop_families()
        runner.stop()
    sys.exit(0)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def queues(as_json: bool) -> None:
    """Print the number of jobs per queue and state."""
    with _platform() as (_p, registry):
        counts = registry.counts()
        paused = registry.paused_queues()
    if as_json:
        click.echo(json.dumps({"counts": counts, "paused": sorted(paused)}, indent=2))
        return
    from jobs.models import JobState

    states = [state.value for state in JobState]
    header = f"{'queue':<15}" + "".join(f"{s[:9]:>10}" for s in states)
    click.echo(header)
    for queue, by_state in counts.items():
        mark = " (paused)" if queue in paused else ""
        click.echo(f"{queue:<15}" + "".join(f"{by_state.get(s, 0):>10}" for s in states) + mark)


@click.group()
def jobs() -> None:
    """Retry, revoke, promote, clean, pause and inspect jobs."""


@jobs.command("retry")
@click.argument("job_ids", nargs=-1)
@click.option("--failed", "queue", metavar="QUEUE", help="Retry every dead job of QUEUE ('all').")
@click.option("--dry-run", is_flag=True, help="With --failed: only say what would be retried.")
def jobs_retry(job_ids: tuple[str, ...], queue: str | None, dry_run: bool) -> None:
    """Run dead jobs again (by id, or every dead job of a queue with --failed)."""
    if not job_ids and queue is None:
        raise click.UsageError("give job ids or --failed QUEUE")
    with _platform() as (_p, registry):
        if queue is not None:
            plan = registry.retry_failed(None if queue == "all" else queue, dry_run=dry_run)
            verb = "would retry" if dry_run else "retried"
            click.echo(f"{verb} {len(plan.eligible)} job(s)")
            for job_id in plan.eligible:
                click.echo(f"  {job_id}")
            for job_id, reason in plan.ineligible.items():
                click.echo(f"  not {job_id}: {reason}")
        if job_ids:
            done = registry.retry(list(job_ids))
            _report("retried", job_ids, done)


@jobs.command("revoke")
@click.argument("job_ids", nargs=-1, required=True)
def jobs_revoke(job_ids: tuple[str, ...]) -> None:
    """Cancel jobs that have not started."""
    with _platform() as (_p, registry):
        _report("revoked", job_ids, registry.revoke(list(job_ids)))


@jobs.command("promote")
@click.argument("job_ids", nargs=-1, required=True)
def jobs_promote(job_ids: tuple[str, ...]) -> None:
    """Run scheduled jobs now."""
    with _platform() as (_p, registry):
        _report("promoted", job_ids, registry.promote(list(job_ids)))


@jobs.command("clean")
@click.option("--queue", help="Only this queue (default all).")
@click.option("--state", type=click.Choice(["completed", "dead", "revoked"]), required=True)
@click.option(
    "--older-than",
    "days",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Days since the job finished.",
)
def jobs_clean(queue: str | None, state: str, days: float) -> None:
    """Delete finished jobs from the registry."""
    with _platform() as (_p, registry):
        count = registry.clean(queue, state, dt.timedelta(days=days))
    click.echo(f"deleted {count} {state} job(s)")


@jobs.command("pause")
@click.argument("queue")
def jobs_pause(queue: str) -> None:
    """Hold a queue's jobs until resumed."""
    with _platform() as (_p, registry):
        _queue_op(registry.pause, queue)
    click.echo(f"paused {queue}")


@jobs.command("resume")
@click.argument("queue")
def jobs_resume(queue: str) -> None:
    """Let a paused queue run again."""
    with _platform() as (_p, registry):
        _queue_op(registry.resume, queue)
    click.echo(f"resumed {queue}")


@jobs.command("show")
@click.argument("job_id")
def jobs_show(job_id: str) -> None:
    """Print a job and its timeline."""
    from jobs.registry import JobNotFoundError

    with _platform() as (_p, registry):
        try:
            detail = registry.get(job_id)
        except JobNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    job = detail.job
    click.echo(
        f"{job.id}  {job.queue}/{job.task}  {job.state}  attempt {job.attempts}/{job.max_attempts}"
    )
    click.echo(f"args: {json.dumps(job.args)} {json.dumps(job.kwargs)}")
    if job.event_id is not None:
        click.echo(f"caused by event {job.event_id}")
    if job.error_class:
        click.echo(f"error: {job.error_class}: {job.error_message}")
    for entry in detail.timeline:
        click.echo(f"  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind:<12} {entry.detail}")
    if job.traceback:
        click.echo(job.traceback)


def _when(value: str | None, option: str, tz: dt.tzinfo) -> dt.datetime | None:
    return None if value is None else parse_when(value, option, tz)


def _local(value: dt.datetime | None, tz: dt.tzinfo) -> str:
    return "-" if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` in columns as wide as their widest cell (the last one unpadded)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        cells = [c.ljust(w) for c, w in zip(line[:-1], widths, strict=False)]
        click.echo("  ".join([*cells, line[-1]]).rstrip())


@jobs.command("list")
@click.option("--queue", help="Only this queue.")
@click.option(
    "--state",
    "states",
    multiple=True,
    help="Only jobs in this state (repeatable, or comma-separated: --state dead,revoked).",
)
@click.option("--task", help="Only this task (e.g. email.send).")
@click.option("--search", "text", help="Text in the job id, args, kwargs or error.")
@click.option("--since", help="Enqueued at or after: 2h, 7d, or an ISO date/time.")
@click.option("--until", help="Enqueued before: 2h, 7d, or an ISO date/time.")
@click.option("--client", type=click.IntRange(min=1), help="Linked to this client id.")
@click.option("--patient", type=click.IntRange(min=1), help="Linked to this patient id.")
@click.option("--appointment", type=click.IntRange(min=1), help="Linked to this appointment id.")
@click.option("--invoice", type=click.IntRange(min=1), help="Linked to this invoice id.")
@click.option("--event", type=click.IntRange(min=1), help="Enqueued by this domain event.")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def jobs_list(
    queue: str | None,
    states: tuple[str, ...],
    task: str | None,
    text: str | None,
    since: str | None,
    until: str | None,
    client: int | None,
    patient: int | None,
    appointment: int | None,
    invoice: int | None,
    event: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """List jobs, newest first, with the Queue monitor's filters (args never loaded)."""
    from jobs.models import JobState
    from jobs.monitor import MonitorReader

    tz = clinic_zone()
    wanted = [s.strip() for part in states for s in part.split(",") if s.strip()]
    known = [s.value for s in JobState]
    bad = [s for s in wanted if s not in known]
    if bad:
        raise click.BadParameter(
            f"unknown state {', '.join(bad)}; use one of {', '.join(known)}", param_hint="'--state'"
        )
    start = _when(since, "--since", tz)
    end = _when(until, "--until", tz)
    record = {"client": client, "patient": patient, "appointment": appointment, "invoice": invoice}
    with _platform() as (_p, registry):
        rows = MonitorReader(registry).jobs(
            queue, wanted or None, task, text, record, start, end, event, limit
        )
    if as_json:
        click.echo(json.dumps([{k: _iso(v) for k, v in r.items()} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no jobs match")
        return
    _table(
        ("job", "queue", "task", "state", "tries", "enqueued", "ran", "error"),
        [
            (
                r["id"],
                r["queue"],
                r["task"],
                r["state"],
                f"{r['attempts']}/{r['max_attempts']}",
                _local(r["enqueued_at"], tz),
                milliseconds(r["duration_ms"]),
                (r["error"] or "")[:80],
            )
            for r in rows
        ],
    )


@jobs.command("groups")
@click.option("--queue", help="Only this queue.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def jobs_groups(queue: str | None, as_json: bool) -> None:
    """Failed and dead jobs grouped by error signature (the monitor's failure triage)."""
    from jobs.monitor import MonitorReader

    tz = clinic_zone()
    with _platform() as (_p, registry):
        groups = MonitorReader(registry).failure_groups(queue)
    if as_json:
        out = [
            {
                "signature": g.signature,
                "error_class": g.error_class,
                "count": g.count,
                "dead": g.dead,
                "first_seen": _iso(g.first_seen),
                "last_seen": _iso(g.last_seen),
                "queues": list(g.queues),
                "tasks": list(g.tasks),
                "example_id": g.example_id,
                "example_message": g.example_message,
                "job_ids": list(g.job_ids),
            }
            for g in groups
        ]
        click.echo(json.dumps(out, indent=2))
        return
    if not groups:
        click.echo("no failed jobs")
        return
    for g in groups:
        click.echo(f"{g.count} job(s), {g.dead} dead: {g.signature}")
        click.echo(
            f"  first {_local(g.first_seen, tz)}, last {_local(g.last_seen, tz)};"
            f" {', '.join(g.queues)} · {', '.join(g.tasks)}"
        )
        click.echo(f"  example {g.example_id}: {g.example_message[:200]}")


@jobs.command("workers")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def jobs_workers(as_json: bool) -> None:
    """Every worker: live, lost (stopped heartbeating) or stopped, with its current jobs."""
    from jobs.monitor import MonitorReader

    tz = clinic_zone()
    with _platform() as (_p, registry):
        rows = MonitorReader(registry).workers_view()
    if as_json:
        click.echo(json.dumps([{k: _iso(v) for k, v in r.items()} for r in rows], indent=2))
        return
    if not rows:
        click.echo("no worker has registered")
        return
    _table(
        ("state", "host", "pid", "queues", "threads", "started", "heartbeat", "running / its jobs"),
        [
            (
                r["status"],
                r["host"],
                str(r["pid"]),
                r["queues"],
                str(r["threads"]),
                _local(r["started_at"], tz),
                f"{r['heartbeat_age_s']:g} s ago",
                r["current"] or r["jobs_after"] or "-",
            )
            for r in rows
        ],
    )


@jobs.command("logs")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def jobs_logs(job_id: str, as_json: bool) -> None:
    """Print the lines a job wrote with job.log(...), oldest first."""
    from jobs.monitor import MonitorReader
    from jobs.registry import JobNotFoundError

    tz = clinic_zone()
    with _platform() as (_p, registry):
        try:
            lines = MonitorReader(registry).logs(job_id)
        except JobNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([{"at": _iso(at), "line": line} for at, line in lines], indent=2))
        return
    if not lines:
        click.echo(f"job {job_id} wrote no log lines")
    for at, line in lines:
        click.echo(f"{_local(at, tz)}  {line}")


def _queue_op(op: Any, queue: str) -> None:
    from jobs.platform import UnknownQueueError

    try:
        op(queue)
    except UnknownQueueError as exc:
        raise click.ClickException(str(exc)) from None


def _report(verb: str, asked: tuple[str, ...], done: list[str]) -> None:
    click.echo(f"{verb} {len(done)} of {len(asked)} job(s)")
    for job_id in asked:
        if job_id not in done:
            click.echo(f"  not {job_id}: unknown id or not in a state that allows it")
