"""SnowflakeEngine offline: every operation against a test double of the account (it stands in for the
network; it checks that every PARSED statement is real SQL and every bind has a placeholder)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.snowflake.sf_fake_account import FakeAccount, FakeWarehouse

from snowml_desktop.core import records
from snowml_desktop.core.connections import ConnectionProfile, save_profile
from snowml_desktop.core.errors import (
    AlreadyExists,
    Cancelled,
    ConnectionFailed,
    EngineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.records import Feature, InferenceRun, ModelRecord
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines import open_engine
from snowml_desktop.engines.base import CompareRequest, LoadRequest, ScoreRequest, TrainRequest
from snowml_desktop.engines.snowflake import setup, sql
from snowml_desktop.engines.snowflake.engine import SnowflakeEngine
from snowml_desktop.engines.snowflake.warehouse import Journal, SuspendWait, WarehouseSettings

PROFILE = ConnectionProfile(
    "work", "snowflake", "app", account="org-acct", user="ANA", warehouse="WH", database="DB"
)
HOSTILE = 'we"ird; DROP'
STATE = {
    "app_version": "x",
    "setup_format": setup.SETUP_FORMAT,
    "packages": {"runtime": "3.11", "versions": {"scikit-learn": "1.5.2", "pandas": "2.2.3"}},
    "code_import": '@"DB"."SNOWML"."PROCEDURES"/code.zip',
}
COLUMNS = {
    "CHURN": [
        ("AGE", "NUMBER", 38, 0),
        ("PLAN", "TEXT", None, None),
        ("SPEND", "FLOAT", None, None),
        ("CHURNED", "BOOLEAN", None, None),
    ],
    HOSTILE: [("AGE", "NUMBER", 38, 0), ("SPEND", "FLOAT", None, None)],
}


def _record(name: str = "RANDOM_FOREST_7") -> ModelRecord:
    return ModelRecord(
        name=name,
        created=datetime(2026, 1, 2, tzinfo=timezone.utc),
        method="random_forest",
        source_table="CHURN",
        training_table="CHURN",
        target="CHURNED",
        features=[Feature("AGE", "numeric", "BIGINT"), Feature("PLAN", "categorical", "VARCHAR")],
        classes=[False, True],
        params={},
        options={},
        metrics={"accuracy": 0.9},
        per_class=[],
        confusion_matrix=[[1, 0], [0, 1]],
        curves={},
        feature_importance=[],
        cv=None,
        warnings=[],
        excluded_columns=[],
        artifact_path='@"DB"."SNOWML"."MODELS"/RANDOM_FOREST_7.joblib',
        artifact_sha256="ab" * 32,
        library_versions={},
        train_seconds=1.0,
        warehouse_size="Medium",
        warehouse_type="SNOWPARK-OPTIMIZED",
        rows_total=10,
        rows_train=8,
        rows_test=2,
    )


def _run(run_id: int = 7) -> InferenceRun:
    return InferenceRun(
        run_id,
        datetime(2026, 1, 3, tzinfo=timezone.utc),
        "RANDOM_FOREST_7",
        "CHURN",
        "CHURN_RANDOM_FOREST_7_INF",
        10,
        2.0,
        1.0,
        "Large",
        "STANDARD",
        None,
        0.03,
        query_ids=[],
    )


def _account(**kwargs) -> FakeAccount:
    account = FakeAccount(**kwargs)
    account.calls = []
    account.answer(
        r"^SELECT CURRENT_ACCOUNT",
        [
            {
                "ACCOUNT": "ACCT",
                "USER_NAME": "ANA",
                "ROLE_NAME": "ANALYST",
                "DATABASE_NAME": "DB",
                "SCHEMA_NAME": "PUBLIC",
                "WAREHOUSE": "WH",
            }
        ],
    )
    account.answer(r'"SETUP_STATE"', [{"KEY": "setup", "VALUE": json.dumps(STATE)}])
    account.answer(
        r"INFORMATION_SCHEMA\"\.\"COLUMNS\"",
        lambda s: [
            {"COLUMN_NAME": n, "DATA_TYPE": t, "NUMERIC_PRECISION": p, "NUMERIC_SCALE": sc}
            for n, t, p, sc in COLUMNS.get(s.params[1], [])
        ],
    )
    account.answer(
        r"INFORMATION_SCHEMA\"\.\"TABLES\"",
        [{"TABLE_NAME": "CHURN", "ROW_COUNT": 10, "BYTES": 2048, "CREATED": None}],
    )
    account.answer(r"NEXTVAL", [{"N": 7}])
    account.answer(r'COUNT\(\*\) AS "N" FROM .*COLUMNS', [{"TABLE_NAME": "CHURN", "N": 4}])
    account.answer(
        r'^SELECT \* FROM "DB"."SNOWML"."MODELS_CATALOG"',
        lambda s: (
            [records.model_to_row(_record())] if not s.params or s.params[0] == "RANDOM_FOREST_7" else []
        ),
    )
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS"', [records.run_to_row(_run())])

    def call(statement: sql.Statement) -> list[dict]:
        used = account.warehouse_in_use  # the current warehouse of the session sending the CALL
        account.calls.append(
            (
                statement.text,
                json.loads(statement.params[0]),
                dataclasses.replace(account.warehouses[used]),
                used,
            )
        )
        if "SNOWML_LOAD" in statement.text:
            return [{"SNOWML_LOAD": json.dumps({"ok": True, "row": LOADED})}]
        if "SNOWML_COMPARE" in statement.text:
            return [{"SNOWML_COMPARE": json.dumps({"ok": True, "row": COMPARED})}]
        row = records.model_to_row(_record()) if "TRAIN" in statement.text else records.run_to_row(_run())
        row["CREATED_AT"] = row["CREATED_AT"].isoformat()
        return [{"SNOWML_X": json.dumps({"ok": True, "row": row})}]

    account.answer(r"^CALL", call)
    return account


def _engine(account: FakeAccount) -> SnowflakeEngine:
    """An engine on the account's first session, opening more sessions of it when it needs them, whose
    waits for a warehouse pass on the account's clock."""
    return SnowflakeEngine(
        account, PROFILE, open_runner=account.session, wait=SuspendWait(sleep=account.sleep)
    )


