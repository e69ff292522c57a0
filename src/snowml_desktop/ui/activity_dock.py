"""The Activity dock: every engine operation with its duration and, on Snowflake, the query id.

Engines call their activity listeners on whatever thread ran the operation; :class:`ActivityBridge`
re-emits each ``Activity`` as a Qt signal, which a queued connection delivers on the GUI thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.ui.icons import icon
from snowml_desktop.ui.jobs_dock import format_seconds

if TYPE_CHECKING:
    from snowml_desktop.engines.base import Activity, Engine
    from snowml_desktop.ui.context import AppContext

__all__ = ["ActivityBridge", "ActivityDock", "COLUMNS"]

COLUMNS = ("Time", "Operation", "Detail", "Duration", "Query ID")
MAX_ROWS = 5000


class ActivityBridge(QObject):
    """Subscribes to one engine at a time and re-emits its activities on the GUI thread."""

    received = Signal(object)  # Activity

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine: Engine | None = None

    def attach(self, engine: Engine | None) -> None:
        if self._engine is not None:
            self._engine.remove_activity_listener(self._listen)
        self._engine = engine
        if engine is not None:
            engine.add_activity_listener(self._listen)

    def _listen(self, activity: Activity) -> None:
        # Any thread: emitting is thread-safe, and the bridge lives on the GUI thread, so slots run there.
        self.received.emit(activity)


class ActivityDock(QDockWidget):
    """A table of engine operations, newest last, capped at :data:`MAX_ROWS`."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Activity", parent)
        self.setObjectName("dock_activity")
        self.setAccessibleName("Activity log")
        self.bridge = ActivityBridge(self)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))

        self.table = QTableView()
        self.table.setObjectName("activity_table")
        self.table.setAccessibleName("Engine operations")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(self.fontMetrics().height() * 3)  # the dock may be made small
        self.copy_button = QPushButton("Copy query ID")
        self.copy_button.setObjectName("activity_copy_query_id")
        self.copy_button.setAccessibleName("Copy the selected query ID")
        self.copy_button.setEnabled(False)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("activity_clear")
        self.clear_button.setAccessibleName("Clear the activity log")
        self.summary = QLabel("")
        self.summary.setObjectName("activity_summary")
        self.summary.setAccessibleName("Activity summary")

        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.clear_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.setWidget(body)

        self.bridge.received.connect(self.add_activity, Qt.ConnectionType.QueuedConnection)
        ctx.engine_changed.connect(self.bridge.attach)
        self.bridge.attach(ctx.engine)
        self.copy_button.clicked.connect(self.copy_query_id)
        self.clear_button.clicked.connect(self.clear)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._update_summary()

    def add_activity(self, activity: Activity) -> None:
        status = icon("success" if activity.ok else "error")
        cells = [
            QStandardItem(status, datetime.now().strftime("%H:%M:%S")),
            QStandardItem(activity.operation),
            QStandardItem(activity.detail),
            QStandardItem(format_seconds(activity.seconds)),
            QStandardItem(activity.query_id or ""),
        ]
        cells[0].setToolTip("Succeeded" if activity.ok else "Failed")
        cells[3].setData(activity.seconds, Qt.ItemDataRole.UserRole)
        cells[3].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.model.appendRow(cells)
        if self.model.rowCount() > MAX_ROWS:
            self.model.removeRows(0, self.model.rowCount() - MAX_ROWS)
        self.table.scrollToBottom()
        self._update_summary()

    def clear(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        self._update_summary()

    def selected_query_id(self) -> str:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item(rows[0].row(), 4).text() if rows else ""

    def copy_query_id(self) -> None:
        QGuiApplication.clipboard().setText(self.selected_query_id())

    def _on_selection(self) -> None:
        self.copy_button.setEnabled(bool(self.selected_query_id()))

    def _update_summary(self) -> None:
        count = self.model.rowCount()
        self.summary.setText(f"{count} operation{'s' if count != 1 else ''}")
