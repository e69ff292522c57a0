"""The bar above the panels: choose a connection, open the manager, and see where you are connected.

Status reads like ``Local · role — · SNOWML.DATA · LOCAL_WH (X-Small, Standard, 1 worker)`` or, on Snowflake,
``myorg-acct · ANALYST · DB.SCHEMA · ML_WH (Medium, Snowpark-optimized)``. It is fetched with
``engine.describe()`` in a job, never on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from snowml_desktop.jobs.runner import ErrorInfo
from snowml_desktop.ui.icons import icon
from snowml_desktop.ui.widgets.elided_label import ElidedLabel
from snowml_desktop.ui.wording import for_gui

if TYPE_CHECKING:
    from snowml_desktop.engines.base import ConnectionInfo, Engine, WarehouseState
    from snowml_desktop.ui.context import AppContext

__all__ = ["ConnectionBar", "describe_status", "warehouse_text"]

log = logging.getLogger(__name__)


def warehouse_text(warehouse: WarehouseState) -> str:
    kind = "Snowpark-optimized" if "SNOWPARK" in warehouse.type.upper() else "Standard"
    parts = [warehouse.size, kind]
    if warehouse.workers is not None:
        parts.append(f"{warehouse.workers} worker{'s' if warehouse.workers != 1 else ''}")
    return f"{warehouse.name} ({', '.join(parts)})"


def describe_status(info: ConnectionInfo) -> list[tuple[str, str, str]]:
    """(object name, text, tooltip) for each status field of a connection."""
    account = "Local" if info.engine == "local" else info.account
    where = str(info.workspace) if info.workspace else info.account
    return [
        ("connection_account", account, f"Account: {where}"),
        ("connection_role", f"Role {info.role}" if info.role else "No role", "Role"),
        ("connection_namespace", f"{info.database}.{info.schema}", "Database.schema"),
        ("connection_warehouse", warehouse_text(info.warehouse), "Warehouse (size, type)"),
    ]


class ConnectionBar(QWidget):
    """Connection chooser, "Connections…" button and live status of the current connection."""

    manage_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("connection_bar")
        self.setAccessibleName("Connection bar")
        self.chooser = QComboBox()
        self.chooser.setObjectName("connection_chooser")
        self.chooser.setAccessibleName("Connection")
        self.chooser.setToolTip("Choose the warehouse to work on")
        self.chooser.setMinimumContentsLength(16)
        self.manage_button = QPushButton("Connections…")
        self.manage_button.setObjectName("connection_manage")
        self.manage_button.setAccessibleName("Manage connections")
        self.manage_button.setIcon(icon("connection"))
        self.state_icon = QLabel()
        self.state_icon.setObjectName("connection_state_icon")
        self.state_icon.setAccessibleName("Connection state icon")
        # Elided, the whole text in its tooltip: a long connection error never widens the window.
        self.state = ElidedLabel("Not connected")
        self.state.setObjectName("connection_state")
        self.state.setAccessibleName("Connection state")
        self.fields: dict[str, QLabel] = {}
        #: The login prompt last opened by choosing a connection (None until one was needed).
        self.prompt: QWidget | None = None

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        label = QLabel("Connection:")
        label.setBuddy(self.chooser)
        layout.addWidget(label)
        layout.addWidget(self.chooser)
        layout.addWidget(self.manage_button)
        layout.addSpacing(12)
        layout.addWidget(self.state_icon)
        layout.addWidget(self.state, 4)
        for name, tip in (
            ("connection_account", "Account"),
            ("connection_role", "Role"),
            ("connection_namespace", "Database.schema"),
            ("connection_warehouse", "Warehouse"),
        ):
            field = ElidedLabel()
            field.setObjectName(name)
            field.setAccessibleName(tip)
            self.fields[name] = field
            separator = QFrame()
            separator.setFrameShape(QFrame.Shape.VLine)
            separator.setFrameShadow(QFrame.Shadow.Sunken)
            layout.addWidget(separator)
            layout.addWidget(field, 1)

        self.reload_profiles()
        self.chooser.activated.connect(self._on_chosen)
        self.manage_button.clicked.connect(self.manage_requested)
        ctx.engine_changed.connect(self._on_engine_changed)
        ctx.connecting.connect(self._on_connecting)
        ctx.connection_failed.connect(self._on_connection_failed)
        ctx.runs_changed.connect(self.refresh)  # scoring may have resized the warehouse
        self._on_engine_changed(ctx.engine)

    def reload_profiles(self) -> None:
        """Fill the chooser from the saved connections, keeping the current one selected."""
        from snowml_desktop.core import connections

        try:
            profiles = connections.list_profiles()
        except Exception as exc:  # noqa: BLE001 - a broken settings file must not break the window
            log.exception("Could not list connections")
            self._show_state("error", f"Connections could not be read: {exc}")
            profiles = []
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for profile in profiles:
            label = "Local (embedded)" if profile.kind == "local" else profile.name
            self.chooser.addItem(icon("local" if profile.kind == "local" else "cloud"), label, profile.name)
        if not profiles:
            self.chooser.addItem(icon("local"), "Local (embedded)", "local")
        self._select(self.ctx.connection_name)
        self.chooser.blockSignals(False)

    def refresh(self) -> None:
        """Fetch the status of the current engine in a job."""
        if self.ctx.engine is None:
            return
        handle = self.ctx.run(
            "Describe connection", lambda engine, task: engine.describe(), key="connection_bar"
        )
        handle.succeeded.connect(self._show_info)
        handle.failed.connect(
            lambda error: self._show_state("warning", f"Status unavailable: {for_gui(error.message)}")
        )

    # --- slots -----------------------------------------------------------------------------------------
    def _on_chosen(self, index: int) -> None:
        name = self.chooser.itemData(index)
        if not name or (name == self.ctx.connection_name and self.ctx.engine is not None):
            return
        from snowml_desktop.ui.login_prompt import LoginPrompt, request_connection

        result = request_connection(self.ctx, name, self.window())
        if isinstance(result, LoginPrompt):
            self.prompt = result
            # Cancelled: the chooser goes back to the connection still in use.
            result.rejected.connect(lambda: self._select(self.ctx.connection_name))

    def _on_connecting(self, name: str) -> None:
        self._select(name)
        self._show_state("runs", f"Connecting to {name}…")
        self._clear_fields()

    def _on_connection_failed(self, name: str, error: ErrorInfo) -> None:
        self._show_state("error", f"Not connected: {for_gui(error.message)}")

    def _on_engine_changed(self, engine: Engine | None) -> None:
        if engine is None:
            if not self.ctx.connecting_now:
                self._show_state("warning", "Not connected")
            self._clear_fields()
            return
        self._select(self.ctx.connection_name)
        self._show_state("success", "")
        self.refresh()

    def _show_info(self, info: ConnectionInfo) -> None:
        for name, text, tip in describe_status(info):
            self.fields[name].setText(text)
            self.fields[name].setToolTip(f"{tip} — {text}")
        self._show_state("success", "")

    def _show_state(self, level: str, text: str) -> None:
        self.state_icon.setPixmap(icon(level).pixmap(16, 16))
        self.state.setText(text)
        self.state.setVisible(bool(text))

    def _clear_fields(self) -> None:
        for field in self.fields.values():
            field.clear()

    def _select(self, name: str | None) -> None:
        if name is None:
            return
        index = next(
            (i for i in range(self.chooser.count()) if str(self.chooser.itemData(i)).lower() == name.lower()),
            -1,
        )
        if index >= 0:
            self.chooser.setCurrentIndex(index)