def test_connect_reads_context_and_replays_a_crashed_change() -> None:
    account = _account(warehouses={"WH": FakeWarehouse("X4LARGE", "STANDARD", "STARTED")})
    Journal("ACCT").write(
        WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1"), "resize"
    )
    engine = _engine(account)
    assert account.warehouses["WH"].size == "XSMALL"
    assert "restored to X-Small" in engine.restored[0]
    info = engine.describe()
    assert (info.engine, info.account, info.role, info.database, info.schema) == (
        "snowflake",
        "ACCT",
        "ANALYST",
        "DB",
        "DATA",
    )
    assert (info.warehouse.size, info.warehouse.type) == ("X-Small", "STANDARD")
    caps = engine.capabilities
    assert (
        caps.local,
        caps.supports_zero_copy_clone,
        caps.supports_snowpark_optimized,
        caps.supports_query_ids,
    ) == (False, True, True, True)


def test_modify_not_listed_on_the_warehouse_is_left_to_snowflake_to_decide() -> None:
    """SHOW GRANTS ON WAREHOUSE misses MANAGE WAREHOUSES and inherited grants: nothing is disabled on it;
    the change itself is tried, and a refusal names the grant to ask for."""
    allowed = _account(
        grants={"WH": [("USAGE", "ANALYST")]}, account_grants=[("MANAGE WAREHOUSES", "ANALYST")]
    )
    engine = _engine(allowed)
    assert engine.capabilities.supports_snowpark_optimized
    engine.train(TrainRequest("CHURN", "CHURNED", optimized=True))
    assert allowed.calls[0][2].type == "SNOWPARK-OPTIMIZED"
    refused = _account(grants={"WH": [("USAGE", "ANALYST")]})
    with pytest.raises(PermissionDenied, match="lacks MODIFY") as info:
        _engine(refused).train(TrainRequest("CHURN", "CHURNED", optimized=True))
    assert 'GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST"' in info.value.hint
    assert (refused.warehouses["WH"].type, refused.warehouses["WH"].state) == ("STANDARD", "STARTED")


def test_train_converts_the_warehouse_only_for_the_call_and_emits_activity() -> None:
    account = _account()
    engine = _engine(account)
    seen = []
    engine.add_activity_listener(seen.append)
    record = engine.train(TrainRequest("churn", "churned", features=["age", "Plan"], optimized=True))
    assert record.name == "RANDOM_FOREST_7" and record.features[0] == Feature("AGE", "numeric", "BIGINT")
    text, request, during, _ = account.calls[0]
    assert text == 'CALL "DB"."SNOWML"."SNOWML_TRAIN"(?)'
    assert (during.type, during.size) == ("SNOWPARK-OPTIMIZED", "MEDIUM")
    assert (
        request["model_name"] == "RANDOM_FOREST_7"
        and request["table"] == "CHURN"
        and request["target"] == "CHURNED"
    )
    assert request["features"] == ["AGE", "PLAN"] and request["warehouse_type"] == "SNOWPARK-OPTIMIZED"
    assert request["packages"] == ["pandas==2.2.3", "scikit-learn==1.5.2"] and request["code_imports"] == [
        STATE["code_import"]
    ]
    assert (account.warehouses["WH"].type, account.warehouses["WH"].size) == ("STANDARD", "XSMALL")
    assert seen[-1].operation == "train" and seen[-1].ok and seen[-1].query_id.startswith("qid-")
    assert seen[-1].detail == "churn"
    assert {"train", "convert_warehouse", "restore_warehouse"} <= set(account.operations)
    train_tags = [
        op for op, st in zip(account.operations, account.log, strict=True) if st.text.startswith("CALL")
    ]
    assert train_tags == ["train"]


def test_training_shows_the_wait_for_a_busy_warehouse_to_suspend() -> None:
    account = _account()
    engine = _engine(account)
    account.busy("WH", 45)  # another user's query finishes before the type can change
    progress: list[tuple[float, str]] = []
    engine.train(
        TrainRequest("CHURN", "CHURNED", optimized=True),
        task=TaskContext(progress=lambda f, text: progress.append((f, text))),
    )
    waits = [f for f, text in progress if text.startswith("Waiting for warehouse WH")]
    assert waits and all(0.05 <= f <= 0.15 for f in waits)
    assert account.calls[0][2].type == "SNOWPARK-OPTIMIZED"
    assert (account.warehouses["WH"].type, account.warehouses["WH"].state) == ("STANDARD", "STARTED")


