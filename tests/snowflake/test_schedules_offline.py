"""Snowflake schedules offline: the stream and task DDL, privileges checked first, list / suspend / resume /
run now / drop / history, and a deleted model pausing its schedules. The fake's task rules cite their pages
(tests/snowflake/sf_fake_tasks.py); the statements follow:
https://docs.snowflake.com/en/sql-reference/sql/create-stream
https://docs.snowflake.com/en/sql-reference/sql/create-task
https://docs.snowflake.com/en/sql-reference/sql/alter-task
https://docs.snowflake.com/en/sql-reference/sql/execute-task
https://docs.snowflake.com/en/sql-reference/functions/task_history
https://docs.snowflake.com/en/sql-reference/functions/system_stream_has_data
"""

from __future__ import annotations

import json
import re

import pytest
from tests.snowflake.sf_fake_tasks import FakeTasks
from tests.snowflake.test_engine_offline import _account, _engine

from snowml_desktop.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from snowml_desktop.engines.base import ScheduleRequest

TASK = "SNOWML_TASK_RANDOM_FOREST_7_CHURN"


def _setup(**fake):
    account = _account()
    tasks = FakeTasks(account, **fake).install()
    return account, tasks, _engine(account)


def _request(**kw) -> ScheduleRequest:
    return ScheduleRequest(
        **{"model": "random_forest_7", "table": "churn", "output": "churn_scored", "cron": "0 2 * * *", **kw}
    )


def _ddl(account) -> list[str]:
    return [s.text for s in account.log if re.match(r"^(CREATE|ALTER|DROP|EXECUTE) (STREAM|TASK)", s.text)]


def test_create_makes_an_append_only_stream_and_a_started_task_calling_snowml_score_on_it() -> None:
    account, tasks, engine = _setup()
    schedule = engine.create_schedule(_request())
    assert (schedule.name, schedule.state, schedule.cron) == (TASK, "started", "0 2 * * *")
    assert (schedule.model, schedule.table, schedule.output) == ("RANDOM_FOREST_7", "CHURN", "CHURN_SCORED")
    assert (schedule.serverless, schedule.warehouse, schedule.stream) == (False, "WH", TASK + "_STREAM")
    stream, task, resume = _ddl(account)
    # the output does not exist yet, so the first run scores the rows already in the table too
    assert stream == (
        f'CREATE STREAM "DB"."SNOWML"."{TASK}_STREAM" ON TABLE "DB"."DATA"."CHURN" APPEND_ONLY = TRUE '
        f"SHOW_INITIAL_ROWS = TRUE COMMENT = 'snowml-desktop: new rows for {TASK}'"
    )
    assert task.startswith(
        f'CREATE TASK "DB"."SNOWML"."{TASK}" WAREHOUSE = "WH" SCHEDULE = \'USING CRON 0 2 * * * UTC\' '
        "SUSPEND_TASK_AFTER_NUM_FAILURES = 3 COMMENT = '"
    )
    assert f'WHEN SYSTEM$STREAM_HAS_DATA(\'"DB"."SNOWML"."{TASK}_STREAM"\') AS CALL ' in task
    assert resume == f'ALTER TASK "DB"."SNOWML"."{TASK}" RESUME'
    # the task's CALL carries a score request naming the stream as its source
    call = tasks.tasks[TASK].definition
    assert call.startswith('CALL "DB"."SNOWML"."SNOWML_SCORE"(\'')
    body = json.loads(re.sub(r"\\(.)", r"\1", call[len('CALL "DB"."SNOWML"."SNOWML_SCORE"(\'') : -2]))
    assert body["source_stream"] == f'"DB"."SNOWML"."{TASK}_STREAM"'
    assert (body["model"], body["table"], body["output"], body["overwrite"]) == (
        "RANDOM_FOREST_7", "CHURN", "CHURN_SCORED", False
    )  # fmt: skip


def test_serverless_schedule_sets_the_initial_size_and_an_existing_output_gets_only_new_rows() -> None:
    account, tasks, engine = _setup()
    account.answer(
        r"INFORMATION_SCHEMA\"\.\"COLUMNS\"",
        lambda s: [
            {"COLUMN_NAME": "AGE", "DATA_TYPE": "NUMBER", "NUMERIC_PRECISION": 38, "NUMERIC_SCALE": 0},
            {"COLUMN_NAME": "PLAN", "DATA_TYPE": "TEXT", "NUMERIC_PRECISION": None, "NUMERIC_SCALE": None},
        ],
    )  # fmt: skip  (every table, the output included, exists)
    schedule = engine.create_schedule(_request(serverless=True, size="Small", name="nightly"))
    assert schedule.name == "SNOWML_TASK_NIGHTLY" and schedule.serverless and schedule.size == "Small"
    stream, task, _ = _ddl(account)
    assert "SHOW_INITIAL_ROWS = FALSE" in stream
    assert (
        " USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'SMALL' SCHEDULE = " in task
        and " WAREHOUSE = " not in task
    )


