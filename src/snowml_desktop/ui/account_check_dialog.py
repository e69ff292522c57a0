"""The result of "Check account": one row per check (OK, missing, unknown), and the statements that fix
what is missing in a read-only box the user can select from or copy at once to send to an admin.

The check itself runs in a job (``ConnectionDialog.check_account``); this dialog only shows its result.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.engines.base import CHECK_MISSING, CHECK_OK, CHECK_UNKNOWN, AccountCheck
from snowml_desktop.ui.panels.base import Panel

__all__ = ["AccountCheckDialog", "fix_script"]

_name = Panel.name_widget
_COLORS = {CHECK_OK: "#2f9e57", CHECK_MISSING: "#d9453b", CHECK_UNKNOWN: "#b7791f"}
COLUMNS = ("Status", "Check", "What was found", "Fix")


def fix_script(check: AccountCheck) -> str:
    """The fixes of every line that is not OK, each after a comment naming its check, ready to paste."""
    parts = [
        f"-- {line.name} ({line.status}): {line.detail}\n{line.fix}"
        for line in check.lines
        if line.fix and line.status != CHECK_OK
    ]
    return "\n\n".join(parts)


class AccountCheckDialog(QDialog):
    """Shows an :class:`AccountCheck`. Non-modal; the connection manager stays usable."""

    def __init__(self, check: AccountCheck, connection: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = check
        self.setObjectName("dialog_account_check")
        self.setAccessibleName("Account check")
        self.setWindowTitle(f"Account check: {connection}")
        self.setModal(False)
        self.resize(900, 560)

        missing, unknown = check.count(CHECK_MISSING), check.count(CHECK_UNKNOWN)
        role = f" as role {check.role}" if check.role else ""
        verdict = (
            f"{missing} missing, {unknown} unknown: send the fixes below to an admin."
            if missing
            else "Nothing is missing." + (f" {unknown} could not be verified." if unknown else "")
        )
        self.summary = _name(QLabel(f"{check.account}{role}. {verdict}"), "account_check_summary", "Summary")
        self.summary.setWordWrap(True)
        self.table = _name(QTableWidget(len(check.lines), len(COLUMNS)), "account_check_lines", "Checks")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):  # status and name fit their text; detail and fix share the rest
            fits = column < 2
            header.setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents if fits else QHeaderView.ResizeMode.Stretch
            )
        for row, line in enumerate(check.lines):
            status = QTableWidgetItem(line.status.upper() if line.status != CHECK_OK else "OK")
            status.setForeground(QColor(_COLORS[line.status]))
            cells = (
                status,
                QTableWidgetItem(line.name),
                QTableWidgetItem(line.detail),
                QTableWidgetItem(line.fix),
            )
            for column, item in enumerate(cells):
                item.setToolTip(item.text())
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()

        self.fixes = _name(QPlainTextEdit(fix_script(check)), "account_check_fixes", "Statements that fix it")
        self.fixes.setReadOnly(True)
        self.fixes.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.fixes.setPlaceholderText("Nothing to fix.")
        self.fixes.setMaximumHeight(160)
        self.copy_button = _name(QPushButton("Copy fixes"), "account_check_copy", "Copy the fixes")
        self.copy_button.setToolTip("Copy every statement above to the clipboard, to send to an admin")
        self.copy_button.setEnabled(bool(self.fixes.toPlainText()))
        self.close_button = _name(QPushButton("Close"), "account_check_close", "Close")
        self.copy_button.clicked.connect(self.copy_fixes)
        self.close_button.clicked.connect(self.close)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        fixes_label = QLabel("Statements that fix what is missing:")
        fixes_label.setBuddy(self.fixes)
        layout.addWidget(fixes_label)
        layout.addWidget(self.fixes)
        layout.addLayout(buttons)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def copy_fixes(self) -> None:
        QGuiApplication.clipboard().setText(self.fixes.toPlainText())
