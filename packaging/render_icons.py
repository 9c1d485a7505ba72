"""Render assets/app/oi-voice.svg to the PNG sizes the .deb installs (hicolor) and the Windows/macOS
builds use (and oi-voice.ico for Windows). Run after changing the SVG: .venv/bin/python packaging/render_icons.py"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    here = Path(__file__).resolve().parent.parent / "assets" / "app"
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(here / "oi-voice.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(here / f"oi-voice-{size}.png"))
    del app
    # Windows: one .ico with the usual sizes (Inno Setup's SetupIconFile, the .exe's icon)
    from PIL import Image

    Image.open(here / "oi-voice-256.png").save(here / "oi-voice.ico",
                                               sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
