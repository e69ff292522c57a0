"""Load Data: put files on a stage (Upload… or drag-and-drop) and load a stage file into a table.

Every engine call runs as a job through ``AppContext.run``; the panel only shows state. After a load it
reports rows loaded and rejected (with the reasons the engine gave), emits ``tables_changed`` and offers
to analyze the new table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.identifiers import display
from snowml_desktop.engines.base import HEADER_MODES, LoadRequest, LoadResult, StageFile
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.settings import Keys
from snowml_desktop.ui.widgets.elided_label import ElidedLabel
from snowml_desktop.ui.widgets.table_name_edit import TableNameEdit
from snowml_desktop.ui.wording import breakable, for_gui

if TYPE_CHECKING:
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["FileList", "LoadPanel", "human_size", "table_name_for"]

DEFAULT_STAGE = "LOAD_DATA"
HEADER_LABELS = {"auto": "Detect automatically", "yes": "First row is a header", "no": "No header row"}
MODE_LABELS = {
    "create": "Create a new table (fail if it exists)",
    "replace": "Replace the table if it exists",
    "append": "Append to an existing table",
}
FROM_FILE = "(from the file, or COLUMN1…N)"
BAD_NUMBER_LABELS = {
    "text": "Keep such a column as text",
    "reject": "Load as numbers, reject those rows",
    "null": "Load as numbers, those values empty (NULL)",
}
BAD_NUMBERS_TIP = "A column of numbers with a few values that are not numbers (such as 'abc' or 'N/A')"


def human_size(size: int) -> str:
    """``1536`` -> ``"1.5 KB"``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def table_name_for(file_name: str) -> str:
    """A simple table name proposed for a stage file: ``churn-2024.csv`` -> ``CHURN_2024``."""
    stem = file_name.split("/")[-1]
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".parquet"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    name = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_").upper()
    if not name:
        return "NEW_TABLE"
    return f"T_{name}" if name[0].isdigit() else name


class FileList(QTreeWidget):
    """The stage's files (name, size, modified); local files dropped on it are offered for upload."""

    filesDropped = Signal(list)  # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setSortingEnabled(True)
        self.setHeaderLabels(["Name", "Size", "Modified"])
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

    @staticmethod
    def _local_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [path for path in self._local_paths(event) if path.is_file()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.filesDropped.emit(paths)

    def set_files(self, files: Sequence[StageFile]) -> None:
        self.setSortingEnabled(False)
        self.clear()
        for stage_file in files:
            item = QTreeWidgetItem(
                [stage_file.name, human_size(stage_file.size), _stamp(stage_file.modified)]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, stage_file.name)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, f"{stage_file.stage}/{stage_file.name}")
            self.addTopLevelItem(item)
        self.setSortingEnabled(True)

    def file_names(self) -> list[str]:
        return [self.topLevelItem(i).text(0) for i in range(self.topLevelItemCount())]

    def select_file(self, name: str) -> bool:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item.text(0) == name:
                self.setCurrentItem(item)
                return True
        return False


