"""The SNOWML_TRAIN / SNOWML_SCORE procedure bodies in a Snowpark local-testing session.

Real parts: the local-testing session (tables, DataFrame API, scalar UDFs, temporary procedures), the ML core,
artifacts and catalog rows. Stand-ins (tests/snowflake/conftest.py) only for what local testing cannot run:
stage file removal (a folder), CLONE / DROP FUNCTION SQL, the sequence, and calling a multi-column vectorized
UDF (a scalar UDF running the same vectorized handler on one-row batches).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from tests.snowflake.conftest import BASE

from snowml_desktop.core import records
from snowml_desktop.core.errors import AlreadyExists, EngineError, IntegrityError, InvalidInput, NotFound
from snowml_desktop.engines.snowflake import procedures, sql, udf

MODEL = "LOGISTIC_REGRESSION_1"  # the name the ``wh`` fixture trains under


def _raises(result: str, error: type[EngineError]) -> EngineError:
    with pytest.raises(error) as info:
        procedures.decode_result(result)
    return info.value


# --- the workflow ---------------------------------------------------------------------------------------------
def test_train_then_score_writes_catalog_and_run_rows(wh: Any) -> None:
    row = procedures.decode_result(wh.train(table="CANCER", target="target", keep_clone=True))
    assert set(row) == {c for c, _ in records.MODELS_CATALOG_COLUMNS}
    record = procedures.get_model(wh.session, procedures.Place(wh.loc, "X-Small", "STANDARD"), MODEL)
    assert record.name == MODEL and record.target == "target"
    assert record.classes == ["benign", "malignant"]
    assert len(record.features) == 30 and record.metrics["accuracy"] > 0.85
    assert record.training_table == f"CANCER_CLONE_{MODEL}"
    assert wh.ops.comments[record.training_table] == f"Training data of snowml-desktop model {MODEL}"
    assert wh.session.table(wh.loc.data(record.training_table)).count() == 300
    assert wh.stage.paths() == [record.artifact_path]
    assert record.artifact_path == f'@"{wh.loc.database}"."SNOWML"."MODELS"/{MODEL}.joblib'
    assert record.warehouse_size == "X-Small" and record.rows_total == 300
    assert wh.registrar.registered == [wh.loc.app(udf.udf_name(MODEL))]

    run = procedures.decode_result(wh.score(table="NEW_PATIENTS"))
    assert set(run) == {c for c, _ in records.INFERENCE_RUNS_COLUMNS}
    stored = [records.run_from_row(r) for r in wh.rows(sql.INFERENCE_RUNS)]
    assert len(stored) == 1 and stored[0].status == records.RUN_SUCCEEDED
    assert stored[0].output_table == f"NEW_PATIENTS_{MODEL}_INF" and stored[0].rows == 25
    assert stored[0].classes == ["benign", "malignant"]
    assert sum(map(sum, stored[0].confusion_matrix)) == 25
    assert stored[0].metrics["accuracy"] > 0.8 and len(stored[0].metrics["per_class"]) == 2
    assert stored[0].credits == pytest.approx(60 / 3600, rel=1e-3)  # X-Small, the 60 s minimum
    assert stored[0].query_ids and stored[0].scoring_seconds <= stored[0].total_seconds

    output = wh.session.table(wh.loc.data(f"NEW_PATIENTS_{MODEL}_INF"))
    names = [f.name for f in output.schema.fields]
    assert names[-2:] == ["PREDICTION", "PREDICTION_PROBABILITY"] and len(names) == 33
    assert {type(f.datatype).__name__ for f in output.schema.fields[-2:]} == {"StringType", "DoubleType"}
    frame = output.to_pandas()
    assert set(frame["PREDICTION"]) <= {"benign", "malignant"}
    assert frame["PREDICTION_PROBABILITY"].between(0.5, 1.0).all()


def test_score_without_target_has_no_metrics_and_rescoring_replaces_old_predictions(
    wh: Any, cancer: Any
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    wh.load("UNLABELLED", cancer.drop(columns=["target"]).iloc[440:460])
    run = records.run_from_row(procedures.decode_result(wh.score(table="UNLABELLED", output="SCORED")))
    assert run.metrics is None and run.confusion_matrix is None and run.rows == 20
    # Scoring an already scored table keeps one PREDICTION column, freshly computed.
    procedures.decode_result(wh.score(table="SCORED", output="SCORED_AGAIN"))
    names = [f.name for f in wh.session.table(wh.loc.data("SCORED_AGAIN")).schema.fields]
    assert names.count("PREDICTION") == 1 and names.count("PREDICTION_PROBABILITY") == 1


def test_unseen_label_in_scored_table_counts_as_a_miss(wh: Any, cancer: Any) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    odd = cancer.iloc[440:450].copy()
    odd["target"] = "unknown"
    wh.load("ODD", odd)
    run = records.run_from_row(procedures.decode_result(wh.score(table="ODD")))
    assert run.classes[:2] == ["benign", "malignant"] and "unknown" in run.classes
    assert run.metrics["accuracy"] == 0.0


def test_procedure_handlers_register_and_return_typed_errors(wh: Any) -> None:
    """The handlers register as Snowpark procedures (their hints resolve) and errors cross as codes."""
    from snowflake.snowpark.types import StringType

    request = {**wh.base, "model_name": MODEL, "table": "MISSING", "target": "y"}
    wh.session.sproc.register(
        procedures.train_procedure, name="SNOWML_TRAIN", input_types=[StringType()], return_type=StringType()
    )
    result = wh.session.call("SNOWML_TRAIN", json.dumps(request))
    error = _raises(result, NotFound)
    assert "MISSING" in str(error)


# --- bad input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_patch", "error", "words"),
    [
        ({"table": "NOPE"}, NotFound, "NOPE"),
        ({"target": "no such column"}, InvalidInput, "no such column"),
        ({"model_name": 'X"; DROP TABLE T; --'}, InvalidInput, "model name"),
        ({"method": "quantum"}, InvalidInput, "quantum"),
        ({"warehouse_size": "HUGE"}, InvalidInput, "HUGE"),
    ],
)
def test_bad_train_requests_change_nothing(
    wh: Any, request_patch: dict, error: type[EngineError], words: str
) -> None:
    request = {"table": "CANCER", "target": "target", **request_patch}
    assert words in str(_raises(wh.train(**request), error))
    assert wh.rows(sql.MODELS_CATALOG) == [] and wh.stage.paths() == []


def test_model_name_taken_is_refused(wh: Any) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    _raises(wh.train(table="CANCER", target="target"), AlreadyExists)
    assert len(wh.rows(sql.MODELS_CATALOG)) == 1 and len(wh.stage.paths()) == 1


def test_existing_clone_table_is_refused_and_kept(wh: Any, cancer: Any) -> None:
    wh.load(f"CANCER_CLONE_{MODEL}", cancer.iloc[:5])
    _raises(wh.train(table="CANCER", target="target", keep_clone=True), AlreadyExists)
    assert wh.session.table(wh.loc.data(f"CANCER_CLONE_{MODEL}")).count() == 5
    assert wh.stage.paths() == [] and wh.rows(sql.MODELS_CATALOG) == []


# --- atomic training: a failure at each step leaves nothing behind ----------------------------------------------
class Boom(RuntimeError):
    pass


def _fail(*_: Any, **__: Any) -> None:
    raise Boom("injected failure")


@pytest.mark.parametrize("step", ["clone", "fit", "artifact", "udf", "catalog"])
def test_training_failure_at_each_step_removes_what_was_created(
    wh: Any, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    if step == "fit":
        monkeypatch.setattr(procedures, "_fit", _fail)
    elif step == "artifact":
        monkeypatch.setattr(wh.stage, "put", _fail)
    elif step == "clone":
        monkeypatch.setattr(wh.ops, "clone_table", _fail)
    elif step == "udf":
        wh.services.register_udf = _fail
    else:
        monkeypatch.setattr(procedures, "_insert_row", _fail)
    error = _raises(wh.train(table="CANCER", target="target", keep_clone=True), EngineError)
    assert "injected failure" in str(error)
    assert wh.stage.paths() == []
    assert not wh.exists(f"CANCER_CLONE_{MODEL}")
    assert wh.rows(sql.MODELS_CATALOG) == []
    registered = step == "catalog"
    assert bool(wh.ops.dropped_functions) == registered
    if registered:
        assert wh.ops.dropped_functions == [(udf.udf_name(MODEL), ["FLOAT"] * 30)]


# --- scoring failures: a FAILED run row, no output table -----------------------------------------------------
def _failed_runs(wh: Any) -> list[records.InferenceRun]:
    runs = [records.run_from_row(r) for r in wh.rows(sql.INFERENCE_RUNS)]
    assert all(r.status == records.RUN_FAILED and r.output_table is None for r in runs)
    return runs


def test_tampered_artifact_is_refused_before_scoring(wh: Any) -> None:
    record = records.model_from_row(procedures.decode_result(wh.train(table="CANCER", target="target")))
    wh.stage.file(record.artifact_path).write_bytes(b"not the model")
    error = _raises(wh.score(table="NEW_PATIENTS"), IntegrityError)
    assert "changed after training" in str(error)
    assert [r.error for r in _failed_runs(wh)] == [str(error)]
    assert not wh.exists(f"NEW_PATIENTS_{MODEL}_INF")


def test_missing_features_are_named(wh: Any, cancer: Any) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    wh.load("PARTIAL", cancer.drop(columns=["mean radius", "worst area"]).iloc[:10])
    error = _raises(wh.score(table="PARTIAL"), InvalidInput)
    assert "mean radius" in str(error) and "worst area" in str(error)
    assert len(_failed_runs(wh)) == 1 and not wh.exists(f"PARTIAL_{MODEL}_INF")


def test_unknown_model_and_existing_output(wh: Any, cancer: Any) -> None:
    _raises(wh.score(table="NEW_PATIENTS"), NotFound)
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    wh.load("TAKEN", cancer.iloc[:3])
    error = _raises(wh.score(table="NEW_PATIENTS", output="TAKEN"), AlreadyExists)
    assert error.row["STATUS"] == records.RUN_FAILED  # type: ignore[attr-defined]
    assert wh.session.table(wh.loc.data("TAKEN")).count() == 3
    procedures.decode_result(wh.score(table="NEW_PATIENTS", output="TAKEN", overwrite=True))
    assert wh.session.table(wh.loc.data("TAKEN")).count() == 25
    _raises(wh.score(table="NEW_PATIENTS", output="NEW_PATIENTS", overwrite=True), InvalidInput)
    assert wh.session.table(wh.loc.data("NEW_PATIENTS")).count() == 25


def test_failure_after_the_output_was_written_drops_it(wh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    real_insert = procedures._insert_row
    calls: list[str] = []

    def insert_fails_once(session: Any, table: str, columns: Any, row: dict) -> None:
        calls.append(row["STATUS"])
        if len(calls) == 1:
            raise Boom("injected failure")
        real_insert(session, table, columns, row)

    monkeypatch.setattr(procedures, "_insert_row", insert_fails_once)
    _raises(wh.score(table="NEW_PATIENTS"), EngineError)
    assert calls == [records.RUN_SUCCEEDED, records.RUN_FAILED]
    assert not wh.exists(f"NEW_PATIENTS_{MODEL}_INF")
    assert "injected failure" in _failed_runs(wh)[0].error


# --- hostile names ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table", ['we"ird; DROP TABLE X; --', "select", "Ünïcode tåble", "a.b", "lower"])
def test_hostile_table_and_column_names_round_trip(empty_wh: Any, cancer: Any, table: str) -> None:
    wh = empty_wh
    frame = cancer.iloc[:80, :4].copy()
    frame['label "quoted"'] = cancer["target"].iloc[:80]
    frame["group"] = ["a", "b"] * 40  # a reserved word as a categorical column
    wh.load(table, frame.iloc[:60])
    wh.load(f"{table} new", frame.iloc[60:])
    row = procedures.decode_result(wh.train(table=table, target='label "quoted"', keep_clone=True))
    record = records.model_from_row(row)
    assert record.source_table == table and record.training_table == f"{table}_CLONE_{MODEL}"
    assert [f.name for f in record.features][-1] == "group"
    run = records.run_from_row(procedures.decode_result(wh.score(table=f"{table} new")))
    assert run.output_table == f"{table} new_{MODEL}_INF" and run.rows == 20
    assert wh.session.table(wh.loc.data(run.output_table)).count() == 20
    assert run.metrics is not None and sum(map(sum, run.confusion_matrix)) == 20
    assert record.drift_profile and run.drift and run.drift["rows"] == 20  # the names survive the SQL too


def test_big_tables_are_sampled_before_training(wh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procedures, "MAX_TRAINING_ROWS", 150)
    record = records.model_from_row(procedures.decode_result(wh.train(table="CANCER", target="target")))
    assert "training_sampled" in [w.code for w in record.warnings]
    assert 60 <= record.rows_total <= 260  # a seeded Bernoulli sample of about 150 of the 300 rows


def test_session_stage_io_round_trips_artifact_bytes(snowpark_session: Any) -> None:
    """The production StageIO on ``session.file`` streams (local testing has put/get, not REMOVE)."""
    stage = procedures.SessionStageIO(snowpark_session)
    path = procedures.Place(sql.Location("DB", "SNOWML", "DATA"), "X-Small", "STANDARD").artifact_path(MODEL)
    stage.put(path, b"\x00model bytes\xff")
    assert stage.get(path) == b"\x00model bytes\xff"
    with pytest.raises(NotFound, match="missing from its stage"):
        stage.get(path.replace(MODEL, "OTHER_1"))


def test_procedure_calls_tag_their_statements_then_restore_the_app_tag(
    wh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local testing cannot run ALTER SESSION, so the session's query_tag setter is recorded instead."""
    from snowflake.snowpark import Session

    from snowml_desktop import __version__

    tags: list[str] = []
    monkeypatch.setattr(Session, "query_tag", property(lambda self: None, lambda self, tag: tags.append(tag)))
    result = procedures.train_procedure(
        wh.session, json.dumps({**wh.base, "model_name": MODEL, "table": "NOPE", "target": "y"})
    )
    _raises(result, NotFound)
    procedures.load_procedure(wh.session, "not json")
    prefix = f"snowml-desktop/{__version__}/"
    assert tags == [prefix + "train", prefix + "session", prefix + "load", prefix + "session"]


