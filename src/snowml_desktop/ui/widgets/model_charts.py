"""Charts that judge a model: confusion matrix, ROC/PR curves, feature importance, a top-N metric chart,
and the scoring timing graph (seconds and credits against warehouse size).

Every chart keeps handles to its plot items and updates them with ``setData``/``setOpts``; each exposes
what it currently shows (``counts()``, ``points()`` ...) so tests can check the numbers on screen.
Inputs are the JSON shapes of ``core.records`` (``ModelRecord``/``InferenceRun`` fields).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QWidget

from snowml_desktop.core.records import RUN_SUCCEEDED, InferenceRun
from snowml_desktop.core.sizes import SIZES, parse_size
from snowml_desktop.ui.widgets.charts import BarChart, ChartView, HeatmapChart, elide

__all__ = [
    "METRIC_LABELS",
    "ConfusionMatrixView",
    "CurvesView",
    "FeatureImportanceView",
    "TimingGraph",
    "TimingPoint",
    "TopModelsChart",
    "credits_text",
    "summarize_timings",
]

#: Catalog metric keys -> the names people read.
METRIC_LABELS: dict[str, str] = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "roc_auc": "ROC AUC",
    "average_precision": "Average precision",
    "f1_macro": "F1 (macro)",
    "f1_weighted": "F1 (weighted)",
    "precision_macro": "Precision (macro)",
    "recall_macro": "Recall (macro)",
}

_SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def credits_text(credits: float) -> str:
    """Credits as people read them: ``0.0017``, ``1.25``, ``< 0.0001`` (never ``8.2e-05``)."""
    if credits == 0:
        return "0"
    if abs(credits) < 0.0001:
        return "< 0.0001"
    return f"{credits:.4f}" if abs(credits) < 1 else f"{credits:,.2f}"


def _colour(index: int) -> QColor:
    return QColor(_SERIES_COLOURS[index % len(_SERIES_COLOURS)])


# --- confusion matrix ---------------------------------------------------------------------------------


class ConfusionMatrixView(HeatmapChart):
    """n × n heatmap: rows = true class, columns = predicted class. Each cell shows its count and its share
    of the row (recall on the diagonal); colour is the row share, so small classes read as well as big ones."""

    def __init__(self, parent: QWidget | None = None, *, title: str = "Confusion matrix") -> None:
        super().__init__(parent, title=title, colormap="CET-L12")
        self._counts: list[list[int]] = []
        self.plot_widget.setMinimumSize(240, 180)

    def set_confusion(self, matrix: Sequence[Sequence[int]] | None, classes: Sequence[Any] | None) -> None:
        """Show ``matrix`` (rows true, columns predicted, in ``classes`` order); None or empty shows a note."""
        if not matrix or not classes:
            self._counts = []
            self.set_matrix([], [], [], empty_message="No confusion matrix (the data had no labels)")
            return
        counts = np.asarray(matrix, dtype=float)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0) * 100.0
        self._counts = [[int(v) for v in row] for row in matrix]
        labels = [str(c) for c in classes]
        texts = [
            [f"{self._counts[i][j]:,}\n{shares[i, j]:.1f}%" for j in range(len(labels))]
            for i in range(len(labels))
        ]
        self.set_matrix(
            shares.tolist(),
            labels,
            labels,
            levels=(0.0, 100.0),
            cell_text=texts,
            value_title="Share of true class (%)",
            x_title="Predicted class",
            y_title="True class",
        )
        self._fit_left_axis([elide(label, 14) for label in labels])

    def _fit_left_axis(self, names: list[str]) -> None:
        # pyqtgraph drops tick labels wider than the axis and grows it only after a paint: size it now.
        axis = self.plot_item.getAxis("left")
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        label_space = int(axis.label.boundingRect().height()) if axis.label.isVisible() else 0
        axis.setWidth(max(metrics.horizontalAdvance(n) for n in names) + 16 + label_space)

    def counts(self) -> list[list[int]]:
        """The counts as drawn, parsed back from the cell labels (row by row)."""
        n = len(self._counts)
        cells = [int(text.split()[0].replace(",", "")) for text in self.cell_texts()]
        return [cells[i * n : (i + 1) * n] for i in range(n)]


# --- ROC and PR curves ----------------------------------------------------------------------------------


class CurvesView(QWidget):
    """ROC and precision-recall curves side by side, one line per class (binary: the positive class)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roc = ChartView(self, title="ROC curve")
        self.pr = ChartView(self, title="Precision-recall curve")
        self.roc.set_axis_titles(x="False positive rate", y="True positive rate")
        self.pr.set_axis_titles(x="Recall", y="Precision")
        for chart in (self.roc, self.pr):
            chart.plot_item.setRange(xRange=(0, 1), yRange=(0, 1.02), padding=0.02)
            chart.plot_item.showGrid(x=True, y=True, alpha=0.15)
            chart.plot_widget.setMinimumSize(200, 160)
        chance = pg.PlotDataItem([0, 1], [0, 1], pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self.roc.plot_item.addItem(chance)
        self._legends = {
            "roc": self.roc.plot_item.addLegend(offset=(-10, -10), labelTextColor=self.roc._fg),
            "pr": self.pr.plot_item.addLegend(offset=(10, -10), labelTextColor=self.pr._fg),
        }
        self._lines: dict[str, list[pg.PlotDataItem]] = {"roc": [], "pr": []}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.roc)
        layout.addWidget(self.pr)
        self.set_curves(None)

    def set_curves(self, curves: dict[str, Any] | None) -> None:
        """``curves`` as in ``ModelRecord.curves``; None or empty shows why there is nothing to draw."""
        curves = curves or {}
        self._fill("roc", self.roc, curves.get("roc") or [], "fpr", "tpr", "auc", "AUC")
        self._fill("pr", self.pr, curves.get("pr") or [], "recall", "precision", "ap", "AP")

    def _fill(
        self,
        kind: str,
        chart: ChartView,
        entries: list[dict[str, Any]],
        x: str,
        y: str,
        score: str,
        score_name: str,
    ) -> None:
        legend, lines = self._legends[kind], self._lines[kind]
        while len(lines) > len(entries):
            line = lines.pop()
            chart.plot_item.removeItem(line)
            legend.removeItem(line)
        if not entries:
            chart.show_message("No curve: the model gives no class probabilities")
            return
        for index, entry in enumerate(entries):
            value = entry.get(score)
            value_text = f"{value:.3f}" if isinstance(value, (int, float)) else "n/a"
            name = f"{elide(str(entry.get('label')), 20)} ({score_name} {value_text})"
            if index < len(lines):
                # Reused, not rebuilt: a new line and legend entry relayout the chart (~0.1 s of GUI stall
                # when a trained model is shown, bench_gui_stall.py --stacks).
                lines[index].setData(entry.get(x) or [], entry.get(y) or [], name=name)
                legend.getLabel(lines[index]).setText(name)
                continue
            line = pg.PlotDataItem(
                entry.get(x) or [], entry.get(y) or [], pen=pg.mkPen(_colour(index), width=2), name=name
            )
            chart.plot_item.addItem(line)
            lines.append(line)
        chart._show_plot()

    def line_count(self) -> tuple[int, int]:
        """(ROC lines, PR lines) drawn."""
        return len(self._lines["roc"]), len(self._lines["pr"])


