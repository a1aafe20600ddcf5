"""The gallery window: story tree, canvas, controls, signal log, docs and state matrix."""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gallery.controls import ControlsPanel
from gallery.deep_link import resolve
from gallery.docs import docs_html
from gallery.matrix import StateMatrix
from gallery.measure import MeasureOverlay
from gallery.play import run_play
from gallery.render import BACKGROUNDS, SCALES, Stage, scaled_style_sheet
from gallery.signal_log import SignalLog, SignalSpy
from gallery.story import Args, Component, Story
from gallery.tree_model import ITEM_ROLE, StoryTreeModel
from widgets.alert import Alert
from widgets.theme import THEME_MODES, ThemeManager, current_colors

_TAB_CANVAS, _TAB_DOCS, _TAB_MATRIX = 0, 1, 2
_LAST_STORY, _LAST_ARGS = "gallery/last_story", "gallery/last_args"
VIEWPORT_MIN, VIEWPORT_MAX = 120, 4000


def _viewport_box(name: str, changed: Any) -> QSpinBox:
    box = QSpinBox()
    box.setAccessibleName(name)
    box.setRange(0, VIEWPORT_MAX)
    box.setSpecialValueText("auto")
    box.setSuffix(" px")
    box.setKeyboardTracking(False)
    box.valueChanged.connect(changed)
    return box


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area


