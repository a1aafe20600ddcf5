"""Composition root: builds the services, wires domain events, and opens the main window.

Nothing else in the code base constructs services or reads settings; screens and
subsystems get what they need through ``__init__`` (see :class:`AppContext`).
"""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cache import CacheService
from purplecross_desktop.cache_wiring import build_cache_service, wire_cache_invalidation
from purplecross_desktop.database.session import make_engine, make_session_factory, upgrade
from purplecross_desktop.domain.events import EventBus
from purplecross_desktop.domain.roles import Permission
from purplecross_desktop.operations import OperationRunner
from purplecross_desktop.schema_check import schema_is_current
from purplecross_desktop.services import build_services
from purplecross_desktop.settings import Settings, mask_url
from purplecross_desktop.staff_session import StaffSession
from purplecross_desktop.ui.context import AppContext, HealthCheck
from purplecross_desktop.ui.main_window import MainWindow, PageSpec
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.pages.today_page import TodayPage
from widgets.theme import ThemeManager

if TYPE_CHECKING:  # the jobs stack (Huey, Redis, psycopg) is imported when jobs start
    from purplecross_desktop.jobs_wiring import JobsRuntime

log = logging.getLogger(__name__)


#: Imported before the later pages, each in its own turn: what one page would otherwise
#: bring in all at once (the Workflows page: ~55 ms with the webhooks model and builder).
_WARM_FIRST = (
    "purplecross_desktop.domain.webhooks",
    "purplecross_desktop.ui.workflow_builder.canvas",
    "purplecross_desktop.ui.workflow_builder.builder",
)
#: Milliseconds between two of those imports, for input and paints to go first.
WARM_PAUSE_MS = 20


@dataclass(frozen=True)
class _LaterPage:
    """The factory of a page whose code is imported after start-up: the window shows with
    the Today page's code only (the other pages' modules cost ~150-200 ms of imports), and
    :func:`freeze_start_up_objects` imports them one per event-loop turn soon after, so a
    first visit rarely pays for it (if it comes first, the factory imports it)."""

    module: str
    name: str

    def __call__(self, context: AppContext) -> Page:
        page_class = getattr(importlib.import_module(self.module), self.name)
        return cast(Page, page_class(context))


def _page(module: str, name: str) -> _LaterPage:
    return _LaterPage(f"purplecross_desktop.ui.pages.{module}", name)


def later_page_modules() -> list[str]:
    """The modules of the navigation's pages imported after start-up, in menu order."""
    return [s.factory.module for s in default_pages() if isinstance(s.factory, _LaterPage)]


def default_pages() -> list[PageSpec]:
    """The navigation, in order."""
    return [
        PageSpec("today", "Today", TodayPage),
        PageSpec("calendar", "Calendar", _page("calendar_page", "CalendarPage")),
        PageSpec("appointments", "Appointments", _page("appointments_page", "AppointmentsPage")),
        PageSpec("patients", "Patients", _page("patients_page", "PatientsPage")),
        PageSpec("clients", "Clients", _page("clients_page", "ClientsPage")),
        PageSpec("invoices", "Invoices", _page("invoices_page", "InvoicesPage")),
        PageSpec("balances", "Balances", _page("balances_page", "BalancesPage")),
        PageSpec("reports", "Reports", _page("reports_page", "ReportsPage")),
        PageSpec(
            "queues",
            "Queue monitor",
            _page("queue_monitor_page", "QueueMonitorPage"),
            Permission.MONITOR_QUEUES,
        ),
        PageSpec("health", "Health", _page("health_page", "HealthPage")),
        PageSpec(
            "workflows",
            "Workflows",
            _page("workflows_page", "WorkflowsPage"),
            Permission.MANAGE_WORKFLOWS,
        ),
        PageSpec("staff", "Staff", _page("staff_page", "StaffPage"), Permission.MANAGE_STAFF),
        PageSpec(
            "settings",
            "Settings",
            _page("settings_page", "SettingsPage"),
            Permission.MANAGE_SETTINGS,
        ),
        PageSpec(
            "integrations",
            "Integrations",
            _page("integrations_page", "IntegrationsPage"),
            Permission.MANAGE_INTEGRATIONS,
        ),
    ]


class StartupError(RuntimeError):
    """The app cannot start on this configuration; the message says what to do."""


def build_context(
    settings: Settings, runner: OperationRunner | None = None, *, start_jobs: bool = True
) -> AppContext:
    """Open the database (upgrading an embedded one), build the services and wire events.

    With ``start_jobs`` the job platform is bound for this process and its runner starts
    (consuming every queue when ``settings.embedded_worker``, else only draining the
    outbox); tests of screens that enqueue nothing pass False.
    """
    url = settings.effective_database_url
    if not schema_is_current(url):
        if not settings.is_embedded_database:
            # A shared server is upgraded once, deliberately, not by whichever desk starts.
            raise StartupError(
                f"the clinic database at {mask_url(url)} is not at this version's schema; "
                "run `purplecross db upgrade` once (on one machine), then start the app"
            )
        upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    bus = EventBus()
    staff_session = StaffSession()
    cache = build_cache_service(settings, engine)
    context = AppContext(
        settings=settings,
        runner=runner or OperationRunner(),
        session_factory=factory,
        # every write from a screen is made, audited and permission-checked as the
        # staff member signed in at this workstation
        services=build_services(
            factory,
            bus,
            current_actor=staff_session.actor,
            cache=cache,
            timezone=settings.clinic_timezone,
        ),
        staff_session=staff_session,
        engine=engine,
        cache=cache,
        cache_unsubscribe=wire_cache_invalidation(bus, cache),
        health_checks=[cache_health_check(cache)],
    )
    if start_jobs:
        start_jobs_runtime(context)
    return context


