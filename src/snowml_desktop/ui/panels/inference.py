"""Inference: score a table with a model at a chosen warehouse size, and see what each size costs.

Run stays disabled until a job has checked the input table for the model's features (missing ones are
named). The timing graph shows this model/table's past runs by size; "Compare sizes" scores at several
sizes, one job after another, and fills it.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.methods import METHODS
from snowml_desktop.core.recommend import choose_size
from snowml_desktop.core.records import RUN_SCORE, RUN_SUCCEEDED
from snowml_desktop.core.scoring import mistyped_features
from snowml_desktop.core.sizes import SIZES, billed_credits, parse_size
from snowml_desktop.engines.base import ScoreRequest, default_output_table
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.drift_view import DriftDialog
from snowml_desktop.ui.widgets.job_status import JobStatus
from snowml_desktop.ui.widgets.model_charts import TimingGraph, credits_text
from snowml_desktop.ui.widgets.table_name_edit import TableNameEdit
from snowml_desktop.ui.widgets.wrap_label import WrapLabel
from snowml_desktop.ui.wording import plural

if TYPE_CHECKING:
    from snowml_desktop.core.calibration import CalibrationPlan
    from snowml_desktop.core.recommend import Recommendation, SizeForecast
    from snowml_desktop.core.records import InferenceRun, ModelRecord
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.base import Engine, TableInfo, WarehouseState
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext
    from snowml_desktop.ui.schedule_dialog import ScheduleDialog

__all__ = ["InferencePanel", "InputCheck"]

DEFAULT_COMPARE = ("X-Small", "Small")


@dataclass(frozen=True)
class InputCheck:
    """The result of checking a table for a model: missing features and the past runs of the pair."""

    model: str
    table: str
    missing: list[str]
    runs: list[InferenceRun]
    mistyped: list[str] = dataclasses.field(default_factory=list)  # numeric features in non-numeric columns
    recommendation: Recommendation | None = None  # the size to score at, from the model's past runs
    no_recommendation: str = ""  # why there is none

    def summary(self) -> str:
        """One line for the Jobs dock."""
        if self.missing:
            return f"{self.table} lacks {plural(len(self.missing), 'feature')} of {self.model}"
        return f"{self.table} has every feature of {self.model}; {plural(len(self.runs), 'past run')}"


def _lists(engine: Engine, task: TaskContext) -> tuple[list[ModelRecord], list[TableInfo], WarehouseState]:
    return engine.list_models(), engine.list_tables(), engine.warehouse()


def _check(engine: Engine, model: str, table: str, task: TaskContext) -> InputCheck:
    task.report(0.2, "Checking the features")
    missing = engine.check_scoring_input(model, table)
    kinds = {column.name: column.kind for column in engine.table_columns(table)}
    mistyped = mistyped_features(kinds, engine.get_model(model).features)
    task.report(0.6, "Reading past runs")
    # A calibration's runs scored samples of the table: the forecast uses them, the table's own timings not.
    runs = [r for r in engine.list_runs(model=model, table=table) if r.kind == RUN_SCORE]
    recommendation, why = None, ""
    if not missing:
        try:
            recommendation = engine.recommend_size(model, table)
        except InvalidInput as exc:
            why = exc.message
    return InputCheck(model, table, missing, runs, mistyped, recommendation, why)


def _shrinkable(combo: QComboBox) -> None:
    """Let ``combo`` be narrower than its longest item (a 66-character table name), its tooltip the choice."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    combo.currentTextChanged.connect(combo.setToolTip)


