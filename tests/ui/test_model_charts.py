"""The model-evaluation charts show exactly the numbers they are given, and cope with nothing to show."""

from __future__ import annotations

from datetime import datetime

import pytest

from snowml_desktop.core.records import RUN_FAILED, InferenceRun
from snowml_desktop.ui.widgets.model_charts import (
    ConfusionMatrixView,
    CurvesView,
    FeatureImportanceView,
    TimingGraph,
    TopModelsChart,
    summarize_timings,
)


def _run(i: int, size: str, total: float, credits: float, status: str = "SUCCEEDED") -> InferenceRun:
    return InferenceRun(
        i, datetime(2026, 1, 1), "M", "T", "O", 100, total, total * 0.8, size, "STANDARD", 1, credits, status
    )


def test_confusion_matrix_shows_counts_and_row_shares(qtbot):
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.set_confusion([[40, 3, 1], [2, 69, 5], [0, 7, 12]], ["a", "b", "c"])
    assert view.counts() == [[40, 3, 1], [2, 69, 5], [0, 7, 12]]
    assert view.cell_texts()[0] == "40\n90.9%"
    view.set_confusion(None, None)
    assert "No confusion matrix" in view.message()


def test_timing_summary_takes_medians_per_size_and_skips_failed_runs():
    runs = [
        _run(1, "X-Small", 3.0, 0.02),
        _run(2, "XSMALL", 5.0, 0.04),
        _run(3, "Small", 2.0, 0.03),
        _run(4, "Medium", 0.1, 0.001, RUN_FAILED),
    ]
    points = summarize_timings(runs)
    assert [(p.size, p.runs, p.total_seconds) for p in points] == [("X-Small", 2, 4.0), ("Small", 1, 2.0)]


def test_timing_graph_marks_cheapest_and_fastest(qtbot):
    graph = TimingGraph()
    qtbot.addWidget(graph)
    assert graph.points() == [] and graph.message()
    graph.set_runs([_run(1, "X-Small", 3.0, 0.01), _run(2, "Small", 1.5, 0.02), _run(3, "Medium", 1.4, 0.05)])
    assert len(graph.points()) == 3
    assert graph.marked() == ("X-Small", "Medium")
    assert graph.message() == ""


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_timing_graph_with_one_point_has_plain_axes_and_readable_notes(qtbot):
    """Issue 10, item 20: one run gave "Warehouse size (x0.001)"; notes ran into the lines."""
    graph = TimingGraph()
    qtbot.addWidget(graph)
    graph.resize(600, 400)
    graph.set_runs([_run(1, "X-Small", 0.004, 0.00001)])
    graph.show()
    qtbot.waitExposed(graph)
    for name in ("bottom", "left"):
        axis = graph.plot_item.getAxis(name)
        assert axis.autoSIPrefixScale == 1.0 and "x0.0" not in axis.labelString()
    assert graph.notes() and all(note.fill.color().alpha() > 200 for note in graph.notes())


def test_bars_and_curves(qtbot):
    class Model:
        def __init__(self, name, auc):
            self.name, self.metrics = name, {"roc_auc": auc}

    top = TopModelsChart()
    qtbot.addWidget(top)
    top.set_models([Model(f"M{i}", i / 10) for i in range(8)] + [Model("NONE", None)], "roc_auc")
    assert [label for label, _ in top.bars()] == ["M7", "M6", "M5", "M4", "M3"]
    long_names = [Model("LOGISTIC_REGRESSION_3", 0.989), Model("RANDOM_FOREST_1", 0.995), Model("G", 0.977)]
    top.set_models(long_names, "roc_auc")
    ticks = [label for _, label in top.plot_item.getAxis("left")._tickLevels[0]]
    # Elided to fit a narrow pane (1024 px window); the tooltip names them in full.
    assert ticks == ["RANDOM_FOREST_1", "LOGISTIC_REGRES…", "G"]
    assert "LOGISTIC_REGRESSION_3: " in top.toolTip()
    low, high = top.plot_item.viewRange()[0]
    assert 0.9 < low < 0.977 and high > 0.995  # close scores are told apart, values printed beyond
    printed = sorted(t.textItem.toPlainText().strip() for t in top.plot_item.items if hasattr(t, "textItem"))
    assert {"0.977", "0.989", "0.995"} <= set(printed)
    importance = FeatureImportanceView()
    qtbot.addWidget(importance)
    importance.set_importance(
        [{"feature": "b", "importance": 0.1, "std": 0.01}, {"feature": "a", "importance": 0.3, "std": 0}]
    )
    assert importance.bars() == [("a", 0.3), ("b", 0.1)]
    importance.set_importance([])
    assert importance.message()
    curves = CurvesView()
    qtbot.addWidget(curves)
    curves.set_curves({"roc": [{"label": "1", "fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}], "pr": []})
    assert curves.line_count() == (1, 0)
    assert curves.pr.message()


def test_curves_of_the_next_model_reuse_the_lines_and_legend_entries(qtbot):
    """Showing another model redraws its curves in the existing lines (a new line and legend entry
    relayout the chart: a GUI stall after each training), adding or removing only the difference."""
    curves = CurvesView()
    qtbot.addWidget(curves)

    def entries(*labels: str) -> list[dict]:
        return [{"label": label, "fpr": [0, 0.2, 1], "tpr": [0, 0.9, 1], "auc": 0.85} for label in labels]

    curves.set_curves({"roc": entries("1"), "pr": []})
    (line,) = curves._lines["roc"]
    legend = curves._legends["roc"]
    curves.set_curves({"roc": [{"label": "yes", "fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}], "pr": []})
    assert curves._lines["roc"] == [line]
    assert [list(values) for values in line.getData()] == [[0, 1], [0, 1]]
    assert [label.text for _, label in legend.items] == ["yes (AUC 0.500)"]

    curves.set_curves({"roc": entries("a", "b", "c"), "pr": []})
    assert curves.line_count() == (3, 0) and curves._lines["roc"][0] is line
    assert [label.text for _, label in legend.items] == [f"{c} (AUC 0.850)" for c in "abc"]
    curves.set_curves({"roc": entries("x"), "pr": []})
    assert curves.line_count() == (1, 0) and len(legend.items) == 1
    curves.set_curves(None)
    assert curves.line_count() == (0, 0) and not legend.items and curves.roc.message()
