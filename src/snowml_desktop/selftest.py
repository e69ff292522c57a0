"""``snowml-desktop --self-test``: prove that an installation works, end to end, in under a minute.

Four checks, cheapest first, each failing with one line that says what broke:

1. imports: every module of the app, and the Snowflake connector/Snowpark modules the Snowflake engine needs at
   connect, query and upload time (a frozen bundle misses those the connector imports by name); the connector's
   "Failed to import ArrowResult" warning fails it too, because such a bundle only works offline;
2. Snowpark: a local-testing session (no account, no network) runs the SNOWML_TRAIN body: read rows, fit, write
   the artifact to a stage, register the scoring UDF, insert the catalog row, read it back;
3. the Snowflake procedures' code zip: setup builds it from this installation, and a separate process imports the
   procedures from it and scores a batch through a model UDF's handler, as Snowflake would;
4. GUI: the real main window (offscreen, or on ``QT_QPA_PLATFORM`` when set, e.g. ``xcb`` under Xvfb) connects
   to a temporary local workspace and runs upload -> load -> train -> score through the panels' own code paths,
   then checks the catalog, the model's accuracy and the scored table's row count.

Nothing of the user's is read or changed: data, settings and the Snowflake home go to a temporary folder, QSettings
paths point there, and the keyring is swapped for one that refuses every call. Only the log file is the usual one,
so that the details of a failure stay readable after the temporary folder is gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "KEYRING_MODULES",
    "LIBRARY_MODULES",
    "SNOWFLAKE_MODULES",
    "SelfTestFailed",
    "check_imports",
    "check_procedures_zip",
    "check_snowpark",
    "run_self_test",
]

log = logging.getLogger(__name__)

#: Modules the Snowflake engine reaches at run time, several only by name (so analysis of a frozen build cannot
#: see them): logging set-up, the Arrow result reader, authenticators, stage transfer clients, OCSP, and the
#: Snowpark API including local testing.
SNOWFLAKE_MODULES = (
    "snowflake.connector",
    "snowflake.connector.snow_logging",
    "snowflake.connector.connection",
    "snowflake.connector.cursor",
    "snowflake.connector.nanoarrow_arrow_iterator",
    "snowflake.connector.arrow_context",
    "snowflake.connector.result_batch",
    "snowflake.connector.pandas_tools",
    "snowflake.connector.auth",
    "snowflake.connector.auth.keypair",
    "snowflake.connector.auth.webbrowser",
    "snowflake.connector.auth.oauth",
    "snowflake.connector.auth.pat",
    "snowflake.connector.file_transfer_agent",
    "snowflake.connector.s3_storage_client",
    "snowflake.connector.azure_storage_client",
    "snowflake.connector.gcs_storage_client",
    "snowflake.connector.local_storage_client",
    "snowflake.connector.ocsp_snowflake",
    "snowflake.connector.secret_detector",
    "snowflake.connector.config_manager",
    "snowflake.snowpark",
    "snowflake.snowpark.functions",
    "snowflake.snowpark.types",
    "snowflake.snowpark.udf",
    "snowflake.snowpark.stored_procedure",
    "snowflake.snowpark.mock",
)

#: The libraries the app's features import lazily (in a job, when a panel or method first needs them): a trimmed
#: bundle must still hold every one, including those the self-test's workflow does not reach.
LIBRARY_MODULES = (
    "duckdb",
    "pyarrow",
    "pyarrow.parquet",
    "pandas",
    "optuna",
    "pyqtgraph",
    # pyqtgraph imports these two by name (importlib), which a frozen build's analysis does not see.
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "sklearn.calibration",
    "sklearn.compose",
    "sklearn.datasets",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.naive_bayes",
    "sklearn.neighbors",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.svm",
    "sklearn.tree",
)

#: The keyring backend the app would use on this platform (without it, secrets cannot be saved).
KEYRING_MODULES = {
    "linux": ("keyring.backends.SecretService", "keyring.backends.kwallet"),
    "darwin": ("keyring.backends.macOS",),
    "win32": ("keyring.backends.Windows",),
}

#: What the connector logs when its Arrow reader is missing; queries then fail against a real account.
ARROW_FAILURE = "Failed to import ArrowResult"
WAIT_SECONDS = 180.0
MIN_ACCURACY = 0.85  # the breast cancer data: any working classifier scores well above this


class SelfTestFailed(Exception):
    """A check failed; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class Passed:
    """What the GUI workflow produced, for the success line."""

    model: str
    accuracy: float
    scored_rows: int
    platform: str