def test_procedure_work_goes_on_when_the_tag_cannot_be_set(wh: Any) -> None:
    """The tag only attributes cost (here local testing refuses ALTER SESSION): the error is the real one."""
    result = procedures.train_procedure(
        wh.session, json.dumps({**wh.base, "model_name": MODEL, "table": "NOPE", "target": "y"})
    )
    assert "NOPE" in str(_raises(result, NotFound))


def test_a_saved_threshold_relabels_the_udf_result_and_is_recorded_on_the_run(wh: Any) -> None:
    from snowflake.snowpark.functions import lit

    procedures.decode_result(wh.train(table="CANCER", target="target"))
    plain = records.run_from_row(procedures.decode_result(wh.score(table="NEW_PATIENTS", output="PLAIN")))
    assert plain.threshold is None
    before = wh.session.table(wh.loc.data("PLAIN")).to_pandas()
    # classes are ["benign", "malignant"]: the positive class is "malignant".
    p_positive = before["PREDICTION_PROBABILITY"].where(
        before["PREDICTION"] == "malignant", 1 - before["PREDICTION_PROBABILITY"]
    )
    threshold = float(p_positive.sort_values().iloc[len(p_positive) // 2])  # relabels some rows for sure
    wh.session.table(wh.loc.app(sql.MODELS_CATALOG)).update({'"THRESHOLD"': lit(threshold)})

    run = records.run_from_row(procedures.decode_result(wh.score(table="NEW_PATIENTS", output="CUT")))
    assert run.threshold == pytest.approx(threshold)
    after = wh.session.table(wh.loc.data("CUT")).to_pandas()
    expected = p_positive.ge(threshold).map({True: "malignant", False: "benign"})
    assert after["PREDICTION"].tolist() == expected.tolist()
    assert (after["PREDICTION"] != before["PREDICTION"]).any()
    chosen = p_positive.where(expected == "malignant", 1 - p_positive)
    assert after["PREDICTION_PROBABILITY"].tolist() == pytest.approx(chosen.tolist())


# --- drift, run end to end through the procedures' own SQL -------------------------------------------------
# ``session.sql`` goes to the warehouse stand-in (tests/snowflake/sf_fake_procedure_sql.py): the procedures'
# statements run on DuckDB over the local-testing session's tables.
def test_training_stores_a_drift_profile_and_each_run_records_drift_with_the_training_overlap(
    wh: Any, cancer: Any
) -> None:
    import numpy as np

    record = records.model_from_row(procedures.decode_result(wh.train(table="CANCER", target="target")))
    profile = record.drift_profile
    assert profile is not None and profile["rows"] == 300 and len(profile["features"]) == 30
    radius = cancer["mean radius"].iloc[:300].to_numpy()
    assert profile["features"]["mean radius"]["edges"] == pytest.approx(
        np.percentile(radius, [10 * i for i in range(1, 10)])
    )
    assert profile["predictions"]["classes"] == ["benign", "malignant"]
    assert any("PERCENTILE_CONT" in s for s in wh.warehouse.statements)  # computed in the warehouse

    new = records.run_from_row(procedures.decode_result(wh.score(table="NEW_PATIENTS")))
    assert new.drift["rows"] == 25 and len(new.drift["features"]) == 30
    assert new.drift["overlap_rows"] == 0 and new.drift["training_table"] == "CANCER"
    assert sum(new.drift["predictions"]["actual"]) == pytest.approx(1.0)
    wh.load("SEEN", cancer.iloc[250:300])  # rows the model was trained on
    seen = records.run_from_row(procedures.decode_result(wh.score(table="SEEN")))
    assert seen.drift["rows"] == 50 and seen.drift["overlap_rows"] == 50


def test_a_profile_above_the_sample_threshold_takes_its_deciles_from_a_fixed_size_row_sample(
    wh: Any, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PROFILE_SAMPLE_ROWS the procedure's quantile and top-category statements read
    ``SAMPLE ROW (n ROWS)`` of the training table; the counts still read every row."""
    import numpy as np

    from snowml_desktop.core import drift

    monkeypatch.setattr(drift, "PROFILE_SAMPLE_ROWS", 150)
    record = records.model_from_row(procedures.decode_result(wh.train(table="CANCER", target="target")))
    profile = record.drift_profile
    assert profile is not None and profile["rows"] == 300 and profile["sample_rows"] == 150
    quantiles = [s for s in wh.warehouse.statements if "PERCENTILE_CONT" in s]
    assert quantiles and all("SAMPLE ROW (150 ROWS)" in s for s in quantiles)
    radius = cancer["mean radius"].iloc[:300].to_numpy()
    edges = profile["features"]["mean radius"]["edges"]
    assert edges != pytest.approx(list(np.percentile(radius, [10 * i for i in range(1, 10)])), rel=1e-12)
    ranks = [float((radius < edge).mean()) for edge in edges]
    assert ranks == pytest.approx([0.1 * i for i in range(1, 10)], abs=0.12)  # 150 rows: about 0.02-0.04
    counts = np.histogram(radius, bins=[-np.inf, *edges, np.inf])[0]
    assert profile["features"]["mean radius"]["shares"] == pytest.approx(list(counts / 300))  # every row


# --- scheduled runs: scoring a stream's new rows --------------------------------------------------------------
# A local-testing session has no streams; a table of the stream's change rows (the table's columns plus
# METADATA$ACTION / METADATA$ISUPDATE, https://docs.snowflake.com/en/user-guide/streams-intro) stands in for
# one, and the warehouse stand-in advances its offset by the documented rules (sf_fake_account.RULES:
# stream_offset_on_dml_commit, ddl_commits_transaction, rollback_undoes_dml ...).
def _stream_stand_in(wh: Any, name: str, frame: pd.DataFrame, actions: list[str]) -> str:
    wh.load(name, frame.assign(**{"METADATA$ACTION": actions, "METADATA$ISUPDATE": False}))
    return wh.warehouse.stream(wh.loc.data(name))


def _add_changes(wh: Any, stream: str, frame: pd.DataFrame) -> None:
    """Rows inserted into the table after the stream's offset."""
    changes = frame.assign(**{"METADATA$ACTION": "INSERT", "METADATA$ISUPDATE": False})
    wh.session.create_dataframe(changes).write.save_as_table(stream, mode="append", column_order="name")


def _scheduled(wh: Any, stream: str, output: str = "SCORED") -> str:
    return wh.score(table="CANCER", output=output, source_stream=stream)


def _staging_tables(wh: Any) -> list[str]:
    return [t for t in wh.session._conn.entity_registry.table_registry if procedures.STAGING_PREFIX in t]


def test_a_scheduled_run_appends_the_new_rows_and_records_their_metrics_and_drift(
    wh: Any, cancer: Any
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    stream = _stream_stand_in(wh, "NEW_ROWS", cancer.iloc[440:452], ["INSERT"] * 10 + ["DELETE"] * 2)
    run = records.run_from_row(procedures.decode_result(_scheduled(wh, stream)))
    assert run.status == records.RUN_SUCCEEDED and run.rows == 10 and run.output_table == "SCORED"
    assert sum(map(sum, run.confusion_matrix)) == 10 and run.metrics["accuracy"] > 0.7
    assert run.drift["rows"] == 10 and run.drift["table"] == "CANCER" and run.threshold is None
    assert wh.session.table(stream).count() == 0  # the offset moved past the rows it appended
    assert wh.warehouse.commits == 1 and not wh.warehouse.in_transaction and not _staging_tables(wh)

    _add_changes(wh, stream, cancer.iloc[452:457])
    again = records.run_from_row(procedures.decode_result(_scheduled(wh, stream)))
    assert again.rows == 5 and again.run_id != run.run_id
    assert sum(map(sum, again.confusion_matrix)) == 5 and again.drift["rows"] == 5  # this run's rows only
    output = wh.session.table(wh.loc.data("SCORED"))
    names = [f.name.strip('"') for f in output.schema.fields]
    assert output.count() == 15 and not any(n.startswith("METADATA$") for n in names)
    assert names[-2:] == ["PREDICTION", "PREDICTION_PROBABILITY"]
    stored = [records.run_from_row(r) for r in wh.rows(sql.INFERENCE_RUNS)]
    assert sorted(r.rows for r in stored) == [5, 10] and all(r.drift for r in stored)


@pytest.mark.parametrize("output_existed", [False, True])
def test_a_failure_between_consume_and_append_leaves_the_rows_for_the_next_run(
    wh: Any, cancer: Any, output_existed: bool
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    stream = _stream_stand_in(wh, "NEW_ROWS", cancer.iloc[440:445], ["INSERT"] * 5)
    if output_existed:  # a first run appended these five
        procedures.decode_result(_scheduled(wh, stream))
        _add_changes(wh, stream, cancer.iloc[445:452])
    pending = wh.session.table(stream).count()
    wh.warehouse.fail_next_insert(wh.loc.data("SCORED"), "injected: the warehouse failed mid-run")

    failed = _raises(_scheduled(wh, stream), EngineError)
    assert "injected" in str(failed) and wh.warehouse.rollbacks == 1
    assert wh.session.table(stream).count() == pending  # not consumed
    assert wh.exists("SCORED") == output_existed and not _staging_tables(wh)
    if output_existed:
        assert wh.session.table(wh.loc.data("SCORED")).count() == 5
    assert records.run_from_row(wh.rows(sql.INFERENCE_RUNS)[-1]).status == records.RUN_FAILED

    retried = records.run_from_row(procedures.decode_result(_scheduled(wh, stream)))
    assert retried.rows == pending and wh.session.table(stream).count() == 0
    scored = wh.session.table(wh.loc.data("SCORED")).to_pandas()
    expected = cancer.iloc[440:452] if output_existed else cancer.iloc[440:445]
    assert sorted(scored["mean radius"]) == sorted(expected["mean radius"])  # none lost, none twice


def test_a_run_row_that_cannot_be_written_after_the_commit_says_the_rows_were_appended(
    wh: Any, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    stream = _stream_stand_in(wh, "NEW_ROWS", cancer.iloc[440:445], ["INSERT"] * 5)
    real_insert = procedures._insert_row

    def succeeded_row_fails(session: Any, table: str, columns: Any, row: dict) -> None:
        if row["STATUS"] == records.RUN_SUCCEEDED:
            raise Boom("runs table unavailable")
        real_insert(session, table, columns, row)

    monkeypatch.setattr(procedures, "_insert_row", succeeded_row_fails)
    error = _raises(_scheduled(wh, stream), EngineError)
    assert "were scored and appended to 'SCORED'" in str(error) and "runs table unavailable" in str(error)
    assert wh.session.table(wh.loc.data("SCORED")).count() == 5 and wh.session.table(stream).count() == 0
    assert not _staging_tables(wh)


def test_a_scheduled_run_with_no_new_rows_records_an_empty_run_and_creates_nothing(
    wh: Any, cancer: Any
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    stream = _stream_stand_in(wh, "ONLY_DELETES", cancer.iloc[440:442], ["DELETE"] * 2)
    run = records.run_from_row(procedures.decode_result(_scheduled(wh, stream)))
    assert run.status == records.RUN_SUCCEEDED and run.rows == 0
    assert run.metrics is None and run.drift is None and run.confusion_matrix is None
    assert not wh.exists("SCORED") and "BEGIN TRANSACTION" not in wh.warehouse.statements
    assert len(wh.rows(sql.INFERENCE_RUNS)) == 1


def test_a_scheduled_run_records_the_threshold_it_used(wh: Any, cancer: Any) -> None:
    from snowflake.snowpark.functions import lit

    procedures.decode_result(wh.train(table="CANCER", target="target"))
    wh.session.table(wh.loc.app(sql.MODELS_CATALOG)).update({'"THRESHOLD"': lit(0.3)})
    stream = _stream_stand_in(wh, "NEW_ROWS", cancer.iloc[440:445], ["INSERT"] * 5)
    run = records.run_from_row(procedures.decode_result(_scheduled(wh, stream)))
    assert run.threshold == pytest.approx(0.3) and run.rows == 5


def test_a_scheduled_run_on_a_table_that_lost_a_feature_fails_clearly_and_raises_for_the_task(
    wh: Any, cancer: Any
) -> None:
    procedures.decode_result(wh.train(table="CANCER", target="target"))
    lost = cancer.drop(columns=[cancer.columns[0]]).iloc[440:445]
    stream = _stream_stand_in(wh, "NEW_ROWS_LOST", lost, ["INSERT"] * 5)
    result = wh.score(table="CANCER", output="SCORED_LOST", source_stream=stream)
    error = _raises(result, InvalidInput)
    assert "no longer has the model" in str(error) and cancer.columns[0] in str(error)
    assert not wh.exists("SCORED_LOST") and wh.session.table(stream).count() == 5
    (failed,) = [records.run_from_row(r) for r in wh.rows(sql.INFERENCE_RUNS)]
    assert failed.status == records.RUN_FAILED and "no longer has" in failed.error
    # inside a task the error is raised, so the task run is FAILED in TASK_HISTORY; from the app it is returned
    with pytest.raises(InvalidInput, match="no longer has the model"):
        procedures._raise_in_task(result, {"source_stream": stream})
    assert procedures._raise_in_task(result, {}) == result


def test_compare_procedure_fits_every_method_on_the_same_folds(wh: Any, cancer: Any) -> None:
    from snowml_desktop.core.compare import CompareSpec, compare_methods, comparison_from_json

    request = {
        **BASE,
        "table": "CANCER",
        "target": "target",
        "methods": ["logistic_regression", "nb"],
        "cv_folds": 3,
        "seed": 5,
    }
    result = comparison_from_json(
        procedures.decode_result(procedures.compare_procedure(wh.session, json.dumps(request)))
    )
    assert [r.method for r in result.results] == ["logistic_regression", "gaussian_nb"]
    expected = compare_methods(
        cancer.iloc[:300].reset_index(drop=True),
        CompareSpec(target="target", methods=["logistic_regression", "gaussian_nb"], cv_folds=3, seed=5),
    )
    for ours, theirs in zip(result.results, expected.results, strict=True):
        assert ours.metrics["accuracy"]["folds"] == pytest.approx(theirs.metrics["accuracy"]["folds"])
    assert wh.rows(sql.MODELS_CATALOG) == []  # a comparison keeps nothing
    bad = procedures.compare_procedure(wh.session, json.dumps({**request, "methods": ["auto"]}))
    assert "Auto cannot be compared" in str(_raises(bad, InvalidInput))
    missing = procedures.compare_procedure(wh.session, json.dumps({**request, "target": "nope"}))
    assert "nope" in str(_raises(missing, InvalidInput))


def test_a_failed_drift_check_is_recorded_on_the_run_not_taken_for_no_profile(
    wh: Any, cancer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snowml_desktop.core import drift

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the warehouse refused the drift statement\nwith more detail")

    wh.train(table="CANCER", target="target")
    monkeypatch.setattr(drift, "check", failing)
    run = records.run_from_row(procedures.decode_result(wh.score(table="NEW_PATIENTS", output="NO_DRIFT")))
    assert run.status == "SUCCEEDED" and run.rows == 25
    assert drift.failure_reason(run.drift) == "RuntimeError: the warehouse refused the drift statement"
