"""``purplecross events``: list and search the durable domain events (no Qt)."""

from __future__ import annotations

import json

import click

from purplecross_desktop.cli_time import parse_when
from purplecross_desktop.settings import SettingsError, load_settings


@click.command("events")
@click.option(
    "--since", help="Only events from then on: 30m, 2h, 7d, 1w or an ISO date/time (clinic time)."
)
@click.option("--name", help="An event name or pattern: appointment.booked, appointment.*, *.")
@click.option("--entity", help="Only events about this kind of record (appointment, client, …).")
@click.option("--entity-id", type=int, help="Only events about the record with this id.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with deliveries.")
def events_command(
    since: str | None,
    name: str | None,
    entity: str | None,
    entity_id: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """List the clinic's recorded events, newest first, with what each handler did."""
    from sqlalchemy import inspect

    from purplecross_desktop.database import make_engine
    from purplecross_desktop.domain.event_log import EventLog

    start = parse_when(since) if since else None
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    engine = make_engine(settings.effective_database_url)
    try:
        if "domain_event" not in inspect(engine).get_table_names():
            raise click.ClickException(
                "the database has no event table yet: run `purplecross db upgrade` first"
            )
        events_log = EventLog(engine)
        found = events_log.search(
            since=start, name=name, entity=entity, entity_id=entity_id, limit=limit
        )
        deliveries = events_log.deliveries([e.id for e in found])
    finally:
        engine.dispose()
    if as_json:
        for event in found:
            record = event.as_json()
            record["deliveries"] = [
                {
                    "handler": d.handler,
                    "state": d.state,
                    "attempts": d.attempts,
                    "finished_at": d.finished_at.isoformat() if d.finished_at else None,
                    "error": d.error,
                    "job_ids": d.job_ids,
                }
                for d in deliveries[event.id]
            ]
            click.echo(json.dumps(record, sort_keys=True))
        return
    if not found:
        click.echo("no events")
        return
    for event in found:
        who = f"staff {event.staff_id}" if event.staff_id is not None else "system"
        handled = ", ".join(
            f"{d.handler}:{d.state}" + (f" ({len(d.job_ids)} jobs)" if d.job_ids else "")
            for d in deliveries[event.id]
        )
        click.echo(
            f"{event.id:>8}  {event.recorded_at:%Y-%m-%d %H:%M:%S}  {event.name:<28} "
            f"{event.entity} {event.entity_id}  by {who} at {event.workstation}"
            + (f"  [{handled}]" if handled else "")
        )
