"""Reports: the report files the clinic has produced, newest first, ready to open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from widgets.datagrid import Column, DataGrid, GridRow


def list_reports(folder: Path) -> list[dict[str, object]]:
    """Every file under ``folder`` with its size and time, newest first."""
    if not folder.is_dir():
        return []
    rows: list[dict[str, object]] = []
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            rows.append(
                {
                    "name": path.name,
                    "kind": path.suffix.lstrip(".").upper() or "file",
                    "size_kb": round(stat.st_size / 1024, 1),
                    "modified": dt.datetime.fromtimestamp(stat.st_mtime),
                    "path": str(path),
                }
            )
    rows.sort(key=lambda r: r["modified"], reverse=True)  # type: ignore[arg-type,return-value]
    return rows


class ReportsPage(Page):
    """Lists the files in the reports folder; Enter or double-click opens one."""

    title = "Reports"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        folder = context.settings.reports_path
        intro = QLabel(f"Reports are saved in {folder}.")
        intro.setWordWrap(True)
        self.body.addWidget(intro)
        self.grid = DataGrid(
            [
                Column("name", "File", kind="text", width=320),
                Column("kind", "Type", filter_mode="choice", width=80),
                Column("size_kb", "Size (KB)", kind="number", width=100),
                Column("modified", "Saved", kind="datetime", width=170),
                Column("path", "Path", kind="text", visible=False),
            ],
            rows=[],
            page_size=20,
            id_key="path",
            grid_id="reports",
            empty_text="No reports yet",
        )
        self.grid.sig_row_activated.connect(self._open)
        self.body.addWidget(self.grid, 1)
        row = QHBoxLayout()
        open_folder = QPushButton("Open reports folder")
        open_folder.setAccessibleName("Open reports folder")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        )
        row.addWidget(open_folder)
        row.addStretch(1)
        self.body.addLayout(row)

    def activate(self) -> None:
        folder = self.context.settings.reports_path
        self.context.background(self, lambda: list_reports(folder)).success(
            self.grid.set_rows
        ).run_in_background()

    def _open(self, row: GridRow) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(row.id)))