# --- entry point ---------------------------------------------------------------------------------------------
def run_self_test(out: Callable[[str], None] = print, log_file: Path | None = None) -> int:
    """Run every check in a temporary environment; ``out`` one line; return 0 (passed) or 1 (failed).
    ``log_file``, where details of a failure are, is named in the failure line. The line is logged too: a
    windowed Windows build has no console to print it on."""
    code, line = _run_checks(log_file)
    log.info("%s", line)
    out(line)
    return code


def _run_checks(log_file: Path | None) -> tuple[int, str]:
    started = time.perf_counter()
    details = f" (details in {log_file})" if log_file else ""
    try:
        with isolated_environment() as root:
            with connector_log() as messages:
                check_imports(messages)
            check_snowpark()
            check_procedures_zip(root)
            passed = check_gui(root)
    except SelfTestFailed as exc:
        log.error("Self-test check failed", exc_info=exc.__cause__)
        return 1, f"self-test FAILED: {exc}{details}"
    except Exception as exc:  # noqa: BLE001 - a bug in a check is a failure too, said in one line
        log.exception("Self-test error")
        return 1, f"self-test FAILED: unexpected {_describe(exc)}{details}"
    return 0, (
        f"self-test passed in {time.perf_counter() - started:.0f} s: imports, Snowpark local training, the "
        f"procedures' code zip, and "
        f"load -> train ({passed.model}, accuracy {passed.accuracy:.3f}) -> score ({passed.scored_rows} rows) "
        f"in the GUI on the {passed.platform} platform"
    )


# --- isolation -----------------------------------------------------------------------------------------------
_ENV_FOLDERS = {
    "SNOWML_HOME": "workspace",
    "SNOWML_CONFIG_DIR": "config",
    "SNOWFLAKE_HOME": "snowflake",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
    "XDG_CACHE_HOME": "xdg-cache",
}