# --- bars -------------------------------------------------------------------------------------------------


class FeatureImportanceView(BarChart):
    """Permutation importance on the test split, largest first, labelled with ± one standard deviation."""

    def __init__(self, parent: QWidget | None = None, *, limit: int = 15) -> None:
        super().__init__(parent, title="Feature importance", value_title="Drop in score when shuffled")
        self._limit = limit
        self.plot_item.getAxis("bottom").enableAutoSIPrefix(False)

    def set_importance(self, importance: list[dict[str, Any]] | None) -> None:
        rows = sorted(importance or [], key=lambda r: r.get("importance") or 0.0, reverse=True)[: self._limit]
        values = [float(r.get("importance") or 0.0) for r in rows]
        texts = [f" {v:.3f} ± {float(r.get('std') or 0.0):.3f}" for v, r in zip(values, rows, strict=True)]
        self.set_bars(
            [str(r.get("feature")) for r in rows], values, texts=texts, empty_message="No feature importance"
        )
        # Room for the "value ± std" labels beyond the longest bar (negative bars label right of zero).
        if values:
            low, high = min(0.0, *values), max(0.0, *values)
            extent = (high - low) or 1.0
            self.plot_item.setXRange(low - 0.02 * extent, high + 0.45 * extent, padding=0)


class TopModelsChart(BarChart):
    """The best ``limit`` models by one metric (models without the metric are left out)."""

    def __init__(self, parent: QWidget | None = None, *, limit: int = 5) -> None:
        # Names elided (the tooltip lists them in full) so that the chart reads in a narrow pane.
        super().__init__(parent, title=f"Top {limit} models", value_title="Score", label_chars=16)
        self._limit = limit

    def set_models(self, models: Sequence[Any], metric: str, *, flagged: set[str] | None = None) -> None:
        """``models``: objects with ``name`` and ``metrics`` (``ModelRecord``). Models named in ``flagged``
        (a leakage warning: their test score flatters them) are marked ⚠ and ranked after the others."""
        flagged = flagged or set()
        scored = [
            (m.name, m.metrics.get(metric)) for m in models if isinstance(m.metrics.get(metric), (int, float))
        ]
        scored.sort(key=lambda pair: (pair[0] in flagged, -pair[1]))
        scored = scored[: self._limit]
        label = METRIC_LABELS.get(metric, metric)
        self.set_title(f"Top {self._limit}")  # the metric is the axis title
        self.set_axis_titles(x=label)
        self.set_bars(
            [f"⚠ {n}" if n in flagged else n for n, _ in scored],
            [float(v) for _, v in scored],
            texts=[f" {v:.3f}" for _, v in scored],
            empty_message=f"No model has {label} yet",
        )
        if scored:
            self.plot_item.setXRange(*_zoomed_range([v for _, v in scored]), padding=0)