def test_failed_or_cancelled_training_restores_the_warehouse() -> None:
    account = _account()
    engine = _engine(account)
    seen = []
    engine.add_activity_listener(seen.append)
    task = TaskContext()

    def cancelled_call(_statement: sql.Statement) -> list[dict]:
        task.token.cancel()
        raise Cancelled()

    account.answer(r"^CALL", cancelled_call)
    account.answer(
        r"^SHOW USER FUNCTIONS",
        [
            {
                "name": "PREDICT_RANDOM_FOREST_7",
                "arguments": "PREDICT_RANDOM_FOREST_7(FLOAT, VARCHAR) RETURN VARIANT",
            },
            {
                "name": "PREDICT_RANDOM_FOREST_77",
                "arguments": "PREDICT_RANDOM_FOREST_77(FLOAT) RETURN VARIANT",
            },
        ],
    )
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."MODELS_CATALOG" WHERE', [])
    with pytest.raises(Cancelled):
        engine.train(TrainRequest("CHURN", "CHURNED", optimized=True), task=task)
    assert (account.warehouses["WH"].type, account.warehouses["WH"].size) == ("STANDARD", "XSMALL")
    assert Journal("ACCT").pending() == []
    assert seen[-1].operation == "train" and not seen[-1].ok
    # What the killed procedure may have left is removed: UDF (by its reported signature), clone, artifact.
    texts = [s.text for s in account.log]
    assert 'DROP FUNCTION IF EXISTS "DB"."SNOWML"."PREDICT_RANDOM_FOREST_7"(FLOAT, VARCHAR)' in texts
    assert 'DROP TABLE IF EXISTS "DB"."DATA"."CHURN_CLONE_RANDOM_FOREST_7"' in texts
    assert """REMOVE '@"DB"."SNOWML"."MODELS"/RANDOM_FOREST_7.joblib'""" in texts


def test_dedicated_training_warehouse_leaves_the_shared_one_alone() -> None:
    account = _account()
    engine = _engine(account)
    engine.train(
        TrainRequest(
            "CHURN", "CHURNED", optimized=True, optimized_mode="dedicated", training_warehouse="ml_wh"
        )
    )
    assert account.calls[0][3] == "ML_WH" and account.current_warehouse == "WH"
    assert not any(s.text.startswith('ALTER WAREHOUSE "WH"') for s in account.log)
    assert [session.current_warehouse for session in account.sessions] == ["ML_WH"]  # the second one


def _texts(account: FakeAccount) -> list[str]:
    return [s.text for s in account.log]


def test_dedicated_training_sessions_are_reused_closed_and_their_login_failures_explained() -> None:
    account = _account()
    engine = _engine(account)
    request = TrainRequest(
        "CHURN", "CHURNED", optimized=True, optimized_mode="dedicated", training_warehouse="ML_WH"
    )
    engine.train(request)
    engine.train(request)
    assert len(account.sessions) == 1 and not account.sessions[0].closed  # kept for the next call
    engine.close()
    assert account.sessions[0].closed

    def refused_login():
        raise ConnectionFailed(
            "Connection 'work': multi-factor authentication is required.", hint="Type the code."
        )

    failing = SnowflakeEngine(_account(), PROFILE, open_runner=refused_login)
    with pytest.raises(ConnectionFailed, match="Could not open a second session.*multi-factor") as info:
        failing.train(request)
    assert info.value.hint == "Type the code."


def test_work_during_dedicated_training_stays_on_its_warehouse() -> None:
    """A session has one current warehouse: the training CALL runs on a second session, so a preview
    and a scoring sent while it runs stay on the shared warehouse."""
    account = _account()
    engine = _engine(account)
    training_started, finish_training = threading.Event(), threading.Event()
    default_call = account.answers[0][1]  # the _account CALL answer

    def slow_train(statement: sql.Statement) -> list[dict]:
        if "SNOWML_TRAIN" in statement.text:
            training_started.set()
            assert finish_training.wait(10)
        return default_call(statement)

    account.answer(r"^CALL", slow_train)
    request = TrainRequest(
        "CHURN", "CHURNED", optimized=True, optimized_mode="dedicated", training_warehouse="ML_WH"
    )
    worker = threading.Thread(target=engine.train, args=(request,))
    worker.start()
    try:
        assert training_started.wait(10)
        before = len(account.log)
        engine.preview("CHURN", 5)
        engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN"))
        concurrent = list(zip(_texts(account)[before:], account.ran_on[before:], strict=True))
    finally:
        finish_training.set()
        worker.join(10)
    assert any(t.startswith("SELECT * FROM") for t, _ in concurrent)
    assert {w for _, w in concurrent} == {"WH"}, concurrent
    assert {c[0].split(".")[-1]: c[3] for c in account.calls} == {
        '"SNOWML_TRAIN"(?)': "ML_WH",
        '"SNOWML_SCORE"(?)': "WH",
    }
    assert account.current_warehouse == "WH"


def test_train_without_setup_says_so() -> None:
    account = _account()
    account.answer(r'"SETUP_STATE"', [])
    with pytest.raises(EngineError, match="setup has not been run"):
        _engine(account).train(TrainRequest("CHURN", "CHURNED"))


def test_score_resizes_for_the_call_and_checks_input() -> None:
    account = _account()
    engine = _engine(account)
    run = engine.score(ScoreRequest("random_forest_7", "churn", size="Large"))
    text, request, during, _ = account.calls[0]
    assert text == 'CALL "DB"."SNOWML"."SNOWML_SCORE"(?)' and during.size == "LARGE"
    assert (
        request["output"] == "CHURN_RANDOM_FOREST_7_INF"
        and request["run_id"] == 7
        and request["warehouse_size"] == "Large"
    )
    assert account.warehouses["WH"].size == "XSMALL"
    assert run.run_id == 7 and len(run.query_ids) == 1  # the CALL's id, kept for credit attribution
    update = next(
        s for s in account.log if s.text.startswith('UPDATE "DB"."SNOWML"."INFERENCE_RUNS" SET "QUERY_IDS"')
    )
    assert json.loads(update.params[0]) == run.query_ids and update.params[1] == 7
    with pytest.raises(InvalidInput, match="PLAN"):
        engine.score(ScoreRequest("RANDOM_FOREST_7", HOSTILE))
    COLUMNS["OUT"] = COLUMNS["CHURN"]
    try:
        with pytest.raises(AlreadyExists):
            engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", output="OUT"))
    finally:
        del COLUMNS["OUT"]
    assert engine.check_scoring_input("RANDOM_FOREST_7", HOSTILE) == ["PLAN"]
    with pytest.raises(NotFound):
        engine.get_model("NOPE_1")


