"""Regenerate ``docs/screenshots/*.png``: every panel and the connection manager, filled with demo data.

    python scripts/screenshots.py [--out docs/screenshots]

Drives the real app offscreen on a throw-away local workspace (never the user's: data, config,
Snowflake connections and keyring all point into a temporary folder): loads the demo files through the
Load Data panel, trains three models through the Train Model panel, scores a table at two warehouse sizes
through the Inference panel and opens the run, then grabs each panel of a fixed-size main window.

``demo_session`` (the isolated app and window) and ``wait_until`` / ``wait_for_signal`` are also used by
``scripts/ui_names.py`` and the GUI benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "screenshots"
WINDOW_SIZE = (1280, 820)
#: The smallest size the layout is made for; one shot shows the catalog whole at it.
SMALL_SIZE = (1024, 700)
SMALL_SHOTS = ("catalog-1024",)
#: Generous: the machine running this may be busy; a wait that times out names what it waited for.
WAIT_MS = 120_000
TRAIN_TABLE = "BREAST_CANCER"
SCORED_TABLE = "BREAST_CANCER_X250"  # the table the Inference screenshots score
TARGET = "DIAGNOSIS"
#: (method, parameters) trained for the catalog; the first one is scored and shown in detail.
MODELS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("random_forest", {"n_estimators": 100}),
    ("gradient_boosting", {}),
    ("logistic_regression", {}),
)
COMPARE_SIZES = ("X-Small", "Small")

# A read-only entry of the user's Snowflake connections.toml, and one of the app's own, so that the
# connection manager shows both kinds. No secrets: those would live in the keyring.
DEMO_CONNECTIONS_TOML = """\
[analytics]
account = "myorg-analytics"
user = "ANALYST"
role = "ANALYST"
warehouse = "ANALYTICS_WH"
database = "ML"
schema = "PUBLIC"
authenticator = "externalbrowser"
"""
DEMO_APP_PROFILE = {
    "name": "prod-ml",
    "account": "myorg-prod",
    "user": "ML_SERVICE",
    "role": "ML_ENGINEER",
    "warehouse": "ML_WH",
    "database": "ML",
    "schema": "PUBLIC",
    "authenticator": "snowflake_jwt",
    "private_key_file": "~/.ssh/snowflake_ml_key.p8",
}


# --- waiting without pytest-qt ----------------------------------------------------------------------
def pause(ms: int) -> None:
    """Run the event loop for ``ms`` milliseconds (lets queued signals and repaints through)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate: Callable[[], object], what: str, timeout_ms: int | None = None) -> None:
    """Run the event loop until ``predicate()`` is true; TimeoutError naming ``what`` after ``timeout_ms``
    (default: the module's ``WAIT_MS``, which long-running callers such as benchmarks may raise)."""
    timeout_ms = timeout_ms or WAIT_MS
    deadline = time.monotonic() + timeout_ms / 1000
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout_ms / 1000:.0f} s waiting for {what}")
        pause(10)


def wait_for_signal(
    signal: Any,
    action: Callable[[], object],
    what: str,
    until: Callable[[Callable[[], object], str], None] = wait_until,
) -> tuple:
    """Connect to ``signal``, call ``action()``, and wait with ``until(predicate, what)`` for the signal;
    returns its arguments."""
    received: list[tuple] = []

    def slot(*args: object) -> None:
        received.append(args)

    signal.connect(slot)
    try:
        action()
        until(lambda: received, what)
    finally:
        signal.disconnect(slot)
    return received[0]


# --- an isolated app ----------------------------------------------------------------------------------
def _memory_keyring() -> Any:
    """An in-memory keyring backend, so that nothing is read from or written to the user's keyring."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if self.store.pop((service, username), None) is None:
                raise PasswordDeleteError(username)

    return MemoryKeyring()


@contextlib.contextmanager
def isolated_environment(root: Path) -> Iterator[None]:
    """Point the workspace, config, logs, Snowflake connections and keyring into ``root`` while inside;
    restore everything after."""
    import keyring

    locations = {
        "SNOWML_HOME": root / "workspace",
        "SNOWML_CONFIG_DIR": root / "config",
        "SNOWML_LOG_DIR": root / "logs",
        "SNOWFLAKE_HOME": root / "snowflake",
        "XDG_CONFIG_HOME": root / "xdg-config",
        "XDG_DATA_HOME": root / "xdg-data",
    }
    saved = {name: os.environ.get(name) for name in locations}
    previous_keyring = keyring.get_keyring()
    os.environ.update({name: str(path) for name, path in locations.items()})
    keyring.set_keyring(_memory_keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous_keyring)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def application() -> Any:
    """The process's QApplication; made on the offscreen platform when there is none yet."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication(["snowml-desktop-screenshots"])
    return app


