"""Train Model: pick a table, a target, features and a method with its settings, and train in a job.

The feature list is screened in a job (the engine's preview, classified with the same rules training
uses) so unusable columns are shown with the reason before training, and the target's class balance is
read from the whole table. Training runs in the engine with stages and Cancel; on success the catalog
opens on the new model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.methods import METHODS, MethodSpec
from snowml_desktop.core.sizes import SNOWPARK_OPTIMIZED, STANDARD, credits_per_hour
from snowml_desktop.engines.base import CompareRequest, TrainRequest
from snowml_desktop.ui.compare_dialog import CompareDialog
from snowml_desktop.ui.model_notes import model_notes
from snowml_desktop.ui.panels.base import Panel
from snowml_desktop.ui.widgets.job_status import JobStatus
from snowml_desktop.ui.widgets.param_form import ParamForm
from snowml_desktop.ui.wording import plural

if TYPE_CHECKING:
    from snowml_desktop.core.records import ModelRecord
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.engines.base import ColumnInfo, Engine, TableInfo, WarehouseState
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["ColumnScreen", "TrainPanel", "guess_target", "screen_columns"]

#: Rows of the engine's preview used to screen features (training itself uses the whole table).
SCREEN_ROWS = 5000
#: Classes read for the target's balance; more than this means the target looks continuous.
BALANCE_LIMIT = 50
_TARGET_NAME = re.compile(
    r"^(target|label|class|y|outcome|diagnosis|churn|churned|survived|default|fraud|is_fraud)$", re.IGNORECASE
)
CLASS_WEIGHT_NONE = "None"
CLASS_WEIGHT_BALANCED = "Balanced"


def guess_target(columns: list[str]) -> str | None:
    """The column most likely meant as the label: a conventional label name, else the last column."""
    for name in columns:
        if _TARGET_NAME.match(name):
            return name
    return columns[-1] if columns else None


@dataclass(frozen=True)
class ColumnScreen:
    """What the engine says about a table for one target: usable features, excluded columns with the
    reason, and the target's classes (whole table)."""

    table: str
    target: str
    features: list[tuple[str, str]]  # (column, "numeric" | "categorical")
    excluded: list[tuple[str, str]]  # (column, reason)
    classes: list[tuple[str, int]]  # (label, rows), most common first
    other_classes: int  # rows whose label is beyond BALANCE_LIMIT classes
    target_nulls: int
    sampled_rows: int

    def summary(self) -> str:
        """One line for the Jobs dock."""
        return (
            f"{plural(len(self.features), 'usable feature')}, {len(self.excluded)} excluded; "
            f"{self.target}: {plural(len(self.classes), 'class', 'classes')}"
        )

    @property
    def problem(self) -> str | None:
        """Why this target cannot be trained on, or None."""
        if self.sampled_rows == 0:
            return f"{self.table} has no rows to train on."
        if len(self.classes) < 2:
            found = f"only one class ({self.classes[0][0]})" if self.classes else "no values"
            return f"The target {self.target} has {found}; a classifier needs at least two classes."
        if not self.features:
            return "No column can be used as a feature (see the reasons in the list)."
        return None

    @property
    def note(self) -> str | None:
        """A warning that does not block training."""
        if self.other_classes:
            return (
                f"The target {self.target} has more than {BALANCE_LIMIT} distinct values: it looks continuous, "
                "and the engine will probably refuse it. Pick a categorical column."
            )
        if len(self.classes) >= 2 and self.classes[-1][1] < 0.1 * self.classes[0][1]:
            return "The classes are very imbalanced; consider class weighting “Balanced”."
        return None


