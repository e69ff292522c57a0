"""Running long SQL on a workspace cursor: cancellation, progress and error translation in one place."""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import duckdb

from snowml_desktop.core.errors import Cancelled, EngineError, NotFound, ResourceExhausted
from snowml_desktop.core.identifiers import display, string_literal
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.local.workspace import Workspace

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.2
#: Comment prefix marking when a table was created (DuckDB keeps no creation time of its own).
CREATED_PREFIX = "snowml:created="


@contextmanager
def cancellable(
    cur: duckdb.DuckDBPyConnection,
    task: TaskContext,
    start: float = 0.0,
    end: float = 1.0,
    text: str = "Working",
) -> Iterator[None]:
    """Run the enclosed statements on ``cur`` so that a cancel interrupts them at once and a DuckDB interrupt
    surfaces as ``Cancelled``. While inside, the statement's progress maps onto ``start..end`` of ``task``.
    A cancel arriving between statements is not seen by DuckDB: call ``task.check()`` before a COMMIT."""
    task.check()
    unregister = task.token.on_cancel(lambda: interrupt_quietly(cur))
    stop = threading.Event()
    poller = threading.Thread(target=_poll_progress, args=(cur, task, start, end, text, stop), daemon=True)
    poller.start()
    try:
        yield
    except (duckdb.Error, EngineError) as exc:
        # An interrupted statement may surface wrapped (e.g. as a load error): a cancel wins.
        if isinstance(exc, duckdb.InterruptException) or (
            task.token.cancelled and not isinstance(exc, Cancelled)
        ):
            raise Cancelled() from exc
        resource = resource_error(exc)
        if resource is not None:
            raise resource from exc
        raise
    finally:
        stop.set()
        unregister()
        poller.join()


# How the OS words "disk full" (ENOSPC) and "over quota" (EDQUOT) in DuckDB's IO errors, and in the
# OSError of a library that does not set errno (pyarrow writing a part file in a scoring worker).
_DISK_FULL = ("No space left on device", "Disk quota exceeded", "There is not enough space on the disk")
_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def resource_error(exc: BaseException | None) -> ResourceExhausted | None:
    """The error to show when ``exc`` means the machine ran out of disk space or memory, else None: a DuckDB
    error, or an OSError of Python's own file writes (artifacts, upload and part files, scratch files), also
    when wrapped in another error's chain of causes (a worker's failure re-raised as EngineError). The one
    place that recognizes them; the local engine applies it to every operation (``activity``)."""
    if isinstance(exc, (Cancelled, ResourceExhausted)):
        return None
    for link in _causes(exc):
        text = str(link)
        if _disk_full(link):
            log.warning("disk full: %s", text)
            return ResourceExhausted(
                "The disk holding the local workspace is full; the operation stopped and nothing was changed.",
                hint="Free some disk space (or move the workspace with --workspace to a disk with room), "
                "then retry.",
            )
        if isinstance(link, duckdb.OutOfMemoryException):
            log.warning("out of memory: %s", text)
            return ResourceExhausted(
                "The local warehouse ran out of memory; the operation stopped and nothing was changed.",
                hint="Raise the local connection's memory limit (connection manager, or snowml --memory-limit) "
                "if this computer has the memory, or work on fewer rows or columns, then retry.",
            )
    return None


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    return isinstance(exc, (duckdb.Error, OSError)) and any(phrase in str(exc) for phrase in _DISK_FULL)


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and the errors it was raised from or while handling, each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def interrupt_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Interrupt ``cur`` from any thread; a cursor that has finished and closed meanwhile is fine."""
    try:
        cur.interrupt()
    except duckdb.Error:
        log.debug("interrupt after the cursor closed", exc_info=True)


def _poll_progress(
    cur: duckdb.DuckDBPyConnection,
    task: TaskContext,
    start: float,
    end: float,
    text: str,
    stop: threading.Event,
) -> None:
    """Forward DuckDB's percentage for the running statement to ``task`` until ``stop``."""
    while not stop.wait(_POLL_SECONDS):
        try:
            percent = cur.query_progress()
        except duckdb.Error:
            return
        if percent >= 0:
            task.progress(start + (end - start) * min(percent, 100.0) / 100.0, text)


def rollback_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back the cursor's open transaction, if any (after a failure; the original error matters)."""
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        log.debug("nothing to roll back", exc_info=True)


def checkpoint_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Move committed data from the write-ahead log into the database file, when nothing else is writing
    (keeps the WAL small and lets storage sizes be reported). Skipped silently when DuckDB declines."""
    try:
        cur.execute("CHECKPOINT")
    except duckdb.Error:
        log.debug("checkpoint skipped", exc_info=True)


def table_exists(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND NOT temporary",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def require_table(cur: duckdb.DuckDBPyConnection, workspace: Workspace, table: str) -> None:
    """Raise NotFound unless the canonical user table exists."""
    if not table_exists(cur, workspace.DATA_SCHEMA, table):
        raise NotFound(
            f"There is no table {display(table)} in the local workspace.",
            hint="List the tables with `snowml tables`; names are case-insensitive unless quoted.",
        )


def table_columns(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a table's columns in order."""
    return cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "ORDER BY column_index",
        [schema, table],
    ).fetchall()


def mark_created(cur: duckdb.DuckDBPyConnection, table_ref: str) -> datetime:
    """Record the creation time in the table's comment (inside the caller's transaction); return it."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    comment = string_literal(CREATED_PREFIX + now.isoformat(), backslash_escapes=False)
    cur.execute(f"COMMENT ON TABLE {table_ref} IS {comment}")
    return now


def parse_created(comment: str | None) -> datetime | None:
    if comment and comment.startswith(CREATED_PREFIX):
        try:
            return datetime.fromisoformat(comment[len(CREATED_PREFIX) :])
        except ValueError:
            return None
    return None


def literal(value: str) -> str:
    """A DuckDB string literal (for table-function options that take no bind parameters)."""
    return string_literal(value, backslash_escapes=False)
