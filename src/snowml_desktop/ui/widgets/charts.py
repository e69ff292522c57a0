"""Generic pyqtgraph charts: bar chart, histogram and heatmap, each with an empty-state message.

Every chart keeps handles to its plot items and updates them with ``setOpts``/``setData``, so redrawing
never piles up items. Categorical axes get explicit ticks. Colours follow the widget's palette, so the
charts read well in light and dark themes. The charts hold no business logic: callers pass plain lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

__all__ = ["BarChart", "ChartView", "HeatmapChart", "HistogramChart", "elide"]

#: Tick labels longer than this are shortened with an ellipsis (the full text is in the tooltip).
MAX_TICK_CHARS = 18
#: At most this many category ticks are drawn on a vertical bar axis; the rest are thinned out.
MAX_VERTICAL_TICKS = 24
#: Value labels on bars are drawn only up to this many bars (they would overlap beyond).
MAX_BAR_LABELS = 24
#: Cell labels are drawn only up to this many cells, beyond that they would be unreadable.
MAX_CELL_LABELS = 400
BAR_WIDTH = 0.72
#: A heatmap with more columns than this numbers them instead of naming them under the cells.
MAX_NAMED_COLUMNS = 8


def elide(text: str, limit: int = MAX_TICK_CHARS) -> str:
    """``text`` shortened to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ChartView(QWidget):
    """A titled pyqtgraph plot, replaced by a centred message when there is nothing to draw.

    ``plot_item`` is the pyqtgraph ``PlotItem``; ``message()`` is the empty-state text ("" while a chart
    is shown). Subclasses draw through handles they keep on ``plot_item``.
    """

    def __init__(self, parent: QWidget | None = None, *, title: str = "") -> None:
        super().__init__(parent)
        self._accent = self.palette().color(QPalette.ColorRole.Highlight)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMinimumSize(160, 120)
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.plot_item.getViewBox().setMouseEnabled(x=False, y=False)
        self._title = title
        self._apply_palette()
        self._message_label = QLabel(self)
        self._message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message_label.setWordWrap(True)
        self._message_label.setEnabled(False)  # greyed: it is a state, not content
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.plot_widget)
        self._stack.addWidget(self._message_label)
        self.show_message("No data")
        # Right-click: pyqtgraph's own export (PNG, SVG, CSV of the plotted data, print).
        self.export_action = QAction("Export image or data…", self.plot_widget)
        self.export_action.triggered.connect(self.show_export_dialog)
        self.plot_widget.addAction(self.export_action)
        self.plot_widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def show_export_dialog(self) -> QWidget:
        """Open pyqtgraph's export dialog on this chart's plot; returns the dialog."""
        scene = self.plot_widget.scene()
        scene.contextMenuItem = self.plot_item
        scene.showExportDialog()
        dialog = scene.exportDialog
        if dialog.parent() is not self:
            # A window of this chart, closed and destroyed with it: pyqtgraph makes it top-level, and its
            # parameter widgets' event filters outliving the chart raise errors in later events.
            dialog.setParent(self, Qt.WindowType.Window)
            dialog.show()
        return dialog

    def _apply_palette(self) -> None:
        """Draw the frame, axes and titles in the palette's colours (again after a light/dark switch)."""
        palette = self.palette()
        self._fg = palette.color(QPalette.ColorRole.WindowText)
        self.plot_widget.setBackground(palette.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom", "right", "top"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(self._fg))
            axis.setTextPen(pg.mkPen(self._fg))
            if axis.labelText:
                axis.setLabel(axis.labelText, units=axis.labelUnits or None, color=self._fg.name())
        if self._title:
            self.plot_item.setTitle(self._title, color=self._fg.name())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plot_item"):
            self._apply_palette()

    def show_message(self, text: str) -> None:
        """Hide the plot and show ``text`` (an empty state or an error) in its place."""
        self._message_label.setText(text)
        self._stack.setCurrentWidget(self._message_label)

    def message(self) -> str:
        """The empty-state text shown instead of the chart, or "" when the chart is shown."""
        return self._message_label.text() if self._stack.currentWidget() is self._message_label else ""

    def _show_plot(self) -> None:
        self._message_label.setText("")
        self._stack.setCurrentWidget(self.plot_widget)

    def set_axis_titles(self, *, x: str | None = None, y: str | None = None) -> None:
        if x is not None:
            self.plot_item.setLabel("bottom", x, color=self._fg.name())
        if y is not None:
            self.plot_item.setLabel("left", y, color=self._fg.name())

    def set_title(self, title: str) -> None:
        self._title = title
        self.plot_item.setTitle(title or None, color=self._fg.name())

    def _bar_brush(self) -> QColor:
        colour = QColor(self._accent)
        colour.setAlpha(210)
        return colour


class _BarsLayer:
    """One ``BarGraphItem`` plus value labels on a plot, updated in place."""

    def __init__(self, chart: ChartView, *, horizontal: bool) -> None:
        self._chart = chart
        self._horizontal = horizontal
        self.item = (
            pg.BarGraphItem(x0=[], y=[], height=[], width=[])
            if horizontal
            else pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH)
        )
        self.item.setOpts(brush=chart._bar_brush(), pen=pg.mkPen(None))
        chart.plot_item.addItem(self.item)
        self._labels: list[pg.TextItem] = []

    def set_visible(self, visible: bool) -> None:
        self.item.setVisible(visible)
        for label in self._labels:
            label.setVisible(visible and bool(label.textItem.toPlainText()))

    def set_bars(self, values: Sequence[float], texts: Sequence[str]) -> None:
        positions = np.arange(len(values), dtype=float)
        heights = np.asarray(values, dtype=float)
        if self._horizontal:
            self.item.setOpts(x0=np.zeros(len(values)), y=positions, height=BAR_WIDTH, width=heights)
        else:
            self.item.setOpts(x=positions, height=heights, width=BAR_WIDTH)
        self._set_labels(positions, heights, texts)
        self.set_visible(True)

    def _set_labels(self, positions: np.ndarray, heights: np.ndarray, texts: Sequence[str]) -> None:
        plot = self._chart.plot_item
        while len(self._labels) < len(texts):
            anchor = (0.0, 0.5) if self._horizontal else (0.5, 1.0)
            label = pg.TextItem(color=self._chart._fg, anchor=anchor)
            plot.addItem(label, ignoreBounds=True)
            self._labels.append(label)
        shown = len(texts) if self._horizontal or len(texts) <= MAX_BAR_LABELS else 0
        for index, label in enumerate(self._labels):
            if index < shown:
                label.setText(texts[index])
                # A negative bar's label goes on the empty positive side of zero: never over the bar,
                # never clipped at the axis.
                end = max(float(heights[index]), 0.0)
                x, y = (end, positions[index]) if self._horizontal else (positions[index], end)
                label.setPos(float(x), float(y))
            else:
                label.setText("")


