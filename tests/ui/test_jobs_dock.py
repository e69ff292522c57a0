"""The Jobs dock keeps the running job in view (issue 10, item 17): running jobs first, quick housekeeping
hidden unless asked for, one line per job so a small dock still shows several."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from snowml_desktop.ui.main_window import DEFAULT_DOCK_HEIGHT, MainWindow

from .model_fixtures import JOB_MS, settle

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
#: The dock area's height on first start, tab bar included.
DOCK = DEFAULT_DOCK_HEIGHT


def run_until_cancelled(task):
    task.report(0.1, "Working")
    while not task.token._event.wait(0.01):
        pass
    task.check()


@pytest.fixture
def window(qtbot, app_context):
    window = MainWindow(app_context)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot, app_context)
    yield window
    app_context.jobs.cancel_all()  # before closing: a running job would make the window ask
    settle(qtbot, app_context)
    window.close()


def test_the_running_job_stays_on_top_of_quick_housekeeping(qtbot, window):
    dock = window.jobs_dock
    long_job = window.ctx.jobs.submit("Train Random Forest on SALES", run_until_cancelled)
    qtbot.waitUntil(lambda: dock.row_for(long_job).stage.text() == "Working", timeout=JOB_MS)
    quick = [
        window.ctx.run("List tables", lambda engine, task: engine.list_tables(), key=f"refresh{i}")
        for i in range(5)
    ]
    settle_until = lambda: all(h.done for h in quick)  # noqa: E731
    qtbot.waitUntil(settle_until, timeout=JOB_MS)
    failed = window.ctx.run("Preview a missing table", lambda engine, task: engine.preview("NO_SUCH"), key="p")
    qtbot.waitUntil(lambda: failed.done, timeout=JOB_MS)
    visible = dock.visible_rows()
    assert visible[0].handle is long_job  # running first, though four jobs started after it
    assert [row.handle for row in visible] == [long_job, failed]  # quick reads hidden, the failure shown
    assert not any(dock.row_for(h).isVisible() for h in quick)
    hidden = sum(1 for row in dock.rows() if row.isHidden())
    assert hidden >= 5 and f"{hidden} quick refreshes hidden" in dock.summary.text()
    dock.show_quick.setChecked(True)
    assert [row.handle for row in dock.visible_rows()][:1] == [long_job]
    assert all(dock.row_for(h).isVisible() for h in quick)

    with qtbot.waitSignal(long_job.finished, timeout=JOB_MS):
        dock.row_for(long_job).cancel_button.click()
    assert dock.rows()[-1].handle is not long_job and dock.row_for(long_job).isVisible()  # user-cancelled: kept


def test_a_small_dock_shows_the_running_job_whole(qtbot, window):
    dock = window.jobs_dock
    window.resizeDocks([dock], [DOCK], Qt.Orientation.Vertical)
    handles = [window.ctx.jobs.submit(f"Job {i}", run_until_cancelled) for i in range(3)]
    qtbot.waitUntil(lambda: all(dock.row_for(h).stage.text() == "Working" for h in handles), timeout=JOB_MS)
    window.resizeDocks([dock], [DOCK], Qt.Orientation.Vertical)
    QApplication.processEvents()
    assert dock.minimumSizeHint().height() <= DOCK
    area = dock.findChild(QScrollArea, "jobs_list")
    shown = [row for row in dock.visible_rows() if row.geometry().bottom() <= area.viewport().height()]
    assert len(shown) >= 2, (dock.height(), area.viewport().height(), [r.height() for r in dock.rows()])
    assert all(row.height() <= 2.5 * row.fontMetrics().height() for row in dock.rows())
