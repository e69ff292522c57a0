"""The warehouse behind a stored procedure's own SQL, for a Snowpark local-testing session.

Local testing emulates the DataFrame API but refuses ``session.sql``. The procedures send three kinds of
statement through it: the drift aggregates of ``core.drift`` (at training and for each run), and BEGIN /
COMMIT / ROLLBACK around a scheduled run's consume-and-append. This stand-in takes the place of the network
for exactly those:

- a query is parsed as Snowflake SQL (sqlglot, ``read="snowflake"``; a statement sqlglot cannot read as SQL
  is refused), transpiled to DuckDB and run there, with its bind values, over copies of the tables it names
  taken from the local-testing session at that moment. So the procedure's SQL text runs as sent, over the same
  rows the DataFrame API wrote, and its rows come back through ``collect()`` as Snowpark ``Row`` objects.
  What it cannot vouch for is where Snowflake and DuckDB differ in meaning (checked elsewhere for these
  queries: ``tests/core/test_drift.py`` against numpy and scipy). A fixed-size ``SAMPLE ROW (n ROWS)``
  "returns the exact number of specified rows unless the table contains fewer rows", row by row
  (https://docs.snowflake.com/en/sql-reference/constructs/sample); sqlglot turns it into DuckDB's
  ``TABLESAMPLE RESERVOIR (n ROWS)``, which returns exactly that many rows, or every row of a smaller table
  (https://duckdb.org/docs/current/sql/samples).
- transactions and streams follow the documented rules in ``sf_fake_account.RULES`` (keys named below),
  applied to the local-testing session's tables through its storage (the emulator's entity registry, the one
  place every DataFrame read and write passes).

A stream is modelled by a local-testing table holding its change rows (the table's columns plus
METADATA$ACTION / METADATA$ISUPDATE, https://docs.snowflake.com/en/user-guide/streams-intro); the offset
advancing removes the rows it passed. Nothing here asks the engine's code what Snowflake does.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from tests.snowflake.sf_fake_account import RULES

# Local testing writes create_dataframe's rows to a table of its own; Snowflake sends small data inline.
_EMULATOR_TABLE = re.compile(r'"SNOWPARK_TEMP_TABLE_[A-Z0-9]+"$')

assert {
    "stream_offset_on_dml_commit",
    "stream_repeatable_read",
    "ddl_commits_transaction",
    "rollback_undoes_dml",
    "procedure_transaction",
    "temporary_table_session",
} <= set(RULES)


class InjectedFailure(RuntimeError):
    """A failure the test injected into a write (the warehouse or the network failing mid-run)."""


@dataclass
class _Result:
    rows: list[Any]

    def collect(self) -> list[Any]:
        return self.rows


@dataclass
class ProcedureWarehouse:
    """Install on a local-testing session with :meth:`install`; ``streams`` names the stream stand-ins."""

    session: Any
    streams: set[str] = field(default_factory=set)
    statements: list[str] = field(default_factory=list)  # every session.sql text, in order
    commits: int = 0
    rollbacks: int = 0

    def __post_init__(self) -> None:
        self._registry = self.session._conn.entity_registry
        self._snapshot: dict[str, Any] | None = None  # tables at BEGIN, for ROLLBACK
        self._consumed: dict[str, int] = {}  # stream -> change rows a DML of the open transaction read
        self._reads: set[str] = set()
        self._wrote = False
        self._failures: dict[str, str] = {}

    # --- test controls -----------------------------------------------------------------------------
    def install(self) -> ProcedureWarehouse:
        self.session.sql = self.sql
        registry = self._registry
        read, write, drop = registry.read_table, registry.write_table, registry.drop_table
        execute = self.session._conn.execute

        def read_table(name: Any) -> Any:
            self._reads.add(self._name(name))
            return read(name)

        def write_table(name: Any, table: Any, mode: Any, *args: Any, **kwargs: Any) -> Any:
            qualified = self._name(name)
            ddl = self._is_ddl(qualified, mode)
            if not ddl and qualified in self._failures:
                raise InjectedFailure(self._failures.pop(qualified))
            if ddl:
                self._implicit_commit()
            self._wrote = True
            return write(name, table, mode, *args, **kwargs)

        def drop_table(name: Any, **kwargs: Any) -> None:
            self._implicit_commit()  # DROP is DDL
            drop(name, **kwargs)

        def statement(*args: Any, **kwargs: Any) -> Any:
            # One DataFrame action is one statement: what it read and whether it wrote decide consumption.
            self._reads, self._wrote = set(), False
            result = execute(*args, **kwargs)
            self._after_statement()
            return result

        registry.read_table, registry.write_table, registry.drop_table = read_table, write_table, drop_table
        self.session._conn.execute = statement
        return self

    def stream(self, name: str) -> str:
        """Treat the local-testing table ``name`` (qualified) as a stream's change rows."""
        self.streams.add(self._name(name))
        return name

    def fail_next_insert(self, table: str, message: str) -> None:
        """The next INSERT into the existing ``table`` (qualified) fails before any row is written."""
        self._failures[self._name(table)] = message

    @property
    def in_transaction(self) -> bool:
        return self._snapshot is not None

    # --- session.sql --------------------------------------------------------------------------------
    def sql(self, query: str, params: list[Any] | None = None) -> _Result:
        self.statements.append(query)
        keyword = query.strip().upper()
        if keyword in ("BEGIN", "BEGIN TRANSACTION", "BEGIN WORK"):
            self._begin()
            return _Result([])
        if keyword in ("COMMIT", "COMMIT WORK"):
            self._commit()
            return _Result([])
        if keyword in ("ROLLBACK", "ROLLBACK WORK"):
            self._rollback()
            return _Result([])
        return _Result(self._query(query, list(params or [])))

    def _query(self, query: str, params: list[Any]) -> list[Any]:
        from snowflake.snowpark import Row

        parsed = sqlglot.parse_one(query, read="snowflake")
        assert not isinstance(parsed, exp.Command), f"not Snowflake SQL sqlglot can read: {query}"
        assert isinstance(parsed, exp.Query), f"the stand-in runs queries only: {query}"
        con = duckdb.connect()
        try:
            for table in {t for t in parsed.find_all(exp.Table)}:
                self._copy_table(con, table)
            text = parsed.sql(dialect="duckdb")
            return [Row(*values) for values in con.execute(text, params).fetchall()]
        finally:
            con.close()

    def _copy_table(self, con: duckdb.DuckDBPyConnection, table: exp.Table) -> None:
        """The named local-testing table, as ``catalog.schema.name`` in DuckDB (read as a query would)."""
        catalog, schema, name = table.catalog, table.db, table.name
        assert catalog and schema, f"the procedures qualify every name: {table.sql()}"
        frame = self.session.table(_qualified(catalog, schema, name)).to_pandas()
        attached = {row[0] for row in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if catalog not in attached:
            con.execute(f"ATTACH ':memory:' AS {_quote(catalog)}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(catalog)}.{_quote(schema)}")
        con.register("__frame", frame)
        con.execute(f"CREATE TABLE {_qualified(catalog, schema, name)} AS SELECT * FROM __frame")
        con.unregister("__frame")

    # --- transactions and streams ------------------------------------------------------------------
    def _begin(self) -> None:
        if self.in_transaction:  # rule procedure_transaction: BEGIN inside an open transaction is ignored
            return
        self._snapshot = {name: copy.copy(t) for name, t in self._registry.table_registry.items()}
        self._consumed = {}

    def _commit(self) -> None:
        if not self.in_transaction:
            return
        for stream, rows in self._consumed.items():  # rule stream_offset_on_dml_commit
            self._advance(stream, rows)
        self._snapshot, self._consumed = None, {}
        self.commits += 1

    def _rollback(self) -> None:
        if not self.in_transaction:
            return
        registry = self._registry.table_registry
        for name in list(registry):  # rule rollback_undoes_dml (DDL committed earlier, so no table is new)
            if name in self._snapshot:
                registry[name] = self._snapshot[name]
        self._snapshot, self._consumed = None, {}
        self.rollbacks += 1

    def _implicit_commit(self) -> None:
        self._commit()  # rule ddl_commits_transaction

    def _after_statement(self) -> None:
        read_streams = self._reads & self.streams
        if not (self._wrote and read_streams):  # a query alone consumes nothing
            return
        for stream in read_streams:
            # rule stream_repeatable_read: no other writer here, so the rows read are the rows at BEGIN
            rows = len(self._registry.table_registry[stream])
            if self.in_transaction:
                self._consumed[stream] = max(self._consumed.get(stream, 0), rows)
            else:  # an autocommitted DML commits at its end
                self._advance(stream, rows)

    def _advance(self, stream: str, rows: int) -> None:
        table = self._registry.table_registry[stream]
        rest = copy.copy(table.iloc[rows:].reset_index(drop=True))
        rest.sf_types = table.sf_types
        self._registry.table_registry[stream] = rest

    def _is_ddl(self, name: str, mode: Any) -> bool:
        if _EMULATOR_TABLE.search(name):
            return False
        creates = name not in self._registry.table_registry
        return creates or str(getattr(mode, "name", mode)).upper() != "APPEND"

    def _name(self, name: Any) -> str:
        from snowflake.snowpark.mock._util import get_fully_qualified_name

        conn = self.session._conn
        return get_fully_qualified_name(
            name, conn._get_current_parameter("schema"), conn._get_current_parameter("database")
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(*parts: str) -> str:
    return ".".join(_quote(p) for p in parts)