class GalleryWindow(QMainWindow):
    """Browse every widget's stories, edit their args live and watch their signals.

    Args:
        components: the components to show (``gallery.stories.load_components()``).
        themes: the application's theme manager (the toolbar switches it).
        settings: where to remember the last story and its args (and reopen them); None
            remembers nothing.
        parent: the parent widget.
    """

    def __init__(
        self,
        components: Sequence[Component],
        themes: ThemeManager,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Purple Cross — component gallery")
        self._components = list(components)
        self._themes = themes
        self._component: Component | None = None
        self._story: Story | None = None
        self._args: Args = {}
        self._scale = 1.0
        self._matrix_for: tuple[str, str, float] | None = None
        self._settings = settings
        self._viewport = (0, 0)

        # Left: search + tree
        self._search = QLineEdit()
        self._search.setPlaceholderText("Search components and stories")
        self._search.setAccessibleName("Search stories")
        self._search.setClearButtonEnabled(True)
        self._model = StoryTreeModel(self._components, self)
        self._tree = QTreeView()
        self._tree.setAccessibleName("Stories")
        self._tree.setHeaderHidden(True)
        self._tree.setModel(self._model)
        self._tree.expandAll()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self._search)
        left_layout.addWidget(self._tree)

        # Centre: canvas, docs, matrix
        self._stage = Stage()
        self._measure = MeasureOverlay(self._stage)
        self._stage.setAccessibleName("Canvas")
        self._docs = QTextBrowser()
        self._docs.setAccessibleName("Documentation")
        self._matrix_stage = Stage()
        self._tabs = QTabWidget()
        self._tabs.addTab(_scroll(self._stage), "Canvas")
        self._tabs.addTab(self._docs, "Docs")
        self._tabs.addTab(_scroll(self._matrix_stage), "State matrix")
        self._log = SignalLog()
        self._spy = SignalSpy(self)
        centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(self._tabs)
        centre.addWidget(self._log)
        centre.setSizes([560, 200])

        # Right: controls
        self._controls = ControlsPanel()
        controls_box = QWidget()
        controls_layout = QVBoxLayout(controls_box)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        controls_layout.addWidget(QLabel("Controls"))
        controls_layout.addWidget(_scroll(self._controls))

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(centre)
        split.addWidget(controls_box)
        split.setSizes([220, 640, 300])
        self.setCentralWidget(split)
        self._build_toolbar()

        self._search.textChanged.connect(self._on_search)
        self._tree.selectionModel().currentChanged.connect(self._on_current_changed)
        self._controls.sig_args_changed.connect(self._on_args_changed)
        self._spy.sig_emitted.connect(self._log.add)
        self._themes.sig_theme_changed.connect(self._on_theme_changed)
        self._tabs.currentChanged.connect(lambda _i: self._refresh_matrix())
        self._apply_window_style()
        self.resize(1280, 820)
        if not self._reopen_last() and self._components and self._components[0].stories:
            first = self._components[0]
            self.show_story(first.name, first.stories[0].name)

    # Toolbar --------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Gallery")
        bar.setMovable(False)
        self.addToolBar(bar)
        self._theme_box = QComboBox()
        self._theme_box.setAccessibleName("Theme")
        for mode in THEME_MODES:
            self._theme_box.addItem(mode.title(), mode)
        self._theme_box.setCurrentIndex(self._theme_box.findData(self._themes.mode))
        self._theme_box.currentIndexChanged.connect(
            lambda i: self._themes.set_mode(self._theme_box.itemData(i))
        )
        self._scale_box = QComboBox()
        self._scale_box.setAccessibleName("Scale")
        for scale in SCALES:
            self._scale_box.addItem(f"{scale:.0%}", scale)
        self._scale_box.currentIndexChanged.connect(self._on_scale_chosen)
        self._background_box = QComboBox()
        self._background_box.setAccessibleName("Background")
        for background in BACKGROUNDS:
            self._background_box.addItem(background.replace("_", " "), background)
        self._background_box.currentIndexChanged.connect(
            lambda i: self.set_background(self._background_box.itemData(i))
        )
        self._disable_action = QAction("Disable all", self)
        self._disable_action.setCheckable(True)
        self._disable_action.setShortcut(QKeySequence("Ctrl+D"))
        self._disable_action.toggled.connect(self._on_disable_all)
        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self._search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.addAction(find)
        rerender = QAction("Re-render", self)
        rerender.setShortcut(QKeySequence("Ctrl+R"))
        rerender.triggered.connect(self._render)
        self._viewport_w = _viewport_box("Viewport width", self._on_viewport_edited)
        self._viewport_h = _viewport_box("Viewport height", self._on_viewport_edited)
        self._measure_action = QAction("Measure", self)
        self._measure_action.setCheckable(True)
        self._measure_action.setShortcut(QKeySequence("Ctrl+M"))
        self._measure_action.toggled.connect(self.set_measuring)
        self._play_action = QAction("Play", self)
        self._play_action.setShortcut(QKeySequence("Ctrl+P"))
        self._play_action.setToolTip("Run the story's scripted interaction on the canvas")
        self._play_action.triggered.connect(self.play)
        reload = QAction("Reload story", self)
        reload.setShortcut(QKeySequence("Ctrl+Shift+R"))
        reload.setToolTip("Re-import the story's module and its widget's, keeping the args")
        reload.triggered.connect(self.reload_story)
        for label, box in (
            ("Theme ", self._theme_box),
            (" Scale ", self._scale_box),
            (" Background ", self._background_box),
            (" Viewport ", self._viewport_w),
            (" by ", self._viewport_h),
        ):
            bar.addWidget(QLabel(label))
            bar.addWidget(box)
        bar.addSeparator()
        bar.addAction(self._disable_action)
        bar.addAction(rerender)
        bar.addAction(reload)
        bar.addAction(self._measure_action)
        bar.addAction(self._play_action)

    # Public API -----------------------------------------------------------------------
    def current(self) -> tuple[Component | None, Story | None, Args]:
        """The selected component, story and current args."""
        return self._component, self._story, dict(self._args)

    def controls(self) -> ControlsPanel:
        """The controls panel."""
        return self._controls

    def signal_log(self) -> SignalLog:
        """The signal log."""
        return self._log

    def stage(self) -> Stage:
        """The canvas stage holding the rendered story."""
        return self._stage

    def tree_model(self) -> StoryTreeModel:
        """The component/story tree model."""
        return self._model

    def docs_text(self) -> str:
        """The Docs tab as plain text."""
        return self._docs.toPlainText()

    def show_story(self, component_name: str, story_name: str) -> None:
        """Select and render a story.

        Raises:
            KeyError: no such component or story.
        """
        component = next((c for c in self._components if c.name == component_name), None)
        if component is None:
            raise KeyError(f"no component {component_name!r}")
        story = component.story(story_name)
        index = self._model.story_index(component_name, story_name)
        if index.isValid():
            self._tree.setCurrentIndex(index)
        if self._story is not story:
            self._select(component, story)

    def play(self) -> list[str]:
        """Run the current story's play steps on the canvas (its signals reach the log);
        returns what failed and says so in the status bar."""
        story, content = self._story, self._stage.content()
        if story is None or content is None or not story.play:
            self.statusBar().showMessage("This story has no play steps", 5000)
            return []
        failures = run_play(content, story.play)
        done = f"Play: {len(story.play)} steps"
        self.statusBar().showMessage(
            f"{done}, {len(failures)} failed: {failures[0]}" if failures else f"{done} passed"
        )
        return failures

    def set_viewport(self, width: int = 0, height: int = 0) -> None:
        """Show stories at a real size: ``width`` by ``height`` pixels (at 100 %; 0 = the
        story's own width / natural height).

        Raises:
            ValueError: a size outside 0 or 120-4000 (nothing changes).
        """
        for name, value in (("width", width), ("height", height)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"viewport {name}: must be a whole number of pixels")
            if value != 0 and not VIEWPORT_MIN <= value <= VIEWPORT_MAX:
                raise ValueError(
                    f"viewport {name}: must be 0 (auto) or {VIEWPORT_MIN}-{VIEWPORT_MAX} px"
                )
        self._viewport = (width, height)
        for box, value in ((self._viewport_w, width), (self._viewport_h, height)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._render()

    def viewport(self) -> tuple[int, int]:
        """The viewport (width, height); 0 means automatic."""
        return self._viewport

    def set_measuring(self, on: bool) -> None:
        """Outline every widget of the story with its size (Ctrl+M)."""
        self._measure_action.blockSignals(True)
        self._measure_action.setChecked(on)
        self._measure_action.blockSignals(False)
        self._measure.setGeometry(self._stage.rect())
        self._measure.setVisible(on)
        if on:
            self._measure.raise_()

    def measure_overlay(self) -> MeasureOverlay:
        """The overlay drawn by Measure."""
        return self._measure

    def _on_viewport_edited(self, _value: int) -> None:
        width, height = self._viewport_w.value(), self._viewport_h.value()
        try:
            self.set_viewport(width, height)
        except ValueError:  # a value typed halfway (e.g. 4 on the way to 480): wait
            return

    def open_story(self, name: str, args_json: str | None = None) -> None:
        """Open ``Component/Story`` with the JSON object ``args_json`` over its defaults
        (a deep link: ``purplecross gallery --story Button/Primary --args '{...}'``).

        Raises:
            ValueError: no such story or args its controls refuse (nothing changes).
        """
        component, story, args = resolve(self._components, name, args_json)
        self.show_story(component.name, story.name)
        for arg, value in args.items():
            if value != self._args.get(arg):
                self._controls.set_value(arg, value)

    def reload_story(self) -> str:
        """Re-import the current story's module and its widget's module (Storybook's hot
        reload) and render the same story with the same args (those the new story still
        takes). A module that fails to import is reported in the canvas and the old
        stories stay. Returns what happened, for the status bar and tests."""
        component, story = self._component, self._story
        if component is None or story is None:
            return "no story to reload"
        names = [component.widget.__module__, story.render.__module__]
        try:
            for name in dict.fromkeys(names):
                module = sys.modules.get(name)
                if module is not None:
                    # A save within the same second at the same size would otherwise
                    # reload the old bytecode (its check is mtime in seconds and size).
                    cached = getattr(module, "__cached__", None)
                    if cached:
                        with contextlib.suppress(OSError):
                            Path(cached).unlink()
                    importlib.reload(module)
            fresh = getattr(sys.modules[story.render.__module__], "COMPONENT", None)
            if not isinstance(fresh, Component):
                raise TypeError(f"{story.render.__module__} has no COMPONENT")
        except Exception as exc:  # a half-saved file: show it, keep working
            message = f"could not reload {story.render.__module__}: {type(exc).__name__}: {exc}"
            self._stage.set_content(Alert(message, kind="error", title="Reload failed"))
            return message
        self._components = [fresh if c.name == component.name else c for c in self._components]
        self._model.set_components(self._components)
        self._tree.expandAll()
        kept = {k: v for k, v in self._args.items() if v != story.args.get(k)}
        new_story = next((s for s in fresh.stories if s.name == story.name), fresh.stories[0])
        controls = {c.name: c for c in new_story.controls()}
        args = {k: v for k, v in kept.items() if k in controls}
        self.show_story(fresh.name, new_story.name)  # a new Story object: selected anew
        for arg, value in args.items():
            with contextlib.suppress(ValueError):  # a rule changed: the default stands
                self._controls.set_value(arg, value)
        return f"reloaded {story.render.__module__}"

    def _reopen_last(self) -> bool:
        if self._settings is None:
            return False
        name = self._settings.value(_LAST_STORY)
        if not isinstance(name, str) or not name:
            return False
        args = self._settings.value(_LAST_ARGS)
        try:
            self.open_story(name, args if isinstance(args, str) else None)
        except ValueError:  # a story renamed or an arg changed since: start as new
            return False
        return True

    def _remember(self) -> None:
        if self._settings is None or self._component is None or self._story is None:
            return
        self._settings.setValue(_LAST_STORY, f"{self._component.name}/{self._story.name}")
        changed = {k: v for k, v in self._args.items() if v != self._story.args.get(k)}
        self._settings.setValue(_LAST_ARGS, json.dumps(changed))

    def set_scale(self, scale: float) -> None:
        """Show stories at ``scale`` (1.0 = 100 %), one of ``SCALES``.

        Raises:
            ValueError: a scale the toolbar does not offer (nothing changes).
        """
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale not in SCALES:
            offered = ", ".join(f"{s:.0%}".replace("%", " %") for s in SCALES)
            raise ValueError(f"scale: must be one of {offered}, not {scale!r}")
        if float(scale) == self._scale:
            return
        self._scale = float(scale)
        self._scale_box.blockSignals(True)  # the combo's echo would render a second time
        self._scale_box.setCurrentIndex(self._scale_box.findData(self._scale))
        self._scale_box.blockSignals(False)
        self._apply_scale()
        self._render()

    def _on_scale_chosen(self, index: int) -> None:
        scale = self._scale_box.itemData(index)
        if isinstance(scale, float):
            self.set_scale(scale)

    def set_background(self, background: str) -> None:
        """Paint ``background`` (a token name or "checker") behind stories."""
        self._stage.set_background(background)
        self._matrix_stage.set_background(background)
        self._background_box.setCurrentIndex(self._background_box.findData(background))

    def set_disabled_all(self, disabled: bool) -> None:
        """Disable (or re-enable) every widget on the canvas."""
        self._disable_action.setChecked(disabled)

    # Reactions ------------------------------------------------------------------------
    def _on_search(self, text: str) -> None:
        self._model.set_filter(text)
        self._tree.expandAll()
        if self._component is not None and self._story is not None:
            index = self._model.story_index(self._component.name, self._story.name)
            if index.isValid():
                self._tree.setCurrentIndex(index)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self._model.data(current, ITEM_ROLE)
        if not item:
            return
        component, story = item
        if story is None:
            story = component.stories[0] if component.stories else None
        if story is not None and story is not self._story:
            self._select(component, story)

    def _select(self, component: Component, story: Story) -> None:
        self._component, self._story = component, story
        self._args = story.default_args()
        self._controls.set_story(story, self._args)
        self._log.clear()
        self._render()
        self._remember()

    def _on_args_changed(self, args: dict[str, Any]) -> None:
        self._args = dict(args)
        self._render()
        self._remember()

    def _on_theme_changed(self, _theme: str) -> None:
        self._theme_box.blockSignals(True)
        self._theme_box.setCurrentIndex(self._theme_box.findData(self._themes.mode))
        self._theme_box.blockSignals(False)
        self._apply_window_style()
        self._apply_scale()
        self._matrix_for = None
        self._render()

    def _on_disable_all(self, disabled: bool) -> None:
        self._stage.setEnabled(not disabled)
        self._matrix_stage.setEnabled(not disabled)

    # Rendering ------------------------------------------------------------------------
    def _apply_window_style(self) -> None:
        colors = current_colors()
        self.setStyleSheet(
            f"QLabel#control_error {{ color: {colors.error_text}; }}"
            f"QLabel#matrix_header {{ color: {colors.text_muted}; font-weight: 600; }}"
        )

    def _apply_scale(self) -> None:
        sheet = scaled_style_sheet(self._scale)
        self._stage.setStyleSheet(sheet)
        self._matrix_stage.setStyleSheet(sheet)
        self._matrix_for = None

    def _render(self) -> None:
        component, story = self._component, self._story
        if component is None or story is None:
            return
        self._spy.clear()
        error: str | None = None
        try:
            widget = story.render(self._args)
        except (ValueError, TypeError, KeyError) as exc:
            # A bad arg combination is shown, not raised: the gallery stays usable.
            error = str(exc)
            widget = Alert(error, kind="error", title="This story cannot render these args")
        width, height = self._viewport
        if width:
            widget.setFixedWidth(round(width * self._scale))
        else:
            widget.setMaximumWidth(round(story.canvas_width(self._args) * self._scale))
        if height:
            widget.setFixedHeight(round(height * self._scale))
        self._stage.set_content(widget)
        self._spy.watch(widget)
        # After an error the widget shown is the Alert: its properties are not the story's.
        instance = None if error is not None else widget
        self._docs.setHtml(docs_html(component, story, self._args, instance, error=error))
        self._refresh_matrix()

    def _refresh_matrix(self) -> None:
        component = self._component
        if component is None or self._tabs.currentIndex() != _TAB_MATRIX:
            return
        key = (component.name, self._themes.theme, self._scale)
        if key == self._matrix_for:
            return
        self._matrix_for = key
        self._matrix_stage.set_content(StateMatrix(component))
