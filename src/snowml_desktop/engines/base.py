"""The engine protocol: what the GUI (through jobs) and the CLI may ask of a warehouse.

Two engines implement it: ``LocalEngine`` (embedded DuckDB, the default) and ``SnowflakeEngine``
(Snowpark; stored procedures and UDFs run in the warehouse). Both pass one contract test suite.

Rules every implementation keeps:
- Names in requests are user text; the engine normalizes them with ``core.identifiers.normalize`` and
  quotes them with ``core.identifiers.quote``. Results carry canonical names.
- Calls return plain data: dataclasses and pandas frames of bounded size. Never a cursor, never a whole table.
- Long calls take a ``TaskContext`` (progress + cancellation). A cancelled or failed call leaves data,
  catalog and warehouse as they were, and raises ``Cancelled`` or another ``EngineError``.
- Every expected failure is an ``EngineError`` subclass with a message a user can act on.
- An engine may be called from a worker thread; one engine object may serve several threads at once.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from snowml_desktop.core import identifiers, recommend
from snowml_desktop.core.errors import (
    AlreadyExists,
    Cancelled,
    ConnectionFailed,
    EngineError,
    IntegrityError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from snowml_desktop.core.identifiers import derived_name, display
from snowml_desktop.core.records import (
    RUN_SUCCEEDED,
    RUN_WARMUP,
    Feature,
    InferenceRun,
    ModelRecord,
    ModelWarning,
    json_safe,
)
from snowml_desktop.core.tasks import CancelToken, TaskContext

if TYPE_CHECKING:
    import pandas as pd

    from snowml_desktop.core.calibration import CalibrationPlan
    from snowml_desktop.core.compare import CompareSpec, Comparison
    from snowml_desktop.core.concurrent_fits import ProcessPool
    from snowml_desktop.core.drift import DriftReport

log = logging.getLogger(__name__)

__all__ = [
    "AccountCheck",
    "Activity",
    "ActivityListener",
    "AlreadyExists",
    "Cancelled",
    "Capabilities",
    "CheckLine",
    "ClassBalance",
    "ColumnInfo",
    "ColumnProfile",
    "ConnectionFailed",
    "ConnectionInfo",
    "Correlation",
    "Engine",
    "EngineError",
    "Feature",
    "Histogram",
    "InferenceRun",
    "IntegrityError",
    "InvalidInput",
    "LoadRequest",
    "LoadResult",
    "ModelRecord",
    "ModelWarning",
    "NotFound",
    "PermissionDenied",
    "Rejection",
    "Schedule",
    "ScheduleRequest",
    "ScheduleRun",
    "ScoreRequest",
    "SetupPlan",
    "StageFile",
    "TableInfo",
    "TableProfile",
    "CancelToken",
    "TaskContext",
    "TrainRequest",
    "WarehouseState",
]

LOAD_MODES = ("create", "replace", "append")
HEADER_MODES = ("auto", "yes", "no")
FILE_FORMATS = ("auto", "csv", "parquet")
#: What a CSV load does with a column of numbers that holds a few values that are not numbers: keep the
#: column as text (and say so on the result), load it as numbers rejecting those rows, or as numbers with
#: those values set to NULL.
BAD_NUMBER_MODES = ("text", "reject", "null")
OPTIMIZED_MODES = ("convert", "dedicated")
#: Statuses of an account check line: OK, missing (the fix is needed), unknown (could not be verified).
CHECK_OK, CHECK_MISSING, CHECK_UNKNOWN = "OK", "missing", "unknown"
CHECK_STATUSES = (CHECK_OK, CHECK_MISSING, CHECK_UNKNOWN)


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; the UI enables controls from these flags, never from the engine's class."""

    local: bool
    supports_cancel: bool = True
    supports_upload: bool = True
    supports_zero_copy_clone: bool = False
    supports_snowpark_optimized: bool = False
    supports_query_ids: bool = False
    #: Whether ``LoadRequest.bad_numbers`` may be other than "text" (reject or NULL values that are not
    #: numbers in a column of numbers).
    supports_bad_numbers: bool = True
    #: Why Snowpark-optimized training is unavailable, for the UI to show (None when it is available).
    snowpark_optimized_reason: str | None = None
    #: Rows each scoring worker takes at a time (local engine: one batch), so a run of fewer rows than
    #: workers x this uses fewer workers than its size has; None where the warehouse splits the work itself.
    rows_per_worker: int | None = None


