"""``LocalEngine``: the engine protocol on an embedded DuckDB workspace (the default engine).

The data plane (stages, load, tables, statistics, demo tables) lives here and in the modules it calls;
training, the catalog, scoring, runs and the warehouse are delegated to ``LocalModels``. Every public
operation emits an ``Activity`` (also when it fails) for the app's Activity log.

Snowpark-optimized warehouses: the local engine accepts the type, records it with models and runs, and
estimates credits at 1.5x the standard rate as Snowflake bills them; locally it runs the same workers.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from snowml_desktop.core.errors import EngineError
from snowml_desktop.core.identifiers import display, normalize, user_table
from snowml_desktop.core.memory import describe
from snowml_desktop.core.records import InferenceRun, ModelRecord
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    CHECK_MISSING,
    CHECK_OK,
    AccountCheck,
    Capabilities,
    CheckLine,
    ClassBalance,
    ColumnInfo,
    CompareRequest,
    ConnectionInfo,
    Correlation,
    Engine,
    Histogram,
    LoadRequest,
    LoadResult,
    ScoreRequest,
    SetupPlan,
    StageFile,
    TableInfo,
    TableProfile,
    TrainRequest,
    WarehouseState,
    activity,
)
from snowml_desktop.engines.local import catalog, demo, loading, sqlrun, stages, stats
from snowml_desktop.engines.local.models import BATCH_ROWS, LocalModels, is_staging_table, new_staging_name
from snowml_desktop.engines.local.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from snowml_desktop.core.compare import Comparison
    from snowml_desktop.core.drift import DriftReport

log = logging.getLogger(__name__)


#: Below this much free space in the workspace's drive, loading and training will run out of room.
_MIN_FREE_BYTES = 500_000_000


class LocalEngine(Engine):
    """The embedded engine. Thread-safe: each call takes its own cursor on the shared database."""

    kind = "local"
    capabilities = Capabilities(
        local=True,
        supports_cancel=True,
        supports_upload=True,
        supports_zero_copy_clone=False,
        supports_snowpark_optimized=True,
        rows_per_worker=BATCH_ROWS,
    )

    def __init__(self, workspace: Path | None = None, *, memory_limit: int | None = None) -> None:
        """Open (creating and seeding if new) the workspace folder, DuckDB limited to ``memory_limit``
        bytes (None: ``core.memory.default_memory_limit()``). Raises ConnectionFailed, InvalidInput (a
        limit below ``core.memory.MIN_MEMORY_LIMIT``)."""
        Engine.__init__(self)
        self.workspace = Workspace.open(workspace, memory_limit)
        try:
            self.models = LocalModels(self.workspace)
        except BaseException:
            self.workspace.close()
            raise
        self._closed = False

    # --- setup -----------------------------------------------------------------------------------------
    def _translate_error(self, exc: Exception) -> EngineError | None:
        """A full disk (or DuckDB out of memory), whether DuckDB or Python's own file writes saw it."""
        return sqlrun.resource_error(exc)

    def plan_setup(self) -> SetupPlan:
        """Never needed: opening the workspace creates everything it uses."""
        return SetupPlan(needed=False, reason="The embedded warehouse needs no setup.")

    def run_setup(self, *, task: TaskContext | None = None) -> SetupPlan:
        return self.plan_setup()

    @activity("check_account")
    def check_account(self) -> AccountCheck:
        """The embedded engine's short check: the workspace folder is writable and has room, and how many
        scoring workers this computer gives each size."""
        root = self.workspace.root
        free = shutil.disk_usage(root).free
        writable = os.access(root, os.W_OK)
        lines = [
            CheckLine(
                "workspace",
                CHECK_OK if writable else CHECK_MISSING,
                f"{root} is {'writable' if writable else 'not writable'}.",
                "" if writable else "Choose a folder you may write to in the connection manager.",
            ),
            CheckLine(
                "disk space",
                CHECK_OK if free >= _MIN_FREE_BYTES else CHECK_MISSING,
                f"{free / 1e9:.1f} GB free in the workspace's drive.",
                "" if free >= _MIN_FREE_BYTES else "Free disk space, or move the workspace to another drive.",
            ),
            CheckLine(
                "scoring workers",
                CHECK_OK,
                f"{os.cpu_count() or 1} CPU cores: X-Small scores with 1 worker, larger sizes with up to "
                f"{os.cpu_count() or 1}.",
            ),
            CheckLine(
                "memory limit",
                CHECK_OK,
                f"The embedded warehouse uses up to {describe(self.workspace.memory_limit)} of memory; a query "
                f"that needs more spills to {self.workspace.spill_dir}.",
            ),
            CheckLine("setup", CHECK_OK, self.plan_setup().reason),
        ]
        return AccountCheck(self.kind, "Local", None, lines)

    # --- connection ------------------------------------------------------------------------------------
    def describe(self) -> ConnectionInfo:
        return ConnectionInfo(
            engine=self.kind,
            account="Local",
            user=None,
            role=None,
            database=self.workspace.root.name or "LOCAL",
            schema=Workspace.DATA_SCHEMA,
            warehouse=self.models.warehouse(),
            workspace=self.workspace.root,
        )

    def close(self) -> None:
        """Stop the model workers, then close the database. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.models.close()
        finally:
            self.workspace.close()

    def cancel_all(self) -> None:
        """Interrupt every running query (used when the app closes); each interrupted call raises Cancelled
        and rolls back."""
        self.workspace.interrupt()

    # --- stages ----------------------------------------------------------------------------------------
    @activity("list_stages")
    def list_stages(self) -> list[str]:
        return list(Workspace.STAGES)

    @activity("list_files")
    def list_files(self, stage: str) -> list[StageFile]:
        return stages.list_files(self.workspace, stage)

    @activity("upload")
    def upload(
        self, paths: Sequence[Path], stage: str = "LOAD_DATA", *, task: TaskContext | None = None
    ) -> list[StageFile]:
        """See ``Engine.upload``. Also raises InvalidInput for folders, file types the loader cannot read
        (accepted: .csv .tsv .txt .parquet, optionally .gz) and stages other than LOAD_DATA."""
        return stages.upload(self.workspace, paths, stage, task)

    @activity("load")
    def load(self, request: LoadRequest, *, task: TaskContext | None = None) -> LoadResult:
        user_table(request.table)  # refused before the file is read
        return loading.load_file(self.workspace, request, task)

    # --- tables ----------------------------------------------------------------------------------------
    @activity("list_tables")
    def list_tables(self) -> list[TableInfo]:
        """User tables sorted by name. ``rows`` is DuckDB's row estimate (exact unless rows were deleted);
        ``bytes`` approximates the storage blocks the table uses (None before the first checkpoint)."""
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT table_name, estimated_size, column_count, comment FROM duckdb_tables() "
                "WHERE schema_name = ? AND NOT temporary ORDER BY table_name",
                [Workspace.DATA_SCHEMA],
            ).fetchall()
            block_size = cur.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
            tables = []
            for name, estimated, columns, comment in rows:
                if is_staging_table(name):
                    continue
                size = self._table_bytes(cur, name, block_size)
                tables.append(
                    TableInfo(name, int(estimated or 0), int(columns), sqlrun.parse_created(comment), size)
                )
        return tables

    def _table_bytes(self, cur: duckdb.DuckDBPyConnection, table: str, block_size: int) -> int | None:
        blocks = cur.execute(
            "SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) WHERE block_id >= 0",
            [self.workspace.table_ref(table)],
        ).fetchone()[0]
        return int(blocks) * int(block_size) if blocks else None

    @activity("table_columns")
    def table_columns(self, table: str) -> list[ColumnInfo]:
        with self._cursor() as cur:
            return stats.columns_of(cur, self.workspace, normalize(table, what="table name"))

    @activity("preview")
    def preview(self, table: str, limit: int = 1000) -> pd.DataFrame:
        with self._cursor() as cur:
            return stats.preview(cur, self.workspace, normalize(table, what="table name"), limit)

    @activity("profile")
    def profile(self, table: str, *, task: TaskContext | None = None) -> TableProfile:
        with self._cursor() as cur:
            return stats.profile(
                cur, self.workspace, normalize(table, what="table name"), task or TaskContext()
            )

    @activity("histogram")
    def histogram(self, table: str, column: str, bins: int = 30) -> Histogram:
        with self._cursor() as cur:
            return stats.histogram(cur, self.workspace, normalize(table, what="table name"), column, bins)

    @activity("class_balance")
    def class_balance(self, table: str, column: str, limit: int = 50) -> ClassBalance:
        with self._cursor() as cur:
            return stats.class_balance(
                cur, self.workspace, normalize(table, what="table name"), column, limit
            )

    @activity("correlation")
    def correlation(self, table: str, columns: Sequence[str] | None = None, limit: int = 30) -> Correlation:
        with self._cursor() as cur:
            return stats.correlation(cur, self.workspace, normalize(table, what="table name"), columns, limit)

    @activity("drop_table")
    def drop_table(self, table: str) -> None:
        name = user_table(table)
        with self._cursor() as cur:
            sqlrun.require_table(cur, self.workspace, name)
            try:
                cur.execute(f"DROP TABLE {self.workspace.table_ref(name)}")
            except duckdb.Error as exc:
                raise EngineError(f"Could not drop {display(name)}: {str(exc).splitlines()[0]}") from exc

    @activity("create_demo_table")
    def create_demo_table(
        self, table: str, rows: int, *, seed: int = 0, replace: bool = False, task: TaskContext | None = None
    ) -> TableInfo:
        user_table(table)  # refused before any row is generated
        return demo.create_demo_table(self.workspace, table, rows, seed, replace, task or TaskContext())

    # --- models (delegated) ----------------------------------------------------------------------------
    @activity("train")
    def train(self, request: TrainRequest, *, task: TaskContext | None = None) -> ModelRecord:
        return self.models.train(request, task=task)

    @activity("compare")
    def compare(self, request: CompareRequest, *, task: TaskContext | None = None) -> Comparison:
        return self.models.compare(request, task=task)

    @activity("list_models")
    def list_models(self) -> list[ModelRecord]:
        return self.models.list_models()

    @activity("get_model")
    def get_model(self, name: str) -> ModelRecord:
        return self.models.get_model(name)

    @activity("set_threshold")
    def set_threshold(self, name: str, threshold: float | None) -> ModelRecord:
        return self.models.set_threshold(name, threshold)

    @activity("check_drift")
    def check_drift(self, model: str, table: str, *, exact: bool = False) -> DriftReport:
        return self.models.check_drift(model, table, exact=exact)

    @activity("delete_model")
    def delete_model(self, name: str) -> None:
        self.models.delete_model(name)

    @activity("check_scoring_input")
    def check_scoring_input(self, model: str, table: str) -> list[str]:
        return self.models.check_scoring_input(model, table)

    @activity("score")
    def score(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        return self.models.score(request, task=task)

    @activity("score_incremental")
    def score_incremental(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        return self.models.score_incremental(request, task=task)

    @activity("list_runs")
    def list_runs(self, model: str | None = None, table: str | None = None) -> list[InferenceRun]:
        return self.models.list_runs(model, table)

    @activity("get_run")
    def get_run(self, run_id: int) -> InferenceRun:
        return self.models.get_run(run_id)

    @activity("warehouse")
    def warehouse(self) -> WarehouseState:
        return self.models.warehouse()

    @activity("set_warehouse")
    def set_warehouse(self, size: str | None = None, type: str | None = None) -> WarehouseState:
        return self.models.set_warehouse(size, type)

    # --- calibration hooks (see ``Engine.calibrate``) -------------------------------------------------------
    def _calibration_table(self) -> str:
        """A staging name: hidden from ``list_tables`` and dropped when a workspace opens after a crash."""
        return new_staging_name()

    def _create_sample(self, source: str, rows: int, name: str, *, sampled: bool) -> None:
        # Reservoir sampling of a fixed row count, seeded: https://duckdb.org/docs/sql/samples
        picked = f"USING SAMPLE reservoir({int(rows)} ROWS) REPEATABLE (42)" if sampled else f"LIMIT {int(rows)}"
        with self._cursor() as cur:
            cur.execute(
                f"CREATE TABLE {self.workspace.table_ref(name)} AS "
                f"SELECT * FROM {self.workspace.table_ref(source)} {picked}"
            )

    def _drop_calibration_table(self, name: str) -> None:
        with self._cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.workspace.table_ref(name)}")

    def _mark_run(self, run_id: int, kind: str, table: str) -> None:
        with self._cursor() as cur:
            catalog.mark_run(cur, run_id, kind, table)

    def _score_sample(self, request: ScoreRequest, task: TaskContext) -> InferenceRun:
        return self.models.score(request, task=task, internal_output=True)

    # --- plumbing --------------------------------------------------------------------------------------
    def _cursor(self) -> _Cursor:
        return _Cursor(self.workspace)


class _Cursor:
    """``with engine._cursor() as cur``: a workspace cursor closed on exit."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._cur: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._cur = self._workspace.cursor()
        return self._cur

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        if self._cur is not None:
            self._cur.close()
        resource = sqlrun.resource_error(exc)
        if resource is not None:
            raise resource from exc
