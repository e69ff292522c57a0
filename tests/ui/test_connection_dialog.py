"""The connection manager and the login prompt: local workspace, connections.toml entries, the app's own
profiles, authenticator fields, secrets only in the keyring, no-keyring asking, Test off the GUI thread.

Only the network is faked: Snowpark's login (``SessionBuilder._create_internal``) records what it was
given and fails as an unreachable account would."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from snowml_desktop.core import connections
from snowml_desktop.core.connections import AUTHENTICATORS, KEYRING_SERVICE
from snowml_desktop.core.memory import default_memory_limit, describe
from snowml_desktop.ui.connection_dialog import ConnectionDialog
from snowml_desktop.ui.login_prompt import LoginPrompt

from .model_fixtures import JOB_MS, settle

SECRET = "s3cret-Pa55"
# The offscreen platform plugin warns about size hints of shown top-level windows; harmless.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def context(qtbot, settings):
    """An AppContext without --workspace (so the workspace saved in the manager counts)."""
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
    settle(qtbot, context)


@pytest.fixture
def toml_connection(monkeypatch, tmp_path) -> Path:
    home = tmp_path / "snowflake"
    home.mkdir()
    (home / "connections.toml").write_text(
        '[prod]\naccount = "myorg-prod"\nuser = "ANA"\nrole = "ANALYST"\npassword = "from-the-file"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    return home


@pytest.fixture
def fake_login(monkeypatch):
    """Stand in for the network: record the login's parameters and thread, then fail like Snowflake."""
    from snowflake.connector.errors import DatabaseError
    from snowflake.snowpark import Session

    calls: list[dict] = []

    def create(builder, connection=None):
        calls.append({**builder._options, "thread": threading.current_thread()})
        raise DatabaseError(msg="Incorrect username or password was specified.", errno=390100)

    monkeypatch.setattr(Session.SessionBuilder, "_create_internal", create)
    return calls


def fill(dialog: ConnectionDialog, **values: str) -> None:
    for attribute, value in values.items():
        dialog.fields[attribute].setText(value)
    dialog._mark_dirty()


def add_profile(dialog: ConnectionDialog, name: str, auth: str = "snowflake", **secrets: str) -> None:
    dialog.add_button.click()
    fill(dialog, name=name, account="myorg-dev", user="ANA", warehouse="ML_WH")
    dialog.authenticator.setCurrentIndex(dialog.authenticator.findData(auth))
    for kind, value in secrets.items():
        dialog.secret_fields[kind].setText(value)
    assert dialog.save(), dialog.status.text()