class InferencePanel(Panel):
    key: ClassVar[str] = "inference"
    title: ClassVar[str] = "Inference"
    icon: ClassVar[str] = "inference"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._models: dict[str, ModelRecord] = {}
        self._tables: dict[str, TableInfo] = {}
        self._check: InputCheck | None = None
        self._recommended: SizeForecast | None = None
        self.drift_dialog: DriftDialog | None = None
        self._score_job: JobHandle | None = None
        self._calibration_job: JobHandle | None = None
        self.calibration_plan: CalibrationPlan | None = None  # the last plan shown (asked about on Snowflake)
        self._queue: list[str] = []
        self._queue_total = 0
        self._overwrite_ok = False
        self._output_edited = False
        self._pending_model: str | None = None
        self.last_run: InferenceRun | None = None
        self.schedule_dialog: ScheduleDialog | None = None
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.models_changed.connect(lambda _name: self.refresh_soon(self.refresh))
        ctx.tables_changed.connect(lambda: self.refresh_soon(self.refresh))
        # A refresh re-checks the pair when its lists arrive: one check, not two.
        ctx.runs_changed.connect(lambda: self.refresh_soon(self._recheck, covered_by=self.refresh))
        self._fill_sizes()
        self._update_enabled()

    # --- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        box = QGroupBox("Score a table")
        form = QFormLayout(box)
        # On a narrow column a field whose minimum does not fit beside its label goes below it.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.model_combo = self.name_widget(QComboBox(), "inference.model", "Model")
        self.model_combo.currentTextChanged.connect(self._on_selection_changed)
        _shrinkable(self.model_combo)
        self.model_info = self.name_widget(WrapLabel(), "inference.model_info", "Model summary")
        self.table_combo = self.name_widget(QComboBox(), "inference.table", "Input table")
        self.table_combo.currentTextChanged.connect(self._on_selection_changed)
        _shrinkable(self.table_combo)
        self.check_label = self.name_widget(WrapLabel(), "inference.check", "Input check")
        self.output = TableNameEdit(object_name="inference.output", what="output table")
        self.output.line_edit.textEdited.connect(self._on_output_edited)
        self.output.nameChanged.connect(self._update_output_note)
        self.output_note = self.name_widget(WrapLabel(), "inference.output_note", "Output table note")
        self.size_combo = self.name_widget(QComboBox(), "inference.size", "Warehouse size")
        self.size_combo.currentIndexChanged.connect(self._update_estimate)
        _shrinkable(self.size_combo)
        self.estimate = self.name_widget(WrapLabel(), "inference.estimate", "Estimated credits")
        self.recommendation = self.name_widget(WrapLabel(), "inference.recommendation", "Recommended size")
        self.use_recommended = self.name_widget(
            QPushButton("Use the recommended size"), "inference.use_recommended", "Use the recommended size"
        )
        self.use_recommended.clicked.connect(self._use_recommended)
        self.use_recommended.setEnabled(False)
        self.calibrate_button = self.name_widget(
            QPushButton("Calibrate…"),
            "inference.calibrate",
            "Time the model on samples of the table, for a recommended size",
        )
        self.calibrate_button.setToolTip(
            "Scores small samples of the table at two sizes (the samples and their scores are dropped), so that "
            "a size can be recommended without past runs. On Snowflake the cost is shown before it starts."
        )
        self.calibrate_button.clicked.connect(self.start_calibration)
        self.calibrate_button.setEnabled(False)
        self.budget = self.name_widget(
            QDoubleSpinBox(), "inference.budget", "Time budget in minutes (0: no budget)"
        )
        self.budget.setRange(0.0, 24 * 60.0)
        self.budget.setDecimals(1)
        self.budget.setSuffix(" min")
        self.budget.setSpecialValueText("No time budget")
        self.budget.setToolTip("With a budget, the cheapest size that finishes within it is recommended.")
        self.budget.valueChanged.connect(self._on_budget_changed)
        self.check_drift = self.name_widget(
            QPushButton("Check drift…"),
            "inference.check_drift",
            "Check the input table's drift against the training data",
        )
        self.check_drift.clicked.connect(self.start_drift_check)
        form.addRow("Model:", self.model_combo)
        form.addRow("", self.model_info)
        form.addRow("Input table:", self.table_combo)
        form.addRow("", self.check_label)
        form.addRow("Output table:", self.output)
        form.addRow("", self.output_note)
        form.addRow("Warehouse size:", self.size_combo)
        form.addRow("", self.estimate)
        form.addRow("", self.recommendation)
        form.addRow("Time budget:", self.budget)
        recommend_actions = QHBoxLayout()
        recommend_actions.addWidget(self.use_recommended)
        recommend_actions.addWidget(self.calibrate_button)
        recommend_actions.addStretch(1)
        form.addRow("", recommend_actions)

        self.run_button = self.name_widget(QPushButton("Run"), "inference.run", "Run the scoring")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start_scoring)
        self.blocker = self.name_widget(WrapLabel(), "inference.blocker", "Why scoring is not possible")
        self.open_run = self.name_widget(
            QPushButton("Open in Inference Runs"), "inference.open_run", "Open the last run in Inference Runs"
        )
        self.open_run.clicked.connect(self._open_last_run)
        self.open_run.setEnabled(False)
        self.automate_button = self.name_widget(
            QPushButton("Automate…"), "inference.automate", "Score this table's new rows on a schedule"
        )
        self.automate_button.clicked.connect(self.open_automation)
        # Two by two: the four buttons side by side are wider than the column at 1024 × 700.
        actions = QGridLayout()
        actions.addWidget(self.run_button, 0, 0)
        actions.addWidget(self.open_run, 0, 1)
        actions.addWidget(self.automate_button, 1, 0)
        actions.addWidget(self.check_drift, 1, 1)
        actions.setColumnStretch(2, 1)

        compare = QGroupBox("Compare sizes")
        compare_layout = QVBoxLayout(compare)
        self.compare_sizes = self.name_widget(
            QListWidget(), "inference.compare_sizes", "Sizes to compare", "Check the sizes to score at"
        )
        self.compare_sizes.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.compare_sizes.setFixedHeight(3 * (self.fontMetrics().height() + 4))  # three sizes in view
        self.compare_sizes.itemChanged.connect(self._update_enabled)
        self.compare_button = self.name_widget(
            QPushButton("Compare sizes"), "inference.compare", "Score at each checked size in turn"
        )
        self.compare_button.clicked.connect(self.start_compare)
        compare_head = QHBoxLayout()
        compare_head.addWidget(WrapLabel("Score at each checked size, one after another:"), 1)
        compare_head.addWidget(self.compare_button)
        compare_layout.addLayout(compare_head)
        compare_layout.addWidget(self.compare_sizes)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(box)
        left_layout.addStretch(1)

        self.timing = self.name_widget(TimingGraph(), "inference.timing", "Timing graph")
        self.history = self.name_widget(WrapLabel(), "inference.history", "Past runs")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.timing, 1)
        right_layout.addWidget(self.history)
        # Next to the graph it fills, so it is in view whatever the window's height.
        right_layout.addWidget(compare)

        # The form's wrapped notes must never be squeezed out of sight on a short window: it scrolls, up and
        # down only (every child shrinks to the column's width). The actions stay below it, always in view.
        self.form_scroll = self.name_widget(QScrollArea(), "inference.form_scroll", "Scoring settings")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(left)
        left_column = QVBoxLayout()
        left_column.addWidget(self.form_scroll, 1)
        left_column.addLayout(actions)
        left_column.addWidget(self.blocker)
        columns = QHBoxLayout()
        columns.addLayout(left_column, 2)
        columns.addWidget(right, 3)
        self.status = JobStatus("inference", "Scoring", self)
        self.status.cancel_button.clicked.connect(self._queue.clear)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.status)

    def _fill_sizes(self) -> None:
        """Size labels with workers (local) or credits/hour (Snowflake)."""
        engine = self.ctx.engine
        local = engine is not None and engine.capabilities.local
        current = self.size_combo.currentData()
        self.size_combo.blockSignals(True)
        self.size_combo.clear()
        self.compare_sizes.blockSignals(True)
        checked = set(self.checked_compare_sizes()) or set(DEFAULT_COMPARE)
        self.compare_sizes.clear()
        for size in SIZES:
            if local:
                workers = size.local_workers()
                extra = f"{plural(workers, 'worker')}, {size.credits_per_hour:g} credits/h"
            else:
                extra = f"{size.credits_per_hour:g} credits/h"
            self.size_combo.addItem(f"{size.label} — {extra}", size.label)
            item = QListWidgetItem(f"{size.label} — {extra}")
            item.setData(Qt.ItemDataRole.UserRole, size.label)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if size.label in checked else Qt.CheckState.Unchecked)
            self.compare_sizes.addItem(item)
        self.compare_sizes.blockSignals(False)
        index = self.size_combo.findData(current) if current else 0
        self.size_combo.setCurrentIndex(max(index, 0))
        self.size_combo.blockSignals(False)
        self._update_estimate()

    # --- refresh ---------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        if self.model_combo.count() == 0 or self.table_combo.count() == 0:
            self.refresh_soon(self.refresh)

    def on_navigate(self, argument: object) -> None:
        """``argument``: a model name to score with."""
        if isinstance(argument, str) and argument:
            if self.model_combo.findText(argument) >= 0:
                self._choose_model(argument)
            else:
                self._pending_model = argument
                self.refresh_soon(self.refresh)

    def _choose_model(self, model: str) -> None:
        """Select ``model`` and its own source table (the pair the check passes on)."""
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentText(model)
        self.model_combo.blockSignals(False)
        self._default_table()
        self._on_selection_changed()

    def _on_engine_changed(self, engine: object) -> None:
        self._models, self._tables, self._check = {}, {}, None
        self.model_combo.clear()
        self.table_combo.clear()
        self._fill_sizes()
        if engine is not None:
            self.refresh_soon(self.refresh)

    def refresh(self) -> None:
        if self.ctx.engine is None:
            return
        handle = self.ctx.run("List models and tables for scoring", _lists, key="inference.lists")
        handle.succeeded.connect(self._on_lists)
        handle.failed.connect(
            lambda error: self.status.show_error(error, "Could not list models and tables: ")
        )

    def _on_lists(self, result: tuple[list[ModelRecord], list[TableInfo], WarehouseState]) -> None:
        models, tables, warehouse = result
        self._models = {m.name: m for m in models}
        self._tables = {t.name: t for t in tables}
        pending, self._pending_model = self._pending_model, None
        model = pending or self.model_combo.currentText()
        table = self.table_combo.currentText()
        if not self.size_combo.currentData() or self.size_combo.currentIndex() == 0:
            index = self.size_combo.findData(warehouse.size)
            self.size_combo.setCurrentIndex(max(index, 0))
        for combo, names, wanted in (
            (self.model_combo, list(self._models), model),
            (self.table_combo, list(self._tables), table),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if wanted in names:
                combo.setCurrentText(wanted)
            combo.blockSignals(False)
        if pending or not table or table not in self._tables:
            self._default_table()
        if (self.model_combo.currentText(), self.table_combo.currentText()) == (model, table):
            self._recheck()  # same pair: keep what is shown, refresh the check and the timings
            self._update_output_note()
        else:
            self._on_selection_changed()

    def _default_table(self) -> None:
        """Prefer the model's own source table (the check passes there)."""
        record = self._models.get(self.model_combo.currentText())
        if record is not None and record.source_table in self._tables:
            self.table_combo.blockSignals(True)
            self.table_combo.setCurrentText(record.source_table)
            self.table_combo.blockSignals(False)

    def _on_selection_changed(self, *_: object) -> None:
        model, table = self.model_combo.currentText(), self.table_combo.currentText()
        record = self._models.get(model)
        method = METHODS.get(record.method) if record else None
        self.model_info.setText(
            f"{method.label if method else record.method} trained on {record.source_table}, "
            f"target {record.target}, {len(record.features)} features"
            if record
            else ""
        )
        if not self._output_edited and model and table:
            self.output.setText(default_output_table(table, model))
        self._check = None
        self._overwrite_ok = False
        self.timing.set_runs([])
        self.timing.set_forecast([])
        self.recommendation.setText("")
        self.use_recommended.setEnabled(False)
        self.history.setText("")
        self.check_label.setText("Checking the table…" if model and table else "")
        self._update_output_note()
        self._update_enabled()
        if model and table:
            self._recheck()

    def _recheck(self) -> None:
        model, table = self.model_combo.currentText(), self.table_combo.currentText()
        if not model or not table or self.ctx.engine is None:
            return
        handle = self.ctx.run(
            f"Check {table} for {model}",
            lambda engine, task: _check(engine, model, table, task),
            key="inference.check",
        )
        handle.succeeded.connect(self._on_checked)
        handle.failed.connect(self._on_check_failed)

    def _on_checked(self, check: InputCheck) -> None:
        if (check.model, check.table) != (self.model_combo.currentText(), self.table_combo.currentText()):
            return
        self._check = check
        if check.missing:
            self.check_label.setText(
                f"✗ {check.table} lacks the model's {'feature' if len(check.missing) == 1 else 'features'}: "
                f"{', '.join(check.missing)}"
            )
        else:
            record = self._models.get(check.model)
            count = f"all {len(record.features)}" if record else "all"
            self.check_label.setText(f"✓ {check.table} has {count} features the model needs.")
        if check.mistyped and not check.missing:
            self.check_label.setText(
                f"⚠ In {check.table}, {', '.join(check.mistyped)} {'is' if len(check.mistyped) == 1 else 'are'} "
                "not numeric, but the model takes numbers: values that are not numbers are refused when scoring."
            )
        self.timing.set_runs(check.runs)
        self.timing.set_forecast(_forecast_in_view(check.recommendation))
        self._show_recommendation(check)
        done = [r for r in check.runs if r.status == RUN_SUCCEEDED]
        self.history.setText(
            f"{plural(len(check.runs), 'past run')} of {check.model} on {check.table}, {len(done)} succeeded."
            if check.runs
            else f"No runs yet of {check.model} on {check.table}."
        )
        self._update_estimate()
        self._update_enabled()

    def _on_check_failed(self, error: ErrorInfo) -> None:
        self.check_label.setText(f"✗ {error.message}")
        self._update_enabled()

    # --- output and estimate ---------------------------------------------------------------------------
    def _on_output_edited(self, text: str) -> None:
        self._output_edited = bool(text.strip())
        self._overwrite_ok = False

    def _update_output_note(self, *_: object) -> None:
        name = self.output.canonical()
        exists = bool(name) and name in self._tables
        self.output.set_exists(exists)
        self.output_note.setText(f"⚠ {name} exists; Run asks before replacing it." if exists else "")
        self._update_enabled()

    def _update_estimate(self, *_: object) -> None:
        size = self.size_combo.currentData()
        if not size:
            self.estimate.setText("")
            return
        runs = [r for r in (self._check.runs if self._check else []) if r.status == RUN_SUCCEEDED]
        at_size = [r for r in runs if _same_size(r.warehouse_size, size)]
        if at_size:
            seconds = statistics.median(r.total_seconds for r in at_size)
            billed = billed_credits(seconds, size)
            minimum = (
                f" + {credits_text(billed.minimum)} for the 60 s billed at least per resume" if billed.minimum else ""
            )
            self.estimate.setText(
                f"Estimated ≈ {credits_text(billed.total)} credits: {credits_text(billed.running)} for {seconds:.1f} s "
                f"(the median of {plural(len(at_size), 'past run')} at {size}){minimum}."
            )
        else:
            self.estimate.setText(
                f"Estimated ≥ {credits_text(billed_credits(0, size).total)} credits: at least 60 s is billed when "
                f"the warehouse resumes ({parse_size(size).credits_per_hour:g} credits/hour). No past run at "
                f"{size} to go by."
            )

    def _show_recommendation(self, check: InputCheck) -> None:
        advice = check.recommendation
        if advice is None:
            self.recommendation.setText(
                f"No recommended size yet: {check.no_recommendation} Calibrate… times the model on samples "
                "of the table instead."
                if check.no_recommendation
                else ""
            )
            self.use_recommended.setEnabled(False)
            self._recommended = None
            return
        budget = self.budget.value() * 60 or None
        self._recommended, summary = choose_size(advice.forecasts, budget)
        local = self.ctx.engine is not None and self.ctx.engine.capabilities.local
        beyond = " Sizes past the CPU count add no workers here." if local else ""
        self.recommendation.setText(
            f"Recommended for {advice.rows:,} rows — {summary}{beyond} (predicted from past runs; the graph "
            "shows the forecast dotted)"
        )
        self.use_recommended.setEnabled(True)

    def _on_budget_changed(self, *_: object) -> None:
        if self._check is not None:
            self._show_recommendation(self._check)

    def _use_recommended(self) -> None:
        if self._recommended is None:
            return
        label = self._recommended.size.label
        index = next(
            (i for i in range(self.size_combo.count()) if _same_size(self.size_combo.itemData(i), label)), -1
        )
        if index >= 0:
            self.size_combo.setCurrentIndex(index)

    def start_drift_check(self) -> JobHandle | None:
        """Check the chosen table's drift against the chosen model's training data, in a job; the report
        opens in a window."""
        model, table = self.model_combo.currentText(), self.table_combo.currentText()
        if not model or not table or self.ctx.engine is None:
            return None
        handle = self.ctx.run(
            f"Check drift of {table} against {model}",
            lambda engine, task: engine.check_drift(model, table),
            key="inference.drift",
        )
        self.status.track(handle, f"Checking {table}'s drift against {model}'s training data…")
        handle.succeeded.connect(self._on_drift)
        handle.failed.connect(lambda error: self.status.show_error(error, "Drift check failed: "))
        return handle

    def _on_drift(self, report: Any) -> None:
        self.status.show_success(report.summary())
        self.drift_dialog = DriftDialog(report, self)
        self.drift_dialog.show()

    # --- calibration -----------------------------------------------------------------------------------
    def start_calibration(self) -> JobHandle | None:
        """Plan a calibration of the chosen model on the chosen table in a job; the plan then starts it
        (after the user agrees to its cost, on Snowflake)."""
        model, table = self.model_combo.currentText(), self.table_combo.currentText()
        if self.busy or not model or not table or self.ctx.engine is None:
            return None
        handle = self.ctx.run(
            f"Plan a calibration of {model} on {table}",
            lambda engine, task: engine.plan_calibration(model, table),
            key="inference.calibrate",
        )
        self._calibration_job = handle
        self.status.track(handle, f"Planning a calibration of {model} on {table}…")
        handle.succeeded.connect(self._on_calibration_planned)
        handle.failed.connect(lambda error: self.status.show_error(error, "Cannot calibrate: "))
        handle.finished.connect(self._update_enabled)
        self._update_enabled()
        return handle

    def _on_calibration_planned(self, plan: CalibrationPlan) -> None:
        self.calibration_plan = plan
        if not plan.local and not self._confirm_calibration(plan):
            self.status.show_note("Calibration not started; nothing was run.")
            return
        budget = self.budget.value() * 60 or None
        handle = self.ctx.run(
            f"Calibrate {plan.model} on {plan.table}",
            lambda engine, task: engine.calibrate(plan, budget_seconds=budget, task=task),
            key="inference.calibrate",
        )
        self._calibration_job = handle
        self.status.track(handle, f"Calibrating {plan.model} on samples of {plan.table}…")
        handle.succeeded.connect(self._on_calibrated)
        handle.failed.connect(lambda error: self.status.show_error(error, "Calibration failed: "))
        handle.cancelled.connect(
            lambda: self.status.show_note("Calibration cancelled; its samples were dropped.")
        )
        handle.finished.connect(self._on_calibration_finished)
        self._update_enabled()

    def _confirm_calibration(self, plan: CalibrationPlan) -> bool:
        """Ask before a calibration that bills credits (the plan says what it runs and costs)."""
        answer = QMessageBox.question(
            self,
            "Calibrate on samples",
            plan.summary(),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_calibrated(self, advice: Recommendation) -> None:
        self.status.show_success(f"Calibrated. Recommended for {advice.rows:,} rows — {advice.summary}")

    def _on_calibration_finished(self) -> None:
        self._calibration_job = None
        # Its runs (failed and cancelled ones too) are recorded: the check, recommendation and graph follow.
        self.ctx.runs_changed.emit()
        self._update_enabled()

    # --- running ---------------------------------------------------------------------------------------
    def _blocker(self) -> str | None:
        if self.ctx.engine is None:
            return "Not connected."
        if not self.model_combo.currentText():
            return "Train a model first (Train Model)."
        if not self.table_combo.currentText():
            return "Load a table to score first (Load Data)."
        if self._check is None:
            return "Checking the input table…"
        if self._check.missing:
            return f"The input table lacks: {', '.join(self._check.missing)}."
        if self.output.canonical() is None:
            return "Type a valid output table name."
        return None

    @property
    def busy(self) -> bool:
        running = [job for job in (self._score_job, self._calibration_job) if job is not None and not job.done]
        return bool(running) or bool(self._queue)

    def _update_enabled(self, *_: object) -> None:
        blocker = None if self.busy else self._blocker()
        ready = not self.busy and blocker is None
        self.run_button.setEnabled(ready)
        self.automate_button.setEnabled(ready)
        checked = self._check is not None and not self._check.missing
        self.check_drift.setEnabled(not self.busy and checked)
        # Offered where the recommendation says it needs more runs (the check found no fit to go by).
        needs_runs = checked and self._check is not None and self._check.recommendation is None
        self.calibrate_button.setEnabled(not self.busy and needs_runs and bool(self._check.no_recommendation))
        self.compare_button.setEnabled(ready and bool(self.checked_compare_sizes()))
        self.blocker.setText(blocker or "")
        for widget in (self.model_combo, self.table_combo, self.output, self.size_combo, self.compare_sizes):
            widget.setEnabled(not self.busy)

    def open_automation(self) -> ScheduleDialog:
        """The Automate… dialog for the chosen model, table and output (non-modal; one at a time)."""
        from snowml_desktop.ui.schedule_dialog import ScheduleDialog

        if self.schedule_dialog is not None:
            self.schedule_dialog.close()
        self.schedule_dialog = ScheduleDialog(
            self.ctx,
            self.model_combo.currentText(),
            self.table_combo.currentText(),
            self.output.canonical(),
            self,
        )
        self.schedule_dialog.show()
        return self.schedule_dialog

    def checked_compare_sizes(self) -> list[str]:
        items = [self.compare_sizes.item(i) for i in range(self.compare_sizes.count())]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    def set_compare_sizes(self, sizes: list[str]) -> None:
        for i in range(self.compare_sizes.count()):
            item = self.compare_sizes.item(i)
            checked = item.data(Qt.ItemDataRole.UserRole) in sizes
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _confirm_overwrite(self) -> bool:
        name = self.output.canonical()
        if self._overwrite_ok or name not in self._tables:
            return True
        answer = QMessageBox.question(
            self,
            "Replace output table",
            f"{name} exists. Replace it with the new scores?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        self._overwrite_ok = answer == QMessageBox.StandardButton.Yes
        return self._overwrite_ok

    def start_scoring(self) -> JobHandle | None:
        """Score at the chosen size (asks before replacing an existing output table)."""
        if self.busy or self._blocker() is not None or not self._confirm_overwrite():
            return None
        return self._submit(self.size_combo.currentData(), "")

    def start_compare(self) -> JobHandle | None:
        """Score at every checked size, one job after another (Cancel stops the rest)."""
        sizes = self.checked_compare_sizes()
        if self.busy or not sizes or self._blocker() is not None or not self._confirm_overwrite():
            return None
        self._queue = list(sizes[1:])
        self._queue_total = len(sizes)
        return self._submit(sizes[0], f" (1 of {len(sizes)})")

    def _submit(self, size: str, step: str, *, replace_own: bool = False) -> JobHandle:
        model, table, output = (
            self.model_combo.currentText(),
            self.table_combo.currentText(),
            self.output.canonical(),
        )
        assert output is not None
        # Later steps of a comparison replace the output the first step wrote (asked once, up front).
        overwrite = self._overwrite_ok or replace_own or output in self._tables
        request = ScoreRequest(model=model, table=table, output=output, size=size, overwrite=overwrite)
        handle = self.ctx.run(
            f"Score {table} with {model} at {size}",
            lambda engine, task: engine.score(request, task=task),
            key="inference.score",
            writes=output,
        )
        self._score_job = handle
        self.status.track(handle, f"Scoring {table} at {size}{step}…")
        handle.succeeded.connect(self._on_scored)
        handle.failed.connect(self._on_score_failed)
        handle.cancelled.connect(self._on_score_cancelled)
        handle.finished.connect(self._on_score_finished)
        self._update_enabled()
        return handle

    def _on_scored(self, run: InferenceRun) -> None:
        self.last_run = run
        self.open_run.setEnabled(True)
        accuracy = (run.metrics or {}).get("accuracy")
        score = f", accuracy {accuracy:.3f}" if isinstance(accuracy, (int, float)) else ""
        workers = f", {plural(run.workers, 'worker')}" if run.workers else ""
        self.status.show_success(
            f"Scored {run.rows:,} rows into {run.output_table} in {run.total_seconds:.2f} s at {run.warehouse_size}"
            f"{workers}; ≈ {credits_text(run.credits)} credits{score}.{_drift_note(run)}"
        )

    def _on_score_failed(self, error: ErrorInfo) -> None:
        self._queue.clear()
        self.status.show_error(error, "Scoring failed: ")

    def _on_score_cancelled(self) -> None:
        self._queue.clear()
        self.status.show_note("Scoring cancelled; the output table was left as it was.")

    def _on_score_finished(self) -> None:
        self._score_job = None
        # Failed and cancelled runs are recorded too: the runs list changed either way.
        self.ctx.runs_changed.emit()
        self.ctx.tables_changed.emit()
        if self._queue:
            step = self._queue_total - len(self._queue) + 1
            self._submit(self._queue.pop(0), f" ({step} of {self._queue_total})", replace_own=True)
        else:
            self._overwrite_ok = False  # the next Run asks again before replacing
        self._update_enabled()

    def _open_last_run(self) -> None:
        if self.last_run is not None:
            self.ctx.navigate_requested.emit("runs", self.last_run.run_id)


def _forecast_in_view(advice: Recommendation | None) -> list[Any]:
    """The forecast up to two sizes past the recommended one (the graph's x axis stays readable)."""
    if advice is None:
        return []
    last = advice.recommended.size.index + 2
    return [f for f in advice.forecasts if f.size.index <= last]


def _drift_note(run: InferenceRun) -> str:
    """The run's drift verdict and training-row overlap, for the result line (empty without a check)."""
    if not run.drift:
        return ""
    from snowml_desktop.core.drift import failure_reason, report_from_json

    reason = failure_reason(run.drift)
    if reason is not None:
        return f" Drift check failed: {reason}."
    return " " + report_from_json(run.drift).summary()


def _same_size(a: str, b: str) -> bool:
    try:
        return parse_size(a) == parse_size(b)
    except Exception:  # an unknown size name in an old run never matches
        return False


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(InferencePanel))