def _category_ticks(
    labels: Sequence[str], limit: int | None, chars: int | None = MAX_TICK_CHARS
) -> list[tuple[float, str]]:
    step = max(1, math.ceil(len(labels) / limit)) if limit else 1
    return [
        (float(i), elide(str(label), chars) if chars else str(label))
        for i, label in enumerate(labels)
        if i % step == 0
    ]


def _count_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


class BarChart(ChartView):
    """Bars for categories: ``set_bars(labels, values)``. Horizontal bars list categories top-down in the
    given order, which reads best for long labels; vertical bars suit few short labels."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        orientation: str = "horizontal",
        title: str = "",
        value_title: str = "Count",
        category_title: str = "",
        label_chars: int | None = MAX_TICK_CHARS,
    ) -> None:
        """``label_chars``: category labels longer than this are elided (None: always in full)."""
        super().__init__(parent, title=title)
        self._label_chars = label_chars
        if orientation not in ("horizontal", "vertical"):
            raise ValueError(f"orientation must be 'horizontal' or 'vertical', not {orientation!r}")
        self.horizontal = orientation == "horizontal"
        self._bars = _BarsLayer(self, horizontal=self.horizontal)
        self._labels: list[str] = []
        self._values: list[float] = []
        if self.horizontal:
            self.plot_item.invertY(True)
            self.set_axis_titles(x=value_title, y=category_title)
        else:
            self.set_axis_titles(x=category_title, y=value_title)

    def set_bars(
        self,
        labels: Sequence[str],
        values: Sequence[float],
        *,
        texts: Sequence[str] | None = None,
        empty_message: str = "No data",
    ) -> None:
        """Draw one bar per label. ``texts`` label each bar (default: the value); no labels shows
        ``empty_message`` instead of the chart."""
        if len(labels) != len(values):
            raise ValueError("labels and values must have the same length")
        self._labels = [str(label) for label in labels]
        self._values = [float(value) for value in values]
        if not self._labels:
            self.show_message(empty_message)
            return
        self._bars.set_bars(
            self._values, list(texts) if texts is not None else [_count_text(v) for v in values]
        )
        category_axis = self.plot_item.getAxis("left" if self.horizontal else "bottom")
        ticks = _category_ticks(
            self._labels, None if self.horizontal else MAX_VERTICAL_TICKS, self._label_chars
        )
        category_axis.setTicks([ticks])
        if self.horizontal:
            # pyqtgraph drops tick labels wider than the axis; size it for the longest label.
            metrics = QFontMetrics(category_axis.style.get("tickFont") or self.font())
            category_axis.setWidth(max(metrics.horizontalAdvance(text) for _, text in ticks) + 16)
        self._fit_range()
        self.setToolTip(
            "\n".join(
                f"{label}: {_count_text(v)}"
                for label, v in zip(self._labels[:40], self._values[:40], strict=True)
            )
        )
        self._show_plot()

    def _fit_range(self) -> None:
        top = max([0.0, *self._values])
        low = min([0.0, *self._values])
        extent = (top - low) or 1.0
        span = (-0.6, len(self._values) - 0.4)
        # A sliver below the lowest value keeps the 0 tick in view; room beyond the longest bar (or beyond
        # zero, where negative bars put theirs) is for the value labels.
        values_range = (low - 0.02 * extent, top + 0.15 * extent if top > 0 else 0.4 * extent)
        if self.horizontal:
            self.plot_item.setRange(xRange=values_range, yRange=span, padding=0)
        else:
            self.plot_item.setRange(xRange=span, yRange=values_range, padding=0)

    def bars(self) -> list[tuple[str, float]]:
        """The drawn (label, value) pairs, in order."""
        return list(zip(self._labels, self._values, strict=True))


class HistogramChart(ChartView):
    """A numeric histogram (bin edges and counts, drawn as steps) or a categorical one (bars)."""

    def __init__(self, parent: QWidget | None = None, *, title: str = "") -> None:
        super().__init__(parent, title=title)
        fill = self._bar_brush()
        self._steps = pg.PlotDataItem(
            [0.0, 1.0],
            [0.0],
            stepMode="center",
            fillLevel=0,
            brush=fill,
            pen=pg.mkPen(self._accent, width=1.5),
        )
        self.plot_item.addItem(self._steps)
        self._bars = _BarsLayer(self, horizontal=False)
        self._bars.set_visible(False)
        self.kind = ""
        self.counts: list[int] = []

    def set_numeric(self, edges: Sequence[float], counts: Sequence[int], *, x_title: str = "") -> None:
        """Draw bins: ``edges`` has ``len(counts) + 1`` values; no counts shows the empty state."""
        self.kind, self.counts = "numeric", [int(c) for c in counts]
        if not counts:
            self.show_message("No values to plot")
            return
        if len(edges) != len(counts) + 1:
            raise ValueError("edges must have one more value than counts")
        self._bars.set_visible(False)
        self._steps.setData(np.asarray(edges, dtype=float), np.asarray(counts, dtype=float))
        self._steps.setVisible(True)
        bottom = self.plot_item.getAxis("bottom")
        bottom.setTicks(None)
        self.set_axis_titles(x=x_title, y="Rows")
        self.plot_item.enableAutoRange()
        self._show_plot()

    def set_categorical(
        self, categories: Sequence[str], counts: Sequence[int], *, other: int = 0, x_title: str = ""
    ) -> None:
        """Draw one bar per category (most common first) and an "(other)" bar for the rest when > 0."""
        labels = [str(c) for c in categories] + (["(other)"] if other else [])
        values = [int(c) for c in counts] + ([int(other)] if other else [])
        self.kind, self.counts = "categorical", values
        if not labels:
            self.show_message("No values to plot")
            return
        self._steps.setVisible(False)
        self._bars.set_bars(values, [_count_text(v) for v in values])
        self.plot_item.getAxis("bottom").setTicks([_category_ticks(labels, MAX_VERTICAL_TICKS)])
        self.set_axis_titles(x=x_title, y="Rows")
        self.plot_item.setRange(
            xRange=(-0.6, len(values) - 0.4), yRange=(0, max(values) * 1.15 or 1), padding=0
        )
        self._show_plot()


def _readable_on(colour: QColor) -> QColor:
    """Black or white, whichever reads better on ``colour`` (relative luminance)."""
    luminance = 0.2126 * colour.redF() + 0.7152 * colour.greenF() + 0.0722 * colour.blueF()
    return QColor("black") if luminance > 0.5 else QColor("white")


class HeatmapChart(ChartView):
    """A matrix as coloured cells with row/column labels, a colour bar and optional cell labels.

    Row 0 is drawn at the top. ``None``/NaN cells are left blank (transparent). Used for correlation
    matrices and confusion matrices alike.
    """

    def __init__(self, parent: QWidget | None = None, *, title: str = "", colormap: str = "viridis") -> None:
        super().__init__(parent, title=title)
        self._image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self._image)
        self.plot_item.invertY(True)
        self.plot_item.setAspectLocked(False)
        self._colormap = pg.colormap.get(colormap)
        self._colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=self._colormap, interactive=False, width=14, colorMapMenu=False
        )
        self._colorbar.setImageItem(self._image, insert_in=self.plot_item)
        for name in ("left", "right", "top", "bottom"):
            axis = self._colorbar.getAxis(name)
            axis.setPen(pg.mkPen(self._fg))
            axis.setTextPen(pg.mkPen(self._fg))
        self._cell_labels: list[pg.TextItem] = []
        self._cell_font = QFont(self.font())
        self.matrix = np.zeros((0, 0))

    def set_matrix(
        self,
        matrix: Sequence[Sequence[float | None]],
        row_labels: Sequence[str],
        col_labels: Sequence[str],
        *,
        levels: tuple[float, float] | None = None,
        colormap: str | None = None,
        cell_text: Sequence[Sequence[str]] | None = None,
        value_title: str = "",
        x_title: str = "",
        y_title: str = "",
        empty_message: str = "No data",
    ) -> None:
        """Draw ``matrix`` (rows x columns). ``levels`` fixes the colour range (default: data min..max);
        ``cell_text`` overrides the cell labels (default: the value to 2 decimals)."""
        data = np.array([[np.nan if v is None else float(v) for v in row] for row in matrix], dtype=float)
        data = data.reshape(len(row_labels), len(col_labels)) if data.size == 0 else data
        if data.shape != (len(row_labels), len(col_labels)):
            raise ValueError(
                f"matrix shape {data.shape} does not match {len(row_labels)} x {len(col_labels)} labels"
            )
        self.matrix = data
        if data.size == 0:
            self.show_message(empty_message)
            return
        if colormap is not None:
            self._colormap = pg.colormap.get(colormap)
            self._colorbar.setColorMap(self._colormap)
        low, high = levels if levels is not None else _data_levels(data)
        self._image.setImage(data, levels=(low, high))
        self._image.setRect(0, 0, data.shape[1], data.shape[0])
        self._colorbar.setLevels((low, high))
        self._colorbar.getAxis("right").setLabel(value_title, color=self._fg.name())
        # Many columns leave no room for their names under the cells: number them, and number a square
        # matrix's rows the same way so each column can be read off its row.
        numbered = len(col_labels) > MAX_NAMED_COLUMNS
        square = list(map(str, row_labels)) == list(map(str, col_labels))
        rows = (
            [f"{elide(str(r), 14)} {i + 1}" for i, r in enumerate(row_labels)]
            if numbered and square
            else row_labels
        )
        cols = [str(i + 1) for i in range(len(col_labels))] if numbered else col_labels
        self.plot_item.getAxis("left").setTicks([_centred_ticks(rows, 18)])
        self.plot_item.getAxis("bottom").setTicks([_centred_ticks(cols)])
        if numbered:
            x_title = x_title or ("Column numbers as on the rows" if square else "Column number")
            self.setToolTip("\n".join(f"{i + 1}: {label}" for i, label in enumerate(col_labels)))
        self.set_axis_titles(x=x_title, y=y_title)
        self._set_cell_labels(data, cell_text, (low, high))
        self.plot_item.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0)
        self._show_plot()

    def cell_texts(self) -> list[str]:
        """The visible cell labels, row by row (for tests and accessibility)."""
        return [label.textItem.toPlainText() for label in self._cell_labels if label.isVisible()]

    def _set_cell_labels(
        self, data: np.ndarray, cell_text: Sequence[Sequence[str]] | None, levels: tuple[float, float]
    ) -> None:
        rows, cols = data.shape
        count = rows * cols if rows * cols <= MAX_CELL_LABELS else 0
        while len(self._cell_labels) < count:
            label = pg.TextItem(anchor=(0.5, 0.5))
            option = label.textItem.document().defaultTextOption()
            option.setAlignment(Qt.AlignmentFlag.AlignHCenter)  # multi-line labels centred in the cell
            label.textItem.document().setDefaultTextOption(option)
            self.plot_item.addItem(label, ignoreBounds=True)
            self._cell_labels.append(label)
        self._cell_font.setPointSizeF(_cell_point_size(max(rows, cols), self.font().pointSizeF()))
        low, high = levels
        span = (high - low) or 1.0
        for index, label in enumerate(self._cell_labels):
            if index >= count:
                label.setVisible(False)
                continue
            row, col = divmod(index, cols)
            value = data[row, col]
            text = (
                cell_text[row][col] if cell_text is not None else ("" if np.isnan(value) else f"{value:.2f}")
            )
            if np.isnan(value):
                label.setText(text, color=self._fg)
            else:
                colour = self._colormap.map((min(max(value, low), high) - low) / span, mode="qcolor")
                label.setText(text, color=_readable_on(colour))
            label.textItem.setFont(self._cell_font)
            label.setTextWidth(-1)
            label.setTextWidth(label.textItem.document().idealWidth())  # a fixed width lets lines centre
            label.setPos(col + 0.5, row + 0.5)
            label.setVisible(True)


def _data_levels(data: np.ndarray) -> tuple[float, float]:
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _centred_ticks(labels: Sequence[str], limit: int = 14) -> list[tuple[float, str]]:
    return [(i + 0.5, elide(str(label), limit)) for i, label in enumerate(labels)]


def _cell_point_size(cells_per_side: int, base: float) -> float:
    base = base if base > 0 else 9.0
    return max(6.0, min(base, base * 8 / max(cells_per_side, 1)))
