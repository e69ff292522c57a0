"""The local engine's model side: training, the models catalog, scoring, inference runs and the warehouse.

``LocalEngine`` delegates its model methods to :class:`LocalModels`; the contracts are those of
``engines.base.Engine``.

Process layout: this (the owning) process is the only one that opens the DuckDB file. Training reads the
rows here and fits in a spawned worker process. Scoring opens one transaction, hands the feature columns
range by range to a warm pool of spawned workers and writes the output while they predict
(``scoring_pass``), then computes the run's metrics and drift and inserts the run row in the same
transaction: the output and its SUCCEEDED run appear together or not at all.

Leftovers of a crash (temporary files, artifacts without a catalog row, staging tables named with
:data:`STAGING_PREFIX`, the scratch folder) are removed when a workspace is opened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowml_desktop.core import sizes
from snowml_desktop.core.errors import (
    AlreadyExists,
    Cancelled,
    EngineError,
    IntegrityError,
    InvalidInput,
    NotFound,
)
from snowml_desktop.core.identifiers import (
    INTERNAL_PREFIX,
    normalize,
    qualified,
    quote,
    user_columns,
    user_table,
)
from snowml_desktop.core.records import (
    RUN_CANCELLED,
    RUN_FAILED,
    InferenceRun,
    ModelRecord,
)
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import (
    CompareRequest,
    ScoreRequest,
    TrainRequest,
    WarehouseState,
    clone_table,
    default_output_table,
    model_record,
)
from snowml_desktop.engines.local import catalog, incremental, sqlrun, workers
from snowml_desktop.engines.local.scoring_pass import PREDICTION, PROBABILITY, PassRequest, run_pass
from snowml_desktop.engines.local.sqltypes import kind_of
from snowml_desktop.engines.local.warehouse import LocalWarehouse

if TYPE_CHECKING:
    import duckdb

    from snowml_desktop.core.compare import Comparison
    from snowml_desktop.engines.local.workspace import Workspace

log = logging.getLogger(__name__)

STAGING_PREFIX = f"{INTERNAL_PREFIX}STAGING_"  # user tables may not be named so (identifiers.user_table)
_STAGING_NAME = re.compile(rf"{re.escape(STAGING_PREFIX)}[0-9A-F]{{32}}")  # the only tables the sweep drops
MODELS_STAGE = "MODELS"
ARTIFACT_SUFFIX = ".joblib"
MAX_TRAINING_ROWS = 1_000_000  # larger tables are sampled (reproducibly, with the seed) before fitting
BATCH_ROWS = 65_536  # rows per scoring batch: amortizes per-call overhead, balances workers, bounds memory
SCRATCH_FOLDER = ".scratch"  # under the workspace root: rows of running fits, part files of running scores


class _DriftCheckAborted(Exception):
    """A scoring run's drift check failed and took its transaction down with it (DuckDB aborts a
    transaction on any failed statement); ``failure`` is what the run records."""

    def __init__(self, failure: dict[str, str]) -> None:
        super().__init__(failure["error"])
        self.failure = failure


class LocalModels:
    """Train, catalog and score models in a local workspace. One object may serve several threads."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        with self._cursor() as cur:
            catalog.ensure_schema(cur)
        self._warehouse = LocalWarehouse(workspace)  # restores a type a killed training left switched
        self._pool: workers.ScoringPool | None = None
        self._pool_lock = threading.Lock()
        self._scoring_lock = threading.Lock()  # one warm pool: scoring runs take turns
        self._training: set[Any] = set()  # running training processes, terminated by close()
        self._sweep_leftovers()

    # --- plumbing ----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _cursor(self) -> Any:
        cur = self._workspace.cursor()
        try:
            yield cur
        except Exception as exc:
            resource = sqlrun.resource_error(exc)
            if resource is not None:
                raise resource from exc
            raise
        finally:
            cur.close()

    @property
    def _models_dir(self) -> Path:
        return self._workspace.stage_dir(MODELS_STAGE)

    def _artifact_file(self, artifact_path: str) -> Path:
        """The file of a catalog artifact path ``@MODELS/<NAME>.joblib``."""
        stage, _, name = artifact_path.lstrip("@").partition("/")
        return self._workspace.stage_dir(stage) / name

    def _sweep_leftovers(self) -> None:
        """Remove what a crashed process may have left: staging tables, orphan artifacts, temp files."""
        with self._cursor() as cur:
            for table in _data_tables(cur):
                if is_staging_table(table):
                    log.info("Dropping leftover staging table %s", table)
                    cur.execute(f"DROP TABLE IF EXISTS {qualified(_data_schema(), table)}")
            known = {self._artifact_file(path).name for path in catalog.artifact_paths(cur)}
        for path in self._models_dir.iterdir():
            temporary = path.name.startswith(".") or path.name.endswith((".tmp", ".part"))
            orphan = path.name.endswith(ARTIFACT_SUFFIX) and path.name not in known
            if path.is_file() and (temporary or orphan):
                log.info("Removing leftover model file %s", path)
                path.unlink(missing_ok=True)
        shutil.rmtree(self._workspace.root / SCRATCH_FOLDER, ignore_errors=True)

    # --- training ----------------------------------------------------------------------------------------
    def train(self, request: TrainRequest, *, task: TaskContext | None = None) -> ModelRecord:
        """See ``Engine.train``. Raises NotFound (table), InvalidInput (target, features, method,
        parameters, "dedicated" optimized mode), Cancelled, EngineError."""
        from snowml_desktop.core.methods import check_class_weight, coerce_params, get_method
        from snowml_desktop.core.training import TrainSpec

        task = task or TaskContext()
        started = time.perf_counter()
        method = get_method(request.method)
        params = coerce_params(method.key, dict(request.params))
        check_class_weight(method.key, request.class_weight)
        if request.optimized and request.optimized_mode != "convert":
            raise InvalidInput(
                "The local engine has one warehouse, so it cannot train on a dedicated Snowpark-optimized one.",
                hint='Use optimized mode "convert", or train without --optimized.',
            )
        table, columns, target, features = self._training_columns(
            request.table, request.target, request.features
        )
        with self._cursor() as cur:
            name = catalog.next_model_name(cur, method.prefix)
        spec = TrainSpec(
            target=target,
            features=features,
            method=method.key,
            params=params,
            test_size=request.test_size,
            seed=request.seed,
            cv_folds=request.cv_folds,
            class_weight=request.class_weight,
            dedupe=request.dedupe,
            cv_threads=os.cpu_count() or 1,  # folds on every core, as compare fits methods x folds
            cv_processes=workers.fit_processes,
        )
        switch = (
            self._warehouse.type_switched(sizes.SNOWPARK_OPTIMIZED)
            if request.optimized
            else contextlib.nullcontext(None)
        )
        with switch:
            warehouse = self._warehouse.state()
            return self._train(request, spec, table, name, columns, warehouse, started, task)

    def _training_columns(
        self, table_text: str, target_text: str, feature_texts: list[str] | None
    ) -> tuple[str, dict[str, str], str, list[str] | None]:
        """(table, its columns and types, target, features) resolved against the table; raises NotFound,
        InvalidInput (unknown column, the target among the features)."""
        table = normalize(table_text, what="table name")
        with self._cursor() as cur:
            columns = _table_columns(cur, table)
        target = _column(columns, target_text, table, "target column")
        features = (
            None
            if feature_texts is None
            else [_column(columns, f, table, "feature column") for f in feature_texts]
        )
        if features is not None and target in features:
            raise InvalidInput(
                f"The target column {target!r} is also listed as a feature.",
                hint="Remove it from the features.",
            )
        return table, columns, target, features

    def compare(self, request: CompareRequest, *, task: TaskContext | None = None) -> Comparison:
        """See ``Engine.compare``: the rows are read as for training and compared in one worker process that
        fits methods x folds on every core."""
        task = task or TaskContext()
        table, columns, target, features = self._training_columns(
            request.table, request.target, request.features
        )
        resolved = dataclasses.replace(request, table=table, target=target, features=features)
        spec = resolved.compare_spec(threads=os.cpu_count() or 1, processes=workers.fit_processes)
        spec.checked_methods()  # refuse a bad method list before reading any rows
        rows_file = self._workspace.root / SCRATCH_FOLDER / f"compare-{uuid.uuid4().hex[:8]}.arrow"
        try:
            task.report(0.0, "Reading the rows")
            self._write_training_rows(table, None, None, spec, columns, rows_file, task)
            payload = workers.ComparePayload(rows_file=str(rows_file), spec=spec)
            return workers.run_comparison(payload, task.sub(0.05, 1.0), self._training)
        finally:
            rows_file.unlink(missing_ok=True)

    def _train(
        self,
        request: TrainRequest,
        spec: Any,
        table: str,
        name: str,
        columns: dict[str, str],
        warehouse: WarehouseState,
        started: float,
        task: TaskContext,
    ) -> ModelRecord:
        from snowml_desktop.core.artifacts import write_artifact

        clone = clone_table(table, name) if request.keep_clone else None
        staging = new_staging_name() if clone else None
        artifact = self._models_dir / f"{name}{ARTIFACT_SUFFIX}"
        rows_file = self._workspace.root / SCRATCH_FOLDER / f"train-{name}-{uuid.uuid4().hex[:8]}.arrow"
        try:
            task.report(0.0, "Reading the training rows")
            sampled = self._write_training_rows(table, staging, clone, spec, columns, rows_file, task)
            payload = workers.TrainPayload(
                rows_file=str(rows_file),
                spec=spec,
                metadata={"model": name, "target": spec.target, "target_sql_type": columns[spec.target]},
            )
            result = workers.run_training(payload, task.sub(0.05, 0.95), self._training)
            task.report(0.96, "Saving the model")
            sha = write_artifact(artifact, result.artifact)
            record = model_record(
                dataclasses.replace(request, target=spec.target),
                result.outcome,
                name=name,
                created=catalog.utc_now(),
                source_table=table,
                training_table=clone or table,
                target_sql_type=columns[spec.target],
                warehouse=(warehouse.size, warehouse.type),
                sampled_from=sampled,
                sample_rows=MAX_TRAINING_ROWS,
            )
            record = dataclasses.replace(
                record,
                artifact_path=f"@{MODELS_STAGE}/{artifact.name}",
                artifact_sha256=sha,
                library_versions=result.library_versions,
                drift_profile=self._drift_profile(staging or table, result.outcome, task, seed=spec.seed),
                train_seconds=time.perf_counter() - started,
            )
            task.check()
            self._commit_model(record, staging, clone)
        except BaseException:
            artifact.unlink(missing_ok=True)
            if staging:
                self._drop_quietly(staging)
            raise
        finally:
            rows_file.unlink(missing_ok=True)
        task.report(1.0, f"Model {name} saved")
        return record

    def _write_training_rows(
        self,
        table: str,
        staging: str | None,
        clone: str | None,
        spec: Any,
        columns: dict[str, str],
        rows_file: Path,
        task: TaskContext,
    ) -> int | None:
        """Write the rows to fit on (sampled above MAX_TRAINING_ROWS) to ``rows_file``; return the full row
        count when sampled. With a clone requested, the snapshot is taken first and the rows are read from
        it, so the clone is exactly the data the model saw."""
        wanted = list(columns) if spec.features is None else [*spec.features, spec.target]
        select = ", ".join(quote(c) for c in wanted)
        with self._cursor() as cur:
            unregister = task.token.on_cancel(cur.interrupt)
            try:
                source = qualified(_data_schema(), table)
                if staging:
                    if clone in _data_tables(cur):
                        raise AlreadyExists(
                            f"The clone table {clone!r} already exists.",
                            hint="Drop or rename it, then train again.",
                        )
                    cur.execute(
                        f"CREATE TABLE {qualified(_data_schema(), staging)} AS SELECT * FROM {source}"
                    )
                    source = qualified(_data_schema(), staging)
                total = _count(cur, source)
                sampled = total > MAX_TRAINING_ROWS
                sample = (
                    f" USING SAMPLE reservoir({MAX_TRAINING_ROWS} ROWS) REPEATABLE ({int(spec.seed)})"
                    if sampled
                    else ""
                )
                rows_file.parent.mkdir(parents=True, exist_ok=True)
                workers.write_rows(
                    cur.sql(f"SELECT {select} FROM {source}{sample}").to_arrow_reader(), rows_file
                )
                return total if sampled else None
            except Exception as exc:
                task.check()
                if isinstance(exc, EngineError):
                    raise
                raise EngineError(f"Reading the training rows of {table!r} failed: {exc}") from exc
            finally:
                unregister()

    def _drift_profile(self, table: str, outcome: Any, task: TaskContext, *, seed: int = 42) -> dict | None:
        """The training table's drift profile (``core.drift``), or None when it cannot be computed: drift
        checks are then unavailable for the model, which is otherwise complete. Above
        ``drift.PROFILE_SAMPLE_ROWS`` rows its deciles come from a reservoir sample, repeatable with ``seed``
        (https://duckdb.org/docs/current/sql/samples), so a table of any size is profiled in bounded memory."""
        from snowml_desktop.core import drift

        task.report(0.97, "Profiling the training data for drift checks")
        source = qualified(_data_schema(), table)
        with self._cursor() as cur:
            unregister = task.token.on_cancel(cur.interrupt)
            try:
                return drift.build_profile(
                    lambda sql, params: cur.execute(sql, params).fetchall(),
                    source,
                    outcome.features,
                    outcome.classes,
                    outcome.confusion_matrix,
                    list_quantiles=True,
                    sample=lambda rows: (
                        f"(SELECT * FROM {source} USING SAMPLE reservoir({int(rows)} ROWS) "
                        f"REPEATABLE ({int(seed)})) AS profile_sample"
                    ),
                )
            except Exception:
                task.check()
                log.warning("Could not profile %s for drift checks", table, exc_info=True)
                return None
            finally:
                unregister()

    def _drift(
        self,
        cur: Any,
        record: ModelRecord,
        table_sql: str,
        label: str,
        prediction_column: str | None,
        exact: bool = False,
    ) -> Any:
        """Drift of ``table_sql`` (a qualified table, or the rows a run appended) against ``record``'s
        profile (None without a profile), with the overlap of its rows with the training table while that
        table exists."""
        from snowml_desktop.core import drift

        if not record.drift_profile:
            return None
        training = record.training_table if record.training_table in _data_tables(cur) else None
        return drift.check(
            lambda sql, params: cur.execute(sql, params).fetchall(),
            record.drift_profile,
            table_sql,
            model=record.name,
            table=label,
            prediction_column=prediction_column,
            training_sql=qualified(_data_schema(), training) if training else None,
            training_table=training,
            exact=exact,
        )

    def _run_drift(
        self, cur: duckdb.DuckDBPyConnection, record: ModelRecord, scored: str, label: str, task: TaskContext
    ) -> dict | None:
        """A scoring run's drift (``_drift``) as the run stores it. A failed check does not fail the run,
        whose output is fine: it is recorded as ``drift.failure_record`` (the traceback goes to the log), and
        raises ``_DriftCheckAborted`` when the failed statement aborted the run's transaction. A cancel
        still cancels."""
        import duckdb

        from snowml_desktop.core import drift

        try:
            report = self._drift(cur, record, scored, label, PREDICTION)
        except Cancelled:
            raise
        except Exception as exc:
            task.check()
            log.warning("Could not check drift of %s", scored, exc_info=True)
            failure = drift.failure_record(exc)
            try:
                cur.execute("SELECT 1").fetchall()
            except duckdb.Error:
                raise _DriftCheckAborted(failure) from exc
            return failure
        return None if report is None else dataclasses.asdict(report)

    def check_drift(self, model: str, table: str, *, exact: bool = False) -> Any:
        """See ``Engine.check_drift``."""
        from snowml_desktop.core import drift

        record = self.get_model(model)
        name = normalize(table, what="table name")
        with self._cursor() as cur:
            columns = _table_columns(cur, name)
            drift.check_request(record, name, columns, exact=exact)
            if exact and record.training_table not in _data_tables(cur):
                raise NotFound(f"The training clone {record.training_table!r} no longer exists.")
            prediction = PREDICTION if PREDICTION in columns else None
            return self._drift(cur, record, qualified(_data_schema(), name), name, prediction, exact)

    def _commit_model(self, record: ModelRecord, staging: str | None, clone: str | None) -> None:
        """Insert the catalog row (and rename the staging snapshot to the clone) in one transaction."""
        with self._cursor() as cur:
            cur.begin()
            try:
                if staging and clone:
                    cur.execute(f"ALTER TABLE {qualified(_data_schema(), staging)} RENAME TO {quote(clone)}")
                    sqlrun.mark_created(cur, qualified(_data_schema(), clone))
                catalog.insert_model(cur, record)
                cur.commit()
            except BaseException:
                cur.rollback()
                raise

    def _drop_quietly(self, table: str) -> None:
        try:
            with self._cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {qualified(_data_schema(), table)}")
        except Exception:  # the sweep on next open removes it
            log.warning("Could not drop staging table %s", table, exc_info=True)

    # --- catalog -----------------------------------------------------------------------------------------
    def list_models(self) -> list[ModelRecord]:
        """The catalog, newest first."""
        with self._cursor() as cur:
            return catalog.list_models(cur)

    def get_model(self, name: str) -> ModelRecord:
        """One catalog row. Raises NotFound, InvalidInput (bad name)."""
        with self._cursor() as cur:
            return catalog.get_model(cur, normalize(name, what="model name"))

    def set_threshold(self, name: str, threshold: float | None) -> ModelRecord:
        """See ``Engine.set_threshold``."""
        from snowml_desktop.core.threshold import check_threshold

        record = self.get_model(name)
        value = check_threshold(threshold, record.classes)
        with self._cursor() as cur:
            catalog.set_threshold(cur, record.name, value)
        return dataclasses.replace(record, threshold=value)

    def delete_model(self, name: str) -> None:
        """Remove the catalog row, then the artifact file. Runs and any training clone are kept.
        Raises NotFound."""
        model = self.get_model(name)
        with self._cursor() as cur:
            catalog.delete_model(cur, model.name)
            incremental.forget_model(cur, model.name)
        self._artifact_file(model.artifact_path).unlink(missing_ok=True)

    def check_scoring_input(self, model: str, table: str) -> list[str]:
        """Names of the model's features missing from ``table``. Raises NotFound (model or table)."""
        record = self.get_model(model)
        with self._cursor() as cur:
            columns = _table_columns(cur, normalize(table, what="table name"))
        return _missing(columns, record)

    # --- scoring -----------------------------------------------------------------------------------------
    def score_incremental(self, request: ScoreRequest, *, task: TaskContext | None = None) -> InferenceRun:
        """See ``Engine.score_incremental``; the watermark rules are in ``engines.local.incremental``."""
        return self.score(request, task=task, incremental=True)

    def score(
        self,
        request: ScoreRequest,
        *,
        task: TaskContext | None = None,
        incremental: bool = False,
        internal_output: bool = False,
    ) -> InferenceRun:
        """See ``Engine.score``. Every attempt that gets as far as a known model and table is recorded as
        a run (SUCCEEDED, FAILED or CANCELLED). ``internal_output``: the output may be an engine table (a
        calibration's, ``new_staging_name``). Raises NotFound, InvalidInput, IntegrityError,
        AlreadyExists, Cancelled, EngineError."""
        task = task or TaskContext()
        started = time.perf_counter()
        record = self.get_model(request.model)
        table = normalize(request.table, what="table name")
        name_output = normalize if internal_output else user_table
        output = name_output(request.output, what="output table name") if request.output else None
        output = output or default_output_table(table, record.name)
        current = self._warehouse.state()
        size = sizes.parse_size(request.size) if request.size else sizes.parse_size(current.size)
        with self._cursor() as cur:
            columns = _table_columns(cur, table)
            run_id = catalog.next_run_id(cur)
        run = InferenceRun(
            run_id=run_id,
            created=catalog.utc_now(),
            model=record.name,
            source_table=table,
            output_table=output,
            rows=0,
            total_seconds=0.0,
            scoring_seconds=0.0,
            warehouse_size=size.label,
            warehouse_type=current.type,
            workers=size.local_workers(),
            credits=0.0,
            threshold=record.threshold,
        )
        try:
            _check_scorable(columns, record, table, output)
            self._check_numbers(columns, record, table)
            with self._scoring_lock:
                plan = (
                    self._incremental_plan(record, table, output, request.overwrite) if incremental else None
                )
                if plan is None:
                    self._check_output(output, request.overwrite)
                overwrite = request.overwrite or (plan is not None and not plan.append)
                artifact = self._verified_artifact(record)
                try:
                    return self._score(record, run, columns, artifact, overwrite, started, task, plan)
                except _DriftCheckAborted as aborted:
                    # The failed check aborted the transaction, output and all: score again, keeping the failure.
                    return self._score(
                        record, run, columns, artifact, overwrite, started, task, plan, aborted.failure
                    )
        except BaseException as exc:
            self._record_failure(run, exc, started)
            raise

    def _check_numbers(self, columns: dict[str, str], record: ModelRecord, table: str) -> None:
        """Refuse a table whose column for a numeric feature holds values that are not numbers (they would
        be scored as missing, silently); a text column of numbers only is fine."""
        from snowml_desktop.core.scoring import mistyped_error, mistyped_features

        mistyped = mistyped_features(
            {name: kind_of(sql_type) for name, sql_type in columns.items()}, record.features
        )
        if not mistyped:
            return
        source = qualified(_data_schema(), table)
        with self._cursor() as cur:
            for name in mistyped:
                text = f"trim({quote(name)}::VARCHAR)"
                values, bad, example = cur.execute(
                    f"SELECT count({quote(name)}), count({quote(name)}) - count(TRY_CAST({text} AS DOUBLE)), "
                    f"min({text}) FILTER (WHERE TRY_CAST({text} AS DOUBLE) IS NULL) FROM {source}"
                ).fetchone()
                if bad:
                    raise mistyped_error(
                        name, columns[name], table, record.name, bad=bad, values=values, example=example
                    )

    def _incremental_plan(
        self, record: ModelRecord, table: str, output: str, overwrite: bool
    ) -> incremental.Plan:
        with self._cursor() as cur:
            exists = output in _data_tables(cur)
            plan = incremental.plan(
                cur, record, table, output, qualified(_data_schema(), table), exists, overwrite
            )
        log.info("Incremental scoring of %s with %s: %s", table, record.name, plan.reason)
        return plan

    def _check_output(self, output: str, overwrite: bool) -> None:
        with self._cursor() as cur:
            exists = output in _data_tables(cur)
        if exists and not overwrite:
            raise AlreadyExists(
                f"The output table {output!r} already exists.",
                hint="Choose another output name or allow overwriting it.",
            )

    def _verified_artifact(self, record: ModelRecord) -> Path:
        """The artifact file, after checking it exists and its sha256 matches the catalog."""
        path = self._artifact_file(record.artifact_path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(
                f"The artifact of model {record.name} is missing: {path}.",
                hint="Delete the model from the catalog and train it again.",
            ) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != record.artifact_sha256:
            raise IntegrityError(
                f"The artifact of model {record.name} ({path}) does not match its recorded sha256 "
                f"(expected {record.artifact_sha256[:12]}…, found {actual[:12]}…); it will not be loaded.",
                hint="The file was changed after training. Train the model again.",
            )
        return path

    def _score(
        self,
        record: ModelRecord,
        run: InferenceRun,
        columns: dict[str, str],
        artifact: Path,
        overwrite: bool,
        started: float,
        task: TaskContext,
        plan: incremental.Plan | None = None,
        drift_failure: dict | None = None,
    ) -> InferenceRun:
        """Predict and write the output (``scoring_pass``), then log the run, in the one transaction that
        read the input: the output and its SUCCEEDED run appear together or not at all. With an
        incremental ``plan``, only rows from its start are read, appended when it says so, and the
        watermark moves in the same transaction. A failed drift check does not fail the run (``_run_drift``);
        ``drift_failure`` is the one of an earlier attempt, recorded instead of checking again."""
        table_ref = qualified(_data_schema(), run.source_table)
        append = plan is not None and plan.append
        output = qualified(_data_schema(), run.output_table or "")
        scratch = self._workspace.root / SCRATCH_FOLDER / f"run-{run.run_id}-{uuid.uuid4().hex[:8]}"
        with self._cursor() as cur:
            unregister = task.token.on_cancel(cur.interrupt)
            try:
                scratch.mkdir(parents=True)
                cur.begin()
                scoring_started = time.perf_counter()
                if overwrite and not append:
                    cur.execute(f"DROP TABLE IF EXISTS {output}")
                appended_from = incremental.next_rowid(cur, output) if append else 0
                request = PassRequest(
                    table=table_ref,
                    start=plan.start if plan is not None else 0,
                    output=output,
                    append=append,
                    columns=list(columns),
                    record=record,
                    artifact=artifact,
                    scratch=scratch,
                    batch_rows=BATCH_ROWS,
                )
                scored_pass = run_pass(cur, request, self._scoring_pool, run.workers or 1, task)
                rows, used = scored_pass.rows, scored_pass.workers
                if not append:
                    sqlrun.mark_created(cur, output)
                scoring_seconds = time.perf_counter() - scoring_started
                scored = f"(SELECT * FROM {output} WHERE rowid >= {appended_from})" if append else output
                metrics = self._run_metrics(cur, scored, columns, record)
                task.report(0.98, "Checking drift against the training data")
                drift = drift_failure or self._run_drift(cur, record, scored, run.source_table, task)
                total = time.perf_counter() - started
                log.debug(
                    "run %s: setup %.3f s, predict and write %.3f s (in output statements %.3f s), "
                    "metrics %.3f s",
                    run.run_id,
                    scoring_started - started,
                    scoring_seconds,
                    scored_pass.write_seconds,
                    started + total - scoring_started - scoring_seconds,
                )
                run = dataclasses.replace(
                    run,
                    rows=rows,
                    workers=used,
                    scoring_seconds=scoring_seconds,
                    total_seconds=total,
                    credits=sizes.estimate_credits(total, run.warehouse_size, run.warehouse_type),
                    drift=drift,
                    **metrics,
                )
                task.check()
                catalog.insert_run(cur, run)
                if plan is not None:
                    incremental.save(cur, record, run.source_table, run.output_table or "", table_ref)
                cur.commit()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    cur.rollback()
                if task.token.cancelled and not isinstance(exc, Cancelled):
                    raise Cancelled() from exc
                raise
            finally:
                unregister()
                shutil.rmtree(scratch, ignore_errors=True)
        task.report(1.0, f"Scored {rows:,} rows into {run.output_table}")
        return run

    def _scoring_pool(self, used: int, most: int) -> workers.ScoringPool:
        """The warm pool when it has from ``used`` to ``most`` workers (a warm worker costs nothing);
        otherwise (or after a cancel killed it) a new pool of ``used`` workers."""
        with self._pool_lock:
            if self._pool is not None and (self._pool.broken or not used <= self._pool.workers <= most):
                self._pool.terminate()
                self._pool = None
            if self._pool is None:
                self._pool = workers.ScoringPool(used)
            return self._pool

    def _run_metrics(
        self, cur: duckdb.DuckDBPyConnection, output: str, columns: dict[str, str], record: ModelRecord
    ) -> dict[str, Any]:
        """Metrics and confusion matrix from the output table in SQL, when it carries the target column."""
        if record.target not in columns or record.target in (PREDICTION, PROBABILITY):
            return {}
        from snowml_desktop.core.evaluation import metrics_from_confusion

        rows = cur.execute(
            f"SELECT {quote(record.target)}, {quote(PREDICTION)}, count(*) FROM {output} "
            f"WHERE {quote(record.target)} IS NOT NULL GROUP BY ALL"
        ).fetchall()
        if not rows:
            return {}
        classes = list(record.classes)
        index = {_label_key(c): i for i, c in enumerate(classes)}
        for truth, _, _ in sorted(rows, key=lambda r: str(r[0])):
            if _label_key(truth) not in index:  # a label the model never saw still counts, as a miss
                index[_label_key(truth)] = len(classes)
                classes.append(truth)
        matrix = [[0] * len(classes) for _ in classes]
        for truth, predicted, count in rows:
            matrix[index[_label_key(truth)]][index[_label_key(predicted)]] += int(count)
        metrics, per_class = metrics_from_confusion(classes, matrix)
        return {
            "metrics": {**metrics, "per_class": per_class},
            "confusion_matrix": matrix,
            "classes": classes,
        }

    def _record_failure(self, run: InferenceRun, exc: BaseException, started: float) -> None:
        """Log a FAILED or CANCELLED run (the output table was never created)."""
        total = time.perf_counter() - started
        status = RUN_CANCELLED if isinstance(exc, Cancelled) else RUN_FAILED
        message = str(exc) if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        failed = dataclasses.replace(
            run,
            output_table=None,
            status=status,
            error=message,
            total_seconds=total,
            credits=sizes.estimate_credits(total, run.warehouse_size, run.warehouse_type),
        )
        try:
            with self._cursor() as cur:
                catalog.insert_run(cur, failed)
        except Exception:
            log.warning("Could not record failed run %s", run.run_id, exc_info=True)

    # --- runs and warehouse ------------------------------------------------------------------------------
    def list_runs(self, model: str | None = None, table: str | None = None) -> list[InferenceRun]:
        """Inference runs, newest first, optionally for one model and/or source table."""
        model_name = normalize(model, what="model name") if model is not None else None
        table_name = normalize(table, what="table name") if table is not None else None
        with self._cursor() as cur:
            return catalog.list_runs(cur, model_name, table_name)

    def get_run(self, run_id: int) -> InferenceRun:
        """One run. Raises NotFound."""
        with self._cursor() as cur:
            return catalog.get_run(cur, int(run_id))

    def warehouse(self) -> WarehouseState:
        return self._warehouse.state()

    def set_warehouse(self, size: str | None = None, type: str | None = None) -> WarehouseState:
        """Change the local size and/or type. Raises InvalidInput for unknown ones."""
        return self._warehouse.set(size=size, type=type)

    def cancel_all(self) -> None:
        """Stop every running training and scoring at once; each fails and leaves nothing behind. The
        object stays usable (the next score starts a fresh pool)."""
        self.close()

    def close(self) -> None:
        """Stop the scoring pool and any training process at once (a call still running fails and leaves
        nothing behind). Idempotent."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
        for process in list(self._training):
            process.terminate()


# --- helpers ---------------------------------------------------------------------------------------------------
def new_staging_name() -> str:
    """A fresh name for a staging table (one that :func:`is_staging_table` recognizes)."""
    return f"{STAGING_PREFIX}{uuid.uuid4().hex.upper()}"


def is_staging_table(name: str) -> bool:
    """True for a staging table this engine made (hidden from listings, dropped when a workspace opens)."""
    return bool(_STAGING_NAME.fullmatch(name))


def _data_schema() -> str:
    from snowml_desktop.engines.local.workspace import Workspace

    return Workspace.DATA_SCHEMA


def _data_tables(cur: duckdb.DuckDBPyConnection) -> set[str]:
    cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
        [_data_schema()],
    )
    return {row[0] for row in cur.fetchall()}


def _table_columns(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name -> DuckDB type, in table order. Raises NotFound for a missing table."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [_data_schema(), table],
    )
    columns = {name: kind for name, kind in cur.fetchall()}
    if not columns:
        raise NotFound(
            f"There is no table {table!r} in the local warehouse.",
            hint="List the tables with `snowml tables`; names are case-sensitive when quoted.",
        )
    return columns


def _column(columns: dict[str, str], text: str, table: str, what: str) -> str:
    """The canonical column name for user text. Raises InvalidInput naming the table's columns."""
    name = normalize(text, what=what)
    if name in columns:
        return name
    near = [c for c in columns if c.upper() == name.upper()]
    hint = (
        f'Did you mean "{near[0]}"? Quote names to match their case.'
        if near
        else (f"Columns: {', '.join(list(columns)[:30])}{' …' if len(columns) > 30 else ''}.")
    )
    raise InvalidInput(f"Table {table!r} has no {what} {name!r}.", hint=hint)


def _check_scorable(columns: dict[str, str], record: ModelRecord, table: str, output: str) -> None:
    """Raise InvalidInput when ``table`` lacks features of the model, has reserved column names or is its
    own output table."""
    user_columns(columns, table)
    missing = _missing(columns, record)
    if missing:
        raise InvalidInput(
            f"Table {table!r} lacks the model {record.name}'s feature columns: {', '.join(missing)}.",
            hint="Score a table with the same columns the model was trained on.",
        )
    if output == table:
        raise InvalidInput(
            f"The output table {output!r} is the table being scored.", hint="Choose another output name."
        )


def _count(cur: duckdb.DuckDBPyConnection, source: str) -> int:
    return int(cur.execute(f"SELECT count(*) FROM {source}").fetchall()[0][0])


def _missing(columns: dict[str, str], record: ModelRecord) -> list[str]:
    from snowml_desktop.core.scoring import missing_features

    return list(missing_features(list(columns), record.features))


def _label_key(value: Any) -> str:
    """Compare labels from the catalog (JSON) and from SQL: 1 == 1.0 == "1" is not wanted, but a float
    class 1.0 read back as 1.0 must match."""
    if isinstance(value, bool):
        return f"b:{value}"
    if isinstance(value, (int, float)):
        return f"n:{float(value)!r}"
    return f"s:{value}"
