"""Settings → Integrations: the systems the clinic sends its events to (admins only)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QWidget

from purplecross_desktop.ui.context import AppContext
from purplecross_desktop.ui.pages.base import Page
from purplecross_desktop.ui.webhooks.catalogue_panel import CatalogueView
from purplecross_desktop.ui.webhooks.panel import WebhooksPanel


class IntegrationsPage(Page):
    """Integrations: the Webhooks tab and the event catalogue receivers read.

    Signals: none; the tabs show their outcomes inline.
    """

    title = "Integrations"

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        crumb = QLabel("Settings → Integrations")
        crumb.setAccessibleName("Breadcrumb")
        self.body.addWidget(crumb)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Integrations")
        self.webhooks = WebhooksPanel(context)
        self.tabs.addTab(self.webhooks, "Webhooks")
        self.catalogue = CatalogueView()
        self.tabs.addTab(self.catalogue, "Event catalogue")
        self.body.addWidget(self.tabs, 1)

    def activate(self) -> None:
        self.webhooks.reload()

    def refresh(self) -> None:
        self.webhooks.reload()
        self.webhooks.log.refresh()

    def create_new(self) -> None:
        self.webhooks.register()
