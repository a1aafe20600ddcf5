"""Render the Workflows page and the builder, light and dark, into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/record_workflow_screenshots.py [out_dir]

On a fresh temporary clinic: the five templates imported (two enabled) with a sample run
history; the list with its chart, the builder on "Vaccination due" (a step selected, a
connection being dragged from a port in a second shot, a rule broken under its field in
a third), a run's timeline, and "Run workflow…" on a client's record.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="pc-workflow-shots-"))
    os.environ["PURPLECROSS_DATA_DIR"] = str(home / "data")
    os.environ["PURPLECROSS_CONFIG_FILE"] = str(home / "settings.toml")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from purplecross_desktop.app import build_context, build_window, shutdown
    from purplecross_desktop.domain.clients import ClientData
    from purplecross_desktop.domain.roles import StaffRole
    from purplecross_desktop.domain.staff import StaffData
    from purplecross_desktop.settings import load_settings
    from purplecross_desktop.ui.dialogs.run_workflow import RunWorkflowDialog
    from purplecross_desktop.ui.pages.workflows_page import WorkflowsPage
    from purplecross_desktop.workflows.document import Document, load, template_paths
    from purplecross_desktop.workflows.sample_runs import add_sample_runs
    from widgets.theme import apply_theme

    app = QApplication(sys.argv[:1])
    context = build_context(load_settings(), start_jobs=False)
    services = context.services
    assert services is not None
    admin = services.staff.create_first_admin(
        StaffData("Alex Admin", StaffRole.ADMIN, "admin"), "a long password"
    )
    context.staff_session.sign_in(admin)
    manager = services.staff.create(
        StaffData("Pat Manager", StaffRole.PRACTICE_MANAGER, "pat"), "a long password"
    )
    for name, path in sorted(template_paths().items()):
        document = load(path)
        if name in ("vaccination-due", "no-show-follow-up"):
            document = document.with_settings(enabled=True)
        services.workflows.save(document)
    add_sample_runs(context.engine, per_workflow=14)
    services.workflows.save(
        Document.from_data(
            {
                "name": "Call back",
                "description": "A call-back line in the client's notes.",
                "trigger": {"type": "manual", "inputs": {"client_id": "integer", "note": "text"}},
                "steps": [
                    {
                        "id": "note",
                        "action": "add_note",
                        "with": {
                            "entity": "client",
                            "id": "{{ trigger.client_id }}",
                            "text": "Call back: {{ trigger.note }}",
                        },
                    }
                ],
                "settings": {"enabled": True},
            }
        )
    )
    ada = services.clients.create(ClientData(name="Ada Lovelace", email="ada@example.org"))
    context.staff_session.sign_in(manager)
    window = build_window(context)
    window.resize(1440, 900)
    window.show()

    def settle(ms: int = 1200) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def save(widget: QWidget, name: str) -> None:
        widget.grab().save(str(out / name))
        print("wrote", out / name)

    for theme in ("light", "dark"):
        apply_theme(app, theme)
        window.apply_chrome(theme)
        page = window.show_page("workflows")
        assert isinstance(page, WorkflowsPage)
        page.tabs.setCurrentIndex(0)
        settle(2000)
        save(window, f"workflows-list-{theme}.png")
        page.builder.load_text(template_paths()["vaccination-due"].read_text("utf-8"))
        page.tabs.setCurrentWidget(page.builder)
        page.builder.canvas.select("wait_booked")
        settle()
        save(window, f"workflows-builder-{theme}.png")
        canvas = page.builder.canvas
        viewport = canvas.viewport()
        start, end = canvas.port_point("wait_booked"), canvas.node_point("second_notice")
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
        for i in range(1, 4):
            QTest.mouseMove(viewport, start + (end - start) * (i / 4))
        QTest.mouseMove(viewport, end + (start - end) * 0.08)
        settle(300)
        save(window, f"workflows-builder-connect-{theme}.png")
        QTest.keyClick(canvas, Qt.Key.Key_Escape)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0), start)
        page.builder.document.set_input("email_owner", "subject", "")
        page.builder.canvas.select("email_owner")
        settle()
        save(window, f"workflows-builder-error-{theme}.png")
        page.tabs.setCurrentWidget(page.runs_tab)
        settle()
        row = page.runs.row_at(0)
        if row is not None:
            page.show_run(int(row.id))
        settle()
        save(window, f"workflows-runs-{theme}.png")
        dialog = RunWorkflowDialog(context, "client", ada.id, ada.name, {}, window)
        dialog.show()
        settle()
        note = dialog.editors["note"]
        assert hasattr(note, "setText")
        note.setText("asked about the booster")
        settle(300)
        save(dialog, f"run-workflow-{theme}.png")
        dialog.close()
    shutdown(context)


if __name__ == "__main__":
    main()