LOADED = {
    "table": "NEW",
    "rows_loaded": 9,
    "rows_rejected": 1,
    "rejections": [{"line": 4, "reason": "Numeric value 'abc' is not recognized"}],
    "columns": [{"name": "A", "sql_type": "NUMBER(38,0)", "kind": "numeric"}],
    "seconds": 0.5,
}


def test_load_calls_snowml_load_with_canonical_names_and_reports_rejections() -> None:
    account = _account()
    result = _engine(account).load(
        LoadRequest("load_data", "more.csv", "new", header="no", columns_from="churn", mode="replace")
    )
    text, request, _, _ = account.calls[0]
    assert text == 'CALL "DB"."SNOWML"."SNOWML_LOAD"(?)'
    assert (request["stage"], request["file"], request["table"], request["columns_from"]) == (
        "LOAD_DATA",
        "more.csv",
        "NEW",
        "CHURN",
    )
    assert (request["header"], request["mode"], request["data_schema"]) == ("no", "replace", "DATA")
    assert (result.table, result.rows_loaded, result.rows_rejected) == ("NEW", 9, 1)
    assert result.rejections[0].line == 4 and "abc" in result.rejections[0].reason
    assert [(c.name, c.kind) for c in result.columns] == [("A", "numeric")]
    tags = [op for op, st in zip(account.operations, account.log, strict=True) if st.text.startswith("CALL")]
    assert tags == ["load"]


def test_load_errors_cross_as_their_type_and_a_killed_load_drops_its_staging_table() -> None:
    account = _account()
    failed = {"ok": False, "error": {"code": "already_exists", "message": "NEW exists.", "hint": None}}
    account.answer(r"^CALL", [{"SNOWML_LOAD": json.dumps({**failed, "row": None})}])
    engine = _engine(account)
    with pytest.raises(AlreadyExists, match="NEW exists"):
        engine.load(LoadRequest("LOAD_DATA", "churn.csv", "new"))
    assert not any(s.text.startswith("DROP") for s in account.log)  # the procedure cleaned up itself
    account.answer(r"^CALL", lambda s: (_ for _ in ()).throw(Cancelled()))
    with pytest.raises(Cancelled):
        engine.load(LoadRequest("LOAD_DATA", "churn.csv", 'we"ird'))
    assert account.log[-1].text == 'DROP TABLE IF EXISTS "DB"."DATA"."we""ird__SNOWML_LOADING"'
    with pytest.raises(InvalidInput, match="Unknown load mode"):
        engine.load(LoadRequest("LOAD_DATA", "churn.csv", "new", mode="upsert"))
    with pytest.raises(NotFound):
        engine.load(LoadRequest("SECRETS", "churn.csv", "new"))


def test_statistics_are_pushed_down() -> None:
    account = _account()
    account.answer(
        r"^SELECT COUNT\(\*\) AS \"ROWS\"",
        [
            {
                "ROWS": 10,
                "C_0": 9,
                "D_0": 5,
                "MEAN_0": 40.5,
                "STD_0": 3.0,
                "MIN_0": 18,
                "Q25_0": 30,
                "MED_0": 41,
                "Q75_0": 50,
                "MAX_0": 70,
                "C_1": 10,
                "D_1": 3,
                "MIN_1": "basic",
                "MAX_1": "pro",
                "C_2": 10,
                "D_2": 10,
                "MEAN_2": 1.0,
                "STD_2": None,
                "MIN_2": 0.0,
                "Q25_2": 0.5,
                "MED_2": 1.0,
                "Q75_2": 1.5,
                "MAX_2": 2.0,
                "C_3": 10,
                "D_3": 2,
                "MIN_3": "false",
                "MAX_3": "true",
            }
        ],
    )
    account.answer(r'AS "VALUE", COUNT', [{"VALUE": "basic", "N": 6}, {"VALUE": "pro", "N": 4}])
    account.answer(r'AS "TOTAL"', [{"TOTAL": 10, "NULLS": 0}])
    account.answer(r'AS "LO"', [{"LO": 0.0, "HI": 10.0, "NULLS": 1}])
    account.answer(r'AS "BIN"', [{"BIN": 1, "N": 4}, {"BIN": 2, "N": 5}])
    account.answer(r"CORR\(", [{"0_1": 0.5}])
    engine = _engine(account)
    profile = engine.profile("churn")
    age = profile.columns[0]
    assert (profile.rows, age.count, age.nulls, age.median, age.top_values) == (10, 9, 1, 41.0, [])
    assert profile.columns[1].top_values == [("basic", 6), ("pro", 4)]
    hist = engine.histogram("CHURN", "SPEND", bins=2)
    assert (hist.counts, hist.edges, hist.nulls) == ([4, 5], [0.0, 5.0, 10.0], 1)
    balance = engine.class_balance("CHURN", "PLAN")
    assert (balance.labels, balance.counts, balance.other) == (["basic", "pro"], [6, 4], 0)
    corr = engine.correlation("CHURN", ["AGE", "SPEND"])
    assert corr.matrix == [[1.0, 0.5], [0.5, 1.0]]
    with pytest.raises(InvalidInput, match="not numeric"):
        engine.correlation("CHURN", ["PLAN", "AGE"])
    assert not any(
        s.text.startswith('SELECT * FROM "DB"."DATA"."CHURN"') and "LIMIT" not in s.text for s in account.log
    )


