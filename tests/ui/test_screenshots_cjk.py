"""The window in Chinese and Korean on a real X screen: text present, and no tofu boxes.

Each language's window is pictured twice under Xvfb, by the real app (as ``make
screenshots`` takes it): once with the installed CJK font, once with fontconfig offering
DejaVu alone, where Qt can only draw boxes for Chinese and Korean. The two must differ
substantially; were the CJK font missing (boxes in both), they would be the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from test_screenshots import ink_difference  # noqa: E402  (tests/ is not a package)

pytestmark = pytest.mark.slow


def has_cjk_font() -> bool:
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    return bool(found.stdout.strip())


def test_the_window_in_chinese_and_korean_shows_real_glyphs(tmp_path: Path) -> None:
    if missing := [t for t in ("Xvfb", "xdotool", "import", "pulseaudio", "fc-list") if shutil.which(t) is None]:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    assert has_cjk_font(), "no CJK font installed (the Makefile's APT_PACKAGES has fonts-wqy-microhei)"
    from screenshots import LANGUAGES, SCREEN, audio, environment, fonts_without_cjk, language_window
    from scripted_llm import ScriptedLLM
    from x_env import xvfb

    folder = tmp_path / "run"
    with xvfb(SCREEN) as display, audio() as pulse, ScriptedLLM() as llm:
        env = environment(folder, display, pulse)
        no_cjk = fonts_without_cjk(tmp_path / "fonts")
        english = language_window(env, folder, llm.url, "en", tmp_path / "window-en.png")
        for language in LANGUAGES:
            shown = language_window(env, folder, llm.url, language, tmp_path / f"window-{language}.png")
            boxes = language_window(env, folder, llm.url, language, tmp_path / f"tofu-{language}.png", no_cjk)
            image, tofu = QImage(str(shown)), QImage(str(boxes))
            assert not image.isNull() and image.width() >= 600, language
            colours = {image.pixel(x, y) for x in range(0, image.width(), 5) for y in range(0, image.height(), 5)}
            assert len(colours) > 20, f"{language}: the window is nearly blank"
            # Text in the language is drawn: the window differs from the English one ...
            assert ink_difference(image, QImage(str(english))) > 0.12, f"{language} looks like English"
            # ... and from the same window where the font is missing and every glyph is a box.
            assert ink_difference(image, tofu) > 0.12, f"{language}: the text renders as boxes"
