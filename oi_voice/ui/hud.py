"""The voice HUD: a small pill near the bottom of the screen while the app listens or talks.

As the dictation overlays of desktop systems do, it shows what the voice is doing (the
state, the microphone's level, the words once they are recognised, the sentence being
said) without raising or activating the main window: it is a frameless tool window that
never takes focus, so whatever the user was typing into keeps the keyboard. It is
driven by the bridge's signals only (``voice_event``, ``state_changed``): nothing polls.

It appears when listening starts (push-to-talk in the window, the global hotkey,
hands-free) and stays for that turn; it also appears while a reply is spoken and the
main window is not the active one. It hides a moment after the app is idle again.
Its Stop button (and Esc, see :meth:`VoiceHud.stop`) stop listening and the turn.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import (
    QColor,
    QCursor,
    QGuiApplication,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QRegion,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from oi_voice.ui.i18n import state_label, translate
from oi_voice.ui.state import AppState
from oi_voice.voice import events as ev

#: Window title (what window managers and xdotool see).
TITLE = "oi-voice voice"
#: Milliseconds the HUD stays after the app is idle again, so the last words can be read.
LINGER_MS = 1600
#: Pixels between the pill and the bottom of the screen's available area.
MARGIN = 48
#: Widest the recognised words may make the pill.
WORDS_WIDTH = 440

#: The dot's colour per state: red while the microphone is open, as recording lights are.
_STATE_COLOURS = {
    AppState.LISTENING: "#ff453a",
    AppState.TRANSCRIBING: "#ffb340",
    AppState.THINKING: "#64d2ff",
    AppState.RUNNING: "#bf5af2",
    AppState.SPEAKING: "#30d158",
    AppState.APPROVAL: "#ffd60a",
    AppState.ERROR: "#ff453a",
    AppState.IDLE: "#8e8e93",
}


class LevelMeter(QWidget):
    """The microphone's level as a few rounded bars, newest on the right (a tiny waveform).

    ``set_level`` takes the 0..1 level of :class:`~oi_voice.voice.events.LevelChanged`;
    the widget repaints only when a level arrives.
    """

    def __init__(self, bars: int = 7, parent: QWidget | None = None, *, colour: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("level")
        self.setAccessibleName(self.tr("Microphone level"))
        self._levels: deque[float] = deque([0.0] * bars, maxlen=bars)
        self._colour = colour
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def level(self) -> float:
        """The newest level (0..1)."""
        return self._levels[-1]

    def sizeHint(self) -> QSize:
        """Room for the bars."""
        return QSize(len(self._levels) * 6 + 2, 18)

    def set_level(self, level: float) -> None:
        """Show a new level (0..1)."""
        self._levels.append(max(0.0, min(1.0, float(level))))
        self.setAccessibleDescription(self.tr("%1 percent").replace("%1", str(round(self.level * 100))))
        self.update()

    def clear(self) -> None:
        """Back to silence."""
        for _ in range(len(self._levels)):
            self._levels.append(0.0)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """Draw the bars, each as tall as its level (square-rooted: quiet speech still shows)."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor(self._colour) if self._colour else self.palette().highlight().color()
        track = QColor(colour)
        track.setAlphaF(0.25)
        count = len(self._levels)
        gap = 2.0
        width = max(2.0, (self.width() - gap * (count - 1)) / count)
        height = float(self.height())
        # A QPen object: PySide6 6.12 miscounts references when setPen(Qt.PenStyle.NoPen) repeats.
        painter.setPen(QPen(Qt.PenStyle.NoPen))
        for n, level in enumerate(self._levels):
            bar = max(3.0, height * (level ** 0.5))
            rect = QRectF(n * (width + gap), (height - bar) / 2, width, bar)
            painter.setBrush(colour if level > 0.02 else track)
            painter.drawRoundedRect(rect, width / 2, width / 2)


class _Dot(QWidget):
    """The state's coloured dot."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = QColor(_STATE_COLOURS[AppState.IDLE])
        self.setFixedSize(12, 12)

    def paintEvent(self, _event: QPaintEvent) -> None:
        """A filled circle."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.PenStyle.NoPen))
        painter.setBrush(self.colour)
        painter.drawEllipse(QRectF(1, 1, 10, 10))