@dataclass(frozen=True)
class WarehouseState:
    name: str
    size: str  # label, e.g. "X-Small"
    type: str  # "STANDARD" | "SNOWPARK-OPTIMIZED"
    state: str  # "STARTED" | "SUSPENDED" | "RESIZING" | "LOCAL"
    workers: int | None = None  # local engine: parallel scoring workers for this size
    credits_per_hour: float = 1.0


@dataclass(frozen=True)
class ConnectionInfo:
    engine: str  # "local" | "snowflake"
    account: str  # "Local" for the embedded engine
    user: str | None
    role: str | None
    database: str
    schema: str
    warehouse: WarehouseState
    workspace: Path | None = None  # local engine only


@dataclass(frozen=True)
class StageFile:
    stage: str
    name: str
    size: int
    modified: datetime | None


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    sql_type: str  # the engine's type name, e.g. "DOUBLE", "VARCHAR", "NUMBER(38,0)"
    kind: str  # "numeric" | "text" | "boolean" | "temporal" | "other"


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    columns: int
    created: datetime | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class LoadRequest:
    """Load ``stage``/``file`` into table ``table`` (in the user data schema).

    header: "auto" detects a header row; "yes"/"no" force it. With no header, column names come from
    ``columns_from`` (an existing table, names and types) or are COLUMN1..N.
    mode: "create" fails if the table exists; "replace" swaps it atomically; "append" adds rows and
    fails when column names or types are incompatible.
    force: load the file even if it was loaded into the table before. Snowflake remembers the files loaded
    into a table for 64 days and skips them (an append of the same file then fails with InvalidInput
    saying so); with force their rows are added again. The local engine keeps no such record.
    bad_numbers: for a CSV column of numbers with a few values that are not (see ``BAD_NUMBER_MODES``
    and ``LoadResult.not_numbers``).
    """

    stage: str
    file: str
    table: str
    header: str = "auto"
    columns_from: str | None = None
    mode: str = "create"
    file_format: str = "auto"
    force: bool = False
    bad_numbers: str = "text"


@dataclass(frozen=True)
class Rejection:
    line: int | None  # 1-based line in the file when known
    reason: str


@dataclass(frozen=True)
class NotNumbers:
    """A column whose values are numbers except a few: how many are not, up to three of them (sorted), the
    number type the others fit, and what the load did with them ("text": kept the column as text; "reject":
    rejected their rows; "null": set them to NULL)."""

    column: str
    count: int
    examples: list[str]
    numeric_type: str
    action: str

    def message(self) -> str:
        """One sentence for people: the column, how many values, the first of them, what was done."""
        values = "value that is not a number" if self.count == 1 else "values that are not numbers"
        shown = ", ".join(repr(v) for v in self.examples)
        done = {
            "text": "so the whole column was loaded as text",
            "reject": f"their rows were rejected and the column loaded as {self.numeric_type}",
            "null": f"they were loaded as NULL and the column as {self.numeric_type}",
        }[self.action]
        return f"Column {display(self.column)} has {self.count:,} {values} ({shown}); {done}."


@dataclass(frozen=True)
class LoadResult:
    table: str
    rows_loaded: int
    rows_rejected: int
    rejections: list[Rejection]  # the first few, for the user
    columns: list[ColumnInfo]
    seconds: float
    not_numbers: list[NotNumbers] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    sql_type: str
    kind: str
    count: int  # non-null values
    nulls: int
    distinct: int  # may be approximate on big tables
    mean: float | None = None
    std: float | None = None
    min: float | str | None = None
    q25: float | None = None
    median: float | None = None
    q75: float | None = None
    max: float | str | None = None
    top_values: list[tuple[str, int]] = field(default_factory=list)  # text/boolean columns: most common first


@dataclass(frozen=True)
class TableProfile:
    table: str
    rows: int
    columns: list[ColumnProfile]


@dataclass(frozen=True)
class Histogram:
    """Numeric: ``edges`` has len(counts)+1 bin edges. Categorical: ``categories`` (most common first) with
    ``counts``, and ``other`` counts the rest."""

    table: str
    column: str
    kind: str  # "numeric" | "categorical"
    counts: list[int]
    edges: list[float] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    other: int = 0
    nulls: int = 0


@dataclass(frozen=True)
class ClassBalance:
    table: str
    column: str
    labels: list[str]  # most common first, at most ``limit``
    counts: list[int]
    other: int = 0  # rows whose label is beyond the limit
    nulls: int = 0


