"""Bodies of the stored procedures SNOWML_LOAD, SNOWML_TRAIN and SNOWML_SCORE, run inside Snowflake.

Each handler takes a Snowpark session and one JSON request and returns one JSON result (see
:func:`decode_result`): ``{"ok": true, "row": {...}}`` or ``{"ok": false, "error": {"code", "message",
"hint"}, "row": ...}``. Errors are returned, not raised, so the desktop can re-raise the same
``EngineError`` subclass (:func:`decode_result`); an exception escaping a procedure would reach the client as
a generic SQL error with the type lost.

Request JSON: the ``engines.base`` request dataclass fields plus ``database`` (default: the session's),
``app_schema``, ``data_schema``, ``warehouse_size``, ``warehouse_type`` and, per procedure, ``model_name``
(train), ``packages``, ``code_imports``, ``udf_stage``, ``max_batch_size`` (train: how the model's UDF is
registered), ``run_id`` (score; default: the next SNOWML_SEQ value) and ``output`` (score: the resolved
output table). Every name in a request is canonical (already ``core.identifiers.normalize``-d by the engine)
and is quoted here, through ``engines.snowflake.sql``'s builders or ``core.identifiers.quote``.

The bodies are small steps on the Snowpark DataFrame API (reads, the scoring CREATE TABLE AS SELECT, GROUP BY
metrics, row inserts), so they run in a local-testing session too. What the DataFrame API cannot express
(CLONE, COMMENT, DROP FUNCTION, the sequence, INFER_SCHEMA/COPY/SWAP for loads, stage files) goes through
injectable objects (:class:`WarehouseOps`, :class:`SqlRunner`, :class:`StageIO`, the UDF registrar) whose
defaults run the real statements; tests substitute implementations a local-testing session can run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

# Session is imported at run time, not only for type checking: Snowpark reads a procedure handler's type
# hints (``session: Session``) when it is registered, and they must resolve.
from snowflake.snowpark import Session

from snowml_desktop.core import errors, records, sizes
from snowml_desktop.core.errors import AlreadyExists, EngineError, IntegrityError, InvalidInput, NotFound
from snowml_desktop.core.identifiers import INTERNAL_PREFIX, quote
from snowml_desktop.core.records import RUN_FAILED, InferenceRun, ModelRecord
from snowml_desktop.engines.base import (
    FILE_FORMATS,
    HEADER_MODES,
    LOAD_MODES,
    ColumnInfo,
    CompareRequest,
    LoadRequest,
    LoadResult,
    Rejection,
    ScoreRequest,
    TrainRequest,
    clone_table,
    default_output_table,
    model_record,
)
from snowml_desktop.engines.snowflake import sql, udf

if TYPE_CHECKING:
    import pandas as pd
    from snowflake.snowpark import DataFrame

log = logging.getLogger(__name__)

MODELS_STAGE = "MODELS"
CATALOG_TABLE = sql.MODELS_CATALOG
RUNS_TABLE = sql.INFERENCE_RUNS
ARTIFACT_SUFFIX = ".joblib"
#: Larger tables are sampled (with the request's seed) before fitting: the training read must fit in the
#: procedure's memory (a Snowpark-optimized warehouse allows more; the engine may raise it per request).
MAX_TRAINING_ROWS = 1_000_000
_RESULT_COLUMN = "__SNOWML_RESULT"


# --- results -------------------------------------------------------------------------------------------------
def _ok(row: dict[str, Any]) -> str:
    return json.dumps({"ok": True, "row": row}, default=_json_default)


def _failure(exc: BaseException, row: dict[str, Any] | None = None) -> str:
    if isinstance(exc, EngineError):
        error = {"code": exc.code, "message": exc.message, "hint": exc.hint}
    else:  # a bug or an unexpected Snowflake error: keep the text, the type is logged
        log.exception("Procedure failed unexpectedly")
        error = {"code": EngineError.code, "message": f"{type(exc).__name__}: {exc}", "hint": None}
    return json.dumps({"ok": False, "error": error, "row": row}, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    return records.json_safe(value)


_ERRORS: dict[str, type[EngineError]] = {
    cls.code: cls
    for cls in (
        errors.InvalidInput,
        errors.NotFound,
        errors.AlreadyExists,
        errors.ConnectionFailed,
        errors.PermissionDenied,
        errors.IntegrityError,
        errors.EngineError,
    )
}


def decode_result(text: str) -> dict[str, Any]:
    """The row a procedure returned (``CREATED_AT`` as an aware datetime). Raises the procedure's error as
    the same EngineError subclass; the failed row (a FAILED run) is on the exception as ``row``."""
    payload = json.loads(text)
    row = payload.get("row")
    if row is not None and isinstance(row.get("CREATED_AT"), str):
        row["CREATED_AT"] = datetime.fromisoformat(row["CREATED_AT"])
    if payload.get("ok"):
        return row
    error = payload["error"]
    cls = _ERRORS.get(error.get("code"), EngineError)
    exc = cls(error["message"], hint=error.get("hint"))
    exc.row = row  # type: ignore[attr-defined]
    raise exc


@contextlib.contextmanager
def tagged(session: Session, operation: str) -> Iterator[None]:
    """Tag every statement of this procedure call ``snowml-desktop/<version>/<operation>`` (a caller's rights
    procedure may set its session's QUERY_TAG), then put the app's generic session tag back: Snowpark cannot
    tell which tag the calling session had."""
    _set_query_tag(session, sql.query_tag(operation))
    try:
        yield
    finally:
        _set_query_tag(session, sql.query_tag("session"))


def _set_query_tag(session: Session, tag: str) -> None:
    try:
        session.query_tag = tag
    except Exception as exc:  # the tag only attributes cost: never fail the user's work because of it
        log.warning("Could not set QUERY_TAG %s: %s", tag, type(exc).__name__)


# --- injectable services -------------------------------------------------------------------------------------
class StageIO(Protocol):
    """Artifact files on a stage. ``path`` is a full stage path: ``@"APP"."MODELS"/NAME.joblib``."""

    def put(self, path: str, data: bytes) -> None: ...

    def get(self, path: str) -> bytes: ...

    def remove(self, path: str) -> None: ...


class SessionStageIO:
    """The real stage: ``session.file`` streams (no local files needed inside a procedure)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, path: str, data: bytes) -> None:
        # No compression: the UDF imports the file and reads it as is. No overwrite: model names are unique.
        self._session.file.put_stream(io.BytesIO(data), path, auto_compress=False, overwrite=False)

    def get(self, path: str) -> bytes:
        try:
            return self._session.file.get_stream(path).read()
        except Exception as exc:
            raise NotFound(f"The model artifact {path} is missing from its stage.") from exc

    def remove(self, path: str) -> None:
        self._session.file.remove(path)