def screen_columns(engine: Engine, table: str, target: str, task: TaskContext) -> ColumnScreen:
    """Classify the columns of ``table`` for ``target`` (worker thread)."""
    from snowml_desktop.core.preprocessing import plan_columns

    task.report(0.1, "Reading a sample")
    frame = engine.preview(table, SCREEN_ROWS)
    task.report(0.5, "Checking the columns")
    candidates = [str(c) for c in frame.columns if str(c) != target]
    plan = plan_columns(frame, candidates, explicit=False)
    if len(frame) == 0:  # with no rows every column looks "all missing"; say what is really wrong
        excluded = [(c, "the table has no rows") for c in candidates]
        features: list[tuple[str, str]] = []
    else:
        excluded = [(e["column"], e["reason"]) for e in plan.excluded]
        features = [(f.name, f.kind) for f in plan.features]
    task.report(0.7, "Counting the classes")
    balance = engine.class_balance(table, target, limit=BALANCE_LIMIT)
    return ColumnScreen(
        table=table,
        target=target,
        features=features,
        excluded=excluded,
        classes=list(zip(balance.labels, balance.counts, strict=True)),
        other_classes=balance.other,
        target_nulls=balance.nulls,
        sampled_rows=len(frame),
    )


def _list_tables(engine: Engine, task: TaskContext) -> tuple[list[TableInfo], WarehouseState]:
    return engine.list_tables(), engine.warehouse()


def _table_columns(engine: Engine, table: str) -> list[ColumnInfo]:
    return engine.table_columns(table)