def test_stages_upload_and_hostile_names(tmp_path: Path) -> None:
    account = _account()
    account.answer(
        r"^LIST",
        [
            {
                "name": "load_data/churn.csv",
                "size": 120,
                "md5": "x",
                "last_modified": "Sun, 22 Nov 2026 03:00:00 GMT",
            }
        ],
    )
    engine = _engine(account)
    files = engine.list_files("load_data")
    assert (files[0].name, files[0].size, files[0].modified.year) == ("churn.csv", 120, 2026)
    path = tmp_path / "churn.csv"
    path.write_text("a\n1\n")
    assert [f.name for f in engine.upload([path])] == ["churn.csv"]
    assert any(
        s.text.startswith(f"PUT 'file://{path}'") and "AUTO_COMPRESS = FALSE OVERWRITE = TRUE" in s.text
        for s in account.log
    )
    with pytest.raises(NotFound):
        engine.list_files("SECRETS")
    frame = engine.preview(HOSTILE, 5)
    assert list(frame.columns) == ["AGE", "SPEND"]
    assert any(s.text == 'SELECT * FROM "DB"."DATA"."we""ird; DROP" LIMIT 5' for s in account.log)


def test_delete_model_removes_row_udf_and_artifact() -> None:
    account = _account()
    _engine(account).delete_model("RANDOM_FOREST_7")
    texts = [s.text for s in account.log[-3:]]
    assert texts == [
        'DELETE FROM "DB"."SNOWML"."MODELS_CATALOG" WHERE "MODEL_NAME" = ?',
        'DROP FUNCTION IF EXISTS "DB"."SNOWML"."PREDICT_RANDOM_FOREST_7"(FLOAT, VARCHAR)',
        """REMOVE '@"DB"."SNOWML"."MODELS"/RANDOM_FOREST_7.joblib'""",
    ]


def test_set_warehouse_and_runs() -> None:
    account = _account()
    engine = _engine(account)
    tables = engine.list_tables()
    assert [(t.name, t.rows, t.columns, t.bytes) for t in tables] == [("CHURN", 10, 4, 2048)]
    state = engine.set_warehouse(type="snowpark-optimized", size="Medium")
    assert (state.type, state.size, state.credits_per_hour) == ("SNOWPARK-OPTIMIZED", "Medium", 6.0)
    engine.set_warehouse(type="STANDARD", size="XSMALL")
    assert (account.warehouses["WH"].type, account.warehouses["WH"].size) == ("STANDARD", "XSMALL")
    with pytest.raises(InvalidInput, match="at least Medium"):
        engine.set_warehouse(type="SNOWPARK-OPTIMIZED")  # X-Small is too small for the default memory option
    assert [r.run_id for r in engine.list_runs(model="random_forest_7")] == [7]
    assert engine.get_run(7).model == "RANDOM_FOREST_7"


def test_open_engine_routes_to_snowflake_and_names_unknown_connections() -> None:
    with pytest.raises(NotFound, match="Known connections"):
        open_engine("nowhere")
    save_profile(ConnectionProfile("lab", "snowflake", "app", account="a-b", user="U"))
    with pytest.raises(InvalidInput, match="not a Snowflake"):
        SnowflakeEngine.from_connection("local")


def test_actual_credits_replace_the_estimate_when_attributed() -> None:
    account = _account()
    run_row = records.run_to_row(dataclasses.replace(_run(), query_ids=["q-call"]))
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS"', [run_row])
    account.answer(r"QUERY_ATTRIBUTION_HISTORY", [{"CREDITS": None, "N": 0}])
    engine = _engine(account)
    assert engine.actual_credits(7) is None  # not attributed yet
    account.answer(r"QUERY_ATTRIBUTION_HISTORY", [{"CREDITS": 0.0123, "N": 3}])
    assert engine.actual_credits(7) == 0.0123
    update = account.log[-1]
    assert update.text.startswith(
        'UPDATE "DB"."SNOWML"."INFERENCE_RUNS" SET "CREDITS" = ?'
    ) and update.params == (0.0123, 7)
    account.answer(
        r"QUERY_ATTRIBUTION_HISTORY", lambda s: (_ for _ in ()).throw(PermissionDenied("no ACCOUNT_USAGE"))
    )
    assert engine.actual_credits(7) is None


def test_failed_scoring_restores_the_size_and_surfaces_the_procedure_error() -> None:
    account = _account()
    failed = {
        "ok": False,
        "error": {"code": "integrity_error", "message": "The artifact was changed.", "hint": None},
        "row": None,
    }
    account.answer(r"^CALL", [{"SNOWML_SCORE": json.dumps(failed)}])
    engine = _engine(account)
    with pytest.raises(EngineError, match="artifact was changed") as info:
        engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", size="X-Large"))
    assert info.value.code == "integrity_error"
    assert account.warehouses["WH"].size == "XSMALL" and Journal("ACCT").pending() == []
    assert any("WAREHOUSE_SIZE = XLARGE" in s.text for s in account.log)