def add_demo_connections() -> None:
    """The example Snowflake connections (inside an isolated environment only)."""
    from snowml_desktop.core import connections

    home = connections.snowflake_home()
    home.mkdir(parents=True, exist_ok=True)
    (home / "connections.toml").write_text(DEMO_CONNECTIONS_TOML, encoding="utf-8")
    connections.save_profile(
        connections.ConnectionProfile(kind="snowflake", source="app", **DEMO_APP_PROFILE)
    )


@dataclass
class Session:
    app: Any  # QApplication
    ctx: Any  # AppContext
    window: Any  # MainWindow
    #: "job name: message" of every job that failed, so that a wait stops at once instead of timing out.
    failures: list[str] = field(default_factory=list)

    def watch_jobs(self) -> None:
        def on_added(handle: Any) -> None:
            handle.failed.connect(lambda error: self.failures.append(f"{handle.name}: {error.message}"))

        self.ctx.jobs.job_added.connect(on_added)

    def wait(self, predicate: Callable[[], object], what: str) -> None:
        """``wait_until`` that raises RuntimeError as soon as a job fails."""

        def done() -> bool:
            if self.failures:
                raise RuntimeError(f"While waiting for {what}, a job failed: {self.failures[0]}")
            return bool(predicate())

        wait_until(done, what)

    def settle(self) -> None:
        """Wait until no job runs and their results have reached the widgets."""
        self.wait(lambda: self.ctx.idle, "the background jobs to end")
        pause(50)


@contextlib.contextmanager
def demo_session(
    root: Path, *, connect: bool = True, size: tuple[int, int] = WINDOW_SIZE
) -> Iterator[Session]:
    """The real main window, shown at ``size`` with every panel built, on a fresh local workspace in
    ``root`` (connected when ``connect``). Everything is shut down on exit."""
    with isolated_environment(root):
        app = application()
        add_demo_connections()
        from snowml_desktop.core.connections import LOCAL
        from snowml_desktop.ui.context import AppContext
        from snowml_desktop.ui.main_window import MainWindow
        from snowml_desktop.ui.settings import open_settings

        ctx = AppContext(open_settings(), workspace=root / "workspace")
        window = MainWindow(ctx)
        window.resize(*size)
        window.show()
        session = Session(app, ctx, window)
        session.watch_jobs()
        try:
            if connect:
                ctx.connect_to(LOCAL)
                wait_until(lambda: ctx.engine is not None, "the local workspace to open")
            window.ensure_all_panels()
            session.settle()
            yield session
        finally:
            ctx.shutdown()  # first, so that closing does not ask about running jobs
            window.close()
            window.deleteLater()
            pause(0)


# --- the demo workflow ---------------------------------------------------------------------------------
@dataclass
class DemoState:
    models: list[str]
    scored_model: str
    run_id: int


def run_demo(session: Session) -> DemoState:
    """Load, train and score through the panels' own code paths."""
    from snowml_desktop.core.demo_data import BREAST_CANCER_FILE, CHURN_FILE

    window, ctx = session.window, session.ctx
    window.navigate("load")
    load = window.panel("load")
    session.wait(lambda: CHURN_FILE in load.files.file_names(), "the demo files on the LOAD_DATA stage")
    for file in (BREAST_CANCER_FILE, CHURN_FILE):
        load.files.select_file(file)
        session.wait(load.load_button.isEnabled, f"Load to be possible for {file}")
        wait_for_signal(ctx.tables_changed, load.load_button.click, f"{file} to load", session.wait)
        session.settle()

    window.navigate("train", TRAIN_TABLE)
    train = window.panel("train")
    session.wait(lambda: train.target_combo.currentText() == TARGET, f"the target {TARGET} to be proposed")
    names = []
    for method, params in MODELS:
        window.navigate("train")
        train.method_combo.setCurrentIndex(train.method_combo.findData(method))
        train.params.set_values(params)
        session.wait(train.train_button.isEnabled, f"Train to be possible for {method}")
        (name,) = wait_for_signal(
            ctx.models_changed, train.train_button.click, f"{method} to train", session.wait
        )
        names.append(name)
        session.settle()

    window.navigate("catalog", names[0])
    catalog = window.panel("catalog")
    session.wait(lambda: catalog.selected_name() == names[0], f"{names[0]} to be selected in the catalog")
    catalog.score_button.click()
    inference = window.panel("inference")
    session.wait(lambda: inference.model_combo.currentText() == names[0], f"Inference to show {names[0]}")
    # A local worker takes 65,536 rows at a time, so the 569-row demo table is scored by one worker at any
    # size and gives no recommended size; a copy of it 250 times over (142,250 rows) keeps Small's two busy.
    with ctx.engine.workspace.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {ctx.engine.workspace.table_ref(SCORED_TABLE)} AS "
            f"SELECT t.* FROM {ctx.engine.workspace.table_ref(TRAIN_TABLE)} AS t, range(250)"
        )
    ctx.tables_changed.emit()
    session.wait(lambda: inference.table_combo.findText(SCORED_TABLE) >= 0, f"{SCORED_TABLE} to be listed")
    inference.table_combo.setCurrentText(SCORED_TABLE)
    session.wait(inference.compare_button.isEnabled, f"Compare sizes to be possible on {SCORED_TABLE}")
    inference.set_compare_sizes(list(COMPARE_SIZES))
    inference.compare_button.click()
    session.wait(
        lambda: not inference.busy and len(inference.timing.points()) >= len(COMPARE_SIZES),
        f"scoring at {', '.join(COMPARE_SIZES)}",
    )
    session.settle()
    return DemoState(names, names[0], inference.last_run.run_id)


