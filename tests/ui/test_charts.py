"""The generic widgets: charts (bar, histogram, heatmap), the virtualized frame model, the table-name edit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView

from snowml_desktop.ui.widgets.charts import BarChart, HeatmapChart, HistogramChart
from snowml_desktop.ui.widgets.frame_model import FETCH_CHUNK, NULL_TEXT, FrameModel, format_value
from snowml_desktop.ui.widgets.table_name_edit import TableNameEdit


def _items(chart, kind):
    return [item for item in chart.plot_item.items if isinstance(item, kind)]


def _tick_labels(axis):
    return [label for _, label in axis._tickLevels[0]]


# --- bar chart ------------------------------------------------------------------------------------------
def test_bar_chart_draws_bars_with_category_ticks_and_updates_in_place(qtbot):
    chart = BarChart(orientation="horizontal", value_title="Rows", category_title="Class")
    qtbot.addWidget(chart)
    chart.set_bars(["No", "Yes", "Maybe"], [700, 250, 50])
    assert chart.message() == ""
    assert chart.bars() == [("No", 700.0), ("Yes", 250.0), ("Maybe", 50.0)]
    assert _tick_labels(chart.plot_item.getAxis("left")) == ["No", "Yes", "Maybe"]
    bar_item = _items(chart, pg.BarGraphItem)[0]
    assert list(bar_item.opts["width"]) == [700, 250, 50]

    chart.set_bars(["A"], [3])
    assert len(_items(chart, pg.BarGraphItem)) == 1, "redrawing must reuse the bar item"
    assert list(bar_item.opts["width"]) == [3]
    visible_texts = [t.textItem.toPlainText() for t in _items(chart, pg.TextItem) if t.isVisible()]
    assert visible_texts == ["3"]


def test_bar_chart_value_axis_includes_zero_and_negative_labels_stay_off_their_bars(qtbot):
    chart = BarChart(orientation="horizontal")
    qtbot.addWidget(chart)
    chart.set_bars(["a", "b"], [303, 180])
    low, high = chart.plot_item.viewRange()[0]
    assert low < 0 < 303 < high  # the 0 tick is inside the range, not on its edge
    chart.set_bars(["up", "down"], [0.006, -0.004], texts=["+", "-"])
    labels = {t.textItem.toPlainText(): t.pos().x() for t in _items(chart, pg.TextItem) if t.isVisible()}
    assert labels == {"+": 0.006, "-": 0.0}  # the negative bar's label sits right of zero, clear of it
    low, high = chart.plot_item.viewRange()[0]
    assert low < -0.004 and high > 0.006


def test_bar_chart_vertical_thins_ticks_and_shows_empty_state(qtbot):
    chart = BarChart(orientation="vertical")
    qtbot.addWidget(chart)
    labels = [f"category {i}" for i in range(60)]
    chart.set_bars(labels, list(range(60)))
    ticks = _tick_labels(chart.plot_item.getAxis("bottom"))
    assert 0 < len(ticks) <= 24
    assert all(len(t) <= 18 for t in ticks)
    chart.set_bars([], [], empty_message="Pick a label column")
    assert chart.message() == "Pick a label column"
    with pytest.raises(ValueError):
        chart.set_bars(["a"], [1, 2])


# --- histogram ------------------------------------------------------------------------------------------
def test_histogram_numeric_and_categorical(qtbot):
    chart = HistogramChart()
    qtbot.addWidget(chart)
    chart.set_numeric([0.0, 1.0, 2.0, 3.0], [4, 9, 1], x_title="AGE")
    assert chart.kind == "numeric" and chart.counts == [4, 9, 1] and chart.message() == ""
    curve = _items(chart, pg.PlotDataItem)[0]
    xs, ys = curve.getOriginalDataset()
    assert list(xs) == [0.0, 1.0, 2.0, 3.0] and list(ys) == [4, 9, 1]
    assert chart.plot_item.getAxis("bottom").labelText == "AGE"

    chart.set_categorical(["A", "B"], [5, 3], other=2, x_title="PLAN")
    assert chart.kind == "categorical" and chart.counts == [5, 3, 2]
    assert _tick_labels(chart.plot_item.getAxis("bottom")) == ["A", "B", "(other)"]
    assert not curve.isVisible()

    chart.set_numeric([], [])
    assert chart.message() == "No values to plot"
    with pytest.raises(ValueError):
        chart.set_numeric([0, 1], [1, 2])


# --- heatmap --------------------------------------------------------------------------------------------
def test_heatmap_labels_cells_and_leaves_undefined_cells_blank(qtbot):
    chart = HeatmapChart(colormap="CET-D1")
    qtbot.addWidget(chart)
    chart.set_matrix([[1.0, 0.5], [0.5, None]], ["A", "B"], ["A", "B"], levels=(-1, 1), value_title="r")
    assert chart.message() == ""
    assert chart.cell_texts() == ["1.00", "0.50", "0.50", ""]
    assert chart.matrix.shape == (2, 2) and math.isnan(chart.matrix[1, 1])
    assert _tick_labels(chart.plot_item.getAxis("left")) == ["A", "B"]

    chart.set_matrix([[5, 1, 0]] * 3, ["x", "y", "z"], ["p", "q", "r"], cell_text=[["a", "b", "c"]] * 3)
    assert chart.cell_texts() == ["a", "b", "c"] * 3

    big = np.ones((25, 25))
    chart.set_matrix(big.tolist(), [str(i) for i in range(25)], [str(i) for i in range(25)])
    assert chart.cell_texts() == [], "cell labels are dropped when they cannot be read"

    chart.set_matrix([], [], [], empty_message="Nothing to correlate")
    assert chart.message() == "Nothing to correlate"
    with pytest.raises(ValueError):
        chart.set_matrix([[1, 2]], ["a", "b"], ["c"])


# --- frame model ----------------------------------------------------------------------------------------
@pytest.fixture
def frame() -> pd.DataFrame:
    n = 450
    return pd.DataFrame(
        {
            "ID": np.arange(n),
            "NAME": [None if i % 10 == 0 else f"n{i % 7}" for i in range(n)],
            "VALUE": [np.nan if i % 5 == 0 else i / 4 for i in range(n)],
            "FLAG": [i % 2 == 0 for i in range(n)],
        }
    )


def test_frame_model_fetches_rows_on_demand(qtbot, frame):
    model = FrameModel()
    model.set_frame(frame)
    assert model.total_rows() == 450 and model.rowCount() == FETCH_CHUNK
    assert model.canFetchMore()
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 450 and not model.canFetchMore()
    assert model.headers() == ["ID", "NAME", "VALUE", "FLAG"]

    view = QTableView()
    qtbot.addWidget(view)
    model.set_frame(frame)
    view.setModel(model)
    view.scrollToBottom()
    assert FETCH_CHUNK < model.rowCount() <= 450


def test_frame_model_shows_nulls_distinctly_and_aligns_numbers(qtbot, frame):
    model = FrameModel()
    model.set_frame(frame)
    null_cell = model.index(0, 1)
    assert null_cell.data() == NULL_TEXT
    assert null_cell.data(Qt.ItemDataRole.FontRole).italic()
    assert model.index(1, 1).data(Qt.ItemDataRole.FontRole) is None
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert model.index(1, 2).data(Qt.ItemDataRole.TextAlignmentRole) == right
    assert model.index(1, 1).data(Qt.ItemDataRole.TextAlignmentRole) != right
    assert model.index(1, 3).data(Qt.ItemDataRole.TextAlignmentRole) != right, "booleans are not numbers"
    assert model.index(1, 2).data() == "0.25"
    assert model.index(0, 3).data() == "true"


def test_frame_model_sorts_with_nulls_last(qtbot, frame):
    model = FrameModel()
    model.set_frame(frame)
    model.sort(2, Qt.SortOrder.DescendingOrder)
    present = frame["VALUE"].dropna().sort_values(ascending=False).tolist()
    shown = [model.value(row, 2) for row in range(model.total_rows())]
    assert shown[: len(present)] == present
    assert all(v is None for v in shown[len(present) :])
    model.sort(1, Qt.SortOrder.AscendingOrder)
    names = [model.value(row, 1) for row in range(model.total_rows())]
    assert names[0] == "n0" and names[-1] is None
    model.clear()
    assert model.rowCount() == 0 and model.columnCount() == 0


def test_format_value():
    assert format_value(1 / 3) == "0.333333"
    assert format_value(np.int64(7)) == "7"
    assert format_value(float("inf")) == "∞"
    assert format_value(pd.Timestamp("2024-01-02 03:04:05")) == "2024-01-02 03:04:05"


# --- table name edit ------------------------------------------------------------------------------------
def test_table_name_edit_shows_the_canonical_identifier_as_you_type(qtbot):
    edit = TableNameEdit(object_name="test.table")
    qtbot.addWidget(edit)
    assert edit.canonical() is None and "Type a table name" in edit.hint.text()
    emitted: list[str] = []
    edit.nameChanged.connect(emitted.append)
    qtbot.keyClicks(edit.line_edit, "sales")
    assert emitted == ["S", "SA", "SAL", "SALE", "SALES"]
    assert edit.canonical() == "SALES" and edit.hint.text() == "Creates SALES"

    edit.setText('"My Sales"')
    assert edit.canonical() == "My Sales"
    assert '"My Sales"' in edit.hint.text() and "case-sensitive" in edit.hint.text()

    edit.setText("select")  # a reserved word is a valid name, shown quoted
    assert edit.canonical() == "SELECT" and '"SELECT"' in edit.hint.text()

    edit.setText('"a"b"')
    assert edit.canonical() is None and "unpaired double quote" in edit.hint.text()
    assert edit.line_edit.property("invalid") is True
    assert edit.line_edit.objectName() == "test.table" and edit.line_edit.accessibleName()


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")  # offscreen: the dialog window
def test_a_chart_offers_pyqtgraphs_export_from_its_context_menu(qtbot):
    """Right-click on a chart: "Export image or data…" opens pyqtgraph's exporter (issue 10, item 20)."""
    from PySide6.QtCore import Qt

    from snowml_desktop.ui.widgets.charts import BarChart

    chart = BarChart(title="Rows per class")
    qtbot.addWidget(chart)
    chart.set_bars(["a", "b"], [3, 5])
    assert chart.plot_widget.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    actions = {a.text(): a for a in chart.plot_widget.actions()}
    assert "Export image or data…" in actions
    actions["Export image or data…"].trigger()
    dialog = chart.plot_widget.scene().exportDialog
    try:
        assert dialog.isVisible() and dialog.parent() is chart  # destroyed with the chart
        formats = [dialog.ui.formatList.item(i).text() for i in range(dialog.ui.formatList.count())]
        assert "Image File (PNG, TIF, JPG, ...)" in formats and "CSV of original plot data" in formats
    finally:
        dialog.close()
