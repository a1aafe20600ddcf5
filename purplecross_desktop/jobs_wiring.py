"""Builds this process's job platform from settings (the jobs half of the composition root).

The app and ``purplecross worker`` both call :func:`build_job_platform`, so a job
enqueued by one is understood by the other: same queues, same task kinds, same key.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect

from jobs.platform import JobPlatform, JobsConfig
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.secrets import get_secret, redis_password_for
from purplecross_desktop.settings import Settings

if TYPE_CHECKING:
    from jobs.email import EmailService
    from jobs.monitor import Schedule
    from jobs.notification_triggers import AlertPolicy, AlertWatcher
    from purplecross_desktop.services import Services

JOB_TABLES = (
    "job",
    "job_blob",
    "job_event",
    "job_worker",
    "job_paused_queue",
    "email_log",
    "sms_log",
    "job_rate_window",
    "domain_event",
    "event_delivery",
    "event_handler_state",
    "report_request",
    "webhook_endpoint",
    "webhook_message",
    "webhook_attempt",
    "workflow",
    "workflow_run",
)


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
    services: Services | None = None,
    **config_overrides: Any,
) -> JobPlatform:
    """The job platform with every job family registered.

    Args:
        settings: the effective settings (Redis URL or SQLite queue file, SMTP, clinic).
        engine: the app database, which holds the registry.
        extra_registrations: callables that register more task kinds (plugins, tests).
        services: the domain services jobs and durable event handlers use (the app
            passes its own; a worker gets new ones on ``engine``).
        config_overrides: fields of :class:`JobsConfig` to override (timings).

    Raises:
        JobsConfigError: the settings cannot work (Redis without ``job_signing_key``).
    """
    platform = JobPlatform(jobs_config(settings, **config_overrides), engine)
    if services is None:
        from purplecross_desktop.database.session import make_session_factory
        from purplecross_desktop.services import build_services

        bus = EventBus(f"worker {platform.worker_id}")
        services = build_services(
            make_session_factory(engine), bus, timezone=settings.clinic_timezone
        )
    platform.services["domain"] = services
    _register_families(platform, settings, services)
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


def _register_families(platform: JobPlatform, settings: Settings, services: Services) -> None:
    """Every job family of the app, and the durable event handlers that produce their jobs."""
    # A missing dependency of a family is an error, never a silent skip.
    email = importlib.import_module("jobs.email")
    email.register(platform, settings)
    sms = importlib.import_module("jobs.sms")
    sms.register(platform, sms.gateway_from_settings(settings))
    notifications = importlib.import_module("jobs.notifications")
    notifications.register(platform, services)
    reports = importlib.import_module("jobs.reports")
    reports.register(platform, reports.ReportOptions.from_settings(settings))
    event_dispatch = importlib.import_module("jobs.event_dispatch")
    handlers = event_dispatch.EventHandlers()
    for add_handlers in DURABLE_HANDLERS:
        add_handlers(handlers, platform, settings, services)
    event_dispatch.register(platform, handlers, retention_days=settings.event_retention_days)


def _add_reminders(
    handlers: Any, platform: JobPlatform, settings: Settings, services: Services
) -> None:
    from jobs import reminders

    reminders.register(
        platform, services, handlers, reminders.ReminderPolicy.from_settings(settings)
    )


def _add_notifications(
    handlers: Any, platform: JobPlatform, settings: Settings, services: Services
) -> None:
    from jobs import notification_triggers

    notification_triggers.register(
        handlers, platform.services["notifications"], settings.clinic_currency
    )


def _add_webhooks(
    handlers: Any, platform: JobPlatform, settings: Settings, services: Services
) -> None:
    from jobs import webhooks

    webhooks.register(
        platform,
        handlers,
        webhooks.endpoint_service(platform, services, settings),
        webhooks.Sender(settings.webhook_ca_file),
        webhooks.policy_from_settings(settings),
        services,
    )


def _add_workflows(
    handlers: Any, platform: JobPlatform, settings: Settings, services: Services
) -> None:
    import zoneinfo

    from jobs import workflows

    workflows.register(
        platform, services, handlers, zone=zoneinfo.ZoneInfo(settings.clinic_timezone)
    )


#: Functions that register durable event handlers (one per family that reacts to events):
#: each gets the handler registry, the platform, the settings and the domain services.
DURABLE_HANDLERS: list[Callable[[Any, JobPlatform, Settings, Services], None]] = [
    _add_reminders,
    _add_notifications,
    _add_webhooks,
    _add_workflows,
]


#: Seconds between the event dispatcher's polls and between reminder scans.
EVENT_POLL_INTERVAL = 15.0
REMINDER_SCAN_INTERVAL = 300.0


def periodic_schedules() -> list[Schedule]:
    """The jobs :func:`start_families` runs on a schedule, for the monitor's Periodic tab."""
    from jobs.event_dispatch import TASK as DISPATCH
    from jobs.monitor import Schedule
    from jobs.reminders import SCAN

    return [
        Schedule(
            "Reminder scan",
            SCAN,
            REMINDER_SCAN_INTERVAL,
            aligned=True,
            note="finds vaccinations, refills, follow-ups and overdue invoices due a reminder",
        ),
        Schedule(
            "Event dispatch",
            DISPATCH,
            EVENT_POLL_INTERVAL,
            aligned=False,
            note="delivers new clinic events to reminders, notifications and webhooks;"
            " after each change, and polled when an event is due",
        ),
    ]


