"""``purplecross demo``: fill the configured database with demo data, with a progress bar."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--clients", type=click.IntRange(min=1), default=1_000, show_default=True)
@click.option("--patients", type=click.IntRange(min=0), default=1_500, show_default=True)
@click.option("--appointments", type=click.IntRange(min=0), default=10_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="same seed, same data")
def demo_command(clients: int, patients: int, appointments: int, seed: int) -> None:
    """Fill the configured (empty) database with realistic demo data.

    Upgrades the schema first. 100,000 clients, 150,000 patients and 1,000,000
    appointments take about a minute on SQLite. Every demo staff member logs in with
    the password `purplecross`.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from purplecross_desktop.database.session import upgrade
    from purplecross_desktop.demo import DemoDataError, generate_demo_data
    from purplecross_desktop.domain.errors import ValidationError
    from purplecross_desktop.settings import SettingsError, load_settings, mask_url

    try:
        url = load_settings().effective_database_url
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    console = Console()
    console.print(f"upgrading {mask_url(url)} …")
    upgrade(url)
    columns = ("[progress.description]{task.description:<15}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        try:
            summary = generate_demo_data(
                url,
                clients=clients,
                patients=patients,
                appointments=appointments,
                seed=seed,
                progress=progress,
            )
        except (DemoDataError, ValidationError) as exc:
            raise click.ClickException(str(exc)) from None
    table = Table("table", "rows", title=f"demo data written in {summary.seconds:.1f} s")
    for name, count in summary.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
