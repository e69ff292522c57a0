"""The Threshold view on real widgets, with a model trained by a real LocalEngine."""

from __future__ import annotations

import dataclasses

import pytest

from snowml_desktop.core import threshold as th
from snowml_desktop.ui.widgets.threshold_view import ThresholdView

from .model_fixtures import load_demo, train_demo


@pytest.fixture
def binary(app_context):
    load_demo(app_context)
    return train_demo(app_context, "logistic_regression")


def test_shows_the_held_out_metrics_and_the_matrix_at_the_threshold(qtbot, binary) -> None:
    view = ThresholdView()
    qtbot.addWidget(view)
    view.resize(1024, 560)
    view.set_model(binary)
    scores = binary.curves["scores"]
    assert "Positive class 'malignant'" in view.note.text() and "most probable class" in view.note.text()
    assert view.value.value() == 0.5
    assert view.matrix.counts() == th.at(scores, 0.5).confusion_matrix()
    xs, recall = view.chart.series("recall")
    assert len(xs) == len(th.sweep(scores)) and recall[-1] == 1.0
    assert not view.clear.isEnabled()

    view.chart.moved.emit(0.2)  # the user drags the line
    point = th.at(scores, 0.2)
    assert view.value.value() == 0.2 and view.matrix.counts() == point.confusion_matrix()
    assert f"recall {point.recall:.3f}" in view.figures.text()
    with qtbot.waitSignal(view.save_requested) as saved:
        view.save.click()
    assert saved.args == [0.2]


def test_presets_set_the_threshold_the_core_picks(qtbot, binary) -> None:
    view = ThresholdView()
    qtbot.addWidget(view)
    view.set_model(binary)
    scores = binary.curves["scores"]
    view.preset.setCurrentIndex(view.preset.findData("max_f1"))
    view.apply_preset.click()
    assert view.value.value() == pytest.approx(th.choose(scores, "max_f1").threshold)

    view.preset.setCurrentIndex(view.preset.findData("min_cost"))
    assert view.cost_fp.isVisibleTo(view) and not view.target_recall.isVisibleTo(view)
    view.cost_fn.setValue(20.0)
    view.apply_preset.click()
    costs = th.Costs(false_positive=1.0, false_negative=20.0)
    assert view.value.value() == pytest.approx(th.choose(scores, "min_cost", costs=costs).threshold)
    assert "cost" in view.figures.text()

    view.preset.setCurrentIndex(view.preset.findData("target_recall"))
    view.target_recall.setValue(1.0)
    view.apply_preset.click()
    assert th.at(scores, view.value.value()).recall == 1.0


def test_a_saved_threshold_is_shown_and_can_be_cleared(qtbot, binary) -> None:
    view = ThresholdView()
    qtbot.addWidget(view)
    view.set_model(dataclasses.replace(binary, threshold=0.37))
    assert view.value.value() == 0.37 and "saved threshold 0.37" in view.note.text()
    assert view.clear.isEnabled()
    with qtbot.waitSignal(view.save_requested) as cleared:
        view.clear.click()
    assert cleared.args == [None]


@pytest.mark.parametrize("change", [{"classes": [1, 2, 3]}, {"curves": {"roc": [], "pr": []}}])
def test_models_without_scores_explain_why(qtbot, binary, change) -> None:
    view = ThresholdView()
    qtbot.addWidget(view)
    record = dataclasses.replace(binary, **change)
    if "classes" in change:
        record = dataclasses.replace(record, curves={"roc": [], "pr": []})
    view.set_model(record)
    assert not view.save.isEnabled() and not view.value.isEnabled()
    assert ("more than two classes" in view.note.text()) == ("classes" in change)
    assert view.chart.message() == "No held-out scores for this model."
    view.set_model(None)
    assert view.note.text() == "Choose a model."
