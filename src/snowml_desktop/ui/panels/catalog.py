"""Model Catalog: every trained model, the best ones by a chosen metric, and one model's evaluation.

The list comes from one ``list_models`` job (catalog rows carry their evaluation), so selecting a model
needs no further engine call. Deleting asks first and runs as a job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.identifiers import quote
from snowml_desktop.core.methods import METHODS
from snowml_desktop.ui.model_notes import LEAKAGE_CODES, message_of, model_notes, title_of
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.charts import ChartView
from snowml_desktop.ui.widgets.job_status import JobStatus
from snowml_desktop.ui.widgets.model_charts import (
    METRIC_LABELS,
    ConfusionMatrixView,
    CurvesView,
    FeatureImportanceView,
    TopModelsChart,
)
from snowml_desktop.ui.widgets.param_form import means_no_limit, param_label
from snowml_desktop.ui.widgets.threshold_view import ThresholdView
from snowml_desktop.ui.wording import plural

if TYPE_CHECKING:
    from snowml_desktop.core.records import ModelRecord
    from snowml_desktop.engines.base import Capabilities
    from snowml_desktop.jobs.runner import JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["CatalogPanel", "SortItem", "usage_text"]

#: Metrics come right after the name and before the long provenance columns, so that they stay in view at
#: any width; short headers, with the full names as the headers' tooltips.
COLUMNS = ("Name", "Acc.", "Bal. acc.", "AUC", "AP", "Method", "Data", "Created")
_COLUMN_TIPS = (
    "Model name",
    "Accuracy on the test split",
    "Balanced accuracy on the test split",
    "Area under the ROC curve on the test split",
    "Average precision on the test split",
    "Training method",
    "Training table",
    "When the model was trained",
)
NAME_COLUMN = 0
_METRIC_COLUMNS = {1: "accuracy", 2: "balanced_accuracy", 3: "roc_auc", 4: "average_precision"}
CREATED_COLUMN = 7
#: Widest a name column starts, in characters; longer names are elided in the middle (full name as tooltip).
NAME_CHARS = 22
TOP_METRICS = ("roc_auc", "balanced_accuracy", "accuracy", "average_precision", "f1_macro")


class SortItem(QTableWidgetItem):
    """A table cell that sorts by a hidden key (numbers as numbers, missing values last)."""

    def __init__(self, text: str, key: Any) -> None:
        super().__init__(text)
        self.setData(Qt.ItemDataRole.UserRole, key)
        self.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(Qt.ItemDataRole.UserRole), other.data(Qt.ItemDataRole.UserRole)
        if mine is None or theirs is None:
            return theirs is None and mine is not None  # missing values sort after everything
        try:
            return mine < theirs
        except TypeError:
            return str(mine) < str(theirs)


def metric_text(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


def usage_text(record: ModelRecord, caps: Capabilities | None) -> str:
    """How to use ``record`` outside this app: the CLI always, and SQL on Snowflake."""
    cli = f"snowml score --model {record.name} --table {record.source_table}"
    lines = ["# Score a table from the command line (writes <TABLE>_<MODEL>_INF):", cli, ""]
    if caps is not None and not caps.local:
        arguments = ",\n        ".join(
            f"CAST({quote(f.name)} AS {'FLOAT' if f.kind == 'numeric' else 'VARCHAR'})"
            for f in record.features
        )
        # Same rule as engines.snowflake.udf.udf_name (the ui layer may not import that engine).
        function = quote(f"PREDICT_{record.name}")
        lines += [
            "-- Score in SQL with the model's UDF (one call per row gives label and probability):",
            "SELECT * EXCLUDE (R), R:PREDICTION AS PREDICTION, R:PROBABILITY::FLOAT AS PREDICTION_PROBABILITY",
            f"FROM (SELECT *, {function}(\n        {arguments}) AS R",
            f"      FROM {quote(record.source_table)});",
        ]
    else:
        lines += [
            "-- The local engine has no SQL functions for models: score with the CLI above or the",
            "-- Inference panel. On Snowflake this shows the SELECT with the model's UDF.",
        ]
    return "\n".join(lines)


def param_text(method: str, name: str, value: Any) -> str:
    """A parameter value as the Train form showed it: "no limit" for 0 where 0 means that."""
    spec = METHODS.get(method)
    param = next((p for p in spec.params if p.name == name), None) if spec else None
    if param is not None and means_no_limit(param) and value in (0, None):
        return "no limit"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "none" if value is None else str(value)


def params_lines(method: str, params: dict[str, Any]) -> list[str]:
    return [f"  {param_label(k)}: {param_text(method, k, v)}" for k, v in sorted(params.items())] or ["  (none)"]


#: Training options in the Train form's words (the search, shown in its own tab, is left out).
_OPTION_LABELS = {
    "test_size": "Test size",
    "seed": "Seed",
    "cv_folds": "CV folds",
    "class_weight": "Class weighting",
    "dedupe": "Drop duplicate rows before splitting",
    "keep_clone": "Keep a copy of the training data",
    "optimized": "Snowpark-optimized warehouse",
}


def options_lines(options: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in options.items():
        if key == "search":
            continue
        if key == "cv_folds" and not value:
            value = "off"
        elif key == "class_weight" and value is None:
            value = "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        lines.append(f"  {_OPTION_LABELS.get(key, param_label(key))}: {value}")
    return lines or ["  (none)"]


class SearchHistoryView(QWidget):
    """The Auto search of a model: one row per trial (method, parameters, score, time) and the
    optimisation history (each trial's score and the best so far)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalog.search")
        self.setAccessibleName("Auto search")
        self.summary = Panel.name_widget(QLabel(), "catalog.search_summary", "Auto search summary")
        self.summary.setWordWrap(True)
        self.table = Panel.name_widget(QTableWidget(0, 5), "catalog.search_trials", "Auto search trials")
        self.table.setHorizontalHeaderLabels(["Trial", "Method", "Score", "Seconds", "Parameters"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.chart = Panel.name_widget(ChartView(title="Optimisation history"), "catalog.search_chart", "Search chart")
        self.chart.set_axis_titles(x="Trial", y="Score")
        import pyqtgraph as pg

        self._trials = pg.ScatterPlotItem(size=7, brush=pg.mkBrush("#1f77b4"), name="Trial score")
        self._best = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=2), name="Best so far")
        self.chart.plot_item.addItem(self._trials)
        self.chart.plot_item.addItem(self._best)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)

    def set_search(self, search: dict[str, Any] | None) -> None:
        history = list((search or {}).get("history") or [])
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(history))
        for row, entry in enumerate(history):
            method = METHODS.get(entry.get("method", ""))
            params = ", ".join(
                f"{param_label(k)} {param_text(entry.get('method', ''), k, v)}"
                for k, v in sorted((entry.get("params") or {}).items())
            )
            score, seconds = entry.get("score"), entry.get("seconds")
            cells = [
                SortItem(str(row + 1), row + 1),
                SortItem(method.label if method else str(entry.get("method")), entry.get("method")),
                SortItem(metric_text(score) if score is not None else "failed", score),
                SortItem(f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "—", seconds),
                SortItem(params, params),
            ]
            cells[-1].setToolTip(params)
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        scored = [(i + 1, h["score"]) for i, h in enumerate(history) if isinstance(h.get("score"), (int, float))]
        if not scored:
            self.summary.setText("")
            self.chart.show_message("No trial finished with a score")
            return
        best, best_so_far = float("-inf"), []
        for _, score in scored:
            best = max(best, score)
            best_so_far.append(best)
        xs = [x for x, _ in scored]
        self._trials.setData(xs, [y for _, y in scored])
        self._best.setData(xs, best_so_far)
        self.chart.plot_item.enableAutoRange()
        self.chart._show_plot()
        metric = METRIC_LABELS.get(search.get("metric"), search.get("metric"))
        self.summary.setText(
            f"{plural(len(history), 'trial')} in {search.get('seconds', 0):.1f} s on "
            f"{plural(search.get('rows') or 0, 'row')}, {search.get('folds')}-fold {metric}; "
            f"best {metric_text(search.get('best_score'))}. The winner was refit on all training rows."
        )

    def best_so_far(self) -> list[float]:
        """The best-so-far line as drawn."""
        _, ys = self._best.getData()
        return [] if ys is None else [float(y) for y in ys]