def test_missing_privileges_are_named_before_anything_is_created() -> None:
    account, tasks, engine = _setup(account_grants=[], schema_grants=[("CREATE TASK", "ANALYST")])
    with pytest.raises(PermissionDenied) as caught:
        engine.create_schedule(_request(serverless=True))
    message = str(caught.value)
    assert "EXECUTE TASK on the account" in message and "EXECUTE MANAGED TASK on the account" in message
    assert "CREATE STREAM on the schema" in message and "CREATE TASK on the schema" not in message
    assert 'GRANT CREATE STREAM ON SCHEMA "DB"."SNOWML" TO ROLE <your role>;' in message
    assert _ddl(account) == [] and not tasks.tasks and not tasks.streams


def test_grants_held_by_a_role_outside_the_session_do_not_count() -> None:
    account, tasks, engine = _setup(account_grants=[("EXECUTE TASK", "ADMIN")])
    with pytest.raises(PermissionDenied, match="EXECUTE TASK on the account"):
        engine.create_schedule(_request())


def test_a_failed_task_creation_drops_the_stream_it_made() -> None:
    account, tasks, engine = _setup()

    def refuse(_statement):
        raise PermissionDenied("Insufficient privileges to operate on schema 'SNOWML'.")

    account.answer(r"^CREATE TASK ", refuse)
    with pytest.raises(PermissionDenied):
        engine.create_schedule(_request())
    assert not tasks.streams and not tasks.tasks
    assert _ddl(account)[-1] == f'DROP STREAM IF EXISTS "DB"."SNOWML"."{TASK}_STREAM"'


@pytest.mark.parametrize(
    ("request_kw", "error", "words"),
    [
        ({"cron": "0 2 * *"}, InvalidInput, "not 5"),
        ({"size": "Small"}, InvalidInput, "only for serverless"),
        ({"model": "NOPE_1"}, NotFound, "NOPE_1"),
        ({"table": "MISSING"}, NotFound, "MISSING"),
        ({"output": "churn"}, InvalidInput, "cannot be the table"),
        ({"table": 'we"ird; DROP'}, InvalidInput, "PLAN"),  # lacks a feature column
    ],
)
def test_bad_requests_are_refused_before_any_ddl(request_kw, error, words) -> None:
    account, tasks, engine = _setup()
    with pytest.raises(error, match=re.escape(words)):
        engine.create_schedule(_request(**request_kw))
    assert _ddl(account) == []


def test_list_suspend_resume_run_now_history_and_drop() -> None:
    account, tasks, engine = _setup()
    engine.create_schedule(_request())
    tasks.tasks["SNOWML_TASK_OTHER"] = type(tasks.tasks[TASK])(
        "SNOWML_TASK_OTHER", "", None, "not json", "", ""
    )
    assert [s.name for s in engine.list_schedules()] == [TASK]  # a task without the app's comment is not ours

    suspended = engine.set_schedule_state(TASK, False, reason="paused by Ana")
    assert (suspended.state, suspended.reason) == ("suspended", "paused by Ana")
    resumed = engine.set_schedule_state(TASK.lower(), True)
    assert (resumed.state, resumed.reason) == ("started", None)

    engine.run_schedule_now(TASK)
    assert _ddl(account)[-1] == f'EXECUTE TASK "DB"."SNOWML"."{TASK}"'
    tasks.runs.append(tasks.history_row(TASK, "FAILED", "Table CHURN no longer has the feature(s) PLAN"))
    history = engine.schedule_history(TASK)
    assert [h.state for h in history] == ["EXECUTING", "FAILED"]
    assert history[1].error.endswith("PLAN") and history[0].query_id
    history_sql = next(s for s in account.log if "TASK_HISTORY" in s.text)
    assert "TASK_NAME => 'SNOWML_TASK_RANDOM_FOREST_7_CHURN', RESULT_LIMIT => 50" in history_sql.text
    assert history_sql.params == ("DB", "SNOWML")

    engine.drop_schedule(TASK)
    assert _ddl(account)[-2:] == [
        f'DROP TASK IF EXISTS "DB"."SNOWML"."{TASK}"',
        f'DROP STREAM IF EXISTS "DB"."SNOWML"."{TASK}_STREAM"',
    ]
    assert engine.list_schedules() == [] and not tasks.streams
    with pytest.raises(NotFound, match="schedule list"):
        engine.drop_schedule(TASK)


