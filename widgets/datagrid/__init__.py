"""DataGrid: a fast, paged, sortable, filterable table for in-memory rows or database sources."""

from widgets.datagrid.model import RAW_VALUE_ROLE, ROW_ID_ROLE, GridModel
from widgets.datagrid.sources import (
    GridResult,
    GridSource,
    InMemoryResult,
    InMemorySource,
    QueryCancelledError,
    fold_text,
)
from widgets.datagrid.state import (
    PAGE_SIZES,
    ChoiceFilter,
    Column,
    ColumnFilter,
    GridQuery,
    GridRow,
    RangeFilter,
    SavedView,
    SortKey,
    TextFilter,
)
from widgets.datagrid.view import DataGrid

__all__ = [
    "PAGE_SIZES",
    "RAW_VALUE_ROLE",
    "ROW_ID_ROLE",
    "ChoiceFilter",
    "Column",
    "ColumnFilter",
    "DataGrid",
    "GridModel",
    "GridQuery",
    "GridResult",
    "GridRow",
    "GridSource",
    "InMemoryResult",
    "InMemorySource",
    "QueryCancelledError",
    "RangeFilter",
    "SavedView",
    "SortKey",
    "TextFilter",
    "fold_text",
]
