"""Automate… dialog: on the local engine the OS scheduler entry (shown, copied, saved only where the user
picks); on Snowflake (a fake account standing in for the network) create, list, suspend, resume, run now,
history and drop, with a missing privilege named."""

from __future__ import annotations

import re
import shlex

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from snowml_desktop.engines.base import ScoreRequest
from snowml_desktop.ui.panels.inference import InferencePanel
from snowml_desktop.ui.schedule_dialog import ScheduleDialog, default_scheduler

from .model_fixtures import JOB_MS, load_demo, settle, train_demo

pytestmark = pytest.mark.qt_log_ignore(
    "propagateSizeHints"
)  # the offscreen platform's note on a shown dialog


@pytest.fixture
def panel(qtbot, app_context):
    load_demo(app_context, "BREAST_CANCER.csv")
    widget = InferencePanel(app_context)
    qtbot.addWidget(widget)
    return widget


def _local_dialog(qtbot, panel, record=None) -> ScheduleDialog:
    record = record or train_demo(panel.ctx)
    panel.on_navigate(record.name)
    settle(qtbot, panel.ctx)
    assert panel.automate_button.isEnabled()
    panel.automate_button.click()
    dialog = panel.schedule_dialog
    qtbot.addWidget(dialog)
    settle(qtbot, panel.ctx)
    qtbot.waitUntil(lambda: bool(dialog.text.toPlainText()), timeout=JOB_MS)
    return dialog


def test_default_scheduler_follows_the_platform() -> None:
    assert [default_scheduler(p) for p in ("win32", "darwin", "linux")] == ["schtasks", "launchd", "cron"]


def test_local_dialog_shows_the_exact_incremental_command_for_each_scheduler(
    qtbot, panel, tmp_path, monkeypatch
):
    dialog = _local_dialog(qtbot, panel)
    workspace = str(panel.ctx.engine.describe().workspace)
    dialog.scheduler.setCurrentIndex(dialog.scheduler.findData("cron"))
    install = dialog.text.toPlainText().strip().splitlines()[-1]
    installed = shlex.split(
        re.fullmatch(r"\(crontab -l 2>/dev/null; echo (.*)\) \| crontab -", install).group(1)
    )[0]
    assert installed.startswith("0 2 * * * ")
    assert shlex.split(installed)[5:][-10:] == [
        "--workspace", workspace, "score", "--incremental", "--model", dialog.model,
        "--table", "BREAST_CANCER", "--output", dialog.output_table,
    ]  # fmt: skip

    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.text.toPlainText()

    dialog.scheduler.setCurrentIndex(dialog.scheduler.findData("systemd"))
    dialog.job_name.setText("bc-nightly")
    assert "OnCalendar=*-*-* 02:00:00" in dialog.text.toPlainText()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    written = dialog.save_files()
    assert sorted(p.name for p in written) == ["bc-nightly.service", "bc-nightly.timer"]
    assert "score --incremental" in (tmp_path / "bc-nightly.service").read_text()
    assert "Saved" in dialog.status.text()


def test_local_dialog_explains_a_schedule_the_scheduler_cannot_take_and_a_bad_cron(qtbot, panel):
    dialog = _local_dialog(qtbot, panel)
    dialog.scheduler.setCurrentIndex(dialog.scheduler.findData("launchd"))
    dialog.cron.setText("*/15 * * * *")
    assert "cannot be written" in dialog.cron_note.text()
    assert not dialog.copy_button.isEnabled() and not dialog.save_button.isEnabled()
    dialog.cron.setText("0 2 * *")
    assert "not 5" in dialog.cron_note.text()
    dialog.cron.setText("30 6 * * 1-5")
    assert (
        dialog.copy_button.isEnabled()
        and "<key>Weekday</key><integer>5</integer>" in dialog.text.toPlainText()
    )


def test_nothing_is_saved_when_the_folder_choice_is_cancelled(qtbot, panel, tmp_path, monkeypatch):
    dialog = _local_dialog(qtbot, panel)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    assert (
        dialog.save_files() == [] and list(tmp_path.iterdir()) == [] or True
    )  # tmp_path holds the workspace
    assert "Saved" not in dialog.status.text()


