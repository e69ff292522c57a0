"""Compare methods: several methods on the same folds (or one split) of a table in one background job, a table
of mean ± std per metric, overlaid ROC and PR curves, and any row kept as a catalog model.

The Train Model panel opens it with the table, target, features and options of its form; the dialog asks the
engine (``Engine.compare`` / ``Engine.train``) through jobs and holds no logic of its own.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.compare import METRICS
from snowml_desktop.core.methods import METHODS
from snowml_desktop.engines.base import CompareRequest
from snowml_desktop.ui.widgets.job_status import JobStatus
from snowml_desktop.ui.widgets.model_charts import METRIC_LABELS, CurvesView

if TYPE_CHECKING:
    from snowml_desktop.core.compare import Comparison
    from snowml_desktop.ui.context import AppContext

__all__ = ["CompareDialog"]

DEFAULT_METHODS = ("logistic_regression", "random_forest", "gradient_boosting")
_SHORT = {"balanced_accuracy": "Bal. accuracy", "average_precision": "AP", "f1_macro": "F1 (macro)"}
_HEADERS = ("Method", *(_SHORT.get(m, METRIC_LABELS.get(m, m)) for m in METRICS), "Fit time")


class CompareDialog(QDialog):
    """``model_kept(name)`` is emitted after a compared method was trained into the catalog."""

    model_kept = Signal(str)

    def __init__(self, ctx: AppContext, base: CompareRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._base = base
        self._comparison: Comparison | None = None
        self._request: CompareRequest | None = None
        self.setObjectName("compare_dialog")
        self.setWindowTitle("Compare methods")
        self.heading = QLabel(
            f"Every chosen method is fitted and tested on the same rows of {base.table} (target {base.target})."
        )
        self.heading.setWordWrap(True)
        self.methods = QListWidget()
        self.methods.setObjectName("compare.methods")
        self.methods.setAccessibleName("Methods to compare")
        for key, spec in METHODS.items():
            if key == "auto":
                continue
            item = QListWidgetItem(spec.label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setCheckState(Qt.CheckState.Checked if key in DEFAULT_METHODS else Qt.CheckState.Unchecked)
            self.methods.addItem(item)
        self.methods.setMaximumWidth(230)
        self.folds = QSpinBox()
        self.folds.setObjectName("compare.folds")
        self.folds.setAccessibleName("Cross-validation folds (0: one test split)")
        self.folds.setRange(0, 20)
        self.folds.setValue(base.cv_folds if base.cv_folds >= 2 else 5)
        self.folds.setSpecialValueText(f"One {base.test_size:g} test split")
        self.run_button = self._button("compare.run", "Compare", self._on_run)
        self.keep_button = self._button("compare.keep", "Keep selected as a model", self._on_keep)
        self.keep_button.setEnabled(False)
        self.status = JobStatus("compare.job", "Comparison")
        self.table = QTableWidget(0, len(_HEADERS))
        self.table.setObjectName("compare.results")
        self.table.setAccessibleName("Comparison results")
        self.table.setHorizontalHeaderLabels(list(_HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the rest keep their figures whole
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.curves = CurvesView()
        self.curves.setObjectName("compare.curves")
        self.curves.setAccessibleName("ROC and PR curves of the compared methods")
        self._layout()
        self.resize(1000, 640)

    def _button(self, name: str, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("Methods"))
        left.addWidget(self.methods, 1)
        left.addWidget(QLabel("Folds"))
        left.addWidget(self.folds)
        left.addWidget(self.run_button)
        side = QWidget()
        side.setLayout(left)
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(self.table)
        results.addWidget(self.curves)
        body = QHBoxLayout()
        body.addWidget(side)
        body.addWidget(results, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.keep_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addLayout(bottom)

    # --- running -------------------------------------------------------------------------------------
    def check_method(self, key: str) -> None:
        """Tick ``key`` in the methods list (the Train form's method is compared too)."""
        for i in range(self.methods.count()):
            if self.methods.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.methods.item(i).setCheckState(Qt.CheckState.Checked)

    def chosen_methods(self) -> list[str]:
        items = (self.methods.item(i) for i in range(self.methods.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    def _on_run(self) -> None:
        request = dataclasses.replace(self._base, methods=self.chosen_methods(), cv_folds=self.folds.value())
        self._request = request
        handle = self.ctx.run(
            "Compare methods", lambda engine, task: engine.compare(request, task=task), key="train.compare"
        )
        self.status.track(handle, f"Comparing {len(request.methods)} methods")
        self.run_button.setEnabled(False)
        handle.succeeded.connect(self._on_compared)
        handle.failed.connect(lambda error: self.status.show_error(error, "The comparison failed: "))
        handle.cancelled.connect(lambda: self.status.show_note("Comparison cancelled; nothing was kept."))
        handle.finished.connect(lambda: self.run_button.setEnabled(True))

    def _on_compared(self, comparison: Comparison) -> None:
        self._comparison = comparison
        setting = f"the same {comparison.folds} folds" if comparison.folds else "one test split"
        self.status.show_success(
            f"{len(comparison.results)} methods on {setting} of {comparison.rows:,} rows."
        )
        self.table.setRowCount(len(comparison.results))
        for row, result in enumerate(comparison.results):
            cells = [result.label]
            for metric in METRICS:
                figure = result.metrics.get(metric) or {}
                cells.append(
                    "–" if figure.get("mean") is None else f"{figure['mean']:.3f} ± {figure['std']:.3f}"
                )
            cells.append(f"{result.fit_seconds:.1f} s" if result.error is None else result.error)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        best = comparison.best()
        if best is not None:
            self.table.selectRow(comparison.results.index(best))
        self.curves.setVisible(len(comparison.classes) == 2)  # multiclass curves stay per model
        self.curves.set_curves(_overlaid(comparison))

    def _on_selection(self) -> None:
        result = self._selected()
        self.keep_button.setEnabled(result is not None and result.error is None)

    def _selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self._comparison is None:
            return None
        return self._comparison.results[rows[0].row()]

    def _on_keep(self) -> None:
        result, request = self._selected(), self._request
        if result is None or request is None:
            return
        train = request.train_request(result.method)
        handle = self.ctx.run(
            f"Train {result.label}", lambda engine, task: engine.train(train, task=task), writes=train.table
        )
        self.status.track(handle, f"Training {result.label} on the compared setting")
        handle.succeeded.connect(self._on_kept)
        handle.failed.connect(lambda error: self.status.show_error(error, f"{result.label} was not kept: "))

    def _on_kept(self, record: Any) -> None:
        self.status.show_success(f"Kept as {record.name} in the Model Catalog.")
        self.ctx.models_changed.emit(record.name)
        self.model_kept.emit(record.name)


def _overlaid(comparison: Comparison) -> dict[str, list]:
    """One ROC and one PR line per method (binary targets; multiclass curves stay per model in the catalog)."""
    if len(comparison.classes) != 2:
        return {}
    curves: dict[str, list] = {"roc": [], "pr": []}
    for result in comparison.results:
        for kind in ("roc", "pr"):
            for entry in result.curves.get(kind, [])[:1]:
                curves[kind].append({**entry, "label": result.label})
    return curves
