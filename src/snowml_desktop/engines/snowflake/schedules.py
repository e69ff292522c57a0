"""Scheduled scoring on Snowflake: a STREAM on the input table and a TASK that calls SNOWML_SCORE on its rows.

How it works, with the documentation each piece relies on:
- ``CREATE STREAM ... ON TABLE ... APPEND_ONLY = TRUE`` records rows inserted into the table after the stream
  was created; ``SHOW_INITIAL_ROWS = TRUE`` makes its first read return the rows already there, used when the
  output table does not exist yet so the first run scores the whole table.
  https://docs.snowflake.com/en/sql-reference/sql/create-stream
- A stream's offset advances only when a DML statement reads it and that transaction commits; a plain
  SELECT does not. SNOWML_SCORE consumes the stream into a temporary staging table and appends that to the
  output in one transaction (``procedures._score_stream``): rows are consumed exactly when they are appended,
  and a failed run consumes nothing. https://docs.snowflake.com/en/user-guide/streams-intro
- ``CREATE TASK ... SCHEDULE = 'USING CRON <expr> UTC' ... WHEN SYSTEM$STREAM_HAS_DATA('<stream>') AS CALL
  ...``; ``WAREHOUSE = <name>`` runs on that warehouse, ``USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE`` makes it
  serverless; ``SUSPEND_TASK_AFTER_NUM_FAILURES`` pauses a task that keeps failing (e.g. its model is gone);
  a new task is created suspended. https://docs.snowflake.com/en/sql-reference/sql/create-task
- The WHEN check skips a run (no warehouse started) when the stream has no change data.
  https://docs.snowflake.com/en/sql-reference/functions/system_stream_has_data
- ``ALTER TASK ... RESUME | SUSPEND`` and ``ALTER TASK ... SET COMMENT``:
  https://docs.snowflake.com/en/sql-reference/sql/alter-task
- ``EXECUTE TASK <name>`` starts one run now, asynchronously: https://docs.snowflake.com/en/sql-reference/sql/execute-task
- Run history with errors from the ``INFORMATION_SCHEMA.TASK_HISTORY`` table function (last 7 days; arguments
  TASK_NAME, RESULT_LIMIT): https://docs.snowflake.com/en/sql-reference/functions/task_history
- ``SHOW TASKS LIKE ... IN SCHEMA`` lists tasks with state, schedule, warehouse and comment:
  https://docs.snowflake.com/en/sql-reference/sql/show-tasks
- Privileges: EXECUTE TASK on the account for the task owner (EXECUTE MANAGED TASK for serverless), CREATE
  TASK and CREATE STREAM on the schema: https://docs.snowflake.com/en/user-guide/tasks-ts and
  https://docs.snowflake.com/en/user-guide/tasks-intro ; grants are read with SHOW GRANTS ON ACCOUNT / ON
  SCHEMA: https://docs.snowflake.com/en/sql-reference/sql/show-grants

The app's bookkeeping (model, table, output, stream, why the app suspended it) is the task's COMMENT, as JSON,
so a schedule is one Snowflake object pair and nothing else to keep in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from snowml_desktop.core import sizes
from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import qualified, quote, string_literal
from snowml_desktop.core.schedules import Cron
from snowml_desktop.engines.base import Schedule, ScheduleRun
from snowml_desktop.engines.snowflake.sql import GOLDEN, Location, Statement

TASK_PREFIX = "SNOWML_TASK_"
STREAM_SUFFIX = "_STREAM"
#: Consecutive failed runs after which Snowflake suspends the task by itself.
MAX_FAILURES = 3
COMMENT_KIND = "snowml-schedule"


def _lit(value: str) -> str:
    return string_literal(value, backslash_escapes=True)


def task_name(model: str, table: str, name: str | None) -> str:
    """The task's name: the user's (prefixed, so the app lists only its own tasks) or one from model and table."""
    base = name or f"{model}_{table}"
    return base if base.startswith(TASK_PREFIX) else TASK_PREFIX + base


def stream_name(task: str) -> str:
    return task + STREAM_SUFFIX


@dataclass(frozen=True)
class Plan:
    """What :func:`create_statements` creates for one schedule."""

    task: str
    stream: str
    model: str
    table: str
    output: str
    cron: Cron
    warehouse: str | None  # None: serverless
    size: sizes.WarehouseSize | None  # serverless initial size
    initial_rows: bool  # the first run scores the rows already in the table

    def comment(self, reason: str | None = None) -> str:
        return json.dumps(
            {
                "kind": COMMENT_KIND,
                "model": self.model,
                "table": self.table,
                "output": self.output,
                "stream": self.stream,
                "size": self.size.label if self.size else None,
                "reason": reason,
            },
            sort_keys=True,
        )


def create_stream(loc: Location, plan: Plan) -> Statement:
    show = "TRUE" if plan.initial_rows else "FALSE"
    return Statement(
        f"CREATE STREAM {loc.app(plan.stream)} ON TABLE {loc.data(plan.table)} APPEND_ONLY = TRUE "
        f"SHOW_INITIAL_ROWS = {show} COMMENT = {_lit('snowml-desktop: new rows for ' + plan.task)}",
        verify=GOLDEN,
    )


def create_task(loc: Location, plan: Plan, call_json: str, procedure: str = "SNOWML_SCORE") -> Statement:
    """The task: its compute, schedule, failure limit and bookkeeping comment, the stream check, and the CALL
    with the request JSON as a literal (a task body takes no bind values)."""
    if plan.warehouse is not None:
        compute = f"WAREHOUSE = {quote(plan.warehouse)}"
    else:
        size = plan.size or sizes.parse_size("X-Small")
        compute = f"USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = {_lit(size.sql)}"
    return Statement(
        f"CREATE TASK {loc.app(plan.task)} {compute} "
        f"SCHEDULE = {_lit(f'USING CRON {plan.cron.text} UTC')} "
        f"SUSPEND_TASK_AFTER_NUM_FAILURES = {MAX_FAILURES} COMMENT = {_lit(plan.comment())} "
        f"WHEN SYSTEM$STREAM_HAS_DATA({_lit(loc.app(plan.stream))}) "
        f"AS CALL {loc.app(procedure)}({_lit(call_json)})",
        verify=GOLDEN,
    )


def alter_task_state(loc: Location, task: str, active: bool) -> Statement:
    return Statement(f"ALTER TASK {loc.app(task)} {'RESUME' if active else 'SUSPEND'}", verify=GOLDEN)


def set_task_comment(loc: Location, task: str, comment: str) -> Statement:
    return Statement(f"ALTER TASK {loc.app(task)} SET COMMENT = {_lit(comment)}", verify=GOLDEN)


def execute_task(loc: Location, task: str) -> Statement:
    return Statement(f"EXECUTE TASK {loc.app(task)}", verify=GOLDEN)


def drop_task(loc: Location, task: str) -> Statement:
    return Statement(f"DROP TASK IF EXISTS {loc.app(task)}", verify=GOLDEN)


def drop_stream(loc: Location, stream: str) -> Statement:
    return Statement(f"DROP STREAM IF EXISTS {loc.app(stream)}", verify=GOLDEN)


def show_tasks(loc: Location) -> Statement:
    """The app's tasks. LIKE is a case-insensitive pattern (``_`` matches any character): callers keep only
    rows whose name starts with the prefix exactly and whose comment is the app's."""
    return Statement(
        f"SHOW TASKS LIKE {_lit(TASK_PREFIX + '%')} IN SCHEMA {qualified(loc.database, loc.app_schema)}",
        verify=GOLDEN,
    )