@contextlib.contextmanager
def isolated_environment() -> Iterator[Path]:
    """A temporary folder that every user location points into (restored afterwards), and a keyring that
    refuses every call, so the self-test can neither read nor change the user's data, settings or secrets."""
    import keyring
    from keyring.backends.fail import Keyring as RefusingKeyring

    saved_env = {name: os.environ.get(name) for name in _ENV_FOLDERS}
    saved_keyring = keyring.get_keyring()
    with tempfile.TemporaryDirectory(prefix="snowml-self-test-") as folder:
        root = Path(folder)
        for name, sub in _ENV_FOLDERS.items():
            os.environ[name] = str(root / sub)
        keyring.set_keyring(RefusingKeyring())
        try:
            yield root
        finally:
            keyring.set_keyring(saved_keyring)
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def connector_log() -> Iterator[list[str]]:
    """Every message the Snowflake connector and Snowpark log meanwhile (levels lowered so nothing is missed)."""
    collector = _Collector()
    loggers = [logging.getLogger(name) for name in ("snowflake.connector", "snowflake.snowpark")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(collector)
        lg.setLevel(logging.DEBUG)
    try:
        yield collector.messages
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(collector)
            lg.setLevel(level)


# --- 1. imports ----------------------------------------------------------------------------------------------
def app_modules() -> list[str]:
    """Every module of the snowml_desktop package (found on disk or in a frozen bundle's archive)."""
    import snowml_desktop

    failed: list[str] = []
    names = [
        info.name
        for info in pkgutil.walk_packages(snowml_desktop.__path__, "snowml_desktop.", onerror=failed.append)
    ]
    if failed:
        raise SelfTestFailed(f"cannot list the app's modules: {', '.join(failed)}")
    return ["snowml_desktop", *names]


def check_imports(connector_messages: list[str]) -> None:
    """Import the app's modules and the Snowflake modules. Fails when the connector said it cannot read Arrow
    results (the most telling failure of a frozen bundle), else on the first module that did not import."""
    modules = [*app_modules(), *SNOWFLAKE_MODULES, *LIBRARY_MODULES, *KEYRING_MODULES.get(sys.platform, ())]
    failures: list[str] = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - ImportError or any error an import raises
            log.error("Cannot import %s", name, exc_info=exc)
            failures.append(f"cannot import {name}: {_describe(exc)}")
    arrow_failures = [m for m in connector_messages if ARROW_FAILURE in m]
    if arrow_failures:
        raise SelfTestFailed(
            f"the Snowflake connector cannot read query results: {_one_line(arrow_failures[0])}"
        )
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise SelfTestFailed(failures[0] + more)
    from snowflake.connector import cursor

    if not cursor.CAN_USE_ARROW_RESULT_FORMAT:
        raise SelfTestFailed(
            "the Snowflake connector cannot read query results: its Arrow reader is unavailable"
        )


# --- 2. Snowpark local testing -------------------------------------------------------------------------------
SNOWPARK_DATABASE = "SNOWML_SELF_TEST"
SNOWPARK_MODEL = "LOGISTIC_REGRESSION_1"


def check_snowpark() -> None:
    """Run the SNOWML_TRAIN body in a Snowpark local-testing session and read the catalog row back."""
    from snowflake.snowpark import Session

    from snowml_desktop.core import demo_data
    from snowml_desktop.core.errors import EngineError
    from snowml_desktop.engines.base import TrainRequest
    from snowml_desktop.engines.snowflake import procedures, sql

    try:
        session = Session.builder.config("local_testing", True).create()
    except Exception as exc:  # noqa: BLE001
        raise SelfTestFailed(f"cannot open a Snowpark local-testing session: {_describe(exc)}") from exc
    try:
        loc = sql.Location(SNOWPARK_DATABASE)
        _create_catalog(session, loc)
        rows, _ = demo_data.breast_cancer_frames()
        session.create_dataframe(rows).write.save_as_table(loc.data("PATIENTS"))
        place = procedures.Place(loc, "X-Small", "STANDARD")
        stage = procedures.SessionStageIO(session)
        services = procedures.Services(
            stage,
            procedures.SqlWarehouseOps(procedures.SessionSqlRunner(session), loc),
            _TemporaryUdfRegistrar(stage, loc),
        )
        request = TrainRequest("PATIENTS", demo_data.BREAST_CANCER_TARGET, method="logistic_regression")
        try:
            procedures.train(session, request, place, SNOWPARK_MODEL, services)
            record = procedures.get_model(session, place, SNOWPARK_MODEL)
        except EngineError as exc:
            raise SelfTestFailed(f"Snowpark local training failed: {_one_line(str(exc))}") from exc
        except Exception as exc:  # noqa: BLE001
            raise SelfTestFailed(f"Snowpark local training failed: {_describe(exc)}") from exc
        accuracy = float(record.metrics.get("accuracy") or 0.0)
        if accuracy < MIN_ACCURACY:
            raise SelfTestFailed(
                f"the model trained in Snowpark has accuracy {accuracy:.3f}, expected at least {MIN_ACCURACY}"
            )
    finally:
        session.close()


def _create_catalog(session: Any, loc: Any) -> None:
    """The models catalog as SNOWML setup creates it (local testing runs no DDL, so through a DataFrame)."""
    from snowflake.snowpark.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampTimeZone,
        TimestampType,
        VariantType,
    )

    from snowml_desktop.core import records
    from snowml_desktop.core.identifiers import quote
    from snowml_desktop.engines.snowflake import sql

    types = {
        records.TEXT: StringType(),
        records.JSON: VariantType(),
        records.INTEGER: LongType(),
        records.DOUBLE: DoubleType(),
        records.TIMESTAMP: TimestampType(TimestampTimeZone.NTZ),
    }
    columns = records.MODELS_CATALOG_COLUMNS
    schema = StructType([StructField(quote(name), types[kind]) for name, kind in columns])
    session.create_dataframe([], schema=schema).write.save_as_table(loc.app(sql.MODELS_CATALOG))