# --- shots ------------------------------------------------------------------------------------------------
def _charts_drawn(*charts: Any) -> Callable[[], bool]:
    return lambda: all(chart.message() == "" for chart in charts)


def capture(session: Session, state: DemoState, out: Path) -> list[Path]:
    """Grab every panel (and a few of their tabs) and the connection manager into ``out``."""
    window = session.window
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def shot(name: str, widget: Any = None) -> None:
        session.settle()
        pause(150)  # pyqtgraph lays out axes on the next turns of the loop
        path = out / f"{name}.png"
        if not (widget or window).grab().save(str(path), "PNG"):
            raise OSError(f"Could not write {path}")
        written.append(path)

    from snowml_desktop.core.demo_data import CHURN_FILE

    window.navigate("load")
    load = window.panel("load")
    load.files.select_file(CHURN_FILE)
    shot("load")

    window.navigate("analyze", TRAIN_TABLE)
    analyze = window.panel("analyze")
    session.wait(
        _charts_drawn(analyze.histogram, analyze.balance_chart, analyze.correlation_chart),
        "the Analyze charts",
    )
    for index, name in ((1, "analyze"), (2, "analyze-balance"), (3, "analyze-correlation")):
        analyze.tabs.setCurrentIndex(index)
        shot(name)

    window.navigate("train")
    shot("train")

    window.navigate("catalog", state.scored_model)
    catalog = window.panel("catalog")
    session.wait(lambda: catalog.selected_name() == state.scored_model, "the model selected in the catalog")
    session.wait(
        _charts_drawn(catalog.confusion, catalog.top_chart, catalog.importance), "the catalog charts"
    )
    for index, name in ((0, "catalog"), (1, "catalog-curves"), (2, "catalog-importance")):
        catalog.tabs.setCurrentIndex(index)
        shot(name)
    catalog.tabs.setCurrentIndex(catalog.tabs.indexOf(catalog.threshold))
    catalog.threshold.preset.setCurrentIndex(catalog.threshold.preset.findData("max_f1"))
    catalog.threshold.apply_preset.click()
    shot("catalog-threshold")
    catalog.tabs.setCurrentIndex(0)
    window.resize(*SMALL_SIZE)
    shot("catalog-1024")
    window.resize(*WINDOW_SIZE)

    window.navigate("inference")
    shot("inference")

    window.navigate("runs", state.run_id)
    runs = window.panel("runs")
    session.wait(lambda: runs.selected_run_id() == state.run_id, "the run selected in Inference Runs")
    session.wait(_charts_drawn(runs.confusion), "the run's confusion matrix")
    shot("runs")
    runs.tabs.setCurrentIndex(runs.tabs.indexOf(runs.drift))
    shot("runs-drift")
    runs.tabs.setCurrentIndex(0)

    from snowml_desktop.ui.connection_dialog import ConnectionDialog

    dialog = ConnectionDialog(session.ctx, window)
    dialog.show()
    dialog.select(DEMO_APP_PROFILE["name"])
    shot("connections", dialog)
    dialog.close()
    dialog.deleteLater()
    return written


def take_screenshots(out: Path) -> list[Path]:
    """Run the whole demo on a temporary workspace and write the PNGs into ``out``; returns their paths."""
    with tempfile.TemporaryDirectory(prefix="snowml-screenshots-") as tmp, demo_session(Path(tmp)) as session:
        state = run_demo(session)
        return capture(session, state, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the screenshots of every panel.")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNGs (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    for path in take_screenshots(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
