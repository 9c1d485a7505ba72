"""Qt tests run offscreen: no display needed (the end-to-end test starts its own Xvfb)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