class LoadPanel(Panel):
    """Stage files on the left; what to load and how, and the result, on the right."""

    key: ClassVar[str] = "load"
    title: ClassVar[str] = "Load Data"
    icon: ClassVar[str] = "document-open"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._proposed_name = ""
        self._pending_select: str | None = None
        self._load_job: JobHandle | None = None
        #: The stage file the status line speaks of (None: it speaks of none).
        self._status_file: str | None = None
        self._last_result: LoadResult | None = None
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.tables_changed.connect(lambda: self.refresh_soon(self._refresh_tables))

    # --- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self._build_files_box())
        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self._build_target_box())
        right_layout.addWidget(self._build_result_box(), 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _build_files_box(self) -> QGroupBox:
        box = QGroupBox("Stage files", self)
        self.stage_combo = self.name_widget(QComboBox(box), "load.stage", "Stage")
        self.stage_combo.setMinimumContentsLength(12)
        self.refresh_button = self.name_widget(
            QPushButton("Refresh", box), "load.refresh", "Refresh stage files"
        )
        self.upload_button = self.name_widget(
            QPushButton("Upload…", box), "load.upload", "Upload files to the stage"
        )
        self.upload_button.setToolTip("Copy local CSV or Parquet files onto the stage (several at once)")
        self.files = self.name_widget(FileList(box), "load.files", "Stage files")
        self.files.setToolTip("Files on the stage. Drop local files here to upload them.")
        self.files_status = self.name_widget(
            QLabel("Drop CSV or Parquet files here to upload them.", box),
            "load.files_status",
            "Stage files status",
        )
        self.files_status.setWordWrap(True)
        self.files_status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.files_status.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel("Stage:", box))
        top.addWidget(self.stage_combo, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.upload_button)
        layout = QVBoxLayout(box)
        layout.addLayout(top)
        layout.addWidget(self.files, 1)
        layout.addWidget(self.files_status)
        self.stage_combo.currentTextChanged.connect(self._refresh_files)
        self.refresh_button.clicked.connect(self._refresh_all)
        self.upload_button.clicked.connect(self.choose_files)
        self.files.filesDropped.connect(self.upload_paths)
        self.files.currentItemChanged.connect(self._on_file_selected)
        return box

    def _build_target_box(self) -> QGroupBox:
        box = QGroupBox("Load into a table", self)
        # One line whatever the file's name (the whole path in its tooltip): never wider, never taller.
        self.file_label = self.name_widget(
            ElidedLabel("Select a file on the left.", box), "load.file", "Selected file"
        )
        self.table_edit = TableNameEdit(box, object_name="load.table", what="table name")
        self.header_combo = self.name_widget(QComboBox(box), "load.header", "Header row")
        for mode in HEADER_MODES:
            self.header_combo.addItem(HEADER_LABELS[mode], mode)
        self.columns_combo = self.name_widget(QComboBox(box), "load.columns_from", "Column names from table")
        self.columns_combo.addItem(FROM_FILE, None)
        self.columns_combo.setToolTip(
            "For files without a header row: take column names and types from a table"
        )
        self.mode_combo = self.name_widget(QComboBox(box), "load.mode", "Load mode")
        for mode, label in MODE_LABELS.items():
            self.mode_combo.addItem(label, mode)
        self.bad_numbers_combo = self.name_widget(
            QComboBox(box), "load.bad_numbers", "Values that are not numbers in a column of numbers"
        )
        for mode, label in BAD_NUMBER_LABELS.items():
            self.bad_numbers_combo.addItem(label, mode)
        self.bad_numbers_combo.setToolTip(BAD_NUMBERS_TIP)
        self.load_button = self.name_widget(
            QPushButton("Load", box), "load.load", "Load the file into the table"
        )
        self.load_button.setDefault(True)
        self.cancel_button = self.name_widget(QPushButton("Cancel", box), "load.cancel", "Cancel the load")
        self.cancel_button.setEnabled(False)
        self.progress = self.name_widget(QProgressBar(box), "load.progress", "Load progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.status = self.name_widget(QLabel("", box), "load.status", "Load status")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("File:", self.file_label)
        form.addRow("Table name:", self.table_edit)
        form.addRow("Header:", self.header_combo)
        form.addRow("Column names from:", self.columns_combo)
        form.addRow("Mode:", self.mode_combo)
        form.addRow("Not numbers:", self.bad_numbers_combo)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.load_button)
        layout = QVBoxLayout(box)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.table_edit.nameChanged.connect(self._update_enabled)
        self.header_combo.currentIndexChanged.connect(self._update_enabled)
        self.load_button.clicked.connect(self.start_load)
        self.cancel_button.clicked.connect(self.cancel_load)
        self._update_enabled()
        return box

    def _build_result_box(self) -> QGroupBox:
        box = QGroupBox("Result", self)
        self.result_label = self.name_widget(QLabel("Nothing loaded yet.", box), "load.result", "Load result")
        self.result_label.setWordWrap(True)
        self.result_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.rejections = self.name_widget(QTableWidget(0, 2, box), "load.rejections", "Rejected rows")
        self.rejections.setHorizontalHeaderLabels(["Line", "Reason"])
        self.rejections.horizontalHeader().setStretchLastSection(True)
        self.rejections.verticalHeader().setVisible(False)
        self.rejections.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rejections.setWordWrap(False)
        self.rejections.setVisible(False)
        self.analyze_button = self.name_widget(
            QPushButton("Analyze", box), "load.analyze", "Analyze the loaded table"
        )
        self.analyze_button.setVisible(False)
        self.analyze_button.clicked.connect(self._analyze_loaded)
        row = QHBoxLayout()
        row.addWidget(self.result_label, 1)
        row.addWidget(self.analyze_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(box)
        layout.addLayout(row)
        layout.addWidget(self.rejections, 1)
        layout.addStretch(0)
        return box

    # --- panel protocol ----------------------------------------------------------------------------
    def on_shown(self) -> None:
        if self.stage_combo.count() == 0:
            self.refresh_soon(self._refresh_all)

    def on_navigate(self, argument: object) -> None:
        """``argument``: a stage file name to select."""
        if isinstance(argument, str) and not self.files.select_file(argument):
            self._pending_select = argument

    # --- stages and files --------------------------------------------------------------------------
    def _on_engine_changed(self, engine: object) -> None:
        self.stage_combo.clear()
        self.files.clear()
        self._set_result_idle()
        supported = engine is None or engine.capabilities.supports_bad_numbers
        if not supported:
            self.bad_numbers_combo.setCurrentIndex(self.bad_numbers_combo.findData("text"))
        self.bad_numbers_combo.setEnabled(supported)
        self.bad_numbers_combo.setToolTip(
            BAD_NUMBERS_TIP if supported else f"{BAD_NUMBERS_TIP}: not available with this engine"
        )
        if engine is not None:
            self.refresh_soon(self._refresh_all)

    def _refresh_all(self) -> None:
        handle = self.ctx.run("List stages", lambda engine, task: engine.list_stages(), key="load.stages")
        handle.succeeded.connect(self._on_stages)
        handle.failed.connect(self._on_files_failed)
        self.refresh_soon(self._refresh_tables)

    def _on_stages(self, stages: list[str]) -> None:
        current = self.stage_combo.currentText() or DEFAULT_STAGE
        self.stage_combo.blockSignals(True)
        self.stage_combo.clear()
        self.stage_combo.addItems(stages)
        index = self.stage_combo.findText(current)
        self.stage_combo.setCurrentIndex(max(index, 0))
        self.stage_combo.blockSignals(False)
        self._refresh_files()

    def _refresh_files(self) -> None:
        stage = self.stage_combo.currentText()
        if not stage:
            return
        self.files_status.setText(f"Listing files on {stage}…")
        handle = self.ctx.run(
            f"List files on {stage}", lambda engine, task: engine.list_files(display(stage)), key="load.files"
        )
        handle.succeeded.connect(self._on_files)
        handle.failed.connect(self._on_files_failed)

    def _on_files(self, files: list[StageFile]) -> None:
        selected = self._pending_select or self.selected_file()
        self.files.set_files(files)
        self.files_status.setText(
            f"{len(files)} file{'s' if len(files) != 1 else ''}. Drop CSV or Parquet files here to upload them."
        )
        if selected and self.files.select_file(selected):
            self._pending_select = None

    def _on_files_failed(self, error: ErrorInfo) -> None:
        message = for_gui(error.message)
        self.files_status.setText(breakable(message))
        self.files_status.setToolTip(message)

    def selected_file(self) -> str | None:
        item = self.files.currentItem()
        return item.text(0) if item is not None else None

    def _on_file_selected(self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None) -> None:
        name = current.text(0) if current is not None else None
        if name != self._status_file and (self._load_job is None or self._load_job.done):
            self._clear_status()  # the last load's outcome (an error, a time) was about another file
        if current is None:
            self.file_label.setText("Select a file on the left.")
        else:
            self.file_label.setText(f"{self.stage_combo.currentText()}/{current.text(0)}")
            proposal = table_name_for(current.text(0))
            # Only replace a name the user did not type themselves.
            if not self.table_edit.text().strip() or self.table_edit.text() == self._proposed_name:
                self._proposed_name = proposal
                self.table_edit.setText(proposal)
        self._update_enabled()

    # --- upload ------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        """Ask for local files with a file dialog, then upload them (see ``upload_paths``)."""
        folder = str(self.ctx.settings.value(Keys.UPLOAD_FOLDER, "") or "")
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Upload files to the stage",
            folder if folder and Path(folder).is_dir() else str(Path.home()),
            "Data files (*.csv *.tsv *.txt *.parquet *.gz);;All files (*)",
        )
        if names:
            self.ctx.settings.setValue(Keys.UPLOAD_FOLDER, str(Path(names[0]).parent))
            self.upload_paths([Path(name) for name in names])

    def upload_paths(self, paths: Sequence[Path]) -> JobHandle | None:
        """Upload local files onto the current stage in a job; the list refreshes and selects the first."""
        stage = self.stage_combo.currentText() or DEFAULT_STAGE
        paths = [Path(path) for path in paths]
        if not paths:
            return None
        what = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
        self.files_status.setText(f"Uploading {what} to {stage}…")
        self.upload_button.setEnabled(False)
        handle = self.ctx.run(
            f"Upload {what} to {stage}",
            lambda engine, task: engine.upload(paths, display(stage), task=task),
            key="load.upload",
        )
        handle.succeeded.connect(self._on_uploaded)
        handle.failed.connect(self._on_files_failed)
        handle.cancelled.connect(lambda: self.files_status.setText("Upload cancelled."))
        handle.finished.connect(lambda: self.upload_button.setEnabled(True))
        return handle

    def _on_uploaded(self, uploaded: list[StageFile]) -> None:
        if uploaded:
            self._pending_select = uploaded[0].name
        self._refresh_files()

    # --- load --------------------------------------------------------------------------------------
    def _on_tables(self, tables: list[Any]) -> None:
        current = self.columns_combo.currentData()
        self.columns_combo.blockSignals(True)
        self.columns_combo.clear()
        self.columns_combo.addItem(FROM_FILE, None)
        for table in tables:
            self.columns_combo.addItem(table.name, table.name)
        index = self.columns_combo.findData(current) if current else 0
        self.columns_combo.setCurrentIndex(max(index, 0))
        self.columns_combo.blockSignals(False)

    def _refresh_tables(self) -> None:
        handle = self.ctx.run("List tables", lambda engine, task: engine.list_tables(), key="load.tables")
        handle.succeeded.connect(self._on_tables)

    def _update_enabled(self, *_: object) -> None:
        running = self._load_job is not None and not self._load_job.done
        ready = self.selected_file() is not None and self.table_edit.canonical() is not None
        self.load_button.setEnabled(ready and not running)
        self.cancel_button.setEnabled(running)
        self.columns_combo.setEnabled(self.header_combo.currentData() != "yes")
        if not running:
            if self.selected_file() is None:
                self.load_button.setToolTip("Select a stage file first.")
            elif self.table_edit.canonical() is None:
                self.load_button.setToolTip("Type a valid table name first.")
            else:
                self.load_button.setToolTip("")

    def load_request(self) -> LoadRequest | None:
        """The request the form describes, or None when it is incomplete."""
        file_name, table = self.selected_file(), self.table_edit.canonical()
        if file_name is None or table is None:
            return None
        columns_from = self.columns_combo.currentData() if self.columns_combo.isEnabled() else None
        # Requests carry user text that the engine normalizes; display() text normalizes back to the name.
        return LoadRequest(
            stage=display(self.stage_combo.currentText() or DEFAULT_STAGE),
            file=file_name,
            table=display(table),
            header=self.header_combo.currentData(),
            columns_from=display(columns_from) if columns_from else None,
            mode=self.mode_combo.currentData(),
            bad_numbers=self.bad_numbers_combo.currentData(),
        )

    def start_load(self) -> JobHandle | None:
        request = self.load_request()
        if request is None:
            return None
        table = self.table_edit.canonical()
        handle = self.ctx.run(
            f"Load {request.file} into {table}",
            lambda engine, task: engine.load(request, task=task),
            key="load.load",
            writes=table,
        )
        self._load_job = handle
        self._set_result_idle()
        self._status_file = request.file
        self.status.setText(f"Loading {request.file} into {table}…")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        handle.progress.connect(self._on_load_progress)
        handle.succeeded.connect(self._on_loaded)
        handle.failed.connect(self._on_load_failed)
        handle.cancelled.connect(self._on_load_cancelled)
        handle.finished.connect(self._on_load_finished)
        self._update_enabled()
        return handle

    def cancel_load(self) -> None:
        if self._load_job is not None:
            self._load_job.cancel()
            self.status.setText("Cancelling…")

    def _on_load_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if stage:
            self.status.setText(stage)

    def _on_loaded(self, result: LoadResult) -> None:
        self._last_result = result
        self.status.setText(f"Loaded in {result.seconds:.1f} s.")
        rejected = (
            f", {result.rows_rejected:,} rejected (reasons below)"
            if result.rows_rejected
            else ", none rejected"
        )
        self.result_label.setText(
            f"<b>{result.rows_loaded:,}</b> rows loaded into <b>{_html(result.table)}</b> "
            f"({len(result.columns)} columns){rejected}."
            + "".join(f"<br>⚠ {_html(found.message())}" for found in result.not_numbers)
            + (
                "<br>To load such a column as numbers, choose it under “Not numbers” and load again."
                if any(found.action == "text" for found in result.not_numbers)
                else ""
            )
        )
        self.rejections.setRowCount(len(result.rejections))
        for row, rejection in enumerate(result.rejections):
            line = QTableWidgetItem("" if rejection.line is None else str(rejection.line))
            line.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.rejections.setItem(row, 0, line)
            reason = QTableWidgetItem(rejection.reason)
            reason.setToolTip(rejection.reason)
            self.rejections.setItem(row, 1, reason)
        self.rejections.resizeColumnToContents(0)
        self.rejections.setVisible(bool(result.rejections))
        self.analyze_button.setText(f"Analyze {result.table}")
        self.analyze_button.setVisible(True)
        self.ctx.tables_changed.emit()

    def _on_load_failed(self, error: ErrorInfo) -> None:
        message = for_gui(error.message)
        self.status.setText(f"<span style='color:#c62828'>{_html(message)}</span>")
        self.status.setToolTip(message)
        self.result_label.setText("Nothing was loaded.")

    def _on_load_cancelled(self) -> None:
        self.status.setText("Load cancelled; the table was left as it was.")

    def _on_load_finished(self) -> None:
        self.progress.setVisible(False)
        self._update_enabled()

    def _set_result_idle(self) -> None:
        self._last_result = None
        self.result_label.setText("Nothing loaded yet.")
        self.rejections.setRowCount(0)
        self.rejections.setVisible(False)
        self.analyze_button.setVisible(False)
        self._clear_status()

    def _clear_status(self) -> None:
        self._status_file = None
        self.status.setText("")
        self.status.setToolTip("")

    def last_result(self) -> LoadResult | None:
        return self._last_result

    def _analyze_loaded(self) -> None:
        if self._last_result is not None:
            self.ctx.navigate_requested.emit("analyze", self._last_result.table)


def _html(text: str) -> str:
    """``text`` for a rich-text label: escaped, and long paths able to wrap (``wording.breakable``)."""
    from html import escape

    return escape(breakable(text))


def _stamp(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else ""


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(LoadPanel))