def test_demo_table_is_generated_in_the_warehouse() -> None:
    account = _account()
    engine = _engine(account)
    info = engine.create_demo_table("big demo", 1_000_000, seed=5)
    assert (info.name, info.rows, info.columns) == ("big demo", 1_000_000, 14)
    assert account.log[-1].text.startswith('CREATE TABLE "DB"."DATA"."big demo" AS')
    assert "GENERATOR(ROWCOUNT => 1000000)" in account.log[-1].text
    with pytest.raises(AlreadyExists):
        engine.create_demo_table("churn", 10)
    engine.create_demo_table("churn", 10, replace=True)
    assert account.log[-1].text.startswith('CREATE OR REPLACE TABLE "DB"."DATA"."CHURN" AS')
    with pytest.raises(InvalidInput):
        engine.create_demo_table("x", 10**9)


def _cancel_the_call(task: TaskContext, *, output_written: list[str] | None = None):
    """A CALL answer that stands for a procedure killed by the user's Cancel (after writing the output)."""

    def call(statement: sql.Statement) -> list[dict]:
        if output_written is not None:
            output_written.append("written")
        task.token.cancel()
        raise Cancelled()

    return call


def test_cancelled_scoring_records_the_run_drops_its_output_and_restores_the_size() -> None:
    account = _account()
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS" WHERE', [])  # the procedure recorded none
    task = TaskContext()
    account.answer(r"^CALL", _cancel_the_call(task))
    engine = _engine(account)
    with pytest.raises(Cancelled):
        engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", size="Large"), task=task)
    assert account.warehouses["WH"].size == "XSMALL" and Journal("ACCT").pending() == []
    texts = [s.text for s in account.log]
    assert 'DROP TABLE IF EXISTS "DB"."DATA"."CHURN_RANDOM_FOREST_7_INF"' in texts
    insert = next(s for s in account.log if s.text.startswith('INSERT INTO "DB"."SNOWML"."INFERENCE_RUNS"'))
    row = dict(zip([c for c, _ in records.INFERENCE_RUNS_COLUMNS], insert.params, strict=True))
    assert (row["RUN_ID"], row["STATUS"], row["OUTPUT_TABLE"], row["WAREHOUSE_SIZE"]) == (
        7,
        records.RUN_CANCELLED,
        None,
        "Large",
    )
    assert json.loads(row["QUERY_IDS"]) == []


def test_a_cancel_that_came_too_late_undoes_the_finished_run_but_keeps_a_replaced_output() -> None:
    """The procedure finished (its SUCCEEDED row is there) just before the cancel: the cancel wins, as for
    training. The output replaced with overwrite is left (CREATE TABLE AS replaced it whole)."""
    account = _account()  # its runs table answers with a SUCCEEDED run 7
    COLUMNS["OUT"] = COLUMNS["CHURN"]
    task = TaskContext()
    account.answer(r"^CALL", _cancel_the_call(task))
    try:
        with pytest.raises(Cancelled):
            _engine(account).score(
                ScoreRequest("RANDOM_FOREST_7", "CHURN", output="out", overwrite=True), task=task
            )
    finally:
        del COLUMNS["OUT"]
    texts = [s.text for s in account.log]
    assert not any(t.startswith("DROP TABLE") for t in texts)
    delete = texts.index('DELETE FROM "DB"."SNOWML"."INFERENCE_RUNS" WHERE "RUN_ID" = ?')
    assert texts[delete + 1].startswith('INSERT INTO "DB"."SNOWML"."INFERENCE_RUNS"')
    assert records.RUN_CANCELLED in account.log[delete + 1].params


def test_a_run_the_procedure_recorded_as_failed_is_kept() -> None:
    account = _account()
    failed = records.run_to_row(dataclasses.replace(_run(), status=records.RUN_FAILED, error="boom"))
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS" WHERE', [failed])
    account.answer(r"^CALL", lambda s: (_ for _ in ()).throw(ConnectionFailed("answer lost")))
    with pytest.raises(ConnectionFailed):
        _engine(account).score(ScoreRequest("RANDOM_FOREST_7", "CHURN"))
    assert not any(s.text.startswith(("INSERT", "DELETE", "DROP")) for s in account.log)


def _fault_steps(run) -> int:
    account = _account()
    run(account)
    return len(account.log)


def _train_optimized(account: FakeAccount) -> None:
    _engine(account).train(TrainRequest("CHURN", "CHURNED", optimized=True))


def _score_resized(account: FakeAccount) -> None:
    _engine(account).score(ScoreRequest("RANDOM_FOREST_7", "CHURN", size="Large"))


@pytest.mark.parametrize("operation", [_train_optimized, _score_resized], ids=["train", "score"])
@pytest.mark.parametrize("mode", ["transient", "dead"])
def test_engine_failure_at_each_statement_restores_the_warehouse_or_journals_it(operation, mode: str) -> None:
    """Every statement of an optimized training / resized scoring fails in turn (a transient error, or the
    network gone from then on): the warehouse is as it was, or the journal holds it and the next connect
    restores it; a lost CALL is followed by the clean-up of what the killed procedure may have left."""
    total = _fault_steps(operation)
    connect = _fault_steps(lambda account: _engine(account))
    assert total > connect + 5
    for step in range(connect, total):
        account = _account(**({"fail_at": step} if mode == "transient" else {"dead_from": step}))
        with contextlib.suppress(
            EngineError
        ):  # a failed best-effort step (e.g. saving query ids) is no error
            operation(account)
        texts = [s.text for s in account.log]
        if mode == "transient" and texts[step].startswith("CALL"):
            cleanup = (
                "REMOVE '@" if "TRAIN" in texts[step] else 'DROP TABLE IF EXISTS "DB"."DATA"."CHURN_RANDOM'
            )
            assert any(t.startswith(cleanup) for t in texts[step + 1 :]), f"step {step}: no clean-up"
        if (account.warehouses["WH"].size, account.warehouses["WH"].type) != ("XSMALL", "STANDARD"):
            assert Journal("ACCT").pending(), f"step {step} ({mode}): changed and not journaled"
        healthy = _account(warehouses=account.warehouses)
        _engine(healthy)  # the next connect replays the journal
        assert (account.warehouses["WH"].size, account.warehouses["WH"].type) == ("XSMALL", "STANDARD")
        assert Journal("ACCT").pending() == [], f"step {step} ({mode})"