class WarehouseOps(Protocol):
    """Statements the DataFrame API cannot express. Names are canonical; implementations quote them."""

    def clone_table(self, source: str, target: str, comment: str) -> str | None:
        """Zero-copy clone data table ``source`` as ``target`` with a comment; return the query id."""

    def drop_table(self, table: str) -> None:
        """Drop data table ``table``."""

    def drop_function(self, name: str, argument_types: list[str]) -> None:
        """Drop app-schema function ``name(argument_types)`` if it exists."""

    def next_run_id(self) -> int:
        """The next value of the app's sequence."""


class SqlRunner(Protocol):
    """Runs one builder statement; returns (rows as dicts, query id)."""

    def run(self, statement: sql.Statement) -> tuple[list[dict[str, Any]], str | None]: ...


class SessionSqlRunner:
    """The real runner: ``session.sql`` with the statement's bind values."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def run(self, statement: sql.Statement) -> tuple[list[dict[str, Any]], str | None]:
        job = self._session.sql(statement.text, params=list(statement.params) or None).collect_nowait()
        return [row.as_dict() for row in job.result()], job.query_id


class SqlWarehouseOps:
    """The real implementation: statements from ``engines.snowflake.sql`` through a SqlRunner."""

    def __init__(self, runner: SqlRunner, loc: sql.Location) -> None:
        self._runner = runner
        self._loc = loc

    def clone_table(self, source: str, target: str, comment: str) -> str | None:
        _, query_id = self._runner.run(sql.clone_table(self._loc, target, source))
        self._runner.run(sql.comment_on_table(self._loc, target, comment))
        return query_id

    def drop_table(self, table: str) -> None:
        self._runner.run(sql.drop_table_if_exists(self._loc, table))

    def drop_function(self, name: str, argument_types: list[str]) -> None:
        self._runner.run(sql.drop_function(self._loc, name, argument_types))

    def next_run_id(self) -> int:
        rows, _ = self._runner.run(sql.next_sequence_value(self._loc))
        return int(next(iter(rows[0].values())))


UdfRegistrar = Callable[["Session", ModelRecord, str], str]
"""(session, record, artifact stage path) -> qualified UDF name; registers the model's scoring UDF."""


@dataclass
class Services:
    """What a procedure uses besides the DataFrame API; tests replace parts of it."""

    stage: StageIO
    ops: WarehouseOps
    register_udf: UdfRegistrar
    clock: Callable[[], float] = time.perf_counter
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


def default_services(session: Session, place: Place, extras: dict[str, Any]) -> Services:
    """Real stage, real SQL, and the permanent vectorized UDF registered as the request describes."""

    def register(session: Session, record: ModelRecord, artifact_path: str) -> str:
        return udf.register_model_udf(
            session,
            record,
            artifact_path,
            list(extras.get("packages") or []),
            int(extras.get("max_batch_size") or udf.DEFAULT_MAX_BATCH_SIZE),
            location=place.loc,
            code_imports=list(extras.get("code_imports") or []),
            stage_location=extras.get("udf_stage"),
        )

    ops = SqlWarehouseOps(SessionSqlRunner(session), place.loc)
    return Services(SessionStageIO(session), ops, register)


# --- requests ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Place:
    """Where the app keeps things (database, app and data schemas), and the warehouse the call runs on."""

    loc: sql.Location
    warehouse_size: str
    warehouse_type: str

    def data(self, table: str) -> str:
        return self.loc.data(table)

    def app(self, name: str) -> str:
        return self.loc.app(name)

    def artifact_path(self, model: str) -> str:
        """``@"DB"."SNOWML"."MODELS"/NAME.joblib``: a stage path for ``session.file`` and UDF imports."""
        return f"@{self.loc.app(MODELS_STAGE)}/{model}{ARTIFACT_SUFFIX}"


def parse_request(session: Session, request_json: str, cls: type) -> tuple[Any, Place, dict[str, Any]]:
    """(request dataclass, place, the whole JSON object). ``database`` defaults to the session's current
    one. Raises InvalidInput for malformed requests."""
    try:
        data = json.loads(request_json)
        fields = {f.name for f in dataclasses.fields(cls)}
        request = cls(**{k: v for k, v in data.items() if k in fields})
        database = data.get("database") or _unquote(session.get_current_database() or "")
        place = Place(
            sql.Location(database, data["app_schema"], data["data_schema"]),
            sizes.parse_size(data["warehouse_size"]).label,
            sizes.parse_type(data["warehouse_type"]),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"The procedure request is malformed: {exc}.") from exc
    return request, place, data


def _table(session: Session, name: str, what: str) -> DataFrame:
    """``session.table`` of a qualified name with a clear NotFound (Snowpark resolves tables lazily, so the
    schema is read here)."""
    table = session.table(name)
    try:
        table.schema  # noqa: B018 - forces the lookup
    except Exception as exc:
        raise NotFound(f"The {what} {name} does not exist or is not accessible.") from exc
    return table


def _column_names(frame: DataFrame) -> dict[str, str]:
    """Canonical column name -> the name as Snowpark spells it (quoted when not simple)."""
    return {_unquote(name): name for name in frame.columns}


