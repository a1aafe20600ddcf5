"""``purplecross workflows``: list, show, check, import, export, enable, disable, run, runs.

Every command works on the configured clinic database and needs no Qt; ``run`` enqueues
the run's first step on the ``workflows`` queue (a worker or the app runs it), or with
``--dry-run`` prints what each step would do and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from purplecross_desktop.settings import SettingsError, load_settings
from purplecross_desktop.workflows.document import template_paths

if TYPE_CHECKING:
    from purplecross_desktop.services import Services


@contextmanager
def _services() -> Iterator[Services]:
    from sqlalchemy import inspect

    from purplecross_desktop.database import make_engine, make_session_factory
    from purplecross_desktop.services import build_services

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"bad setting {exc}") from None
    engine = make_engine(settings.effective_database_url)
    try:
        if "workflow" not in inspect(engine).get_table_names():
            raise click.ClickException(
                "the database has no workflow tables yet: run `purplecross db upgrade` first"
            )
        yield build_services(make_session_factory(engine), timezone=settings.clinic_timezone)
    finally:
        engine.dispose()


@contextmanager
def _errors() -> Iterator[None]:
    """Domain errors and bad documents become one clear message and exit status 1."""
    from purplecross_desktop.domain.errors import DomainError
    from purplecross_desktop.workflows.document import WorkflowInvalid

    try:
        yield
    except WorkflowInvalid as exc:
        raise click.ClickException(f"invalid workflow:\n{exc}") from None
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


def _load(source: str) -> Any:
    from purplecross_desktop.workflows.document import load

    templates = template_paths()
    path = Path(source)
    if not path.exists() and source in templates:
        path = templates[source]
    try:
        return load(path)
    except OSError as exc:
        names = ", ".join(sorted(templates))
        raise click.ClickException(
            f"FILE: cannot read {source!r} ({exc.strerror}); a path or a template: {names}"
        ) from None


@click.group("workflows")
def workflows_group() -> None:
    """Workflows: automate the clinic's routine (see docs/workflows.md)."""


@workflows_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Archived workflows too.")
def list_command(show_all: bool) -> None:
    """Every workflow: id, on/off, version, trigger, name."""
    with _services() as services:
        rows = services.workflows.all(archived=show_all)
    if not rows:
        click.echo("no workflows yet: `purplecross workflows templates` lists ready ones")
        return
    for w in rows:
        state = "archived" if w.archived else ("enabled" if w.enabled else "disabled")
        click.echo(f"{w.id:>4}  {state:<8}  v{w.version:<3} {w.trigger:<40} {w.name}")


@workflows_group.command("templates")
def templates_command() -> None:
    """The ready-made templates (import one by name, then enable it)."""
    from purplecross_desktop.workflows.document import load

    for name, path in sorted(template_paths().items()):
        document = load(path)
        click.echo(f"{name:<24} {document.name}: {document.data.get('description', '')}")


@workflows_group.command("show")
@click.argument("workflow")
def show_command(workflow: str) -> None:
    """A workflow's summary, versions, success rate and last runs (WORKFLOW: id or name)."""
    with _services() as services, _errors():
        info = services.workflows.find(workflow)
        versions = services.workflows.versions(info.id)
        stats = next(a for a in services.workflows.analytics() if a.workflow_id == info.id)
        runs = services.workflows.runs(info.id, limit=10)
    click.echo(f"{info.name} (id {info.id}), {'enabled' if info.enabled else 'disabled'}")
    click.echo(f"  trigger: {info.trigger}")
    if info.description:
        click.echo(f"  {info.description}")
    click.echo("  versions: " + ", ".join(f"v{n} ({at:%Y-%m-%d %H:%M})" for n, at in versions))
    rate = "-" if stats.success_rate is None else f"{stats.success_rate:.0%}"
    click.echo(
        f"  runs: {stats.runs}, succeeded {stats.succeeded}, failed {stats.failed}, "
        f"active {stats.active}, success rate {rate}, time saved {stats.time_saved_minutes} min"
    )
    for run in runs:
        click.echo(f"  run {run.id}: {run.status} v{run.version} {run.started_at:%Y-%m-%d %H:%M}")


@workflows_group.command("validate")
@click.argument("file")
def validate_command(file: str) -> None:
    """Check FILE (YAML or JSON); every problem is listed, and the exit status is 1."""
    with _errors():
        document = _load(file)
    click.echo(f"{file}: valid ({sum(1 for _ in document.steps())} steps)")


@workflows_group.command("import")
@click.argument("file")
@click.option("--enable", is_flag=True, help="Enable it as well (checked again first).")
def import_command(file: str, enable: bool) -> None:
    """Store FILE (or a template by name) as a workflow, or as a new version of it."""
    with _services() as services, _errors():
        document = _load(file)
        info, created = services.workflows.save(document)
        if enable:
            services.workflows.set_enabled(info.id, True)
    what = f"version {info.version}" if created else "unchanged"
    state = "enabled" if enable or info.enabled else "disabled"
    click.echo(f"workflow {info.id} {info.name!r}: {what}, {state}")