class _TemporaryUdfRegistrar:
    """Registers the model's vectorized scoring handler as a temporary UDF: local testing cannot register the
    permanent, stage-imported UDF a real account gets, so the artifact is read back from the stage (sha256
    checked) and the same handler is registered in the session."""

    def __init__(self, stage: Any, loc: Any) -> None:
        self.stage = stage
        self.loc = loc

    def __call__(self, session: Any, record: Any, artifact_path: str) -> str:
        from snowflake.snowpark.types import PandasDataFrameType, PandasSeriesType, VariantType

        from snowml_desktop.core.artifacts import load_artifact_bytes
        from snowml_desktop.engines.snowflake import udf

        pipeline = load_artifact_bytes(self.stage.get(artifact_path), record.artifact_sha256).pipeline
        handler = udf.make_vectorized_handler(pipeline, list(record.features))

        def batch(frame):  # noqa: ANN001, ANN202 - no hints: Snowpark would read them as the UDF's types
            return handler(frame)

        name = self.loc.app(udf.udf_name(record.name))
        session.udf.register(
            batch,
            name=name,
            input_types=[PandasDataFrameType(udf.argument_types(record.features))],
            return_type=PandasSeriesType(VariantType()),
            replace=True,
        )
        return name


# --- 3. the procedures' code zip ----------------------------------------------------------------------------
ZIP_PROBE_SECONDS = 120.0


def check_procedures_zip(root: Path) -> None:
    """Build setup's code zip from this installation (a frozen build ships the sources it zips) and, in a
    separate process with the zip first on sys.path and ``snowflake_import_directory`` set as inside a Snowflake
    UDF, import the procedures and score a batch through the model UDF's handler; the code must come from the
    zip, carry this app's version, and predict what the same model predicts here."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from snowml_desktop import __version__
    from snowml_desktop.core.artifacts import artifact_bytes, sha256_hex
    from snowml_desktop.core.demo_data import BREAST_CANCER_TARGET, breast_cancer_frames
    from snowml_desktop.core.errors import EngineError
    from snowml_desktop.core.scoring import predict
    from snowml_desktop.core.training import TrainSpec, train_model
    from snowml_desktop.engines.snowflake import setup

    folder = root / "procedures-zip"
    imports = folder / "import-directory"
    imports.mkdir(parents=True)
    try:
        archive = setup.code_zip(folder)
    except EngineError as exc:
        raise SelfTestFailed(f"cannot build the Snowflake procedures' code zip: {_one_line(exc.message)}") from exc
    rows, new_rows = breast_cancer_frames()
    outcome = train_model(rows, TrainSpec(target=BREAST_CANCER_TARGET, method="logistic_regression"))
    data = artifact_bytes(outcome.pipeline, {"model": SNOWPARK_MODEL})
    (imports / "model.joblib").write_bytes(data)
    features = [dataclasses.asdict(f) for f in outcome.features]
    batch = new_rows[[f.name for f in outcome.features]].head(20)
    expected, _ = predict(outcome.pipeline, batch, outcome.features)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        future = pool.submit(
            _zip_probe, str(archive), str(imports), "model.joblib", sha256_hex(data), features,
            batch.to_numpy().tolist(),
        )
        try:
            found = future.result(timeout=ZIP_PROBE_SECONDS)
        except Exception as exc:  # noqa: BLE001 - whatever the zip's code raised
            raise SelfTestFailed(f"the procedures' code zip does not run: {_describe(exc)}") from exc
    outside = [f for f in found["files"] if not f.startswith(str(archive))]
    if outside:
        raise SelfTestFailed(f"the procedures' code zip is incomplete: {outside[0]} was imported from outside it")
    if found["version"] != __version__:
        raise SelfTestFailed(
            f"the procedures' code zip says version {found['version']}, the app is {__version__}"
        )
    if found["predictions"] != expected.tolist():
        raise SelfTestFailed("the scoring UDF's handler in the procedures' code zip predicts differently")


def _zip_probe(
    archive: str, import_directory: str, artifact: str, sha256: str, features: list[dict], rows: list[list]
) -> dict[str, Any]:
    """In a fresh process: this app's modules forgotten, ``archive`` first on sys.path, import the procedures
    and the UDF module from it and score ``rows`` with the artifact's handler, as a Snowflake UDF would."""
    for name in [m for m in sys.modules if m == "snowml_desktop" or m.startswith("snowml_desktop.")]:
        del sys.modules[name]
    sys.path.insert(0, archive)
    sys._xoptions["snowflake_import_directory"] = import_directory
    importlib.invalidate_caches()
    import pandas as pd

    package = importlib.import_module("snowml_desktop")
    procedures = importlib.import_module("snowml_desktop.engines.snowflake.procedures")
    udf = importlib.import_module("snowml_desktop.engines.snowflake.udf")
    records = importlib.import_module("snowml_desktop.core.records")
    handler = udf.make_artifact_handler(artifact, sha256, [records.Feature(**f) for f in features])
    result = handler(pd.DataFrame(rows))
    return {
        "files": [package.__file__, procedures.__file__, udf.__file__, records.__file__],
        "version": package.__version__,
        "predictions": [item[udf.PREDICTION_KEY] for item in result],
    }


