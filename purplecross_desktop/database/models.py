"""Imports every table module so that ``metadata`` knows the whole schema (for Alembic)."""

from __future__ import annotations

import jobs.models  # noqa: F401
import purplecross_desktop.database.cache_invalidation
import purplecross_desktop.domain.appointments
import purplecross_desktop.domain.audit
import purplecross_desktop.domain.billing
import purplecross_desktop.domain.clients
import purplecross_desktop.domain.event_log
import purplecross_desktop.domain.medical
import purplecross_desktop.domain.notifications
import purplecross_desktop.domain.patients
import purplecross_desktop.domain.price_list
import purplecross_desktop.domain.reminders
import purplecross_desktop.domain.rooms
import purplecross_desktop.domain.staff
import purplecross_desktop.domain.webhooks
import purplecross_desktop.workflows.models  # noqa: F401
from purplecross_desktop.database.base import Base

# Each package that owns tables is imported here once it has them:
# the clinic domain (purplecross_desktop.domain) and the job registry (jobs.models).

metadata = Base.metadata
