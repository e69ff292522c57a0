"""The setup prompt driven as a user would: it appears when the app connects to an account that needs setup,
shows objects, privileges and SQL, runs setup in a job with progress, and reports a failure in place.

The engine is the real SnowflakeEngine on the offline test double of an account that was never set up
(tests/snowflake/sf_setup_account.py; it stands in only for the network and Snowpark's registration).
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from snowml_desktop.engines.snowflake import sql
from snowml_desktop.ui.main_window import MainWindow
from snowml_desktop.ui.setup_dialog import SetupDialog, SetupWatcher
from tests.snowflake.sf_setup_account import RecordingSprocs, refuse, setup_account, setup_engine

from .model_fixtures import JOB_MS, settle

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def _changes(account) -> list[str]:
    return [s.text for s in account.log if s.text.startswith(("CREATE", "PUT", "MERGE"))]


@pytest.fixture
def window(qtbot) -> QWidget:
    """The parent window of the prompt."""
    parent = QWidget()
    parent.setObjectName("test_window")
    qtbot.addWidget(parent)
    return parent


def _prompted(qtbot, ctx, window, engine) -> tuple[SetupWatcher, SetupDialog]:
    watcher = SetupWatcher(ctx, window)
    ctx.set_engine(engine, "work")
    qtbot.waitUntil(lambda: watcher.dialog is not None, timeout=JOB_MS)
    return watcher, watcher.dialog


def test_connecting_prompts_with_the_plan_and_run_setup_runs_it(qtbot, bare_context, window) -> None:
    account, sprocs = setup_account(), RecordingSprocs()
    watcher, dialog = _prompted(qtbot, bare_context, window, setup_engine(account, sprocs))
    assert dialog.isVisible() and not dialog.isModal()  # the main window stays usable
    assert "not been set up" in dialog.reason.text()
    shown = [dialog.objects.item(i).text() for i in range(dialog.objects.count())]
    assert shown == dialog.plan.objects and any("MODELS_CATALOG" in o for o in shown)
    privileges = [dialog.privileges.item(i).text() for i in range(dialog.privileges.count())]
    assert any(p.startswith("CREATE SCHEMA on database DB") for p in privileges)
    assert not dialog.sql.isVisible()
    qtbot.mouseClick(dialog.sql_toggle, Qt.MouseButton.LeftButton)
    assert dialog.sql.isVisible() and dialog.sql_toggle.text() == "Hide SQL"
    assert 'CREATE SCHEMA IF NOT EXISTS "DB"."SNOWML"' in dialog.sql.toPlainText()
    assert _changes(account) == []  # showing the plan changed nothing

    progress: list[float] = []
    refreshed: list[str] = []
    bare_context.jobs.job_added.connect(lambda job: job.progress.connect(lambda f, _s: progress.append(f)))
    bare_context.tables_changed.connect(lambda: refreshed.append("tables"))
    bare_context.models_changed.connect(lambda _name: refreshed.append("models"))
    with qtbot.waitSignal(watcher.setup_finished, timeout=JOB_MS) as finished:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert not finished.args[0].needed
    assert [c["name"].rsplit(".", 1)[-1] for c in sprocs.calls] == [f'"{name}"' for name in sql.PROCEDURES]
    assert any(t.startswith('MERGE INTO "DB"."SNOWML"."SETUP_STATE"') for t in _changes(account))
    assert progress and progress[-1] == 1.0
    assert {"tables", "models"} <= set(refreshed)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: watcher.dialog is None)
    settle(qtbot, bare_context)


def test_a_failed_run_shows_why_and_the_dialog_stays_usable(qtbot, bare_context, window) -> None:
    account = setup_account()
    refuse(account, r"^CREATE STAGE", "schema 'SNOWML'")
    watcher, dialog = _prompted(qtbot, bare_context, window, setup_engine(account))
    with qtbot.waitSignal(bare_context.jobs.job_added, timeout=JOB_MS) as added:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(added.args[0].finished, timeout=JOB_MS):
        pass
    assert dialog.isVisible()
    assert dialog.status.text().startswith(
        "Setup failed: Setup needs CREATE STAGE on schema DB.SNOWML, which role ANALYST does not have."
    )
    assert "Traceback" not in dialog.status.text()
    assert dialog.run_button.isEnabled() and dialog.close_button.isEnabled()

    account.answers.pop(0)  # an admin granted the privilege: the same dialog now completes setup
    with qtbot.waitSignal(dialog.setup_finished, timeout=JOB_MS):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    settle(qtbot, bare_context)


def test_not_now_closes_without_running_and_a_new_connection_replaces_the_prompt(
    qtbot, bare_context, window
) -> None:
    first = setup_account()
    watcher, dialog = _prompted(qtbot, bare_context, window, setup_engine(first))
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and watcher.dialog is None
    assert _changes(first) == []

    watcher.open_dialog()  # File > Snowflake setup… reopens it on demand
    qtbot.waitUntil(lambda: watcher.dialog.run_button.isEnabled(), timeout=JOB_MS)
    stale = watcher.dialog
    bare_context.set_engine(setup_engine(setup_account()), "other")
    assert not stale.isVisible()  # its plan was for the previous engine
    qtbot.waitUntil(lambda: watcher.dialog is not None and watcher.dialog is not stale, timeout=JOB_MS)
    watcher.dialog.reject()
    settle(qtbot, bare_context)


def test_closing_while_setup_runs_cancels_it_and_stays_open(qtbot, bare_context, window) -> None:
    account = setup_account()
    entered, release = threading.Event(), threading.Event()

    def slow_stage(_statement) -> list[dict]:
        entered.set()
        release.wait(10)
        return []

    account.answer(r"^CREATE STAGE", slow_stage)
    watcher, dialog = _prompted(qtbot, bare_context, window, setup_engine(account))
    with qtbot.waitSignal(bare_context.jobs.job_added, timeout=JOB_MS) as added:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    job = added.args[0]
    assert entered.wait(10)
    assert not dialog.close_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # asks to cancel; the dialog stays to show the outcome
    assert dialog.isVisible() and job.cancel_requested
    with qtbot.waitSignal(job.finished, timeout=JOB_MS):
        release.set()
    assert job.state == "cancelled" and "cancelled" in dialog.status.text()
    assert dialog.run_button.isEnabled() and dialog.isVisible()
    assert not any(t.startswith("MERGE") for t in _changes(account))  # not recorded as done
    dialog.reject()
    settle(qtbot, bare_context)


def test_local_engine_never_prompts_and_the_menu_says_nothing_to_set_up(qtbot, app_context) -> None:
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, app_context)
    assert window.setup_watcher.dialog is None
    assert window.action_setup.isEnabled()
    window.action_setup.trigger()
    dialog = window.setup_watcher.dialog
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=JOB_MS)
    assert dialog.reason.text() == "The embedded warehouse needs no setup."
    assert dialog.status.text() == "Nothing to set up."
    assert not dialog.run_button.isEnabled() and dialog.close_button.text() == "Close"
    assert not dialog.sql_toggle.isEnabled()
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert window.setup_watcher.dialog is None


def test_setup_menu_is_disabled_while_not_connected(qtbot, bare_context) -> None:
    window = MainWindow(bare_context)
    qtbot.addWidget(window)
    assert not window.action_setup.isEnabled()


def test_the_main_window_prompts_on_connect_and_reports_success(qtbot, bare_context) -> None:
    window = MainWindow(bare_context)
    qtbot.addWidget(window)
    window.show()
    bare_context.set_engine(setup_engine(setup_account()), "work")
    qtbot.waitUntil(lambda: window.setup_watcher.dialog is not None, timeout=JOB_MS)
    dialog = window.setup_watcher.dialog
    assert dialog.parent() is window and dialog.isVisible()
    with qtbot.waitSignal(dialog.setup_finished, timeout=JOB_MS):
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert [n.message for n in window.notices.notices()] == ["Setup finished."]
    settle(qtbot, bare_context)


def test_a_check_that_fails_shows_a_notice_and_no_prompt(qtbot, bare_context) -> None:
    window = MainWindow(bare_context)
    qtbot.addWidget(window)
    window.show()
    bare_context.set_engine(setup_engine(setup_account(missing_package="optuna")), "work")
    settle(qtbot, bare_context)
    messages = [n.message for n in window.notices.notices()]
    assert any(
        m.startswith("Check setup: The account's Anaconda channel has no optuna>=3.5") for m in messages
    )
    assert window.setup_watcher.dialog is None


def test_a_window_built_after_connecting_still_prompts(qtbot, bare_context) -> None:
    bare_context.set_engine(setup_engine(setup_account()), "work")
    window = MainWindow(bare_context)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.setup_watcher.dialog is not None, timeout=JOB_MS)
    window.setup_watcher.dialog.reject()
    settle(qtbot, bare_context)
