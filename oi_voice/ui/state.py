"""What the app is doing, derived from the voice session's events.

The tray icon, the window's status line and the mic button all show one
:class:`AppState`. :class:`StateTracker` folds the event stream into it; it holds no
Qt, so the rules can be read (and tested) on their own.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from oi_voice.core.events import ConfirmationRequest, ConsoleEnd, ConsoleStart, EngineEvent
from oi_voice.settings import QT_TRANSLATE_NOOP
from oi_voice.voice import events as ev


class AppState(enum.Enum):
    """One of the states the tray icon shows; the value names its icon in ``assets/states/``."""

    IDLE = "idle"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"
    RUNNING = "running"
    SPEAKING = "speaking"
    APPROVAL = "approval"
    ERROR = "error"

    @property
    def label(self) -> str:
        """Words for the status line and the tray tooltip, in English (:func:`oi_voice.ui.i18n.state_label`
        gives them in the app's language)."""
        return _LABELS[self]


_LABELS = {
    AppState.IDLE: QT_TRANSLATE_NOOP("AppState", "Ready"),
    AppState.LISTENING: QT_TRANSLATE_NOOP("AppState", "Listening…"),
    AppState.TRANSCRIBING: QT_TRANSLATE_NOOP("AppState", "Transcribing…"),
    AppState.THINKING: QT_TRANSLATE_NOOP("AppState", "Thinking…"),
    AppState.RUNNING: QT_TRANSLATE_NOOP("AppState", "Running code…"),
    AppState.SPEAKING: QT_TRANSLATE_NOOP("AppState", "Speaking…"),
    AppState.APPROVAL: QT_TRANSLATE_NOOP("AppState", "Waiting for your approval"),
    AppState.ERROR: QT_TRANSLATE_NOOP("AppState", "Error"),
}


@dataclass
class StateTracker:
    """Folds voice events into the current :class:`AppState`."""

    state: AppState = AppState.IDLE
    #: The last error's message while the state is ERROR.
    error: str = ""
    #: The devices that went away ("input", "output") and are not back yet.
    away: set[str] = field(default_factory=set)
    #: The words for a lost device (the app passes its language's).
    device_words: Callable[[ev.DeviceLost], str] = lambda event: event.message
    _in_turn: bool = False

    def feed(self, event: ev.VoiceEvent) -> AppState | None:
        """Take one event; returns the new state when it changed, else None."""
        new = self._next(event)
        if new is None or new == self.state:
            return None
        self.state = new
        return new

    def _next(self, event: ev.VoiceEvent) -> AppState | None:
        if self.away and isinstance(event, ev.ListeningStarted | ev.SpeechEnded | ev.NothingHeard | ev.Interrupted):
            return None  # a device is away: that stays shown until it is back
        if isinstance(event, ev.ListeningStarted):
            return AppState.LISTENING
        if isinstance(event, ev.SpeechEnded):
            return AppState.TRANSCRIBING
        if isinstance(event, ev.TranscriptReady):
            return AppState.THINKING if event.text else None
        if isinstance(event, ev.TurnStarted):
            self._in_turn, self.error = True, ""
            return AppState.THINKING
        if isinstance(event, ev.ConfirmationAsked):
            return AppState.APPROVAL
        if isinstance(event, ev.ConfirmationAnswered):
            return AppState.THINKING if event.action == "decline" else AppState.RUNNING
        if isinstance(event, ev.TurnEvent):
            return self._engine(event.event)
        if isinstance(event, ev.SpeakingStarted):
            # Speech plays while the model still writes; running code and a pending
            # approval matter more to the user than the fact that it talks.
            return None if self.state in (AppState.RUNNING, AppState.APPROVAL) else AppState.SPEAKING
        if isinstance(event, ev.DeviceLost):
            self.away.add(event.kind)
            self.error = self.device_words(event)
            return AppState.ERROR
        if isinstance(event, ev.DeviceBack):
            self.away.discard(event.kind)
            if self.away or self.state is not AppState.ERROR:
                return None
            self.error = ""
            return AppState.IDLE if not self._in_turn else AppState.THINKING
        if isinstance(event, (ev.TurnError, ev.VoiceError)):
            self.error = event.message
            return AppState.ERROR
        if isinstance(event, ev.TurnFinished):
            self._in_turn = False
            if self.away:
                return AppState.ERROR
            if event.error:
                self.error = event.error
                return AppState.ERROR
            return AppState.IDLE
        if isinstance(event, (ev.Interrupted, ev.NothingHeard)):
            return AppState.IDLE if not self._in_turn else None
        return None

    def _engine(self, event: EngineEvent) -> AppState | None:
        if isinstance(event, ConfirmationRequest):
            return AppState.APPROVAL
        if isinstance(event, ConsoleStart):
            return AppState.RUNNING
        if isinstance(event, ConsoleEnd):
            return AppState.THINKING
        return None
