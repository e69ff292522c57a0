"""The main window: navigation on the left, the six panels, the connection bar, Jobs and Activity docks.

Panels are built lazily: the window shows with its navigation first, then builds the panel on screen
and, one per event-loop turn, the others, so the first paint never waits for panel modules (and the
plotting library they import). ``ensure_all_panels()`` builds them at once (tests, screenshots).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop import __version__
from snowml_desktop.jobs.runner import ErrorInfo, JobHandle, JobState
from snowml_desktop.ui import icons
from snowml_desktop.ui.activity_dock import ActivityDock
from snowml_desktop.ui.connection_bar import ConnectionBar
from snowml_desktop.ui.context import AppContext
from snowml_desktop.ui.jobs_dock import JobsDock
from snowml_desktop.ui.notices import NoticeArea
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.settings import Keys
from snowml_desktop.ui.setup_dialog import SetupWatcher

__all__ = ["PANELS", "MainWindow", "PanelSpec"]

log = logging.getLogger(__name__)

#: Seconds to wait for cancelled jobs to end when the window closes.
CLOSE_TIMEOUT_MS = 10_000
#: Height of the Jobs/Activity dock area on first start, in pixels.
DEFAULT_DOCK_HEIGHT = 140


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    module: str
    class_name: str


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("load", "Load Data", "snowml_desktop.ui.panels.load", "LoadPanel"),
    PanelSpec("analyze", "Analyze", "snowml_desktop.ui.panels.analyze", "AnalyzePanel"),
    PanelSpec("train", "Train Model", "snowml_desktop.ui.panels.train", "TrainPanel"),
    PanelSpec("catalog", "Model Catalog", "snowml_desktop.ui.panels.catalog", "CatalogPanel"),
    PanelSpec("inference", "Inference", "snowml_desktop.ui.panels.inference", "InferencePanel"),
    PanelSpec("runs", "Inference Runs", "snowml_desktop.ui.panels.runs", "RunsPanel"),
)


class MainWindow(QMainWindow):
    """The application window for one :class:`AppContext`."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("main_window")
        self.setAccessibleName("snowml-desktop")
        self.setWindowTitle("snowml-desktop")
        self.setWindowIcon(icons.icon("app", "#2a7fc1"))
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.panels: dict[str, QWidget] = {}
        self._build_central()
        self._build_connection_bar()
        self._build_docks()
        self.setup_watcher = SetupWatcher(ctx, self)
        self.setup_watcher.setup_finished.connect(self._on_setup_finished)
        self._build_actions()
        self._restore_settings()

        ctx.jobs.job_added.connect(self._on_job_added)
        ctx.navigate_requested.connect(self.navigate)
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.connection_failed.connect(self._on_connection_failed)
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_colour_scheme_changed)

    # --- construction ---------------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setAccessibleName("Sections")
        self.navigation.setIconSize(QSize(22, 22))
        self.navigation.setSpacing(2)
        self.stack = QStackedWidget()
        self.stack.setObjectName("panel_stack")
        self.stack.setAccessibleName("Panels")
        for number, spec in enumerate(PANELS, start=1):
            item = QListWidgetItem(icons.icon(spec.key), spec.title)
            item.setToolTip(f"{spec.title} (Ctrl+{number})")
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, spec.title)
            self.navigation.addItem(item)
            self.stack.addWidget(_Pending(spec))
        self.navigation.setFixedWidth(self.navigation.sizeHintForColumn(0) + 28)
        self.notices = NoticeArea()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.stack, 1)
        right_layout.addWidget(self.notices)
        central = QWidget()
        central.setObjectName("central")
        central.setAccessibleName("Panels")
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.navigation)
        layout.addWidget(right, 1)
        self.setCentralWidget(central)
        self.navigation.currentRowChanged.connect(self._on_row_changed)

    def _build_connection_bar(self) -> None:
        self.connection_bar = ConnectionBar(self.ctx)
        self.connection_bar.manage_requested.connect(self.open_connection_manager)
        toolbar = QToolBar("Connection")
        toolbar.setObjectName("toolbar_connection")
        toolbar.setAccessibleName("Connection bar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.connection_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)

    def _build_docks(self) -> None:
        self.jobs_dock = JobsDock(self.ctx.jobs, self)
        self.activity_dock = ActivityDock(self.ctx, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.jobs_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.activity_dock)
        self.tabifyDockWidget(self.jobs_dock, self.activity_dock)
        self.jobs_dock.raise_()

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.action_connections = self._action(
            "action_connections", "&Connections…", "Ctrl+Shift+O", self.open_connection_manager, "connection"
        )
        file_menu.addAction(self.action_connections)
        self.action_setup = self._action(
            "action_setup", "Snowflake &setup…", None, self.setup_watcher.open_dialog
        )
        self.action_setup.setEnabled(self.ctx.engine is not None)
        file_menu.addAction(self.action_setup)
        file_menu.addSeparator()
        file_menu.addAction(self._action("action_quit", "&Quit", QKeySequence.StandardKey.Quit, self.close))
        go_menu = self.menuBar().addMenu("&Go")
        self.panel_actions: dict[str, QAction] = {}
        for number, spec in enumerate(PANELS, start=1):
            action = self._action(
                f"action_panel_{spec.key}",
                spec.title,
                f"Ctrl+{number}",
                lambda checked=False, key=spec.key: self.navigate(key),
                spec.key,
            )
            self.panel_actions[spec.key] = action
            go_menu.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        for dock, shortcut in ((self.jobs_dock, "Ctrl+Shift+J"), (self.activity_dock, "Ctrl+Shift+A")):
            toggle = dock.toggleViewAction()
            toggle.setObjectName(f"action_toggle_{dock.objectName()}")
            toggle.setShortcut(shortcut)
            view_menu.addAction(toggle)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("action_about", "&About snowml-desktop", None, self._about))

    def _action(self, name: str, text: str, shortcut, slot, icon_name: str | None = None) -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon_name:
            action.setIcon(icons.icon(icon_name))
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden (e.g. on macOS full screen)
        return action

    # --- panels ----------------------------------------------------------------------------------------
    def current_key(self) -> str:
        return PANELS[max(self.navigation.currentRow(), 0)].key

    def panel(self, key: str) -> QWidget:
        """The panel widget for ``key``, built now if it was not yet."""
        index = self._index(key)
        widget = self.stack.widget(index)
        if isinstance(widget, _Pending):
            built = self._build_panel(PANELS[index])
            self.stack.insertWidget(index, built)
            self.stack.removeWidget(widget)
            widget.deleteLater()
            self.panels[key] = built
            widget = built
        return widget

    def ensure_all_panels(self) -> None:
        for spec in PANELS:
            self.panel(spec.key)

    def navigate(self, key: str, argument: object = None) -> None:
        """Show panel ``key``; then pass ``argument`` (when not None) to its ``on_navigate``."""
        index = self._index(key)
        if self.navigation.currentRow() != index:
            self.navigation.setCurrentRow(index)  # shows it and calls shown()
        else:
            self._show_row(index)
        widget = self.panel(key)
        if argument is not None and isinstance(widget, Panel):
            widget.on_navigate(argument)

    def _on_row_changed(self, row: int) -> None:
        if row >= 0:
            self._show_row(row)

    def _show_row(self, row: int) -> None:
        widget = self.panel(PANELS[row].key)
        self.stack.setCurrentWidget(widget)
        self.notices.set_section(PANELS[row].key)
        if isinstance(widget, Panel) and self.ctx.engine is not None:
            widget.shown()

    def _build_panel(self, spec: PanelSpec) -> QWidget:
        try:
            module = importlib.import_module(spec.module)
        except ModuleNotFoundError as exc:
            if exc.name != spec.module:
                raise
            return _placeholder(spec, f"The {spec.title} panel is not part of this build yet.")
        try:
            return getattr(module, spec.class_name)(self.ctx)
        except Exception as exc:  # noqa: BLE001 - one broken panel must not take the window down
            log.exception("Building the %s panel failed", spec.title)
            self.notices.show_error(
                f"The {spec.title} panel could not open", ErrorInfo.from_exception(spec.title, exc)
            )
            return _placeholder(
                spec, f"The {spec.title} panel could not open. See the notice below for details."
            )

    def _build_remaining_panels(self) -> None:
        """Build one pending panel per event-loop turn, after the window is on screen."""
        pending = next(
            (s for s in PANELS if isinstance(self.stack.widget(self._index(s.key)), _Pending)), None
        )
        if pending is not None:
            self.panel(pending.key)
            QTimer.singleShot(0, self, self._build_remaining_panels)

    @staticmethod
    def _index(key: str) -> int:
        for index, spec in enumerate(PANELS):
            if spec.key == key:
                return index
        raise KeyError(f"Unknown panel {key!r}; known: {', '.join(s.key for s in PANELS)}")

    # --- events ----------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().showEvent(event)
        if self.navigation.currentRow() < 0:
            # After the first paint: build and show the panel, then the others in the background.
            QTimer.singleShot(0, self, self._show_first_panel)

    def _show_first_panel(self) -> None:
        """Show the panel used last, unless something navigated before the first paint."""
        if self.navigation.currentRow() < 0:
            saved = str(self.ctx.settings.value(Keys.PANEL, PANELS[0].key))
            keys = [s.key for s in PANELS]
            self.navigation.setCurrentRow(keys.index(saved) if saved in keys else 0)
        self._build_remaining_panels()

    def _on_engine_changed(self, engine: object) -> None:
        self.action_setup.setEnabled(engine is not None)
        if engine is None:
            return
        widget = self.stack.currentWidget()
        if isinstance(widget, Panel):
            widget.shown()

    def _on_setup_finished(self, _plan: object) -> None:
        self.notices.show_info("Setup finished.")

    def _on_job_added(self, handle: JobHandle) -> None:
        handle.failed.connect(lambda error, h=handle: self._on_job_failed(h, error))

    def _on_job_failed(self, handle: JobHandle, error: ErrorInfo) -> None:
        self.notices.show_error(handle.name, error)

    def _on_connection_failed(self, name: str, error: ErrorInfo) -> None:
        log.info("Connection %s failed: %s", name, error.message)

    def _on_colour_scheme_changed(self, *_: object) -> None:
        icons.clear_cache()
        for row, spec in enumerate(PANELS):
            self.navigation.item(row).setIcon(icons.icon(spec.key))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        active = [h for h in self.ctx.jobs.running() if h.state in (JobState.QUEUED, JobState.RUNNING)]
        if active and not self.confirm_cancel_jobs(active):
            event.ignore()
            return
        self._save_settings()
        for dock in (self.jobs_dock, self.activity_dock):
            if dock.isFloating():
                dock.hide()  # a floating dock is a window of its own; it must not outlive this one
        if not self.ctx.shutdown(CLOSE_TIMEOUT_MS):
            log.warning("Some jobs did not end within %d ms; quitting anyway", CLOSE_TIMEOUT_MS)
        event.accept()

    def confirm_cancel_jobs(self, active: list[JobHandle]) -> bool:
        """Ask whether to cancel the running jobs and quit. True means yes."""
        names = "\n".join(f"• {h.name}" for h in active[:8]) + ("\n…" if len(active) > 8 else "")
        box = QMessageBox(self)
        box.setObjectName("dialog_confirm_close")
        box.setAccessibleName("Quit while jobs run")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Jobs are still running")
        box.setText(f"{len(active)} job{'s are' if len(active) != 1 else ' is'} still running:\n{names}")
        box.setInformativeText("Cancel them and quit? Cancelled jobs change nothing.")
        quit_button = box.addButton("Cancel jobs and quit", QMessageBox.ButtonRole.AcceptRole)
        quit_button.setObjectName("confirm_close_quit")
        keep = box.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("confirm_close_keep")
        box.setDefaultButton(keep)
        box.exec()
        return box.clickedButton() is quit_button

    # --- settings --------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        settings = self.ctx.settings
        geometry = settings.value(Keys.GEOMETRY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        state = settings.value(Keys.DOCK_STATE)
        if not (isinstance(state, QByteArray) and not state.isEmpty() and self.restoreState(state)):
            # First start: the panels get the room; the docks a strip of a few job rows.
            self.resizeDocks([self.jobs_dock], [DEFAULT_DOCK_HEIGHT], Qt.Orientation.Vertical)

    def _save_settings(self) -> None:
        settings = self.ctx.settings
        settings.setValue(Keys.GEOMETRY, self.saveGeometry())
        settings.setValue(Keys.DOCK_STATE, self.saveState())
        settings.setValue(Keys.PANEL, self.current_key())
        settings.sync()

    # --- dialogs ---------------------------------------------------------------------------------------
    def open_connection_manager(self) -> None:
        from snowml_desktop.ui.connection_dialog import ConnectionDialog

        dialog = ConnectionDialog(self.ctx, self)
        dialog.finished.connect(lambda _: self.connection_bar.reload_profiles())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About snowml-desktop",
            f"<b>snowml-desktop</b> {__version__}<br>Point-and-click machine learning on Snowflake data, "
            "with an embedded warehouse for local work.<br>Apache-2.0.",
        )


class _Pending(QWidget):
    """Stands in the stack for a panel not built yet."""

    def __init__(self, spec: PanelSpec) -> None:
        super().__init__()
        self.spec = spec
        self.setObjectName(f"pending_{spec.key}")


def _placeholder(spec: PanelSpec, text: str) -> QWidget:
    page = QWidget()
    page.setObjectName(f"panel_{spec.key}")
    page.setAccessibleName(f"{spec.title} panel")
    label = QLabel(text)
    label.setObjectName(f"panel_{spec.key}_unavailable")
    label.setAccessibleName(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    QVBoxLayout(page).addWidget(label)
    return page
