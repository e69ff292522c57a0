"""Streams, tasks and their grants for the fake account (``sf_fake_account.FakeAccount``), through its public
``answer(pattern, rows)``. Each rule cites the Snowflake page it follows; none asks the engine what is valid.

- CREATE STREAM ... ON TABLE: a stream is a named object in a schema; creating one whose name exists fails
  without OR REPLACE. https://docs.snowflake.com/en/sql-reference/sql/create-stream
- CREATE TASK: "newly created or cloned tasks are created suspended"; the schedule, warehouse (or
  USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE for serverless) and comment are kept.
  https://docs.snowflake.com/en/sql-reference/sql/create-task
- ALTER TASK ... RESUME | SUSPEND sets the state Started / Suspended; ALTER TASK ... SET COMMENT replaces the
  comment. https://docs.snowflake.com/en/sql-reference/sql/alter-task
- EXECUTE TASK starts one run outside the schedule; it fails for a task that does not exist.
  https://docs.snowflake.com/en/sql-reference/sql/execute-task
- SHOW TASKS LIKE '<pattern>' IN SCHEMA: case-insensitive pattern with % and _; the columns used are name,
  state ("started" / "suspended"), schedule, warehouse (NULL for serverless), comment, created_on.
  https://docs.snowflake.com/en/sql-reference/sql/show-tasks
- TASK_HISTORY(TASK_NAME => ..., RESULT_LIMIT => n): rows with NAME, STATE, SCHEDULED_TIME, COMPLETED_TIME,
  ERROR_MESSAGE, QUERY_ID, DATABASE_NAME, SCHEMA_NAME, most recent first.
  https://docs.snowflake.com/en/sql-reference/functions/task_history
- SHOW GRANTS ON ACCOUNT / ON SCHEMA: one row per privilege with privilege, granted_to, grantee_name.
  https://docs.snowflake.com/en/sql-reference/sql/show-grants
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tests.snowflake.sf_fake_account import FakeAccount

from snowml_desktop.core.errors import AlreadyExists, NotFound, PermissionDenied
from snowml_desktop.engines.snowflake import sql

_NAME = r'"(?:[^"]|"")*"'
_QUALIFIED = rf"{_NAME}\.{_NAME}\.({_NAME})"


def _ident(quoted: str) -> str:
    return quoted[1:-1].replace('""', '"')


def _literal(text: str) -> str:
    """The value of a single-quoted literal built with backslash escapes."""
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body.replace("''", "'"))


@dataclass
class FakeTask:
    name: str
    schedule: str
    warehouse: str | None
    comment: str
    definition: str
    condition: str
    state: str = "suspended"
    created_on: datetime = field(default_factory=lambda: datetime(2026, 12, 1, tzinfo=timezone.utc))


@dataclass
class FakeTasks:
    """Task and stream state of one schema. ``account_grants`` / ``schema_grants``: (privilege, role)."""

    account: FakeAccount
    database: str = "DB"
    schema: str = "SNOWML"
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)  # stream -> CREATE STREAM text
    runs: list[dict[str, Any]] = field(default_factory=list)
    account_grants: list[tuple[str, str]] = field(
        default_factory=lambda: [("EXECUTE TASK", "ANALYST"), ("EXECUTE MANAGED TASK", "ANALYST")]
    )
    schema_grants: list[tuple[str, str]] = field(default_factory=lambda: [("OWNERSHIP", "ANALYST")])
    grants_visible: bool = True

    def install(self) -> FakeTasks:
        a = self.account
        a.answer(r"^CREATE STREAM ", self._create_stream)
        a.answer(r"^DROP STREAM IF EXISTS ", self._drop_stream)
        a.answer(r"^CREATE TASK ", self._create_task)
        a.answer(r"^ALTER TASK ", self._alter_task)
        a.answer(r"^EXECUTE TASK ", self._execute_task)
        a.answer(r"^DROP TASK IF EXISTS ", self._drop_task)
        a.answer(r"^SHOW TASKS LIKE ", self._show_tasks)
        a.answer(r"TASK_HISTORY\"?\(", self._history)
        a.answer(r"^SHOW GRANTS ON ACCOUNT$", lambda _s: self._grants(self.account_grants))
        a.answer(r"^SHOW GRANTS ON SCHEMA ", lambda _s: self._grants(self.schema_grants))
        return self

    # --- rules -------------------------------------------------------------------------------------------
    def _create_stream(self, statement: sql.Statement) -> list[dict[str, Any]]:
        name = _ident(re.match(rf"^CREATE STREAM {_QUALIFIED} ON TABLE ", statement.text).group(1))
        if name in self.streams:
            raise AlreadyExists(f"Object '{name}' already exists.")
        self.streams[name] = statement.text
        return [{"status": f"Stream {name} successfully created."}]

    def _drop_stream(self, statement: sql.Statement) -> list[dict[str, Any]]:
        name = _ident(re.match(rf"^DROP STREAM IF EXISTS {_QUALIFIED}$", statement.text).group(1))
        self.streams.pop(name, None)
        return [{"status": "dropped"}]

    def _create_task(self, statement: sql.Statement) -> list[dict[str, Any]]:
        text = statement.text
        name = _ident(re.match(rf"^CREATE TASK {_QUALIFIED} ", text).group(1))
        if name in self.tasks:
            raise AlreadyExists(f"Object '{name}' already exists.")
        literal = r"'(?:[^'\\]|\\.|'')*'"
        warehouse = re.search(rf" WAREHOUSE = ({_NAME}) ", text)
        self.tasks[name] = FakeTask(
            name=name,
            schedule=_literal(re.search(rf" SCHEDULE = ({literal}) ", text).group(1)),
            warehouse=_ident(warehouse.group(1)) if warehouse else None,
            comment=_literal(re.search(rf" COMMENT = ({literal}) WHEN ", text).group(1)),
            definition=text.split(" AS ", 1)[1],
            condition=re.search(r" WHEN (.*?) AS CALL ", text).group(1),
        )  # created suspended, as documented
        return [{"status": f"Task {name} successfully created."}]

    def _task(self, quoted: str) -> FakeTask:
        name = _ident(quoted)
        if name not in self.tasks:
            raise NotFound(f"Task '{name}' does not exist or not authorized.")
        return self.tasks[name]

    def _alter_task(self, statement: sql.Statement) -> list[dict[str, Any]]:
        match = re.match(rf"^ALTER TASK {_QUALIFIED} (RESUME|SUSPEND|SET COMMENT = (.*))$", statement.text)
        task = self._task(match.group(1))
        if match.group(2) == "RESUME":
            task.state = "started"
        elif match.group(2) == "SUSPEND":
            task.state = "suspended"
        else:
            task.comment = _literal(match.group(3))
        return [{"status": "Statement executed successfully."}]

    def _execute_task(self, statement: sql.Statement) -> list[dict[str, Any]]:
        task = self._task(re.match(rf"^EXECUTE TASK {_QUALIFIED}$", statement.text).group(1))
        self.runs.insert(0, self.history_row(task.name, "EXECUTING"))
        return [{"status": f"Task {task.name} is scheduled to run immediately."}]

    def _drop_task(self, statement: sql.Statement) -> list[dict[str, Any]]:
        name = _ident(re.match(rf"^DROP TASK IF EXISTS {_QUALIFIED}$", statement.text).group(1))
        self.tasks.pop(name, None)
        return [{"status": "dropped"}]

    def _show_tasks(self, statement: sql.Statement) -> list[dict[str, Any]]:
        match = re.match(r"^SHOW TASKS LIKE ('(?:[^']|'')*') IN SCHEMA (.*)$", statement.text)
        pattern = _literal(match.group(1))
        regex = "^" + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + "$"
        return [
            {
                "created_on": t.created_on,
                "name": t.name,
                "database_name": self.database,
                "schema_name": self.schema,
                "comment": t.comment,
                "warehouse": t.warehouse,
                "schedule": t.schedule,
                "state": t.state,
                "definition": t.definition,
                "condition": t.condition,
            }
            for t in self.tasks.values()
            if re.match(regex, t.name, flags=re.IGNORECASE)
        ]

    def _history(self, statement: sql.Statement) -> list[dict[str, Any]]:
        name = _literal(re.search(r"TASK_NAME => ('(?:[^']|'')*')", statement.text).group(1))
        limit = int(re.search(r"RESULT_LIMIT => (\d+)", statement.text).group(1))
        database, schema = statement.params
        rows = [
            r
            for r in self.runs
            if r["NAME"].upper() == name.upper()
            and (r["DATABASE_NAME"], r["SCHEMA_NAME"]) == (database, schema)
        ]
        return rows[:limit]

    def _grants(self, grants: list[tuple[str, str]]) -> list[dict[str, Any]]:
        if not self.grants_visible:
            raise PermissionDenied("Insufficient privileges to operate on account.")
        return [{"privilege": p, "granted_to": "ROLE", "grantee_name": r} for p, r in grants]

    def history_row(self, task: str, state: str, error: str | None = None) -> dict[str, Any]:
        return {
            "NAME": task,
            "DATABASE_NAME": self.database,
            "SCHEMA_NAME": self.schema,
            "STATE": state,
            "SCHEDULED_TIME": datetime(2026, 12, 3, 2, tzinfo=timezone.utc),
            "COMPLETED_TIME": None
            if state in ("SCHEDULED", "EXECUTING")
            else datetime(2026, 12, 3, 2, 1, tzinfo=timezone.utc),
            "ERROR_MESSAGE": error,
            "QUERY_ID": f"qid-task-{len(self.runs)}",
        }
