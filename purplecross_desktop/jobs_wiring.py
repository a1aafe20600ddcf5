"""Builds this process's job platform from settings (the jobs half of the composition root).

The app and ``purplecross worker`` both call :func:`build_job_platform`, so a job
enqueued by one is understood by the other: same queues, same task kinds, same key.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect

from jobs.platform import JobPlatform, JobsConfig
from purplecross_desktop.secrets import get_secret, redis_password_for
from purplecross_desktop.settings import Settings

if TYPE_CHECKING:
    from jobs.email import EmailService

JOB_TABLES = ("job", "job_event", "job_worker", "job_paused_queue", "email_log")


class SchemaMissingError(RuntimeError):
    """The database has no job registry tables yet."""


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaMissingError` (with the fix) when the registry tables are missing."""
    present = set(inspect(engine).get_table_names())
    missing = [t for t in JOB_TABLES if t not in present]
    if missing:
        raise SchemaMissingError(
            f"the database lacks the job tables {missing}: run `purplecross db upgrade` first"
        )


def build_job_platform(
    settings: Settings,
    engine: Engine,
    extra_registrations: Iterable[Callable[[JobPlatform], Any]] = (),
    **config_overrides: Any,
) -> JobPlatform:
    """The job platform with every job family registered.

    Args:
        settings: the effective settings (Redis URL or SQLite queue file, SMTP, clinic).
        engine: the app database, which holds the registry.
        extra_registrations: callables that register more task kinds (plugins, tests).
        config_overrides: fields of :class:`JobsConfig` to override (timings).

    Raises:
        JobsConfigError: the settings cannot work (Redis without ``job_signing_key``).
    """
    platform = JobPlatform(jobs_config(settings, **config_overrides), engine)
    _register_families(platform, settings)
    for register in extra_registrations:
        register(platform)
    return platform


def jobs_config(settings: Settings, **config_overrides: Any) -> JobsConfig:
    """This process's :class:`JobsConfig`, with its secrets from the keyring or environment.

    Raises:
        JobsConfigError: the settings cannot work (Redis without ``job_signing_key``).
    """
    import dataclasses

    config = JobsConfig.from_settings(
        settings, get_secret("job_signing_key"), redis_password_for(settings.redis_url)
    )
    if config_overrides:
        config = dataclasses.replace(config, **config_overrides)
    return config


def _register_families(platform: JobPlatform, settings: Settings) -> None:
    """Every job family of the app (email now; reports, reminders, notifications next)."""
    # A missing dependency of a family is an error, never a silent skip.
    email = importlib.import_module("jobs.email")
    email.register(platform, settings)


def load_registration(spec: str) -> Callable[[JobPlatform], Any]:
    """``module:function`` → that function (for ``purplecross worker --register``)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--register: expected module:function, got {spec!r}")
    function: Callable[[JobPlatform], Any] = getattr(
        importlib.import_module(module_name), attribute
    )
    return function


class JobsRuntime:
    """The app's jobs: its platform and its runner (``AppContext.jobs``).

    With ``settings.embedded_worker`` the runner consumes every queue on background
    threads; otherwise separate ``purplecross worker`` processes do, and the app's
    runner only drains the outbox and watches the broker. Neither touches the
    process's signal handlers, and :meth:`start` returns at once.

    The runtime does not bind the process-wide ``jobs.configure`` default: app code
    enqueues through ``platform`` (or :attr:`email`), which it gets from the context.

    Args:
        settings: the effective settings.
        engine: the app database.
        config_overrides: fields of :class:`JobsConfig` to override (timings).
    """

    def __init__(self, settings: Settings, engine: Engine, **config_overrides: Any) -> None:
        self.settings = settings
        self.platform = build_job_platform(settings, engine, **config_overrides)
        from jobs.runner import Runner

        self.runner = Runner(self.platform, embedded=True, consume=settings.embedded_worker)

    @property
    def email(self) -> EmailService:
        """The email family's service: ``runtime.email.queue(to, subject, template, ...)``."""
        service: EmailService = self.platform.services["email"]
        return service

    def start(self) -> None:
        """Start the runner."""
        self.runner.start()

    def stop(self) -> None:
        """Stop the runner (unfinished jobs run again later) and close the platform."""
        self.runner.stop()
        self.platform.close()