def _unquote(name: str) -> str:
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _insert_row(session: Session, table: str, columns: tuple[tuple[str, str], ...], row: dict) -> None:
    """Append one catalog/runs row; JSON columns go through PARSE_JSON so VARIANT holds objects, not text."""
    from snowflake.snowpark.functions import col, parse_json
    from snowflake.snowpark.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampTimeZone,
        TimestampType,
    )

    types = {
        records.TEXT: StringType(),
        records.JSON: StringType(),
        records.INTEGER: LongType(),
        records.DOUBLE: DoubleType(),
        records.TIMESTAMP: TimestampType(TimestampTimeZone.NTZ),
    }
    schema = StructType([StructField(quote(name), types[kind]) for name, kind in columns])
    values = [
        _utc(row[name]).replace(tzinfo=None) if kind == records.TIMESTAMP else row[name]
        for name, kind in columns
    ]
    frame = session.create_dataframe([values], schema=schema)
    for name, kind in columns:
        if kind == records.JSON:
            frame = frame.with_column(quote(name), parse_json(col(quote(name))))
    frame.write.save_as_table(table, mode="append", column_order="name")


# --- train ---------------------------------------------------------------------------------------------------
def train_procedure(session: Session, request_json: str) -> str:
    """SNOWML_TRAIN: train, save the artifact, register the UDF, insert the catalog row; return it."""
    with tagged(session, "train"):
        try:
            _, place, extras = parse_request(session, request_json, TrainRequest)
            services = default_services(session, place, extras)
        except Exception as exc:
            return _failure(exc)
        return run_train(session, request_json, services)


def run_train(session: Session, request_json: str, services: Services) -> str:
    """``train_procedure`` with its services given (tests inject them)."""
    try:
        request, place, extras = parse_request(session, request_json, TrainRequest)
        record = train(session, request, place, str(extras.get("model_name") or ""), services)
    except Exception as exc:
        return _failure(exc)
    return _ok(records.model_to_row(record))