class TrainPanel(Panel):
    key: ClassVar[str] = "train"
    title: ClassVar[str] = "Train Model"
    icon: ClassVar[str] = "train"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._screen: ColumnScreen | None = None
        self._warehouse: WarehouseState | None = None
        self._train_job: JobHandle | None = None
        self._pending_table: str | None = None
        self.last_model: ModelRecord | None = None
        self._build()
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.tables_changed.connect(lambda: self.refresh_soon(self._refresh_tables))
        self._on_method_changed()
        self._apply_capabilities()
        self._update_enabled()

    # --- layout ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        data = QGroupBox("Data")
        form = QFormLayout()
        self.table_combo = self.name_widget(QComboBox(), "train.table", "Training table")
        self.table_combo.currentTextChanged.connect(self._on_table_changed)
        self.target_combo = self.name_widget(
            QComboBox(), "train.target", "Target column", "The column the model learns to predict"
        )
        self.target_combo.currentTextChanged.connect(self._on_target_changed)
        self.target_info = self.name_widget(QLabel(), "train.target_info", "Target classes")
        self.target_info.setWordWrap(True)
        form.addRow("Table:", self.table_combo)
        form.addRow("Target:", self.target_combo)
        form.addRow("", self.target_info)
        self.features_list = self.name_widget(
            QListWidget(), "train.features", "Feature columns", "Checked columns are the model's inputs"
        )
        self.features_list.itemChanged.connect(self._update_enabled)
        self.features_all = self.name_widget(QPushButton("All"), "train.features_all", "Select all features")
        self.features_none = self.name_widget(QPushButton("None"), "train.features_none", "Select no feature")
        self.features_all.clicked.connect(lambda: self._check_all(True))
        self.features_none.clicked.connect(lambda: self._check_all(False))
        self.features_count = QLabel()
        self.features_count.setObjectName("train.features_count")
        self.features_count.setAccessibleName("Features selected")
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Features:"))
        buttons.addStretch(1)
        buttons.addWidget(self.features_count)
        buttons.addWidget(self.features_all)
        buttons.addWidget(self.features_none)
        data_layout = QVBoxLayout(data)
        data_layout.addLayout(form)
        data_layout.addLayout(buttons)
        data_layout.addWidget(self.features_list, 1)

        method = QGroupBox("Method")
        method_layout = QVBoxLayout(method)
        self.method_combo = self.name_widget(QComboBox(), "train.method", "Method")
        for spec in METHODS.values():
            self.method_combo.addItem(spec.label, spec.key)
        self.method_combo.setCurrentIndex(self.method_combo.findData("random_forest"))
        self.method_combo.currentIndexChanged.connect(self._on_method_changed)
        self.method_description = self.name_widget(QLabel(), "train.method_description", "Method description")
        self.method_description.setWordWrap(True)
        self.params = ParamForm(prefix="train.param")
        self.params.changed.connect(self._update_enabled)
        method_layout.addWidget(self.method_combo)
        method_layout.addWidget(self.method_description)
        method_layout.addWidget(self.params)

        evaluation = QGroupBox("Evaluation")
        eval_form = QFormLayout(evaluation)
        self.test_size = self.name_widget(
            QDoubleSpinBox(), "train.test_size", "Test size", "Share of rows held out to evaluate the model"
        )
        self.test_size.setRange(0.05, 0.5)
        self.test_size.setSingleStep(0.05)
        self.test_size.setValue(0.2)
        self.seed = self.name_widget(
            QSpinBox(), "train.seed", "Random seed", "Same seed, same split and model"
        )
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(42)
        self.cv_folds = self.name_widget(
            QSpinBox(),
            "train.cv_folds",
            "Cross-validation folds",
            "k-fold cross-validation on the training rows",
        )
        self.cv_folds.setRange(0, 20)
        self.cv_folds.setSpecialValueText("off")
        self.class_weight = self.name_widget(QComboBox(), "train.class_weight", "Class weighting")
        self.class_weight.addItems([CLASS_WEIGHT_NONE, CLASS_WEIGHT_BALANCED])
        self.dedupe = self.name_widget(
            QCheckBox("Drop duplicate rows before splitting"),
            "train.dedupe",
            "Drop duplicate rows",
            "Duplicates split across train and test inflate the test score (leakage)",
        )
        eval_form.addRow("Test size:", self.test_size)
        eval_form.addRow("Seed:", self.seed)
        eval_form.addRow("CV folds:", self.cv_folds)
        eval_form.addRow("Class weighting:", self.class_weight)
        eval_form.addRow("", self.dedupe)

        warehouse = QGroupBox("Warehouse")
        wh_layout = QVBoxLayout(warehouse)
        self.keep_clone = self.name_widget(
            QCheckBox(), "train.keep_clone", "Keep a clone of the training data"
        )
        self.clone_info = QLabel()
        self.clone_info.setObjectName("train.clone_info")
        self.clone_info.setAccessibleName("Clone note")
        self.clone_info.setWordWrap(True)
        self.clone_info.setTextFormat(Qt.TextFormat.PlainText)
        self.optimized = self.name_widget(
            QCheckBox("Use a Snowpark-optimized warehouse for training"),
            "train.optimized",
            "Use a Snowpark-optimized warehouse for training",
        )
        self.optimized.toggled.connect(self._update_credit_info)
        self.optimized_info = self.name_widget(
            QLabel(), "train.optimized_info", "Snowpark-optimized credit impact"
        )
        self.optimized_info.setWordWrap(True)
        for widget in (self.keep_clone, self.clone_info, self.optimized, self.optimized_info):
            wh_layout.addWidget(widget)

        self.train_button = self.name_widget(QPushButton("Train"), "train.train", "Train the model")
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.start_training)
        self.compare_button = self.name_widget(
            QPushButton("Compare methods…"),
            "train.compare",
            "Compare methods on the same folds of this table",
        )
        self.compare_button.clicked.connect(self.open_compare)
        self.blocker = self.name_widget(QLabel(), "train.blocker", "Why training is not possible")
        self.blocker.setWordWrap(True)
        self.status = JobStatus("train", "Training", self)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        for box in (method, evaluation, warehouse):
            right_layout.addWidget(box)
        #: Locked while a training runs: what it trains is fixed when it starts.
        self._form_boxes = (data, method, evaluation, warehouse)
        right_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(right)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        columns = QHBoxLayout()
        columns.addWidget(data, 1)
        columns.addWidget(scroll, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.train_button)
        actions.addWidget(self.compare_button)
        actions.addWidget(self.blocker, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)

    # --- navigation and refresh ------------------------------------------------------------------------
    def on_shown(self) -> None:
        if self.table_combo.count() == 0:
            self.refresh_soon(self._refresh_tables)

    def on_navigate(self, argument: object) -> None:
        """``argument``: a table name to train on."""
        if isinstance(argument, str) and argument:
            self._pending_table = argument
            if self.table_combo.findText(argument) >= 0:
                self.table_combo.setCurrentText(argument)
            else:
                self.refresh_soon(self._refresh_tables)

    def _on_engine_changed(self, engine: object) -> None:
        self.table_combo.clear()
        self._apply_capabilities()
        if engine is not None:
            self.refresh_soon(self._refresh_tables)

    def _refresh_tables(self) -> None:
        if self.ctx.engine is None:
            return
        handle = self.ctx.run("List tables for training", _list_tables, key="train.tables")
        handle.succeeded.connect(self._on_tables)
        handle.failed.connect(lambda error: self.status.show_error(error, "Could not list the tables: "))

    def _on_tables(self, result: tuple[list[TableInfo], WarehouseState]) -> None:
        tables, self._warehouse = result
        previous = self.table_combo.currentText()
        wanted = self._pending_table or previous
        names = [t.name for t in tables]
        self.table_combo.blockSignals(True)
        self.table_combo.clear()
        self.table_combo.addItems(names)
        if wanted in names:
            self.table_combo.setCurrentText(wanted)
        self.table_combo.blockSignals(False)
        self._pending_table = None
        # Keep the user's feature choices when the table list changed elsewhere but this table did not.
        if self.table_combo.currentText() != previous or self.target_combo.count() == 0:
            self._on_table_changed(self.table_combo.currentText())
        self._update_credit_info()
        self._update_enabled()

    def _on_table_changed(self, table: str) -> None:
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.blockSignals(False)
        self._set_screen(None)
        if not table:
            return
        handle = self.ctx.run(
            f"Read the columns of {table}",
            lambda engine, task: _table_columns(engine, table),
            key="train.columns",
        )
        handle.succeeded.connect(lambda columns, t=table: self._on_columns(t, columns))
        handle.failed.connect(lambda error: self.status.show_error(error, "Could not read the columns: "))

    def _on_columns(self, table: str, columns: list[ColumnInfo]) -> None:
        if table != self.table_combo.currentText():
            return
        names = [c.name for c in columns]
        self.target_combo.blockSignals(True)
        self.target_combo.addItems(names)
        guess = guess_target(names)
        if guess is not None:
            self.target_combo.setCurrentText(guess)
        self.target_combo.blockSignals(False)
        self._on_target_changed(self.target_combo.currentText())

    def _on_target_changed(self, target: str) -> None:
        self._set_screen(None)
        table = self.table_combo.currentText()
        if not table or not target:
            return
        self.target_info.setText("Checking the columns and the classes…")
        handle = self.ctx.run(
            f"Check the columns of {table}",
            lambda engine, task: screen_columns(engine, table, target, task),
            key="train.screen",
        )
        handle.succeeded.connect(self._on_screen)
        handle.failed.connect(self._on_screen_failed)

    def _on_screen(self, screen: ColumnScreen) -> None:
        if screen.table != self.table_combo.currentText() or screen.target != self.target_combo.currentText():
            return
        self._set_screen(screen)

    def _on_screen_failed(self, error: ErrorInfo) -> None:
        self.target_info.setText("")
        self.status.show_error(error, "Could not check the columns: ")

    def _set_screen(self, screen: ColumnScreen | None) -> None:
        self._screen = screen
        self.features_list.blockSignals(True)
        self.features_list.clear()
        if screen is not None:
            for name, kind in screen.features:
                item = QListWidgetItem(f"{name}  ({kind})")
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked)
                self.features_list.addItem(item)
            excluded = [(screen.target, "the target")] + screen.excluded
            for name, reason in excluded:
                item = QListWidgetItem(f"✗ {name}  — excluded: {reason}")
                item.setData(Qt.ItemDataRole.UserRole, None)
                # Shown at full contrast (the reason must be readable) but neither checkable nor selectable.
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                item.setToolTip(f"{name} cannot be a feature: {reason}")
                self.features_list.addItem(item)
        self.features_list.blockSignals(False)
        self.target_info.setText(self._target_text(screen))
        self._update_enabled()

    @staticmethod
    def _target_text(screen: ColumnScreen | None) -> str:
        if screen is None:
            return ""
        shown = ", ".join(f"{label}: {count:,}" for label, count in screen.classes[:6])
        more = f" and {len(screen.classes) - 6} more" if len(screen.classes) > 6 else ""
        text = (
            f"{plural(len(screen.classes), 'class', 'classes')} — {shown}{more}"
            if screen.classes
            else "No values"
        )
        if screen.target_nulls:
            text += f"; {screen.target_nulls:,} rows without a label are left out"
        if screen.note:
            text += f"\n⚠ {screen.note}"
        return text

    # --- method and options ----------------------------------------------------------------------------
    def method(self) -> MethodSpec:
        return METHODS[self.method_combo.currentData()]

    def _on_method_changed(self) -> None:
        spec = self.method()
        self.method_description.setText(spec.description)
        self.params.set_method(spec)
        self.class_weight.setEnabled(spec.supports_class_weight)
        if spec.supports_class_weight:
            self.class_weight.setToolTip("“Balanced” weights classes inversely to their frequency")
        else:
            self.class_weight.setCurrentText(CLASS_WEIGHT_NONE)
            self.class_weight.setToolTip(f"{spec.label} does not support class weighting")
        self._update_enabled()

    def _apply_capabilities(self) -> None:
        engine = self.ctx.engine
        caps = engine.capabilities if engine is not None else None
        if caps is not None and caps.supports_zero_copy_clone:
            self.keep_clone.setText("Keep a zero-copy clone of the training data")
            self.clone_info.setText("The model records the clone, so its training data stays reproducible.")
        else:
            self.keep_clone.setText("Keep a snapshot copy of the training data")
            self.clone_info.setText(
                "This engine has no zero-copy clones: the snapshot is a full copy of the table "
                "(<TABLE>_CLONE_<MODEL>), recorded as the model's training data."
            )
        able = caps is not None and caps.supports_snowpark_optimized
        self.optimized.setEnabled(able)
        if not able:
            self.optimized.setChecked(False)
        self._update_credit_info()

    def _update_credit_info(self) -> None:
        engine = self.ctx.engine
        caps = engine.capabilities if engine is not None else None
        if caps is None:
            self.optimized_info.setText("Not connected.")
            return
        if not caps.supports_snowpark_optimized:
            reason = (
                caps.snowpark_optimized_reason
                or "This engine cannot switch to a Snowpark-optimized warehouse."
            )
            self.optimized_info.setText(f"Unavailable: {reason}")
            self.optimized.setToolTip(reason)
            return
        size = self._warehouse.size if self._warehouse is not None else "X-Small"
        standard = credits_per_hour(size, STANDARD)
        optimized = credits_per_hour(size, SNOWPARK_OPTIMIZED)
        chosen = "will" if self.optimized.isChecked() else "would"
        self.optimized_info.setText(
            f"Training {chosen} bill {optimized:g} instead of {standard:g} credits/hour at {size} "
            f"(+{optimized - standard:g}/h, 1.5×); the warehouse is switched back afterwards."
        )
        self.optimized.setToolTip("More memory per node for training on large tables")

    # --- features --------------------------------------------------------------------------------------
    def _feature_items(self) -> list[QListWidgetItem]:
        items = [self.features_list.item(i) for i in range(self.features_list.count())]
        return [item for item in items if item.data(Qt.ItemDataRole.UserRole) is not None]

    def selected_features(self) -> list[str]:
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in self._feature_items()
            if item.checkState() == Qt.CheckState.Checked
        ]

    def excluded_columns(self) -> list[tuple[str, str]]:
        """(column, reason) as listed, the target first."""
        if self._screen is None:
            return []
        return [(self._screen.target, "the target"), *self._screen.excluded]

    def _check_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.features_list.blockSignals(True)
        for item in self._feature_items():
            item.setCheckState(state)
        self.features_list.blockSignals(False)
        self._update_enabled()

    # --- training --------------------------------------------------------------------------------------
    def _blocker(self) -> str | None:
        if self.ctx.engine is None:
            return "Not connected."
        if not self.table_combo.currentText():
            return "Load a table first (Load Data)."
        if self._screen is None:
            return "Checking the columns…"
        if problem := self._screen.problem:
            return problem
        if not self.selected_features():
            return "Select at least one feature."
        if errors := self.params.errors():
            return "Fix the parameters: " + "; ".join(errors)
        return None

    def _update_enabled(self, *_: object) -> None:
        total = len(self._feature_items())
        self.features_count.setText(f"{len(self.selected_features())} of {total} selected" if total else "")
        training = self._train_job is not None and not self._train_job.done
        blocker = None if training else self._blocker()
        self.train_button.setEnabled(not training and blocker is None)
        self.compare_button.setEnabled(not training and blocker is None)
        self.blocker.setText(blocker or "")
        for box in self._form_boxes:
            box.setEnabled(not training)

    def train_request(self) -> TrainRequest | None:
        """The request the form describes, or None while it is not complete."""
        if self._blocker() is not None or self._screen is None:
            return None
        features = self.selected_features()
        all_features = [name for name, _ in self._screen.features]
        weight = "balanced" if self.class_weight.currentText() == CLASS_WEIGHT_BALANCED else None
        return TrainRequest(
            table=self._screen.table,
            target=self._screen.target,
            # None lets the engine plan on the whole table when the user kept every usable column.
            features=None if features == all_features else features,
            method=self.method().key,
            params=self.params.values(),
            test_size=round(self.test_size.value(), 4),
            seed=self.seed.value(),
            cv_folds=self.cv_folds.value(),
            class_weight=weight if self.method().supports_class_weight else None,
            dedupe=self.dedupe.isChecked(),
            keep_clone=self.keep_clone.isChecked(),
            optimized=self.optimized.isChecked() and self.optimized.isEnabled(),
        )

    def start_training(self) -> JobHandle | None:
        request = self.train_request()
        if request is None:
            return None
        spec = self.method()
        handle = self.ctx.run(
            f"Train {spec.label} on {request.table}",
            lambda engine, task: engine.train(request, task=task),
            key="train.train",
        )
        self._train_job = handle
        self.status.track(handle, f"Training {spec.label}…")
        handle.succeeded.connect(self._on_trained)
        handle.failed.connect(lambda error: self.status.show_error(error, "Training failed: "))
        handle.cancelled.connect(lambda: self.status.show_note("Training cancelled; no model was saved."))
        handle.finished.connect(self._on_train_finished)
        self._update_enabled()
        return handle

    def open_compare(self) -> CompareDialog | None:
        """The Compare methods dialog on the form's table, target, features and options (the form's method,
        with its parameters, is among those compared unless it is Auto)."""
        request = self.train_request()
        if request is None:
            return None
        base = CompareRequest(
            table=request.table,
            target=request.target,
            methods=[],
            features=request.features,
            params={} if request.method == "auto" else {request.method: dict(request.params)},
            cv_folds=request.cv_folds,
            test_size=request.test_size,
            seed=request.seed,
            class_weight=request.class_weight,
            dedupe=request.dedupe,
        )
        self.compare_dialog = CompareDialog(self.ctx, base, self)
        if request.method != "auto":
            self.compare_dialog.check_method(request.method)
        self.compare_dialog.model_kept.connect(lambda name: self.ctx.navigate_requested.emit("catalog", name))
        self.compare_dialog.show()
        return self.compare_dialog

    def cancel_training(self) -> None:
        self.status.cancel()

    def _on_trained(self, record: ModelRecord) -> None:
        self.last_model = record
        accuracy = record.metrics.get("accuracy")
        score = f" — accuracy {accuracy:.3f}" if isinstance(accuracy, (int, float)) else ""
        warnings = model_notes(record).warnings
        warned = f"; {plural(len(warnings), 'warning')}, see the catalog" if warnings else ""
        self.status.show_success(f"Trained {record.name}{score}{warned}.")
        if record.training_table != record.source_table:
            self.ctx.tables_changed.emit()
        self.ctx.models_changed.emit(record.name)
        self.ctx.navigate_requested.emit("catalog", record.name)

    def _on_train_finished(self) -> None:
        self._train_job = None
        self._update_enabled()


if __name__ == "__main__":
    from snowml_desktop.ui.panels.base import preview

    raise SystemExit(preview(TrainPanel))
