"""Long messages never set the window's width (issue 10, item 15): the connection bar elides with the full
text in a tooltip, notices wrap, and a GUI user is told GUI steps rather than command-line options."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from snowml_desktop.core.errors import ConnectionFailed
from snowml_desktop.jobs.runner import ErrorInfo
from snowml_desktop.ui.main_window import MainWindow

from .model_fixtures import settle

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

DRIVER_TEXT = (
    "Could not connect to Snowflake account myorg-an_account_with_a_long_name: 250001 (08001): Failed to "
    "connect to DB: myorg-an_account_with_a_long_name.snowflakecomputing.com:443. Incorrect username or "
    "password was specified. Connection to https://myorg-an_account_with_a_long_name.snowflakecomputing.com"
    "/session/v1/login-request?request_id=0d6a4b0e-1f7e-4b9a-9d76-5f2a1a0c6d3e failed after 3 attempt(s)."
    "Aborting"
)
#: What a failed connection reports: the driver's text, then the hint (core.errors joins them).
LONG = str(ConnectionFailed(DRIVER_TEXT, hint="Check the account identifier, user and password."))
IN_USE = (
    "The workspace /home/someone/.local/share/snowml-desktop/a/folder/with/a/very/long/path/that/goes/on "
    "is in use by another snowml process (pid 12345). Close that process, or open a different workspace "
    "with --workspace."
)


@pytest.fixture
def window(qtbot, app_context):
    window = MainWindow(app_context)
    window.ensure_all_panels()
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot, app_context)
    yield window
    app_context.jobs.cancel_all()  # before closing: a running refresh would make the window ask
    settle(qtbot, app_context)
    window.close()


@pytest.mark.parametrize("size", [(1280, 820), (1024, 700)])
def test_a_long_connection_error_neither_widens_the_window_nor_loses_its_text(qtbot, window, size):
    window.resize(*size)
    QApplication.processEvents()
    window.ctx.connection_failed.emit("prod", ErrorInfo(LONG, "Traceback …", "connection_failed"))
    window.notices.show_error("Connect to prod", ErrorInfo(LONG, "Traceback …", "connection_failed"))
    window.notices.show_error("Open the workspace", ErrorInfo(IN_USE, "", "connection_failed"))
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1024
    assert (window.width(), window.height()) == size
    state = window.connection_bar.state
    assert state.geometry().right() <= window.width()
    assert "Aborting. Check" in state.toolTip()  # the full text, sentences apart
    notices = window.notices.notices()
    assert all(n.geometry().right() <= window.width() for n in notices)
    assert all(n.sizeHint().height() < 200 for n in notices)


def test_the_in_use_message_gives_gui_steps(qtbot, window):
    notice = window.notices.show_error("Open the workspace", ErrorInfo(IN_USE, "", "connection_failed"))
    window.ctx.connection_failed.emit("local", ErrorInfo(IN_USE, "", "connection_failed"))

    def in_use(task):
        raise ConnectionFailed(IN_USE)

    handle = window.ctx.jobs.submit("Open the workspace", in_use)
    qtbot.waitUntil(lambda: handle.done, timeout=15_000)
    row = window.jobs_dock.row_for(handle)
    for text in (notice.message, window.connection_bar.state.toolTip(), row.stage.text()):
        assert "--workspace" not in text
        assert "File › Connections…" in text


def test_notices_do_not_pile_up_across_panels(qtbot, window):
    """Issue 10, item 18: a notice belongs to the section it came in; moving on dismisses it."""
    window.navigate("load")
    window.notices.show_error("Load CHURN.csv", ErrorInfo("The file is empty.", "", "invalid_input"))
    window.navigate("train")
    window.notices.show_error("Train", ErrorInfo("No usable feature.", "", "invalid_input"))
    assert [n.message for n in window.notices.notices()] == ["Train: No usable feature."]
    window.navigate("train")  # staying in the section keeps its notices
    assert len(window.notices.notices()) == 1


def test_the_window_fits_1024_by_700_with_notices_showing(qtbot, window):
    """Issue 10, item 16: every panel fits 1024 × 700 with two notices and the Jobs dock showing."""
    window.resize(1024, 700)
    for spec in ("load", "analyze", "train", "catalog", "inference", "runs"):
        window.navigate(spec)
        window.notices.show_error("First", ErrorInfo(IN_USE, "", "connection_failed"))
        window.notices.show_error("Second", ErrorInfo(LONG, "", "connection_failed"))
        QApplication.processEvents()
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, spec
        assert (window.width(), window.height()) == (1024, 700), spec
        assert window.jobs_dock.isVisible()


@pytest.mark.parametrize("size", [(1024, 700), (1280, 820)])
def test_a_failed_load_shows_gui_wording_and_a_long_message_does_not_widen_the_window(
    qtbot, window, tmp_path, size
):
    """The Load Data panel words a failed load for the GUI like every other error (``for_gui``), and a long
    message (a 200-character file name, which no space breaks) wraps or is cut, never setting the width."""
    window.resize(*size)
    window.navigate("load")
    panel = window.panel("load")
    settle(qtbot, window.ctx)
    name = "quarterly_sales_" + "x" * 180 + ".csv"
    source = tmp_path / name
    source.write_text("A,B\n1,2\n", encoding="utf-8")
    panel.upload_paths([source])
    qtbot.waitUntil(lambda: panel.selected_file() == name, timeout=15_000)
    settle(qtbot, window.ctx)
    (window.ctx.engine.workspace.stage_dir("LOAD_DATA") / name).unlink()  # gone since it was listed
    panel.start_load()
    settle(qtbot, window.ctx)
    QApplication.processEvents()
    shown = panel.status.text()
    assert "There is no file" in shown and "x" * 180 in panel.status.toolTip()
    assert "snowml put" not in shown and "Upload it first (Upload… in Load Data)" in shown
    assert window.minimumSizeHint().width() <= 1024
    assert (window.width(), window.height()) == size
    assert panel.status.mapTo(window, panel.status.rect().topRight()).x() <= window.width()
    window.grab().save(str(tmp_path / f"load-error-{size[0]}.png"))


def test_the_disk_full_and_stage_file_hints_give_gui_steps():
    import errno

    from snowml_desktop.engines.local import sqlrun
    from snowml_desktop.ui.wording import for_gui

    full = str(sqlrun.resource_error(OSError(errno.ENOSPC, "No space left on device")))
    assert "--workspace" in full  # the engine speaks to the command line
    assert "--workspace" not in for_gui(full) and "File › Connections…" in for_gui(full)
    misnamed = for_gui("'a/b' is not a file name on stage LOAD_DATA. Give the file's name only, as shown by `snowml files`.")
    assert "snowml" not in misnamed and "Load Data's list" in misnamed


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1280, 820), (1024, 700)])
def test_the_recommendation_and_a_calibration_plan_wrap_in_the_inference_panel(
    qtbot, window, size, small_batches
):
    """The recommended size's long texts (why there is none, with Calibrate… beside it; a calibration's
    plan and result) wrap: the window keeps its size and the panel still fits 1024 × 700."""
    from .model_fixtures import load_demo, train_demo

    load_demo(window.ctx)
    record = train_demo(window.ctx, "logistic_regression")
    window.resize(*size)
    window.navigate("inference", record.name)
    settle(qtbot, window.ctx)
    panel = window.panel("inference")
    assert panel.recommendation.text().startswith("No recommended size yet: ")
    assert panel.calibrate_button.isVisible() and panel.calibrate_button.isEnabled()
    plan = window.ctx.engine.plan_calibration(record.name, "BREAST_CANCER")
    panel.status.show_success(f"{plan.summary()} {plan.summary()}")
    QApplication.processEvents()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    assert (window.width(), window.height()) == size
    for widget in (panel.recommendation, panel.calibrate_button, panel.status.message):
        right = widget.mapTo(window, widget.rect().topRight()).x()
        assert right <= window.width(), widget.objectName()
