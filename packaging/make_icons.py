"""Render the app icon (one SVG source) into the files each installer wants: PNGs, .ico, and an .iconset for macOS.

Usage: python packaging/make_icons.py OUT_DIR. Uses Qt's own SVG renderer and image writers, so it needs nothing
beyond the app's dependencies; macOS turns the .iconset into .icns with `iconutil` (build-macos.sh).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SOURCE = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "snowml_desktop"
    / "ui"
    / "resources"
    / "snowml-desktop.svg"
)
SIZES = (16, 32, 48, 64, 128, 256, 512, 1024)
#: The point sizes of a macOS .iconset; iconutil rejects any other file in it.
ICONSET_POINTS = (16, 32, 128, 256, 512)


def render(out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - Qt needs an application for fonts
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"cannot read the icon {SOURCE}")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, out / "snowml-desktop.svg")
    iconset = out / "snowml-desktop.iconset"
    iconset.mkdir(exist_ok=True)
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        png = out / f"snowml-desktop-{size}.png"
        image.save(str(png))
        written.append(png)
        if size in ICONSET_POINTS:
            image.save(str(iconset / f"icon_{size}x{size}.png"))
        if size // 2 in ICONSET_POINTS:
            image.save(str(iconset / f"icon_{size // 2}x{size // 2}@2x.png"))
        if size == 256:
            image.save(str(out / "snowml-desktop.ico"), "ICO")
    return written


if __name__ == "__main__":
    for path in render(Path(sys.argv[1] if len(sys.argv) > 1 else "packaging/out/icons")):
        print(path)
