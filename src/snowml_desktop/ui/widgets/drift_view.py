"""The Drift tab: features by PSI with the usual 0.1 / 0.25 bands, and, for the selected feature, its training
and checked-table shares overlaid bin by bin.

Input is a ``core.drift.DriftReport`` (or the dict a run stores); the view computes nothing.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core.drift import DriftReport, FeatureDrift, failure_reason, report_from_json
from snowml_desktop.ui.widgets.charts import ChartView, elide
from snowml_desktop.ui.widgets.wrap_label import WrapLabel

__all__ = ["DriftDialog", "DriftView", "ShareComparisonChart"]

_BAND_TEXT = {"stable": "stable", "moderate": "moderate (≥ 0.1)", "high": "⚠ high (> 0.25)"}
_BAND_COLOUR = {"moderate": QColor(230, 160, 0, 60), "high": QColor(214, 39, 40, 70)}
_COLUMNS = ("Feature", "PSI", "Band", "KS", "Missing: training → now")
_TRAINING, _CHECKED = QColor("#1f77b4"), QColor("#ff7f0e")


class ShareComparisonChart(ChartView):
    """Training and checked-table shares of one feature's bins, side by side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, title="Shares by bin")
        self.set_axis_titles(y="Share of rows")
        self.plot_item.getAxis("left").enableAutoSIPrefix(False)
        legend = self.plot_item.addLegend(offset=(-10, 10), labelTextColor=self._fg)
        self._training = pg.BarGraphItem(x=[], height=[], width=0.38, brush=_TRAINING)
        self._checked = pg.BarGraphItem(x=[], height=[], width=0.38, brush=_CHECKED)
        self.plot_item.addItem(self._training)
        self.plot_item.addItem(self._checked)
        legend.addItem(self._training, "Training")
        legend.addItem(self._checked, "Checked table")
        self._shares: tuple[list[float], list[float]] = ([], [])

    def set_feature(self, feature: FeatureDrift | None) -> None:
        if feature is None or not feature.bins:
            self._shares = ([], [])
            self.show_message("Select a feature to compare its training and current shares.")
            return
        xs = list(range(len(feature.bins)))
        self._training.setOpts(x=[x - 0.2 for x in xs], height=feature.expected)
        self._checked.setOpts(x=[x + 0.2 for x in xs], height=feature.actual)
        self._shares = (list(feature.expected), list(feature.actual))
        axis = self.plot_item.getAxis("bottom")
        step = max(1, -(-len(xs) // 6))  # at most six labels, so they never overlap
        axis.setTicks([[(x, elide(feature.bins[x], 14)) for x in xs[::step]]])
        top = max([*feature.expected, *feature.actual, 0.01])
        self.plot_item.setRange(xRange=(-0.7, len(xs) - 0.3), yRange=(0, top * 1.25), padding=0)
        self.set_title(f"{feature.feature}: PSI {feature.psi:.3f} ({feature.band})")
        self._show_plot()

    def shares(self) -> tuple[list[float], list[float]]:
        """(training, checked) shares as drawn, for tests."""
        return self._shares


class DriftView(QWidget):
    """A drift report: a one-line verdict, the features table and the selected feature's bins."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = WrapLabel()  # names tables: a long one wraps rather than widening the window
        self.summary.setObjectName("drift.summary")
        self.summary.setAccessibleName("Drift verdict")
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("drift.features")
        self.table.setAccessibleName("Features by drift")
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in range(1, len(_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 150)  # long names are elided; the figures stay in view
        self.chart = ShareComparisonChart()
        self.chart.setObjectName("drift.chart")
        self.chart.setAccessibleName("Training and current shares of the selected feature")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        self._features: list[FeatureDrift] = []
        self.table.itemSelectionChanged.connect(self._on_selected)
        self.set_report(None)

    def set_report(
        self, report: DriftReport | dict[str, Any] | None, empty: str = "No drift check yet."
    ) -> None:
        """Show ``report`` (a run's stored dict is accepted); None shows ``empty`` instead, and a run's failed
        check its reason."""
        reason = failure_reason(report) if isinstance(report, dict) else None
        if reason is not None:
            report, empty = None, f"The drift check of this run failed: {reason}. The details are in the log."
        elif isinstance(report, dict):
            report = report_from_json(report)
        self._features = list(report.features) if report is not None else []
        self.table.setRowCount(len(self._features))
        for row, feature in enumerate(self._features):
            self._fill_row(row, feature)
        self.summary.setText(empty if report is None else self._verdict(report))
        self.summary.setToolTip(self.summary.text())
        if self._features:
            self.table.selectRow(0)
        else:
            self.chart.set_feature(None)

    def _fill_row(self, row: int, feature: FeatureDrift) -> None:
        ks = "–" if feature.ks is None else f"{feature.ks:.3f}"
        missing = f"{feature.missing_expected:.1%} → {feature.missing_actual:.1%}"
        cells = (elide(feature.feature, 24), f"{feature.psi:.3f}", _BAND_TEXT[feature.band], ks, missing)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 0:
                item.setToolTip(feature.feature)
            if column in (1, 3):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if feature.band in _BAND_COLOUR:
                item.setBackground(_BAND_COLOUR[feature.band])
            self.table.setItem(row, column, item)

    @staticmethod
    def _verdict(report: DriftReport) -> str:
        against = "the kept training clone" if report.exact else "the training data's stored profile"
        text = f"{report.table} ({report.rows:,} rows) against {against}: {report.summary(overlap=False)}"
        if report.predictions:
            text += f" Predicted classes (test rows → now): {report.prediction_shift()}."
        if report.overlap_rows:
            text += (
                f" {report.overlap_rows:,} rows also appear in the training table {report.training_table}: "
                "metrics on them are optimistic."
            )
        if report.profile_note():
            text += f" {report.profile_note()}"
        return text

    def _on_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.chart.set_feature(self._features[rows[0].row()] if rows else None)

    def features(self) -> list[str]:
        """Feature names in table order (highest PSI first), for tests."""
        return [f.feature for f in self._features]


class DriftDialog(QDialog):
    """A drift check's report in a window of its own (non-modal: the panel stays usable)."""

    def __init__(self, report: DriftReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drift_dialog")
        self.setWindowTitle(f"Drift of {report.table} against {report.model}")
        self.view = DriftView()
        self.view.set_report(report)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(900, 520)
