"""``purplecross webhooks``: register endpoints, read the delivery log, test, replay (no Qt).

The command line acts as the system (whoever can reach the clinic database may run it,
as with ``purplecross jobs``). Secrets are printed once, by ``add`` and
``rotate-secret``, and never again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from purplecross_desktop.cli_time import parse_when

if TYPE_CHECKING:
    from jobs.webhooks import WebhookDelivery
    from purplecross_desktop.domain.webhooks import AttemptRow, EndpointInfo


@contextmanager
def _delivery() -> Iterator[WebhookDelivery]:
    """The webhook family on the configured database; closed on exit."""
    from purplecross_desktop.jobs_command import _platform

    with _platform() as (platform, _registry):
        delivery: WebhookDelivery = platform.services["webhooks"]
        try:
            yield delivery
        finally:
            delivery.sender.close()


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Domain errors as one-line messages (``field: rule``), exit status 1."""
    from purplecross_desktop.domain.errors import DomainError

    try:
        yield
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _endpoint_json(info: EndpointInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "url": info.url,
        "description": info.description,
        "events": info.event_types,
        "enabled": info.enabled,
        "disabled_reason": info.disabled_reason,
        "allow_local_network": info.allow_local_network,
        "failing_since": info.failing_since.isoformat() if info.failing_since else None,
        "rotating_until": info.rotating_until.isoformat() if info.rotating_until else None,
        "messages": info.counts,
    }


def _attempt_json(row: AttemptRow) -> dict[str, Any]:
    return {
        "msg_id": row.msg_id,
        "endpoint": row.endpoint_id,
        "event_type": row.event_type,
        "event_id": row.event_id,
        "attempt": row.attempt,
        "trigger": row.trigger,
        "at": row.started_at.isoformat(),
        "status": row.status_code,
        "ok": row.succeeded,
        "ms": row.duration_ms,
        "error": row.error,
        "response": row.response_excerpt,
        "message_state": row.message_state,
    }


@click.group("webhooks")
def webhooks_group() -> None:
    """Send clinic events to other systems, signed (Standard Webhooks); see docs/webhooks.md."""


@webhooks_group.command("add")
@click.argument("url")
@click.option(
    "--events",
    "events",
    multiple=True,
    required=True,
    help="Event types: exact names or entity.* (repeatable or comma-separated).",
)
@click.option("--description", default="", help="What the receiver is (at most 500 characters).")
@click.option(
    "--allow-local-network",
    is_flag=True,
    help="Allow http:// and private or loopback addresses (a receiver on the clinic's LAN).",
)
def add(url: str, events: tuple[str, ...], description: str, allow_local_network: bool) -> None:
    """Register an endpoint; prints its signing secret once."""
    patterns = [p for item in events for p in item.replace(",", " ").split()]
    with _delivery() as delivery, _domain_errors():
        created = delivery.endpoints.create(
            url, patterns, description, allow_local_network=allow_local_network
        )
    click.echo(f"endpoint {created.endpoint.id}: {created.endpoint.url}")
    click.echo(f"events: {', '.join(created.endpoint.event_types)}")
    click.echo(f"secret: {created.secret}")
    click.echo("Store the secret in the receiver now: it is not shown again.")


@webhooks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_endpoints(as_json: bool) -> None:
    """Every endpoint with its messages by state."""
    with _delivery() as delivery:
        endpoints = delivery.endpoints.endpoints()
    if as_json:
        for info in endpoints:
            click.echo(json.dumps(_endpoint_json(info)))
        return
    if not endpoints:
        click.echo("no endpoints (add one with `purplecross webhooks add URL --events ...`)")
    for info in endpoints:
        state = "enabled" if info.enabled else f"disabled ({info.disabled_reason})"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(info.counts.items())) or "no messages"
        click.echo(f"{info.id:>4}  {state:<10}  {info.url}")
        click.echo(f"      events: {', '.join(info.event_types)}; {counts}")