def answer(button_name: str) -> None:
    """Click ``button_name`` in the next modal message box."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        box.findChild(QPushButton, button_name).click()

    QTimer.singleShot(0, click)


def test_local_connection_is_listed_first_and_its_workspace_can_change(qtbot, dialog, context, tmp_path):
    assert dialog.profile_names()[0] == "local"
    assert dialog.list.item(0).text().startswith("Local (embedded)")
    assert dialog.pages.currentWidget() is dialog._local_page
    folder = tmp_path / "elsewhere"
    dialog.workspace_edit.setText(str(folder))
    dialog._mark_dirty()
    assert dialog.save()
    assert connections.get_profile("local").workspace == str(folder)
    assert context.local_workspace() == folder

    handle = dialog.test()
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    assert dialog.status.text().startswith("Connected: Local workspace")
    assert (folder / "snowml.duckdb").exists() or any(folder.iterdir())  # the engine opened there


def test_connections_toml_entries_are_read_only_and_can_be_duplicated(qtbot, toml_connection, dialog):
    dialog.reload()
    assert "prod" in dialog.profile_names()
    dialog.select("prod")
    row = dialog.profile_names().index("prod")
    item = dialog.list.item(row)
    assert "read-only" in item.text() and item.text() in item.toolTip()
    # The entry fits the list: no horizontal scrollbar hides its end.
    assert dialog.list.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert dialog.list.viewport().width() >= dialog.list.sizeHintForColumn(0)
    assert dialog.read_only_note.isVisibleTo(dialog)
    assert all(edit.isReadOnly() for edit in dialog.fields.values())
    assert not dialog.authenticator.isEnabled()
    assert not dialog.delete_button.isEnabled()
    assert dialog.fields["account"].text() == "myorg-prod"

    dialog.duplicate_button.click()
    assert "prod copy" in dialog.profile_names()
    copy = connections.get_profile("prod copy")
    assert (copy.source, copy.account, copy.user) == ("app", "myorg-prod", "ANA")
    assert not dialog.fields["account"].isReadOnly()
    assert dialog.delete_button.isEnabled()


def test_secret_placeholders_say_whether_a_secret_is_stored(qtbot, dialog, memory_keyring):
    dialog.add_button.click()
    dialog.authenticator.setCurrentIndex(dialog.authenticator.findData("snowflake_jwt"))
    passphrase = dialog.secret_fields["private_key_passphrase"].placeholderText()
    assert passphrase.startswith("none saved, optional") and "stored" not in passphrase
    fill(dialog, name="dev", account="myorg-dev", user="ANA")
    dialog.key_file.setText("~/.ssh/rsa_key.p8")
    dialog.secret_fields["private_key_passphrase"].setText(SECRET)
    assert dialog.save(), dialog.status.text()
    assert (
        dialog.secret_fields["private_key_passphrase"]
        .placeholderText()
        .startswith("stored in the system keyring")
    )


def test_add_edit_default_and_delete_keep_secrets_only_in_the_keyring(qtbot, dialog, memory_keyring):
    add_profile(dialog, "dev", password=SECRET)
    assert connections.get_profile("dev").warehouse == "ML_WH"
    assert memory_keyring.store[(KEYRING_SERVICE, "dev:password")] == SECRET
    stored = (connections.config_dir() / "connections.json").read_text(encoding="utf-8")
    assert SECRET not in stored and '"dev"' in stored
    assert dialog.secret_fields["password"].text() == ""  # not kept in the widget either
    assert "stored in the system keyring" in dialog.secret_fields["password"].placeholderText()

    fill(dialog, role="ENGINEER")
    assert dialog.save()
    assert connections.get_profile("dev").role == "ENGINEER"

    dialog.default_button.click()
    assert connections.get_default() == "dev"
    assert "★ default" in dialog.list.item(dialog.profile_names().index("dev")).text()

    answer("connections_confirm_delete_yes")
    dialog.delete_button.click()
    assert "dev" not in dialog.profile_names()
    assert (KEYRING_SERVICE, "dev:password") not in memory_keyring.store
    assert connections.get_default() == "local"


def test_invalid_fields_are_refused_with_the_reason(qtbot, dialog):
    dialog.add_button.click()
    fill(dialog, name="bad", account="not an account!", user="ANA")
    assert not dialog.save()
    assert "not an account identifier" in dialog.status.text()
    assert "bad" not in [p.name for p in connections.list_profiles()]


@pytest.mark.parametrize("entry", AUTHENTICATORS, ids=lambda a: a.key)
def test_each_authenticator_shows_its_fields(qtbot, dialog, entry):
    dialog.add_button.click()
    dialog.authenticator.setCurrentIndex(dialog.authenticator.findData(entry.key))
    shown = {kind for kind, edit in dialog.secret_fields.items() if edit.isVisibleTo(dialog)}
    assert shown == set(entry.secrets)
    assert dialog.key_file.isVisibleTo(dialog) == (entry.key == "snowflake_jwt")
    assert dialog.passcode.isVisibleTo(dialog) == (entry.key == "username_password_mfa")
    for edit in dialog.secret_fields.values():
        assert edit.echoMode() == edit.EchoMode.Password


def test_test_runs_off_the_gui_thread_and_reports_the_exact_error(qtbot, dialog, fake_login):
    add_profile(dialog, "dev", password=SECRET)
    handle = dialog.test()
    assert not dialog.test_button.isEnabled()
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    assert fake_login and fake_login[0]["thread"] is not threading.main_thread()
    assert fake_login[0]["password"] == SECRET and fake_login[0]["account"] == "myorg-dev"
    text = dialog.status.text()
    assert text.startswith("Test failed: ") and "dev" in text and SECRET not in text
    assert dialog.test_button.isEnabled()


def test_without_a_keyring_secrets_are_never_stored_and_asked_at_each_login(
    qtbot, context, fake_login, monkeypatch
):
    import keyring

    keyring.set_keyring(fail.Keyring())  # the memory_keyring fixture restores the previous backend
    dialog = ConnectionDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.keyring_ok and "No system keyring" in dialog.keyring_note.text()
    add_profile(dialog, "dev", password=SECRET)
    assert SECRET not in (connections.config_dir() / "connections.json").read_text(encoding="utf-8")
    assert "asked each time" in dialog.secret_fields["password"].placeholderText()
    dialog.close()

    from snowml_desktop.ui.connection_bar import ConnectionBar

    bar = ConnectionBar(context)
    qtbot.addWidget(bar)
    bar.reload_profiles()
    index = bar.chooser.findData("dev")
    bar.chooser.setCurrentIndex(index)
    bar._on_chosen(index)
    prompt = bar.prompt
    assert isinstance(prompt, LoginPrompt) and prompt.isVisible()
    assert "No system keyring" in prompt.findChild(type(dialog.status), "login_intro").text()
    prompt.fields["password"].setText("typed-now")
    with qtbot.waitSignal(context.connection_failed, timeout=JOB_MS):
        prompt.buttons.button(prompt.buttons.StandardButton.Ok).click()
    assert fake_login[-1]["password"] == "typed-now"
    assert bar.state.text().startswith("Not connected: ")

    # Next time it asks again; cancelling leaves the chooser on the connection in use.
    bar._on_chosen(index)
    assert isinstance(bar.prompt, LoginPrompt) and bar.prompt is not prompt
    bar.prompt.reject()
    settle(qtbot, context)
    assert len(fake_login) == 1


def test_mfa_login_asks_for_the_passcode_every_time(qtbot, dialog, context, fake_login):
    add_profile(dialog, "mfa", auth="username_password_mfa", password=SECRET)
    dialog.close()
    from snowml_desktop.ui.login_prompt import request_connection

    prompt = request_connection(context, "mfa", None)
    assert isinstance(prompt, LoginPrompt) and prompt.passcode.isVisibleTo(prompt)
    assert prompt.fields == {}  # the password is in the keyring
    prompt.passcode.setText("123456")
    with qtbot.waitSignal(context.connection_failed, timeout=JOB_MS):
        prompt.accept()
    assert fake_login[-1]["passcode"] == "123456" and fake_login[-1]["password"] == SECRET


def test_toml_secret_is_used_without_asking(qtbot, toml_connection, context, fake_login):
    from snowml_desktop.ui.login_prompt import request_connection

    handle = request_connection(context, "prod", None)
    assert not isinstance(handle, LoginPrompt)
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    assert fake_login[-1]["password"] == "from-the-file"


def _jwt(exp: float) -> str:
    import base64
    import json

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'sub': 'ANA', 'exp': exp})}.c2lnbmF0dXJl"


def test_a_new_connection_suggests_key_pair_and_password_only_says_why_not(qtbot, dialog):
    dialog.add_button.click()
    assert dialog.authenticator.currentData() == "snowflake_jwt" and dialog._key_row.isVisibleTo(dialog)
    assert dialog.authenticator.itemData(1) == "externalbrowser"
    dialog.authenticator.setCurrentIndex(dialog.authenticator.findData("snowflake"))
    assert dialog.auth_note.isVisibleTo(dialog) and "MFA" in dialog.auth_note.text()
    for size in ((1280, 820), (1024, 700)):
        dialog.resize(*size)
        assert dialog.sizeHint().width() <= size[0]  # the note wraps, it never widens the window


def test_an_okta_url_from_connections_toml_is_shown_as_okta(qtbot, monkeypatch, tmp_path, dialog):
    home = tmp_path / "okta"
    home.mkdir()
    (home / "connections.toml").write_text(
        '[sso]\naccount = "myorg-prod"\nuser = "ANA"\nauthenticator = "https://myorg.okta.com"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    dialog.reload(select="sso")
    assert dialog.authenticator.currentText() == "Okta (native SSO)"
    assert dialog.authenticator.currentData() == "https://myorg.okta.com"
    assert dialog.secret_fields["password"].isVisibleTo(dialog)
    dialog.add_button.click()
    assert dialog.authenticator.count() == len(AUTHENTICATORS)  # the extra entry went with the profile


class SmallKeyring:
    """Refuse secrets longer than Windows Credential Manager holds (2,560 bytes), as its backend does."""

    def __init__(self, backend) -> None:
        self.backend, self.original = backend, backend.set_password

    def set_password(self, service: str, username: str, password: str) -> None:
        if len(password.encode()) > 2560:
            raise OSError(1783, "CredWrite", "The stub received bad data.")
        self.original(service, username, password)


def test_a_token_too_long_for_the_keyring_is_saved_without_it_and_asked_at_login(
    qtbot, dialog, context, memory_keyring, monkeypatch
):
    from snowml_desktop.ui.login_prompt import request_connection

    monkeypatch.setattr(memory_keyring, "set_password", SmallKeyring(memory_keyring).set_password)
    token = _jwt(4_102_444_800) + "x" * 3000  # an OAuth token of 3 KB
    add_profile(dialog, "oauth-lab", auth="oauth", token=token)
    assert "did not store the token" in dialog.status.text() and "asked at each login" in dialog.status.text()
    assert token not in dialog.status.text()
    assert connections.get_profile("oauth-lab").authenticator == "oauth"
    dialog.close()
    prompt = request_connection(context, "oauth-lab", None)
    assert isinstance(prompt, LoginPrompt) and list(prompt.fields) == ["token"]
    prompt.reject()


def test_an_expired_oauth_token_is_asked_again_with_the_reason(qtbot, dialog, context, fake_login):
    from snowml_desktop.ui.login_prompt import request_connection

    add_profile(dialog, "sso-token", auth="oauth", token=_jwt(1_700_000_000))  # expired 2023-11-14
    dialog.close()
    prompt = request_connection(context, "sso-token", None)
    assert isinstance(prompt, LoginPrompt) and list(prompt.fields) == ["token"]
    intro = prompt.findChild(type(dialog.status), "login_intro").text()
    assert "expired on 2023-11-14" in intro and "new token" in intro
    fresh = _jwt(4_102_444_800)  # 2100
    prompt.fields["token"].setText(fresh)
    with qtbot.waitSignal(context.connection_failed, timeout=JOB_MS):
        prompt.accept()
    assert fake_login[-1]["token"] == fresh and fake_login[-1]["authenticator"] == "OAUTH"


def test_a_password_typed_for_test_is_not_asked_again_by_connect(qtbot, dialog, context, fake_login):
    """Issue 10, item 20: after Test, Connect must not ask again for the password just typed."""
    add_profile(dialog, "dev")  # saved without a secret
    dialog.secret_fields["password"].setText(SECRET)
    dialog.secret_fields["password"].textEdited.emit(SECRET)  # as typing does
    handle = dialog.test()
    with qtbot.waitSignal(handle.finished, timeout=JOB_MS):
        pass
    assert fake_login[-1]["password"] == SECRET
    result = dialog.connect_selected()
    assert not isinstance(result, LoginPrompt), "Connect asked again for the password typed for Test"
    with qtbot.waitSignal(context.connection_failed, timeout=JOB_MS):
        pass
    assert len(fake_login) == 2 and fake_login[-1]["password"] == SECRET


def test_the_local_memory_limit_is_saved_checked_and_given_to_the_engine(qtbot, dialog, context, workspace):
    assert dialog.memory_edit.placeholderText() == f"{describe(default_memory_limit())} (default)"
    dialog.memory_edit.setText("lots")
    dialog.memory_edit.textEdited.emit("lots")  # as typing does: the form has unsaved changes
    assert not dialog.save()
    assert dialog.status.text().startswith(
        "The local connection's memory limit 'lots' is not a memory size. Give a"
    )
    assert connections.get_profile("local").memory_limit == ""  # nothing written

    dialog.memory_edit.setText("640MiB")
    assert dialog.save(), dialog.status.text()
    assert connections.get_profile("local").memory_limit == "640MiB"

    context.workspace_override = workspace
    with qtbot.waitSignal(context.engine_changed, timeout=JOB_MS, check_params_cb=lambda e: e is not None):
        context.connect_to("local")
    cur = context.engine.workspace.cursor()
    try:
        assert cur.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "640.0 MiB"
    finally:
        cur.close()
