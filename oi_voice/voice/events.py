"""What happens in a voice session, as typed events.

One event type per thing that happens: a front end (the Qt bridge, the headless
runner, a test) subscribes to a :class:`~oi_voice.voice.pipeline.VoiceSession` and
gets these, in order, from the session's worker threads. They are plain frozen
dataclasses: cheap to make, safe to hand to another thread, easy to match on.

Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from oi_voice.core.events import EngineEvent

log = logging.getLogger("oi_voice.voice")


@dataclass(frozen=True, slots=True)
class VoiceEvent:
    """Base of every voice event."""


# --- capture -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListeningStarted(VoiceEvent):
    """The microphone is being recorded for an utterance (push-to-talk or hands-free)."""

    mode: str  # "push-to-talk" | "hands-free" | "answer"


@dataclass(frozen=True, slots=True)
class LevelChanged(VoiceEvent):
    """The microphone's loudness for a level meter: 0.0 (silence) .. 1.0 (full scale)."""

    level: float


@dataclass(frozen=True, slots=True)
class SpeechStarted(VoiceEvent):
    """The voice activity detector heard speech begin."""

    at: float


@dataclass(frozen=True, slots=True)
class SpeechEnded(VoiceEvent):
    """The utterance is over (push-to-talk released, or the VAD heard enough silence)."""

    at: float
    seconds: float  # length of the recorded audio, pre-roll included
    reason: str  # "release" | "vad" | "max-length" | "file"


# --- transcription -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TranscriptReady(VoiceEvent):
    """What the user said (may be empty: nothing but silence or noise was heard)."""

    text: str
    audio_seconds: float
    elapsed: float  # seconds the transcription took


@dataclass(frozen=True, slots=True)
class TranscriptHeld(VoiceEvent):
    """A transcript kept for the user to review and edit; no turn was started for it."""

    text: str


@dataclass(frozen=True, slots=True)
class NothingHeard(VoiceEvent):
    """An utterance held no words; no turn was started."""

    reason: str


# --- the turn ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnStarted(VoiceEvent):
    """A message was sent to the model."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEvent(VoiceEvent):
    """An event of the engine's turn, for front ends that render the whole stream."""

    event: EngineEvent


@dataclass(frozen=True, slots=True)
class ReplyDelta(VoiceEvent):
    """A piece of the assistant's message text as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class CodeReady(VoiceEvent):
    """The model finished writing a code block."""

    language: str
    code: str


@dataclass(frozen=True, slots=True)
class OutputDelta(VoiceEvent):
    """Output of running code."""

    text: str


@dataclass(frozen=True, slots=True)
class ConfirmationAsked(VoiceEvent):
    """A run waits for approval; ``spoken`` when the question is said aloud."""

    id: str
    summary: str
    risk: str  # "low" | "medium" | "high"
    spoken: bool


@dataclass(frozen=True, slots=True)
class ConfirmationHeard(VoiceEvent):
    """A spoken answer to a confirmation, and what it was taken to mean."""

    id: str
    text: str
    meaning: str | None  # "run" | "decline" | None (not understood)


@dataclass(frozen=True, slots=True)
class ConfirmationAnswered(VoiceEvent):
    """A confirmation was decided by voice (``action``), or left to the dialog or keyboard (None)."""

    id: str
    action: str | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TurnError(VoiceEvent):
    """The engine reported an error chunk, or the turn could not start."""

    kind: str
    message: str


# --- speech out --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentenceQueued(VoiceEvent):
    """A sentence will be spoken (after the ones before it)."""

    text: str


@dataclass(frozen=True, slots=True)
class SpeakingStarted(VoiceEvent):
    """Audio of a sentence started playing."""

    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Interrupted(VoiceEvent):
    """Barge-in: speech was cut and the running turn cancelled."""

    at: float
    reason: str


# --- the end of a turn -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Latency:
    """Where one spoken turn spent its time (monotonic seconds; None: did not happen)."""

    speech_end: float | None = None
    transcript: float | None = None
    first_token: float | None = None
    first_audio: float | None = None

    def since_speech_end(self, moment: float | None) -> float | None:
        """Seconds from the end of speech to ``moment``."""
        if moment is None or self.speech_end is None:
            return None
        return moment - self.speech_end

    def as_dict(self) -> dict[str, float | None]:
        """Seconds after the end of speech, by stage."""
        return {
            "transcript": self.since_speech_end(self.transcript),
            "first_token": self.since_speech_end(self.first_token),
            "first_audio": self.since_speech_end(self.first_audio),
        }

    def line(self) -> str:
        """One line for logs and the headless runner."""
        parts = []
        for name, value in (("transcript", self.transcript), ("first token", self.first_token),
                            ("first audio", self.first_audio)):
            since = self.since_speech_end(value)
            parts.append(f"{name} {since:.2f} s" if since is not None else f"{name} -")
        return "latency after speech end: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class TurnFinished(VoiceEvent):
    """A spoken (or typed-through-voice) turn is over."""

    transcript: str
    reply: str
    latency: Latency
    cancelled: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class VoiceError(VoiceEvent):
    """Something in the voice layer failed (a missing microphone ...); typed chat still works."""

    message: str


@dataclass(frozen=True, slots=True)
class DeviceLost(VoiceEvent):
    """The microphone ("input") or the speaker ("output") went away; it is reopened on its own."""

    kind: str  # "input" | "output"
    reason: str  # "stopped" | "stalled" | "error"
    detail: str
    message: str  # the English line ("the microphone went away: ...")


@dataclass(frozen=True, slots=True)
class DeviceBack(VoiceEvent):
    """A lost microphone or speaker was reopened (the system's default, or the one chosen by name)."""

    kind: str  # "input" | "output"


@dataclass(frozen=True, slots=True)
class VoiceNotice(VoiceEvent):
    """Something the user should know about the voice, said once (no good voice for a language)."""

    message: str


Listener = Callable[[VoiceEvent], None]


@dataclass
class EventHub:
    """Fans events out to subscribers; a failing subscriber is logged, never fatal."""

    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; returns a function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: VoiceEvent) -> None:
        """Call every listener with ``event`` on the calling thread."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # one broken front end must not stop the voice pipeline
                log.exception("voice event listener failed on %s", type(event).__name__)
