"""The local engine's APP schema: models catalog, inference runs, sequences and settings, in DuckDB.

Table layouts come from ``core.records`` (the same columns the Snowflake engine uses); logical types map to
DuckDB types here. Timestamps are stored as naive UTC (``TIMESTAMP``, like Snowflake's TIMESTAMP_NTZ) and
returned as timezone-aware UTC datetimes.

Every function takes an open cursor, so callers decide the transaction: the model row, for instance, is
inserted in the same transaction that renames the training clone into place.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from snowml_desktop.core import records
from snowml_desktop.core.errors import NotFound
from snowml_desktop.core.identifiers import qualified, quote

if TYPE_CHECKING:
    import duckdb

APP = "APP"
MODELS_TABLE = "MODELS_CATALOG"
RUNS_TABLE = "INFERENCE_RUNS"
SETTINGS_TABLE = "SETTINGS"
MODEL_SEQUENCE = "MODEL_NUMBERS"
RUN_SEQUENCE = "RUN_IDS"

SQL_TYPES = {
    records.TEXT: "VARCHAR",
    records.TIMESTAMP: "TIMESTAMP",
    records.INTEGER: "BIGINT",
    records.DOUBLE: "DOUBLE",
    records.JSON: "JSON",
}

_PRIMARY_KEYS = {MODELS_TABLE: "MODEL_NAME", RUNS_TABLE: "RUN_ID"}


def table_ddl(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for an APP table from a ``core.records`` column layout."""
    key = _PRIMARY_KEYS.get(table)
    parts = [
        f"{quote(name)} {SQL_TYPES[kind]}" + (" PRIMARY KEY" if name == key else "") for name, kind in columns
    ]
    return f"CREATE TABLE IF NOT EXISTS {qualified(APP, table)} ({', '.join(parts)})"


def ensure_schema(cur: duckdb.DuckDBPyConnection) -> None:
    """Create the APP schema, tables and sequences when missing, and add the columns a newer version of the
    layouts has to the tables of an older workspace (idempotent)."""
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(APP)}")
    for table, columns in (
        (MODELS_TABLE, records.MODELS_CATALOG_COLUMNS),
        (RUNS_TABLE, records.INFERENCE_RUNS_COLUMNS),
    ):
        cur.execute(table_ddl(table, columns))
        for name, kind in columns:
            cur.execute(
                f"ALTER TABLE {qualified(APP, table)} ADD COLUMN IF NOT EXISTS {quote(name)} {SQL_TYPES[kind]}"
            )
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {qualified(APP, SETTINGS_TABLE)} "
        f"({quote('KEY')} VARCHAR PRIMARY KEY, {quote('VALUE')} VARCHAR)"
    )
    for sequence in (MODEL_SEQUENCE, RUN_SEQUENCE):
        cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {qualified(APP, sequence)} START 1")


def utc_now() -> datetime:
    """Now, timezone-aware UTC, to the microsecond (what a TIMESTAMP column keeps)."""
    return datetime.now(timezone.utc)


