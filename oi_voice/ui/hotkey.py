"""Push-to-talk keys: in the window (Qt key events) and system-wide (pynput).

The in-window key is an application event filter, so it works whatever widget has
focus; auto-repeat is ignored, so holding the key is one press and one release. The
global hotkey uses pynput's listener thread where the platform allows it (an X display,
Windows, macOS with the accessibility permission); where it cannot, :meth:`start`
says why in words and the in-window key still works. Both report through Qt signals,
so the receiver always runs on the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication

log = logging.getLogger("oi_voice.ui")


def qt_key(name: str) -> int | None:
    """The Qt key code of a key name such as "F9", "Pause" or "Ctrl+Space" (its last key)."""
    sequence = QKeySequence(name)
    if sequence.isEmpty():
        return None
    combined = sequence[0]  # type: ignore[index]  # the stubs miss QKeySequence.__getitem__
    return int(combined.key())


#: X servers repeat a held key as release+press pairs that Qt does not always mark as
#: auto-repeat; a release followed by a press within this many ms is such a repeat.
REPEAT_GAP_MS = 30


class HeldKey(QObject):
    """One held key from raw down/up reports: ``pressed`` once, ``released`` once.

    Auto-repeat shows up as up+down pairs a few milliseconds apart; an up is only
    believed when no down follows within :data:`REPEAT_GAP_MS`.
    """

    pressed = Signal()
    released = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.is_down = False
        self._release = QTimer(self)
        self._release.setSingleShot(True)
        self._release.setInterval(REPEAT_GAP_MS)
        self._release.timeout.connect(self._released)

    def down(self) -> None:
        """The key went down (or repeated)."""
        if self._release.isActive():
            self._release.stop()  # an auto-repeat pair: still held
            return
        if not self.is_down:
            self.is_down = True
            self.pressed.emit()

    def up(self) -> None:
        """The key went up (perhaps only for an auto-repeat)."""
        if self.is_down:
            self._release.start()

    def _released(self) -> None:
        self.is_down = False
        self.released.emit()


class PushToTalkKeys(QObject):
    """Turns presses and releases of one key into ``pressed``/``released`` signals."""

    def __init__(self, key_name: str = "F9", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key_name = key_name
        self.key = qt_key(key_name)
        self.held = HeldKey(self)
        self.pressed = self.held.pressed
        self.released = self.held.released

    def set_key(self, key_name: str) -> bool:
        """Use another key; False (and no change) when the name is not a key."""
        key = qt_key(key_name)
        if key is None:
            return False
        self.key_name, self.key = key_name, key
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Catch the push-to-talk key before any widget does."""
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(event, QKeyEvent) \
                and event.key() == self.key and not self._modal_open():
            if event.isAutoRepeat():
                return True
            if kind == QEvent.Type.KeyPress:
                self.held.down()
            else:
                self.held.up()
            return True
        return False


    def _modal_open(self) -> bool:
        # A modal dialog (settings: its key field must be able to take this very key) owns the keyboard.
        return QApplication.activeModalWidget() is not None and not self.held.is_down


class GlobalHotkey(QObject):
    """A system-wide push-to-talk key through pynput, where the platform allows one."""

    #: Raw reports from pynput's thread; queued to the GUI thread, then debounced.
    _raw_down = Signal()
    _raw_up = Signal()
    #: Esc went down anywhere on the desktop (the voice HUD stops on it; it never has the keyboard).
    escape = Signal()

    def __init__(self, key_name: str = "F9", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key_name = key_name
        self._listener: Any = None
        self._target: Any = None
        self._escape: Any = None
        self.held = HeldKey(self)
        self.pressed = self.held.pressed
        self.released = self.held.released
        self._raw_down.connect(self.held.down)
        self._raw_up.connect(self.held.up)

    def start(self) -> str | None:
        """Start listening; returns None on success, else why it cannot work here."""
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            return self.tr("no X display (Wayland or none): the global hotkey is unavailable; hold %1 in the "
                           "window or the mic button instead").replace("%1", self.key_name)
        try:
            from pynput import keyboard
        except Exception as exc:  # pynput raises what its backend raises when it cannot load
            return self.tr("the global hotkey is unavailable (%1); use %2 in the window").replace(
                "%2", self.key_name).replace("%1", str(exc))
        name = self.key_name.split("+")[-1].strip().lower()
        target = getattr(keyboard.Key, name, None)
        if target is None and len(name) == 1:
            target = keyboard.KeyCode.from_char(name)
        if target is None:
            return self.tr("%1 cannot be a global hotkey; it still works in the window").replace("%1", self.key_name)
        self._target = target
        self._escape = keyboard.Key.esc
        try:
            listener = keyboard.Listener(on_press=self._on_press, on_release=self._on_release)
            listener.start()
            listener.wait()
        except Exception as exc:  # e.g. Xlib cannot open the display, or macOS refuses access
            return self.tr("the global hotkey could not start (%1); use %2 in the window").replace(
                "%2", self.key_name).replace("%1", str(exc))
        self._listener = listener
        return None

    def _on_press(self, key: Any) -> None:
        if key == self._target:
            self._raw_down.emit()  # from pynput's thread: queued to the GUI thread
        elif key == self._escape:
            self.escape.emit()

    def _on_release(self, key: Any) -> None:
        if key == self._target:
            self._raw_up.emit()

    def stop(self) -> None:
        """Stop listening."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        listener.stop()
        listener.join(0.5)
        if listener.is_alive():
            # pynput 1.8 on X queues its stop request, unflushed, on the connection its own
            # thread is blocked reading: once a key was seen, that thread may never wake.
            # The same request on its second, idle connection ends it.
            display, context = getattr(listener, "_display_stop", None), getattr(listener, "_context", None)
            if display is not None and context is not None:
                with contextlib.suppress(Exception):  # whatever Xlib raises, stopping must go on
                    display.record_disable_context(context)
                    display.flush()
            listener.join(2.0)
        if listener.is_alive():
            log.warning("the global hotkey's listener did not stop")

