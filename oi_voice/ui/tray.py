"""The tray icon: the app's state at a glance, and its menu.

The icon changes with :class:`~oi_voice.ui.state.AppState` (one SVG per state in
``assets/states``). The menu holds the window's actions (the same QAction
objects), so where the platform has no tray the window's menu bar carries everything.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from oi_voice._data import data_dir
from oi_voice.ui.i18n import state_label, translate
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
        self.state: AppState | None = None
        self.detail = ""
        self.retranslate()
        # The icon is no widget: the application's language events reach it through a filter.
        app = QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def retranslate(self) -> None:
        """The tooltip in the app's language (the menu's actions are the window's)."""
        words = translate("Tray", "starting…") if self.state is None else state_label(self.state)
        self.setToolTip("oi-voice: " + words + (f"\n{self.detail}" if self.detail else ""))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow a language switch (sent to the application)."""
        if watched is QCoreApplication.instance() and event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        return False

    def show_state(self, state: AppState, detail: str = "") -> None:
        """Show ``state`` (``detail``: the error message, the latency line)."""
        self.setIcon(state_icon(state))
        self.state, self.detail = state, detail
        self.retranslate()

    @staticmethod
    def available() -> bool:
        """Whether the desktop has a tray to show the icon in."""
        return QSystemTrayIcon.isSystemTrayAvailable()
