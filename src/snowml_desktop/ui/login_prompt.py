"""Asking for the secrets a login needs and no store holds, just before connecting.

Secrets are looked up where the engine looks (the system keyring, then the user's connections.toml); what
is missing is asked for in a small dialog on the GUI thread, and handed to the connection job as a
prepared ``ask`` callback (the job must never open a dialog from its worker thread). Without a keyring
backend nothing can be stored, so the password or token is asked at every login. An MFA passcode is
never stored and is asked at each login of a "Password + MFA passcode" connection.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from snowml_desktop.core import connections
from snowml_desktop.core.connections import ConnectionProfile, SecretStore
from snowml_desktop.core.errors import InvalidInput

if TYPE_CHECKING:
    from snowml_desktop.jobs.runner import JobHandle
    from snowml_desktop.ui.context import AppContext

__all__ = ["LoginNeeds", "LoginPrompt", "login_needs", "request_connection", "typed_secret_source"]

SECRET_LABELS = {
    "password": "Password",
    "private_key_passphrase": "Key passphrase",
    "token": "Token",
    "oauth_client_secret": "OAuth client secret",
}
MFA = "username_password_mfa"


@dataclass(frozen=True)
class LoginNeeds:
    """What must be typed before logging in to one profile."""

    secrets: tuple[str, ...]  # secret kinds no store holds (or only expired)
    passcode: bool  # an MFA passcode is needed
    keyring: bool  # a keyring backend exists (else nothing typed can be kept)
    expired: datetime | None = None  # when the stored token expired, if that is why it is asked
    optional: tuple[str, ...] = ()  # of ``secrets``, those the login can do without

    @property
    def any(self) -> bool:
        return bool(self.secrets) or self.passcode


def login_needs(
    profile: ConnectionProfile,
    store: SecretStore,
    typed: dict[str, str] | None = None,
    *,
    now: datetime | None = None,
) -> LoginNeeds:
    """The secrets of ``profile``'s authenticator that neither ``typed``, the keyring nor connections.toml
    hold, and a token found there that has expired (its JWT ``exp``): Snowflake would refuse it, so a new
    one is asked for with the reason. An optional secret (key passphrase) is asked only when no keyring
    could hold it; with a keyring, none stored means the key is not encrypted."""
    keyring_ok = store.available()
    if profile.kind != "snowflake":
        return LoginNeeds((), False, keyring_ok)
    try:
        entry = connections.authenticator(profile.authenticator)
    except InvalidInput:  # the connection job reports the unknown authenticator like any login failure
        return LoginNeeds((), False, keyring_ok)
    typed = typed or {}
    now = now or datetime.now(timezone.utc)
    missing, expired = [], None
    for kind in entry.secrets:
        value = (
            typed.get(kind)
            or (keyring_ok and store.get(profile.name, kind))
            or (profile.source == "connections.toml" and connections.toml_secret(profile.name, kind))
        )
        if value:
            expiry = connections.token_expiry(value) if kind == "token" else None
            if expiry is None or expiry > now:
                continue
            expired = expiry
        elif kind in entry.optional and keyring_ok:
            continue
        missing.append(kind)
    optional = tuple(k for k in missing if k in entry.optional)
    return LoginNeeds(tuple(missing), entry.key == MFA, keyring_ok, expired, optional)


def typed_secret_source(typed: dict[str, str]):  # noqa: ANN201 - an AskSecret
    """An ``ask`` callback answering from secrets typed on the GUI thread (a copy: safe on any thread)."""
    values = dict(typed)
    return lambda profile, kind: values.get(kind)


class LoginPrompt(QDialog):
    """Asks for the missing secrets (and the MFA passcode) of one login. ``submitted(secrets, passcode)``
    is emitted on OK; the values are never stored by this dialog."""

    submitted = Signal(dict, str)

    def __init__(self, profile: ConnectionProfile, needs: LoginNeeds, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialog_login")
        self.setAccessibleName(f"Log in to {profile.name}")
        self.setWindowTitle(f"Log in to {profile.name}")
        # Wide enough for the whole title (window managers cut it to the dialog's width) plus the frame's
        # buttons; the intro wraps within it.
        title_width = self.fontMetrics().horizontalAdvance(self.windowTitle())
        self.setMinimumWidth(max(420, title_width + 160))
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        intro = QLabel(self._intro(profile, needs))
        intro.setObjectName("login_intro")
        intro.setAccessibleName("What to type")
        intro.setWordWrap(True)
        form.addRow(intro)
        for kind in needs.secrets:
            edit = QLineEdit()
            edit.setObjectName(f"login_{kind}")
            edit.setAccessibleName(SECRET_LABELS[kind])
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            if kind in needs.optional:
                edit.setPlaceholderText(
                    "leave empty if the key is not encrypted"
                    if kind == "private_key_passphrase"
                    else "leave empty if not needed"
                )
            self.fields[kind] = edit
            form.addRow(f"{SECRET_LABELS[kind]}:", edit)
        self.passcode = QLineEdit()
        self.passcode.setObjectName("login_passcode")
        self.passcode.setAccessibleName("MFA passcode")
        self.passcode.setPlaceholderText("current code from your authenticator app")
        if needs.passcode:
            form.addRow("MFA passcode:", self.passcode)
        else:
            self.passcode.setParent(self)
            self.passcode.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.setObjectName("login_buttons")
        self.buttons.setAccessibleName("Log in or cancel")
        for which, name, text in (
            (QDialogButtonBox.StandardButton.Ok, "login_ok", "Log in"),
            (QDialogButtonBox.StandardButton.Cancel, "login_cancel", "Cancel"),
        ):
            button = self.buttons.button(which)
            button.setText(text)
            button.setObjectName(name)
            button.setAccessibleName(text)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    @staticmethod
    def _intro(profile: ConnectionProfile, needs: LoginNeeds) -> str:
        who = f"{profile.user}@{profile.account}" if profile.user else profile.account
        text = f"Log in to {who}."
        if needs.expired is not None:
            when = needs.expired.strftime("%Y-%m-%d %H:%M UTC")
            text += (
                f" The saved token expired on {when}, so Snowflake would refuse it: paste a new token from your"
                " identity provider (or create a new programmatic access token in Snowsight)."
            )
        elif needs.secrets and not needs.keyring:
            text += " No system keyring was found, so secrets cannot be saved: they are asked at each login."
        elif needs.secrets:
            text += " Save the secret in the connection manager to skip this next time."
        return text

    def accept(self) -> None:
        secrets = {kind: edit.text() for kind, edit in self.fields.items() if edit.text()}
        self.submitted.emit(secrets, self.passcode.text().strip())
        for edit in (*self.fields.values(), self.passcode):
            edit.clear()  # do not keep secrets in widgets longer than needed
        super().accept()


def request_connection(
    ctx: AppContext,
    name: str,
    parent: QWidget | None,
    *,
    typed: dict[str, str] | None = None,
    passcode: str = "",
    store: SecretStore | None = None,
) -> JobHandle | LoginPrompt:
    """Connect to profile ``name``, first asking (non-modally) for whatever secret the login lacks.

    Returns the connection job, or the open :class:`LoginPrompt` (the job starts when it is accepted;
    nothing happens when it is cancelled). A profile that cannot be read connects straight away, so the
    engine reports the problem in the usual way."""
    store = store or SecretStore()
    typed = dict(typed or {})
    try:
        profile = connections.get_profile(name)
    except Exception:  # noqa: BLE001 - let the connection job say what is wrong, like any other failure
        profile = None
    needs = login_needs(profile, store, typed) if profile is not None else LoginNeeds((), False, True)
    if needs.passcode and passcode:
        needs = dataclasses.replace(needs, passcode=False)
    if profile is None or not needs.any:
        return _connect(ctx, name, typed, passcode)
    prompt = LoginPrompt(profile, needs, parent)
    prompt.submitted.connect(
        lambda secrets, code: _connect(ctx, name, {**typed, **secrets}, code or passcode)
    )
    prompt.finished.connect(prompt.deleteLater)
    prompt.open()
    return prompt


def _connect(ctx: AppContext, name: str, typed: dict[str, str], passcode: str) -> JobHandle:
    extra: dict[str, object] = {}
    if typed:
        extra["ask"] = typed_secret_source(typed)
    if passcode:
        extra["passcode"] = passcode
    return ctx.connect_to(name, **extra)
