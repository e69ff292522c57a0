"""Inference Runs panel: lists runs, shows a run's metrics and confusion matrix, previews its output."""

from __future__ import annotations

import pytest

from snowml_desktop.engines.base import ScoreRequest
from snowml_desktop.ui.panels.runs import RunsPanel

from .model_fixtures import load_demo, settle, train_demo


@pytest.fixture
def panel(qtbot, app_context):
    load_demo(app_context)
    widget = RunsPanel(app_context)
    qtbot.addWidget(widget)
    return widget


def test_no_runs(qtbot, panel):
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert panel.run_ids() == []
    assert "No run selected" in panel.header.text()


def test_open_a_run_shows_metrics_confusion_and_preview(qtbot, panel):
    record = train_demo(panel.ctx)
    run = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER", size="X-Small"))
    panel.on_navigate(run.run_id)
    settle(qtbot, panel.ctx)
    assert panel.selected_run_id() == run.run_id
    assert panel.confusion.counts() == run.confusion_matrix
    assert f"{run.metrics['accuracy']:.3f}" in panel.metrics.text()
    assert "X-Small" in panel.timings.text()
    assert panel.preview_model.total_rows() == min(run.rows, 200)
    assert "PREDICTION" in panel.preview_model.headers()
    assert not panel.error.isVisibleTo(panel)


def test_failed_run_shows_its_error(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))
    from snowml_desktop.core.errors import EngineError

    with pytest.raises(EngineError):
        panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))  # output exists, no overwrite
    panel.on_shown()
    settle(qtbot, panel.ctx)
    failed = [r for r in panel.ctx.engine.list_runs() if r.status != "SUCCEEDED"]
    if not failed:
        pytest.skip("the engine records no run for a refused request")
    panel.select_run(failed[0].run_id)
    settle(qtbot, panel.ctx)
    assert panel.error.isVisibleTo(panel)
    assert "no output" in panel.preview_note.text()
