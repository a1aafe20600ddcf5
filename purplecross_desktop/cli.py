"""The ``purplecross`` command line: the app, the database, demo data, workers and more.

Each subcommand imports what it needs inside its function, so that ``purplecross
worker`` starts without Qt and ``purplecross --help`` starts in milliseconds.
"""

from __future__ import annotations

import sys

import click

from purplecross_desktop import __version__
from purplecross_desktop.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None


@click.group(invoke_without_command=True)
@click.version_option(__version__, prog_name="purplecross")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Purple Cross Desktop: the workstation client of a veterinary clinic.

    Without a subcommand, opens the app (the same as `purplecross run`).
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@cli.command()
def run() -> None:
    """Open the main window on the configured database (embedded SQLite by default)."""
    from purplecross_desktop.preflight import check_display

    problem = check_display()
    if problem:
        raise click.ClickException(problem)
    from sqlalchemy.exc import OperationalError

    from jobs.platform import JobsConfigError
    from purplecross_desktop.app import StartupError, run_app
    from purplecross_desktop.jobs_wiring import jobs_config
    from purplecross_desktop.settings import mask_url

    settings = _settings()
    try:
        if settings.redis_url:
            # A shared-Redis job setup that cannot work (no signing key) is a message, not
            # a traceback. The embedded default cannot fail this way, so it skips the
            # check and the import of the jobs stack before the window shows.
            jobs_config(settings)
        code = run_app(settings)
    except (StartupError, JobsConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        url = mask_url(settings.effective_database_url)
        raise click.ClickException(
            f"cannot reach the clinic database at {url}: {exc.orig}"
        ) from None
    sys.exit(code)


@cli.group()
def config() -> None:
    """Show the effective settings."""


@config.command("show")
def config_show() -> None:
    """Print every setting and where it can be changed; secrets are masked."""
    from purplecross_desktop.secrets import KNOWN, get_secret
    from purplecross_desktop.settings import default_config_file

    settings = _settings()
    click.echo(f"# settings file: {default_config_file()}")
    for name, value in settings.as_public_dict().items():
        click.echo(f"{name} = {value}")
    for name in KNOWN:
        click.echo(f"{name} = {'***' if get_secret(name) else '(not set)'}")


@cli.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current revision, new migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the configured database to REVISION (default: head)."""
    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.settings import mask_url

    settings = _settings()
    upgrade(settings.effective_database_url, revision)
    click.echo(f"upgraded {mask_url(settings.effective_database_url)} to {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the configured database to REVISION (`base` removes every table)."""
    from purplecross_desktop.database.session import downgrade

    downgrade(_settings().effective_database_url, revision)
    click.echo(f"downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database."""
    from purplecross_desktop.database.session import current_revision

    click.echo(current_revision(_settings().effective_database_url) or "(empty database)")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What changed, in words (names the file).")
def db_revision(message: str) -> None:
    """Write a migration for what the models have and the migrations lack.

    Upgrades a throwaway SQLite database (in a temporary directory) to the head,
    autogenerates against the models, names the file 000N_slug and formats it with ruff.
    Nothing is written when there is no difference. Read and edit the file before
    committing: docs/developer.md, "Migrations".
    """
    from pathlib import Path

    from purplecross_desktop.database.revision import RevisionError, write_revision
    from purplecross_desktop.database.session import MIGRATIONS_DIR

    if not (MIGRATIONS_DIR.parents[2] / "pyproject.toml").is_file():
        raise click.ClickException(
            f"db revision writes into the source tree, and {MIGRATIONS_DIR} is an installed "
            "copy: run it from a checkout (make migration m=...)"
        )
    try:
        new = write_revision(message)
    except RevisionError as exc:
        raise click.ClickException(str(exc)) from None
    shown = new.path.relative_to(Path.cwd()) if new.path.is_relative_to(Path.cwd()) else new.path
    click.echo(f"wrote {shown} (revision {new.revision}, revises {new.down_revision})")
    for table, triggers in new.triggers.items():
        click.echo(
            f"check: SQLite rebuilds {table} in this migration, which drops its triggers "
            f"({', '.join(triggers)}): create them again after the batch block "
            "(docs/developer.md, Migrations)"
        )


def main() -> None:
    """Console entry point."""
    from purplecross_desktop import cli_extensions

    cli_extensions.register(cli)
    cli(prog_name="purplecross")


if __name__ == "__main__":
    main()