class VoiceHud(QWidget):
    """The always-on-top pill. Connect it with :meth:`attach`; it shows and hides itself."""

    #: The user asked to stop (the pill's Stop button, or Esc).
    stop_requested = Signal()

    def __init__(self, push_to_talk: str = "F9", parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint
                         | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.WindowDoesNotAcceptFocus)
        self.setObjectName("hud")
        self.setWindowTitle(TITLE)
        # Showing it must not take the keyboard from the window the user is typing into.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.push_to_talk = push_to_talk
        #: The window whose being active makes a spoken reply need no HUD (set by the app).
        self.main_window: QWidget | None = None
        self.state = AppState.IDLE
        #: Whether the current turn began with listening (the HUD then stays for all of it).
        self.voice_turn = False
        self.mode = ""

        row = QHBoxLayout(self)
        row.setContentsMargins(16, 9, 10, 9)
        row.setSpacing(10)
        self.dot = _Dot(self)
        self.state_label = QLabel(AppState.IDLE.label, self)
        self.state_label.setObjectName("hud-state")
        self.meter = LevelMeter(9, self, colour="#ffffff")
        self.meter.setFixedSize(9 * 5 + 8 * 2, 20)
        self.words = QLabel("", self)
        self.words.setObjectName("hud-words")
        self.words.setMaximumWidth(WORDS_WIDTH)
        self.stop_button = QToolButton(self)
        self.stop_button.setObjectName("hud-stop")
        self.stop_button.setText("✕")
        self.stop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stop_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.clicked.connect(self.stop)
        for widget in (self.dot, self.state_label, self.meter, self.words, self.stop_button):
            row.addWidget(widget)
        self.setStyleSheet(
            "QLabel#hud-state { color: white; font-weight: 600; }"
            "QLabel#hud-words { color: rgba(255, 255, 255, 0.86); }"
            "QToolButton#hud-stop { color: rgba(255, 255, 255, 0.8); background: rgba(255, 255, 255, 0.12);"
            " border: none; border-radius: 11px; min-width: 22px; min-height: 22px; }"
            "QToolButton#hud-stop:hover { background: rgba(255, 255, 255, 0.28); }")
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(LINGER_MS)
        self._hide_timer.timeout.connect(self._linger_over)
        self._show_state(AppState.IDLE)
        self.retranslate()

    def retranslate(self) -> None:
        """Set the texts in the app's language (the words shown change with the next event)."""
        self.setAccessibleName(self.tr("Voice status"))
        self.words.setAccessibleName(self.tr("Recognised words"))
        self.stop_button.setToolTip(self.tr("Stop (Esc)"))
        self.stop_button.setAccessibleName(self.tr("Stop listening and speaking"))
        self.meter.setAccessibleName(translate("LevelMeter", "Microphone level"))
        self.state_label.setText(state_label(self.state))

    def changeEvent(self, event: QEvent) -> None:
        """Follow a language switch."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # -- wiring ---------------------------------------------------------------------------

    def attach(self, voice_event: SignalInstance, state_changed: SignalInstance) -> None:
        """Follow a bridge: its ``voice_event`` and ``state_changed`` signals."""
        voice_event.connect(self.on_event)
        state_changed.connect(self.on_state)

    def stop(self) -> None:
        """Stop (button or Esc): the app stops listening, the reply and the run; the pill goes."""
        self.stop_requested.emit()
        self.voice_turn = False
        self.hide()

    # -- what happens ---------------------------------------------------------------------

    def on_event(self, event: ev.VoiceEvent) -> None:
        """Follow one voice event."""
        if isinstance(event, ev.ListeningStarted):
            self.voice_turn, self.mode = True, event.mode
            self.meter.clear()
            self.meter.show()
            self._set_words(self._listening_hint(event.mode), hint=True)
            self._show_state(AppState.LISTENING)
            self.appear()
        elif isinstance(event, ev.LevelChanged):
            if self.isVisible():
                self.meter.set_level(event.level)
        elif isinstance(event, ev.SpeechEnded):
            self.meter.clear()
        elif isinstance(event, ev.TranscriptReady):
            if event.text.strip():
                self._set_words(f"“{event.text.strip()}”")
        elif isinstance(event, ev.TranscriptHeld):
            self._set_words(self.tr("“%1” — edit it in the window").replace("%1", event.text.strip()))
        elif isinstance(event, ev.NothingHeard):
            if event.reason != "recording discarded":
                self._set_words(self.tr("Nothing heard"), hint=True)
            self._turn_over()
        elif isinstance(event, ev.SpeakingStarted):
            self._set_words(event.text.strip())
            if not self.isVisible() and not self._window_active():
                self.appear()
        elif isinstance(event, (ev.TurnFinished, ev.Interrupted)):
            self._turn_over()

    def on_state(self, state: AppState) -> None:
        """Follow the app's state."""
        self._show_state(state)
        if state is AppState.IDLE:
            self._turn_over()
        elif state is AppState.ERROR:
            self._set_words(self._error_text(), hint=True)
            self._turn_over()
        elif self.isVisible():
            self._hide_timer.stop()

    def _error_text(self) -> str:
        return self.tr("Something went wrong: see the window")

    def _turn_over(self) -> None:
        self.voice_turn = False
        if self.isVisible():
            self._hide_timer.start()

    def _linger_over(self) -> None:
        if self.state not in (AppState.LISTENING, AppState.TRANSCRIBING, AppState.SPEAKING):
            self.hide()

    def _listening_hint(self, mode: str) -> str:
        if mode == "push-to-talk":
            return self.tr("Release %1 to send · Esc to stop").replace("%1", self.push_to_talk)
        if mode == "answer":
            return self.tr("Say yes or no")
        return self.tr("Speak now · Esc to stop")

    def _window_active(self) -> bool:
        window = self.main_window
        return window is not None and window.isVisible() and window.isActiveWindow()

    # -- looks ----------------------------------------------------------------------------

    def _show_state(self, state: AppState) -> None:
        self.state = state
        self.state_label.setText(state_label(state))
        self.dot.colour = QColor(_STATE_COLOURS.get(state, "#8e8e93"))
        self.dot.update()
        self.meter.setVisible(state is AppState.LISTENING)
        self._refit()

    def _set_words(self, text: str, *, hint: bool = False) -> None:
        metrics = self.words.fontMetrics()
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideLeft if not hint else Qt.TextElideMode.ElideRight,
                                   WORDS_WIDTH)
        self.words.setText(shown)
        self.words.setToolTip(text)
        self.words.setProperty("hint", hint)
        self._refit()

    def _refit(self) -> None:
        self.adjustSize()
        if self.isVisible():
            self._place()

    def appear(self) -> None:
        """Show the pill (without activating it) at the bottom centre of the screen in use."""
        self._hide_timer.stop()
        self.adjustSize()
        self._place()
        if not self.isVisible():
            self.show()
        self.raise_()

    def _place(self) -> None:
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area: QRect = screen.availableGeometry()
        self.move(QPoint(area.center().x() - self.width() // 2, area.bottom() - self.height() - MARGIN))
        self._shape()

    def _shape(self) -> None:
        # The mask keeps the corners see-through where the desktop has no compositor.
        path = QPainterPath()
        path.addRoundedRect(QRectF(self.rect()), self.height() / 2, self.height() / 2)
        self.setMask(QRegion(path.toFillPolygon().toPolygon()))

    def resizeEvent(self, event: object) -> None:
        """Keep the rounded shape."""
        self._shape()

    def paintEvent(self, _event: QPaintEvent) -> None:
        """A dark, slightly translucent pill with a hairline border (readable on any desktop)."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(QColor(255, 255, 255, 40))
        painter.setBrush(QColor(28, 28, 30, 236))
        painter.drawRoundedRect(rect, radius, radius)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc stops (if the pill ever has the keyboard)."""
        if event.key() == Qt.Key.Key_Escape:
            self.stop()
            return
        super().keyPressEvent(event)
