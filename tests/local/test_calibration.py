"""Calibration on the local engine (real DuckDB workspace, real scoring workers): samples made in the
warehouse, scored through the ordinary scoring path, recorded as calibration and warm-up runs of the table,
nothing left behind, and a recommendation from them."""

from __future__ import annotations

import dataclasses

import pytest

from snowml_desktop.core import recommend
from snowml_desktop.core.errors import Cancelled, InvalidInput
from snowml_desktop.core.records import RUN_CALIBRATION, RUN_SUCCEEDED, RUN_WARMUP
from snowml_desktop.core.tasks import CancelToken, TaskContext
from snowml_desktop.engines.base import LoadRequest, TrainRequest


@pytest.fixture
def trained(local_engine):
    local_engine.load(LoadRequest("LOAD_DATA", "BREAST_CANCER.csv", "CANCER"))
    local_engine.load(LoadRequest("LOAD_DATA", "CHURN.csv", "CHURN"))
    model = local_engine.train(TrainRequest("CANCER", "DIAGNOSIS", method="logistic_regression"))
    return local_engine, model


def _data_tables(engine) -> set[str]:
    with engine.workspace.cursor() as cur:
        rows = cur.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'DATA'").fetchall()
    return {r[0] for r in rows}


@pytest.mark.slow
def test_calibration_records_its_runs_on_the_table_and_leaves_no_table_behind(
    trained, monkeypatch, small_batches
) -> None:
    engine, model = trained
    monkeypatch.setattr("os.cpu_count", lambda: 4)  # X-Small one worker, Small two, on any machine
    with pytest.raises(InvalidInput, match="two or more warehouse sizes"):
        engine.recommend_size(model.name, "cancer")
    before = _data_tables(engine)
    plan = engine.plan_calibration(model.name.lower(), "cancer")
    rows = next(t.rows for t in engine.list_tables() if t.name == "CANCER")
    assert (plan.table, plan.large_rows, plan.small_rows) == ("CANCER", rows, rows // 5)

    advice = engine.calibrate(plan)

    assert _data_tables(engine) == before  # samples and their scored outputs dropped
    runs = sorted(engine.list_runs(model.name), key=lambda r: r.run_id)
    assert [(r.kind, r.warehouse_size, r.rows) for r in runs] == [
        (step.kind, step.size, step.rows) for step in plan.steps
    ]
    assert all(
        r.status == RUN_SUCCEEDED and r.source_table == "CANCER" and r.output_table is None for r in runs
    )
    assert [r.workers for r in runs] == [1, 1, 1, 2, 2]
    # The fit uses the calibration runs and leaves the warm-ups out (they include starting the workers).
    timed = [recommend.TimingSample(r.warehouse_size, r.rows, r.total_seconds) for r in runs]
    calibration_only = [t for t, r in zip(timed, runs, strict=True) if r.kind == RUN_CALIBRATION]
    expected = recommend.fit_time_model(calibration_only, local=True)
    assert dataclasses.astuple(advice.model) == pytest.approx(dataclasses.astuple(expected))
    assert advice.rows == rows and advice.recommended in advice.forecasts
    again = engine.recommend_size(model.name, "CANCER").model
    assert dataclasses.astuple(again) == pytest.approx(dataclasses.astuple(advice.model))
    # The runs of the table itself (the timing graph's) do not include the calibration's samples' outputs.
    assert {r.kind for r in engine.list_runs(model.name, "CANCER")} == {RUN_CALIBRATION, RUN_WARMUP}


@pytest.mark.slow
def test_a_cancelled_calibration_drops_its_samples(trained, monkeypatch, small_batches) -> None:
    engine, model = trained
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    before = _data_tables(engine)
    plan = engine.plan_calibration(model.name, "CANCER")
    token = CancelToken()
    task = TaskContext(token, lambda _f, text: token.cancel() if text.startswith("Run 3 of") else None)
    with pytest.raises(Cancelled):
        engine.calibrate(plan, task=task)
    assert _data_tables(engine) == before
    runs = engine.list_runs(model.name)
    assert len(runs) == 2 and {r.source_table for r in runs} == {"CANCER"}  # cancelled before the third
    assert {r.kind for r in runs} <= {RUN_CALIBRATION, RUN_WARMUP}


def test_a_table_without_the_features_is_refused_before_any_sample(trained) -> None:
    engine, model = trained
    before = _data_tables(engine)
    with pytest.raises(InvalidInput, match="lacks the model's feature") as info:
        engine.plan_calibration(model.name, "CHURN")
    assert "Calibrate on a table" in info.value.hint
    assert _data_tables(engine) == before and engine.list_runs(model.name) == []


def test_a_table_of_one_batch_has_nothing_to_calibrate(trained, monkeypatch) -> None:
    """One worker takes one batch (65,536 rows), so Small scores a 483-row table with one worker too: timing
    it at two sizes could not tell serial from parallel work, and the plan says so instead."""
    engine, model = trained
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    with pytest.raises(InvalidInput, match="one worker scores it at any size") as info:
        engine.plan_calibration(model.name, "CANCER")
    assert "483 rows, one batch of 65,536" in str(info.value) and "X-Small" in str(info.value)
    assert engine.list_runs(model.name) == []