# --- 4. the GUI workflow -------------------------------------------------------------------------------------
TRAIN_TABLE = "PATIENTS"
SCORE_TABLE = "NEW_PATIENTS"


def check_gui(root: Path) -> Passed:
    """Upload -> load -> train -> score through the real panels on a temporary local workspace."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QSettings, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from snowml_desktop.core.demo_data import breast_cancer_frames
    from snowml_desktop.ui.context import AppContext
    from snowml_desktop.ui.main_window import MainWindow
    from snowml_desktop.ui.settings import open_settings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(root / "qsettings"))
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "snowml-desktop"])
    train_rows, new_rows = breast_cancer_frames()
    files = {TRAIN_TABLE: root / "patients.csv", SCORE_TABLE: root / "new_patients.csv"}
    train_rows.to_csv(files[TRAIN_TABLE], index=False)
    new_rows.to_csv(files[SCORE_TABLE], index=False)

    ctx = AppContext(open_settings(root / "config" / "gui.ini"), workspace=root / "workspace")
    driver = _Driver(ctx)
    window = MainWindow(ctx)
    previous_handler = qInstallMessageHandler(_qt_message_to_log)
    window.show()
    try:
        driver.connect()
        for table, path in files.items():
            driver.load(window, path, table)
        model, accuracy = driver.train(window, TRAIN_TABLE)
        scored = driver.score(window, model, SCORE_TABLE, len(new_rows))
        return Passed(model, accuracy, scored, app.platformName())
    finally:
        ctx.jobs.cancel_all()
        ctx.jobs.wait_idle(10_000)
        window.close()
        # Delete the window and context now, on this thread: left to Python's garbage collector, a QObject may
        # be destroyed later on whatever thread happens to collect it (a crash in a host process, e.g. pytest).
        window.deleteLater()
        ctx.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
        qInstallMessageHandler(previous_handler)


def _qt_message_to_log(mode: Any, context: Any, message: str) -> None:
    """Qt's own messages (e.g. the offscreen plugin's notes) go to the log, keeping the output one line."""
    logging.getLogger("qt").info("%s", message)


class _Driver:
    """Clicks through the panels like a user and waits for their jobs, failing on the first failed job."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.failures: list[str] = []
        ctx.jobs.job_added.connect(self._watch)
        ctx.connection_failed.connect(
            lambda name, error: self.failures.append(_job_error(f"connect {name}", error))
        )

    def _watch(self, handle: Any) -> None:
        handle.failed.connect(lambda error, name=handle.name: self.failures.append(_job_error(name, error)))

    def wait(self, what: str, done: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + seconds
        while not done():
            if self.failures:
                raise SelfTestFailed(self.failures[0])
            if time.monotonic() > deadline:
                raise SelfTestFailed(f"timed out after {seconds:.0f} s waiting for {what}")
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)
        if self.failures:
            raise SelfTestFailed(self.failures[0])

    def idle(self, what: str) -> None:
        self.wait(what, lambda: not self.ctx.jobs.running())

    def click(self, button: Any, what: str) -> None:
        self.wait(f"the {what} button to be enabled", button.isEnabled)
        button.click()

    def panel(self, window: Any, key: str, argument: object = None) -> Any:
        from snowml_desktop.ui.panels.base import Panel

        window.navigate(key, argument)
        widget = window.panel(key)
        if not isinstance(widget, Panel):
            raise SelfTestFailed(f"the {key} panel could not be built (see the log)")
        return widget

    def connect(self) -> None:
        from snowml_desktop.core.connections import LOCAL

        self.ctx.connect_to(LOCAL)
        self.wait("the local workspace to open", lambda: self.ctx.engine is not None)

    def load(self, window: Any, path: Path, table: str) -> None:
        load = self.panel(window, "load")
        self.wait("the stage list", lambda: load.stage_combo.count() > 0)
        self.idle("the stage files")
        load.upload_paths([path])
        self.wait(f"{path.name} on the stage", lambda: path.name in load.files.file_names())
        self.idle("the stage files")
        if not load.files.select_file(path.name):
            raise SelfTestFailed(f"the Load panel lost {path.name} from its file list")
        load.table_edit.setText(table)
        self.click(load.load_button, "Load")
        self.wait(f"{table} to load", lambda: load.last_result() is not None)
        result = load.last_result()
        if result.table != table or result.rows_loaded <= 0 or result.rows_rejected:
            raise SelfTestFailed(
                f"loading {path.name} gave {result.rows_loaded} rows in {result.table} "
                f"({result.rows_rejected} rejected); expected every row in {table}"
            )
        self.idle("the panels to refresh")

    def train(self, window: Any, table: str) -> tuple[str, float]:
        from snowml_desktop.core.demo_data import BREAST_CANCER_TARGET

        train = self.panel(window, "train", table)
        self.wait(f"{table} in the Train panel", lambda: train.table_combo.currentText() == table)
        train.target_combo.setCurrentText(BREAST_CANCER_TARGET)
        train.method_combo.setCurrentIndex(train.method_combo.findData("random_forest"))
        train.params.set_values({"n_estimators": 20})
        self.idle("the column check")
        self.click(train.train_button, "Train")
        self.wait("training", lambda: train.last_model is not None)
        name = train.last_model.name
        catalog = self.panel(window, "catalog")
        self.wait(f"{name} in the Model Catalog", lambda: name in catalog.model_names())
        catalog.select_model(name)
        record = catalog.selected_model()
        accuracy = float(record.metrics.get("accuracy") or 0.0) if record else 0.0
        if record is None or accuracy < MIN_ACCURACY:
            raise SelfTestFailed(
                f"the catalog shows {name} with accuracy {accuracy:.3f}, expected at least {MIN_ACCURACY}"
            )
        self.idle("the catalog")
        return name, accuracy

    def score(self, window: Any, model: str, table: str, expected_rows: int) -> int:
        from snowml_desktop.core.records import RUN_SUCCEEDED

        inference = self.panel(window, "inference", model)
        self.wait(f"{model} in the Inference panel", lambda: inference.model_combo.currentText() == model)
        self.idle("the Inference panel")
        inference.table_combo.setCurrentText(table)
        self.click(inference.run_button, "Run")
        self.wait("scoring", lambda: inference.last_run is not None and not inference.busy)
        run = inference.last_run
        if run.status != RUN_SUCCEEDED or run.rows != expected_rows:
            raise SelfTestFailed(
                f"scoring {table} ended {run.status} with {run.rows} rows; expected {expected_rows} rows"
            )
        self.idle("the panels to refresh")
        tables = self.call("list the tables", lambda engine, task: engine.list_tables())
        written = next((t.rows for t in tables if t.name == run.output_table), None)
        if written != expected_rows:
            raise SelfTestFailed(
                f"the output table {run.output_table} has {written} rows; the input {table} has {expected_rows}"
            )
        accuracy = (run.metrics or {}).get("accuracy")
        if not isinstance(accuracy, (int, float)) or accuracy < MIN_ACCURACY - 0.05:
            raise SelfTestFailed(f"scoring {table} measured accuracy {accuracy}, expected a working model")
        return written

    def call(self, what: str, fn: Callable[[Any, Any], Any]) -> Any:
        """Run ``fn(engine, task)`` as a job, like the panels do, and return its result."""
        results: list[Any] = []
        handle = self.ctx.run(what, fn)
        handle.succeeded.connect(results.append)
        self.wait(what, lambda: handle.done)
        if not results:
            raise SelfTestFailed(f"could not {what}")
        return results[0]


# --- messages ------------------------------------------------------------------------------------------------
def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_one_line(str(exc))}"


def _job_error(job: str, error: Any) -> str:
    """A failed job in one line; for a bug, the exception's own last line (its details are a traceback)."""
    message = _one_line(error.message)
    if getattr(error, "code", "") == "unexpected" and error.details.strip():
        message = f"{message} ({_one_line(error.details.strip().splitlines()[-1])})"
    return f"{job} failed: {message}"
