"""A virtualized, sortable Qt table model over a bounded pandas frame.

The engine hands the GUI a frame of at most a few thousand rows (``Engine.preview``); this model shows
it without copying it into Qt items. Rows are exposed in chunks as the view scrolls (``canFetchMore`` /
``fetchMore``), so a view lays out only what it needs. Sorting reorders a row index, never the frame.
Numbers are right-aligned; nulls read ``NULL`` in a muted italic so they never look like the text "NULL"
or an empty string.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QGuiApplication, QPalette

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["NULL_TEXT", "FrameModel"]

NULL_TEXT = "NULL"
#: Rows exposed per fetch; a view asks for more as it scrolls.
FETCH_CHUNK = 200

_Index = QModelIndex | QPersistentModelIndex


class FrameModel(QAbstractTableModel):
    """Read-only model of a pandas frame. ``set_frame`` replaces the data; ``clear`` empties it.

    ``rowCount`` grows by ``FETCH_CHUNK`` as views fetch more; ``total_rows()`` is the frame's size.
    ``value(row, column)`` returns the raw value at a displayed position (after sorting).
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._headers: list[str] = []
        self._columns: list[np.ndarray] = []  # one object array per column
        self._nulls: list[np.ndarray] = []  # one bool array per column
        self._numeric: list[bool] = []
        self._order: np.ndarray | None = None  # displayed row -> frame row
        self._fetched = 0
        self._null_font = QFont()
        self._null_font.setItalic(True)

    # --- data in ------------------------------------------------------------------------------------
    def set_frame(self, frame: pd.DataFrame) -> None:
        """Show ``frame`` (bounded size; the caller asks the engine for a limited preview)."""
        import numpy as np
        import pandas as pd

        self.beginResetModel()
        self._headers = [str(name) for name in frame.columns]
        self._columns, self._nulls, self._numeric = [], [], []
        for position in range(frame.shape[1]):
            series = frame.iloc[:, position]
            self._columns.append(series.to_numpy(dtype=object, na_value=None))
            self._nulls.append(series.isna().to_numpy(dtype=bool))
            self._numeric.append(
                pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
            )
        self._order = np.arange(len(frame))
        self._fetched = min(FETCH_CHUNK, len(frame))
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._headers, self._columns, self._nulls, self._numeric = [], [], [], []
        self._order, self._fetched = None, 0
        self.endResetModel()

    def total_rows(self) -> int:
        return 0 if self._order is None else len(self._order)

    def headers(self) -> list[str]:
        return list(self._headers)

    def value(self, row: int, column: int) -> Any:
        """The raw value (None for null) shown at displayed ``row``, ``column``."""
        assert self._order is not None
        return self._columns[column][self._order[row]]

    # --- Qt model protocol -------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._fetched

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._headers)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and self._fetched < self.total_rows()

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        if parent.isValid():
            return
        more = min(FETCH_CHUNK, self.total_rows() - self._fetched)
        if more <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._fetched, self._fetched + more - 1)
        self._fetched += more
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._headers[section] if 0 <= section < len(self._headers) else None
        return str(section + 1)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._order is None:
            return None
        row, column = self._order[index.row()], index.column()
        is_null = bool(self._nulls[column][row])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if is_null:
                return NULL_TEXT if role == Qt.ItemDataRole.DisplayRole else "Null (no value)"
            value = self._columns[column][row]
            return format_value(value) if role == Qt.ItemDataRole.DisplayRole else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if self._numeric[column] else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and is_null:
            return self._null_font
        if role == Qt.ItemDataRole.ForegroundRole and is_null:
            return QGuiApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder displayed rows by ``column`` (stable; nulls always last)."""
        if self._order is None or not 0 <= column < len(self._headers):
            return
        self.layoutAboutToBeChanged.emit()
        self._order = _sorted_order(self._columns[column], self._nulls[column], order)
        self.layoutChanged.emit()


def _sorted_order(values: np.ndarray, nulls: np.ndarray, order: Qt.SortOrder) -> np.ndarray:
    import numpy as np

    present = np.flatnonzero(~nulls)
    missing = np.flatnonzero(nulls)
    descending = order == Qt.SortOrder.DescendingOrder
    try:  # sorted() is stable in both directions
        keys = sorted(present, key=lambda i: values[i], reverse=descending)
    except TypeError:  # mixed types in one object column: compare as text
        keys = sorted(present, key=lambda i: str(values[i]), reverse=descending)
    ordered = np.asarray(keys, dtype=np.int64)
    return np.concatenate([ordered, missing]).astype(np.int64)


def format_value(value: Any) -> str:
    """Short display text for a cell: floats to 6 significant digits, no trailing noise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ", timespec="seconds")
            if value.microsecond == 0
            else value.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        return format_value(value.item())
    return str(value)
