"""Incremental scoring watermarks: which rows of a table a model already scored into an output.

One row per (model, source table, output table) in ``APP.SCORE_WATERMARKS``: ``NEXT_ROWID`` (the first
DuckDB ``rowid`` not yet scored), ``ROWS_SCORED`` and ``FINGERPRINT`` (the sum of the row hashes of every
row below ``NEXT_ROWID``), and the model's artifact sha256. DuckDB gives appended rows higher rowids, so an
append leaves the scored prefix — its count and fingerprint — unchanged and only rows at or after
``NEXT_ROWID`` are scored and appended to the output. A replaced, truncated or edited input table changes
the prefix (fewer rows, other rows, other columns), as does a retrained artifact or a dropped output: the
table is then scored in full and the output replaced. A reload holding the same rows (in any order)
counts as unchanged: those rows are scored already. Checking the prefix costs one hashing scan of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from snowml_desktop.core.errors import AlreadyExists
from snowml_desktop.core.identifiers import qualified, quote

if TYPE_CHECKING:
    import duckdb

    from snowml_desktop.core.records import ModelRecord

WATERMARKS_TABLE = "SCORE_WATERMARKS"
_APP = "APP"
_KEY = ("MODEL_NAME", "SOURCE_TABLE", "OUTPUT_TABLE")


@dataclass(frozen=True)
class Plan:
    """How one incremental run scores: rows with ``rowid >= start`` (0: all), appended or a new output."""

    start: int
    append: bool
    reason: str  # why, for the log and the run's message


def ensure_table(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {qualified(_APP, WATERMARKS_TABLE)} ("
        f"{quote('MODEL_NAME')} VARCHAR, {quote('SOURCE_TABLE')} VARCHAR, {quote('OUTPUT_TABLE')} VARCHAR, "
        f"{quote('ARTIFACT_SHA256')} VARCHAR, {quote('NEXT_ROWID')} BIGINT, {quote('ROWS_SCORED')} BIGINT, "
        f"{quote('FINGERPRINT')} VARCHAR, {quote('UPDATED_AT')} TIMESTAMP, "
        f"PRIMARY KEY ({', '.join(quote(k) for k in _KEY)}))"
    )


def prefix_state(cur: duckdb.DuckDBPyConnection, source: str, next_rowid: int) -> tuple[int, str]:
    """(row count, fingerprint) of the rows of table ``source`` (a quoted reference) below ``next_rowid``.
    The fingerprint sums 64-bit row hashes as a HUGEINT, so duplicate rows do not cancel out."""
    count, total = cur.execute(
        f"SELECT count(*), sum(hash(s)::HUGEINT) FROM (SELECT * FROM {source} WHERE rowid < ?) s",
        [next_rowid],
    ).fetchall()[0]
    return int(count), str(total or 0)


def next_rowid(cur: duckdb.DuckDBPyConnection, source: str) -> int:
    """One past the highest rowid of ``source`` (0 when empty)."""
    return int(cur.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {source}").fetchall()[0][0])


def plan(
    cur: duckdb.DuckDBPyConnection,
    record: ModelRecord,
    table: str,
    output: str,
    source: str,
    output_exists: bool,
    overwrite: bool,
) -> Plan:
    """Decide what to score. Raises AlreadyExists when ``output`` exists but was not written by incremental
    scoring of this model and table (and ``overwrite`` is off), so a user's table is never appended to."""
    ensure_table(cur)
    row = cur.execute(
        f"SELECT {quote('ARTIFACT_SHA256')}, {quote('NEXT_ROWID')}, {quote('ROWS_SCORED')}, "
        f"{quote('FINGERPRINT')} FROM {qualified(_APP, WATERMARKS_TABLE)} WHERE "
        + " AND ".join(f"{quote(k)} = ?" for k in _KEY),
        [record.name, table, output],
    ).fetchall()
    if not row:
        if output_exists and not overwrite:
            raise AlreadyExists(
                f"The output table {output!r} exists but was not written by incremental scoring of "
                f"{table!r} with {record.name}.",
                hint="Choose another output name, or allow overwriting it to score the whole table into it.",
            )
        return Plan(0, False, "first incremental run: the whole table is scored")
    sha, start, rows, fingerprint = row[0]
    if sha != record.artifact_sha256:
        return Plan(
            0, False, f"the model {record.name} changed since the last run: the whole table is re-scored"
        )
    if not output_exists:
        return Plan(0, False, f"the output table {output!r} is gone: the whole table is re-scored")
    if prefix_state(cur, source, int(start)) != (int(rows), fingerprint):
        return Plan(
            0, False, f"the rows already scored in {table!r} changed (replaced or edited): re-scored in full"
        )
    return Plan(int(start), True, f"{rows:,} rows were scored before; only rows added since are scored")


def save(cur: duckdb.DuckDBPyConnection, record: ModelRecord, table: str, output: str, source: str) -> None:
    """Record that every row of ``source`` now in the caller's transaction snapshot has been scored."""
    upto = next_rowid(cur, source)
    rows, fingerprint = prefix_state(cur, source, upto)
    cur.execute(
        f"INSERT OR REPLACE INTO {qualified(_APP, WATERMARKS_TABLE)} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [record.name, table, output, record.artifact_sha256, upto, rows, fingerprint, _utc_naive_now()],
    )


def _utc_naive_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)  # TIMESTAMP columns keep naive UTC


def forget_model(cur: duckdb.DuckDBPyConnection, model: str) -> None:
    """Drop the watermarks of a deleted model."""
    ensure_table(cur)
    cur.execute(f"DELETE FROM {qualified(_APP, WATERMARKS_TABLE)} WHERE {quote('MODEL_NAME')} = ?", [model])
