""" "Check account" in the connection manager: the read-only account check runs in a job, off the GUI thread,
and its lines appear in a table with the fixes copyable; a failed login is the check's answer.

Only the network is faked: the Snowpark login (``open_session``) and the statements' answers, which come
from ``tests/snowflake/sf_fake_doctor.py`` (shapes cited from Snowflake's documentation)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtGui import QGuiApplication

from snowml_desktop.engines.snowflake.warehouse import Journal, WarehouseSettings
from snowml_desktop.ui.account_check_dialog import COLUMNS
from snowml_desktop.ui.connection_dialog import ConnectionDialog
from tests.snowflake.sf_fake_doctor import DoctorAccount, fake_account

from .model_fixtures import JOB_MS, settle

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def context(qtbot, settings):
    from snowml_desktop.ui.context import AppContext

    ctx = AppContext(settings)
    yield ctx
    ctx.shutdown(JOB_MS)


@pytest.fixture
def dialog(qtbot, context):
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    if dialog.check_dialog is not None:
        dialog.check_dialog.close()
    settle(qtbot, context)


def add_snowflake(dialog: ConnectionDialog) -> None:
    dialog.add_button.click()
    for attribute, value in dict(
        name="work", account="org-acct", user="ANA", warehouse="WH", database="DB"
    ).items():
        dialog.fields[attribute].setText(value)
    dialog.authenticator.setCurrentIndex(dialog.authenticator.findData("snowflake_jwt"))
    dialog.key_file.setText("/keys/rsa_key.p8")
    dialog._mark_dirty()
    assert dialog.save(), dialog.status.text()


@pytest.fixture
def network(monkeypatch):
    """Stand in for the network: the login returns a session object and statements go to the account."""
    from snowml_desktop.engines.snowflake import engine

    state = {"account": fake_account(DoctorAccount()), "threads": []}

    class Session:
        def close(self) -> None:
            pass

    def login(profile, *args, **kwargs):
        state["threads"].append(threading.current_thread())
        return Session()

    monkeypatch.setattr(engine, "open_session", login)
    monkeypatch.setattr(engine, "SnowparkRunner", lambda session: state["account"])
    return state


def run_check(qtbot, dialog):
    handle = dialog.check_account()
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    qtbot.waitUntil(
        lambda: dialog.check_dialog is not None and dialog.check_dialog.isVisible(), timeout=JOB_MS
    )
    return dialog.check_dialog


def cells(check_dialog) -> dict[str, list[str]]:
    table = check_dialog.table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == list(COLUMNS)
    return {
        table.item(row, 1).text(): [table.item(row, c).text() for c in range(table.columnCount())]
        for row in range(table.rowCount())
    }


def test_check_account_on_snowflake_runs_off_the_gui_thread_and_changes_nothing(qtbot, dialog, network):
    journal = Journal("ACCT")  # the config folder is the test's
    journal.write(WarehouseSettings("WH", "XSMALL", "STANDARD", "STARTED", "STANDARD_GEN_1"), "convert")
    network["account"] = fake_account(
        DoctorAccount(warehouse_grants=[("USAGE", "ANALYST")], account_grants=[])
    )
    add_snowflake(dialog)

    shown = run_check(qtbot, dialog)
    assert network["threads"] and network["threads"][0] is not threading.main_thread()
    rows = cells(shown)
    assert rows["warehouse MODIFY"][:2] == ["MISSING", "warehouse MODIFY"]
    assert rows["warehouse MODIFY"][3] == 'GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST";'
    assert rows["restore WH"][0] == "MISSING"  # reported, not replayed
    assert not [s.text for s in network["account"].log if not s.text.startswith(("SELECT", "SHOW"))]
    assert journal.read("WH") is not None
    assert "3 missing" in shown.summary.text()
    assert "see the check window" in dialog.status.text()

    assert shown.copy_button.isEnabled()
    shown.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert 'GRANT MODIFY ON WAREHOUSE "WH" TO ROLE "ANALYST";' in copied
    assert "-- warehouse OPERATE (missing)" in copied


def test_a_failed_login_shows_as_the_missing_login_line(qtbot, dialog, monkeypatch):
    from snowml_desktop.core.errors import ConnectionFailed
    from snowml_desktop.engines.snowflake import engine

    def refused(profile, *args, **kwargs):
        raise ConnectionFailed("Connection 'work': the key-pair login was refused.")

    monkeypatch.setattr(engine, "open_session", refused)
    add_snowflake(dialog)
    shown = run_check(qtbot, dialog)
    assert cells(shown) == {
        "login": [
            "MISSING",
            "login",
            "Connection 'work': the key-pair login was refused.",
            "Correct the connection (account, user, login method, secret) in the connection manager.",
        ]
    }


def test_check_account_on_the_local_connection(qtbot, dialog, tmp_path):
    dialog.workspace_edit.setText(str(tmp_path / "ws"))
    dialog._mark_dirty()
    shown = run_check(qtbot, dialog)
    rows = cells(shown)
    assert {row[0] for row in rows.values()} == {"OK"} and "workspace" in rows
    assert not shown.copy_button.isEnabled() and shown.fixes.toPlainText() == ""
    assert "nothing is missing" in dialog.status.text()
