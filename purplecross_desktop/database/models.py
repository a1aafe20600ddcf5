"""Imports every table module so that ``metadata`` knows the whole schema (for Alembic)."""

from __future__ import annotations

import jobs.models  # noqa: F401  (the job registry tables)
from purplecross_desktop.database.base import Base

# Each package that owns tables is imported here once it has them:
# the clinic domain (purplecross_desktop.domain) and the job registry (jobs.models).

metadata = Base.metadata
