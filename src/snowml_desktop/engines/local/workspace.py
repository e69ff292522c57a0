"""The local workspace: one folder holding the DuckDB warehouse file and the stage folders.

Layout::

    <root>/warehouse.duckdb      schemas DATA (user tables) and APP (catalog, runs)
    <root>/stages/LOAD_DATA/     files to load (seeded with the demo files on first creation)
    <root>/stages/MODELS/        model artifacts
    <root>/.spill/               DuckDB's temporary files when a query needs more than the memory limit

DuckDB allows one writing process per database file, so the process that opens the Workspace owns the
file. CPU-heavy Python work (fit/predict) runs in worker processes that never open the database; they
receive data from, and hand results back to, the owning process.

Threads: a DuckDB connection is not thread-safe, so every caller takes its own :meth:`Workspace.cursor`
(a separate connection to the same database) and closes it when done.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import weakref
from pathlib import Path

import duckdb

from snowml_desktop.core.errors import ConnectionFailed, NotFound
from snowml_desktop.core.identifiers import normalize, qualified, quote
from snowml_desktop.core.memory import check_memory_limit, default_memory_limit

log = logging.getLogger(__name__)

DB_FILE = "warehouse.duckdb"
STAGES_FOLDER = "stages"
SPILL_FOLDER = ".spill"  # DuckDB's temp_directory: blocks a query holds beyond the memory limit
UPLOAD_SUFFIX = ".part"  # an upload being copied: ``.<file>.<random>.part`` beside its target (hidden)
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600  # the workspace holds the user's data: no access for others
_PID = re.compile(r"PID (\d+)")


def default_root() -> Path:
    """The workspace folder when none is given: ``SNOWML_HOME``, else the platform's user data dir."""
    env = os.environ.get("SNOWML_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("snowml-desktop"))


class Workspace:
    """An open local workspace. Create with :meth:`open`; close with :meth:`close` (idempotent)."""

    DATA_SCHEMA = "DATA"
    APP_SCHEMA = "APP"
    STAGES = ("LOAD_DATA", "MODELS")

    def __init__(self, root: Path, connection: duckdb.DuckDBPyConnection, memory_limit: int) -> None:
        self.root = root
        self.db_path = root / DB_FILE
        self.spill_dir = root / SPILL_FOLDER
        self.memory_limit = memory_limit  # bytes DuckDB's buffer pool may hold before it spills
        self._conn: duckdb.DuckDBPyConnection | None = connection
        self._lock = threading.Lock()
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()

    @classmethod
    def open(cls, root: Path | None = None, memory_limit: int | None = None) -> Workspace:
        """Open (creating if needed) the workspace at ``root`` (else ``SNOWML_HOME``, else the user data dir).

        A new workspace gets its folders, the database with schemas DATA and APP, and the demo files in
        LOAD_DATA. The folders and the database are made private to the user (also those of a workspace
        created before). Uploads a killed process left half-copied and the temporary files of a killed
        DuckDB are removed: the database lock, held from here on, says that no other process is using the
        workspace. DuckDB's buffer pool is limited to ``memory_limit`` bytes (default
        ``core.memory.default_memory_limit()``) and spills beyond it to ``.spill/`` in the workspace.
        Raises InvalidInput for a memory limit below ``core.memory.MIN_MEMORY_LIMIT``, ConnectionFailed
        when the folder cannot be created or the database is in use by another process or unreadable.
        """
        limit = default_memory_limit() if memory_limit is None else memory_limit
        check_memory_limit(limit)
        root = Path(root).expanduser() if root is not None else default_root()
        root = root.resolve()
        db_path = root / DB_FILE
        try:
            # The root first: nothing created inside it is ever reachable by other users.
            stages = [root / STAGES_FOLDER / stage for stage in cls.STAGES]
            for folder in (root, root / STAGES_FOLDER, *stages):
                folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
                _make_private(folder, PRIVATE_FOLDER)
        except OSError as exc:
            raise ConnectionFailed(
                f"Cannot create the workspace folder {root}: {exc.strerror or exc}.",
                hint="Choose a writable folder with --workspace or SNOWML_HOME.",
            ) from exc
        is_new = not db_path.exists()
        connection = _connect(db_path, root)
        workspace = cls(root, connection, limit)
        try:
            for path in (db_path, db_path.with_name(DB_FILE + ".wal")):
                _make_private(path, PRIVATE_FILE)
            workspace._sweep_partial_uploads()
            workspace._limit_memory()
            with workspace.cursor() as cur:
                for schema in (cls.DATA_SCHEMA, cls.APP_SCHEMA):
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
            if is_new:
                workspace._seed_demo_files()
        except BaseException:
            workspace.close()
            raise
        return workspace

    def _seed_demo_files(self) -> None:
        """Write the demo files into LOAD_DATA (never overwriting a file the user put there)."""
        from snowml_desktop.core.demo_data import write_demo_files

        target = self.stage_dir("LOAD_DATA")
        try:
            written = write_demo_files(target)
        except OSError:  # the workspace works without them; the user can upload files
            log.warning("Could not write the demo files into %s", target, exc_info=True)
            return
        log.info("Seeded %d demo files into %s", len(written), target)

    def _sweep_partial_uploads(self) -> None:
        """Remove the hidden part files of uploads that never finished (the copying process was killed)."""
        for stage in self.STAGES:
            for path in self.stage_dir(stage).glob(f".*{UPLOAD_SUFFIX}"):
                if path.is_file():
                    log.info("Removing the unfinished upload %s", path)
                    path.unlink(missing_ok=True)

    def _limit_memory(self) -> None:
        """Bound DuckDB's buffer pool and point its temporary files at an empty private folder in the
        workspace (DuckDB's default, ``warehouse.duckdb.tmp``, would be created with the user's umask).
        Insertion order stays preserved: scoring's positional join depends on it."""
        # Files a killed process left; the database lock says that no other process is using them.
        shutil.rmtree(self.spill_dir, ignore_errors=True)
        self.spill_dir.mkdir(mode=PRIVATE_FOLDER)
        _make_private(self.spill_dir, PRIVATE_FOLDER)
        with self.cursor() as cur:
            cur.execute("SET memory_limit = ?", [f"{int(self.memory_limit)}B"])
            cur.execute("SET temp_directory = ?", [str(self.spill_dir)])

    # --- stages ------------------------------------------------------------------------------------
    def stage_name(self, stage: str) -> str:
        """The canonical name of a known stage (``load_data`` -> ``LOAD_DATA``). Raises NotFound."""
        name = normalize(stage.lstrip("@"), what="stage name")
        if name not in self.STAGES:
            raise NotFound(
                f"There is no stage {stage!r} in the local workspace.",
                hint=f"Stages: {', '.join(self.STAGES)}.",
            )
        return name

    def stage_dir(self, stage: str) -> Path:
        """The folder of a stage, by canonical name (normalized). Raises NotFound for an unknown stage."""
        return self.root / STAGES_FOLDER / self.stage_name(stage)

    # --- database ----------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor (its own connection to the shared database). The caller closes it; use one per
        thread. Raises ConnectionFailed after :meth:`close`."""
        with self._lock:
            if self._conn is None:
                raise ConnectionFailed(f"The workspace {self.root} is closed.", hint="Open it again.")
            cur = self._conn.cursor()
            self._cursors.add(cur)
        # Progress tracking feeds query_progress(); DuckDB would otherwise print a bar on stdout.
        cur.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        return cur

    def table_ref(self, table: str) -> str:
        """The quoted, schema-qualified SQL reference of a user table given by its canonical name
        (normalize user text first: ``table_ref(normalize(text))``)."""
        return qualified(self.DATA_SCHEMA, table)

    def interrupt(self) -> None:
        """Interrupt every query running on any open cursor (used to cancel everything at once).

        To cancel one operation only, register that operation's own ``cursor.interrupt`` instead.
        """
        with self._lock:
            cursors = list(self._cursors)
        for cur in cursors:
            try:
                cur.interrupt()
            except duckdb.Error:  # a cursor closed meanwhile has nothing to interrupt
                log.debug("interrupt on a closed cursor ignored", exc_info=True)

    def close(self) -> None:
        """Close every cursor and the database. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            cursors = list(self._cursors)
        if conn is None:
            return
        for cur in cursors:
            try:
                cur.close()
            except duckdb.Error:
                log.debug("closing a cursor failed", exc_info=True)
        conn.close()

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"


def _make_private(path: Path, mode: int) -> None:
    """Restrict ``path`` to its owner when it exists (on Windows, where chmod only sets read-only, the user
    profile's folders are private already)."""
    if os.name == "nt" or not path.exists():
        return
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:  # e.g. a folder the user may write but does not own; it still works
        log.warning("Could not make %s private to its owner", path, exc_info=True)


def _connect(db_path: Path, root: Path) -> duckdb.DuckDBPyConnection:
    """Open the database file for writing, turning DuckDB's lock and I/O errors into ConnectionFailed."""
    try:
        return duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            match = _PID.search(text)
            who = f" (pid {match.group(1)})" if match else ""
            raise ConnectionFailed(
                f"The workspace {root} is in use by another snowml process{who}.",
                hint="Close that process, or open a different workspace with --workspace.",
            ) from exc
        raise ConnectionFailed(
            f"Cannot open the workspace database {db_path}: {text}",
            hint="Check the file's permissions, or open a different workspace with --workspace.",
        ) from exc
    except duckdb.Error as exc:
        raise ConnectionFailed(
            f"The workspace database {db_path} cannot be opened: {exc}",
            hint="It may be damaged or from a newer DuckDB; move it away or use --workspace.",
        ) from exc
