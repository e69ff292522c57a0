"""A word-wrapping label that wraps long identifiers and paths too, so no text sets the width of its column.

A plain wrapping QLabel cannot break a word: a 66-character table name in it makes the label, and every
layout and scroll area it is in, at least that wide. This one shows the text with break opportunities
after underscores and path separators (``wording.breakable``) while ``text()`` stays the text as given.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QWidget

from snowml_desktop.ui.wording import breakable

__all__ = ["WrapLabel"]

#: Narrowest a wrapping label gets, in characters of its font: a column still reads at this width.
MIN_CHARS = 16


class WrapLabel(QLabel):
    """``text()`` is the text as set; what is painted may break inside long identifiers."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.setWordWrap(True)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        self._text = text
        super().setText(breakable(text, names=True))

    def text(self) -> str:
        return self._text

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        width = min(super().minimumSizeHint().width(), self.fontMetrics().averageCharWidth() * MIN_CHARS)
        return QSize(width, super().minimumSizeHint().height())
