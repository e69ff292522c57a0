"""A line edit for a table (or other object) name, validated as the user types.

Under the field a hint shows the canonical identifier the name becomes (``sales`` -> ``SALES``;
``"My table"`` keeps its case and spaces and must be quoted in SQL), or why the name is unusable. The
rules are Snowflake's, from ``core.identifiers``, so both engines agree with what the user sees.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from snowml_desktop.core.errors import InvalidInput
from snowml_desktop.core.identifiers import display, is_simple, normalize
from snowml_desktop.ui.widgets.elided_label import ElidedLabel

__all__ = ["TableNameEdit", "describe_identifier"]


def describe_identifier(
    text: str, *, what: str = "table name", exists: bool = False
) -> tuple[str | None, str]:
    """``(canonical name or None, hint text)`` for user-typed ``text``; ``exists``: the name is taken, so
    using it replaces the object ("Replaces X", not "Creates X")."""
    if not text.strip():
        return None, f"Type a {what}."
    try:
        name = normalize(text, what=what)
    except InvalidInput as error:
        return None, str(error)
    shown = f"{'Replaces' if exists else 'Creates'} {display(name)}"
    if is_simple(name):
        return name, shown
    return name, f"{shown} (case-sensitive: write it in double quotes in SQL)"


class TableNameEdit(QWidget):
    """A name field plus a live hint. ``canonical()`` is the resulting name, or None while invalid.

    ``nameChanged(str)`` carries the canonical name, or "" while the text is not a usable name.
    """

    nameChanged = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, object_name: str = "table_name", what: str = "table name"
    ) -> None:
        super().__init__(parent)
        self._what = what
        self._exists = False
        self._canonical: str | None = None
        self.line_edit = QLineEdit(self)
        self.line_edit.setObjectName(object_name)
        self.line_edit.setAccessibleName(what.capitalize())
        self.line_edit.setPlaceholderText("e.g. CUSTOMERS")
        self.line_edit.setClearButtonEnabled(True)
        # One line, the whole hint in its tooltip: a 255-character name neither widens the window nor
        # wraps into a second line the form did not make room for.
        self.hint = ElidedLabel(parent=self)
        self.hint.setObjectName(f"{object_name}.identifier")
        self.hint.setAccessibleName(f"Resulting {what}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.line_edit)
        layout.addWidget(self.hint)
        self.line_edit.textChanged.connect(self._on_text_changed)
        self._on_text_changed("")

    def text(self) -> str:
        return self.line_edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming, like QLineEdit
        self.line_edit.setText(text)

    def canonical(self) -> str | None:
        """The canonical identifier for the current text, or None when it is not a usable name."""
        return self._canonical

    def set_exists(self, exists: bool) -> None:
        """Tell the hint whether the typed name is taken (it then says "Replaces …")."""
        if exists != self._exists:
            self._exists = exists
            _, hint = describe_identifier(self.text(), what=self._what, exists=exists)
            self.hint.setText(hint)
            self.hint.setToolTip(hint)

    def _on_text_changed(self, text: str) -> None:
        self._canonical, hint = describe_identifier(text, what=self._what, exists=self._exists)
        self.hint.setText(hint)
        self.hint.setToolTip(hint)
        palette = self.hint.palette()
        role = QPalette.ColorRole.WindowText
        if self._canonical is None and text.strip():
            palette.setColor(role, self._error_colour())
        else:
            palette.setColor(
                role, self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
            )
        self.hint.setPalette(palette)
        self.line_edit.setProperty("invalid", self._canonical is None and bool(text.strip()))
        self.nameChanged.emit(self._canonical or "")

    def _error_colour(self) -> QColor:
        # A red that reads on light and on dark backgrounds.
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return QColor("#ff6b6b") if dark else QColor("#b00020")