@dataclass(frozen=True)
class Correlation:
    table: str
    columns: list[str]
    matrix: list[list[float | None]]  # Pearson, None where undefined (constant column)


@dataclass(frozen=True)
class TrainRequest:
    """Train a classifier on ``table`` predicting ``target``.

    features: None means every usable column but the target. params: method parameters (see
    ``core.methods``). optimized: train on a Snowpark-optimized warehouse (engines without the capability
    raise InvalidInput); optimized_mode "convert" switches the current warehouse and restores it,
    "dedicated" uses ``training_warehouse``.
    """

    table: str
    target: str
    features: list[str] | None = None
    method: str = "random_forest"
    params: dict[str, Any] = field(default_factory=dict)
    test_size: float = 0.2
    seed: int = 42
    cv_folds: int = 0
    class_weight: str | None = None  # None | "balanced"
    dedupe: bool = False
    keep_clone: bool = False
    optimized: bool = False
    optimized_mode: str = "convert"
    training_warehouse: str | None = None


@dataclass(frozen=True)
class CompareRequest:
    """Compare ``methods`` on ``table`` predicting ``target``, all on the same ``cv_folds`` stratified folds
    (0: one stratified split of ``test_size``, the split ``train`` would use with the same seed). ``params``:
    per method key, parameters other than the defaults. The other fields mean what they mean on TrainRequest."""

    table: str
    target: str
    methods: list[str]
    features: list[str] | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    cv_folds: int = 5
    test_size: float = 0.2
    seed: int = 42
    class_weight: str | None = None
    dedupe: bool = False

    def compare_spec(self, threads: int, processes: ProcessPool | None = None) -> CompareSpec:
        """The core comparison of this request (names already resolved), fitting ``threads`` at once (in
        processes started by ``processes``, if given)."""
        from snowml_desktop.core.compare import CompareSpec

        return CompareSpec(
            target=self.target,
            methods=list(self.methods),
            features=None if self.features is None else list(self.features),
            params={key: dict(value) for key, value in self.params.items()},
            cv_folds=self.cv_folds,
            test_size=self.test_size,
            seed=self.seed,
            class_weight=self.class_weight,
            dedupe=self.dedupe,
            threads=threads,
            processes=processes,
        )

    def train_request(self, method: str) -> TrainRequest:
        """The request that keeps one compared method as a catalog model, trained on the same setting."""
        return TrainRequest(
            table=self.table,
            target=self.target,
            features=self.features,
            method=method,
            params=dict(self.params.get(method, {})),
            test_size=self.test_size,
            seed=self.seed,
            cv_folds=self.cv_folds,
            class_weight=self.class_weight,
            dedupe=self.dedupe,
        )


@dataclass(frozen=True)
class ScoreRequest:
    """Score ``table`` with ``model`` into ``output`` (default ``<TABLE>_<MODEL>_INF``) at warehouse ``size``
    (None: the current size). An existing output table is replaced only with ``overwrite``."""

    model: str
    table: str
    output: str | None = None
    size: str | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class ScheduleRequest:
    """Score the rows added to ``table`` since the last run with ``model``, appending them to ``output``,
    on the five-field cron schedule ``cron`` (evaluated in UTC). ``serverless``: the engine manages the
    compute, starting at warehouse size ``size``; otherwise the run uses the current warehouse (``size``
    must then be None). ``name``: the schedule's name (default: made from the model and table)."""

    model: str
    table: str
    output: str
    cron: str
    size: str | None = None
    serverless: bool = False
    name: str | None = None


@dataclass(frozen=True)
class Schedule:
    """One schedule as the engine holds it. ``state``: "started" or "suspended"; ``reason`` says why the
    app suspended it (e.g. its model was deleted), None otherwise."""

    name: str
    model: str
    table: str
    output: str
    cron: str
    state: str
    serverless: bool
    size: str | None = None
    warehouse: str | None = None
    stream: str | None = None
    reason: str | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class ScheduleRun:
    """One run of a schedule from the engine's history: ``state`` as the engine reports it (e.g.
    SUCCEEDED, FAILED, SKIPPED, SCHEDULED, EXECUTING), with its error when it failed."""

    schedule: str
    state: str
    scheduled: datetime | None = None
    completed: datetime | None = None
    error: str | None = None
    query_id: str | None = None


