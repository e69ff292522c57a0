"""Inference Runs panel: lists runs, shows a run's metrics and confusion matrix, previews its output."""

from __future__ import annotations

import pytest

from snowml_desktop.engines.base import ScoreRequest
from snowml_desktop.ui.panels.runs import RunsPanel

from .model_fixtures import load_demo, make_odd_tables, settle, train_demo


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


@pytest.mark.slow
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
    # The columns scoring adds come first, headers in full (issue 10, item 20).
    assert panel.preview_model.headers()[:2] == ["PREDICTION", "PREDICTION_PROBABILITY"]
    header = panel.preview.horizontalHeader()
    assert header.sectionSize(1) >= header.fontMetrics().horizontalAdvance("PREDICTION_PROBABILITY")


def test_a_cancelled_run_does_not_blame_the_label_column(qtbot, panel):
    """Issue 10, item 18: a cancelled run has no metrics because it was cancelled."""
    from dataclasses import replace

    record = train_demo(panel.ctx)
    run = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))
    panel.show_run(replace(run, status="CANCELLED", metrics={}, confusion_matrix=None, output_table=None))
    assert "cancelled" in panel.metrics.text() and "no label column" not in panel.metrics.text()


@pytest.mark.slow
def test_failed_run_shows_its_error(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))
    from snowml_desktop.core.errors import EngineError

    with pytest.raises(EngineError):
        panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))  # output exists, no overwrite
    panel.on_shown()
    settle(qtbot, panel.ctx)
    failed = [r for r in panel.ctx.engine.list_runs() if r.status != "SUCCEEDED"]
    assert failed, "the engine records a refused request as a failed run"
    panel.select_run(failed[0].run_id)
    settle(qtbot, panel.ctx)
    assert panel.error.isVisibleTo(panel)
    assert "no output" in panel.preview_note.text()


@pytest.mark.slow
def test_runs_on_empty_all_nan_and_single_class_tables(qtbot, panel):
    record = train_demo(panel.ctx)
    odd = make_odd_tables(panel.ctx)
    runs = {kind: panel.ctx.engine.score(ScoreRequest(record.name, table)) for kind, table in odd.items()}
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert sorted(panel.run_ids()) == sorted(r.run_id for r in runs.values())

    panel.select_run(runs["empty"].run_id)
    settle(qtbot, panel.ctx)
    assert "No metrics" in panel.metrics.text()
    assert panel.confusion.message()  # nothing to draw, and it says so
    assert panel.preview_model.total_rows() == 0 and "PREDICTION" in panel.preview_model.headers()
    assert panel.preview_note.text().startswith("First 0 of 0 rows")

    panel.select_run(runs["all_nan"].run_id)
    settle(qtbot, panel.ctx)
    assert panel.confusion.counts() == runs["all_nan"].confusion_matrix
    assert f"{runs['all_nan'].metrics['accuracy']:.3f}" in panel.metrics.text()

    # One class present: its row holds every count, the other row is all zeros (0 %, not an error).
    panel.select_run(runs["single"].run_id)
    settle(qtbot, panel.ctx)
    assert panel.confusion.counts() == runs["single"].confusion_matrix
    assert "0\n0.0%" in panel.confusion.cell_texts()
    assert panel.preview_model.total_rows() == 200


@pytest.mark.slow
def test_a_new_run_is_shown_and_an_older_output_is_not_previewed_again(qtbot, panel):
    record = train_demo(panel.ctx)
    engine = panel.ctx.engine
    first = engine.score(ScoreRequest(record.name, "BREAST_CANCER", output="SCORED_1", size="X-Small"))
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert panel.selected_run_id() == first.run_id
    previews: list[str] = []
    panel.ctx.jobs.job_added.connect(lambda h: h.name.startswith("Preview") and previews.append(h.name))
    for number in (2, 3):  # what the Inference panel does: score, then say the runs changed
        engine.score(ScoreRequest(record.name, "BREAST_CANCER", output=f"SCORED_{number}", size="X-Small"))
        panel.ctx.runs_changed.emit()
        settle(qtbot, panel.ctx)
        assert panel.selected_run().output_table == f"SCORED_{number}"
    assert previews == ["Preview SCORED_2", "Preview SCORED_3"]
    panel.refresh()  # nothing new: the run shown stays, with no second preview
    settle(qtbot, panel.ctx)
    assert panel.selected_run().output_table == "SCORED_3" and len(previews) == 2


def test_snowflake_runs_say_that_attributed_credits_come_hours_later_without_idle_time(qtbot, panel):
    import dataclasses

    from snowml_desktop.ui.panels.runs import ATTRIBUTION_NOTE

    record = train_demo(panel.ctx)
    run = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))
    panel.show_run(run)
    assert not run.query_ids and "hours later" not in panel.timings.text()  # local runs: nothing to attribute
    panel.resize(1024, 700)
    width = panel.sizeHint().width()
    # On Snowflake a run has query ids (the CALL's first): the estimate is all there is for hours.
    panel.show_run(dataclasses.replace(run, query_ids=["01b2c3d4-0000-1234-0000-0001abcd1234"]))
    assert ATTRIBUTION_NOTE in panel.timings.text()
    assert "hours later" in ATTRIBUTION_NOTE and "idle" in ATTRIBUTION_NOTE
    assert panel.sizeHint().width() <= max(width, 1024)  # the note wraps, it never widens the window
    settle(qtbot, panel.ctx)


