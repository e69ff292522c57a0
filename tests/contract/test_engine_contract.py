"""The engine protocol's promises, checked on every engine in ``conftest.HARNESSES``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from snowml_desktop.core.errors import AlreadyExists, Cancelled, IntegrityError, InvalidInput, NotFound
from snowml_desktop.core.records import RUN_CANCELLED, RUN_FAILED, RUN_SUCCEEDED, ModelRecord
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    CHECK_MISSING,
    CHECK_OK,
    CHECK_STATUSES,
    Engine,
    LoadRequest,
    ScoreRequest,
    TrainRequest,
)

FAST_RF = {"n_estimators": 10, "max_depth": 4}


@pytest.fixture(scope="module")
def bc_model(engine: Engine) -> ModelRecord:
    return engine.train(TrainRequest(table="BC", target="DIAGNOSIS", method="random_forest", params=FAST_RF))


@pytest.fixture(scope="module")
def churn_model(engine: Engine) -> ModelRecord:
    return engine.train(
        TrainRequest(table="churn", target="churned", method="logistic_regression", cv_folds=2)
    )


def _table_names(engine: Engine) -> set[str]:
    return {t.name for t in engine.list_tables()}


# --- setup -----------------------------------------------------------------------------------------------
def test_a_ready_engine_needs_no_setup_and_running_it_again_changes_nothing(engine: Engine) -> None:
    """Every harness hands over an engine that works (the Snowflake one after running setup)."""
    plan = engine.plan_setup()
    assert not plan.needed and plan.reason
    tables, models = engine.list_tables(), engine.list_models()
    again = engine.run_setup()
    assert not again.needed and again == engine.plan_setup()
    assert engine.list_tables() == tables and engine.list_models() == models


# --- stages and loading ----------------------------------------------------------------------------------
def test_the_account_check_reads_only_and_finds_a_ready_engine_set_up(engine: Engine) -> None:
    before = (_table_names(engine), [m.name for m in engine.list_models()], engine.warehouse())
    seen: list[str] = []

    def listener(activity) -> None:  # noqa: ANN001
        seen.append(activity.operation)

    engine.add_activity_listener(listener)
    try:
        check = engine.check_account()
    finally:
        engine.remove_activity_listener(listener)
    assert check.engine == engine.kind and check.lines
    assert all(line.status in CHECK_STATUSES and line.name and line.detail for line in check.lines)
    assert all(line.fix for line in check.lines if line.status == CHECK_MISSING)
    assert next(line for line in check.lines if line.name == "setup").status == CHECK_OK
    assert "check_account" in seen
    assert (_table_names(engine), [m.name for m in engine.list_models()], engine.warehouse()) == before


def test_stages_files_and_upload(engine: Engine, tmp_path: Path) -> None:
    assert {"LOAD_DATA", "MODELS"} <= set(engine.list_stages())
    extra = tmp_path / "tiny.csv"
    extra.write_text("A,B\n1,x\n2,y\n")
    uploaded = engine.upload([extra], "load_data")
    assert [(f.stage, f.name, f.size) for f in uploaded] == [("LOAD_DATA", "tiny.csv", extra.stat().st_size)]
    files = engine.list_files("LOAD_DATA")
    assert [f.name for f in files] == sorted(f.name for f in files)
    assert {"tiny.csv", "BREAST_CANCER.csv", "CHURN.csv"} <= {f.name for f in files}
    with pytest.raises(NotFound):
        engine.list_files("NO_SUCH_STAGE")
    with pytest.raises(NotFound):
        engine.upload([tmp_path / "missing.csv"], "LOAD_DATA")


def test_load_and_table_statistics(engine: Engine) -> None:
    result = engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table="bc_copy"))
    assert (result.table, result.rows_loaded, result.rows_rejected) == ("BC_COPY", 483, 0)
    with pytest.raises(AlreadyExists):
        engine.load(LoadRequest(stage="LOAD_DATA", file="BREAST_CANCER.csv", table="BC_COPY"))
    tables = {t.name: t for t in engine.list_tables()}
    assert tables["BC"].rows == 483 and tables["BC"].columns == 31 and tables["CHURN"].rows == 7000
    assert len(engine.preview("BC", limit=7)) == 7
    profile = engine.profile("CHURN")
    columns = {c.name: c for c in profile.columns}
    assert profile.rows == 7000 and columns["AGE"].count + columns["AGE"].nulls == 7000
    assert columns["AGE"].min <= columns["AGE"].median <= columns["AGE"].max
    assert columns["CONTRACT"].top_values and columns["CONTRACT"].top_values[0][1] > 0
    histogram = engine.histogram("BC", "MEAN_RADIUS", bins=10)
    assert len(histogram.edges) == len(histogram.counts) + 1 and sum(histogram.counts) == 483
    balance = engine.class_balance("BC", "DIAGNOSIS")
    assert sorted(balance.labels) == ["benign", "malignant"] and sum(balance.counts) == 483
    correlation = engine.correlation("BC", ["MEAN_RADIUS", "MEAN_AREA"])
    assert correlation.matrix[0][0] == pytest.approx(1.0) and correlation.matrix[0][1] > 0.9
    engine.drop_table("BC_COPY")
    assert "BC_COPY" not in _table_names(engine)
    with pytest.raises(NotFound):
        engine.preview("BC_COPY")


# --- training and the catalog ----------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["bc_model", "churn_model"])
def test_trained_models_are_complete_and_consistent(engine: Engine, which: str, request) -> None:
    model: ModelRecord = request.getfixturevalue(which)
    assert engine.get_model(model.name) == model
    assert model.name in {m.name for m in engine.list_models()}
    n = len(model.classes)
    assert (
        n == 2 and len(model.confusion_matrix) == n and all(len(row) == n for row in model.confusion_matrix)
    )
    assert sum(map(sum, model.confusion_matrix)) == model.rows_test
    assert model.rows_train + model.rows_test <= model.rows_total
    assert 0.5 < model.metrics["accuracy"] <= 1 and model.metrics["roc_auc"] is not None
    for kind, x in (("roc", "fpr"), ("pr", "recall")):
        assert model.curves[kind] and all(len(curve[x]) <= 200 for curve in model.curves[kind])
    assert model.feature_importance and model.features and model.target not in model.feature_names
    assert model.artifact_sha256 and model.artifact_path and model.library_versions
    assert model.train_seconds > 0 and model.warehouse_size and model.warehouse_type
    assert {"test_size", "seed", "cv_folds", "class_weight", "dedupe", "keep_clone", "optimized"} <= set(
        model.options
    )


def test_churn_model_excludes_the_id_and_reports_cv(churn_model: ModelRecord) -> None:
    assert "CUSTOMER_ID" not in churn_model.feature_names
    assert any(c["column"] == "CUSTOMER_ID" for c in churn_model.excluded_columns)
    assert churn_model.cv is not None and churn_model.cv["folds"] == 2


def test_train_errors(engine: Engine) -> None:
    with pytest.raises(NotFound):
        engine.train(TrainRequest(table="NO_SUCH_TABLE", target="X"))
    with pytest.raises(InvalidInput):
        engine.train(TrainRequest(table="BC", target="NO_SUCH_COLUMN"))
    with pytest.raises(NotFound):
        engine.get_model("NO_SUCH_MODEL")


# --- scoring and runs ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_score_with_labels(engine: Engine, bc_model: ModelRecord) -> None:
    assert engine.check_scoring_input(bc_model.name, "BC_NEW") == []
    run = engine.score(ScoreRequest(model=bc_model.name, table="bc_new"))
    assert run.status == RUN_SUCCEEDED and run.rows == 86 and run.model == bc_model.name
    assert run.output_table == f"BC_NEW_{bc_model.name}_INF"
    input_columns = [c.name for c in engine.table_columns("BC_NEW")]
    output_columns = [c.name for c in engine.table_columns(run.output_table)]
    assert output_columns == [*input_columns, "PREDICTION", "PREDICTION_PROBABILITY"]
    preview = engine.preview(run.output_table)
    assert set(preview["PREDICTION"]) <= set(bc_model.classes)
    assert preview["PREDICTION_PROBABILITY"].between(0, 1).all()
    assert sum(map(sum, run.confusion_matrix)) == 86 and run.metrics["accuracy"] > 0.8
    assert run.total_seconds >= run.scoring_seconds >= 0 and run.credits >= 0
    assert engine.get_run(run.run_id) == run
    assert engine.list_runs(model=bc_model.name, table="BC_NEW")[0] == run
    with pytest.raises(AlreadyExists):
        engine.score(ScoreRequest(model=bc_model.name, table="BC_NEW"))
    again = engine.score(ScoreRequest(model=bc_model.name, table="BC_NEW", overwrite=True, size="Small"))
    assert again.warehouse_size == "Small" and engine.warehouse().size == "X-Small"


def test_score_generated_table_and_unlabelled_input(
    engine: Engine, harness, churn_model: ModelRecord, bc_model: ModelRecord, tmp_path: Path
) -> None:
    engine.create_demo_table("CHURN_FRESH", 500, seed=3, replace=True)
    run = engine.score(ScoreRequest(model=churn_model.name, table="CHURN_FRESH", output="fresh_scored"))
    assert run.output_table == "FRESH_SCORED" and run.rows == 500 and run.metrics is not None
    # A file without the label column: scored, but no metrics.
    import csv

    source = next(p for p in harness.demo_files if p.name == "BREAST_CANCER_NEW_PATIENTS.csv")
    unlabelled = tmp_path / "UNLABELLED.csv"
    with source.open() as read, unlabelled.open("w", newline="") as write:
        writer = csv.writer(write)
        for row in csv.reader(read):
            writer.writerow(row[:-1])  # DIAGNOSIS is the last column
    engine.upload([unlabelled], "LOAD_DATA")
    engine.load(LoadRequest(stage="LOAD_DATA", file="UNLABELLED.csv", table="UNLABELLED", mode="replace"))
    blind = engine.score(ScoreRequest(model=bc_model.name, table="UNLABELLED"))
    assert blind.rows == 86 and blind.metrics is None and blind.confusion_matrix is None


def test_scoring_input_errors(engine: Engine, bc_model: ModelRecord, churn_model: ModelRecord) -> None:
    missing = engine.check_scoring_input(bc_model.name, "CHURN")
    assert "MEAN_RADIUS" in missing
    with pytest.raises(InvalidInput, match="MEAN_RADIUS"):
        engine.score(ScoreRequest(model=bc_model.name, table="CHURN"))
    with pytest.raises(NotFound):
        engine.score(ScoreRequest(model="NO_SUCH_MODEL", table="BC_NEW"))
    with pytest.raises(InvalidInput):
        engine.set_warehouse(size="Gigantic")


def test_tampered_artifact_is_refused(engine: Engine, harness) -> None:
    victim = engine.train(TrainRequest(table="BC", target="DIAGNOSIS", method="gaussian_nb"))
    harness.tamper_artifact(victim.name)
    with pytest.raises(IntegrityError):
        engine.score(ScoreRequest(model=victim.name, table="BC_NEW", output="TAMPERED_OUT"))
    assert "TAMPERED_OUT" not in _table_names(engine)
    assert engine.list_runs(model=victim.name)[0].status == RUN_FAILED
    engine.delete_model(victim.name)
    with pytest.raises(NotFound):
        engine.get_model(victim.name)


def test_cancelled_scoring_leaves_nothing(engine: Engine, churn_model: ModelRecord) -> None:
    engine.create_demo_table("CHURN_BIG", 50_000, seed=5, replace=True)
    before = _table_names(engine)
    task = TaskContext()
    running, cancelled = threading.Event(), threading.Event()

    def progress(_fraction: float, _text: str) -> None:
        running.set()
        cancelled.wait(30)  # hold the run until the other thread has cancelled it

    def cancel_when_running() -> None:
        running.wait(30)
        task.token.cancel()
        cancelled.set()

    task.progress = progress
    canceller = threading.Thread(target=cancel_when_running)
    canceller.start()
    with pytest.raises(Cancelled):
        engine.score(
            ScoreRequest(model=churn_model.name, table="CHURN_BIG", output="CANCELLED_OUT"), task=task
        )
    canceller.join()
    assert _table_names(engine) == before
    assert engine.list_runs(table="CHURN_BIG")[0].status == RUN_CANCELLED


# --- warehouse -------------------------------------------------------------------------------------------
def test_warehouse_set_and_get(engine: Engine) -> None:
    original = engine.warehouse()
    try:
        state = engine.set_warehouse(size="Medium", type="SNOWPARK-OPTIMIZED")
        assert (state.size, state.type) == ("Medium", "SNOWPARK-OPTIMIZED")
        assert engine.warehouse() == state and state.credits_per_hour == 6.0
        with pytest.raises(InvalidInput):
            engine.set_warehouse(type="QUANTUM")
        assert engine.warehouse() == state
    finally:
        engine.set_warehouse(size=original.size, type=original.type)
    assert engine.warehouse() == original


# --- activity --------------------------------------------------------------------------------------------
def test_activity_reports_operations_and_a_broken_listener_changes_nothing(engine: Engine) -> None:
    seen = []

    def broken(_activity: object) -> None:
        raise RuntimeError("listener bug")

    engine.add_activity_listener(broken)
    engine.add_activity_listener(seen.append)
    try:
        tables = engine.list_tables()  # still returns, though a listener raised
        with pytest.raises(NotFound):
            engine.profile("NO_SUCH_TABLE")
    finally:
        engine.remove_activity_listener(broken)
        engine.remove_activity_listener(seen.append)
    assert {t.name for t in tables} == _table_names(engine)
    assert [(a.ok, a.seconds >= 0) for a in seen[-2:]] == [(True, True), (False, True)]
    assert seen[-1].detail == "NO_SUCH_TABLE"
