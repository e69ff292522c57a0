"""Inference Runs: every scoring run, and for one run its metrics, timings and a preview of its output.

The list comes from one ``list_runs`` job; the output preview is read in a job when a run is selected
(the newest selection supersedes an older one). Failed and cancelled runs show their error.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.drift import failure_reason, report_from_json
from snowml_desktop.core.records import (
    RUN_CALIBRATION,
    RUN_CANCELLED,
    RUN_FAILED,
    RUN_SCORE,
    RUN_SUCCEEDED,
    RUN_WARMUP,
)
from snowml_desktop.core.sizes import billed_credits
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.panels.catalog import SortItem, metric_text
from snowml_desktop.ui.widgets.drift_view import DriftView
from snowml_desktop.ui.widgets.frame_model import FrameModel
from snowml_desktop.ui.widgets.job_status import JobStatus
from snowml_desktop.ui.widgets.model_charts import ConfusionMatrixView, credits_text
from snowml_desktop.ui.wording import plural

if TYPE_CHECKING:
    import pandas as pd

    from snowml_desktop.core.records import InferenceRun
    from snowml_desktop.jobs.runner import ErrorInfo
    from snowml_desktop.ui.context import AppContext

__all__ = ["RunsPanel"]

COLUMNS = (
    "Created",
    "Model",
    "Source",
    "Target",
    "Rows",
    "Seconds",
    "Size",
    "Credits",
    "Accuracy",
    "Drift",
    "Status",
)
RUN_ID_COLUMN = 0
PREVIEW_ROWS = 200
#: The columns scoring adds (the Engine.score contract in engines.base); the preview shows them first.
PREDICTION_COLUMNS = ("PREDICTION", "PREDICTION_PROBABILITY")
ALL_MODELS = "All models"
ATTRIBUTION_NOTE = (
    "Snowflake attributes the credits of these queries hours later (ACCOUNT_USAGE), and never the time "
    "the warehouse ran idle before it suspended."
)
_STATUS_TEXT = {RUN_SUCCEEDED: "Succeeded", RUN_FAILED: "Failed", RUN_CANCELLED: "Cancelled"}
_KIND_TEXT = {RUN_CALIBRATION: "calibration", RUN_WARMUP: "warm-up"}
_SAMPLE_NOTE = (
    "Scored a sample of the table to time the model for the recommended size (its output was dropped); "
    "its accuracy and drift are a sample's, so the list leaves them out."
)


class RunsPanel(Panel):
    key: ClassVar[str] = "runs"
    title: ClassVar[str] = "Inference Runs"
    icon: ClassVar[str] = "runs"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._runs: list[InferenceRun] = []
        self._pending_select: int | None = None
        self._shown: InferenceRun | None = None  # the run the details show
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.runs_changed.connect(lambda: self.refresh_soon(self.refresh))
        self.show_run(None)

    # --- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_filter = self.name_widget(QComboBox(), "runs.model_filter", "Show runs of model")
        self.model_filter.addItem(ALL_MODELS)
        self.model_filter.currentIndexChanged.connect(self._apply_filter)
        self.refresh_button = self.name_widget(QPushButton("Refresh"), "runs.refresh", "Refresh the runs")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.model_filter)
        top.addStretch(1)
        top.addWidget(self.refresh_button)

        self.table = self.name_widget(QTableWidget(0, len(COLUMNS)), "runs.table", "Inference runs")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.header = self.name_widget(QLabel(), "runs.run_title", "Selected run")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.error = self.name_widget(QLabel(), "runs.error", "Run error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet(
            "color: palette(text); background: rgba(214, 39, 40, 0.14); border-radius: 4px; padding: 6px;"
        )
        self.confusion = self.name_widget(
            ConfusionMatrixView(), "runs.confusion", "Confusion matrix of the run"
        )
        self.metrics = self.name_widget(QLabel(), "runs.metrics", "Run metrics")
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        self.metrics.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.metrics.setWordWrap(True)
        self.timings = self.name_widget(QLabel(), "runs.timings", "Run timings")
        self.timings.setTextFormat(Qt.TextFormat.RichText)
        self.timings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.timings.setWordWrap(True)
        self.timings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        facts = QWidget()
        facts_layout = QVBoxLayout(facts)
        facts_layout.addWidget(self.metrics)
        facts_layout.addWidget(self.timings)
        facts_layout.addStretch(1)
        evaluation = QSplitter(Qt.Orientation.Horizontal)
        evaluation.addWidget(self.confusion)
        evaluation.addWidget(facts)
        evaluation.setStretchFactor(0, 3)
        evaluation.setStretchFactor(1, 2)
        evaluation.setSizes([560, 380])
        facts.setMinimumWidth(300)

        self.preview_model = FrameModel(self)
        self.preview = self.name_widget(QTableView(), "runs.preview", "Output preview")
        self.preview.setModel(self.preview_model)
        self.preview.setSortingEnabled(True)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview_note = self.name_widget(QLabel(), "runs.preview_note", "Output preview note")
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_note)
        preview_layout.addWidget(self.preview, 1)

        self.tabs = self.name_widget(QTabWidget(), "runs.tabs", "Run details")
        self.tabs.addTab(evaluation, "Evaluation and timings")
        self.tabs.addTab(preview_box, "Output preview")
        self.drift = self.name_widget(DriftView(), "runs.drift", "Drift of the scored table")
        self.tabs.addTab(self.drift, "Drift")
        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.header)
        details_layout.addWidget(self.error)
        details_layout.addWidget(self.tabs, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(details)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.status = JobStatus("runs", "Runs", self)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)

    # --- refresh ---------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        self.refresh_soon(self.refresh)

    def on_navigate(self, argument: object) -> None:
        """``argument``: a run id to select."""
        if isinstance(argument, int) and not self.select_run(argument):
            self._pending_select = argument
            self.refresh_soon(self.refresh)

    def _on_engine_changed(self, engine: object) -> None:
        self._set_runs([])
        if engine is not None:
            self.refresh_soon(self.refresh)

    def refresh(self) -> None:
        if self.ctx.engine is None:
            return
        handle = self.ctx.run("List inference runs", lambda engine, task: engine.list_runs(), key="runs.list")
        handle.succeeded.connect(self._set_runs)
        handle.failed.connect(lambda error: self.status.show_error(error, "Could not list the runs: "))

    def _set_runs(self, runs: list[InferenceRun]) -> None:
        known = {r.run_id for r in self._runs}
        new = [r for r in runs if r.run_id not in known]
        if known and new and self._pending_select is None:
            # A run was made since the last list (e.g. by the Inference panel): show it, not an older one.
            self._pending_select = max(new, key=lambda r: (r.created, r.run_id)).run_id
        self._runs = list(runs)
        chosen = self.model_filter.currentText()
        models = sorted({r.model for r in runs})
        self.model_filter.blockSignals(True)
        self.model_filter.clear()
        self.model_filter.addItems([ALL_MODELS, *models])
        self.model_filter.setCurrentText(chosen if chosen in models else ALL_MODELS)
        self.model_filter.blockSignals(False)
        self._apply_filter()

    def _apply_filter(self) -> None:
        selected = self._pending_select if self._pending_select is not None else self.selected_run_id()
        self._pending_select = None
        model = self.model_filter.currentText()
        runs = [r for r in self._runs if model == ALL_MODELS or r.model == model]
        # Rebuilding the rows clears the selection; it is restored below, so say nothing meanwhile.
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            sample = run.kind != RUN_SCORE  # a calibration's sample: its accuracy and drift say nothing of the table
            accuracy = None if sample else (run.metrics or {}).get("accuracy")
            cells = [
                SortItem(run.created.strftime("%Y-%m-%d %H:%M:%S"), run.created.timestamp()),
                SortItem(run.model, run.model),
                SortItem(run.source_table, run.source_table),
                SortItem(run.output_table or "—", run.output_table or ""),
                SortItem(f"{run.rows:,}", run.rows),
                SortItem(f"{run.total_seconds:.2f}", run.total_seconds),
                SortItem(run.warehouse_size, _size_index(run.warehouse_size)),
                SortItem(credits_text(run.credits), run.credits),
                SortItem(metric_text(accuracy), accuracy if isinstance(accuracy, (int, float)) else None),
                SortItem("—", None) if sample else _drift_item(run),
                SortItem(_status_text(run), run.status),
            ]
            cells[RUN_ID_COLUMN].setData(Qt.ItemDataRole.UserRole + 1, run.run_id)
            for column in (4, 5, 7, 8, 9):
                cells[column].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if run.status != RUN_SUCCEEDED:
                cells[-1].setToolTip(run.error or "")
            elif sample:
                cells[-1].setToolTip(_SAMPLE_NOTE)
            for column, item in enumerate(cells):
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(False)
        if not runs:
            self.show_run(None)
        elif not (selected is not None and self.select_run(selected)):
            self.table.selectRow(0)
        self._on_selection()  # shows the run selected now, unless it is shown already

    # --- selection -------------------------------------------------------------------------------------
    def run_ids(self) -> list[int]:
        return [self._run_id_at(row) for row in range(self.table.rowCount())]

    def _run_id_at(self, row: int) -> int:
        return self.table.item(row, RUN_ID_COLUMN).data(Qt.ItemDataRole.UserRole + 1)

    def selected_run_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self._run_id_at(rows[0].row()) if rows else None

    def selected_run(self) -> InferenceRun | None:
        run_id = self.selected_run_id()
        return next((r for r in self._runs if r.run_id == run_id), None)

    def select_run(self, run_id: int) -> bool:
        for row in range(self.table.rowCount()):
            if self._run_id_at(row) == run_id:
                self.table.selectRow(row)
                self.table.scrollToItem(self.table.item(row, RUN_ID_COLUMN))
                return True
        return False

    def _on_selection(self) -> None:
        run = self.selected_run()
        if run is None or run != self._shown:  # the same record again: keep its details and preview
            self.show_run(run)

    def show_run(self, run: InferenceRun | None) -> None:
        self._shown = run
        self.preview_model.clear()
        self.tabs.setEnabled(run is not None)
        if run is None:
            self.header.setText("<i>No run selected. Score a table in the Inference panel.</i>")
            self.error.setVisible(False)
            self.confusion.set_confusion(None, None)
            self.metrics.setText("")
            self.timings.setText("")
            self.preview_note.setText("")
            self.drift.set_report(None)
            return
        status = _STATUS_TEXT.get(run.status, run.status)
        source = run.source_table if run.kind == RUN_SCORE else f"a sample of {run.source_table}"
        self.header.setText(
            f"<b>Run {run.run_id}</b> — {run.model} on {source} → {run.output_table or '(no output)'}"
            f" — <b>{_status_text(run)}</b>" + ("" if run.kind == RUN_SCORE else f"<br>{_SAMPLE_NOTE}")
        )
        self.error.setVisible(run.status != RUN_SUCCEEDED)
        self.error.setText(f"{status}: {run.error or 'no reason was recorded.'}")
        self.confusion.set_confusion(run.confusion_matrix, run.classes)
        self.metrics.setText(_metrics_html(run))
        self.timings.setText(_timings_html(run))
        self.drift.set_report(
            run.drift,
            "No drift check for this run: it did not finish, or its model has no drift profile (trained by an "
            "older version).",
        )
        if run.status == RUN_SUCCEEDED and run.output_table:
            self._load_preview(run)
        else:
            self.preview_note.setText("This run wrote no output table.")

    def _load_preview(self, run: InferenceRun) -> None:
        table = run.output_table
        assert table is not None
        self.preview_note.setText(f"Reading the first {PREVIEW_ROWS} rows of {table}…")
        handle = self.ctx.run(
            f"Preview {table}",
            lambda engine, task: engine.preview(table, PREVIEW_ROWS),
            key="runs.preview",
        )
        handle.succeeded.connect(lambda frame, r=run: self._on_preview(r, frame))
        handle.failed.connect(lambda error, r=run: self._on_preview_failed(r, error))

    def _on_preview(self, run: InferenceRun, frame: pd.DataFrame) -> None:
        if self.selected_run_id() != run.run_id:
            return
        first = [c for c in PREDICTION_COLUMNS if c in frame.columns]
        self.preview_model.set_frame(frame[first + [c for c in frame.columns if c not in first]])
        for column in range(len(first)):  # headers in full
            self.preview.resizeColumnToContents(column)
        self.preview_note.setText(f"First {len(frame):,} of {run.rows:,} rows of {run.output_table}.")

    def _on_preview_failed(self, run: InferenceRun, error: ErrorInfo) -> None:
        if self.selected_run_id() == run.run_id:
            # The output may have been replaced by a later run or dropped since.
            self.preview_note.setText(f"No preview: {error.message}")


def _size_index(label: str) -> int:
    from snowml_desktop.core.sizes import parse_size

    try:
        return parse_size(label).index
    except Exception:  # an unknown size name in an old row sorts first
        return -1


def _metrics_html(run: InferenceRun) -> str:
    metrics = run.metrics or {}
    if not metrics and run.status != RUN_SUCCEEDED:
        ended = "was cancelled" if run.status == RUN_CANCELLED else "failed"
        return f"<i>No metrics: the run {ended} before they were computed.</i>"
    if not metrics:
        return "<i>No metrics: the scored table had no label column.</i>"
    keys = (
        ("Accuracy", "accuracy"),
        ("Balanced accuracy", "balanced_accuracy"),
        ("Precision (macro)", "precision_macro"),
        ("Recall (macro)", "recall_macro"),
        ("F1 (macro)", "f1_macro"),
    )
    rows = "".join(
        f"<tr><td>{label}</td><td><b>{metric_text(metrics.get(key))}</b></td></tr>" for label, key in keys
    )
    rows = _caveats(run) + rows
    per_class = metrics.get("per_class") or []
    # Padding inside every cell (not spacing between them) keeps bold headers like "Precision Recall" apart.
    if per_class:
        header = (
            "<tr><th align='left'>Class</th><th align='right'>Precision</th><th align='right'>Recall</th>"
            "<th align='right'>F1</th><th align='right'>Support</th></tr>"
        )
        body = "".join(
            f"<tr><td>{c.get('label')}</td><td align='right'>{metric_text(c.get('precision'))}</td>"
            f"<td align='right'>{metric_text(c.get('recall'))}</td><td align='right'>{metric_text(c.get('f1'))}</td>"
            f"<td align='right'>{c.get('support', '')}</td></tr>"
            for c in per_class
        )
        return f"<table cellspacing='4'>{rows}</table><table cellspacing='0' cellpadding='4'>{header}{body}</table>"
    return f"<table cellspacing='4'>{rows}</table>"


def _timings_html(run: InferenceRun) -> str:
    rate = run.rows / run.total_seconds if run.total_seconds > 0 else 0.0
    workers = f", {plural(run.workers, 'worker')}" if run.workers else ""
    queries = f"<br/>Query ids: {', '.join(run.query_ids)}" if run.query_ids else ""
    # Query ids exist on Snowflake only: there the estimate can later be compared with what Snowflake
    # attributes, which says nothing about the time the warehouse ran idle.
    attribution = (
        f"<br/>{ATTRIBUTION_NOTE}" if run.query_ids else ""
    )
    return (
        f"<p><b>Timings</b><br/>Total {run.total_seconds:.2f} s, scoring {run.scoring_seconds:.2f} s"
        f" ({rate:,.0f} rows/s)<br/>Warehouse {run.warehouse_size} {run.warehouse_type}{workers}<br/>"
        f"≈ {credits_text(run.credits)} credits (estimate{_minimum_part(run)}){queries}{attribution}</p>"
    )


def _caveats(run: InferenceRun) -> str:
    """Rows above the metrics: the decision threshold used, and scored rows that were training rows."""
    lines = []
    if run.threshold is not None:
        lines.append(f"Labelled at the model's threshold {run.threshold:.4g}.")
    overlap = (run.drift or {}).get("overlap_rows")
    if overlap:
        table = (run.drift or {}).get("training_table")
        lines.append(
            f"⚠ {overlap:,} of {run.rows:,} scored rows are rows of the training table {table}: these metrics "
            "are optimistic."
        )
    return "".join(f"<tr><td colspan='2'>{line}</td></tr>" for line in lines)


def _minimum_part(run: InferenceRun) -> str:
    billed = billed_credits(run.total_seconds, run.warehouse_size, run.warehouse_type)
    if not billed.minimum or abs(billed.total - run.credits) > 1e-9:
        return ""  # past the minute, or attributed credits replaced the estimate
    return f", {credits_text(billed.minimum)} of it the 60 s billed at least per resume"


def _status_text(run: InferenceRun) -> str:
    """The status, and what the run was for when it scored a calibration's sample."""
    status = _STATUS_TEXT.get(run.status, run.status)
    return status if run.kind == RUN_SCORE else f"{status} ({_KIND_TEXT.get(run.kind, run.kind)})"


def _drift_item(run: InferenceRun) -> SortItem:
    """The run's drift verdict, sortable by its highest PSI; training-row overlap in the tooltip."""
    if not run.drift:
        return SortItem("—", None)
    reason = failure_reason(run.drift)
    if reason is not None:  # sorts after every measured drift, before runs without a check
        item = SortItem("check failed", math.inf)
        item.setToolTip(f"The drift check failed: {reason}. The details are in the log.")
        return item
    report = report_from_json(run.drift)
    mark = "⚠ " if report.band == "high" else ""
    item = SortItem(f"{mark}{report.band} {report.max_psi:.2f}", report.max_psi)
    item.setToolTip(report.summary())
    return item


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(RunsPanel))