def _zoomed_range(values: Sequence[float]) -> tuple[float, float]:
    """A value range starting a bit below the lowest score, so close scores (0.977 vs 0.995) differ
    visibly, with room on the right for the printed values."""
    low, high = min(values), max(values)
    margin = max((high - low) * 0.6, abs(high) * 0.01, 1e-3)
    start = max(low - margin, 0.0) if low >= 0 else low - margin
    return start, high + (high - start) * 0.3


# --- timing graph -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingPoint:
    """Median figures of the successful runs at one warehouse size."""

    size: str  # label, e.g. "X-Small"
    index: int  # position in SIZES
    runs: int
    total_seconds: float
    scoring_seconds: float
    credits: float


def summarize_timings(runs: Sequence[InferenceRun]) -> list[TimingPoint]:
    """One point per warehouse size (medians over successful runs), smallest size first."""
    by_size: dict[int, list[InferenceRun]] = {}
    for run in runs:
        if run.status != RUN_SUCCEEDED:
            continue
        try:
            size = parse_size(run.warehouse_size)
        except Exception:  # an unknown size name in old rows: leave the run out rather than fail the view
            continue
        by_size.setdefault(size.index, []).append(run)
    return [
        TimingPoint(
            size=SIZES[index].label,
            index=index,
            runs=len(group),
            total_seconds=statistics.median(r.total_seconds for r in group),
            scoring_seconds=statistics.median(r.scoring_seconds for r in group),
            credits=statistics.median(r.credits for r in group),
        )
        for index, group in sorted(by_size.items())
    ]


_HEADROOM = 1.35


