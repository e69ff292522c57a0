"""The app's icons: line drawings in ``resources/icons/*.svg`` tinted to the current palette.

Each SVG draws with ``currentColor``; :func:`icon` substitutes the palette's text colour (or a status
colour) and renders crisp pixmaps at several sizes and the screen's device pixel ratio, so icons follow
light/dark mode and stay sharp on high-DPI screens.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICON_DIR", "STATUS_COLOURS", "clear_cache", "icon", "icon_names"]

ICON_DIR = Path(__file__).parent / "resources" / "icons"
_SIZES = (16, 20, 24, 32, 48, 64)
#: Fixed colours for status icons, readable on light and dark backgrounds.
STATUS_COLOURS = {"error": "#d9453b", "warning": "#d98e04", "success": "#2f9e57", "info": "#3b82c4"}


def icon_names() -> list[str]:
    return sorted(path.stem for path in ICON_DIR.glob("*.svg"))


def icon(name: str, colour: str | None = None) -> QIcon:
    """The icon ``name`` (a file stem in ``resources/icons``) in ``colour`` (default: status colour for
    status icons, else the palette's text colour). An unknown name gives an empty icon (and never raises),
    so a missing drawing cannot stop a panel from opening."""
    if colour is None:
        colour = STATUS_COLOURS.get(name) or _palette_text()
    ratio = QGuiApplication.primaryScreen().devicePixelRatio() if QGuiApplication.primaryScreen() else 1.0
    return _render(name, colour, ratio)


def clear_cache() -> None:
    """Forget rendered icons (call when the palette changes between light and dark)."""
    _render.cache_clear()


def _palette_text() -> str:
    palette = QGuiApplication.palette()
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText).name()


@cache
def _render(name: str, colour: str, ratio: float) -> QIcon:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    svg = path.read_text(encoding="utf-8").replace("currentColor", QColor(colour).name())
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in _SIZES:
        pixels = max(1, round(size * ratio))
        image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, pixels, pixels))
        painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(ratio)
        result.addPixmap(pixmap)
    return result