@dataclass(frozen=True)
class SetupPlan:
    """What an engine's one-time setup creates, the privileges it needs, and whether it is needed now.

    ``objects`` and ``privileges`` are sentences for people; ``statements`` is the SQL text setup runs, in
    order (steps that are not SQL, such as uploading code, appear as SQL comments)."""

    needed: bool
    reason: str  # why it is (or is not) needed, for people
    objects: list[str] = field(default_factory=list)
    privileges: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckLine:
    """One line of an account check: what was checked, what was found, and the statement that fixes it.

    ``status``: OK, missing (``fix`` says what an admin runs), or unknown (the check could not see it, e.g.
    the role may not list grants; ``fix`` then says what would make it certain, when anything does)."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"Unknown check status {self.status!r}")


@dataclass(frozen=True)
class AccountCheck:
    """What this connection can do before anything changes (``Engine.check_account``)."""

    engine: str
    account: str
    role: str | None
    lines: list[CheckLine]

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def ready(self) -> bool:
        """True when nothing is missing (unknown lines may still fail later; the GRANT or ALTER will say)."""
        return self.count(CHECK_MISSING) == 0

    @classmethod
    def login_failed(cls, connection: str, error: EngineError) -> AccountCheck:
        """The check of a connection that could not log in: one missing login line with the reason."""
        fix = "Correct the connection (account, user, login method, secret) in the connection manager."
        return cls("snowflake", connection, None, [CheckLine("login", CHECK_MISSING, str(error), fix)])


@dataclass(frozen=True)
class Activity:
    """One finished engine operation, for the Activity log: what, how long, and the query id on Snowflake."""

    operation: str  # e.g. "load", "profile", "train", "score", "set_warehouse"
    seconds: float
    detail: str = ""  # e.g. the table or model name
    query_id: str | None = None
    ok: bool = True


ActivityListener = Callable[[Activity], None]


def default_output_table(table: str, model: str) -> str:
    """The default output name for scoring canonical ``table`` with canonical ``model`` (shortened to the
    identifier limit when ``table`` is long)."""
    return derived_name(table, f"_{model}_INF")


def clone_table(table: str, model: str) -> str:
    """The name of the training-data clone kept for ``model`` trained on canonical ``table``."""
    return derived_name(table, f"_CLONE_{model}")


def model_record(
    request: TrainRequest,
    outcome: Any,
    *,
    name: str,
    created: datetime,
    source_table: str,
    training_table: str,
    target_sql_type: str,
    warehouse: tuple[str, str],
    sampled_from: int | None = None,
    sample_rows: int = 0,
) -> ModelRecord:
    """The catalog record of a model fitted for ``request`` (``core.training.TrainOutcome``), the same on
    every engine. ``warehouse``: (size, type) it trained on; ``sampled_from``: the table's row count when
    the fit used a random sample of about ``sample_rows`` rows. Artifact fields, library versions and train
    seconds are left empty for the engine to fill in once the artifact is stored."""
    options: dict[str, Any] = {
        "test_size": request.test_size,
        "seed": request.seed,
        "cv_folds": request.cv_folds,
        "class_weight": request.class_weight,
        "dedupe": request.dedupe,
        "keep_clone": request.keep_clone,
        "optimized": request.optimized,
        "optimized_mode": request.optimized_mode if request.optimized else None,
        "target_sql_type": target_sql_type,
    }
    if outcome.search is not None:
        options["search"] = outcome.search
    warnings = list(outcome.warnings)
    if sampled_from is not None:
        warnings.append(
            ModelWarning(
                "training_sampled",
                f"The table has {sampled_from:,} rows; the model was trained on a random sample of about "
                f"{sample_rows:,} rows (seed {request.seed}).",
            )
        )
    return ModelRecord(
        name=name,
        created=created,
        method=outcome.method,
        source_table=source_table,
        training_table=training_table,
        target=request.target,
        features=list(outcome.features),
        classes=json_safe(list(outcome.classes)),
        params=dict(outcome.params),
        options=options,
        metrics=dict(outcome.metrics),
        per_class=list(outcome.per_class),
        confusion_matrix=[[int(v) for v in row] for row in outcome.confusion_matrix],
        curves=dict(outcome.curves),
        feature_importance=list(outcome.feature_importance),
        cv=outcome.cv,
        warnings=warnings,
        excluded_columns=list(outcome.excluded_columns),
        artifact_path="",
        artifact_sha256="",
        library_versions={},
        train_seconds=0.0,
        warehouse_size=warehouse[0],
        warehouse_type=warehouse[1],
        rows_total=int(outcome.rows_total),
        rows_train=int(outcome.rows_train),
        rows_test=int(outcome.rows_test),
    )


class Engine(ABC):
    """The protocol. See the module docstring for the rules every method keeps."""

    #: "local" or "snowflake"
    kind: str
    capabilities: Capabilities

    def __init__(self) -> None:
        self._listeners: list[ActivityListener] = []
        self._listeners_lock = threading.Lock()

    def add_activity_listener(self, listener: ActivityListener) -> None:
        """Call ``listener`` after every operation. It runs on the engine's calling thread: keep it cheap,
        and let a GUI marshal to its own thread."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_activity_listener(self, listener: ActivityListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit_activity(self, activity: Activity) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(activity)
            except Exception:  # a broken listener must not change the operation's outcome
                log.exception("An activity listener failed for %s", activity.operation)

    def _activity_started(self) -> Any:
        """Called by :func:`activity` before an operation; returns what :meth:`_activity_query_id` gets.
        Engines that run queries with ids override both."""
        return None

    def _activity_query_id(self, started: Any) -> str | None:
        """The last query id of the operation that :meth:`_activity_started` began (None: no ids)."""
        return None

    def _translate_error(self, exc: Exception) -> EngineError | None:
        """Called by :func:`activity` when an operation raised ``exc``: the error to raise instead (from
        ``exc``), or None to let it through. Engines override it to recognize, in one place, failures
        that are the machine's (a full disk) wherever in the operation they happen."""
        return None

    # --- setup ------------------------------------------------------------------------------------
    @abstractmethod
    def plan_setup(self) -> SetupPlan:
        """What setup would create now and why; changes nothing. A few small queries: the app calls it at
        every connect. Raises EngineError when setup cannot succeed here (e.g. a package the procedures need
        is missing from the account), naming what is missing."""

    @abstractmethod
    def run_setup(self, *, task: TaskContext | None = None) -> SetupPlan:
        """Run setup when :meth:`plan_setup` says it is needed (idempotent: a no-op otherwise) and return the
        plan afterwards, whose ``needed`` is False. Raises PermissionDenied naming the privilege the role
        lacks, EngineError for a missing package (nothing is created then), Cancelled. Objects made before
        a failure or cancel stay (each step is idempotent); the next run completes them."""

    @abstractmethod
    def check_account(self) -> AccountCheck:
        """What this connection needs before setup or any training, read-only: one ``CheckLine`` per check,
        each OK, missing (with the GRANT or ALTER that fixes it) or unknown. Never changes anything and
        never raises for a failed check (that check's line says unknown); raises ConnectionFailed only
        when the connection itself is lost."""

    def grant_app_role(self, role: str, *, task: TaskContext | None = None) -> list[str]:
        """Grant ``role`` what every user of the app needs on the objects setup made, models other roles
        trained included; return the statements run. Raises InvalidInput for an engine without roles (the
        default), PermissionDenied naming the privilege the current role lacks (grants made before stay)."""
        raise InvalidInput("This engine has no roles to grant.", hint="Roles exist on Snowflake connections.")

    # --- connection -------------------------------------------------------------------------------
    @abstractmethod
    def describe(self) -> ConnectionInfo:
        """Where this engine is connected. Cheap; no long queries."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and worker processes. Idempotent."""

    # --- stages -----------------------------------------------------------------------------------
    @abstractmethod
    def list_stages(self) -> list[str]:
        """Stage names (at least LOAD_DATA and MODELS)."""

    @abstractmethod
    def list_files(self, stage: str) -> list[StageFile]:
        """Files on a stage, sorted by name. Raises NotFound for an unknown stage."""

    @abstractmethod
    def upload(
        self, paths: Sequence[Path], stage: str = "LOAD_DATA", *, task: TaskContext | None = None
    ) -> list[StageFile]:
        """Copy local files onto a stage (replacing same-named files). Raises NotFound for a missing path."""

    @abstractmethod
    def load(self, request: LoadRequest, *, task: TaskContext | None = None) -> LoadResult:
        """Load a CSV or Parquet stage file into a table; see ``LoadRequest``. Rejected rows are counted
        and the first reasons returned, never dropped silently. Raises InvalidInput (empty file, bad
        names, incompatible append), NotFound, AlreadyExists (mode create)."""

    # --- tables -----------------------------------------------------------------------------------
    @abstractmethod
    def list_tables(self) -> list[TableInfo]:
        """User tables (the data schema), sorted by name."""

    @abstractmethod
    def table_columns(self, table: str) -> list[ColumnInfo]:
        """Columns of a table in order. Raises NotFound."""

    @abstractmethod
    def preview(self, table: str, limit: int = 1000) -> pd.DataFrame:
        """The first ``limit`` rows (at most 10 000)."""

    @abstractmethod
    def profile(self, table: str, *, task: TaskContext | None = None) -> TableProfile:
        """Per-column statistics computed in the engine."""

    @abstractmethod
    def histogram(self, table: str, column: str, bins: int = 30) -> Histogram:
        """Server-side bins of one column (numeric: equal-width; text: most common categories)."""

    @abstractmethod
    def class_balance(self, table: str, column: str, limit: int = 50) -> ClassBalance:
        """Counts per value of a label column."""

    @abstractmethod
    def correlation(self, table: str, columns: Sequence[str] | None = None, limit: int = 30) -> Correlation:
        """Pearson correlation of numeric columns (the first ``limit`` when ``columns`` is None)."""

    @abstractmethod
    def drop_table(self, table: str) -> None:
        """Drop a user table. Raises NotFound."""

    # --- models -----------------------------------------------------------------------------------
    @abstractmethod
    def train(self, request: TrainRequest, *, task: TaskContext | None = None) -> ModelRecord:
        """Train, evaluate and register a model atomically (artifact and catalog row together or not at
        all). Raises InvalidInput for an unusable target/feature set, Cancelled, EngineError."""

    def compare(self, request: CompareRequest, *, task: TaskContext | None = None) -> Comparison:
        """Compare methods on the same folds in one background call (see ``core.compare``); nothing is added to
        the catalog. Raises NotFound (table), InvalidInput (target, features, methods, folds), Cancelled."""
        raise InvalidInput(f"The {self.kind} engine cannot compare methods yet.")

    @abstractmethod
    def list_models(self) -> list[ModelRecord]:
        """The catalog, newest first."""

    @abstractmethod
    def get_model(self, name: str) -> ModelRecord:
        """One catalog row. Raises NotFound."""

    @abstractmethod
    def delete_model(self, name: str) -> None:
        """Remove the catalog row and the artifact (and the per-model UDF on Snowflake). Keeps runs."""

    @abstractmethod
    def set_threshold(self, name: str, threshold: float | None) -> ModelRecord:
        """Record a binary model's decision threshold (None: back to the most probable class); every later
        scoring labels rows with it and records it on the run. Raises NotFound, InvalidInput (multiclass
        model, a value outside [0, 1])."""

    @abstractmethod
    def check_drift(self, model: str, table: str, *, exact: bool = False) -> DriftReport:
        """Drift of ``table`` against ``model``'s training data, in one aggregate pass in the warehouse (see
        ``core.drift``); ``exact`` compares against the kept training clone itself (exact KS). Raises
        NotFound (model, table, clone), InvalidInput (missing feature columns, no drift profile, no clone)."""

    @abstractmethod
    def check_scoring_input(self, model: str, table: str) -> list[str]:
        """Names of the model's features missing from ``table`` (empty when it can be scored)."""

    @abstractmethod
    def score(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        """Score a table into an output table (input columns + PREDICTION + PREDICTION_PROBABILITY), written
        atomically; metrics in SQL when the target column is present. Resizes the warehouse to
        ``request.size`` for the call and restores it after. Records the run (also failed/cancelled ones)
        and returns it. Raises InvalidInput (missing features, named), IntegrityError (tampered
        artifact), AlreadyExists (output exists without overwrite), Cancelled."""

    @abstractmethod
    def list_runs(self, model: str | None = None, table: str | None = None) -> list[InferenceRun]:
        """Inference runs, newest first, optionally for one model and/or source table."""

    @abstractmethod
    def get_run(self, run_id: int) -> InferenceRun:
        """One run. Raises NotFound."""

    # --- warehouse --------------------------------------------------------------------------------
    @abstractmethod
    def warehouse(self) -> WarehouseState:
        """Current warehouse name, size and type."""

    @abstractmethod
    def set_warehouse(self, size: str | None = None, type: str | None = None) -> WarehouseState:
        """Resize and/or change type. Raises InvalidInput for unknown sizes/types or combinations the
        engine does not allow, PermissionDenied without MODIFY."""

    def recommend_size(
        self, model: str, table: str, *, budget_seconds: float | None = None
    ) -> recommend.Recommendation:
        """The warehouse size to score ``table`` with ``model``, forecast from the model's successful past runs
        (on any table; calibration runs included, warm-up runs not) and priced at the current warehouse type.
        Raises NotFound (no such table), InvalidInput (fewer than two sizes of past runs to go by: see
        :meth:`calibrate`)."""
        info = self._scoring_table(table)
        samples = [
            recommend.TimingSample(r.warehouse_size, r.rows, r.total_seconds, r.workers)
            for r in self.list_runs(model)
            if r.status == RUN_SUCCEEDED and r.kind != RUN_WARMUP
        ]
        return recommend.recommend_size(
            samples,
            info.rows,
            local=self.capabilities.local,
            warehouse_type=self.warehouse().type,
            budget_seconds=budget_seconds,
            rows_per_worker=self.capabilities.rows_per_worker,
        )

    def _scoring_table(self, table: str) -> TableInfo:
        wanted = identifiers.normalize(table, what="table")
        info = next((t for t in self.list_tables() if t.name == wanted), None)
        if info is None:
            raise NotFound(
                f"No table {wanted} to score.", hint="Load it first (Load Data), or check the name."
            )
        return info

    def plan_calibration(self, model: str, table: str) -> CalibrationPlan:
        """What :meth:`calibrate` would run for ``model`` on ``table``, and its cost (``core.calibration``).
        Raises NotFound (model, table), InvalidInput (missing features, a table too small to time, one CPU)."""
        from snowml_desktop.core.calibration import plan_calibration

        record = self.get_model(model)
        info = self._scoring_table(table)
        missing = self.check_scoring_input(record.name, info.name)
        if missing:
            raise InvalidInput(
                f"Table {display(info.name)} lacks the model's feature(s) "
                f"{', '.join(display(m) for m in missing)}, so it cannot be scored or calibrated on.",
                hint=f"Calibrate on a table with the columns {record.name} was trained on.",
            )
        state = self.warehouse()
        return plan_calibration(
            record.name,
            info.name,
            info.rows,
            local=self.capabilities.local,
            current_size=state.size,
            warehouse_type=state.type,
            rows_per_worker=self.capabilities.rows_per_worker,
        )

    def calibrate(
        self,
        plan: CalibrationPlan,
        *,
        budget_seconds: float | None = None,
        task: TaskContext | None = None,
    ) -> recommend.Recommendation:
        """Run ``plan`` (from :meth:`plan_calibration`): sample the table in the warehouse, score the samples
        with the ordinary scoring path at the plan's sizes (the warehouse resized and restored as ``score``
        does), record each run as a calibration (or warm-up) run of the table, drop the samples and their
        scored output, and return the recommendation the runs now allow. A failure or cancel leaves no table
        behind; the runs made so far stay recorded. Raises what ``score`` raises, Cancelled."""
        from snowml_desktop.engines.calibration import run_calibration

        return run_calibration(self, plan, budget_seconds, task or TaskContext())

    # Calibration hooks: an engine that can calibrate implements the first four; ``_score_sample`` is its
    # ``score`` unless its scoring path must be told the output is an engine table.
    def _calibration_table(self) -> str:
        """A fresh name for a sample or a sample's scored output, hidden from the user's tables."""
        raise InvalidInput(f"The {self.kind} engine cannot calibrate.")

    def _create_sample(self, source: str, rows: int, name: str, *, sampled: bool) -> None:
        """Create table ``name`` in the warehouse from ``rows`` rows of ``source``: a random sample of them
        (``sampled``), else its first rows."""
        raise InvalidInput(f"The {self.kind} engine cannot calibrate.")

    def _drop_calibration_table(self, name: str) -> None:
        """Drop a sample or scored output if it exists."""
        raise InvalidInput(f"The {self.kind} engine cannot calibrate.")

    def _mark_run(self, run_id: int, kind: str, table: str) -> None:
        """Record run ``run_id`` as of ``kind`` (``core.records.RUN_KINDS``) on a sample of ``table``."""
        raise InvalidInput(f"The {self.kind} engine cannot calibrate.")

    def _score_sample(self, request: ScoreRequest, task: TaskContext) -> InferenceRun:
        """Score a sample into an output named by :meth:`_calibration_table`."""
        return self.score(request, task=task)

    def create_demo_table(
        self, table: str, rows: int, *, seed: int = 0, replace: bool = False, task: TaskContext | None = None
    ) -> TableInfo:
        """Generate a churn-like demo table of ``rows`` rows (1 .. 10**8) inside the engine, streamed with
        constant memory. Same columns and types as the CHURN demo file, so models trained on it score it.
        Raises InvalidInput (bad row count), AlreadyExists (exists and not ``replace``)."""
        raise InvalidInput(f"The {self.kind} engine cannot generate demo tables.")

    def score_incremental(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        """Score only the rows of ``request.table`` that this model has not scored into ``request.output``
        before, appending them to it; the first run, or a run after the input table was replaced or the
        model changed, scores the whole table into a new output. Records the run (``rows`` = rows scored
        now). Raises what :meth:`score` raises; AlreadyExists when the output exists but was not written
        this way (and ``overwrite`` is off)."""
        raise InvalidInput(
            f"The {self.kind} engine does not score incrementally by itself.",
            hint="Create a schedule instead (`snowml schedule create`): its stream scores only new rows.",
        )

    # --- schedules (server-side; engines without them raise InvalidInput) -------------------------------
    def _no_schedules(self) -> InvalidInput:
        return InvalidInput(
            f"The {self.kind} engine has no server-side schedules.",
            hint="Let your operating system's scheduler run `snowml score --incremental` (Automate… writes it).",
        )

    def create_schedule(self, request: ScheduleRequest) -> Schedule:
        """Check the privileges it needs (raising PermissionDenied naming each missing one, with nothing
        created), then create what runs ``request`` on its schedule, started. Raises InvalidInput (bad
        cron, size with a warehouse-run schedule, model features missing from the table), NotFound (model,
        table), AlreadyExists (a schedule of that name). A failure part-way drops what was created."""
        raise self._no_schedules()

    def list_schedules(self) -> list[Schedule]:
        """The app's schedules, sorted by name."""
        raise self._no_schedules()

    def set_schedule_state(self, name: str, active: bool, reason: str | None = None) -> Schedule:
        """Resume (``active``) or suspend a schedule, recording ``reason`` with a suspension. Raises
        NotFound; InvalidInput when resuming a schedule whose model is gone or no longer fits the table."""
        raise self._no_schedules()

    def run_schedule_now(self, name: str) -> None:
        """Start one run now, outside the schedule (it still scores only new rows). Raises NotFound."""
        raise self._no_schedules()

    def drop_schedule(self, name: str) -> None:
        """Drop a schedule and what it created (the output table and past runs stay). Raises NotFound."""
        raise self._no_schedules()

    def schedule_history(self, name: str, limit: int = 50) -> list[ScheduleRun]:
        """The schedule's latest runs, newest first, with errors. Raises NotFound."""
        raise self._no_schedules()

    def cancel_all(self) -> None:  # noqa: B027 - a deliberate no-op default, not a forgotten abstract
        """Cancel whatever this engine is running (used when the app closes). Default: nothing to do."""


F = TypeVar("F", bound=Callable[..., Any])


def describe_call(args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """What an engine call was about, for the Activity log: file names, a request's table/model/file, or
    the first plain name or number."""
    for value in [*args, *kwargs.values()]:
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, Path)) for v in value):
            return ", ".join(Path(v).name for v in value)
        for attribute in ("table", "model", "file"):
            if isinstance(getattr(value, attribute, None), str):
                return str(getattr(value, attribute))
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    return ""


def activity(operation: str) -> Callable[[F], F]:
    """Decorate an engine method so that it emits an ``Activity`` when it ends (ok=False when it raised),
    with its duration, its subject and, where the engine has them, the last query id it ran."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Engine, *args: Any, **kwargs: Any) -> Any:
            started, token = time.perf_counter(), self._activity_started()
            ok = False
            try:
                result = method(self, *args, **kwargs)
                ok = True
                return result
            except Exception as exc:
                translated = self._translate_error(exc)
                if translated is None:
                    raise
                raise translated from exc
            finally:
                seconds = time.perf_counter() - started
                query_id = self._activity_query_id(token)
                self._emit_activity(Activity(operation, seconds, describe_call(args, kwargs), query_id, ok))

        return wrapper  # type: ignore[return-value]

    return decorate
