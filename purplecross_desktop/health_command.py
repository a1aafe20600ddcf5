"""``purplecross health [--json]``: the health report, exit code 0 healthy, 1 degraded, 2 down."""

from __future__ import annotations

import json
import sys

import click

from purplecross_desktop.settings import SettingsError, load_settings


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def health_command(as_json: bool) -> None:
    """Database, Redis, queues, cache, SMTP and disk; exits 0, 1 (degraded) or 2 (down)."""
    from purplecross_desktop.health import check_health

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    report = check_health(settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        click.echo(f"Overall: {report.status}")
        for check in report.checks:
            click.echo(f"  {check.name:<9} {check.status:<9} {check.summary}")
    sys.exit(report.exit_code)
