"""Non-modal notices: a message with an optional "Details" expander, stacked under the panels.

Errors never open a modal dialog and never show a traceback up front: the message says what happened and
how to fix it; the technical details (traceback) are one click away under "Details", for a bug report.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.jobs.runner import ErrorInfo
from snowml_desktop.ui.icons import icon
from snowml_desktop.ui.wording import breakable, for_gui

__all__ = ["Notice", "NoticeArea"]

#: Notices kept on screen at once; older ones are dismissed first.
MAX_NOTICES = 3
#: Informational notices hide themselves after this many milliseconds; errors stay until closed.
INFO_TIMEOUT_MS = 8000


class Notice(QFrame):
    """One notice: status icon, message, optional details behind a toggle, and a close button."""

    dismissed = Signal()

    def __init__(self, level: str, message: str, details: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = level
        self.message = message
        #: The section of the window shown when the notice came ("" outside the main window).
        self.section = ""
        self.setObjectName(f"notice_{level}")
        self.setAccessibleName(f"{level.capitalize()} notice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        badge = QLabel()
        badge.setPixmap(icon(level).pixmap(20, 20))
        badge.setAccessibleName(level)
        text = _MessageLabel(breakable(message))
        text.setObjectName("notice_message")
        text.setAccessibleName("Notice message")
        text.setWordWrap(True)
        text.setToolTip(message)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = _tool_button("notice_details", "Details", "Show or hide the technical details")
        self.details_button.setCheckable(True)
        self.details_button.setIcon(icon("details"))
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setVisible(bool(details))
        self.copy_button = _tool_button("notice_copy", "Copy", "Copy the message and details")
        self.copy_button.setVisible(bool(details))
        close = _tool_button("notice_close", "Close notice", "Close this notice")
        close.setIcon(icon("close"))

        self.details = QPlainTextEdit(details)
        self.details.setObjectName("notice_details_text")
        self.details.setAccessibleName("Technical details")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(160)
        self.details.setVisible(False)

        top = QHBoxLayout()
        top.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(text, 1)
        for button in (self.details_button, self.copy_button, close):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(top)
        layout.addWidget(self.details)

        self.details_button.toggled.connect(self.details.setVisible)
        self.copy_button.clicked.connect(self._copy)
        close.clicked.connect(self.dismiss)

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
        self.deleteLater()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.message}\n\n{self.details.toPlainText()}")


class NoticeArea(QWidget):
    """A vertical stack of notices. Repeating the message of a notice on screen does not stack a copy.

    Each notice belongs to the section shown when it came (:meth:`set_section`); moving to another section
    dismisses the notices of the one left, so notices never pile up across panels (the Jobs dock keeps every
    failure with its details)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_area")
        self.setAccessibleName("Notices")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._notices: list[Notice] = []
        self._section = ""

    def set_section(self, section: str) -> None:
        """The user moved to ``section``: dismiss the notices that came while another one was shown."""
        self._section = section
        for notice in list(self._notices):
            if notice.section != section:
                notice.dismiss()

    def notices(self) -> list[Notice]:
        return list(self._notices)

    def show_error(self, title: str, error: ErrorInfo) -> Notice:
        """An error notice: "<title>: <message>", details (the traceback) behind the expander."""
        message = for_gui(error.message)
        return self._add("error", f"{title}: {message}" if title else message, error.details)

    def show_warning(self, message: str, details: str = "") -> Notice:
        return self._add("warning", message, details)

    def show_info(self, message: str) -> Notice:
        notice = self._add("info", message, "")
        QTimer.singleShot(INFO_TIMEOUT_MS, notice, notice.dismiss)
        return notice

    def clear(self) -> None:
        for notice in list(self._notices):
            notice.dismiss()

    def _add(self, level: str, message: str, details: str) -> Notice:
        for existing in self._notices:
            if existing.message == message:
                return existing
        while len(self._notices) >= MAX_NOTICES:
            self._notices[0].dismiss()
        notice = Notice(level, message, details, self)
        notice.section = self._section
        notice.dismissed.connect(lambda n=notice: self._forget(n))
        self._notices.append(notice)
        self._layout.addWidget(notice)
        notice.show()  # at once, not on the next event-loop turn as a layout would
        return notice

    def _forget(self, notice: Notice) -> None:
        if notice in self._notices:
            self._notices.remove(notice)


class _MessageLabel(QLabel):
    """A wrapping label that asks for no width of its own: it wraps to the width it is given and never sets
    the window's width, whatever the message (paths break after each separator, see ``wording.breakable``)."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        width = min(super().sizeHint().width(), self.width() if self.width() > 1 else 600)
        return QSize(width, self.heightForWidth(width))



def _tool_button(object_name: str, accessible_name: str, tooltip: str) -> QToolButton:
    button = QToolButton()
    button.setObjectName(object_name)
    button.setAccessibleName(accessible_name)
    button.setToolTip(tooltip)
    button.setText(accessible_name if object_name != "notice_close" else "")
    button.setAutoRaise(True)
    return button