@webhooks_group.command("show")
@click.argument("endpoint_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="As JSON, with the last 20 attempts.")
def show(endpoint_id: int, as_json: bool) -> None:
    """One endpoint and its latest attempts."""
    with _delivery() as delivery, _domain_errors():
        info = delivery.endpoints.get(endpoint_id)
        attempts = delivery.endpoints.attempts(endpoint_id=endpoint_id, limit=20)
    if as_json:
        data = _endpoint_json(info) | {"attempts": [_attempt_json(a) for a in attempts]}
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in _endpoint_json(info).items():
        click.echo(f"{key:>20}: {value}")
    click.echo("latest attempts:")
    for a in attempts:
        click.echo(_attempt_line(a))


def _attempt_line(a: AttemptRow) -> str:
    status = a.status_code if a.status_code is not None else "---"
    detail = a.error or a.response_excerpt[:60].replace("\n", " ")
    return (
        f"  {_when(a.started_at)}  {a.msg_id}  {a.event_type:<26} #{a.attempt} "
        f"{a.trigger:<9} {status}  {a.duration_ms:>7.1f} ms  {detail}"
    )


@webhooks_group.command("disable")
@click.argument("endpoint_id", type=int)
@click.option("--reason", default="", help="Shown in the list and the app.")
def disable(endpoint_id: int, reason: str) -> None:
    """Stop deliveries to an endpoint (its messages wait)."""
    with _delivery() as delivery, _domain_errors():
        info = delivery.endpoints.disable(endpoint_id, reason)
    click.echo(f"endpoint {info.id} disabled")


@webhooks_group.command("enable")
@click.argument("endpoint_id", type=int)
@click.option(
    "--recover-since",
    help="Also re-send what failed since then: 30m, 2h, 7d, 1w or an ISO date/time (clinic time).",
)
def enable(endpoint_id: int, recover_since: str | None) -> None:
    """Deliver to an endpoint again (and recover what it missed)."""
    since = parse_when(recover_since, "--recover-since") if recover_since else None
    with _delivery() as delivery, _domain_errors():
        info = delivery.endpoints.enable(endpoint_id)
        recovered = delivery.recover(endpoint_id, since) if since is not None else None
        delivery.pump([endpoint_id])
    click.echo(f"endpoint {info.id} enabled")
    if recovered is not None:
        click.echo(f"{recovered} failed or missed message(s) queued again")


@webhooks_group.command("remove")
@click.argument("endpoint_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask.")
def remove(endpoint_id: int, yes: bool) -> None:
    """Delete an endpoint with its messages and delivery log."""
    with _delivery() as delivery, _domain_errors():
        info = delivery.endpoints.get(endpoint_id)
        if not yes:
            click.confirm(f"Remove endpoint {info.id} ({info.url}) and its log?", abort=True)
        delivery.endpoints.remove(endpoint_id)
    click.echo(f"endpoint {endpoint_id} removed")


@webhooks_group.command("rotate-secret")
@click.argument("endpoint_id", type=int)
def rotate_secret(endpoint_id: int) -> None:
    """A new signing secret (printed once); the old one also signs for the grace period."""
    with _delivery() as delivery, _domain_errors():
        secret = delivery.endpoints.rotate_secret(endpoint_id)
        info = delivery.endpoints.get(endpoint_id)
    click.echo(f"secret: {secret}")
    click.echo(f"the previous secret also signs until {_when(info.rotating_until)} UTC")


@webhooks_group.command("test")
@click.argument("endpoint_id", type=int)
def test(endpoint_id: int) -> None:
    """Send a webhook.test event now; prints the request and the response."""
    with _delivery() as delivery, _domain_errors():
        result = delivery.send_test(endpoint_id)
    outcome = result.outcome
    click.echo(f"POST {outcome.request.get('url', '')}")
    for name, value in outcome.request.get("headers", {}).items():
        click.echo(f"{name}: {value}")
    click.echo("")
    click.echo(result.body)
    click.echo("")
    status = outcome.status_code if outcome.status_code is not None else "no response"
    click.echo(f"-> {status} in {outcome.duration_ms:.1f} ms")
    if outcome.error:
        click.echo(f"error: {outcome.error}")
    if outcome.excerpt:
        click.echo(outcome.excerpt[:500])
    if not outcome.succeeded:
        raise SystemExit(1)


@webhooks_group.command("replay")
@click.argument("msg_id", required=False)
@click.option("--endpoint", "endpoint_id", type=int, help="With --since: recover this endpoint.")
@click.option(
    "--since", help="Re-send what failed since then: 30m, 2h, 7d or an ISO date/time (clinic time)."
)
def replay(msg_id: str | None, endpoint_id: int | None, since: str | None) -> None:
    """Send one message again (MSG_ID), or what failed or was missed (--endpoint, --since)."""
    if (msg_id is None) == (endpoint_id is None):
        raise click.UsageError("give either MSG_ID or --endpoint ID --since WHEN")
    with _delivery() as delivery, _domain_errors():
        if msg_id is not None:
            delivery.replay(msg_id)
            click.echo(f"{msg_id} queued again")
            return
        if since is None:
            raise click.UsageError("--endpoint needs --since (e.g. --since 1d)")
        assert endpoint_id is not None
        count = delivery.recover(endpoint_id, parse_when(since))
    click.echo(f"{count} failed or missed message(s) queued again")


@webhooks_group.command("deliveries")
@click.option("--endpoint", "endpoint_id", type=int, help="Only this endpoint.")
@click.option("--status", type=click.Choice(["succeeded", "failed"]), help="Only these attempts.")
@click.option("--event-type", help="An event type or entity.* pattern.")
@click.option("--event-id", type=int, help="Only the deliveries of this event.")
@click.option(
    "--since", help="Only attempts from then on: 30m, 2h, 7d or an ISO date/time (clinic time)."
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def deliveries(
    endpoint_id: int | None,
    status: str | None,
    event_type: str | None,
    event_id: int | None,
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The delivery log: every attempt, newest first."""
    start = parse_when(since) if since else None
    with _delivery() as delivery, _domain_errors():
        rows = delivery.endpoints.attempts(
            endpoint_id=endpoint_id,
            succeeded=None if status is None else status == "succeeded",
            event_type=event_type,
            event_id=event_id,
            since=start,
            limit=limit,
        )
    for row in rows:
        click.echo(json.dumps(_attempt_json(row)) if as_json else _attempt_line(row))
    if not rows and not as_json:
        click.echo("no attempts match")


@webhooks_group.command("events")
@click.option("--json", "as_json", is_flag=True, help="The catalogue with schemas and examples.")
def events(as_json: bool) -> None:
    """The event catalogue: every event type, its version and what its data carries."""
    from purplecross_desktop.domain.webhooks import CATALOGUE

    if as_json:
        out = [
            {
                "type": e.name,
                "version": e.version,
                "description": e.description,
                "schema": e.schema(),
                "example": e.example(),
            }
            for e in CATALOGUE.values()
        ]
        click.echo(json.dumps(out, indent=2))
        return
    for e in CATALOGUE.values():
        fields = ", ".join(["id", *(f.name for f in e.fields)])
        click.echo(f"{e.name:<28} v{e.version}  {e.description}")
        click.echo(f"{'':<32}data: {fields}")
