"""The Threshold tab of a binary model: precision, recall, F1 (and cost) against the decision threshold on the
held-out rows, the confusion matrix live at the chosen point, presets, and Save / Clear.

The view computes nothing itself (``core.threshold`` does) and writes nothing: Save emits
``save_requested(threshold)`` (None for Clear) and the panel runs the engine call as a job.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core import threshold as th
from snowml_desktop.core.records import ModelRecord
from snowml_desktop.ui.widgets.charts import ChartView
from snowml_desktop.ui.widgets.model_charts import ConfusionMatrixView

__all__ = ["ThresholdChart", "ThresholdView"]

PRESET_LABELS = {
    "default": "Default (0.5)",
    "max_f1": "Best F1",
    "max_balanced_accuracy": "Best balanced accuracy",
    "target_recall": "Reach a recall of…",
    "min_cost": "Lowest cost…",
}
_LINES = (("precision", "Precision", "#1f77b4"), ("recall", "Recall", "#ff7f0e"), ("f1", "F1", "#2ca02c"))


class ThresholdChart(ChartView):
    """Precision, recall and F1 against the threshold, with a draggable line at the chosen threshold."""

    moved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Metrics on the held-out rows by threshold")
        self.set_axis_titles(x="Threshold (probability of the positive class)", y="Value")
        legend = self.plot_item.addLegend(labelTextColor=self._fg)
        legend.anchor(itemPos=(0.5, 0.5), parentPos=(0.5, 0.55))  # the middle stays clear of the curves
        self._lines: dict[str, pg.PlotDataItem] = {}
        for key, label, colour in _LINES:
            self._lines[key] = self.plot_item.plot([], [], pen=pg.mkPen(colour, width=2), name=label)
        self._cost = self.plot_item.plot([], [], pen=pg.mkPen("#9467bd", width=2, style=Qt.PenStyle.DashLine))
        legend.addItem(self._cost, "Cost (scaled to 0–1)")
        self.marker = pg.InfiniteLine(angle=90, movable=True, bounds=(0, 1), pen=pg.mkPen(self._fg, width=2))
        self.marker.sigPositionChangeFinished.connect(lambda line: self.moved.emit(float(line.value())))
        self.plot_item.addItem(self.marker)
        self.plot_item.setRange(xRange=(0, 1), yRange=(0, 1.02), padding=0.02)

    def set_points(self, points: list[th.ThresholdPoint], costs: th.Costs | None) -> None:
        if not points:
            self.show_message("No held-out scores to draw.")
            return
        xs = [min(max(p.threshold, 0.0), 1.0) for p in points]
        for key, _label, _colour in _LINES:
            self._lines[key].setData(xs, [getattr(p, key) for p in points])
        if costs is not None:
            values = [p.cost(costs) for p in points]
            top = max(values) or 1.0
            self._cost.setData(xs, [v / top for v in values])
        else:
            self._cost.setData([], [])
        self._show_plot()

    def set_threshold(self, value: float) -> None:
        self.marker.blockSignals(True)
        self.marker.setValue(value)
        self.marker.blockSignals(False)

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """The x and y values drawn for ``key`` ("precision", "recall", "f1"), for tests."""
        x, y = self._lines[key].getData()
        return ([] if x is None else list(x)), ([] if y is None else list(y))


class ThresholdView(QWidget):
    """Everything the Threshold tab shows for one model; ``save_requested`` carries the threshold to save."""

    save_requested = Signal(object)  # float, or None to clear

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._record: ModelRecord | None = None
        self._scores: dict | None = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.chart = ThresholdChart()
        self.chart.setObjectName("threshold.chart")
        self.chart.setAccessibleName("Metrics by threshold")
        self.matrix = ConfusionMatrixView(title="At the chosen threshold")
        self.matrix.setObjectName("threshold.matrix")
        self.matrix.setAccessibleName("Confusion matrix at the chosen threshold")
        self.value = self._spin("threshold.value", "Threshold", 0.0, 1.0, 0.5, 0.01, 6)  # kept scores have 6
        self.preset = QComboBox()
        self.preset.setObjectName("threshold.preset")
        self.preset.setAccessibleName("Threshold preset")
        for key, label in PRESET_LABELS.items():
            self.preset.addItem(label, key)
        self.target_recall = self._spin("threshold.recall", "Target recall", 0.01, 1.0, 0.9, 0.01, 2)
        self.cost_fp = self._spin("threshold.cost_fp", "Cost of a false positive", 0.0, 1e6, 1.0, 1.0, 2)
        self.cost_fn = self._spin("threshold.cost_fn", "Cost of a false negative", 0.0, 1e6, 5.0, 1.0, 2)
        self.apply_preset = self._button("threshold.apply", "Apply preset", self._on_apply_preset)
        self.save = self._button("threshold.save", "Save threshold", self._on_save)
        self.clear = self._button("threshold.clear", "Clear", self._on_clear)
        self.clear.setToolTip("Forget the saved threshold: rows get their most probable class again.")
        self.figures = QLabel()
        self.figures.setObjectName("threshold.figures")
        self.figures.setAccessibleName("Metrics at the chosen threshold")
        self.figures.setWordWrap(True)
        self._layout()
        self.value.valueChanged.connect(self._on_value)
        self.chart.moved.connect(self.value.setValue)
        self.preset.currentIndexChanged.connect(self._on_preset_changed)
        for spin in (self.cost_fp, self.cost_fn):
            spin.valueChanged.connect(self._redraw_costs)
        self._on_preset_changed()
        self.set_model(None)

    def _spin(self, name: str, label: str, low: float, high: float, value: float, step: float, decimals: int):
        spin = QDoubleSpinBox()
        spin.setObjectName(name)
        spin.setAccessibleName(label)
        spin.setRange(low, high)
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setValue(value)
        return spin

    def _button(self, name: str, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    def _layout(self) -> None:
        form = self._form = QFormLayout()
        form.addRow("Threshold", self.value)
        form.addRow("Preset", self.preset)
        form.addRow("Target recall", self.target_recall)
        form.addRow("Cost of a false positive", self.cost_fp)
        form.addRow("Cost of a false negative", self.cost_fn)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_preset)
        buttons.addStretch(1)
        controls = QVBoxLayout()
        controls.addLayout(form)
        controls.addLayout(buttons)
        controls.addWidget(self.figures)
        saving = QHBoxLayout()
        saving.addWidget(self.save)
        saving.addWidget(self.clear)
        controls.addLayout(saving)
        controls.addStretch(1)
        side = QWidget()
        side.setLayout(controls)
        # The controls scroll rather than set the tab's height: the catalog fits 1024 x 700 with them.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(side)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(300)  # the form whole; the chart and the matrix give way first
        self.matrix.plot_widget.setMinimumSize(180, 120)
        # Side by side, so the tab is no taller than the other catalog tabs (the catalog fits 1024 x 700).
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.chart)
        split.addWidget(scroll)
        split.addWidget(self.matrix)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.note)
        outer.addWidget(split, 1)

    # --- state ---------------------------------------------------------------------------------------
    def set_model(self, record: ModelRecord | None) -> None:
        """Show ``record``'s held-out scores and saved threshold; a multiclass or older model says why not."""
        self._record = record
        self._scores = (record.curves or {}).get("scores") if record is not None else None
        usable = self._scores is not None
        for widget in (self.value, self.preset, self.apply_preset, self.save, self.target_recall):
            widget.setEnabled(usable)
        self.cost_fp.setEnabled(usable)
        self.cost_fn.setEnabled(usable)
        self.clear.setEnabled(record is not None and record.threshold is not None)
        if record is None:
            self.note.setText("Choose a model.")
        elif not usable:
            self.note.setText(
                "A decision threshold applies to binary models trained by this version: "
                + ("this model has more than two classes." if len(record.classes) != 2 else "train it again.")
            )
        else:
            saved = (
                "rows get the most probable class"
                if record.threshold is None
                else f"saved threshold {record.threshold:.4g}, used by every scoring run"
            )
            self.note.setText(
                f"Positive class {self._scores['positive']!r} on {len(self._scores['truth']):,} held-out rows; "
                f"{saved}."
            )
        if not usable:
            self.chart.show_message("No held-out scores for this model.")
            self.matrix.set_confusion(None, None)
            self.figures.setText("")
            return
        self._redraw_costs()
        self.value.setValue(record.threshold if record.threshold is not None else 0.5)
        self._on_value(self.value.value())

    def _costs(self) -> th.Costs | None:
        if self.preset.currentData() != "min_cost":
            return None
        return th.Costs(false_positive=self.cost_fp.value(), false_negative=self.cost_fn.value())

    def _redraw_costs(self, *_: object) -> None:
        if self._scores is not None:
            self.chart.set_points(th.sweep(self._scores), self._costs())
            self._on_value(self.value.value())

    def _on_preset_changed(self, *_: object) -> None:
        key = self.preset.currentData()
        self._form.setRowVisible(self.target_recall, key == "target_recall")
        self._form.setRowVisible(self.cost_fp, key == "min_cost")
        self._form.setRowVisible(self.cost_fn, key == "min_cost")
        self._redraw_costs()

    def _on_apply_preset(self) -> None:
        if self._scores is None:
            return
        point = th.choose(
            self._scores,
            self.preset.currentData(),
            target_recall=self.target_recall.value(),
            costs=self._costs(),
        )
        self.value.setValue(min(max(point.threshold, 0.0), 1.0))

    def _on_value(self, value: float) -> None:
        if self._scores is None:
            return
        self.chart.set_threshold(value)
        point = th.at(self._scores, value)
        self.matrix.set_confusion(point.confusion_matrix(), self._record.classes if self._record else None)
        text = (
            f"At {value:.4g}: precision {point.precision:.3f}, recall {point.recall:.3f}, F1 {point.f1:.3f}, "
            f"balanced accuracy {point.balanced_accuracy:.3f}"
        )
        costs = self._costs()
        if costs is not None:
            text += f", cost {point.cost(costs):,.2f}"
        self.figures.setText(text + ".")

    def _on_save(self) -> None:
        self.save_requested.emit(float(self.value.value()))

    def _on_clear(self) -> None:
        self.save_requested.emit(None)