def start_families(
    platform: JobPlatform,
    bus: EventBus | None = None,
    poll_interval: float = EVENT_POLL_INTERVAL,
    scan_interval: float = REMINDER_SCAN_INTERVAL,
    alert_interval: float = 30.0,
    webhook_interval: float = 1.0,
    settings: Settings | None = None,
) -> Callable[[], None]:
    """Start what the families run beside the consumers; returns the function that stops it.

    The durable-event dispatcher is triggered after each commit published on ``bus`` and
    on the bus of the platform's own domain services, and polls the event table (now,
    then every ``poll_interval`` seconds): events whose writer died right after
    committing, or that another workstation wrote, are delivered. The reminder scan is
    enqueued now and every ``scan_interval`` seconds (one job per slot cluster-wide). Every
    ``alert_interval`` seconds, dead jobs, queues without a live worker and bursts of
    failures are reported to the admins (``jobs.notification_triggers.AlertWatcher``), as
    ``settings`` say (``job_alerts`` off: not at all). Every ``webhook_interval`` seconds,
    webhook messages whose retry came due are sent (``jobs.webhooks.PumpTrigger``).
    """
    from jobs.event_dispatch import DispatchTrigger, EventDispatchService

    service: EventDispatchService = platform.services["events"]
    trigger = DispatchTrigger(service, poll_interval=poll_interval)
    buses = [platform.services["domain"].events]
    if bus is not None and bus is not buses[0]:
        buses.append(bus)
    unsubscribers = [each.subscribe("*", trigger.notify) for each in buses]
    trigger.start()
    from jobs.reminders import ScanTrigger

    scans = ScanTrigger(platform.services["reminders"], scan_interval)
    scans.start()  # now (also at worker start), then every scan_interval
    alerts = start_alerts(platform, settings, alert_interval)
    from jobs.webhooks import PumpTrigger

    pump = PumpTrigger(platform.services["webhooks"], webhook_interval)
    pump.start()  # webhook retries that came due, and slots a dead job held
    from jobs.workflows import tick_trigger

    ticks = tick_trigger(platform.services["workflows"])
    ticks.start()  # schedules, date triggers, due waits and lost steps, every minute

    def stop() -> None:
        for unsubscribe in unsubscribers:
            unsubscribe()
        trigger.stop()
        scans.stop()
        pump.stop()
        if alerts is not None:
            alerts.stop()
        ticks.stop()

    return stop


def start_alerts(
    platform: JobPlatform, settings: Settings | None, interval: float
) -> AlertWatcher | None:
    """Start watching for what the admins must hear about (dead jobs, unserved queues,
    bursts of failures) every ``interval`` seconds; None when ``job_alerts`` is off."""
    if settings is not None and not settings.job_alerts:
        return None
    from jobs.notification_triggers import AlertWatcher

    policy = alert_policy(settings) if settings is not None else None
    watcher = AlertWatcher(platform, platform.services["notifications"], interval, policy=policy)
    watcher.start()
    return watcher


def alert_policy(settings: Settings) -> AlertPolicy:
    """The job alerts' threshold and quiet span from ``settings`` (``job_alert_*``)."""
    from jobs.notification_triggers import AlertPolicy

    return AlertPolicy(
        failures=settings.job_alert_failures,
        quiet=dt.timedelta(minutes=settings.job_alert_quiet_minutes),
    )


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
        services: the app's domain services (their bus triggers event dispatches).
        config_overrides: fields of :class:`JobsConfig` to override (timings).
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        services: Services | None = None,
        **config_overrides: Any,
    ) -> None:
        self.settings = settings
        self.platform = build_job_platform(settings, engine, (), services, **config_overrides)
        from jobs.runner import Runner

        self.runner = Runner(self.platform, embedded=True, consume=settings.embedded_worker)
        self._stop_families: Callable[[], None] | None = None

    @property
    def email(self) -> EmailService:
        """The email family's service: ``runtime.email.queue(to, subject, template, ...)``."""
        service: EmailService = self.platform.services["email"]
        return service

    def start(self) -> None:
        """Start the runner."""
        self.runner.start()
        self._stop_families = start_families(self.platform, settings=self.settings)

    def stop(self) -> None:
        """Stop the runner (unfinished jobs run again later) and close the platform."""
        if self._stop_families is not None:
            self._stop_families()
            self._stop_families = None
        self.runner.stop()
        webhooks = self.platform.services.get("webhooks")
        if webhooks is not None:
            webhooks.sender.close()  # its keep-alive connections
        self.platform.close()
