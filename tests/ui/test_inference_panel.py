"""Inference panel: input check before Run, scoring at two sizes fills the timing graph, errors, overwrite."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from snowml_desktop.ui.panels.inference import InferencePanel

from .model_fixtures import JOB_MS, load_demo, make_odd_tables, settle, train_demo


@pytest.fixture
def panel(qtbot, app_context):
    load_demo(app_context, "BREAST_CANCER.csv", "CHURN.csv")
    widget = InferencePanel(app_context)
    qtbot.addWidget(widget)
    return widget


def test_nothing_to_score(qtbot, panel):
    panel.on_shown()
    settle(qtbot, panel.ctx)
    assert not panel.run_button.isEnabled()
    assert "Train a model" in panel.blocker.text()


@pytest.mark.slow
def test_missing_features_are_named_and_block_run(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert panel.table_combo.currentText() == "BREAST_CANCER"
    assert panel.run_button.isEnabled()
    assert panel.output.text() == f"BREAST_CANCER_{record.name}_INF"
    panel.table_combo.setCurrentText("CHURN")
    settle(qtbot, panel.ctx)
    assert not panel.run_button.isEnabled()
    assert "MEAN_RADIUS" in panel.check_label.text()


@pytest.mark.slow
def test_compare_two_sizes_fills_the_timing_graph(qtbot, panel, monkeypatch):
    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert "worker" in panel.size_combo.currentText()
    runs_changed = []
    panel.ctx.runs_changed.connect(lambda: runs_changed.append(1))
    panel.set_compare_sizes(["X-Small", "Small"])
    panel.start_compare()
    qtbot.waitUntil(lambda: len(runs_changed) == 2 and not panel.busy, timeout=JOB_MS)
    settle(qtbot, panel.ctx)
    qtbot.waitUntil(lambda: len(panel.timing.points()) == 2, timeout=JOB_MS)
    assert [p.size for p in panel.timing.points()] == ["X-Small", "Small"]
    assert set(panel.timing.marked()) <= {"X-Small", "Small"}
    runs = panel.ctx.engine.list_runs(model=record.name)
    assert sorted(r.warehouse_size for r in runs) == ["Small", "X-Small"]
    assert "past run" in panel.estimate.text()
    # The output now exists: Run asks first, and Cancel keeps the table as it was.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    assert "exists" in panel.output_note.text()
    assert panel.start_scoring() is None
    navigations = []
    panel.ctx.navigate_requested.connect(lambda key, arg: navigations.append((key, arg)))
    panel.open_run.click()
    assert navigations == [("runs", panel.last_run.run_id)]


def test_a_failed_drift_check_keeps_the_run_and_the_result_line_says_why(qtbot, panel, monkeypatch):
    from snowml_desktop.core import drift

    def failing(*args, **kwargs):
        raise RuntimeError("Out of Memory Error: could not allocate block\nmore detail")

    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    monkeypatch.setattr(drift, "check", failing)
    handle = panel.start_scoring()
    with qtbot.waitSignal(handle.succeeded, timeout=JOB_MS):
        pass
    settle(qtbot, panel.ctx)
    text = panel.status.text()
    assert text.startswith("Scored ")
    assert text.endswith(" Drift check failed: RuntimeError: Out of Memory Error: could not allocate block.")
    assert panel.last_run.status == "SUCCEEDED" and panel.open_run.isEnabled()


def test_scoring_error_is_shown_and_panel_stays_usable(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    panel.ctx.engine.delete_model(record.name)  # gone after the check
    handle = panel.start_scoring()
    with qtbot.waitSignal(handle.failed, timeout=JOB_MS):
        pass
    settle(qtbot, panel.ctx)
    assert panel.status.text().startswith("Scoring failed: ")
    assert record.name in panel.status.text()
    assert panel.model_combo.isEnabled()


@pytest.mark.slow
def test_empty_all_nan_and_single_class_tables_score_and_the_panel_stays_usable(qtbot, panel):
    record = train_demo(panel.ctx)
    odd = make_odd_tables(panel.ctx)
    panel.ctx.tables_changed.emit()
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    expected_rows = {"empty": 0, "all_nan": 483, "single": 303}
    for kind, table in odd.items():
        panel.table_combo.setCurrentText(table)
        settle(qtbot, panel.ctx)
        assert panel.check_label.text().startswith("✓"), panel.check_label.text()
        assert panel.output.text() == f"{table}_{record.name}_INF"
        with qtbot.waitSignal(panel.ctx.runs_changed, timeout=JOB_MS):
            assert panel.start_scoring() is not None
        settle(qtbot, panel.ctx)
        assert panel.status.text().startswith(f"Scored {expected_rows[kind]:,} rows"), panel.status.text()
        assert panel.last_run.rows == expected_rows[kind]
        qtbot.waitUntil(lambda: len(panel.timing.points()) == 1, timeout=JOB_MS)
        assert panel.run_button.isEnabled() and panel.table_combo.isEnabled()


def test_score_with_this_model_picks_its_own_table_when_already_listed(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.on_shown()
    settle(qtbot, panel.ctx)
    panel.table_combo.setCurrentText("CHURN")  # another table chosen before
    settle(qtbot, panel.ctx)
    assert panel.model_combo.findText(record.name) >= 0 and not panel.run_button.isEnabled()
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert panel.table_combo.currentText() == "BREAST_CANCER" and panel.run_button.isEnabled()


def test_output_hint_says_replaces_when_the_table_exists(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert panel.output.hint.text().startswith("Creates ") and panel.output_note.text() == ""
    panel.output.setText("CHURN")
    assert panel.output.hint.text() == "Replaces CHURN" and "exists" in panel.output_note.text()


def test_a_burst_of_change_signals_makes_one_refresh(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    names: list[str] = []
    panel.ctx.jobs.job_added.connect(lambda h: names.append(h.name))
    panel.ctx.runs_changed.emit()  # what the end of a scoring emits
    panel.ctx.tables_changed.emit()
    settle(qtbot, panel.ctx)
    assert names == ["List models and tables for scoring", f"Check BREAST_CANCER for {record.name}"]


def test_a_text_column_for_a_numeric_feature_is_flagged_and_its_bad_values_counted(qtbot, panel):
    from .model_fixtures import sql

    record = train_demo(panel.ctx)
    sql(
        panel.ctx,
        'CREATE TABLE "DATA"."BC_TEXT" AS SELECT * REPLACE (CASE WHEN MEAN_RADIUS > 20 THEN \'big\' '
        'ELSE MEAN_RADIUS::VARCHAR END AS MEAN_RADIUS) FROM "DATA"."BREAST_CANCER"',
    )
    with panel.ctx.engine.workspace.cursor() as cur:
        bad = cur.execute('SELECT count(*) FROM "DATA"."BREAST_CANCER" WHERE MEAN_RADIUS > 20').fetchone()[0]
    panel.ctx.tables_changed.emit()
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    panel.table_combo.setCurrentText("BC_TEXT")
    settle(qtbot, panel.ctx)
    assert panel.check_label.text().startswith("⚠ In BC_TEXT, MEAN_RADIUS is not numeric")
    handle = panel.start_scoring()
    with qtbot.waitSignal(handle.failed, timeout=JOB_MS):
        pass
    settle(qtbot, panel.ctx)
    assert f"{bad:,} of its" in panel.status.text() and "cannot be converted to a number" in panel.status.text()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's note when the drift window opens
def test_runs_at_two_sizes_give_a_recommended_size_a_forecast_and_drift(qtbot, panel, small_batches):
    record = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert "No recommended size yet" in panel.recommendation.text()
    assert not panel.use_recommended.isEnabled() and panel.timing.forecast() == []
    runs_changed = []
    panel.ctx.runs_changed.connect(lambda: runs_changed.append(1))
    panel.set_compare_sizes(["X-Small", "Small"])
    panel.start_compare()
    qtbot.waitUntil(lambda: len(runs_changed) == 2 and not panel.busy, timeout=JOB_MS)
    settle(qtbot, panel.ctx)
    advice = panel.ctx.engine.recommend_size(record.name, "BREAST_CANCER")
    assert panel.recommendation.text().startswith(f"Recommended for {advice.rows:,} rows — {advice.summary}")
    assert panel.timing.forecast()[0][0] == "X-Small" and len(panel.timing.forecast()) >= 2
    panel.size_combo.setCurrentIndex(panel.size_combo.count() - 1)
    panel.use_recommended.click()
    assert panel.size_combo.currentData() == advice.recommended.size.label
    from snowml_desktop.core.recommend import choose_size

    panel.budget.setValue(0.1)  # six seconds: the cheapest size within it, or the fastest with a note
    chosen, summary = choose_size(advice.forecasts, 6.0)
    assert summary in panel.recommendation.text()
    panel.use_recommended.click()
    assert panel.size_combo.currentData() == chosen.size.label
    # One formula: the result line, the runs and the estimate all bill the 60 s minimum.
    assert all(r.credits >= 60 / 3600 for r in panel.ctx.engine.list_runs(model=record.name))
    assert "for the 60 s billed at least per resume" in panel.estimate.text()
    assert "rows are training rows" in panel.status.text()  # scored the training table itself

    assert panel.check_drift.isVisibleTo(panel) and panel.check_drift.isEnabled()
    panel.check_drift.click()
    qtbot.waitUntil(lambda: panel.drift_dialog is not None, timeout=JOB_MS)
    settle(qtbot, panel.ctx)
    assert panel.drift_dialog.view.features()[0] in record.feature_names
    assert "483 rows also appear in the training table BREAST_CANCER" in panel.drift_dialog.view.summary.text()
    panel.drift_dialog.close()


@pytest.mark.slow
def test_calibrate_gives_a_recommended_size_and_forecast_without_past_runs(
    qtbot, panel, monkeypatch, small_batches
):
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # X-Small one worker, Small two, on any machine
    record = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert "No recommended size yet" in panel.recommendation.text()
    assert "Calibrate… times the model on samples" in panel.recommendation.text()
    assert panel.calibrate_button.isEnabled() and panel.timing.forecast() == []
    tables = {t.name for t in panel.ctx.engine.list_tables()}
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    jobs, stages = [], []
    panel.ctx.jobs.job_added.connect(jobs.append)
    panel.ctx.jobs.job_added.connect(lambda job: job.progress.connect(lambda _f, text: stages.append(text)))
    panel.calibrate_button.click()
    assert panel.busy and not panel.run_button.isEnabled() and not panel.calibrate_button.isEnabled()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Calibrated."), timeout=3 * JOB_MS)
    settle(qtbot, panel.ctx)
    assert asked == []  # nothing is billed locally: nothing to confirm
    # Two background jobs (the plan, then the calibration), the second reporting each run as it goes.
    assert [job.name for job in jobs] == [
        f"Plan a calibration of {record.name} on BREAST_CANCER",
        f"Calibrate {record.name} on BREAST_CANCER",
        f"Check BREAST_CANCER for {record.name}",  # its runs are recorded: the check and graph follow
    ]
    assert any(s.startswith("Run 1 of 5: ") for s in stages), stages
    advice = panel.ctx.engine.recommend_size(record.name, "BREAST_CANCER")
    assert panel.recommendation.text().startswith(f"Recommended for {advice.rows:,} rows — {advice.summary}")
    assert panel.timing.forecast()[0][0] == "X-Small" and panel.use_recommended.isEnabled()
    assert not panel.calibrate_button.isEnabled()  # a recommendation now: nothing left to calibrate
    # The calibration's samples are not runs of the table: no measured point, no estimate from them.
    assert panel.timing.points() == [] and "No past run" in panel.estimate.text()
    assert {t.name for t in panel.ctx.engine.list_tables()} == tables


def test_calibration_that_bills_asks_first_and_a_no_runs_nothing(qtbot, panel, monkeypatch, small_batches):
    """On Snowflake a calibration bills credits: the panel shows the plan's cost and starts only on Yes."""
    import dataclasses

    record = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    engine = panel.ctx.engine
    planned = engine.plan_calibration
    # The plan a Snowflake account would give (the local engine's, as billed): only the network is missing here.
    monkeypatch.setattr(
        engine, "plan_calibration", lambda m, t: dataclasses.replace(planned(m, t), local=False, resizes=1)
    )
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel
    )
    panel.calibrate_button.click()
    qtbot.waitUntil(lambda: bool(asked), timeout=JOB_MS)
    settle(qtbot, panel.ctx)
    assert "Cost: at least ~" in asked[0] and "billed at least 60 s" in asked[0]
    assert panel.status.text() == "Calibration not started; nothing was run."
    assert engine.list_runs(record.name) == [] and panel.calibrate_button.isEnabled()


@pytest.mark.slow
def test_cancelling_a_calibration_drops_its_samples(qtbot, panel, monkeypatch, small_batches):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    record = train_demo(panel.ctx, "logistic_regression")
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    tables = {t.name for t in panel.ctx.engine.list_tables()}
    panel.calibrate_button.click()
    qtbot.waitUntil(lambda: panel.status.stage.text().startswith("Run "), timeout=JOB_MS)
    assert panel.status.cancel_button.isVisibleTo(panel)
    panel.status.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=JOB_MS)
    settle(qtbot, panel.ctx)
    assert panel.status.text() == "Calibration cancelled; its samples were dropped."
    with panel.ctx.engine.workspace.cursor() as cur:
        left = cur.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'DATA'").fetchall()
    assert {name for (name,) in left} == tables
    assert panel.calibrate_button.isEnabled()
