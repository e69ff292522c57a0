"""The main window on a real LocalEngine: navigation, connection bar, Jobs and Activity docks, notices,
settings, start-up laziness and closing while jobs run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest
from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.jobs.runner import JobState
from snowml_desktop.ui.main_window import PANELS, MainWindow
from snowml_desktop.ui.settings import Keys

from .model_fixtures import JOB_MS, settle

# The offscreen platform cannot propagate size hints or raise floating windows; harmless here.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


@pytest.fixture
def window(qtbot, app_context):
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot, app_context)
    yield window
    app_context.jobs.cancel_all()
    settle(qtbot, app_context)


def wait_for_cancel(task: TaskContext) -> str:
    """A job that reports one stage, then runs until cancelled."""
    task.report(0.25, "Counting sheep")
    while not task.token._event.wait(0.01):
        pass
    task.check()
    return "never"


def test_navigation_has_icons_names_and_ctrl_number_shortcuts(qtbot, window):
    nav = window.navigation
    assert [nav.item(i).text() for i in range(nav.count())] == [spec.title for spec in PANELS]
    assert all(not nav.item(i).icon().isNull() for i in range(nav.count()))
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=JOB_MS)
    for number, spec in reversed(list(enumerate(PANELS, start=1))):
        action = window.panel_actions[spec.key]
        assert action.shortcut() == QKeySequence(f"Ctrl+{number}")
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
        assert window.current_key() == spec.key
        assert window.stack.currentWidget() is window.panel(spec.key)


def test_connection_bar_shows_where_we_are(qtbot, window):
    fields = window.connection_bar.fields
    qtbot.waitUntil(lambda: fields["connection_account"].text() == "Local", timeout=JOB_MS)
    info = window.ctx.engine.describe()
    assert fields["connection_role"].text() == (f"Role {info.role}" if info.role else "No role")
    assert fields["connection_namespace"].text() == f"{info.database}.{info.schema}"
    warehouse = fields["connection_warehouse"].text()
    assert info.warehouse.name in warehouse and info.warehouse.size in warehouse and "Standard" in warehouse
    assert "worker" in warehouse  # locally the size means parallel workers
    chooser = window.connection_bar.chooser
    assert chooser.currentData() == "local" and chooser.currentText() == "Local (embedded)"


def test_jobs_dock_row_shows_progress_stage_elapsed_and_cancels(qtbot, window):
    handle = window.ctx.jobs.submit("Long job", wait_for_cancel)
    row = window.jobs_dock.row_for(handle)
    assert row is not None and row.title.text() == "Long job"
    qtbot.waitUntil(lambda: row.stage.text() == "Counting sheep", timeout=JOB_MS)
    assert row.progress.value() == 250 and row.progress.isVisible()
    qtbot.waitUntil(lambda: row.elapsed.text().endswith(" s") and handle.elapsed > 0.5, timeout=JOB_MS)
    assert window.jobs_dock.summary.text().startswith("1 running")
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert handle.state == JobState.CANCELLED
    assert window.jobs_dock.row_for(handle) is row  # row_for brings the row up to date
    assert row.stage.text() == "Cancelled" and not row.cancel_button.isVisible()


def test_engine_error_shows_in_the_dock_and_as_a_notice_with_details(qtbot, window):
    handle = window.ctx.run("Preview a missing table", lambda engine, task: engine.preview("NO_SUCH_TABLE"))
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    row = window.jobs_dock.row_for(handle)
    assert "NO_SUCH_TABLE" in row.stage.text() and "Traceback" not in row.stage.text()
    assert row.details_button.isVisible() and not row.details.isVisible()
    qtbot.mouseClick(row.details_button, Qt.MouseButton.LeftButton)
    assert row.details.isVisible() and "Traceback" in row.details.toPlainText()

    notices = window.notices.notices()
    assert len(notices) == 1
    notice = notices[0]
    assert notice.level == "error" and notice.message.startswith("Preview a missing table: ")
    assert "NO_SUCH_TABLE" in notice.message and "Traceback" not in notice.message
    assert notice.details_button.isVisible() and not notice.details.isVisible()
    notice.details_button.click()
    assert notice.details.isVisible() and "Traceback" in notice.details.toPlainText()
    assert not notice.isModal() and notice.window() is window  # part of the window, not a dialog


def test_activity_dock_logs_each_engine_operation_with_its_duration(qtbot, window):
    dock = window.activity_dock
    dock.clear()
    handle = window.ctx.run("List tables", lambda engine, task: engine.list_tables())
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    qtbot.waitUntil(lambda: dock.model.rowCount() >= 1, timeout=JOB_MS)
    operations = [dock.model.item(r, 1).text() for r in range(dock.model.rowCount())]
    assert "list_tables" in operations
    row = operations.index("list_tables")
    assert dock.model.item(row, 3).text().endswith(" s")
    assert dock.model.item(row, 3).data(Qt.ItemDataRole.UserRole) >= 0
    header = [dock.model.headerData(c, Qt.Orientation.Horizontal) for c in range(dock.model.columnCount())]
    assert header[-1] == "Query ID"
    assert dock.model.item(row, 4).text() == ""  # the local engine has no query ids


def test_window_and_docks_are_remembered(qtbot, app_context):
    first = MainWindow(app_context)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.ensure_all_panels()  # the window's minimum size grows as panels are built: build them all first
    first.resize(720, 540)
    first.navigate("catalog")
    first.activity_dock.raise_()
    first.jobs_dock.setFloating(True)
    settle(qtbot, app_context)
    size = (first.width(), first.height())
    first.close()
    saved = app_context.settings
    assert isinstance(saved.value(Keys.GEOMETRY), QByteArray)
    assert saved.value(Keys.PANEL) == "catalog"

    from snowml_desktop.ui.context import AppContext

    again = AppContext(saved)
    second = MainWindow(again)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    second.ensure_all_panels()
    assert (second.width(), second.height()) == size
    assert second.jobs_dock.isFloating()
    qtbot.waitUntil(lambda: second.current_key() == "catalog", timeout=JOB_MS)
    second.close()
    assert again.shutdown(JOB_MS)


def test_last_connection_is_remembered_and_opened_next_time(qtbot, bare_context):
    from snowml_desktop.app import startup_connection

    with qtbot.waitSignal(bare_context.engine_changed, timeout=JOB_MS, check_params_cb=bool):
        bare_context.connect_to("local")
    assert bare_context.settings.value(Keys.LAST_CONNECTION) == "local"
    assert startup_connection(None, bare_context.settings.value(Keys.LAST_CONNECTION)) == "local"
    assert startup_connection(None, "deleted-since") == "local"  # falls back to the default


def _answer_close_box(button_name: str, seen: list[str]) -> None:
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        QTimer.singleShot(20, lambda: _answer_close_box(button_name, seen))
        return
    seen.append(box.text())
    box.findChild(QPushButton, button_name).click()


def test_closing_with_a_running_job_asks_then_cancels_it(qtbot, window):
    handle = window.ctx.jobs.submit("Long job", wait_for_cancel)
    qtbot.waitUntil(lambda: handle.state == JobState.RUNNING, timeout=JOB_MS)
    seen: list[str] = []

    QTimer.singleShot(0, lambda: _answer_close_box("confirm_close_keep", seen))
    assert not window.close()
    assert window.isVisible() and handle.state == JobState.RUNNING
    assert "Long job" in seen[0]

    QTimer.singleShot(0, lambda: _answer_close_box("confirm_close_quit", seen))
    assert window.close()
    assert handle.state == JobState.CANCELLED
    assert window.ctx.jobs.running() == []


def test_connection_manager_opens_from_the_window(qtbot, window):
    from snowml_desktop.ui.connection_dialog import ConnectionDialog

    window.action_connections.trigger()
    dialog = window.findChild(ConnectionDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.profile_names()[0] == "local"
    dialog.close()


def test_a_bug_in_a_job_is_a_notice_without_its_traceback(qtbot, window):
    def broken(engine, task):
        raise KeyError("internal detail")

    handle = window.ctx.run("Broken job", broken)
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    notice = window.notices.notices()[-1]
    assert notice.message == "Broken job: Unexpected error in Broken job: KeyError"
    assert "internal detail" in notice.details.toPlainText() and not notice.details.isVisible()
    assert threading.current_thread() is threading.main_thread()


def test_window_appears_before_heavy_modules_load(tmp_path):
    """Showing the window imports neither the engine nor the plotting and data libraries; the panels (and
    pyqtgraph) are built on later event-loop turns."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from snowml_desktop.ui.context import AppContext
        from snowml_desktop.ui.main_window import MainWindow
        from snowml_desktop.ui.settings import open_settings
        from pathlib import Path
        window = MainWindow(AppContext(open_settings(Path(sys.argv[1]) / "gui.ini")))
        window.show()
        heavy = ("pandas", "numpy", "sklearn", "duckdb", "pyqtgraph", "snowflake.snowpark",
                 "snowml_desktop.engines.local")
        print("at-show", sorted(m for m in heavy if m in sys.modules))
        while any(type(window.stack.widget(i)).__name__ == "_Pending" for i in range(window.stack.count())):
            app.processEvents()
        print("built", "pyqtgraph" in sys.modules)
        window.ctx.shutdown(5000)
        """
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "SNOWML_CONFIG_DIR": str(tmp_path), "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "at-show []" in lines
    assert "built True" in lines


def test_hidden_panels_refresh_when_shown_not_on_every_change(qtbot, window):
    window.ensure_all_panels()
    window.navigate("inference")
    settle(qtbot, window.ctx)
    names: list[str] = []
    window.ctx.jobs.job_added.connect(lambda h: names.append(h.name))
    window.ctx.tables_changed.emit()
    window.ctx.runs_changed.emit()
    settle(qtbot, window.ctx)
    listed = [name for name in names if name.startswith("List")]
    assert listed == ["List models and tables for scoring"]  # the panel on screen only
    window.navigate("analyze")
    settle(qtbot, window.ctx)
    assert names.count("List tables") == 1


def test_jobs_dock_collects_a_burst_of_job_changes(qtbot, window, monkeypatch):
    from snowml_desktop.ui.jobs_dock import JobRow

    settle(qtbot, window.ctx)
    refreshes: list[int] = []
    original = JobRow.refresh
    monkeypatch.setattr(JobRow, "refresh", lambda row: (refreshes.append(row.handle.id), original(row)))
    handles = [window.ctx.jobs.submit(f"Quick {i}", lambda task: task.report(0.5, "half")) for i in range(6)]
    settle(qtbot, window.ctx)
    qtbot.waitUntil(lambda: not window.jobs_dock._pass.isActive(), timeout=JOB_MS)
    rows = [window.jobs_dock.row_for(h) for h in handles]
    # Each job changed state three times or more (started, progress, ended); its row was drawn far fewer.
    assert len(refreshes) <= 2 * len(handles)
    assert all(row.stage.text() == "Done" and not row.cancel_button.isVisible() for row in rows)
    assert all(row.elapsed.text() == "<0.1 s" or row.elapsed.text().endswith(" s") for row in rows)
    assert all(row.cancel_button.sizePolicy().retainSizeWhenHidden() for row in rows)