COMPARED = {
    "target": "CHURNED",
    "classes": [False, True],
    "folds": 5,
    "test_size": 0.2,
    "seed": 42,
    "rows": 10,
    "results": [
        {
            "method": "random_forest",
            "label": "Random Forest",
            "params": {},
            "metrics": {"accuracy": {"mean": 0.8, "std": 0.1, "folds": [0.7, 0.9]}},
            "curves": {"roc": [], "pr": []},
            "fit_seconds": 1.5,
            "error": None,
        }
    ],
    "warnings": [{"code": "duplicates_dropped", "message": "Dropped 1 duplicate row."}],
}


def test_compare_runs_one_procedure_call_with_normalized_names() -> None:
    account = _account()
    comparison = _engine(account).compare(
        CompareRequest(
            "churn",
            "churned",
            ["rf", "Logistic Regression"],
            features=["age", "Plan"],
            params={"rf": {"n_estimators": 50}},
            cv_folds=5,
        )
    )
    ((text, request, _, _),) = account.calls
    assert text == 'CALL "DB"."SNOWML"."SNOWML_COMPARE"(?)'
    assert (request["table"], request["target"], request["features"]) == ("CHURN", "CHURNED", ["AGE", "PLAN"])
    assert request["methods"] == ["random_forest", "logistic_regression"]
    assert request["params"] == {"random_forest": {"n_estimators": 50}} and request["cv_folds"] == 5
    assert comparison.results[0].metrics["accuracy"]["mean"] == 0.8
    assert comparison.warnings[0].code == "duplicates_dropped" and comparison.best().method == "random_forest"


# --- a suspended warehouse without AUTO_RESUME --------------------------------------------------------------


def _suspended_without_auto_resume(**kwargs) -> FakeAccount:
    return _account(warehouses={"WH": FakeWarehouse(state="SUSPENDED", auto_resume=False)}, **kwargs)


def _journaled_during_call(account: FakeAccount) -> list[WarehouseSettings]:
    """Wrap the account's CALL answer to note the journal's entries while the procedure runs."""
    seen: list[WarehouseSettings] = []
    pattern, answer = next((p, a) for p, a in account.answers if p == r"^CALL")
    account.answer(r"^CALL", lambda s: seen.extend(Journal("ACCT").pending()) or answer(s))
    return seen


@pytest.mark.parametrize("operation", ["score", "score_resized", "load"])
def test_a_suspended_warehouse_without_auto_resume_is_resumed_for_the_operation_and_left_suspended(
    operation: str,
) -> None:
    account = _suspended_without_auto_resume()
    journaled = _journaled_during_call(account)
    engine = _engine(account)
    if operation == "load":
        engine.load(LoadRequest("LOAD_DATA", "more.csv", "new"))
    else:
        engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", size="Large" if operation != "score" else None))
    during = account.calls[0][2]
    assert during.state == "STARTED"
    assert during.size == ("LARGE" if operation == "score_resized" else "XSMALL")
    # journaled before the RESUME with the state found, so a crash still suspends it again
    assert [(j.state, j.size, j.auto_resume) for j in journaled] == [("SUSPENDED", "XSMALL", False)]
    assert 'ALTER WAREHOUSE "WH" RESUME IF SUSPENDED' in [s.text for s in account.log]
    wh = account.warehouses["WH"]
    assert (wh.state, wh.size) == ("SUSPENDED", "XSMALL") and Journal("ACCT").pending() == []


def test_a_crash_while_resumed_for_scoring_is_suspended_again_at_the_next_connect() -> None:
    account = _suspended_without_auto_resume()

    def network_lost(statement: sql.Statement) -> list[dict]:
        account.dead_from = len(account.log)
        raise ConnectionFailed("Injected: the network went away during the CALL.")

    account.answer(r"^CALL", network_lost)
    with pytest.raises(ConnectionFailed):
        _engine(account).score(ScoreRequest("RANDOM_FOREST_7", "CHURN"))
    assert account.warehouses["WH"].state == "STARTED" and len(Journal("ACCT").pending()) == 1
    account.dead_from = None  # the network is back; the app starts again
    restarted = _engine(account)
    assert "WH" in restarted.restored[0]
    assert account.warehouses["WH"].state == "SUSPENDED" and Journal("ACCT").pending() == []


def test_without_operate_a_suspended_warehouse_is_a_clear_error_naming_the_grant() -> None:
    account = _suspended_without_auto_resume(grants={"WH": [("USAGE", "ANALYST")]})
    engine = _engine(account)
    for attempt in (
        lambda: engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN")),
        lambda: engine.load(LoadRequest("LOAD_DATA", "more.csv", "new")),
    ):
        with pytest.raises(PermissionDenied, match="AUTO_RESUME = FALSE") as info:
            attempt()
        assert 'GRANT OPERATE ON WAREHOUSE "WH" TO ROLE "ANALYST"' in info.value.hint
    assert account.calls == [] and account.warehouses["WH"].state == "SUSPENDED"
    assert Journal("ACCT").pending() == []


