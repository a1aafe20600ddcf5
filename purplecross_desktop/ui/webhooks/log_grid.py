"""The delivery log: every attempt of one endpoint, paged and filtered in SQL."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from purplecross_desktop.domain.webhooks import ATTEMPT, CATALOGUE, MESSAGE, TEST_EVENT
from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.grid_sql_source import SqlSource
from widgets.datagrid import Column, DataGrid, SavedView, SortKey

RESULTS = ("delivered", "failed")


def columns() -> Sequence[Column]:
    return [
        Column("id", "Id", kind="number", visible=False),
        Column("started_at", "Time", kind="datetime", filter_mode="range", width=150),
        Column(
            "event_type", "Event", filter_mode="choice", choices=(*CATALOGUE, TEST_EVENT), width=170
        ),
        Column("result", "Result", filter_mode="choice", choices=RESULTS, width=80),
        Column("status_code", "Status", kind="number", width=60),
        Column("duration_ms", "ms", kind="number", width=70),
        Column("attempt", "Try", kind="number", width=40),
        Column(
            "trigger",
            "Trigger",
            filter_mode="choice",
            choices=("scheduled", "replay", "recover", "test"),
            width=80,
        ),
        Column("detail", "Error or response", width=260),
        Column("msg_id", "Message", width=290),
        Column(
            "message_state",
            "Message now",
            filter_mode="choice",
            choices=("pending", "queued", "sending", "succeeded", "failed"),
            width=90,
        ),
    ]


def source(context: AppContext, endpoint_id: int | None) -> SqlSource:
    """Attempts of ``endpoint_id`` (None: no rows) joined to their messages."""
    stmt: sa.Select[Any] = sa.select(ATTEMPT).join(MESSAGE, MESSAGE.c.id == ATTEMPT.c.message_id)
    stmt = stmt.where(ATTEMPT.c.endpoint_id == (endpoint_id if endpoint_id is not None else -1))
    result = sa.case((ATTEMPT.c.succeeded, "delivered"), else_="failed")
    detail = sa.func.coalesce(ATTEMPT.c.error, sa.func.substr(ATTEMPT.c.response_excerpt, 1, 200))
    return SqlSource(
        stmt,
        context.session_factory,
        {
            "id": ATTEMPT.c.id,
            "started_at": ATTEMPT.c.started_at,
            "event_type": MESSAGE.c.event_type,
            "result": result,
            "status_code": ATTEMPT.c.status_code,
            "duration_ms": ATTEMPT.c.duration_ms,
            "attempt": ATTEMPT.c.attempt,
            "trigger": ATTEMPT.c.trigger,
            "detail": detail,
            "msg_id": MESSAGE.c.msg_id,
            "message_state": MESSAGE.c.state,
        },
        id_column=ATTEMPT.c.id,
        searchable=["event_type", "msg_id", "detail"],
    )


def make_grid(context: AppContext) -> DataGrid:
    grid = DataGrid(
        columns(),
        source=source(context, None),
        page_size=20,
        selection="multi",
        id_key="id",
        grid_id="webhook-deliveries",
        saved_views=(SavedView("Newest first", sort=(SortKey("started_at", descending=True),)),),
        empty_text="No deliveries yet",
        title="Delivery log",
        timezone=zoneinfo.ZoneInfo(context.settings.clinic_timezone),
    )
    grid.setAccessibleName("Delivery log")
    grid.sort_by("started_at", descending=True)
    return grid
