"""The connection manager: the built-in local connection, connections.toml entries and the app's own.

Profiles come from ``core.connections``; secrets go only to the system keyring through ``SecretStore``
(never to QSettings, files or logs). Without a keyring backend the dialog says so: typed secrets are used
for this session's Test/Connect only and asked again next time. "Test" opens the connection in a job,
reports the server-side role and warehouse it got (or the exact error), and closes it again. "Check account"
runs the engine's read-only account check in a job (connecting without restoring journaled warehouses) and
shows each line with the statement that fixes it in an :class:`AccountCheckDialog`.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.core import connections
from snowml_desktop.core.connections import AUTHENTICATORS, ConnectionProfile, SecretStore
from snowml_desktop.core.errors import ConnectionFailed, EngineError, PermissionDenied
from snowml_desktop.core.memory import EXAMPLES, MIN_MEMORY_LIMIT, default_memory_limit, describe
from snowml_desktop.core.tasks import TaskContext
from snowml_desktop.engines.base import CHECK_MISSING, AccountCheck
from snowml_desktop.jobs.runner import ErrorInfo, JobHandle
from snowml_desktop.ui.account_check_dialog import AccountCheckDialog
from snowml_desktop.ui.icons import icon
from snowml_desktop.ui.login_prompt import SECRET_LABELS, LoginPrompt, request_connection, typed_secret_source

if TYPE_CHECKING:
    from snowml_desktop.engines.base import ConnectionInfo
    from snowml_desktop.ui.context import AppContext

__all__ = ["ConnectionDialog"]

log = logging.getLogger(__name__)

#: Text fields of a Snowflake profile: (attribute, label, placeholder).
TEXT_FIELDS = (
    ("name", "Name", "e.g. prod-analytics"),
    ("account", "Account", "orgname-accountname"),
    ("user", "User", ""),
    ("role", "Role", "default role of the user"),
    ("warehouse", "Warehouse", "default warehouse of the user"),
    ("database", "Database", ""),
    ("schema", "Schema", "PUBLIC"),
    ("app_schema", "App schema", "SNOWML (catalog and runs)"),
    ("data_schema", "Data schema", "DATA (your tables)"),
)
NEW_NAME = "new-connection"
#: What to know about a login, shown under the Login list.
AUTH_NOTES = {
    "snowflake": "Snowflake is blocking sign-in with a password alone for people (MFA enforcement). Use key "
    "pair or single sign-on; a password alone is for service users.",
    "username_password_mfa": "Snowflake asks for a passcode at each login; key pair or single sign-on "
    "logs in without one.",
    "oauth": "OAuth tokens expire: when the saved one has, you are asked for a new one.",
    "oauth_authorization_code": "Signs in through your identity provider in the browser. The OAuth client "
    "(oauth_client_id, URLs) comes from your connections.toml entry.",
    "oauth_client_credentials": "For services: the OAuth client (oauth_client_id, token URL) comes from "
    "your connections.toml entry; its secret goes to the keyring.",
    "workload_identity": "For code running in AWS, Azure or GCP: set workload_identity_provider in your "
    "connections.toml entry.",
    "okta": "Native Okta sign-in with your Okta password.",
}
#: Widest the connection list grows to fit its entries (pixels); longer entries elide.
_LIST_MAX_WIDTH = 360


class ConnectionDialog(QDialog):
    """Add, edit, duplicate, delete, set default, test and connect. Window-modal; use ``open()``."""

    #: Emitted with the profile name after Connect was pressed.
    connect_started = Signal(str)

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, secrets: SecretStore | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.secrets = secrets or SecretStore()
        self.keyring_ok = self.secrets.available()
        self._keyring_refusal = ""  # why the last save could not keep a secret in the keyring
        self.setObjectName("dialog_connections")
        self.setAccessibleName("Connection manager")
        self.setWindowTitle("Connections")
        self.resize(820, 560)
        self._profile: ConnectionProfile | None = None  # the profile in the form (None: a new one)
        self._dirty = False
        self._test_job: JobHandle | None = None
        self._check_job: JobHandle | None = None
        self.check_dialog: AccountCheckDialog | None = None

        self._build_list()
        self._build_local_page()
        self._build_snowflake_page()
        self._build_bottom()
        splitter = QSplitter()
        splitter.addWidget(self._list_side)
        self.pages = QStackedWidget()
        self.pages.setObjectName("connection_pages")
        self.pages.setAccessibleName("Connection details")
        self.pages.addWidget(self._local_page)
        self.pages.addWidget(self._snowflake_page)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(self._bottom)
        self.reload(select=ctx.connection_name or connections.LOCAL)

    # --- construction ---------------------------------------------------------------------------------
    def _build_list(self) -> None:
        self.list = _named(QListWidget(), "connections_list", "Saved connections")
        # Long entries are elided (full text in the tooltip) instead of hiding behind a scrollbar.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.add_button = _button("connections_add", "Add", "add", "Add a Snowflake connection")
        self.duplicate_button = _button(
            "connections_duplicate", "Duplicate", "duplicate", "Copy the selected one"
        )
        self.delete_button = _button(
            "connections_delete", "Delete", "delete", "Delete the selected connection"
        )
        self.default_button = _button(
            "connections_set_default", "Set default", "default", "Open this one first"
        )
        buttons = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(button)
        self._list_side = QWidget()
        side = QVBoxLayout(self._list_side)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.list, 1)
        side.addLayout(buttons)
        side.addWidget(self.default_button)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.add_button.clicked.connect(self.add_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.default_button.clicked.connect(self.set_default)

    def _build_local_page(self) -> None:
        self._local_page = QWidget()
        self._local_page.setObjectName("connection_page_local")
        self._local_page.setAccessibleName("Local connection")
        self.workspace_edit = _named(QLineEdit(), "local_workspace", "Workspace folder")
        self.workspace_edit.setPlaceholderText(str(_default_workspace()))
        self.workspace_browse = _button(
            "local_workspace_browse",
            "Browse…",
            "folder",
            "Choose the workspace folder",
            "Browse for workspace folder",
        )
        self.workspace_note = _named(QLabel(), "local_workspace_note", "Workspace note")
        self.workspace_note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.workspace_edit, 1)
        row.addWidget(self.workspace_browse)
        form = QFormLayout(self._local_page)
        title = QLabel(
            "<b>Local (embedded)</b> — an embedded warehouse in a folder on this computer, with demo data."
        )
        title.setWordWrap(True)
        form.addRow(title)
        label = QLabel("Workspace folder:")
        label.setBuddy(self.workspace_edit)
        form.addRow(label, row)
        form.addRow(self.workspace_note)
        self.memory_edit = _named(QLineEdit(), "local_memory_limit", "Memory limit")
        self.memory_edit.setPlaceholderText(f"{describe(default_memory_limit())} (default)")
        self.memory_edit.setToolTip(
            f"Memory the embedded warehouse may use, {EXAMPLES}; at least {describe(MIN_MEMORY_LIMIT)}."
        )
        memory_note = _named(
            QLabel(
                "What a query needs beyond it is spilled to the workspace's disk. More memory makes large "
                "tables faster; less keeps the app small. Connect again to apply a change."
            ),
            "local_memory_limit_note",
            "Memory limit note",
        )
        memory_note.setWordWrap(True)
        form.addRow(_buddy("Memory limit", self.memory_edit), self.memory_edit)
        form.addRow(memory_note)
        self.workspace_edit.textEdited.connect(self._mark_dirty)
        self.memory_edit.textEdited.connect(self._mark_dirty)
        self.workspace_browse.clicked.connect(self._browse_workspace)

    def _build_snowflake_page(self) -> None:
        self._snowflake_page = QWidget()
        self._snowflake_page.setObjectName("connection_page_snowflake")
        self._snowflake_page.setAccessibleName("Snowflake connection")
        form = QFormLayout(self._snowflake_page)
        self.read_only_note = _named(QLabel(), "connection_read_only_note", "Read-only note")
        self.read_only_note.setWordWrap(True)
        form.addRow(self.read_only_note)
        self.fields: dict[str, QLineEdit] = {}
        for attribute, label, placeholder in TEXT_FIELDS:
            edit = _named(QLineEdit(), f"field_{attribute}", label)
            edit.setPlaceholderText(placeholder)
            edit.textEdited.connect(self._mark_dirty)
            self.fields[attribute] = edit
            form.addRow(_buddy(label, edit), edit)
        self.authenticator = _named(QComboBox(), "field_authenticator", "Authenticator")
        for entry in AUTHENTICATORS:
            self.authenticator.addItem(entry.label, entry.key)
        form.addRow(_buddy("Login", self.authenticator), self.authenticator)
        self.auth_note = _named(QLabel(), "field_authenticator_note", "About this login")
        self.auth_note.setWordWrap(True)
        form.addRow(self.auth_note)
        self.key_file = _named(QLineEdit(), "field_private_key_file", "Private key file")
        self.key_file.setPlaceholderText("path to rsa_key.p8")
        self.key_file_browse = _button(
            "field_private_key_browse",
            "Browse…",
            "folder",
            "Choose the private key file",
            "Browse for private key file",
        )
        key_row = QWidget()
        key_layout = QHBoxLayout(key_row)
        key_layout.setContentsMargins(0, 0, 0, 0)
        key_layout.addWidget(self.key_file, 1)
        key_layout.addWidget(self.key_file_browse)
        self._key_label = _buddy("Private key file", self.key_file)
        form.addRow(self._key_label, key_row)
        self._key_row = key_row
        self.secret_fields: dict[str, QLineEdit] = {}
        self._secret_labels: dict[str, QLabel] = {}
        for kind, label in SECRET_LABELS.items():
            edit = _named(QLineEdit(), f"field_{kind}", label)
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.textEdited.connect(self._mark_dirty)
            self.secret_fields[kind] = edit
            self._secret_labels[kind] = _buddy(label, edit)
            form.addRow(self._secret_labels[kind], edit)
        self.passcode = _named(QLineEdit(), "field_passcode", "MFA passcode")
        self.passcode.setPlaceholderText("current code from your authenticator app; never stored")
        self._passcode_label = _buddy("MFA passcode", self.passcode)
        form.addRow(self._passcode_label, self.passcode)
        self.keyring_note = _named(QLabel(), "keyring_status", "Keyring status")
        self.keyring_note.setWordWrap(True)
        if self.keyring_ok:
            self.keyring_note.setText("Secrets are kept in the system keyring, never in files.")
        else:
            self.keyring_note.setText(
                "No system keyring was found, so secrets cannot be saved: type them here to test or connect; "
                "you will be asked again next time."
            )
        form.addRow(self.keyring_note)
        self.authenticator.currentIndexChanged.connect(self._on_authenticator_changed)
        self.authenticator.currentIndexChanged.connect(self._mark_dirty)
        self.key_file.textEdited.connect(self._mark_dirty)
        self.key_file_browse.clicked.connect(self._browse_key_file)

    def _build_bottom(self) -> None:
        self.status = _named(QLabel(), "connections_status", "Status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = _button("connections_test", "Test", "test", "Try to log in, then disconnect")
        self.check_button = _button(
            "connections_check_account",
            "Check account",
            None,
            "Check, without changing anything, what this role on this account needs before setup or training",
        )
        self.save_button = _button("connections_save", "Save", None, "Save the connection")
        self.connect_button = _button(
            "connections_connect", "Connect", "connection", "Make this the current one"
        )
        self.close_button = _button("connections_close", "Close", None, "Close the connection manager")
        self._bottom = QHBoxLayout()
        self._bottom.addWidget(self.status, 1)
        for button in (
            self.test_button,
            self.check_button,
            self.save_button,
            self.connect_button,
            self.close_button,
        ):
            self._bottom.addWidget(button)
        self.test_button.clicked.connect(self.test)
        self.check_button.clicked.connect(self.check_account)
        self.save_button.clicked.connect(self.save)
        self.connect_button.clicked.connect(self.connect_selected)
        self.close_button.clicked.connect(self.close)

    # --- list ------------------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        """Re-read the profiles and select ``select`` (or keep the current one)."""
        keep = select or (self._profile.name if self._profile else None)
        try:
            profiles = connections.list_profiles()
            default = connections.get_default()
        except EngineError as exc:
            self._show_status("error", str(exc))
            profiles, default = [], connections.LOCAL
        self.list.blockSignals(True)
        self.list.clear()
        for profile in profiles:
            item = QListWidgetItem(icon("local" if profile.kind == "local" else "cloud"), _list_text(profile))
            item.setData(Qt.ItemDataRole.UserRole, profile)
            if profile.name.lower() == default.lower():
                item.setText(item.text() + "  ★ default")
            item.setToolTip(f"{item.text()}\n{_source_text(profile)}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._fit_list_width()
        row = next((i for i, p in enumerate(profiles) if keep and p.name.lower() == keep.lower()), 0)
        self.list.setCurrentRow(row if profiles else -1)
        self._on_current_changed(self.list.currentItem(), None)

    def profile_names(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole).name for i in range(self.list.count())]

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole).name.lower() == name.lower():
                self.list.setCurrentRow(i)
                return
        raise KeyError(name)

    def _on_current_changed(self, current: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if previous is not None and self._dirty and not self._confirm_discard():
            self.list.blockSignals(True)
            self.list.setCurrentItem(previous)
            self.list.blockSignals(False)
            return
        profile = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        if profile is not None:
            self._load_form(profile)

    # --- form ------------------------------------------------------------------------------------------
    def _load_form(self, profile: ConnectionProfile | None, *, kind: str = "snowflake") -> None:
        """Show ``profile`` (None: a new Snowflake connection) in the form."""
        self._profile = profile
        is_local = profile is not None and profile.kind == "local"
        self.pages.setCurrentWidget(self._local_page if is_local else self._snowflake_page)
        if is_local:
            self.workspace_edit.setText(profile.workspace)
            self.memory_edit.setText(profile.memory_limit)
            self._update_workspace_note()
        else:
            shown = profile or ConnectionProfile(
                name=NEW_NAME, kind=kind, source="app", authenticator=connections.SUGGESTED_AUTHENTICATOR
            )
            for attribute, edit in self.fields.items():
                edit.setText(str(getattr(shown, attribute) or ""))
            self._select_authenticator(shown.authenticator)
            self.key_file.setText(shown.private_key_file)
            for edit in self.secret_fields.values():
                edit.clear()
            self.passcode.clear()
            self._set_read_only(shown.read_only)
            self._on_authenticator_changed()
        can_change = profile is None or profile.source == "app"
        self.delete_button.setEnabled(profile is not None and profile.source == "app")
        self.duplicate_button.setEnabled(profile is not None and profile.kind == "snowflake")
        self.default_button.setEnabled(profile is not None)
        self.save_button.setEnabled(can_change or is_local)
        self._dirty = profile is None
        self._show_status("", "")

    def _set_read_only(self, read_only: bool) -> None:
        for edit in (*self.fields.values(), self.key_file):
            edit.setReadOnly(read_only)
        self.authenticator.setEnabled(not read_only)
        self.key_file_browse.setEnabled(not read_only)
        self.read_only_note.setVisible(read_only)
        self.read_only_note.setText(
            "From your Snowflake connections.toml: read-only here. Edit it there, or Duplicate it to make an "
            "editable copy. Secrets written in that file are used as they are."
        )

    def _fit_list_width(self) -> None:
        """Widen the list to its longest entry, up to a limit past which entries elide."""
        frame = 2 * self.list.frameWidth() + self.list.verticalScrollBar().sizeHint().width() + 8
        self.list.setMinimumWidth(min(max(self.list.sizeHintForColumn(0) + frame, 200), _LIST_MAX_WIDTH))

    def _select_authenticator(self, value: str) -> None:
        """Select ``value`` in the Login list; one outside the list (an Okta URL from connections.toml) is
        shown as an extra entry for as long as that profile is."""
        self.authenticator.blockSignals(True)
        while self.authenticator.count() > len(AUTHENTICATORS):
            self.authenticator.removeItem(self.authenticator.count() - 1)
        index = self.authenticator.findData(value.strip().lower())
        if index < 0:
            try:
                entry = connections.authenticator(value)
            except EngineError:  # an unknown one: Test and Connect say so
                entry = connections.Authenticator(value, f"Unknown: {value}", ())
            self.authenticator.addItem(entry.label, value.strip())
            index = self.authenticator.count() - 1
        self.authenticator.setCurrentIndex(index)
        self.authenticator.blockSignals(False)

    def _entry(self) -> connections.Authenticator:
        try:
            return connections.authenticator(self.authenticator.currentData() or "")
        except EngineError:
            return connections.Authenticator(str(self.authenticator.currentData()), "", ())

    def _on_authenticator_changed(self, *_: object) -> None:
        entry = self._entry()
        self.auth_note.setText(AUTH_NOTES.get(entry.key, ""))
        self.auth_note.setVisible(entry.key in AUTH_NOTES)
        stored_for = self._profile.name if self._profile is not None else None
        for kind, edit in self.secret_fields.items():
            needed = kind in entry.secrets
            edit.setVisible(needed)
            self._secret_labels[kind].setVisible(needed)
            if needed:
                edit.setPlaceholderText(self._secret_placeholder(stored_for, kind))
        key_pair = entry.key == "snowflake_jwt"
        self._key_row.setVisible(key_pair)
        self._key_label.setVisible(key_pair)
        mfa = entry.key == "username_password_mfa"
        self.passcode.setVisible(mfa)
        self._passcode_label.setVisible(mfa)

    def _secret_placeholder(self, profile: str | None, kind: str) -> str:
        if self._profile is not None and self._profile.source == "connections.toml":
            return "from connections.toml, or type one for this session"
        if not self.keyring_ok:
            return "asked each time (no system keyring)"
        if profile and self.secrets.get(profile, kind):
            return "stored in the system keyring — type to replace"
        optional = ", optional" if kind in self._entry().optional else ""
        return f"none saved{optional}; one typed here goes to the keyring"

    def form_profile(self) -> ConnectionProfile:
        """The profile as the form shows it (not validated)."""
        if self.pages.currentWidget() is self._local_page:
            return ConnectionProfile(
                name=connections.LOCAL,
                kind="local",
                source="builtin",
                workspace=self.workspace_edit.text().strip(),
                memory_limit=self.memory_edit.text().strip(),
            )
        base = self._profile or ConnectionProfile(name=NEW_NAME, kind="snowflake", source="app")
        values = {attribute: edit.text().strip() for attribute, edit in self.fields.items()}
        return dataclasses.replace(
            base,
            authenticator=self.authenticator.currentData(),
            private_key_file=self.key_file.text().strip(),
            **values,
        )

    def typed_secrets(self) -> dict[str, str]:
        """Secrets typed in the visible secret fields (kind -> value)."""
        return {
            kind: edit.text()
            for kind, edit in self.secret_fields.items()
            if edit.isVisibleTo(self) and edit.text()
        }

    def _mark_dirty(self, *_: object) -> None:
        self._dirty = True

    def _update_workspace_note(self) -> None:
        if self.ctx.workspace_override is not None:
            self.workspace_note.setText(
                f"This session uses {self.ctx.workspace_override} (given with --workspace); the folder saved here "
                "is used when the app starts without it."
            )
        else:
            self.workspace_note.setText(
                "Leave empty for the default folder. A new folder is created and seeded with demo data. "
                "Connect again to switch to a changed folder."
            )

    # --- actions ---------------------------------------------------------------------------------------
    def add_profile(self) -> None:
        if self._dirty and not self._confirm_discard():
            return
        self.list.blockSignals(True)
        self.list.setCurrentRow(-1)
        self.list.blockSignals(False)
        self._load_form(None)
        self.fields["name"].setFocus()
        self.fields["name"].selectAll()

    def duplicate_profile(self) -> None:
        source = self._profile
        if source is None or source.kind != "snowflake":
            return
        taken = {name.lower() for name in self.profile_names()}
        name = next(
            candidate
            for candidate in (
                f"{source.name} copy" if i == 1 else f"{source.name} copy {i}" for i in range(1, 1000)
            )
            if candidate.lower() not in taken
        )
        copy = dataclasses.replace(source, name=name, source="app", read_only=False)
        if not self._save_profile(copy, {}):
            return
        if source.source == "app":
            self._move_secrets(source.name, name, copy.secret_kinds)
        self._dirty = False
        self.reload(select=name)
        if self._keyring_refusal:
            self._show_status("error", f"Duplicated {source.name!r} as {name!r}, but: {self._keyring_refusal}")
        else:
            self._show_status("success", f"Duplicated {source.name!r} as {name!r}.")

    def delete_profile(self) -> None:
        profile = self._profile
        if profile is None or profile.source != "app":
            return
        if not self._confirm(
            "connections_confirm_delete",
            "Delete connection",
            f"Delete the connection {profile.name!r} and its saved secrets?",
        ):
            return
        try:
            connections.delete_profile(profile.name, secrets=self.secrets)
        except EngineError as exc:
            self._show_status("error", str(exc))
            return
        self._dirty = False
        self.reload(select=connections.LOCAL)
        self._show_status("success", f"Deleted {profile.name!r}.")

    def set_default(self) -> None:
        if self._profile is None:
            return
        try:
            connections.set_default(self._profile.name)
        except EngineError as exc:
            self._show_status("error", str(exc))
            return
        self.reload(select=self._profile.name)
        self._show_status("success", f"{self._profile.name!r} opens when the app starts.")

    def save(self) -> bool:
        """Validate and save the form; secrets go to the keyring. Returns False (and says why) on error."""
        profile = self.form_profile()
        previous = self._profile
        if not self._save_profile(profile, self.typed_secrets()):
            return False
        renamed = (
            previous is not None
            and previous.source == "app"
            and previous.name.lower() != profile.name.lower()
        )
        if renamed:
            self._move_secrets(previous.name, profile.name, profile.secret_kinds)
            connections.delete_profile(previous.name, secrets=self.secrets)
        self._dirty = False
        self.reload(select=profile.name)
        if self._keyring_refusal:
            self._show_status("error", f"Saved {profile.name!r}, but: {self._keyring_refusal}")
        else:
            self._show_status("success", f"Saved {profile.name!r}.")
        return True

    def _save_profile(self, profile: ConnectionProfile, secrets: dict[str, str]) -> bool:
        """Save the profile, then its secrets. A secret the keyring refuses (locked, or too long for it)
        leaves the profile saved and is asked at each login; ``self._keyring_refusal`` says so."""
        self._keyring_refusal = ""
        try:
            stored = connections.save_profile(profile)
        except EngineError as exc:
            self._show_status("error", str(exc))
            return False
        if self.keyring_ok:
            for kind, value in secrets.items():
                try:
                    self.secrets.set(stored.name, kind, value)
                except EngineError as exc:
                    self._keyring_refusal = f"{exc.message} {exc.hint or ''}".strip()
        for edit in self.secret_fields.values():
            if self.keyring_ok:
                edit.clear()  # stored: do not keep secrets in widgets longer than needed
        return True

    def _move_secrets(self, old: str, new: str, kinds: tuple[str, ...]) -> None:
        """Copy stored secrets to another profile name; a refusal is kept in ``self._keyring_refusal``."""
        if not self.keyring_ok:
            return
        for kind in kinds:
            value = self.secrets.get(old, kind)
            if value and not self.secrets.get(new, kind):
                try:
                    self.secrets.set(new, kind, value)
                except EngineError as exc:
                    self._keyring_refusal = f"{exc.message} {exc.hint or ''}".strip()

    def _login_inputs(self) -> tuple[ConnectionProfile, Path | None, Any, str | None] | None:
        """Save pending edits (a connections.toml entry is read-only: its typed secrets serve this login
        only), then (profile, workspace, secret source, passcode) for one login off the GUI thread; None
        when the form could not be saved or nothing is selected."""
        if self._dirty and self._profile is not None and self._profile.source == "connections.toml":
            self._dirty = False
        typed = self.typed_secrets()
        passcode = self.passcode.text().strip() if self.passcode.isVisibleTo(self) else ""
        if self._dirty and not self.save():
            return None
        profile = self._profile
        if profile is None:
            return None
        workspace = Path(self.workspace_edit.text().strip()) if profile.kind == "local" else None
        if profile.kind == "local" and not self.workspace_edit.text().strip():
            workspace = self.ctx.workspace_override
        return profile, workspace, typed_secret_source(typed), passcode or None

    def test(self) -> JobHandle | None:
        """Save pending edits, then log in off the GUI thread, report what the server says, and log out."""
        inputs = self._login_inputs()
        if inputs is None:
            return None
        profile, workspace, ask, passcode = inputs
        self._show_status("runs", f"Testing {profile.name}…")
        self.test_button.setEnabled(False)
        handle = self.ctx.jobs.submit(
            f"Test connection {profile.name}",
            lambda task: _test_connection(profile.name, workspace, task, ask, passcode),
            key="connection_dialog:test",
        )
        handle.succeeded.connect(self._on_test_succeeded)
        handle.failed.connect(self._on_test_failed)
        handle.finished.connect(lambda: self.test_button.setEnabled(True))
        self._test_job = handle
        return handle

    def check_account(self) -> JobHandle | None:
        """Save pending edits, then run the read-only account check off the GUI thread and show its lines;
        a login that fails is shown as the check's one missing line."""
        inputs = self._login_inputs()
        if inputs is None:
            return None
        profile, workspace, ask, passcode = inputs
        self._show_status("runs", f"Checking {profile.name}… (nothing is changed)")
        self.check_button.setEnabled(False)
        handle = self.ctx.jobs.submit(
            f"Check account {profile.name}",
            lambda task: _check_account(profile.name, workspace, task, ask, passcode),
            key="connection_dialog:check_account",
        )
        handle.succeeded.connect(lambda check: self._on_check_succeeded(profile.name, check))
        handle.failed.connect(self._on_check_failed)
        handle.finished.connect(lambda: self.check_button.setEnabled(True))
        self._check_job = handle
        return handle

    def _on_check_succeeded(self, name: str, check: AccountCheck) -> None:
        missing = check.count(CHECK_MISSING)
        if missing:
            self._show_status("error", f"Account check of {name}: {missing} missing; see the check window.")
        else:
            self._show_status("success", f"Account check of {name}: nothing is missing.")
        if self.check_dialog is not None:
            self.check_dialog.close()
        self.check_dialog = AccountCheckDialog(check, name, self)
        self.check_dialog.show()

    def _on_check_failed(self, error: ErrorInfo) -> None:
        self._show_status("error", f"Account check failed: {error.message}")
        self.status.setToolTip(error.details if error.code == "unexpected" else "")

    def connect_selected(self) -> JobHandle | LoginPrompt | None:
        """Save pending edits and make the selected connection the app's current one (asking first for
        any secret the login needs that neither the form nor a store holds)."""
        typed = self.typed_secrets()
        passcode = self.passcode.text().strip() if self.passcode.isVisibleTo(self) else ""
        editable = self._profile is None or self._profile.source != "connections.toml"
        if self._dirty and editable and not self.save():
            return None
        if self._profile is None:
            return None
        name = self._profile.name
        result = request_connection(self.ctx, name, self, typed=typed, passcode=passcode, store=self.secrets)
        if isinstance(result, LoginPrompt):
            self._show_status("runs", f"Type what the login to {name} needs in the window that opened.")
            result.submitted.connect(lambda *_: self._on_connect_started(name))
        else:
            self._on_connect_started(name)
        return result

    def _on_connect_started(self, name: str) -> None:
        self.connect_started.emit(name)
        self._show_status("runs", f"Connecting to {name}… (see the connection bar)")

    def _on_test_succeeded(self, info: ConnectionInfo) -> None:
        where = f"{info.database}.{info.schema}"
        warehouse = f"{info.warehouse.name} ({info.warehouse.size}, {info.warehouse.type.title()})"
        who = "Local workspace" if info.engine == "local" else f"{info.account} as {info.user or '?'}"
        role = f"role {info.role}, " if info.role else ""
        self._show_status("success", f"Connected: {who}; {role}{where}; warehouse {warehouse}.")

    def _on_test_failed(self, error: ErrorInfo) -> None:
        self._show_status("error", f"Test failed: {error.message}")
        self.status.setToolTip(error.details if error.code == "unexpected" else "")

    def _browse_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Workspace folder", self.workspace_edit.text())
        if folder:
            self.workspace_edit.setText(folder)
            self._mark_dirty()

    def _browse_key_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Private key file", self.key_file.text(), "Private keys (*.p8 *.pem *.key);;All files (*)"
        )
        if path:
            self.key_file.setText(path)
            self._mark_dirty()

    # --- helpers ---------------------------------------------------------------------------------------
    def _show_status(self, level: str, text: str) -> None:
        self.status.setText(text)
        self.status.setProperty("level", level)
        self.status.setStyleSheet({"error": "color: #d9453b", "success": "color: #2f9e57"}.get(level, ""))

    def _confirm_discard(self) -> bool:
        return self._confirm("connections_confirm_discard", "Unsaved changes", "Discard the unsaved changes?")

    def _confirm(self, object_name: str, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setObjectName(object_name)
        box.setAccessibleName(title)
        yes = box.addButton("Yes", QMessageBox.ButtonRole.AcceptRole)
        yes.setObjectName(f"{object_name}_yes")
        no = box.addButton("No", QMessageBox.ButtonRole.RejectRole)
        no.setObjectName(f"{object_name}_no")
        box.setDefaultButton(no)
        box.exec()
        return box.clickedButton() is yes

    def _cancel_jobs(self) -> None:
        for job in (self._test_job, self._check_job):
            if job is not None:
                job.cancel()

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._cancel_jobs()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self._cancel_jobs()
        super().done(result)


def _test_connection(name, workspace, task: TaskContext, ask, passcode):  # noqa: ANN001 - worker side
    """Open, describe and close a connection (worker thread)."""
    from snowml_desktop.ui.context import open_connection

    engine = open_connection(name, workspace, task, ask=ask, passcode=passcode)
    try:
        task.report(0.7, "Asking the server who we are…")
        return engine.describe()
    finally:
        engine.close()


def _check_account(name, workspace, task: TaskContext, ask, passcode) -> AccountCheck:  # noqa: ANN001
    """Open the connection without restoring journaled warehouses, check the account, close (worker
    thread). A login that fails becomes the check's answer."""
    from snowml_desktop.ui.context import open_connection

    try:
        engine = open_connection(name, workspace, task, ask=ask, passcode=passcode, replay_journal=False)
    except (ConnectionFailed, PermissionDenied) as error:
        return AccountCheck.login_failed(name, error)
    try:
        task.report(0.5, "Checking privileges, warehouse, packages and setup…")
        return engine.check_account()
    finally:
        engine.close()


def _default_workspace() -> str:
    import os

    env = os.environ.get("SNOWML_HOME")
    if env:
        return env
    import platformdirs

    return platformdirs.user_data_dir("snowml-desktop", appauthor=False)


def _list_text(profile: ConnectionProfile) -> str:
    if profile.kind == "local":
        return "Local (embedded)"
    if profile.source == "connections.toml":
        return f"{profile.name}  (connections.toml, read-only)"
    return profile.name


def _source_text(profile: ConnectionProfile) -> str:
    if profile.kind == "local":
        return f"Embedded warehouse in {profile.workspace or _default_workspace()}"
    if profile.source == "connections.toml":
        return f"{profile.account} — from connections.toml (read-only)"
    return f"{profile.account} — saved by this app"


def _named(widget, object_name: str, accessible_name: str):  # noqa: ANN001, ANN202
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    return widget


def _button(
    object_name: str, text: str, icon_name: str | None, tooltip: str, accessible_name: str | None = None
) -> QPushButton:
    button = _named(QPushButton(text), object_name, accessible_name or text)
    button.setToolTip(tooltip)
    if icon_name:
        button.setIcon(icon(icon_name))
    return button


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(f"{text}:")
    label.setBuddy(widget)
    return label
