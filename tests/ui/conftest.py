"""Qt tests run offscreen: no display needed (the end-to-end test starts its own Xvfb)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from oi_voice.ui.qtfix import keep_none_alive

# PySide6 6.12 on Python 3.11 loses a reference to None per void Qt call: long UI tests would abort.
keep_none_alive()
