"""Analyze: browse tables and look at one: preview rows, column statistics, a histogram per column, the
class balance of a label column and the correlation of numeric columns.

Everything is computed by the engine in jobs (``ctx.run``); the GUI receives bounded results only (a
preview of at most ``PREVIEW_ROWS`` rows, a profile, bins, counts, a matrix). Each view has its own job
key, so a new selection supersedes the view's stale job, and results for another table are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.identifiers import display
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.charts import BarChart, HeatmapChart, HistogramChart
from snowml_desktop.ui.widgets.frame_model import FrameModel

if TYPE_CHECKING:
    from snowml_desktop.engines.base import (
        ClassBalance,
        ColumnProfile,
        Correlation,
        Histogram,
        TableInfo,
        TableProfile,
    )
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["STAT_COLUMNS", "AnalyzePanel", "format_stat", "guess_label_column"]

PREVIEW_ROWS = 1000
HISTOGRAM_BINS = 30
BALANCE_LIMIT = 50
#: The statistics table's column-name column grows at most this wide (pixels); longer names elide.
_MAX_NAME_WIDTH = 160
#: Header of the statistics table and the ``ColumnProfile`` field each column shows.
STAT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Column", "name"),
    ("Type", "sql_type"),
    ("Count", "count"),
    ("Nulls", "nulls"),
    ("Distinct", "distinct"),
    ("Mean", "mean"),
    ("Std", "std"),
    ("Min", "min"),
    ("25%", "q25"),
    ("Median", "median"),
    ("75%", "q75"),
    ("Max", "max"),
    ("Top values", "top_values"),
)
_LABEL_HINTS = ("TARGET", "LABEL", "CLASS", "CHURN", "DIAGNOSIS", "OUTCOME", "Y")
NO_LABEL = "(choose a label column)"


def format_stat(value: Any) -> str:
    """How the statistics table shows one profile value ("—" when undefined)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return (
            f"{value:,.4f}".rstrip("0").rstrip(".")
            if 1e-3 <= abs(value) < 1e9 or value == 0
            else f"{value:.4g}"
        )
    if isinstance(value, list):  # top values: [(value, count), ...]
        return ", ".join(f"{label} ({count:,})" for label, count in value[:5])
    return str(value)


def guess_label_column(columns: Sequence[ColumnProfile]) -> str | None:
    """The column most likely to be a classification label: a column with a label-like name and at most
    20 distinct values, else the last column with 2..20 (targets usually come last). Columns unique per
    row (IDs) are never guessed. None when nothing fits."""
    candidates = [c for c in columns if c.count > 0 and 1 <= c.distinct <= 20 and c.distinct < c.count]
    for column in reversed(candidates):
        upper = column.name.upper()
        if any(upper == hint or upper.endswith(hint) or upper.startswith(hint) for hint in _LABEL_HINTS):
            return column.name
    several = [c for c in candidates if c.distinct >= 2]
    return several[-1].name if several else None


