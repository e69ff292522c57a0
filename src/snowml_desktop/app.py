"""The desktop app's entry point: ``snowml-desktop [--workspace DIR] [--connection NAME]``.

Startup is ordered for speed: the window is built and shown first (Qt only; no pandas, scikit-learn,
DuckDB or Snowpark), then the connection opens in a job and the heavy libraries load in another, while
the window already responds.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "main", "run_gui", "startup_connection"]

log = logging.getLogger("snowml_desktop")

APP_NAME = "snowml-desktop"


def build_parser() -> argparse.ArgumentParser:
    """The command-line options. Other modes (e.g. a self-test) add their options here."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="Point-and-click machine learning on Snowflake."
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="folder of the local (embedded) warehouse for this session",
    )
    parser.add_argument(
        "--connection", metavar="NAME", help="connection to open (default: the last one used)"
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (load, train and score in a temporary workspace, Snowflake modules, "
        "Snowpark local testing); prints one line, exits 0 or 1",
    )
    # For benchmarks/bench_startup.py: print the seconds to the first shown window, then quit.
    parser.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments) and run the app; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.version:
        from snowml_desktop import __version__

        print(f"{APP_NAME} {__version__}")
        return 0
    if args.self_test:
        from snowml_desktop import logs
        from snowml_desktop.selftest import run_self_test

        return run_self_test(log_file=logs.configure(console=False))
    return run_gui(args)


def run_gui(args: argparse.Namespace) -> int:
    """Show the main window and run the event loop until it closes."""
    started = time.perf_counter()
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from snowml_desktop import logs

    logs.configure()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt_pass_through())
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("snowml")
    app.setApplicationDisplayName("snowml-desktop")
    app.setDesktopFileName(APP_NAME)

    from snowml_desktop.ui import icons
    from snowml_desktop.ui.context import AppContext
    from snowml_desktop.ui.main_window import MainWindow

    app.setWindowIcon(icons.icon("app", "#2a7fc1"))
    ctx = AppContext(workspace=args.workspace)
    window = MainWindow(ctx)
    _install_excepthook(window)
    window.show()
    if args.quit_after_show:
        QTimer.singleShot(0, lambda: _report_shown(window, started))
    else:
        QTimer.singleShot(0, lambda: _start_background_work(ctx, window, args.connection))
    code = app.exec()
    ctx.shutdown()
    return code


def startup_connection(requested: str | None, last: object) -> str:
    """The connection to open at start: ``requested`` (--connection), else the last one used, else the
    default set in the connection manager, else local. A remembered name that no longer exists falls
    back to the default."""
    from snowml_desktop.core import connections

    if requested:
        return requested
    if isinstance(last, str) and last:
        try:
            return connections.get_profile(last).name
        except Exception:  # noqa: BLE001 - deleted or unreadable: fall through to the default
            log.info("Last connection %r is gone; opening the default", last)
    try:
        return connections.get_default()
    except Exception:  # noqa: BLE001 - a broken settings file must not stop the app
        log.exception("Could not read the default connection")
        return connections.LOCAL


def _start_background_work(ctx, window, requested: str | None) -> None:  # noqa: ANN001
    """Connect (asking first for a secret the keyring lacks, as choosing the connection in the bar does),
    then warm the analysis libraries."""
    from snowml_desktop.ui.login_prompt import request_connection
    from snowml_desktop.ui.settings import Keys

    request_connection(ctx, startup_connection(requested, ctx.settings.value(Keys.LAST_CONNECTION)), window)
    ctx.jobs.submit("Load analysis libraries", _preload_libraries)


def _preload_libraries(task) -> None:  # noqa: ANN001
    """Import the heavy libraries off the GUI thread so the first train or preview does not wait."""
    import importlib

    modules = ("numpy", "pandas", "pyarrow", "sklearn.ensemble", "sklearn.linear_model", "sklearn.metrics")
    for index, name in enumerate(modules):
        task.report(index / len(modules), f"Loading {name}…")
        importlib.import_module(name)


def _report_shown(window, started: float) -> None:  # noqa: ANN001
    from PySide6.QtWidgets import QApplication

    handle = window.windowHandle()
    if handle is None or not handle.isExposed():
        from PySide6.QtCore import QTimer

        QTimer.singleShot(1, lambda: _report_shown(window, started))
        return
    print(f"window-shown {time.perf_counter() - started:.4f}", flush=True)
    window.close()
    QApplication.quit()


def Qt_pass_through():  # noqa: ANN201, N802 - reads like the enum it returns
    """Fractional scale factors as they are (crisp on 125 % / 150 % screens)."""
    from PySide6.QtCore import Qt

    return Qt.HighDpiScaleFactorRoundingPolicy.PassThrough


def _install_excepthook(window) -> None:  # noqa: ANN001
    """A bug in a slot is logged and shown as a notice with details, never as a crash or raw traceback."""
    from snowml_desktop.jobs.runner import ErrorInfo

    def hook(exc_type, exc, tb) -> None:  # noqa: ANN001
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("Unhandled error", exc_info=(exc_type, exc, tb))
        with contextlib.suppress(Exception):  # the window may be gone during shutdown
            window.notices.show_error("", ErrorInfo.from_exception("the window", exc.with_traceback(tb)))

    sys.excepthook = hook


if __name__ == "__main__":
    sys.exit(main())