class TimingGraph(ChartView):
    """Total and scoring seconds against warehouse size (left axis), credits on the right axis; the cheapest
    and the fastest sizes are marked and named."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Scoring time and cost by warehouse size")
        plot = self.plot_item
        self.set_axis_titles(x="Warehouse size", y="Seconds")
        plot.showAxis("right")
        right = plot.getAxis("right")
        right.setLabel("Credits", color=self._fg.name())
        right.enableAutoSIPrefix(False)
        # Sizes are ticks at 0, 1, 2 …; seconds are seconds: no "(x0.001)" scaling on a narrow range.
        for name in ("bottom", "left"):
            plot.getAxis(name).enableAutoSIPrefix(False)
        plot.showGrid(y=True, alpha=0.15)
        # Credits get their own view box, linked on x, drawn against the right axis.
        self._credits_box = pg.ViewBox()
        self._credits_box.setMouseEnabled(x=False, y=False)
        plot.scene().addItem(self._credits_box)
        right.linkToView(self._credits_box)
        self._credits_box.setXLink(plot)
        plot.getViewBox().sigResized.connect(self._sync_boxes)
        # The legend sits below the plot, so it never hides a point.
        legend = pg.LegendItem(colCount=3, labelTextColor=self._fg)
        plot.layout.addItem(legend, 4, 1)
        self._total = plot.plot([], [], pen=pg.mkPen(_colour(0), width=2), symbol="o", symbolBrush=_colour(0))
        self._scoring = plot.plot(
            [], [], pen=pg.mkPen(_colour(1), width=2), symbol="s", symbolBrush=_colour(1)
        )
        self._credits = pg.PlotDataItem(
            [],
            [],
            pen=pg.mkPen(_colour(2), width=2, style=Qt.PenStyle.DashLine),
            symbol="t",
            symbolBrush=_colour(2),
        )
        self._credits_box.addItem(self._credits)
        # The recommendation's forecast for every size: dotted, so measured points stay the solid ones.
        dotted = Qt.PenStyle.DotLine
        self._forecast_seconds = plot.plot([], [], pen=pg.mkPen(_colour(0), width=2, style=dotted))
        self._forecast_credits = pg.PlotDataItem([], [], pen=pg.mkPen(_colour(2), width=2, style=dotted))
        self._credits_box.addItem(self._forecast_credits)
        self._forecast: list[Any] = []
        self._cheapest = pg.ScatterPlotItem(
            size=18, symbol="o", pen=pg.mkPen(_colour(2), width=3), brush=None
        )
        self._fastest = pg.ScatterPlotItem(
            size=18, symbol="star", pen=pg.mkPen(_colour(3), width=2), brush=None
        )
        self._credits_box.addItem(self._cheapest)
        plot.addItem(self._fastest)
        legend.addItem(self._total, "Total seconds")
        legend.addItem(self._scoring, "Scoring seconds")
        legend.addItem(self._credits, "Credits (right axis)")
        legend.addItem(self._cheapest, "Cheapest")
        legend.addItem(self._fastest, "Fastest")
        legend.addItem(self._forecast_seconds, "Forecast seconds")
        legend.addItem(self._forecast_credits, "Forecast credits")
        self._notes: list[pg.TextItem] = []
        self._points: list[TimingPoint] = []
        self.plot_widget.setMinimumSize(320, 200)
        self.set_points([])

    def _show_forecast_only(self) -> None:
        self._cheapest.setData([], [])
        self._fastest.setData([], [])
        indexes = [f.size.index for f in self._forecast]
        low, high = min(indexes), max(indexes)
        self.plot_item.getAxis("bottom").setTicks([[(float(s.index), s.label) for s in SIZES[low : high + 1]]])
        top_seconds = max(f.seconds for f in self._forecast) or 1.0
        top_credits = max(f.credits.total for f in self._forecast) or 1.0
        self.plot_item.setRange(xRange=(low - 0.5, high + 0.5), yRange=(0, top_seconds * _HEADROOM), padding=0)
        self._credits_box.setRange(yRange=(0, top_credits * _HEADROOM), padding=0)
        self._show_plot()
        self._sync_boxes()

    def _sync_boxes(self) -> None:
        view = self.plot_item.getViewBox()
        self._credits_box.setGeometry(view.sceneBoundingRect())
        self._credits_box.linkedViewChanged(view, self._credits_box.XAxis)

    def set_runs(self, runs: Sequence[InferenceRun]) -> None:
        """Plot one point per size from ``runs`` (failed and cancelled runs are left out)."""
        self.set_points(summarize_timings(runs))

    def set_forecast(self, forecasts: Sequence[Any]) -> None:
        """Draw ``core.recommend.SizeForecast``s (predicted seconds and billed credits per size) dotted."""
        self._forecast = list(forecasts)
        xs = [float(f.size.index) for f in self._forecast]
        self._forecast_seconds.setData(xs, [f.seconds for f in self._forecast])
        self._forecast_credits.setData(xs, [f.credits.total for f in self._forecast])
        self.set_points(self._points)

    def forecast(self) -> list[tuple[str, float, float]]:
        """(size, seconds, credits) of the forecast as drawn, for tests."""
        return [(f.size.label, f.seconds, f.credits.total) for f in self._forecast]

    def set_points(self, points: list[TimingPoint]) -> None:
        plot = self.plot_item
        for note in self._notes:
            plot.removeItem(note)
        self._notes = []
        self._points = list(points)
        xs = [float(p.index) for p in points]
        self._total.setData(xs, [p.total_seconds for p in points])
        self._scoring.setData(xs, [p.scoring_seconds for p in points])
        self._credits.setData(xs, [p.credits for p in points])
        if not points and self._forecast:
            self._show_forecast_only()
            return
        if not points:
            self._cheapest.setData([], [])
            self._fastest.setData([], [])
            self.show_message("No successful runs yet for this model and table.\nRun, or use Compare sizes.")
            return
        cheapest, fastest = _cheapest(points), _fastest(points)
        self._cheapest.setData([float(cheapest.index)], [cheapest.credits])
        self._fastest.setData([float(fastest.index)], [fastest.total_seconds])
        indexes = [p.index for p in points] + [f.size.index for f in self._forecast]
        low, high = min(indexes), max(indexes)
        plot.getAxis("bottom").setTicks([[(float(s.index), s.label) for s in SIZES[low : high + 1]]])
        top_seconds = max([p.total_seconds for p in points] + [f.seconds for f in self._forecast]) or 1.0
        top_credits = max([p.credits for p in points] + [f.credits.total for f in self._forecast]) or 1.0
        # Head room above the highest point keeps the notes clear of the frame.
        plot.setRange(xRange=(low - 0.5, high + 0.5), yRange=(0, top_seconds * _HEADROOM), padding=0)
        self._credits_box.setRange(yRange=(0, top_credits * _HEADROOM), padding=0)
        # Notes go above their point (a note below the lowest point would leave the plot); one note when
        # the fastest size is also the cheapest.
        if cheapest.index == fastest.index:
            text = f"fastest & cheapest: {fastest.total_seconds:.2f} s, {credits_text(cheapest.credits)} cr"
            self._note(text, fastest.index, fastest.total_seconds, _colour(3))
        else:
            self._note(
                f"fastest: {fastest.total_seconds:.2f} s", fastest.index, fastest.total_seconds, _colour(3)
            )
            # Credits live on the other axis: place the note in seconds units at the same relative height.
            cheap_y = cheapest.credits / top_credits * top_seconds
            self._note(f"cheapest: {credits_text(cheapest.credits)} cr", cheapest.index, cheap_y, _colour(2))
        self._show_plot()
        self._sync_boxes()

    def _note(self, text: str, x: float, y: float, colour: QColor) -> None:
        # Centred over its point, but kept inside the plot at the first and last size.
        xs = [p.index for p in self._points]
        horizontal = 0.0 if x == min(xs) and len(xs) > 1 else 1.0 if x == max(xs) and len(xs) > 1 else 0.5
        # On a backing of the plot's own colour, so a line passing behind never runs through the text.
        backing = QColor(self.plot_widget.backgroundBrush().color())
        backing.setAlpha(225)
        note = pg.TextItem(text, color=colour, anchor=(horizontal, 1.4), fill=pg.mkBrush(backing))
        note.setPos(x, y)
        self.plot_item.addItem(note, ignoreBounds=True)
        self._notes.append(note)

    def points(self) -> list[TimingPoint]:
        return list(self._points)

    def notes(self) -> list[pg.TextItem]:
        """The cheapest/fastest notes as drawn."""
        return list(self._notes)

    def marked(self) -> tuple[str | None, str | None]:
        """(cheapest size, fastest size) labels, None when there are no points."""
        if not self._points:
            return None, None
        return _cheapest(self._points).size, _fastest(self._points).size


def _cheapest(points: Sequence[TimingPoint]) -> TimingPoint:
    return min(points, key=lambda p: (p.credits, p.total_seconds))


def _fastest(points: Sequence[TimingPoint]) -> TimingPoint:
    return min(points, key=lambda p: (p.total_seconds, p.credits))
