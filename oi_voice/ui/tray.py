"""The tray icon: the app's state at a glance, and its menu.

The icon changes with :class:`~oi_voice.ui.state.AppState` (one SVG per state in
``assets/states``). The menu holds the window's actions (the same QAction
objects), so where the platform has no tray the window's menu bar carries everything.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from oi_voice._data import data_dir
from oi_voice.ui.state import AppState

ASSETS = data_dir("assets") / "states"


@cache
def state_icon(state: AppState) -> QIcon:
    """The icon of ``state`` (cached: the tray swaps icons often)."""
    return QIcon(str(ASSETS / f"{state.value}.svg"))


class Tray(QSystemTrayIcon):
    """The tray icon with a state icon, a tooltip and the app's menu."""

    def __init__(self, actions: list[QAction | None], parent: QWidget | None = None) -> None:
        super().__init__(state_icon(AppState.IDLE), parent)
        self.menu = QMenu(parent)
        for action in actions:
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)
        self.setContextMenu(self.menu)
        self.setToolTip("oi-voice: starting…")

    def show_state(self, state: AppState, detail: str = "") -> None:
        """Show ``state`` (``detail``: the error message, the latency line)."""
        self.setIcon(state_icon(state))
        self.setToolTip(f"oi-voice: {state.label}" + (f"\n{detail}" if detail else ""))

    @staticmethod
    def available() -> bool:
        """Whether the desktop has a tray to show the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()