@workflows_group.command("export")
@click.argument("workflow")
@click.option("--version", type=int, help="That version (default: the current one).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def export_command(workflow: str, version: int | None, fmt: str, output: str | None) -> None:
    """Print (or write) a workflow's document: importing it gives the same workflow back."""
    from purplecross_desktop.workflows.document import dump

    with _services() as services, _errors():
        document = services.workflows.document(workflow, version)
    text = dump(document.data, fmt)
    if output:
        Path(output).write_text(text, "utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@workflows_group.command("enable")
@click.argument("workflow")
def enable_command(workflow: str) -> None:
    """Start new runs from now on."""
    with _services() as services, _errors():
        info = services.workflows.find(workflow)
        services.workflows.set_enabled(info.id, True)
    click.echo(f"workflow {info.id} {info.name!r}: enabled")


@workflows_group.command("disable")
@click.argument("workflow")
@click.option(
    "--running",
    type=click.Choice(["finish", "cancel"]),
    default="finish",
    show_default=True,
    help="What happens to runs already started.",
)
def disable_command(workflow: str, running: str) -> None:
    """Start no new runs; runs already started finish, or are cancelled."""
    with _services() as services, _errors():
        info = services.workflows.find(workflow)
        cancelled = services.workflows.set_enabled(info.id, False, running=running)
    click.echo(f"workflow {info.id} {info.name!r}: disabled, {cancelled} running run(s) cancelled")


@workflows_group.command("run")
@click.argument("workflow")
@click.option(
    "--input", "inputs", default="{}", help="The trigger's inputs as JSON: '{\"client_id\": 12}'."
)
@click.option(
    "--event", "event_id", type=int, help="Run against this past event (purplecross events)."
)
@click.option("--dry-run", is_flag=True, help="Print what each step would do; change nothing.")
def run_command(workflow: str, inputs: str, event_id: int | None, dry_run: bool) -> None:
    """Start WORKFLOW by hand, or test it with --dry-run."""
    from purplecross_desktop.database import make_engine
    from purplecross_desktop.jobs_wiring import build_job_platform

    try:
        given = json.loads(inputs)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--input") from None
    if not isinstance(given, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--input")
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    platform = build_job_platform(settings, engine)
    try:
        workflows = platform.services["workflows"]
        with _errors():
            if dry_run:
                document = platform.services["domain"].workflows.document(workflow)
                trigger = workflows.trigger_for(document, given, event_id)
                for preview in workflows.dry_run(document, trigger):
                    click.echo(f"{preview.step_id} ({preview.action}): {preview.description}")
                return
            run_id = workflows.start_manual(workflow, given, event_id=event_id)
        platform.completions.flush()
        click.echo(f"run {run_id} started; `purplecross workflows runs` shows how it goes")
    finally:
        platform.close()
        engine.dispose()


@workflows_group.command("retry")
@click.argument("run_id", type=int)
def retry_command(run_id: int) -> None:
    """Run a failed run again from the step that failed (earlier steps are not repeated)."""
    from purplecross_desktop.database import make_engine
    from purplecross_desktop.jobs_wiring import build_job_platform

    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    platform = build_job_platform(settings, engine)
    try:
        with _errors():
            platform.services["workflows"].retry(run_id)
        platform.completions.flush()
        click.echo(f"run {run_id}: retrying from the step that failed")
    finally:
        platform.close()
        engine.dispose()


@workflows_group.command("runs")
@click.argument("workflow", required=False)
@click.option("--failed", is_flag=True, help="Only failed runs.")
@click.option(
    "--run", "run_id", type=int, help="One run's timeline: each step's input, output, error."
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def runs_command(workflow: str | None, failed: bool, run_id: int | None, limit: int) -> None:
    """Runs newest first (of WORKFLOW, or all), or one run's timeline."""
    with _services() as services, _errors():
        if run_id is not None:
            run, steps = services.workflows.run(run_id)
            click.echo(f"run {run.id} of {run.workflow!r} v{run.version}: {run.status}")
            if run.error:
                click.echo(f"  error: {run.error}")
            for s in steps:
                took = "" if s.duration is None else f" {s.duration * 1000:.0f} ms"
                click.echo(f"  {s.seq:>3}.{s.attempt} {s.step_id} ({s.action}) {s.status}{took}")
                click.echo(f"        in:  {json.dumps(s.input, default=str)}")
                click.echo(f"        out: {json.dumps(s.output, default=str)}")
                if s.error:
                    click.echo(f"        error: {s.error}")
            return
        workflow_id = services.workflows.find(workflow).id if workflow else None
        status = ["failed"] if failed else None
        runs = services.workflows.runs(workflow_id, status=status, limit=limit)
    if not runs:
        click.echo("no runs")
    for r in runs:
        line = (
            f"{r.id:>6}  {r.status:<9} {r.started_at:%Y-%m-%d %H:%M}  v{r.version:<3} {r.workflow}"
        )
        click.echo(line + (f"  ({r.error})" if r.error else ""))
