"""A guard against a reference-count bug of PySide6 6.12 on Python 3.11.

Measured here: every call of a Qt method that returns nothing (``QLabel.setText``,
``QPainter.drawRect``, ``QWidget.update`` ...) hands Python a ``None`` it never took a
reference for, so ``None``'s count drops by one per call. Python 3.12+ makes ``None``
immortal and does not care; on 3.11 the count reaches zero after some tens of thousands
of calls -- a streaming chat and a level meter get there in minutes -- and the process
aborts with "Fatal Python error: none_dealloc". ``None`` is never freed anyway, so
giving it a count no session can use up is safe; it is only done where the bug shows.
"""

from __future__ import annotations

import ctypes
import sys

#: References added to None: more void calls than any session makes (2**48 ~ 2.8e14).
BALLAST = 1 << 48

_done = False


def leaks_none() -> bool:
    """Whether void Qt methods take a reference to None that they never gave (measured)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def keep_none_alive() -> None:
    """Give None a reference count the PySide6 bug cannot use up (once; only where it shows)."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    _done = True
    if leaks_none():
        count = ctypes.c_ssize_t.from_address(id(None))
        count.value += BALLAST
