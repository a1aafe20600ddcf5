"""What a grid source's long work checks between its slices (Qt-free, numpy-free).

Kept apart from :mod:`widgets.datagrid.column_arrays` so that importing the grid does not
import numpy: the arrays are built on the first query of an in-memory source, and a
window whose grids all read a database never loads numpy at all (~80 ms of start-up).
"""

from __future__ import annotations

from collections.abc import Callable

#: Values converted per Python-level step: ~2-5 ms of work, so the UI thread waits at most that.
CHUNK = 16_384

Cancelled = Callable[[], bool]


class QueryCancelledError(Exception):
    """Raised inside a source when the query it runs has been superseded."""