@dataclass
class _Undo:
    """What a training call created, removed in reverse order if a later step fails."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def add(self, what: str, action: Callable[[], None]) -> None:
        self.steps.append((what, action))

    def run(self) -> None:
        for what, action in reversed(self.steps):
            try:
                action()
            except Exception:  # keep undoing the rest; the original error is what the user sees
                log.exception("Could not remove %s after a failed training", what)


def train(
    session: Session, request: TrainRequest, place: Place, model: str, services: Services
) -> ModelRecord:
    """Train ``model`` atomically in effect: on failure the clone, artifact and UDF made so far are removed.

    Raises InvalidInput (bad model name, target/features), NotFound (table), AlreadyExists (model or clone
    name taken), EngineError.
    """
    from snowflake.snowpark.functions import col, lit

    started = services.clock()
    _check_model_name(model)
    catalog = _table(session, place.app(CATALOG_TABLE), "models catalog")
    if catalog.filter(col(quote("MODEL_NAME")) == lit(model)).count():
        raise AlreadyExists(
            f"A model named {model!r} is already in the catalog.", hint="Train again for a new name."
        )
    source = _table(session, place.data(request.table), "table")
    spec, columns = _train_spec(request, source)
    undo = _Undo()
    try:
        training_table = request.table
        if request.keep_clone:
            # The snapshot is taken first and the rows are read from it: the clone is exactly what the
            # model saw, even if the source table changes meanwhile.
            training_table = clone_table(request.table, model)
            if _exists(session, place.data(training_table)):
                raise AlreadyExists(
                    f"The clone table {training_table!r} already exists.",
                    hint="Drop or rename it, then train again.",
                )
            clone = training_table
            services.ops.clone_table(request.table, clone, f"Training data of snowml-desktop model {model}")
            undo.add(f"clone {clone}", lambda: services.ops.drop_table(clone))
            source = _table(session, place.data(clone), "clone table")
        frame, sampled = read_training_rows(source, spec, request.seed)
        outcome = _fit(frame, spec)
        del frame
        artifact, sha = _artifact(outcome, model, spec, columns)
        path = place.artifact_path(model)
        services.stage.put(path, artifact)
        undo.add(f"artifact {path}", lambda: services.stage.remove(path))
        record = model_record(
            request,
            outcome,
            name=model,
            created=datetime.now(timezone.utc),
            source_table=request.table,
            training_table=training_table,
            target_sql_type=columns[request.target],
            warehouse=(place.warehouse_size, place.warehouse_type),
            sampled_from=sampled,
            sample_rows=MAX_TRAINING_ROWS,
        )
        record = dataclasses.replace(
            record,
            artifact_path=path,
            artifact_sha256=sha,
            library_versions=_versions(),
            drift_profile=_drift_profile(session, place.data(training_table), outcome),
        )
        function = services.register_udf(session, record, path)
        udf_types = udf.argument_sql_types(record.features)
        undo.add(f"UDF {function}", lambda: services.ops.drop_function(udf.udf_name(model), udf_types))
        record = dataclasses.replace(record, train_seconds=services.clock() - started)
        _insert_row(
            session, place.app(CATALOG_TABLE), records.MODELS_CATALOG_COLUMNS, records.model_to_row(record)
        )
    except BaseException:
        undo.run()
        raise
    return record


def _sql_rows(session: Session) -> Callable[[str, list[Any]], list[tuple]]:
    """The procedure's own SQL over its session: ``core.drift``'s query function (qmark binds, as Snowpark
    takes them) and a scheduled run's transaction statements. Local testing cannot run ``session.sql``;
    tests put a stand-in for the warehouse behind it (tests/snowflake/sf_fake_procedure_sql.py)."""
    return lambda text, params: [tuple(row) for row in session.sql(text, params=params).collect()]


def _drift_profile(session: Session, table: str, outcome: Any) -> dict | None:
    """The training table's drift profile; None (drift checks unavailable, the model complete) on failure.

    Above ``drift.PROFILE_SAMPLE_ROWS`` rows its deciles come from ``SAMPLE ROW (n ROWS)``: fixed-size row
    sampling returns exactly n rows (at most 1,000,000) chosen row by row; a seed applies only to SYSTEM /
    BLOCK sampling, which picks whole blocks and so would skew the deciles of a clustered table, so this
    sample is not repeatable (https://docs.snowflake.com/en/sql-reference/constructs/sample)."""
    from snowml_desktop.core import drift

    try:
        return drift.build_profile(
            _sql_rows(session),
            table,
            outcome.features,
            outcome.classes,
            outcome.confusion_matrix,
            sample=lambda rows: f"(SELECT * FROM {table} SAMPLE ROW ({int(rows)} ROWS)) AS profile_sample",
        )
    except Exception:
        log.warning("Could not profile %s for drift checks", table, exc_info=True)
        return None


def _run_drift(session: Session, place: Place, record: ModelRecord, output: str, label: str) -> dict | None:
    """Drift of a run's output against the model's profile, with the overlap with the training table; None
    without a profile. A failed check does not fail the run, whose rows are fine: it is recorded as
    ``drift.failure_record`` (the traceback goes to the log)."""
    from snowml_desktop.core import drift

    if not record.drift_profile:
        return None
    training = (
        place.data(record.training_table) if _exists(session, place.data(record.training_table)) else None
    )
    try:
        report = drift.check(
            _sql_rows(session),
            record.drift_profile,
            output,
            model=record.name,
            table=label,
            prediction_column=udf.PREDICTION_COLUMN,
            training_sql=training,
            training_table=record.training_table if training else None,
        )
    except Exception as exc:
        log.warning("Could not check drift of %s", output, exc_info=True)
        return drift.failure_record(exc)
    return dataclasses.asdict(report)


def _check_model_name(model: str) -> None:
    # Model names come from the engine's sequence (``RANDOM_FOREST_3``); they also name a stage file and a
    # UDF, so anything else is refused rather than escaped in three different grammars.
    if not model or not all(ch.isalnum() or ch == "_" for ch in model) or not model.isascii():
        raise InvalidInput(f"The model name {model!r} is not a generated model name (letters, digits, _).")


def _exists(session: Session, name: str) -> bool:
    try:
        session.table(name).schema  # noqa: B018 - forces the lookup
    except Exception:
        return False
    return True


def _train_spec(request: TrainRequest, source: DataFrame) -> tuple[Any, dict[str, str]]:
    """The core TrainSpec, and the source's columns (canonical name -> Snowflake type)."""
    from snowml_desktop.core.methods import check_class_weight, coerce_params, get_method
    from snowml_desktop.core.training import TrainSpec

    method = get_method(request.method)
    params = coerce_params(method.key, dict(request.params))
    check_class_weight(method.key, request.class_weight)
    columns = {_unquote(f.name): f.datatype.simple_string().upper() for f in source.schema.fields}
    wanted = [request.target, *(request.features or [])]
    missing = [name for name in wanted if name not in columns]
    if missing:
        raise InvalidInput(
            f"The table has no column(s) {', '.join(repr(m) for m in missing)}.",
            hint=f"Columns are: {', '.join(columns)}.",
        )
    if request.features is not None and request.target in request.features:
        raise InvalidInput(f"The target column {request.target!r} is also listed as a feature.")
    spec = TrainSpec(
        target=request.target,
        features=None if request.features is None else list(request.features),
        method=method.key,
        params=params,
        test_size=request.test_size,
        seed=request.seed,
        cv_folds=request.cv_folds,
        class_weight=request.class_weight,
        dedupe=request.dedupe,
    )
    return spec, columns


def read_training_rows(source: DataFrame, spec: Any, seed: int) -> tuple[pd.DataFrame, int | None]:
    """The bounded training read: the wanted columns, sampled with ``seed`` above MAX_TRAINING_ROWS.

    Returns (frame with canonical column names, the full row count when sampled else None).
    """
    names = _column_names(source)
    wanted = list(names) if spec.features is None else [*spec.features, spec.target]
    selected = source.select(*[names[c] for c in wanted])
    total = selected.count()
    sampled = None
    if total > MAX_TRAINING_ROWS:
        selected = source.sample(frac=MAX_TRAINING_ROWS / total, seed=seed).select(
            *[names[c] for c in wanted]
        )
        sampled = total
    frame = selected.to_pandas()
    frame.columns = wanted
    return frame, sampled


def _fit(frame: pd.DataFrame, spec: Any) -> Any:
    from snowml_desktop.core.tasks import TaskContext
    from snowml_desktop.core.training import train_model

    return train_model(frame, spec, TaskContext())


def _artifact(outcome: Any, model: str, spec: Any, columns: dict[str, str]) -> tuple[bytes, str]:
    from snowml_desktop.core.artifacts import artifact_bytes

    metadata = {
        "model": model,
        "target": spec.target,
        "target_sql_type": columns[spec.target],
        "method": outcome.method,
        "params": outcome.params,
        "features": [dataclasses.asdict(f) for f in outcome.features],
        "classes": list(outcome.classes),
    }
    data = artifact_bytes(outcome.pipeline, metadata)
    return data, hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    from snowml_desktop.core.artifacts import library_versions

    return library_versions()


# --- compare -------------------------------------------------------------------------------------------------
def compare_procedure(session: Session, request_json: str) -> str:
    """SNOWML_COMPARE: methods on the same folds of a table, fitted in this procedure's process on every core
    of the warehouse node; returns the comparison (nothing is written)."""
    with tagged(session, "compare"):
        try:
            request, place, _ = parse_request(session, request_json, CompareRequest)
            return _ok(dataclasses.asdict(compare(session, request, place)))
        except Exception as exc:
            return _failure(exc)


def compare(session: Session, request: CompareRequest, place: Place) -> Any:
    """The comparison of ``request`` on ``place``'s table. Raises NotFound, InvalidInput."""
    import os

    from snowml_desktop.core.compare import compare_methods

    source = _table(session, place.data(request.table), "table")
    # The columns are checked as training checks them (one method stands in for the list).
    _train_spec(request.train_request((request.methods or ["random_forest"])[0]), source)
    spec = request.compare_spec(threads=os.cpu_count() or 1)
    spec.checked_methods()
    frame, _ = read_training_rows(source, spec, request.seed)
    return compare_methods(frame, spec)


# --- score ---------------------------------------------------------------------------------------------------
def score_procedure(session: Session, request_json: str) -> str:
    """SNOWML_SCORE: score a table into the output table with the model's UDF; insert and return the run."""
    with tagged(session, "score"):
        try:
            _, place, extras = parse_request(session, request_json, ScoreRequest)
            services = default_services(session, place, extras)
        except Exception as exc:
            return _failure(exc)
        return _raise_in_task(run_score(session, request_json, services), extras)


def _raise_in_task(result: str, extras: dict[str, Any]) -> str:
    """A scheduled run (``source_stream`` set) raises its error, so that the task's run shows FAILED with the
    message in TASK_HISTORY (and SUSPEND_TASK_AFTER_NUM_FAILURES can pause it); the FAILED run row is already
    recorded. A call from the app gets the error inside the result, as always."""
    if extras.get("source_stream"):
        decode_result(result)  # raises the run's EngineError
    return result


def run_score(session: Session, request_json: str, services: Services) -> str:
    """``score_procedure`` with its services given. A failed run is recorded (FAILED, no output table) and
    returned inside the error result."""
    started = services.clock()
    try:
        request, place, extras = parse_request(session, request_json, ScoreRequest)
        run = InferenceRun(
            run_id=int(extras.get("run_id") or services.ops.next_run_id()),
            created=services.now(),
            model=request.model,
            source_table=request.table,
            output_table=request.output or default_output_table(request.table, request.model),
            rows=0,
            total_seconds=0.0,
            scoring_seconds=0.0,
            warehouse_size=place.warehouse_size,
            warehouse_type=place.warehouse_type,
            workers=None,
            credits=0.0,
        )
    except Exception as exc:
        return _failure(exc)
    try:
        run = score(
            session, request, place, run, services, started, source_stream=extras.get("source_stream")
        )
    except Exception as exc:
        return _failure(exc, _record_failure(session, place, run, exc, services, started))
    return _ok(records.run_to_row(run))


def score(
    session: Session,
    request: ScoreRequest,
    place: Place,
    run: InferenceRun,
    services: Services,
    started: float,
    *,
    source_stream: str | None = None,
) -> InferenceRun:
    """Create the output table (input columns + PREDICTION + PREDICTION_PROBABILITY) in one CREATE TABLE AS
    SELECT, compute metrics by GROUP BY when the target column is present, and insert the run row.

    Raises NotFound (model, table), InvalidInput (missing features), IntegrityError (tampered artifact),
    AlreadyExists (output exists and not ``overwrite``). A failure leaves no output table: the CREATE TABLE
    AS SELECT is atomic, and a later failure drops what it wrote (with ``overwrite`` the replaced table is
    then gone too; a failure in the UDF itself leaves it untouched).

    With ``source_stream`` (a scheduled run; see ``engines.snowflake.schedules``) the rows inserted into the
    table since the stream's offset are scored and appended to the output (created when missing) in one
    transaction that consumes the stream, so a failed run consumes nothing (``_score_stream``). ``rows``,
    metrics and drift are those of the rows appended.
    """
    record = get_model(session, place, request.model)
    if source_stream:
        return _score_stream(session, request, place, run, services, started, record, source_stream)
    source = _table(session, place.data(request.table), "table")
    names = _column_names(source)
    missing = [f.name for f in record.features if f.name not in names]
    if missing:
        raise InvalidInput(
            f"The table {request.table!r} lacks the model's feature column(s): {', '.join(missing)}.",
            hint="Score a table that has every column the model was trained on.",
        )
    check_artifact(services.stage, record)
    output = place.data(str(run.output_table))
    if run.output_table == request.table:
        raise InvalidInput(
            "The output table cannot be the table being scored.", hint="Choose another output name."
        )
    existed = _exists(session, output)
    if existed and not request.overwrite:
        raise AlreadyExists(
            f"The output table {run.output_table!r} already exists.",
            hint="Choose another name or overwrite it.",
        )
    scoring_started = services.clock()
    with _query_ids(session) as query_ids:
        scored_frame(source, names, record, place).write.save_as_table(
            output, mode="overwrite" if request.overwrite else "errorifexists"
        )
    scoring_seconds = services.clock() - scoring_started
    try:
        result = session.table(output)
        evaluation = run_metrics(result, record) if record.target in names else {}
        total = services.clock() - started
        run = dataclasses.replace(
            run,
            rows=result.count(),
            total_seconds=total,
            scoring_seconds=scoring_seconds,
            credits=sizes.round_credits(
                sizes.estimate_credits(total, place.warehouse_size, place.warehouse_type)
            ),
            query_ids=[q for q in query_ids if q],
            threshold=record.threshold,
            drift=_run_drift(session, place, record, output, request.table),
            **evaluation,
        )
        _insert_row(session, place.app(RUNS_TABLE), records.INFERENCE_RUNS_COLUMNS, records.run_to_row(run))
    except BaseException:
        services.ops.drop_table(str(run.output_table))
        raise
    return run


# A stream adds METADATA$ACTION / $ISUPDATE / $ROW_ID columns: https://docs.snowflake.com/en/user-guide/streams-intro
STREAM_ACTION = "METADATA$ACTION"
#: A scheduled run's temporary table of the rows it scored (engine-reserved prefix, one per run).
STAGING_PREFIX = INTERNAL_PREFIX + "STAGING_RUN_"


def _score_stream(
    session: Session,
    request: ScoreRequest,
    place: Place,
    run: InferenceRun,
    services: Services,
    started: float,
    record: ModelRecord,
    stream: str,
) -> InferenceRun:
    """A scheduled run: score the rows added to the table since the stream's offset, append them to the
    output exactly once, and record the run with metrics and drift of those rows.

    What it relies on in Snowflake:
    - a stream's offset advances only when a DML statement reading the stream commits; a query alone does
      not, even inside an explicit transaction (https://docs.snowflake.com/en/user-guide/streams-intro
      #table-versioning); the statements of one transaction see the same change rows of a stream
      (its section on repeatable read isolation);
    - DDL, CTAS included, commits an open transaction, so the transaction holds only DML and queries
      (https://docs.snowflake.com/en/sql-reference/transactions, section DDL);
    - a stored procedure may hold a whole transaction; called inside a caller's open transaction, its own is
      a separate scoped transaction, committed or rolled back on its own
      (same page: stored procedures and transactions, scoped transactions). The task's CALL opens none;
      SNOWML_SCORE runs with the caller's rights, in the caller's (the task run's) session
      (https://docs.snowflake.com/en/developer-guide/stored-procedure/stored-procedures-rights);
    - a temporary table lives until its session ends (a Python procedure has no procedure-scoped ones), so
      the staging table is dropped here (https://docs.snowflake.com/en/user-guide/tables-temp-transient).

    Steps: DDL first, outside the transaction: the temporary staging table and, when missing, the output
    (both empty, shaped from the table, never from the stream). Then one transaction: the scored stream rows
    into the staging table, the staging rows into the output, COMMIT, which advances the stream's offset. A
    failure rolls both inserts back and leaves the offset where it was, so the next task run scores the same
    rows: none lost, none twice. Metrics and drift come from the staging table: this run's rows only.
    """
    from snowflake.snowpark.functions import col, lit

    changes = _table(session, stream, "stream")
    names = {k: v for k, v in _column_names(changes).items() if not k.startswith("METADATA$")}
    # the table's own columns of the inserted rows (an append-only stream has no others)
    inserted = changes.filter(col(quote(STREAM_ACTION)) == lit("INSERT")).select(
        *[col(v) for v in names.values()]
    )
    missing = [f.name for f in record.features if f.name not in names]
    if missing:
        raise InvalidInput(
            f"The table {request.table!r} no longer has the model {record.name}'s feature column(s): "
            f"{', '.join(missing)}; the schedule's run scored nothing.",
            hint="Restore the columns, or drop the schedule and create one for a model that fits the table.",
        )
    check_artifact(services.stage, record)
    if not inserted.count():  # a query: the offset stays (nothing to consume, no table created)
        return _record_stream_run(session, place, run, services, started, record, {"rows": 0}, [])
    staging, output = STAGING_PREFIX + str(run.run_id), str(run.output_table)
    scoring_started = services.clock()
    try:
        with _query_ids(session) as query_ids:
            _append_new_rows(session, services, request, place, record, inserted, names, staging, output)
        scoring_seconds = services.clock() - scoring_started
        try:
            result = _stream_result(session, place, record, staging, names, request.table)
            result["scoring_seconds"] = scoring_seconds
            return _record_stream_run(session, place, run, services, started, record, result, query_ids)
        except Exception as exc:  # the rows are in the output and the stream consumed: say so
            raise EngineError(
                f"The new rows of {request.table!r} were scored and appended to {output!r}, but the run "
                f"could not be recorded: {type(exc).__name__}: {exc}",
                hint="The rows will not be scored again; the runs list lacks this run's figures.",
            ) from exc
    finally:
        try:
            services.ops.drop_table(staging)
        except Exception:  # it goes with the session anyway; the run's own outcome is what to report
            log.warning("Could not drop the staging table %s", staging, exc_info=True)


def _append_new_rows(
    session: Session,
    services: Services,
    request: ScoreRequest,
    place: Place,
    record: ModelRecord,
    inserted: DataFrame,
    names: dict[str, str],
    staging: str,
    output: str,
) -> None:
    """Create the run's tables, then consume and append in one transaction; an output this run created is
    dropped again (empty after the rollback) when that fails."""
    created = _create_stream_targets(session, request, place, record, staging, output)
    try:
        _consume_stream(session, inserted, names, record, place, staging, output)
    except BaseException:
        if created:
            services.ops.drop_table(output)
        raise


def _create_stream_targets(
    session: Session, request: ScoreRequest, place: Place, record: ModelRecord, staging: str, output: str
) -> bool:
    """The DDL of a scheduled run, before its transaction: the empty temporary staging table with the scored
    columns, and the empty output when missing. Shaped from the table (a stream has the table's current
    columns): a CTAS reading the stream would be a statement that reads it. Returns whether the output was
    created."""
    table = _table(session, place.data(request.table), "table")
    empty = scored_frame(table, _column_names(table), record, place).limit(0)
    empty.write.save_as_table(place.data(staging), mode="errorifexists", table_type="temporary")
    if _exists(session, place.data(output)):
        return False
    session.table(place.data(staging)).write.save_as_table(place.data(output), mode="errorifexists")
    return True


def _consume_stream(
    session: Session,
    inserted: DataFrame,
    names: dict[str, str],
    record: ModelRecord,
    place: Place,
    staging: str,
    output: str,
) -> None:
    """One transaction: the scored stream rows into the staging table, then the staging rows into the
    output. Appending to an existing table is an ``INSERT ... SELECT`` in Snowpark (SaveMode.APPEND in
    snowflake/snowpark/_internal/analyzer/snowflake_plan.py), so the transaction holds only DML."""
    run_sql = _sql_rows(session)
    run_sql("BEGIN TRANSACTION", [])
    try:
        scored_frame(inserted, names, record, place).write.save_as_table(
            place.data(staging), mode="append", column_order="name"
        )
        session.table(place.data(staging)).write.save_as_table(
            place.data(output), mode="append", column_order="name"
        )
        run_sql("COMMIT", [])
    except BaseException:
        with contextlib.suppress(Exception):  # the error that stopped the run is the one to report
            run_sql("ROLLBACK", [])
        raise


def _stream_result(
    session: Session, place: Place, record: ModelRecord, staging: str, names: dict[str, str], label: str
) -> dict[str, Any]:
    """Rows, metrics (when the target column is there) and drift of the rows this run appended. The rows are
    committed by now, so a failed evaluation is logged and left out rather than failing the run."""
    scored = session.table(place.data(staging))
    result: dict[str, Any] = {"rows": scored.count()}
    try:
        result.update(run_metrics(scored, record) if record.target in names else {})
    except Exception:
        log.warning("Could not compute the metrics of %s", staging, exc_info=True)
    result["drift"] = _run_drift(session, place, record, place.data(staging), label)
    return result


def _record_stream_run(
    session: Session,
    place: Place,
    run: InferenceRun,
    services: Services,
    started: float,
    record: ModelRecord,
    result: dict[str, Any],
    query_ids: list[str],
) -> InferenceRun:
    total = services.clock() - started
    run = dataclasses.replace(
        run,
        total_seconds=total,
        credits=sizes.round_credits(
            sizes.estimate_credits(total, place.warehouse_size, place.warehouse_type)
        ),
        query_ids=[q for q in query_ids if q],
        threshold=record.threshold,
        **result,
    )
    _insert_row(session, place.app(RUNS_TABLE), records.INFERENCE_RUNS_COLUMNS, records.run_to_row(run))
    return run


def get_model(session: Session, place: Place, name: str) -> ModelRecord:
    """One catalog row. Raises NotFound."""
    from snowflake.snowpark.functions import col, lit

    catalog = _table(session, place.app(CATALOG_TABLE), "models catalog")
    rows = catalog.filter(col(quote("MODEL_NAME")) == lit(name)).collect()
    if not rows:
        raise NotFound(
            f"No model named {name!r} in the catalog.", hint="Pick a model from the Model Catalog."
        )
    record = records.model_from_row(rows[0].as_dict())
    record.created = _utc(record.created)
    return record


def check_artifact(stage: StageIO, record: ModelRecord) -> None:
    """Refuse to score with an artifact whose bytes no longer match the catalog's sha256 (checked here, up
    front, with a clear message; the UDF checks again before it unpickles)."""
    actual = hashlib.sha256(stage.get(record.artifact_path)).hexdigest()
    if actual != record.artifact_sha256:
        raise IntegrityError(
            f"The artifact of model {record.name!r} was changed after training (sha256 {actual[:12]}…, catalog "
            f"{record.artifact_sha256[:12]}…); it will not be loaded.",
            hint="Retrain the model, or restore the original artifact.",
        )


def scored_frame(source: DataFrame, names: dict[str, str], record: ModelRecord, place: Place) -> DataFrame:
    """``SELECT <input columns>, <typed PREDICTION>, <PREDICTION_PROBABILITY> FROM (SELECT *, udf(...) ...)``:
    one UDF call per row; stale PREDICTION columns of an already scored input are replaced."""
    from snowflake.snowpark.functions import col

    function = place.app(udf.udf_name(record.name))
    result = quote(_RESULT_COLUMN)
    with_result = source.select(col("*"), udf.udf_call(record, function).alias(result))
    kept = [
        spelled
        for name, spelled in names.items()
        if name not in (udf.PREDICTION_COLUMN, udf.PROBABILITY_COLUMN)
    ]
    return with_result.select(*[col(c) for c in kept], *udf.scoring_columns(record, col(result)))


def run_metrics(result: DataFrame, record: ModelRecord) -> dict[str, Any]:
    """Metrics, confusion matrix and classes from ``GROUP BY target, PREDICTION`` on the output table.
    Labels the model never saw still count (as misses). Empty when no row has a label."""
    from snowflake.snowpark.functions import col

    from snowml_desktop.core.evaluation import metrics_from_confusion

    target, prediction = col(quote(record.target)), col(quote(udf.PREDICTION_COLUMN))
    rows = [
        tuple(r) for r in result.filter(target.is_not_null()).group_by(target, prediction).count().collect()
    ]
    if not rows:
        return {}
    classes = list(record.classes)
    index = {_label_key(c): i for i, c in enumerate(classes)}
    for truth, predicted, _ in sorted(rows, key=lambda r: str(r[0])):
        for label in (truth, predicted):
            if _label_key(label) not in index:
                index[_label_key(label)] = len(classes)
                classes.append(records.json_safe(label))
    matrix = [[0] * len(classes) for _ in classes]
    for truth, predicted, count in rows:
        matrix[index[_label_key(truth)]][index[_label_key(predicted)]] += int(count)
    metrics, per_class = metrics_from_confusion(classes, matrix)
    return {"metrics": {**metrics, "per_class": per_class}, "confusion_matrix": matrix, "classes": classes}


def _label_key(value: Any) -> str:
    """Labels from the catalog (JSON) and from SQL compared by value: a float class 1.0 matches NUMBER 1."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f"n:{float(value)!r}"
    return f"s:{value}"


@contextlib.contextmanager
def _query_ids(session: Session) -> Iterator[list[str]]:
    """Collect the query ids of statements run inside the block (for cost attribution in the run row)."""
    ids: list[str] = []
    with session.query_history() as history:
        yield ids
    ids.extend(str(q.query_id) for q in history.queries)


def _record_failure(
    session: Session, place: Place, run: InferenceRun, exc: BaseException, services: Services, started: float
) -> dict[str, Any] | None:
    """Insert a FAILED run row (no output table); return it, or None if even that failed."""
    message = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
    failed = dataclasses.replace(
        run, output_table=None, status=RUN_FAILED, error=message, total_seconds=services.clock() - started
    )
    row = records.run_to_row(failed)
    try:
        _insert_row(session, place.app(RUNS_TABLE), records.INFERENCE_RUNS_COLUMNS, row)
    except Exception:
        log.exception("Could not record the failed run %s", run.run_id)
        return None
    return row


# --- load ----------------------------------------------------------------------------------------------------
MAX_REJECTIONS = 10


def load_procedure(session: Session, request_json: str) -> str:
    """SNOWML_LOAD: INFER_SCHEMA + COPY INTO (ON_ERROR = CONTINUE) one stage file; return the LoadResult."""
    with tagged(session, "load"):
        return run_load(session, request_json, SessionSqlRunner(session))


def run_load(
    session: Session, request_json: str, runner: SqlRunner, clock: Callable[[], float] = time.perf_counter
) -> str:
    """``load_procedure`` with its SqlRunner given (tests inject one)."""
    try:
        request, place, _ = parse_request(session, request_json, LoadRequest)
        result = load(session, request, place, runner, clock)
    except Exception as exc:
        return _failure(exc)
    return _ok(dataclasses.asdict(result))


def load(
    session: Session, request: LoadRequest, place: Place, runner: SqlRunner, clock: Callable[[], float]
) -> LoadResult:
    """Load ``request.file`` from stage ``request.stage`` into data table ``request.table``.

    create/replace: the table is built under a staging name, then RENAMEd (create) or SWAPped in (replace),
    so the target is never seen half-loaded and a failure drops only the staging table. append: COPY by
    column name into the existing table. Rejected rows are counted and the first reasons returned.
    Raises InvalidInput (unknown modes, no row loadable), AlreadyExists (create), NotFound (append target,
    columns_from table).
    """
    started = clock()
    if (
        request.mode not in LOAD_MODES
        or request.header not in HEADER_MODES
        or request.file_format not in FILE_FORMATS
    ):
        raise InvalidInput(
            f"Unknown load mode {request.mode!r}, header mode {request.header!r} or format {request.file_format!r}.",
            hint=f"Modes: {', '.join(LOAD_MODES)}; header: {', '.join(HEADER_MODES)}; formats: {', '.join(FILE_FORMATS)}.",
        )
    parquet = request.file_format == "parquet" or (
        request.file_format == "auto" and request.file.lower().endswith(".parquet")
    )
    fmt = "SNOWML_PARQUET" if parquet else ("SNOWML_CSV" if request.header == "no" else "SNOWML_CSV_HEADER")
    by_name = fmt != "SNOWML_CSV"  # header-less CSV columns match by position
    exists = _exists(session, place.data(request.table))
    if exists and request.mode == "create":
        raise AlreadyExists(f"The table {request.table!r} already exists.", hint="Choose replace or append.")
    if request.mode == "append":
        if not exists:
            raise NotFound(f"The table {request.table!r} does not exist; nothing to append to.")
        copied = _copy(runner, place, request.table, request, fmt, by_name)
    else:
        template = None
        if request.header == "no" and request.columns_from and not parquet:
            template = request.columns_from
            _table(session, place.data(template), "table")  # NotFound when missing
        copied = _load_new(runner, place, request, fmt, by_name, replace=exists, template=template)
    loaded, rejected, rejections = copied
    columns = _columns(_table(session, place.data(request.table), "table"))
    return LoadResult(request.table, loaded, rejected, rejections, columns, clock() - started)


def _load_new(
    runner: SqlRunner,
    place: Place,
    request: LoadRequest,
    fmt: str,
    by_name: bool,
    *,
    replace: bool,
    template: str | None,
) -> tuple[int, int, list[Rejection]]:
    loc, table = place.loc, request.table
    staging = f"{table}{sql.LOADING_SUFFIX}"
    if template is not None:
        runner.run(sql.create_table_like(loc, staging, template))
    else:
        inferred, _ = runner.run(sql.infer_schema(loc, request.stage, request.file, fmt))
        columns = [{str(k).upper(): v for k, v in row.items()} for row in inferred]
        runner.run(sql.create_table_columns(loc, staging, [(c["COLUMN_NAME"], c["TYPE"]) for c in columns]))
    try:
        copied = _copy(runner, place, staging, request, fmt, by_name)
        if replace:
            runner.run(sql.swap_tables(loc, staging, table))
            runner.run(sql.drop_table(loc, staging))  # now holds the old rows
        else:
            runner.run(sql.rename_table(loc, staging, table))
    except BaseException:
        with contextlib.suppress(Exception):
            runner.run(sql.drop_table_if_exists(loc, staging))
        raise
    return copied


def _copy(
    runner: SqlRunner, place: Place, table: str, request: LoadRequest, fmt: str, by_name: bool
) -> tuple[int, int, list[Rejection]]:
    """COPY one file: (rows loaded, rows rejected, first rejections), read while ``table`` still has the name
    the COPY job used (VALIDATE finds the job by table). Raises InvalidInput when Snowflake skipped the file
    as loaded before (its load metadata) or could load no row of it."""
    statement = sql.copy_into(
        place.loc, table, request.stage, request.file, fmt, by_name=by_name, force=request.force
    )
    rows, query_id = runner.run(statement)
    lower = [{str(k).lower(): v for k, v in r.items()} for r in rows]
    # Nothing to load gives one row without a file, status "Copy executed with 0 files processed."
    if not any("file" in r for r in lower):
        raise InvalidInput(
            f"{request.file} was not loaded: Snowflake records the files loaded into {request.table!r} (for "
            "64 days, kept when a load replaces the table) and skipped it as loaded before. No row was added.",
            hint="To add its rows a second time, load it again with force (snowml load --force); or "
            "upload the new data under another file name.",
        )
    loaded = sum(int(r.get("rows_loaded") or 0) for r in lower)
    rejected = sum(int(r.get("errors_seen") or 0) for r in lower)
    if not loaded and all(str(r.get("status", "")).upper() == "LOAD_FAILED" for r in lower):
        raise InvalidInput(f"No row of {request.file} could be loaded: {lower[0].get('first_error')}")
    rejections: list[Rejection] = []
    if rejected and query_id:
        try:
            found, _ = runner.run(sql.validate_load(place.loc, table, query_id))
        except Exception:  # the rows are loaded; COPY's first error still says why others were not
            log.warning("VALIDATE of load %s failed; only the first error is shown", query_id, exc_info=True)
            found = []
        for row in found[:MAX_REJECTIONS]:
            upper = {str(k).upper(): v for k, v in row.items()}
            rejections.append(Rejection(_line(upper.get("LINE")), str(upper.get("ERROR"))))
    if rejected and not rejections:
        rejections = [
            Rejection(_line(r.get("first_error_line")), str(r.get("first_error")))
            for r in lower
            if r.get("first_error")
        ]
    return loaded, rejected, rejections[:MAX_REJECTIONS]


def load_result_from_row(row: dict[str, Any]) -> LoadResult:
    """The LoadResult a SNOWML_LOAD result row (``decode_result``) describes."""
    return LoadResult(
        table=row["table"],
        rows_loaded=int(row["rows_loaded"]),
        rows_rejected=int(row["rows_rejected"]),
        rejections=[Rejection(**r) for r in row["rejections"]],
        columns=[ColumnInfo(**c) for c in row["columns"]],
        seconds=float(row["seconds"]),
    )


def _line(value: Any) -> int | None:
    return None if value is None else int(value)


def _columns(table: DataFrame) -> list[ColumnInfo]:
    """Column names and types of a loaded table (Snowpark's view of the schema)."""
    from snowflake.snowpark import types as t

    found = []
    for column in table.schema.fields:
        data_type = column.datatype
        if isinstance(data_type, (t._NumericType,)):
            kind = "numeric"
        elif isinstance(data_type, t.StringType):
            kind = "text"
        elif isinstance(data_type, t.BooleanType):
            kind = "boolean"
        elif isinstance(data_type, (t.DateType, t.TimestampType, t.TimeType)):
            kind = "temporal"
        else:
            kind = "other"
        found.append(ColumnInfo(_unquote(column.name), data_type.simple_string().upper(), kind))
    return found
