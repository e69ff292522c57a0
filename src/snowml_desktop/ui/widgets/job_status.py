"""Shows one panel job inline: progress and stage while it runs, a Cancel button, then the outcome.

Errors show their message (what, where, how to fix) with a "Details" expander for the technical details;
never a traceback in the user's face, never a modal dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from snowml_desktop.ui.widgets.elided_label import ElidedLabel
from snowml_desktop.ui.wording import for_gui

if TYPE_CHECKING:
    from snowml_desktop.jobs.runner import ErrorInfo, JobHandle

__all__ = ["JobStatus"]

_ERROR_STYLE = "color: palette(text); background: rgba(214, 39, 40, 0.14); border-radius: 4px; padding: 6px;"
_OK_STYLE = "color: palette(text); background: rgba(44, 160, 44, 0.14); border-radius: 4px; padding: 6px;"
_NOTE_STYLE = "color: palette(text); background: rgba(255, 160, 0, 0.16); border-radius: 4px; padding: 6px;"


class JobStatus(QWidget):
    """Progress bar + stage + Cancel while a job runs; a success, cancel or error note afterwards.

    Child object names: ``<prefix>.progress``, ``<prefix>.cancel``, ``<prefix>.status``,
    ``<prefix>.details_toggle``, ``<prefix>.details``. Accessible names start with ``subject`` (the job's
    kind, e.g. "Training") so the status lines of different panels read apart.
    """

    def __init__(
        self, prefix: str, subject: str, parent: QWidget | None = None, *, cancel_text: str = "Cancel"
    ) -> None:
        super().__init__(parent)
        self._handle: JobHandle | None = None
        self.progress = _named(QProgressBar(), f"{prefix}.progress", f"{subject} progress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.stage = ElidedLabel()
        self.stage.setObjectName(f"{prefix}.stage")
        self.stage.setAccessibleName(f"{subject} stage")
        self.cancel_button = _named(QPushButton(cancel_text), f"{prefix}.cancel", f"Cancel {subject.lower()}")
        self.cancel_button.clicked.connect(self.cancel)
        self.message = _named(QLabel(), f"{prefix}.status", f"{subject} status")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps, never widens
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_toggle = _named(
            QToolButton(), f"{prefix}.details_toggle", f"Show {subject.lower()} details"
        )
        self.details_toggle.setText("Details")
        self.details_toggle.setCheckable(True)
        self.details_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.details_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_toggle.toggled.connect(self._toggle_details)
        self.details = _named(QPlainTextEdit(), f"{prefix}.details", f"{subject} error details")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)

        running = QHBoxLayout()
        running.setContentsMargins(0, 0, 0, 0)
        running.addWidget(self.progress, 1)
        running.addWidget(self.stage, 2)
        running.addWidget(self.cancel_button)
        outcome = QHBoxLayout()
        outcome.setContentsMargins(0, 0, 0, 0)
        outcome.addWidget(self.message, 1)
        outcome.addWidget(self.details_toggle, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(running)
        layout.addLayout(outcome)
        layout.addWidget(self.details)
        self.clear()

    # --- state -----------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._handle is not None and not self._handle.done

    def track(self, handle: JobHandle, text: str) -> None:
        """Show ``handle`` running with ``text`` until it ends (the caller shows the outcome)."""
        self._handle = handle
        self._set_message("", None)
        self.progress.setValue(0)
        self.stage.setText(text)
        for widget in (self.progress, self.stage, self.cancel_button):
            widget.setVisible(True)
        self.cancel_button.setEnabled(True)
        handle.progress.connect(self._on_progress)
        handle.finished.connect(self._on_finished)

    def cancel(self) -> None:
        if self._handle is not None and not self._handle.done:
            self.cancel_button.setEnabled(False)
            self.stage.setText("Cancelling…")
            self._handle.cancel()

    def clear(self) -> None:
        for widget in (self.progress, self.stage, self.cancel_button):
            widget.setVisible(False)
        self._set_message("", None)

    # --- outcomes --------------------------------------------------------------------------------------
    def show_success(self, text: str) -> None:
        self._set_message(text, _OK_STYLE)

    def show_note(self, text: str) -> None:
        self._set_message(text, _NOTE_STYLE)

    def show_error(self, error: ErrorInfo, prefix: str = "") -> None:
        self._set_message(f"{prefix}{for_gui(error.message)}", _ERROR_STYLE, details=error.details)

    def text(self) -> str:
        """The outcome message shown ("" when none)."""
        return self.message.text()

    # --- internals -------------------------------------------------------------------------------------
    def _set_message(self, text: str, style: str | None, *, details: str = "") -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style or "")
        self.message.setVisible(bool(text))
        self.details.setPlainText(details)
        self.details_toggle.setVisible(bool(details))
        self.details_toggle.setChecked(False)
        self.details.setVisible(False)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if stage and self.cancel_button.isEnabled():
            self.stage.setText(stage)

    def _on_finished(self) -> None:
        if self._handle is not None and not self._handle.done:
            return  # a job tracked before the one shown now ended (it started this one, as its next step)
        for widget in (self.progress, self.stage, self.cancel_button):
            widget.setVisible(False)
        self._handle = None


def _named(widget: QWidget, object_name: str, accessible_name: str) -> QWidget:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible_name)
    return widget