def start_jobs_runtime(context: AppContext) -> JobsRuntime:
    """Build this process's job platform and start its runner (consuming every queue when
    ``settings.embedded_worker``, else only draining the outbox); ``context.jobs`` holds it."""
    from purplecross_desktop.jobs_wiring import JobsRuntime

    jobs_runtime = JobsRuntime(context.settings, context.engine, context.services)
    jobs_runtime.start()
    context.jobs = jobs_runtime
    context.health_checks.append(jobs_health_check(jobs_runtime))
    return jobs_runtime


def start_jobs_in_background(context: AppContext) -> threading.Thread:
    """:func:`start_jobs_runtime` on a thread, so the window is usable before the jobs stack
    is imported and started (~0.5 s); :func:`shutdown` waits for it."""

    def start() -> None:
        try:
            start_jobs_runtime(context)
        except Exception as exc:  # the window is up: say so on the Health page, not crash
            log.exception("the job runner could not start")
            reason = f"not started: {type(exc).__name__}: {exc}"
            context.health_checks.append(lambda: [("Jobs", reason)])

    thread = threading.Thread(target=start, name="jobs-start", daemon=True)
    context.jobs_starter = thread
    thread.start()
    return thread


def cache_health_check(cache: CacheService) -> HealthCheck:
    """Health rows for the cache: the tier in use, the breaker, hit rates per tier, and
    notices (such as an unreadable disk cache moved aside at start)."""

    def check() -> list[tuple[str, str]]:
        stats = cache.stats()
        rows = [
            ("Cache tier", f"{stats.tier} (breaker {stats.breaker}, {stats.failovers} failovers)")
        ]
        for tier in stats.tiers:
            rate = f"{tier.hit_rate:.0%}" if tier.hits + tier.misses else "no lookups yet"
            keys = "?" if tier.keys is None else f"{tier.keys:,}"
            rows.append(
                (f"Cache {tier.name}", f"hit rate {rate}, {keys} keys, {tier.errors} errors")
            )
        if stats.last_error:
            rows.append(("Cache last error", stats.last_error))
        rows += [("Cache notice", notice) for notice in stats.notices]
        return rows

    return check


def jobs_health_check(jobs_runtime: JobsRuntime) -> HealthCheck:
    """Health rows for the job queues: counts per queue and state, and paused queues."""

    def check() -> list[tuple[str, str]]:
        from jobs.registry import JobRegistry

        registry = JobRegistry(jobs_runtime.platform)
        rows: list[tuple[str, str]] = []
        for queue, states in sorted(registry.counts().items()):
            summary = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
            rows.append((f"Queue {queue}", summary or "empty"))
        paused = registry.paused_queues()
        rows.append(("Paused queues", ", ".join(sorted(paused)) or "none"))
        return rows or [("Jobs", "no jobs yet")]

    return check


def build_window(context: AppContext) -> MainWindow:
    """The main window, styled by the app's theme manager when there is one."""
    window = MainWindow(context, default_pages())
    themes = context.themes
    if themes is not None:
        window.apply_chrome(themes.theme)
        themes.sig_theme_changed.connect(window.apply_chrome)
    else:
        window.apply_chrome("light")
    return window


def freeze_start_up_objects(context: AppContext) -> None:
    """Leave what start-up made (modules, mappers, the window: ~160,000 objects) out of
    the garbage collector's full passes, once the jobs stack has been imported.

    A full pass over them holds the interpreter lock for 0.3-0.9 s, and one comes soon
    after start, on whichever thread allocates: the window froze for that long on the
    Calendar's first week or the first reload (``python -m benchmarks calendar``). What is
    made later is collected as before; ``gc.freeze`` moves, it does not collect.

    Then the pages the window did not need to show are imported, one module per turn of
    the event loop with a pause between (the largest ~25 ms: no turn stalls the window),
    so that a first visit does not wait for their code. After the freeze, so that no full
    collection over start-up's objects lands inside one of those imports.
    """
    starter = context.jobs_starter
    if starter is not None and starter.is_alive():
        QTimer.singleShot(500, lambda: freeze_start_up_objects(context))
        return
    gc.freeze()
    pending = [m for m in (*_WARM_FIRST, *later_page_modules()) if m not in sys.modules]

    def next_module() -> None:
        if pending:
            importlib.import_module(pending.pop(0))
            QTimer.singleShot(WARM_PAUSE_MS, next_module)

    QTimer.singleShot(WARM_PAUSE_MS, next_module)


def shutdown(context: AppContext) -> None:
    """Wait briefly for background work, then release the database."""
    context.runner.wait_for_done(5000)
    starter, context.jobs_starter = context.jobs_starter, None
    if starter is not None:
        starter.join()
    jobs_runtime, context.jobs = context.jobs, None
    if jobs_runtime is not None:
        jobs_runtime.stop()
    unsubscribe, context.cache_unsubscribe = context.cache_unsubscribe, None
    if unsubscribe is not None:
        unsubscribe()
    cache, context.cache = context.cache, None
    if cache is not None:
        cache.close()
    context.engine.dispose()


def run_app(settings: Settings) -> int:
    """Start the Qt application on ``settings`` and return its exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Libraries' start-up chatter (Alembic plugins, one Huey banner per queue) hides ours.
    for noisy in ("alembic", "huey"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Purple Cross")
    app.setOrganizationName("Purple Cross")
    context = build_context(settings, start_jobs=False)
    context.themes = ThemeManager(app, settings.theme)
    window = build_window(context)
    window.show()
    start_jobs_in_background(context)
    QTimer.singleShot(0, lambda: freeze_start_up_objects(context))
    try:
        return int(app.exec())
    finally:
        shutdown(context)