def test_an_existing_schedule_name_is_refused() -> None:
    account, tasks, engine = _setup()
    engine.create_schedule(_request())
    with pytest.raises(AlreadyExists):
        engine.create_schedule(_request())


def test_deleting_a_model_suspends_its_schedules_with_the_reason_and_resume_refuses() -> None:
    account, tasks, engine = _setup()
    engine.create_schedule(_request())
    engine.delete_model("RANDOM_FOREST_7")
    (schedule,) = engine.list_schedules()
    assert schedule.state == "suspended" and "RANDOM_FOREST_7 was deleted" in schedule.reason
    account.answer(r'^SELECT \* FROM "DB"."SNOWML"."MODELS_CATALOG"', [])  # the row is gone now
    with pytest.raises(InvalidInput, match="which was deleted"):
        engine.set_schedule_state(TASK, True)
    with pytest.raises(InvalidInput, match="which was deleted"):
        engine.run_schedule_now(TASK)
    assert tasks.tasks[TASK].state == "suspended"


def test_resuming_when_the_table_lost_a_feature_names_it() -> None:
    account, tasks, engine = _setup()
    engine.create_schedule(_request())
    engine.set_schedule_state(TASK, False)
    account.answer(
        r"INFORMATION_SCHEMA\"\.\"COLUMNS\"",
        [{"COLUMN_NAME": "AGE", "DATA_TYPE": "NUMBER", "NUMERIC_PRECISION": 38, "NUMERIC_SCALE": 0}],
    )
    with pytest.raises(InvalidInput, match="no longer has the feature"):
        engine.set_schedule_state(TASK, True)


def test_when_grants_cannot_be_listed_the_ddl_itself_is_the_check() -> None:
    account, tasks, engine = _setup(grants_visible=False)
    assert engine.create_schedule(_request()).state == "started"


def test_the_local_engine_has_no_server_side_schedules(tmp_path) -> None:
    from snowml_desktop.engines.local.engine import LocalEngine

    engine = LocalEngine(tmp_path / "ws")
    try:
        with pytest.raises(InvalidInput, match="score --incremental"):
            engine.list_schedules()
    finally:
        engine.close()


def test_snowflake_scores_new_rows_through_a_schedule_not_score_incremental(capsys) -> None:
    from snowml_desktop.cli import main
    from snowml_desktop.engines.base import ScoreRequest

    account, tasks, engine = _setup()
    with pytest.raises(InvalidInput, match="schedule create"):
        engine.score_incremental(ScoreRequest("RANDOM_FOREST_7", "CHURN", "OUT"))
    code = main(
        ["--connection", "work", "score", "--incremental", "--model", "M_1", "--table", "T", "--output", "O"],
        open_engine=lambda name, workspace=None, memory_limit=None: engine,
    )
    assert code == 1 and "snowml schedule create" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("request_kw", "columns"),
    [
        ({"output": "__snowml_x"}, {}),
        ({"output": '"__SnowML_x"'}, {}),
        ({"output": "SALES__SNOWML_LOADING"}, {}),
        ({"table": "odd"}, {"ODD": [("AGE", "NUMBER", 38, 0), ("PLAN", "TEXT", None, None), ("__SNOWML_RESULT", "NUMBER", 38, 0)]}),
        ({"output": "scored"}, {"SCORED": [("AGE", "NUMBER", 38, 0), ("__SNOWML_ROW", "NUMBER", 38, 0)]}),
    ],
)
def test_reserved_names_are_refused_as_when_scoring(request_kw, columns) -> None:
    """The internal-name check of score (``identifiers.user_table`` / ``user_columns``) holds for a schedule
    too: its output table's name, the scored table's columns and an existing output's columns."""
    from tests.snowflake.test_engine_offline import COLUMNS

    account, tasks, engine = _setup()
    COLUMNS.update(columns)
    try:
        with pytest.raises(InvalidInput, match="reserved") as info:
            engine.create_schedule(_request(**request_kw))
    finally:
        for name in columns:
            del COLUMNS[name]
    assert "__SNOWML_" in (info.value.hint or "")
    assert _ddl(account) == [] and account.calls == []