class AnalyzePanel(Panel):
    """Tables on the left; the selected table's views in tabs on the right."""

    key: ClassVar[str] = "analyze"
    title: ClassVar[str] = "Analyze"
    icon: ClassVar[str] = "analyze"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._table: str | None = None  # canonical name of the table shown
        self._pending_select: str | None = None
        self._profile: TableProfile | None = None
        self._jobs: dict[str, JobHandle] = {}
        self._infos: dict[str, tuple[int, Any]] = {}  # table -> (rows, created), to notice a reload
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.tables_changed.connect(lambda: self.refresh_soon(self.refresh_tables))
        self._show_no_table()

    # --- layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self._build_tables_pane())
        splitter.addWidget(self._build_detail_pane())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _build_tables_pane(self) -> QWidget:
        pane = QWidget(self)
        self.filter_edit = self.name_widget(QLineEdit(pane), "analyze.filter", "Filter tables")
        self.filter_edit.setPlaceholderText("Filter tables…")
        self.filter_edit.setClearButtonEnabled(True)
        self.refresh_button = self.name_widget(
            QPushButton("Refresh", pane), "analyze.refresh", "Refresh tables"
        )
        self._tables_model = QStandardItemModel(0, 3, pane)
        self._tables_model.setHorizontalHeaderLabels(["Name", "Rows", "Created"])
        self._tables_proxy = QSortFilterProxyModel(pane)
        self._tables_proxy.setSourceModel(self._tables_model)
        self._tables_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._tables_proxy.setFilterKeyColumn(0)
        self._tables_proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.tables_view = self.name_widget(QTableView(pane), "analyze.tables", "Tables")
        self.tables_view.setModel(self._tables_proxy)
        self.tables_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tables_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tables_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tables_view.setSortingEnabled(True)
        self.tables_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tables_view.verticalHeader().setVisible(False)
        self.tables_view.setWordWrap(False)
        header = self.tables_view.horizontalHeader()
        # Full table names first; the creation time takes what is left (a scrollbar when too narrow).
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.tables_status = self.name_widget(QLabel("", pane), "analyze.tables_status", "Tables status")
        self.tables_status.setWordWrap(True)
        self.tables_status.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.tables_view, 1)
        layout.addWidget(self.tables_status)
        self.filter_edit.textChanged.connect(self._tables_proxy.setFilterFixedString)
        self.refresh_button.clicked.connect(self.refresh_tables)
        self.tables_view.selectionModel().currentRowChanged.connect(self._on_table_row_changed)
        return pane

    def _build_detail_pane(self) -> QWidget:
        pane = QWidget(self)
        self.title_label = self.name_widget(QLabel("", pane), "analyze.title", "Selected table")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)
        self.tabs = self.name_widget(QTabWidget(pane), "analyze.tabs", "Table views")
        self.tabs.addTab(self._build_preview_tab(), "Preview")
        self.tabs.addTab(self._build_stats_tab(), "Statistics")
        self.tabs.addTab(self._build_balance_tab(), "Class balance")
        self.tabs.addTab(self._build_correlation_tab(), "Correlation")
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.tabs, 1)
        return pane

    def _build_preview_tab(self) -> QWidget:
        tab = QWidget(self)
        self.preview_model = FrameModel(tab)
        self.preview_view = self.name_widget(QTableView(tab), "analyze.preview", "Preview rows")
        self.preview_view.setModel(self.preview_model)
        self.preview_view.setSortingEnabled(True)
        self.preview_view.setWordWrap(False)
        self.preview_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_view.horizontalHeader().setSortIndicatorShown(False)
        self.preview_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.preview_info = self.name_widget(QLabel("", tab), "analyze.preview_info", "Preview status")
        layout = QVBoxLayout(tab)
        layout.addWidget(self.preview_info)
        layout.addWidget(self.preview_view, 1)
        return tab

    def _build_stats_tab(self) -> QWidget:
        tab = QSplitter(Qt.Orientation.Vertical, self)
        self.stats_table = self.name_widget(
            QTableWidget(0, len(STAT_COLUMNS), tab), "analyze.stats", "Statistics"
        )
        self.stats_table.setHorizontalHeaderLabels([title for title, _ in STAT_COLUMNS])
        self.stats_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stats_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.stats_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.stats_table.verticalHeader().setVisible(False)
        self.stats_table.setWordWrap(False)
        self.stats_table.horizontalHeader().setStretchLastSection(True)
        histogram_box = QWidget(tab)
        self.histogram_combo = self.name_widget(
            QComboBox(histogram_box), "analyze.histogram_column", "Histogram column"
        )
        self.histogram_combo.setMinimumContentsLength(16)
        self.histogram = self.name_widget(HistogramChart(histogram_box), "analyze.histogram", "Histogram")
        row = QHBoxLayout()
        row.addWidget(QLabel("Histogram of:", histogram_box))
        row.addWidget(self.histogram_combo)
        row.addStretch(1)
        box_layout = QVBoxLayout(histogram_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addLayout(row)
        box_layout.addWidget(self.histogram, 1)
        tab.addWidget(self.stats_table)
        tab.addWidget(histogram_box)
        tab.setSizes([260, 340])
        self.stats_table.currentCellChanged.connect(self._on_stats_row_changed)
        self.histogram_combo.currentIndexChanged.connect(self._on_histogram_column_changed)
        return tab

    def _build_balance_tab(self) -> QWidget:
        tab = QWidget(self)
        self.label_combo = self.name_widget(QComboBox(tab), "analyze.label_column", "Label column")
        self.label_combo.setMinimumContentsLength(16)
        self.balance_chart = self.name_widget(
            BarChart(tab, orientation="horizontal", value_title="Rows", category_title="Class"),
            "analyze.class_balance",
            "Class balance chart",
        )
        self.balance_note = self.name_widget(
            QLabel("", tab), "analyze.class_balance_note", "Class balance note"
        )
        self.balance_note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Label column:", tab))
        row.addWidget(self.label_combo)
        row.addStretch(1)
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(self.balance_chart, 1)
        layout.addWidget(self.balance_note)
        self.label_combo.currentIndexChanged.connect(self._on_label_column_changed)
        return tab

    def _build_correlation_tab(self) -> QWidget:
        tab = QWidget(self)
        self.correlation_chart = self.name_widget(
            HeatmapChart(tab, colormap="CET-D1"), "analyze.correlation", "Correlation heatmap"
        )
        self.correlation_note = self.name_widget(
            QLabel("", tab), "analyze.correlation_note", "Correlation note"
        )
        self.correlation_note.setWordWrap(True)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.correlation_chart, 1)
        layout.addWidget(self.correlation_note)
        return tab

    # --- panel protocol ----------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.refresh_soon(self.refresh_tables)

    def on_navigate(self, argument: object) -> None:
        """``argument``: a canonical table name to select (after the list refreshes if needed)."""
        if isinstance(argument, str) and not self.select_table(argument):
            self._pending_select = argument
            self.refresh_soon(self.refresh_tables)

    # --- tables list -------------------------------------------------------------------------------
    def _on_engine_changed(self, engine: object) -> None:
        self._cancel_views()
        self._tables_model.removeRows(0, self._tables_model.rowCount())
        self._show_no_table()
        if engine is not None:
            self.refresh_soon(self.refresh_tables)

    def refresh_tables(self) -> JobHandle:
        self.tables_status.setText("Listing tables…")
        handle = self.ctx.run("List tables", lambda engine, task: engine.list_tables(), key="analyze.tables")
        handle.succeeded.connect(self._on_tables)
        handle.failed.connect(lambda error: self.tables_status.setText(error.message))
        return handle

    def _on_tables(self, tables: list[TableInfo]) -> None:
        keep = self._pending_select or self._table
        self._tables_model.removeRows(0, self._tables_model.rowCount())
        for info in tables:
            name = QStandardItem(info.name)
            name.setData(info.name, Qt.ItemDataRole.UserRole)
            stamp = info.created.astimezone().strftime("%Y-%m-%d %H:%M") if info.created else ""
            created_tip = f", created {stamp}" if stamp else ""  # the column may be scrolled out of view
            name.setToolTip(f"{info.name}: {info.rows:,} rows, {info.columns} columns{created_tip}")
            rows = QStandardItem(f"{info.rows:,}")
            rows.setData(info.rows, Qt.ItemDataRole.UserRole)
            rows.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            created = QStandardItem(stamp)
            created.setData(stamp, Qt.ItemDataRole.UserRole)
            self._tables_model.appendRow([name, rows, created])
        self.tables_status.setText(f"{len(tables)} table{'s' if len(tables) != 1 else ''}")
        previous, self._infos = self._infos, {info.name: (info.rows, info.created) for info in tables}
        if keep and self.select_table(keep):
            self._pending_select = None
            if keep == self._table and keep in previous and previous[keep] != self._infos.get(keep):
                self.show_table(keep)  # replaced or appended to since it was shown
        elif self._table is not None:
            self._show_no_table()  # the table shown was dropped

    def table_names(self) -> list[str]:
        """Names listed (after the filter), in displayed order."""
        proxy = self._tables_proxy
        return [proxy.index(row, 0).data(Qt.ItemDataRole.UserRole) for row in range(proxy.rowCount())]

    def select_table(self, name: str) -> bool:
        """Select ``name`` in the list (clearing a filter that hides it). False when it is not listed."""
        matches = self._tables_model.match(
            self._tables_model.index(0, 0), Qt.ItemDataRole.UserRole, name, 1, Qt.MatchFlag.MatchExactly
        )
        if not matches:
            return False
        proxy_index = self._tables_proxy.mapFromSource(matches[0])
        if not proxy_index.isValid():
            self.filter_edit.clear()
            proxy_index = self._tables_proxy.mapFromSource(matches[0])
        if self.tables_view.currentIndex().row() == proxy_index.row() and self._table == name:
            return True
        self.tables_view.setCurrentIndex(proxy_index)
        return True

    def _on_table_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        name = self._tables_proxy.index(current.row(), 0).data(Qt.ItemDataRole.UserRole)
        if name != self._table:
            self.show_table(name)

    # --- one table ---------------------------------------------------------------------------------
    def current_table(self) -> str | None:
        return self._table

    def show_table(self, table: str) -> None:
        """Show canonical ``table``: start the preview, profile and correlation jobs."""
        self._cancel_views()
        self._table, self._profile = table, None
        self.title_label.setText(table)
        self.preview_model.clear()
        self.preview_info.setText("Loading the first rows…")
        self.stats_table.setRowCount(0)
        self._reset_combo(self.histogram_combo, [])
        self._reset_combo(self.label_combo, [], placeholder=NO_LABEL)
        self.histogram.show_message("Computing statistics…")
        self.balance_chart.show_message("Computing statistics…")
        self.balance_note.setText("")
        self.correlation_chart.show_message("Computing correlations…")
        self.correlation_note.setText("")
        name = display(table)
        self._start(
            "preview",
            f"Preview {table}",
            lambda engine, task: engine.preview(name, PREVIEW_ROWS),
            self._on_preview,
        )
        self._start(
            "profile",
            f"Profile {table}",
            lambda engine, task: engine.profile(name, task=task),
            self._on_profile,
        )
        self._start(
            "correlation",
            f"Correlate {table}",
            lambda engine, task: engine.correlation(name),
            self._on_correlation,
        )

    def _start(
        self, view: str, title: str, fn: Callable[[Any, Any], Any], on_result: Callable[[Any], None]
    ) -> None:
        """Run one view's job; its result is shown only if the same table is still selected."""
        table = self._table
        handle = self.ctx.run(title, fn, key=f"analyze.{view}")
        self._jobs[view] = handle
        handle.succeeded.connect(lambda result: self._table == table and on_result(result))
        handle.failed.connect(lambda error: self._table == table and self._on_view_failed(view, error))

    def _cancel_views(self) -> None:
        for handle in self._jobs.values():
            handle.cancel()
        self._jobs.clear()

    def _on_view_failed(self, view: str, error: ErrorInfo) -> None:
        message = f"Could not compute this view: {error.message}"
        if view == "preview":
            self.preview_info.setText(message)
        elif view == "profile":
            self.histogram.show_message(message)
            self.balance_chart.show_message(message)
        elif view == "histogram":
            self.histogram.show_message(message)
        elif view == "balance":
            self.balance_chart.show_message(message)
        elif view == "correlation":
            self.correlation_chart.show_message(message)

    def _show_no_table(self) -> None:
        self._cancel_views()
        self._table, self._profile = None, None
        self.title_label.setText("Select a table on the left")
        self.preview_model.clear()
        self.preview_info.setText("")
        self.stats_table.setRowCount(0)
        self._reset_combo(self.histogram_combo, [])
        self._reset_combo(self.label_combo, [], placeholder=NO_LABEL)
        for chart in (self.histogram, self.balance_chart, self.correlation_chart):
            chart.show_message("Select a table to see this view.")
        self.balance_note.setText("")
        self.correlation_note.setText("")

    # --- preview -----------------------------------------------------------------------------------
    def _on_preview(self, frame: Any) -> None:
        self.preview_model.set_frame(frame)
        self.preview_view.resizeColumnsToContents()
        self._update_preview_info()

    def _update_preview_info(self) -> None:
        shown = self.preview_model.total_rows()
        total = self._profile.rows if self._profile is not None else None
        if shown == 0 and self.preview_model.columnCount() > 0:
            self.preview_info.setText("The table has no rows.")
        elif total is not None and total > shown:
            self.preview_info.setText(
                f"First {shown:,} of {total:,} rows. Click a column header to sort them."
            )
        elif total is None:  # the row count comes with the profile; until then claim no total
            self.preview_info.setText(f"First {shown:,} rows; counting the table…")
        else:
            self.preview_info.setText(f"All {shown:,} rows. Click a column header to sort them.")

    # --- statistics and histogram ------------------------------------------------------------------
    def _on_profile(self, profile: TableProfile) -> None:
        self._profile = profile
        count = len(profile.columns)
        self.title_label.setText(
            f"{profile.table}  —  {profile.rows:,} rows, {count} column{'s' * (count != 1)}"
        )
        self._update_preview_info()
        self._fill_stats(profile)
        names = [column.name for column in profile.columns]
        self._reset_combo(self.histogram_combo, names)
        self._reset_combo(self.label_combo, names, placeholder=NO_LABEL)
        if not names:
            self.histogram.show_message("The table has no columns.")
            self.balance_chart.show_message("The table has no columns.")
            return
        label = guess_label_column(profile.columns)
        self.label_combo.setCurrentIndex(self.label_combo.findData(label) if label else 0)
        if label is None:
            self.balance_chart.show_message("Choose a label column to see how its classes are balanced.")
        # Start on the first numeric column: an ID column's histogram says nothing.
        numeric = [i for i, column in enumerate(profile.columns) if column.kind == "numeric"]
        self.histogram_combo.blockSignals(True)
        self.histogram_combo.setCurrentIndex(numeric[0] if numeric else 0)
        self.histogram_combo.blockSignals(False)
        self._on_histogram_column_changed()

    def _fill_stats(self, profile: TableProfile) -> None:
        self.stats_table.blockSignals(True)
        self.stats_table.setRowCount(len(profile.columns))
        for row, column in enumerate(profile.columns):
            for col, (_, field) in enumerate(STAT_COLUMNS):
                value = getattr(column, field)
                item = QTableWidgetItem(format_stat(value))
                item.setData(Qt.ItemDataRole.UserRole, value if field != "top_values" else list(value))
                item.setToolTip(format_stat(value) if field != "top_values" else _top_values_tip(value))
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.stats_table.setItem(row, col, item)
        self.stats_table.blockSignals(False)
        self.stats_table.resizeColumnsToContents()
        # "Top values" can be long: start it at its header's width so the stretch gives it the room left
        # in view (long values elide, the tooltip has them all) instead of pushing it past a scrollbar.
        header = self.stats_table.horizontalHeader()
        header.resizeSection(0, min(header.sectionSize(0), _MAX_NAME_WIDTH))
        last = len(STAT_COLUMNS) - 1
        header.resizeSection(last, header.sectionSizeHint(last))

    def _on_stats_row_changed(self, row: int, column: int, previous_row: int, previous_column: int) -> None:
        if row >= 0 and row != previous_row:
            self.histogram_combo.setCurrentIndex(row)

    def _on_histogram_column_changed(self, *_: object) -> None:
        column = self.histogram_combo.currentData()
        if self._table is None or column is None:
            return
        if self.stats_table.currentRow() != self.histogram_combo.currentIndex():
            self.stats_table.blockSignals(True)
            self.stats_table.selectRow(self.histogram_combo.currentIndex())
            self.stats_table.blockSignals(False)
        self.histogram.show_message(f"Computing the histogram of {column}…")
        table, name = display(self._table), display(column)
        self._start(
            "histogram",
            f"Histogram of {self._table}.{column}",
            lambda engine, task: engine.histogram(table, name, HISTOGRAM_BINS),
            self._on_histogram,
        )

    def _on_histogram(self, histogram: Histogram) -> None:
        if histogram.column != self.histogram_combo.currentData():
            return
        nulls = f" ({histogram.nulls:,} null)" if histogram.nulls else ""
        if sum(histogram.counts) + histogram.other == 0:
            reason = "All values are null" if histogram.nulls else "The table has no rows"
            self.histogram.show_message(f"{reason}: nothing to plot for {histogram.column}.")
        elif histogram.kind == "numeric":
            self.histogram.set_numeric(
                histogram.edges, histogram.counts, x_title=f"{histogram.column}{nulls}"
            )
        else:
            self.histogram.set_categorical(
                histogram.categories,
                histogram.counts,
                other=histogram.other,
                x_title=f"{histogram.column}{nulls}",
            )

    # --- class balance -----------------------------------------------------------------------------
    def _on_label_column_changed(self, *_: object) -> None:
        column = self.label_combo.currentData()
        if self._table is None or column is None:
            return
        self.balance_chart.show_message(f"Counting the classes of {column}…")
        self.balance_note.setText("")
        table, name = display(self._table), display(column)
        self._start(
            "balance",
            f"Class balance of {self._table}.{column}",
            lambda engine, task: engine.class_balance(table, name, BALANCE_LIMIT),
            self._on_balance,
        )

    def _on_balance(self, balance: ClassBalance) -> None:
        if balance.column != self.label_combo.currentData():
            return
        labels, counts = list(balance.labels), list(balance.counts)
        if balance.other:
            labels.append(f"(other {balance.other:,})")
            counts.append(balance.other)
        total = sum(counts) + balance.nulls
        if not labels:
            reason = "All values are null" if balance.nulls else "The table has no rows"
            self.balance_chart.show_message(f"{reason}: no classes to count in {balance.column}.")
            return
        texts = [f"{count:,}  ({count / total:.1%})" for count in counts]
        self.balance_chart.set_bars(labels, counts, texts=texts)
        self.balance_note.setText(_balance_note(balance, total))

    # --- correlation -------------------------------------------------------------------------------
    def _on_correlation(self, correlation: Correlation) -> None:
        columns = correlation.columns
        if len(columns) < 2:
            self.correlation_chart.show_message("Correlation needs at least two numeric columns.")
            self.correlation_note.setText("")
            return
        self.correlation_chart.set_matrix(
            correlation.matrix, columns, columns, levels=(-1.0, 1.0), value_title="Pearson r"
        )
        undefined = sorted(
            {
                columns[i]
                for i, row in enumerate(correlation.matrix)
                if all(v is None for k, v in enumerate(row) if k != i)
            }
        )
        note = "Pearson correlation of numeric columns, computed in the warehouse."
        if undefined:
            note += f" Blank cells: no correlation defined for {', '.join(undefined)} (constant or all null)."
        self.correlation_note.setText(note)

    # --- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _reset_combo(combo: QComboBox, names: Sequence[str], *, placeholder: str | None = None) -> None:
        combo.blockSignals(True)
        combo.clear()
        if placeholder is not None:
            combo.addItem(placeholder, None)
        for name in names:
            combo.addItem(name, name)
        combo.setEnabled(bool(names))
        combo.blockSignals(False)


def _top_values_tip(values: Sequence[tuple[str, int]]) -> str:
    return "\n".join(f"{label}: {count:,}" for label, count in values) or "—"


def _balance_note(balance: ClassBalance, total: int) -> str:
    parts = []
    classes = len(balance.labels) + (1 if balance.other else 0)
    if classes == 1 and not balance.other:
        parts.append(f"Only one class ({balance.labels[0]}): a classifier needs at least two.")
    elif balance.counts:
        ratio = balance.counts[0] / max(balance.counts[-1], 1)
        if ratio >= 5:
            parts.append(
                f"Imbalanced: the largest class is {ratio:.0f}× the smallest; consider class weighting."
            )
    if balance.nulls:
        parts.append(f"{balance.nulls:,} of {total:,} rows have no label.")
    if balance.other:
        parts.append(f"Only the {len(balance.labels)} most common classes are shown separately.")
    return " ".join(parts)


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(AnalyzePanel))