# --- parity with the local engine -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["__snowml_x", '"__SnowML_x"', "SALES__SNOWML_LOADING"])
def test_internal_table_names_are_refused_as_on_the_local_engine(name: str) -> None:
    account = _account()
    engine = _engine(account)
    before = len(account.log)
    attempts = [
        lambda: engine.load(LoadRequest("LOAD_DATA", "more.csv", name)),
        lambda: engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", output=name)),
        lambda: engine.create_demo_table(name, 10),
        lambda: engine.drop_table(name),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput, match="reserved") as info:
            attempt()
        assert "__SNOWML_" in (info.value.hint or "")
    changed = [s.text for s in account.log[before:] if not s.text.startswith(("SELECT", "SHOW"))]
    assert account.calls == [] and changed == []


def test_a_table_with_a_reserved_column_is_refused_for_scoring() -> None:
    account = _account()
    COLUMNS["ODD"] = [*COLUMNS["CHURN"], ("__SNOWML_RESULT", "NUMBER", 38, 0)]
    try:
        with pytest.raises(InvalidInput, match="reserved"):
            _engine(account).score(ScoreRequest("RANDOM_FOREST_7", "ODD"))
    finally:
        del COLUMNS["ODD"]
    assert account.calls == []


def test_a_text_column_for_a_numeric_feature_is_refused_when_it_holds_other_values() -> None:
    """As on the local engine: the column's type comes from the table's schema (no rows are read); only
    then are its values that are not numbers counted, in the warehouse."""
    account = _account()
    COLUMNS["TEXTY"] = [("AGE", "TEXT", None, None), ("PLAN", "TEXT", None, None)]
    counted: list[sql.Statement] = []
    account.answer(r"TRY_TO_DOUBLE", lambda s: counted.append(s) or [{"N": 10, "BAD": 2, "EXAMPLE": "n/a"}])
    engine = _engine(account)
    try:
        with pytest.raises(InvalidInput) as info:
            engine.score(ScoreRequest("RANDOM_FOREST_7", "TEXTY"))
        assert "AGE" in info.value.message and "2 of its 10 values" in info.value.message
        assert "'n/a'" in info.value.message and "--bad-numbers null" in (info.value.hint or "")
        assert [s.text.count('"AGE"') for s in counted] == [5] and '"PLAN"' not in counted[0].text
        assert account.calls == []
        account.answer(r"TRY_TO_DOUBLE", [{"N": 10, "BAD": 0, "EXAMPLE": None}])  # numbers stored as text
        engine.score(ScoreRequest("RANDOM_FOREST_7", "TEXTY"))
        assert len(account.calls) == 1
    finally:
        del COLUMNS["TEXTY"]
    counted.clear()
    engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN"))  # AGE is a NUMBER: nothing to count
    assert counted == []


@pytest.mark.parametrize(("mode", "wording"), [("reject", "rejecting their rows"), ("null", "set to NULL")])
def test_bad_numbers_other_than_text_are_refused_not_ignored(mode: str, wording: str) -> None:
    account = _account()
    engine = _engine(account)
    assert engine.capabilities.supports_bad_numbers is False
    with pytest.raises(InvalidInput, match=wording) as info:
        engine.load(LoadRequest("LOAD_DATA", "ages.csv", "AGES", bad_numbers=mode))
    assert "nothing was loaded" in info.value.message and "local engine" in (info.value.hint or "")
    with pytest.raises(InvalidInput, match="Unknown setting"):
        engine.load(LoadRequest("LOAD_DATA", "ages.csv", "AGES", bad_numbers="drop"))
    assert account.calls == []
    engine.load(LoadRequest("LOAD_DATA", "ages.csv", "AGES", bad_numbers="text"))
    assert len(account.calls) == 1


@pytest.mark.parametrize(
    "operation",
    [
        lambda engine: engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN")),
        lambda engine: engine.score(ScoreRequest("RANDOM_FOREST_7", "CHURN", size="Large")),
        lambda engine: engine.load(LoadRequest("LOAD_DATA", "more.csv", "new")),
    ],
    ids=["score", "score_resized", "load"],
)
@pytest.mark.parametrize("mode", ["transient", "dead"])
def test_failure_at_each_statement_leaves_a_warehouse_without_auto_resume_suspended_or_journaled(
    operation, mode: str
) -> None:
    """A warehouse found SUSPENDED without AUTO_RESUME and resumed for the operation: whichever statement
    fails, it is suspended (and sized) as found, or the journal holds it and the next connect does that."""

    def found() -> dict:
        return {"WH": FakeWarehouse(state="SUSPENDED", auto_resume=False)}

    clean = _account(warehouses=found())
    operation(_engine(clean))
    connect = _fault_steps(lambda account: _engine(account))
    for step in range(connect, len(clean.log)):
        account = _account(
            warehouses=found(), **({"fail_at": step} if mode == "transient" else {"dead_from": step})
        )
        with contextlib.suppress(EngineError):
            operation(_engine(account))
        wh = account.warehouses["WH"]
        if (wh.state, wh.size) != ("SUSPENDED", "XSMALL"):
            assert Journal("ACCT").pending(), f"step {step} ({mode}): left running and not journaled"
        _engine(_account(warehouses=account.warehouses))  # the next connect replays the journal
        assert (wh.state, wh.size) == ("SUSPENDED", "XSMALL"), f"step {step} ({mode})"
        assert Journal("ACCT").pending() == [], f"step {step} ({mode})"