def task_history(loc: Location, task: str, limit: int) -> Statement:
    """The task's latest runs, newest first. TASK_NAME takes the unqualified name, so rows are filtered to
    the app schema too."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput(f"The history limit must be 1 to 10000, not {limit}.")
    function = qualified(loc.database, "INFORMATION_SCHEMA", "TASK_HISTORY")
    return Statement(
        'SELECT "NAME", "STATE", "SCHEDULED_TIME", "COMPLETED_TIME", "ERROR_MESSAGE", "QUERY_ID" '
        f"FROM TABLE({function}(TASK_NAME => {_lit(task)}, RESULT_LIMIT => {int(limit)})) "
        'WHERE "DATABASE_NAME" = ? AND "SCHEMA_NAME" = ? ORDER BY "SCHEDULED_TIME" DESC',
        (loc.database, loc.app_schema),
    )  # PARSED: sqlglot reads it as a SELECT


def show_grants_on_account() -> Statement:
    return Statement("SHOW GRANTS ON ACCOUNT", verify=GOLDEN)


def show_grants_on_schema(loc: Location) -> Statement:
    return Statement(f"SHOW GRANTS ON SCHEMA {qualified(loc.database, loc.app_schema)}", verify=GOLDEN)


def needed_privileges(serverless: bool) -> list[tuple[str, str]]:
    """(privilege, on what) a role needs to create and run a schedule."""
    on_account = ["EXECUTE TASK"] + (["EXECUTE MANAGED TASK"] if serverless else [])
    return [(p, "ACCOUNT") for p in on_account] + [("CREATE TASK", "SCHEMA"), ("CREATE STREAM", "SCHEMA")]


def grant_hint(missing: list[tuple[str, str]], loc: Location) -> str:
    schema = qualified(loc.database, loc.app_schema)
    lines = [
        f"GRANT {p} ON {'ACCOUNT' if on == 'ACCOUNT' else 'SCHEMA ' + schema} TO ROLE <your role>;"
        for p, on in missing
    ]
    return "Ask an admin to run: " + " ".join(lines)


def granted_roles(rows: list[dict[str, Any]], privilege: str) -> set[str]:
    """Roles SHOW GRANTS rows name as holding ``privilege`` (or OWNERSHIP, which implies it on a schema)."""
    found = set()
    for row in rows:
        lower = {str(k).lower(): v for k, v in row.items()}
        if str(lower.get("granted_to", "ROLE")).upper() != "ROLE":
            continue
        if str(lower.get("privilege", "")).upper() in (privilege, "OWNERSHIP"):
            found.add(str(lower.get("grantee_name")))
    return found


def schedule_from_row(row: dict[str, Any]) -> Schedule | None:
    """A SHOW TASKS row as a Schedule; None for a task that is not the app's."""
    lower = {str(k).lower(): v for k, v in row.items()}
    name = str(lower.get("name", ""))
    try:
        meta = json.loads(str(lower.get("comment") or ""))
    except ValueError:
        return None
    if not name.startswith(TASK_PREFIX) or not isinstance(meta, dict) or meta.get("kind") != COMMENT_KIND:
        return None
    schedule = str(lower.get("schedule") or "")
    cron = schedule.removeprefix("USING CRON ").removesuffix(" UTC")
    warehouse = lower.get("warehouse") or None
    created = lower.get("created_on")
    return Schedule(
        name=name,
        model=str(meta.get("model")),
        table=str(meta.get("table")),
        output=str(meta.get("output")),
        cron=cron,
        state="started" if str(lower.get("state", "")).lower() == "started" else "suspended",
        serverless=warehouse is None,
        size=meta.get("size"),
        warehouse=str(warehouse) if warehouse else None,
        stream=str(meta.get("stream")),
        reason=meta.get("reason"),
        created=created if isinstance(created, datetime) else None,
    )


def run_from_row(row: dict[str, Any]) -> ScheduleRun:
    upper = {str(k).upper(): v for k, v in row.items()}
    return ScheduleRun(
        schedule=str(upper.get("NAME")),
        state=str(upper.get("STATE")),
        scheduled=upper.get("SCHEDULED_TIME"),
        completed=upper.get("COMPLETED_TIME"),
        error=upper.get("ERROR_MESSAGE") or None,
        query_id=upper.get("QUERY_ID") or None,
    )