class CatalogPanel(Panel):
    key: ClassVar[str] = "catalog"
    title: ClassVar[str] = "Model Catalog"
    icon: ClassVar[str] = "catalog"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._models: list[ModelRecord] = []
        self._pending_select: str | None = None
        #: The record the detail pane shows; compared by identity, as a refresh brings new records.
        self._shown: ModelRecord | None = None
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.models_changed.connect(self._on_models_changed)
        self.show_model(None)

    # --- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.table = self.name_widget(QTableWidget(0, len(COLUMNS)), "catalog.models", "Models")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(_COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(CREATED_COLUMN, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.refresh_button = self.name_widget(
            QPushButton("Refresh"), "catalog.refresh", "Refresh the catalog"
        )
        self.refresh_button.clicked.connect(self.refresh)
        self.delete_button = self.name_widget(
            QPushButton("Delete…"), "catalog.delete", "Delete the selected model"
        )
        self.delete_button.clicked.connect(self.delete_selected)
        self.score_button = self.name_widget(
            QPushButton("Score with this model…"), "catalog.score", "Open the Inference panel with this model"
        )
        self.score_button.clicked.connect(self._score_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.score_button)
        buttons.addWidget(self.delete_button)
        list_box = QWidget()
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.table, 1)
        list_layout.addLayout(buttons)

        self.metric_combo = self.name_widget(QComboBox(), "catalog.metric", "Metric for the top models chart")
        for metric in TOP_METRICS:
            self.metric_combo.addItem(METRIC_LABELS[metric], metric)
        self.metric_combo.currentIndexChanged.connect(self._update_top_chart)
        self.top_chart = self.name_widget(TopModelsChart(), "catalog.top_chart", "Top models chart")
        # Only models of one table and target are ranked together: scores on other data do not compare.
        self.scope_combo = self.name_widget(
            QComboBox(), "catalog.scope", "Table and target of the ranked models"
        )
        self.scope_combo.currentIndexChanged.connect(self._update_top_chart)
        top_box = QWidget()
        top_layout = QVBoxLayout(top_box)
        top_layout.setContentsMargins(0, 0, 0, 0)
        metric_row = QHBoxLayout()
        metric_row.addWidget(QLabel("Rank by:"))
        metric_row.addWidget(self.metric_combo, 1)
        metric_row.addWidget(QLabel("of"))
        metric_row.addWidget(self.scope_combo, 2)
        top_layout.addLayout(metric_row)
        top_layout.addWidget(self.top_chart, 1)

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(list_box)
        upper.addWidget(top_box)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([640, 440])

        self.header = self.name_widget(QLabel(), "catalog.model_title", "Selected model")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)  # a long table name wraps, never widens the window
        self.warnings = self.name_widget(QLabel(), "catalog.warnings", "Model warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.tabs = self.name_widget(QTabWidget(), "catalog.tabs", "Model details")
        self.confusion = self.name_widget(ConfusionMatrixView(), "catalog.confusion", "Confusion matrix")
        self.per_class = self.name_widget(QTableWidget(0, 5), "catalog.per_class", "Per-class metrics")
        self.per_class.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1", "Support"])
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.summary = self.name_widget(QLabel(), "catalog.summary", "Model metrics")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.summary)
        side_layout.addWidget(self.per_class, 1)
        evaluation = QSplitter(Qt.Orientation.Horizontal)
        evaluation.addWidget(self.confusion)
        evaluation.addWidget(side)
        evaluation.setStretchFactor(0, 3)
        evaluation.setStretchFactor(1, 2)
        evaluation.setSizes([560, 400])
        self.curves = self.name_widget(CurvesView(), "catalog.curves", "ROC and precision-recall curves")
        self.importance = self.name_widget(
            FeatureImportanceView(), "catalog.importance", "Feature importance"
        )
        self.info = self.name_widget(QPlainTextEdit(), "catalog.info", "Model parameters and provenance")
        self.info.setReadOnly(True)
        self.usage = self.name_widget(QPlainTextEdit(), "catalog.usage", "How to use the model")
        self.usage.setReadOnly(True)
        self.copy_usage = self.name_widget(QPushButton("Copy"), "catalog.copy_usage", "Copy the usage text")
        self.copy_usage.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.usage.toPlainText()))
        usage_box = QWidget()
        usage_layout = QVBoxLayout(usage_box)
        usage_layout.addWidget(self.usage, 1)
        usage_layout.addWidget(self.copy_usage, 0, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(evaluation, "Evaluation")
        self.tabs.addTab(self.curves, "ROC / PR curves")
        self.tabs.addTab(self.importance, "Feature importance")
        self.tabs.addTab(self.info, "Parameters and data")
        self.search = SearchHistoryView()
        self.tabs.addTab(self.search, "Auto search")
        self.threshold = self.name_widget(ThresholdView(), "catalog.threshold", "Decision threshold")
        self.threshold.save_requested.connect(self.save_threshold)
        self.tabs.addTab(self.threshold, "Threshold")
        self.tabs.addTab(usage_box, "Use it")
        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.header)
        details_layout.addWidget(self.warnings)
        details_layout.addWidget(self.tabs, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(details)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.status = JobStatus("catalog", "Catalog", self)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    # --- refresh ---------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.refresh_soon(self.refresh)

    def on_navigate(self, argument: object) -> None:
        """``argument``: the name of a model to select."""
        if isinstance(argument, str) and argument and not self.select_model(argument):
            self._pending_select = argument
            self.refresh_soon(self.refresh)

    def _on_engine_changed(self, engine: object) -> None:
        self._set_models([])
        if engine is not None:
            self.refresh_soon(self.refresh)

    def _on_models_changed(self, name: str) -> None:
        if name:
            self._pending_select = name
        self.refresh_soon(self.refresh)

    def refresh(self) -> None:
        if self.ctx.engine is None:
            return
        handle = self.ctx.run("List models", lambda engine, task: engine.list_models(), key="catalog.list")
        handle.succeeded.connect(self._set_models)
        handle.failed.connect(lambda error: self.status.show_error(error, "Could not list the models: "))

    def _set_models(self, models: list[ModelRecord]) -> None:
        selected = self._pending_select or self.selected_name()
        self._pending_select = None
        self._models = list(models)
        # Rows are rewritten in place: the selected row may stay selected while its model changes, so
        # the detail pane is brought up to date below rather than by the selection signal.
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(models))
        for row, record in enumerate(models):
            method = METHODS.get(record.method)
            cells = [SortItem(record.name, record.name)]
            for metric in _METRIC_COLUMNS.values():
                value = record.metrics.get(metric)
                cells.append(SortItem(metric_text(value), value if isinstance(value, (int, float)) else None))
                cells[-1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cells += [
                SortItem(method.label if method else record.method, record.method),
                SortItem(record.training_table, record.training_table),
                SortItem(record.created.strftime("%Y-%m-%d %H:%M"), record.created.timestamp()),
            ]
            cells[NAME_COLUMN].setToolTip(record.name)
            cells[COLUMNS.index("Data")].setToolTip(record.training_table)
            notes = model_notes(record)
            if notes.warnings:
                cells[NAME_COLUMN].setText(f"⚠ {record.name}")
                cells[NAME_COLUMN].setToolTip(
                    "\n".join([record.name, *(f"• {title_of(w)}" for w in notes.warnings)])
                )
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self._cap_name_columns()
        self.table.blockSignals(False)
        self._fill_scopes()
        if not (selected and self.select_model(selected)) and models:
            self.table.selectRow(0)
        self._on_selection()

    def _cap_name_columns(self) -> None:
        """Long model and clone names are elided rather than pushing the metrics out of view."""
        cap = self.table.fontMetrics().horizontalAdvance("N" * NAME_CHARS)  # names are mostly capitals
        header = self.table.horizontalHeader()
        for column in (NAME_COLUMN, COLUMNS.index("Data")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.resizeColumnToContents(column)
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), cap))

    def _fill_scopes(self) -> None:
        """One entry per (table, target) the catalog has; the selection is kept when it still exists."""
        current = self.scope_combo.currentData()
        scopes = sorted({(m.source_table, m.target) for m in self._models})
        self.scope_combo.blockSignals(True)
        self.scope_combo.clear()
        for table, target in scopes:
            self.scope_combo.addItem(f"{table} → {target}", (table, target))
        self.scope_combo.setCurrentIndex(max(self._scope_index(current), 0))
        self.scope_combo.blockSignals(False)
        self._update_top_chart()

    def _scope_index(self, scope: object) -> int:
        # findData cannot match a Python tuple held in a QVariant: compare in Python.
        wanted = tuple(scope) if isinstance(scope, (tuple, list)) else None
        combo = self.scope_combo
        return next((i for i in range(combo.count()) if tuple(combo.itemData(i)) == wanted), -1)

    def _update_top_chart(self) -> None:
        scope = self.scope_combo.currentData()
        models = [m for m in self._models if scope and (m.source_table, m.target) == tuple(scope)]
        flagged = {m.name for m in models if any(w.code in LEAKAGE_CODES for w in m.warnings)}
        self.top_chart.set_models(models, self.metric_combo.currentData(), flagged=flagged)

    # --- selection -------------------------------------------------------------------------------------
    def model_names(self) -> list[str]:
        """Names in the table's current order."""
        return [self._name_at(row) for row in range(self.table.rowCount())]

    def _name_at(self, row: int) -> str:
        return self.table.item(row, NAME_COLUMN).data(Qt.ItemDataRole.UserRole)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self._name_at(rows[0].row()) if rows else None

    def selected_model(self) -> ModelRecord | None:
        name = self.selected_name()
        return next((m for m in self._models if m.name == name), None)

    def select_model(self, name: str) -> bool:
        for row in range(self.table.rowCount()):
            if self._name_at(row) == name:
                self.table.selectRow(row)
                self.table.scrollToItem(self.table.item(row, NAME_COLUMN))
                self._on_selection()  # the row may have been selected already, holding another model
                return True
        return False

    def _on_selection(self) -> None:
        record = self.selected_model()
        if record is not self._shown or record is None:
            self.show_model(record)

    def show_model(self, record: ModelRecord | None) -> None:
        self._shown = record
        self.delete_button.setEnabled(record is not None)
        self.score_button.setEnabled(record is not None)
        self.tabs.setEnabled(record is not None)
        if record is None:
            self.header.setText("<i>No model selected. Train one in the Train Model panel.</i>")
            self.warnings.setVisible(False)
            self.confusion.set_confusion(None, None)
            self.per_class.setRowCount(0)
            self.summary.setText("")
            self.curves.set_curves(None)
            self.importance.set_importance(None)
            self.info.setPlainText("")
            self.usage.setPlainText("")
            self.search.set_search(None)
            self.tabs.setTabVisible(self.tabs.indexOf(self.search), False)
            self.threshold.set_model(None)
            return
        method = METHODS.get(record.method)
        self.header.setText(
            f"<b>{record.name}</b> — {method.label if method else record.method} predicting "
            f"<b>{record.target}</b> from {len(record.features)} features of {record.source_table}"
        )
        self._show_warnings(record)
        self.confusion.set_confusion(record.confusion_matrix, record.classes)
        self._show_per_class(record)
        self.summary.setText(self._summary_html(record))
        self.curves.set_curves(record.curves)
        self.importance.set_importance(record.feature_importance)
        self.info.setPlainText(self._info_text(record))
        search = record.options.get("search")
        self.search.set_search(search if isinstance(search, dict) else None)
        self.tabs.setTabVisible(self.tabs.indexOf(self.search), isinstance(search, dict))
        self.usage.setPlainText(usage_text(record, self.ctx.engine.capabilities if self.ctx.engine else None))
        self.threshold.set_model(record)
        scope = self._scope_index((record.source_table, record.target))
        if scope >= 0:
            self.scope_combo.setCurrentIndex(scope)

    def _show_warnings(self, record: ModelRecord) -> None:
        """Warnings (the metrics may mislead) in an orange box; informational notes alone in a quiet one."""
        found = model_notes(record)
        self.warnings.setVisible(bool(record.warnings))
        self.warnings.setStyleSheet(_WARNING_STYLE if found.warnings else _NOTE_STYLE)
        parts = []
        for symbol, noun, items in (("⚠", "warning", found.warnings), ("ℹ", "note", found.notes)):
            if items:
                rows = "".join(f"<li><b>{title_of(w)}</b>: {_escape(message_of(w))}</li>" for w in items)
                parts.append(f"{symbol} <b>{plural(len(items), noun)}</b><ul style='margin:0'>{rows}</ul>")
        self.warnings.setText("".join(parts))

    def _show_per_class(self, record: ModelRecord) -> None:
        self.per_class.setRowCount(len(record.per_class))
        for row, entry in enumerate(record.per_class):
            values = [
                SortItem(str(entry.get("label")), str(entry.get("label"))),
                SortItem(metric_text(entry.get("precision")), entry.get("precision")),
                SortItem(metric_text(entry.get("recall")), entry.get("recall")),
                SortItem(metric_text(entry.get("f1")), entry.get("f1")),
                SortItem(f"{entry.get('support', 0):,}", entry.get("support")),
            ]
            for column, item in enumerate(values):
                self.per_class.setItem(row, column, item)

    @staticmethod
    def _summary_html(record: ModelRecord) -> str:
        keys = ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "f1_macro")
        rows = "".join(
            f"<tr><td>{METRIC_LABELS[k]}</td><td><b>{metric_text(record.metrics.get(k))}</b></td></tr>"
            for k in keys
        )
        cv = record.cv
        if cv:
            rows += (
                f"<tr><td>CV {cv.get('metric')} ({cv.get('folds')} folds)</td>"
                f"<td><b>{metric_text(cv.get('mean'))} ± {metric_text(cv.get('std'))}</b></td></tr>"
            )
        return (
            f"<table cellspacing='4'>{rows}</table>"
            f"<p>Test rows: {record.rows_test:,} of {record.rows_total:,}</p>"
        )

    @staticmethod
    def _info_text(record: ModelRecord) -> str:
        excluded = "\n".join(f"  {e['column']}: {e['reason']}" for e in record.excluded_columns) or "  (none)"
        features = "\n".join(f"  {f.name} ({f.kind}, {f.sql_type})" for f in record.features)
        versions = ", ".join(f"{k} {v}" for k, v in sorted(record.library_versions.items()))
        return "\n".join(
            [
                f"Model:            {record.name}",
                f"Created:          {record.created:%Y-%m-%d %H:%M:%S}",
                f"Method:           {record.method}",
                "Parameters:",
                *params_lines(record.method, record.params),
                "Options:",
                *options_lines(record.options),
                f"Source table:     {record.source_table}",
                f"Training data:    {record.training_table}",
                f"Target:           {record.target}  (classes: {', '.join(map(str, record.classes))})",
                f"Rows:             {record.rows_total:,} total, {record.rows_train:,} train, {record.rows_test:,} test",
                f"Trained in:       {record.train_seconds:.1f} s on {record.warehouse_size} {record.warehouse_type}",
                f"Artifact:         {record.artifact_path}",
                f"Artifact SHA-256: {record.artifact_sha256}",
                f"Libraries:        {versions}",
                "",
                f"Features ({len(record.features)}):",
                features,
                "",
                "Excluded columns:",
                excluded,
            ]
        )

    # --- actions ---------------------------------------------------------------------------------------
    def save_threshold(self, value: float | None) -> JobHandle | None:
        """Record ``value`` (None: clear) as the selected model's threshold, in a job."""
        record = self.selected_model()
        if record is None:
            return None
        name = record.name
        handle = self.ctx.run(
            f"Set the threshold of {name}", lambda engine, task: engine.set_threshold(name, value), key="catalog.threshold"
        )
        self.status.track(handle, f"Saving the threshold of {name}…")
        handle.succeeded.connect(lambda saved: self._on_threshold_saved(saved))
        handle.failed.connect(lambda error: self.status.show_error(error, "The threshold was not saved: "))
        return handle

    def _on_threshold_saved(self, record: ModelRecord) -> None:
        said = "cleared" if record.threshold is None else f"set to {record.threshold:.4g}"
        self.status.show_success(f"Threshold of {record.name} {said}; scoring runs from now on use it.")
        self.ctx.models_changed.emit(record.name)

    def _score_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.ctx.navigate_requested.emit("inference", name)

    def delete_selected(self) -> None:
        name = self.selected_name()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete {name} and its artifact? Inference runs made with it are kept. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        handle = self.ctx.run(f"Delete model {name}", lambda engine, task: engine.delete_model(name))
        self.status.track(handle, f"Deleting {name}…")
        handle.succeeded.connect(lambda _: self._on_deleted(name))
        handle.failed.connect(lambda error: self.status.show_error(error, f"Could not delete {name}: "))

    def _on_deleted(self, name: str) -> None:
        self.status.show_success(f"Deleted {name}.")
        self.ctx.models_changed.emit("")


_WARNING_STYLE = (
    "color: palette(text); background: rgba(255, 160, 0, 0.22); border: 1px solid rgba(255, 140, 0, 0.8);"
    " border-radius: 4px; padding: 4px;"
)
_NOTE_STYLE = (
    "color: palette(text); background: rgba(42, 127, 193, 0.10); border: 1px solid rgba(42, 127, 193, 0.5);"
    " border-radius: 4px; padding: 4px;"
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(CatalogPanel))
