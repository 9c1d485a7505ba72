"""``make screenshots`` end to end: the real app on Xvfb takes the README's pictures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def differing_pixels(a: QImage, b: QImage) -> float:
    """The share of sampled pixels that differ (images of other sizes differ entirely)."""
    if a.size() != b.size():
        return 1.0
    step = 7
    points = [(x, y) for x in range(0, a.width(), step) for y in range(0, a.height(), step)]
    return sum(a.pixel(x, y) != b.pixel(x, y) for x, y in points) / len(points)


def ink_difference(a: QImage, b: QImage) -> float:
    """Of the pixels drawn on (not the background) in either picture, the share that differ
    (measured here: 0.25 between a window and its tofu rendering, 0 between identical ones).

    The window is mostly empty background: counting only its text, icons and edges makes
    "substantially different" mean something.
    """
    assert a.size() == b.size()
    points = [(x, y) for x in range(0, a.width(), 2) for y in range(0, a.height(), 2)]
    counts: dict[int, int] = {}
    for x, y in points:
        counts[a.pixel(x, y)] = counts.get(a.pixel(x, y), 0) + 1
    background = max(counts, key=lambda colour: counts[colour])
    ink = [(x, y) for x, y in points if a.pixel(x, y) != background or b.pixel(x, y) != background]
    return sum(a.pixel(x, y) != b.pixel(x, y) for x, y in ink) / max(1, len(ink))


def test_make_screenshots_writes_distinct_pictures(tmp_path: Path) -> None:
    if missing := [t for t in ("Xvfb", "xdotool", "import", "pulseaudio", "espeak-ng") if shutil.which(t) is None]:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    sys.path.insert(0, str(ROOT / "tests"))
    from screenshots import NAMES

    done = subprocess.run([sys.executable, str(ROOT / "tests" / "screenshots.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    images = {}
    for name in NAMES:
        path = tmp_path / f"{name}.png"
        assert path.exists() and 10_000 < path.stat().st_size < 300_000, (name, path.stat().st_size)
        image = QImage(str(path))
        assert not image.isNull() and image.width() >= 600 and image.height() >= 500, name
        colours = {image.pixel(x, y) for x in range(0, image.width(), 11) for y in range(0, image.height(), 11)}
        assert len(colours) > 40, f"{name} is nearly blank"
        images[name] = image
    for (one, a), (two, b) in combinations(images.items(), 2):
        if one.startswith("window-") and two.startswith("window-"):
            # The same mostly empty window in two languages: only their text may differ.
            assert ink_difference(a, b) > 0.12, f"{one} and {two} look the same"
        else:
            assert differing_pixels(a, b) > 0.05, f"{one} and {two} look the same"
    # Dark is dark and light is light: the window's own background, sampled at its middle left.
    light, dark = images["conversation-light"], images["conversation-dark"]
    assert lightness(light) > 180 and lightness(dark) < 80


def lightness(image: QImage) -> int:
    """The lightness (0-255) of the chat's background, left of the middle."""
    return image.pixelColor(12, image.height() // 2).lightness()
