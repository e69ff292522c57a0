"""Tables, temporary sample tables and inference-run rows for the fake account (``sf_fake_account.FakeAccount``),
through its public ``answer(pattern, rows)``, for the calibration of the recommended size. Each rule cites the
Snowflake page it follows; none asks the engine what is valid.

- CREATE TEMPORARY TABLE t AS SELECT * FROM s SAMPLE ROW (n ROWS): fixed-size row sampling "returns the exact
  number of specified rows unless the table contains fewer rows".
  https://docs.snowflake.com/en/sql-reference/constructs/sample
- ... AS SELECT * FROM s LIMIT n: at most n rows. https://docs.snowflake.com/en/sql-reference/constructs/limit
- A temporary table "exists only in the session in which it was created and persists for the remainder of
  that session"; it is not visible to other sessions.
  https://docs.snowflake.com/en/user-guide/tables-temp-transient
- INFORMATION_SCHEMA.TABLES lists temporary tables with TABLE_TYPE 'TEMPORARY TABLE' (permanent ones
  'BASE TABLE'), https://docs.snowflake.com/en/sql-reference/info-schema/tables; COLUMNS has a row for each
  column of the tables, https://docs.snowflake.com/en/sql-reference/info-schema/columns
- A caller's rights procedure can access the caller's current session
  (https://docs.snowflake.com/en/developer-guide/stored-procedure/stored-procedures-rights), so the app's
  SNOWML_SCORE (EXECUTE AS CALLER) reads the caller's temporary tables; the CALL is answered by the test's
  ``score`` function, which stands in for the procedure (tested on its own in test_procedures_local.py).
- DROP TABLE IF EXISTS does nothing for a table that does not exist.
  https://docs.snowflake.com/en/sql-reference/sql/drop-table
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.snowflake.sf_fake_account import FakeAccount

from snowml_desktop.core.errors import NotFound
from snowml_desktop.engines.snowflake import sql

_NAME = r'"(?:[^"]|"")*"'
_QUALIFIED = rf"{_NAME}\.{_NAME}\.({_NAME})"


def _ident(quoted: str) -> str:
    return quoted[1:-1].replace('""', '"')


@dataclass
class FakeTable:
    rows: int
    columns: list[tuple[str, str, int | None, int | None]]  # COLUMN_NAME, DATA_TYPE, PRECISION, SCALE
    session: Any = None  # the session of a temporary table, else None
    temporary: bool = False


@dataclass
class FakeSamples:
    """User tables, temporary tables and run rows of one account. ``score(request, warehouse_size)`` stands in
    for the SNOWML_SCORE procedure: it returns the run's (rows, total seconds)."""

    account: FakeAccount
    tables: dict[str, FakeTable]
    score: Callable[[dict[str, Any], str], tuple[int, float]]
    runs: list[dict[str, Any]] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # the texts this fake answered
    _ids: Any = field(default_factory=lambda: itertools.count(100))

    def install(self) -> FakeSamples:
        a = self.account
        a.answer(r"^CREATE TEMPORARY TABLE ", self._create_temporary)
        a.answer(r"^DROP TABLE IF EXISTS ", self._drop)
        a.answer(r'^SELECT "COLUMN_NAME"', self._columns)
        a.answer(r'INFORMATION_SCHEMA"\."TABLES"', self._list_tables)
        a.answer(r'COUNT\(\*\) AS "N" FROM .*COLUMNS', self._column_counts)
        a.answer(r"NEXTVAL", lambda _s: [{"N": next(self._ids)}])
        a.answer(r'^SELECT \* FROM "DB"."SNOWML"."INFERENCE_RUNS"', self._select_runs)
        a.answer(r'^UPDATE "DB"."SNOWML"."INFERENCE_RUNS" SET "KIND"', self._mark)
        a.answer(r'^CALL "DB"."SNOWML"."SNOWML_SCORE"', self._call_score)
        return self

    # --- helpers ------------------------------------------------------------------------------------------
    def _session(self) -> Any:
        return getattr(self.account._executing, "session", None)

    def visible(self, name: str) -> FakeTable | None:
        table = self.tables.get(name)
        if table is None or (table.temporary and table.session is not self._session()):
            return None
        return table

    # --- statements -----------------------------------------------------------------------------------------
    def _create_temporary(self, statement: sql.Statement) -> list[dict]:
        self.statements.append(statement.text)
        match = re.match(
            rf"^CREATE TEMPORARY TABLE {_QUALIFIED} AS SELECT \* FROM {_QUALIFIED} "
            r"(?:SAMPLE ROW \((\d+) ROWS\)|LIMIT (\d+))$",
            statement.text,
        )
        assert match, statement.text
        name, source, sampled, limit = _ident(match[1]), _ident(match[2]), match[3], match[4]
        origin = self.visible(source)
        if origin is None:
            raise NotFound(f"Object '{source}' does not exist or not authorized.")
        rows = min(
            int(sampled or limit), origin.rows
        )  # exact n unless fewer rows (sample); at most n (LIMIT)
        self.tables[name] = FakeTable(rows, list(origin.columns), self._session(), temporary=True)
        return [{"status": f"Table {name} successfully created."}]

    def _drop(self, statement: sql.Statement) -> list[dict]:
        self.statements.append(statement.text)
        name = _ident(re.match(rf"^DROP TABLE IF EXISTS {_QUALIFIED}$", statement.text)[1])
        if self.visible(name) is not None:
            del self.tables[name]
        return [{"status": "Drop statement executed successfully."}]

    def _columns(self, statement: sql.Statement) -> list[dict]:
        table = self.visible(statement.params[1])
        return [
            {"COLUMN_NAME": n, "DATA_TYPE": t, "NUMERIC_PRECISION": p, "NUMERIC_SCALE": s}
            for n, t, p, s in (table.columns if table else [])
        ]

    def _list_tables(self, _statement: sql.Statement) -> list[dict]:
        # The engine asks for TABLE_TYPE = 'BASE TABLE': temporary tables are 'TEMPORARY TABLE'.
        return [
            {"TABLE_NAME": name, "ROW_COUNT": t.rows, "BYTES": 1024, "CREATED": None}
            for name, t in sorted(self.tables.items())
            if not t.temporary
        ]

    def _column_counts(self, _statement: sql.Statement) -> list[dict]:
        return [{"TABLE_NAME": n, "N": len(t.columns)} for n, t in self.tables.items() if not t.temporary]

    def _select_runs(self, statement: sql.Statement) -> list[dict]:
        where = re.findall(r'"(MODEL_NAME|SOURCE_TABLE|RUN_ID)" = \?', statement.text)
        wanted = dict(zip(where, statement.params, strict=True))
        rows = [r for r in self.runs if all(r[k] == v for k, v in wanted.items())]
        return sorted(rows, key=lambda r: r["RUN_ID"], reverse=True)

    def _mark(self, statement: sql.Statement) -> list[dict]:
        self.statements.append(statement.text)
        kind, table, run_id = statement.params
        for row in self.runs:
            if row["RUN_ID"] == run_id:
                row.update(KIND=kind, SOURCE_TABLE=table, OUTPUT_TABLE=None)
        return [{"number of rows updated": 1}]

    def _call_score(self, statement: sql.Statement) -> list[dict]:
        from snowml_desktop.core import records, sizes

        request = json.loads(statement.params[0])
        self.statements.append(f"CALL SNOWML_SCORE {request['table']} at {request['warehouse_size']}")
        source = self.visible(request["table"])  # caller's rights: the caller's session, its temporary tables
        if source is None:
            raise NotFound(f"The table {request['table']!r} does not exist or is not accessible.")
        rows, seconds = self.score(request, request["warehouse_size"])
        self.tables[request["output"]] = FakeTable(
            rows, [*source.columns, ("PREDICTION", "TEXT", None, None)]
        )
        run = records.InferenceRun(
            request["run_id"], datetime(2026, 12, 3), request["model"],
            request["table"], request["output"], rows, seconds, seconds * 0.9, request["warehouse_size"],
            request["warehouse_type"], None,
            sizes.estimate_credits(seconds, request["warehouse_size"], request["warehouse_type"]),
        )  # fmt: skip
        row = records.run_to_row(run)
        self.runs.append(dict(row))
        row["CREATED_AT"] = row["CREATED_AT"].isoformat()
        return [{"SNOWML_SCORE": json.dumps({"ok": True, "row": row})}]
