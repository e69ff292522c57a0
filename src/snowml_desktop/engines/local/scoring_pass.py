"""One local scoring pass: the input read by row ranges, predicted by the worker pool, and the output table
written while the workers predict.

The owner reads the feature columns one range of rowids at a time (one short statement each, so the
connection is free between them), hands each range to a worker as an Arrow IPC file and gets back a Parquet
part of predictions. As soon as a few consecutive ranges are predicted it writes them to the output with
one ``input range POSITIONAL JOIN read_parquet(parts)`` statement and deletes their files. Writing
overlaps predicting, and a join only ever holds a few batches of predictions: DuckDB's positional join
collects its right side and runs on one thread, so one join over the whole table spilled at 10^8 rows and
left the other cores idle at the end of every run (figures in docs/benchmarks.md).

Everything happens in the caller's transaction: every read and the join see the same snapshot of the
input, so the ranges line up row for row, and the output appears with its run or not at all.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.identifiers import quote
from snowml_desktop.engines.local import workers

if TYPE_CHECKING:
    import duckdb

    from snowml_desktop.core.records import ModelRecord
    from snowml_desktop.core.tasks import TaskContext

log = logging.getLogger(__name__)

PREDICTION, PROBABILITY = "PREDICTION", "PREDICTION_PROBABILITY"
BATCHES_PER_WORKER = 4  # batches in flight per worker: enough work queued to cover one output write
BATCHES_PER_WRITE = 4  # predicted batches written to the output per statement (bounds the join's memory)


@dataclass(frozen=True)
class PassRequest:
    """What one scoring pass reads and writes. ``table`` and ``output`` are qualified names; ``start`` is
    the first rowid read (an incremental run's watermark); ``columns`` are the input's columns."""

    table: str
    start: int
    output: str
    append: bool  # INSERT INTO an existing output instead of creating it
    columns: list[str]
    record: ModelRecord
    artifact: Path
    scratch: Path
    batch_rows: int


@dataclass(frozen=True)
class PassResult:
    rows: int
    workers: int
    write_seconds: float  # the owner's time spent in output statements (mostly overlapped by predicting)


@dataclass
class _Batch:
    low: int  # rowid range [low, high)
    high: int
    file: Path
    part: Path
    future: Any = field(default=None)


def run_pass(
    cur: duckdb.DuckDBPyConnection,
    request: PassRequest,
    pool_for: Callable[[int, int], workers.ScoringPool],
    worker_count: int,
    task: TaskContext,
) -> PassResult:
    """Score ``request.table`` into ``request.output`` with at most ``worker_count`` workers of the pool
    that ``pool_for(used, most)`` returns. At most ``workers * BATCHES_PER_WORKER`` batches are in flight
    and at most ``BATCHES_PER_WRITE`` predicted parts wait for the output, so memory and scratch space do
    not grow with the table."""
    low, high, rows = _extent(cur, request.table, request.start)
    used = max(1, min(worker_count, -(-rows // request.batch_rows)))
    pool = pool_for(used, worker_count)
    if rows:  # an empty input starts no process
        pool.start(str(request.artifact), request.record.artifact_sha256)
    writer = _OutputWriter(cur, request)
    unregister = task.token.on_cancel(pool.terminate)
    pending: deque[_Batch] = deque()
    predicted: list[_Batch] = []
    done = 0

    def finish_oldest() -> None:
        nonlocal done
        batch = pending.popleft()
        done += _wait(batch.future, pool, task)
        batch.file.unlink(missing_ok=True)
        predicted.append(batch)
        task.report(0.95 * done / max(rows, done, 1), f"Scored {done:,} of {rows:,} rows")
        if len(predicted) >= BATCHES_PER_WRITE:
            writer.write(predicted)
            predicted.clear()

    try:
        workers_text = f"{used} worker" + ("" if used == 1 else "s")
        task.report(0.0, f"Scoring {rows:,} rows with {workers_text}")
        for start in range(low, high, request.batch_rows):
            batch = _submit(cur, request, pool, start, min(start + request.batch_rows, high))
            if batch is None:
                continue
            pending.append(batch)
            while len(pending) >= used * BATCHES_PER_WORKER:
                finish_oldest()
        while pending:
            finish_oldest()
        writer.write(predicted)
        writer.finish()
    except BaseException:
        pool.terminate()  # stop work already queued; a fresh pool is made next time
        raise
    finally:
        unregister()
    return PassResult(rows=done, workers=used, write_seconds=writer.seconds)


def _extent(cur: duckdb.DuckDBPyConnection, table: str, start: int) -> tuple[int, int, int]:
    """The rowids to read, as [low, high), and the number of rows among them."""
    low, high, rows = cur.execute(
        f"SELECT min(rowid), max(rowid) + 1, count(*) FROM {table} WHERE rowid >= {int(start)}"
    ).fetchall()[0]
    return int(low or 0), int(high or 0), int(rows)


def _range_sql(table: str, low: int, high: int) -> str:
    return f"(SELECT * FROM {table} WHERE rowid >= {int(low)} AND rowid < {int(high)})"


def _submit(
    cur: duckdb.DuckDBPyConnection, request: PassRequest, pool: workers.ScoringPool, low: int, high: int
) -> _Batch | None:
    """Read the feature columns of rowids [low, high) and hand them to a worker (None when the range has
    no rows: deleted rows leave gaps in the rowids)."""
    select = ", ".join(quote(name) for name in request.record.feature_names)
    rows = cur.sql(f"SELECT {select} FROM {_range_sql(request.table, low, high)} s").to_arrow_table()
    if rows.num_rows == 0:
        return None
    name = f"{low:012d}"
    batch = _Batch(
        low, high, request.scratch / f"batch-{name}.arrow", request.scratch / f"part-{name}.parquet"
    )
    workers.write_rows(rows.to_reader(), batch.file)
    record = request.record
    job = workers.ScoreJob(
        str(request.artifact),
        record.artifact_sha256,
        record.features,
        str(batch.file),
        str(batch.part),
        record.threshold,
    )
    batch.future = pool.submit(job)
    return batch


class _OutputWriter:
    """Writes predicted batches (consecutive ranges, in order) to the output: CREATE TABLE with the first
    statement unless appending, INSERT INTO afterwards. An input without rows still gets its (empty)
    output table."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, request: PassRequest) -> None:
        self._cur = cur
        self._request = request
        self._exists = request.append
        self.seconds = 0.0

    def write(self, batches: list[_Batch]) -> None:
        if not batches:
            return
        started = time.perf_counter()
        source = _range_sql(self._request.table, batches[0].low, batches[-1].high)
        parts = [str(batch.part) for batch in batches]
        self._cur.execute(self._statement(source, "read_parquet(?)"), [parts])
        self._exists = True
        for batch in batches:
            batch.part.unlink(missing_ok=True)
        self.seconds += time.perf_counter() - started

    def finish(self) -> None:
        if not self._exists:
            self._cur.execute(self._statement(self._request.table, None))
            self._exists = True

    def _statement(self, source: str, parts: str | None) -> str:
        """The input's columns (minus stale prediction columns from an earlier scoring), then PREDICTION
        (the training target's type) and PREDICTION_PROBABILITY, joined by position to the parts; without
        parts, the same columns and no rows."""
        request = self._request
        kept = ", ".join(f"s.{quote(c)}" for c in request.columns if c not in (PREDICTION, PROBABILITY))
        target_type = request.record.options.get("target_sql_type") or "VARCHAR"  # as DuckDB reported it
        if parts is None:
            select = (
                f"SELECT {kept}, CAST(NULL AS {target_type}) AS {quote(PREDICTION)}, "
                f"CAST(NULL AS DOUBLE) AS {quote(PROBABILITY)} FROM {source} s LIMIT 0"
            )
        else:
            select = (
                f"SELECT {kept}, CAST(p.{quote(PREDICTION)} AS {target_type}) AS {quote(PREDICTION)}, "
                f"CAST(p.{quote(PROBABILITY)} AS DOUBLE) AS {quote(PROBABILITY)} "
                f"FROM {source} s POSITIONAL JOIN {parts} p"
            )
        verb = f"INSERT INTO {request.output} " if self._exists else f"CREATE TABLE {request.output} AS "
        return verb + select


def _wait(future: Any, pool: workers.ScoringPool, task: TaskContext) -> int:
    """Wait for one scoring job's row count, checking for cancellation meanwhile."""
    while True:
        task.check()
        try:
            return pool.result(future, workers.POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            continue
        except EngineError:
            task.check()
            raise
        except Exception as exc:
            task.check()
            log.error("Scoring a batch failed", exc_info=exc)
            raise EngineError(f"Scoring a batch failed: {exc}", hint="Details are in the log.") from exc