def _to_db_time(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _from_db_time(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _next(cur: duckdb.DuckDBPyConnection, sequence: str) -> int:
    # nextval takes the sequence name as a string; the name is a constant of this module, quoted.
    # DuckDB wants every result fetched to its end before the cursor runs more SQL, hence fetchall.
    return int(cur.execute("SELECT nextval(?)", [qualified(APP, sequence)]).fetchall()[0][0])


def next_model_name(cur: duckdb.DuckDBPyConnection, prefix: str) -> str:
    """``<PREFIX>_<n>`` with n from the APP model sequence, skipping numbers already taken (e.g. by a
    catalog restored from elsewhere). Sequence values are not reused even when training later fails."""
    while True:
        name = f"{prefix}_{_next(cur, MODEL_SEQUENCE)}"
        if not model_exists(cur, name):
            return name


def next_run_id(cur: duckdb.DuckDBPyConnection) -> int:
    return _next(cur, RUN_SEQUENCE)


# --- models --------------------------------------------------------------------------------------------------
def _insert(cur: duckdb.DuckDBPyConnection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(quote(c) for c in row)
    marks = ", ".join("?" for _ in row)
    cur.execute(f"INSERT INTO {qualified(APP, table)} ({columns}) VALUES ({marks})", list(row.values()))


def insert_model(cur: duckdb.DuckDBPyConnection, record: records.ModelRecord) -> None:
    row = records.model_to_row(record)
    row["CREATED_AT"] = _to_db_time(record.created)
    _insert(cur, MODELS_TABLE, row)


def _select(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


def _model(row: dict[str, Any]) -> records.ModelRecord:
    record = records.model_from_row(row)
    record.created = _from_db_time(record.created)  # type: ignore[assignment]
    return record


def list_models(cur: duckdb.DuckDBPyConnection) -> list[records.ModelRecord]:
    """Every catalog row, newest first (ties broken by name)."""
    rows = _select(
        cur,
        f"SELECT * FROM {qualified(APP, MODELS_TABLE)} ORDER BY {quote('CREATED_AT')} DESC, "
        f"{quote('MODEL_NAME')} DESC",
        [],
    )
    return [_model(row) for row in rows]


def get_model(cur: duckdb.DuckDBPyConnection, name: str) -> records.ModelRecord:
    """One catalog row by canonical name. Raises NotFound."""
    rows = _select(
        cur, f"SELECT * FROM {qualified(APP, MODELS_TABLE)} WHERE {quote('MODEL_NAME')} = ?", [name]
    )
    if not rows:
        raise NotFound(
            f"There is no model named {name!r} in the models catalog.",
            hint="List the models with `snowml models` (or the Model Catalog tab).",
        )
    return _model(rows[0])


def model_exists(cur: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = cur.execute(
        f"SELECT count(*) FROM {qualified(APP, MODELS_TABLE)} WHERE {quote('MODEL_NAME')} = ?", [name]
    ).fetchall()
    return bool(rows[0][0])


def artifact_paths(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Every artifact path the catalog refers to."""
    cur.execute(f"SELECT {quote('ARTIFACT_PATH')} FROM {qualified(APP, MODELS_TABLE)}")
    return [row[0] for row in cur.fetchall()]


def set_threshold(cur: duckdb.DuckDBPyConnection, name: str, threshold: float | None) -> None:
    cur.execute(
        f"UPDATE {qualified(APP, MODELS_TABLE)} SET {quote('THRESHOLD')} = ? WHERE {quote('MODEL_NAME')} = ?",
        [threshold, name],
    )


def delete_model(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    cur.execute(f"DELETE FROM {qualified(APP, MODELS_TABLE)} WHERE {quote('MODEL_NAME')} = ?", [name])


# --- runs ----------------------------------------------------------------------------------------------------
def insert_run(cur: duckdb.DuckDBPyConnection, run: records.InferenceRun) -> None:
    row = records.run_to_row(run)
    row["CREATED_AT"] = _to_db_time(run.created)
    _insert(cur, RUNS_TABLE, row)


def _run(row: dict[str, Any]) -> records.InferenceRun:
    run = records.run_from_row(row)
    run.created = _from_db_time(run.created)  # type: ignore[assignment]
    return run


def list_runs(
    cur: duckdb.DuckDBPyConnection, model: str | None = None, table: str | None = None
) -> list[records.InferenceRun]:
    """Runs, newest first, optionally filtered by canonical model and/or source table name."""
    where, params = [], []
    if model is not None:
        where.append(f"{quote('MODEL_NAME')} = ?")
        params.append(model)
    if table is not None:
        where.append(f"{quote('SOURCE_TABLE')} = ?")
        params.append(table)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = _select(
        cur,
        f"SELECT * FROM {qualified(APP, RUNS_TABLE)}{clause} ORDER BY {quote('RUN_ID')} DESC",
        params,
    )
    return [_run(row) for row in rows]


def mark_run(cur: duckdb.DuckDBPyConnection, run_id: int, kind: str, table: str) -> None:
    """Record run ``run_id`` as of ``kind`` on (a sample of) ``table``, without its (dropped) output."""
    cur.execute(
        f"UPDATE {qualified(APP, RUNS_TABLE)} SET {quote('KIND')} = ?, {quote('SOURCE_TABLE')} = ?, "
        f"{quote('OUTPUT_TABLE')} = NULL WHERE {quote('RUN_ID')} = ?",
        [kind, table, int(run_id)],
    )


def get_run(cur: duckdb.DuckDBPyConnection, run_id: int) -> records.InferenceRun:
    """One run by id. Raises NotFound."""
    rows = _select(cur, f"SELECT * FROM {qualified(APP, RUNS_TABLE)} WHERE {quote('RUN_ID')} = ?", [run_id])
    if not rows:
        raise NotFound(
            f"There is no inference run with id {run_id}.",
            hint="List the runs with `snowml runs` (or the Inference Runs tab).",
        )
    return _run(rows[0])


# --- settings ------------------------------------------------------------------------------------------------
def get_setting(cur: duckdb.DuckDBPyConnection, key: str, default: str) -> str:
    rows = cur.execute(
        f"SELECT {quote('VALUE')} FROM {qualified(APP, SETTINGS_TABLE)} WHERE {quote('KEY')} = ?", [key]
    ).fetchall()
    return default if not rows or rows[0][0] is None else str(rows[0][0])


def set_setting(cur: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    cur.execute(
        f"INSERT OR REPLACE INTO {qualified(APP, SETTINGS_TABLE)} ({quote('KEY')}, {quote('VALUE')}) "
        "VALUES (?, ?)",
        [key, value],
    )


def delete_setting(cur: duckdb.DuckDBPyConnection, key: str) -> None:
    cur.execute(f"DELETE FROM {qualified(APP, SETTINGS_TABLE)} WHERE {quote('KEY')} = ?", [key])
