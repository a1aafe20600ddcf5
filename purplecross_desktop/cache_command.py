"""``purplecross cache stats`` and ``purplecross cache clear [--pattern P]`` (no Qt)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from purplecross_desktop.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from cache import CacheService


def _human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover - the loop always returns


@click.group("cache")
def cache_group() -> None:
    """The cache of the configured clinic database (Redis, or the disk fallback)."""


def _open_cache() -> tuple[Settings, CacheService]:
    from purplecross_desktop.cache_wiring import build_cache_service

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    cache = build_cache_service(settings)
    cache.check_redis()  # delivers invalidations an earlier run could not
    return settings, cache


@cache_group.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def cache_stats(as_json: bool) -> None:
    """Where the cache is (Redis or disk), its entries and memory per tier."""
    from purplecross_desktop.settings import mask_url

    settings, cache = _open_cache()
    try:
        stats = cache.stats()
    finally:
        cache.close()
    if as_json:
        click.echo(json.dumps(stats.as_dict(), indent=2))
        return
    redis_text = mask_url(settings.redis_url) if settings.redis_url else "(none: disk only)"
    click.echo(f"redis      {redis_text}")
    click.echo(f"disk       {settings.cache_path}")
    click.echo(f"namespace  {stats.namespace}")
    click.echo(
        f"tier       {stats.tier} (breaker {stats.breaker}; "
        f"{stats.replay_pending} invalidation(s) waiting for Redis)"
    )
    if stats.last_error:
        click.echo(f"last error {stats.last_error}")
    if stats.channel != "none":
        click.echo(f"channel    {stats.channel}")
    for notice in stats.notices:
        click.echo(f"notice     {notice}")
    click.echo("")
    click.echo(f"{'tier':<6} {'keys':>8} {'memory':>11}")
    for tier in stats.tiers:
        keys = "-" if tier.keys is None else str(tier.keys)
        click.echo(f"{tier.name:<6} {keys:>8} {_human_bytes(tier.memory_bytes):>11}")
    click.echo("")
    click.echo("Hit and miss counters are per process: the app shows its own on the Health page.")


@cache_group.command("clear")
@click.option(
    "--pattern",
    default="*",
    show_default=True,
    help="Glob of the keys to remove (e.g. 'patient:*'); the clinic namespace is implied.",
)
def cache_clear(pattern: str) -> None:
    """Remove cached entries of the configured clinic database."""
    _, cache = _open_cache()
    try:
        try:
            removed = cache.delete_pattern(pattern)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--pattern") from None
        tier = cache.tier
        pending = cache.stats().replay_pending
    finally:
        cache.close()
    click.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} matching {pattern!r}")
    if pending:
        click.echo(
            f"Redis is unreachable ({tier} tier used): the removal is recorded and applied to "
            "Redis as soon as any Purple Cross process reaches it again."
        )