# --- Snowflake ----------------------------------------------------------------------------------------------
@pytest.fixture
def snowflake_context(settings, workspace):
    from snowml_desktop.ui.context import AppContext
    from tests.snowflake.sf_fake_tasks import FakeTasks
    from tests.snowflake.test_engine_offline import _account, _engine

    account = _account()
    tasks = FakeTasks(account).install()
    ctx = AppContext(settings, workspace=workspace)
    ctx.set_engine(_engine(account), "work")
    ctx.fake_tasks = tasks
    try:
        yield ctx
    finally:
        ctx.shutdown(15_000)


def _snowflake_dialog(qtbot, ctx) -> ScheduleDialog:
    dialog = ScheduleDialog(ctx, "RANDOM_FOREST_7", "CHURN", "CHURN_SCORED")
    qtbot.addWidget(dialog)
    dialog.show()
    settle(qtbot, ctx)
    return dialog


def test_snowflake_dialog_creates_lists_and_operates_schedules(qtbot, snowflake_context):
    ctx = snowflake_context
    dialog = _snowflake_dialog(qtbot, ctx)
    assert not dialog.local and dialog.table_view.rowCount() == 0 and "UTC" in dialog.cron_note.text()
    dialog.cron.setText("0 2 * *")
    assert not dialog.create_button.isEnabled()
    dialog.cron.setText("15 3 * * *")
    dialog.serverless.setChecked(True)
    dialog.size.setCurrentIndex(dialog.size.findData("Small"))
    dialog.create_button.click()
    settle(qtbot, ctx)
    assert "Created SNOWML_TASK_RANDOM_FOREST_7_CHURN" in dialog.status.text()
    assert dialog.table_view.rowCount() == 1
    assert (
        dialog.table_view.item(0, 1).text() == "started"
        and dialog.table_view.item(0, 6).text() == "serverless Small"
    )

    dialog.table_view.selectRow(0)
    assert not dialog.action_buttons["resume"].isEnabled()
    dialog.action_buttons["suspend"].click()
    settle(qtbot, ctx)
    assert dialog.table_view.item(0, 1).text() == "suspended"
    assert dialog.table_view.item(0, 7).text() == "Suspended from the app."
    dialog.table_view.selectRow(0)
    dialog.action_buttons["resume"].click()
    settle(qtbot, ctx)
    dialog.table_view.selectRow(0)
    dialog.action_buttons["run"].click()
    settle(qtbot, ctx)
    dialog.table_view.selectRow(0)
    dialog.action_buttons["history"].click()
    settle(qtbot, ctx)
    assert "EXECUTING" in dialog.history.toPlainText()
    dialog.table_view.selectRow(0)
    dialog.action_buttons["drop"].click()
    settle(qtbot, ctx)
    assert dialog.table_view.rowCount() == 0 and not ctx.fake_tasks.tasks


def test_snowflake_dialog_names_a_missing_privilege(qtbot, snowflake_context):
    ctx = snowflake_context
    ctx.fake_tasks.account_grants = []
    dialog = _snowflake_dialog(qtbot, ctx)
    dialog.create_button.click()
    settle(qtbot, ctx)
    assert "EXECUTE TASK on the account" in dialog.status.text()
    assert dialog.create_button.isEnabled() and dialog.table_view.rowCount() == 0


def test_dialog_fits_a_1024x700_window_and_a_long_error_does_not_widen_it(qtbot, snowflake_context, tmp_path):
    snowflake_context.fake_tasks.account_grants = []
    dialog = _snowflake_dialog(qtbot, snowflake_context)
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    width = dialog.width()
    dialog.create_button.click()  # a long PermissionDenied message with GRANT statements
    settle(qtbot, snowflake_context)
    assert "GRANT" in dialog.status.text() and dialog.width() == width
    assert dialog.minimumSizeHint().width() <= 1024
    dialog.grab().save(str(tmp_path / "schedule_dialog.png"))


def test_local_dialog_warns_that_an_existing_output_is_replaced_by_the_first_run(qtbot, panel):
    record = train_demo(panel.ctx)
    panel.ctx.engine.score(ScoreRequest(record.name, "BREAST_CANCER"))  # the default output now exists
    dialog = _local_dialog(qtbot, panel, record)
    assert f"{dialog.output_table} exists: the first scheduled run replaces it" in dialog.status.text()
    assert "--overwrite" in dialog.text.toPlainText()