def test_drift_column_tab_and_the_training_overlap_caveat(qtbot, panel):
    load_demo(panel.ctx, "BREAST_CANCER_NEW_PATIENTS.csv")
    record = train_demo(panel.ctx, "logistic_regression")
    panel.ctx.engine.set_threshold(record.name, 0.4)
    seen = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER", "SEEN", "X-Small", True))
    fresh = panel.ctx.engine.score(
        ScoreRequest(record.name, "BREAST_CANCER_NEW_PATIENTS", "FRESH", "X-Small", True)
    )
    panel.on_navigate(seen.run_id)
    settle(qtbot, panel.ctx)
    assert "483 of 483 scored rows are rows of the training table BREAST_CANCER" in panel.metrics.text()
    assert "threshold 0.4" in panel.metrics.text()
    assert panel.drift.features() and "483 rows also appear" in panel.drift.summary.text()
    column = list(panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())).index(
        "Drift"
    )
    row = panel.run_ids().index(fresh.run_id)
    assert panel.table.item(row, column).text().startswith(("stable", "moderate", "⚠ high"))
    panel.select_run(fresh.run_id)
    assert "scored rows are rows of the training table" not in panel.metrics.text()
    assert "of it the 60 s billed at least per resume" in panel.timings.text()


@pytest.mark.slow
def test_calibration_runs_are_marked_and_their_sample_accuracy_and_drift_left_out(
    qtbot, panel, monkeypatch, small_batches
):
    from snowml_desktop.core.records import RUN_CALIBRATION

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    record = train_demo(panel.ctx, "logistic_regression")
    engine = panel.ctx.engine
    engine.calibrate(engine.plan_calibration(record.name, "BREAST_CANCER"))
    scored = engine.score(ScoreRequest(record.name, "BREAST_CANCER", size="X-Small"))
    panel.on_shown()
    panel.refresh()
    settle(qtbot, panel.ctx)
    assert len(panel.run_ids()) == 6
    columns = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    status, accuracy, drift = (columns.index(name) for name in ("Status", "Accuracy", "Drift"))
    rows = {run_id: r for r, run_id in enumerate(panel.run_ids())}
    runs = {r.run_id: r for r in engine.list_runs(record.name)}
    for run_id, row in rows.items():
        text = panel.table.item(row, status).text()
        if run_id == scored.run_id:
            assert text == "Succeeded" and panel.table.item(row, accuracy).text() != "—"
            continue
        assert text == f"Succeeded ({'calibration' if runs[run_id].kind == RUN_CALIBRATION else 'warm-up'})"
        assert panel.table.item(row, accuracy).text() == "—" and panel.table.item(row, drift).text() == "—"
        assert "sample of the table" in panel.table.item(row, status).toolTip()
    calibration = next(i for i, r in runs.items() if r.kind == RUN_CALIBRATION)
    panel.select_run(calibration)
    settle(qtbot, panel.ctx)
    assert "a sample of BREAST_CANCER" in panel.header.text() and "(no output)" in panel.header.text()
    assert panel.preview_note.text() == "This run wrote no output table."


def test_a_failed_drift_check_shows_as_check_failed_after_the_measured_drifts(qtbot, panel, monkeypatch):
    from PySide6.QtCore import Qt

    from snowml_desktop.core import drift

    record = train_demo(panel.ctx, "logistic_regression")
    measured = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER", "MEASURED", "X-Small", True))

    def failing(*args, **kwargs):
        raise RuntimeError("Out of Memory Error: could not allocate block\nmore detail")

    monkeypatch.setattr(drift, "check", failing)
    failed = panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER", "UNMEASURED", "X-Small", True))
    assert failed.status == "SUCCEEDED"
    panel.resize(1024, 700)
    width = panel.sizeHint().width()
    panel.on_navigate(failed.run_id)
    settle(qtbot, panel.ctx)
    column = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())].index("Drift")
    panel.table.sortItems(column, Qt.SortOrder.AscendingOrder)
    ids = panel.run_ids()
    assert ids.index(measured.run_id) < ids.index(failed.run_id)  # sorts after the measured drift
    item = panel.table.item(ids.index(failed.run_id), column)
    assert item.text() == "check failed"
    assert "RuntimeError: Out of Memory Error: could not allocate block" in item.toolTip()
    assert "details are in the log" in item.toolTip() and "more detail" not in item.toolTip()
    panel.select_run(failed.run_id)
    assert "drift check of this run failed" in panel.drift.summary.text() and not panel.drift.features()
    assert panel.sizeHint().width() <= max(width, 1024)  # the reason wraps, it never widens the window
