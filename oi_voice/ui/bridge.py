"""The bridge between the Qt thread and the engine's and voice session's threads.

Everything the session does arrives as a typed :mod:`oi_voice.voice.events` event on
one of its worker threads; :class:`Bridge` re-emits it as the Qt signal ``voice_event``,
which Qt queues onto the GUI thread because the bridge lives there. Clicks and keys
go the other way through the bridge's methods, each of which returns at once: the
work they start runs on the session's threads or the engine loop, never on the Qt
thread. The engine's turn reaches the window as ``TurnEvent`` voice events carrying its
typed events; the session takes them from the engine loop through the one bridge
(``EngineThread.pump``), so the Qt side never touches the engine loop itself.

Start-up is the one slow thing: :meth:`Bridge.start` builds the Interpreter, opens the
devices and loads the speech model on a background thread, reporting its progress
through ``progress`` and finishing with ``ready`` (or ``failed``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from oi_voice.core.approval import Decision
from oi_voice.errors import AudioDeviceError, AudioDeviceLost, OIVoiceError
from oi_voice.ui.state import AppState, StateTracker
from oi_voice.voice import events as ev

if TYPE_CHECKING:
    from oi_voice.core.interpreter import Interpreter
    from oi_voice.voice.pipeline import VoiceSession

log = logging.getLogger("oi_voice.ui")

#: Builds the Interpreter and the voice session (on the start-up thread); it may
#: report progress with the callable it is given.
SessionFactory = Callable[[Callable[[str], None]], "VoiceSession"]


def _device_words(event: ev.DeviceLost | AudioDeviceLost) -> str:
    """A lost device's line in the app's language."""
    from oi_voice.frontend.messages import device_message, language_of
    from oi_voice.ui.i18n import current

    return device_message(event.kind, event.reason, event.detail, language_of(current()))


def _audio_words(exc: AudioDeviceError) -> str:
    return _device_words(exc) if isinstance(exc, AudioDeviceLost) else str(exc)


class Bridge(QObject):
    """Owns the voice session for the app and speaks Qt on its behalf."""

    #: Every voice event, delivered on the Qt thread.
    voice_event = Signal(object)
    #: The app's state changed (an AppState).
    state_changed = Signal(object)
    #: Start-up progress, in words ("Loading the speech model…").
    progress = Signal(str)
    #: The engine and the voice are up; typed chat and push-to-talk work.
    ready = Signal()
    #: Start-up failed; the message says why (the window stays usable for settings).
    failed = Signal(str)
    #: Hands-free listening was switched on or off.
    hands_free_changed = Signal(bool)
    #: A problem the user should read that is not an event of the session
    #: ("no microphone", "still starting").
    notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: VoiceSession | None = None
        self.tracker = StateTracker(device_words=_device_words)
        self._unsubscribe: Callable[[], None] | None = None
        self._hands_free: threading.Event | None = None
        self._closed = False
        # Where start-up is: never started (no model chosen yet), running, or failed (its message).
        self._starting = False
        self.start_error: str | None = None
        self.voice_event.connect(self._track)

    # -- start-up ------------------------------------------------------------------------

    def start(self, factory: SessionFactory) -> threading.Thread:
        """Build and start the session on a background thread (returned)."""
        self._starting, self.start_error = True, None

        def fail(message: str) -> None:
            self._starting, self.start_error = False, message
            self.failed.emit(message)

        def run() -> None:
            try:
                session = factory(self.progress.emit)
                self.progress.emit(self.tr("Opening the microphone and speaker…"))
                session.start()
                self._attach(session)
                self.progress.emit(self.tr("Loading the speech model…"))
                session.wait_ready()
                if session.capture is not None:
                    # Ready means push-to-talk records: the first stream can take a while to open.
                    session.capture.first_block.wait(10.0)
            except (OIVoiceError, OSError) as exc:
                log.warning("start-up failed: %s", exc)
                fail(str(exc))
                return
            except Exception as exc:  # a thread has nobody to raise to; the user must see it
                log.exception("start-up failed")
                fail(f"{type(exc).__name__}: {exc}")
                return
            self._starting = False
            if self._closed:
                session.close()
                return
            self.ready.emit()

        thread = threading.Thread(target=run, name="oi-voice-startup", daemon=True)
        thread.start()
        return thread

    def _attach(self, session: VoiceSession) -> None:
        self.session = session
        # Emitting from the session's threads: Qt queues the signal to the GUI thread.
        self._unsubscribe = session.subscribe(self.voice_event.emit)
        for message in (session.microphone_error, session.speaker_error):
            if message:
                self.notice.emit(message)

    @property
    def interpreter(self) -> Interpreter | None:
        """The engine, once start-up has built it."""
        return self.session.interpreter if self.session is not None else None

    @Slot(object)
    def _track(self, event: ev.VoiceEvent) -> None:
        new = self.tracker.feed(event)
        if new is not None:
            self.state_changed.emit(new)

    @property
    def state(self) -> AppState:
        """What the app is doing now."""
        return self.tracker.state

    # -- what the user does --------------------------------------------------------------

    def _need_session(self) -> VoiceSession | None:
        # Each answer matches what the banner says: a failed start is no "still starting".
        if self.session is None:
            if self._starting:
                self.notice.emit(self.tr("Still starting up: try again in a moment."))
            elif self.start_error is not None:
                self.notice.emit(self.tr("Not started: %1. Check the settings (Ctrl+,).").replace(
                    "%1", self.start_error))
            else:
                self.notice.emit(self.tr("No language model is set up yet: choose one first."))
        return self.session

    def send_text(self, text: str) -> bool:
        """Send a typed (or reviewed) message; False when it could not be sent."""
        session = self._need_session()
        if session is None or not text.strip():
            return False
        session.submit_text(text)
        return True

    def press(self) -> None:
        """Push-to-talk down (from the key, the global hotkey or the mic button)."""
        session = self._need_session()
        if session is None or session.recording:
            return  # the window's key and the global hotkey both report one press
        try:
            session.press()
        except AudioDeviceError as exc:
            self.notice.emit(_audio_words(exc))

    def release(self) -> None:
        """Push-to-talk up: what was said becomes a turn."""
        session = self.session
        if session is None or not session.recording:
            return
        try:
            session.release()
        except AudioDeviceError as exc:
            self.notice.emit(_audio_words(exc))

    def cancel_recording(self) -> None:
        """Push-to-talk up without sending (the mic button was clicked, not held)."""
        if self.session is not None:
            self.session.cancel_recording()

    def stop(self) -> None:
        """Stop everything now: speech, the model's reply, the running code, hands-free."""
        self.set_hands_free(False)
        session = self.session
        if session is None:
            return
        session.interrupt("stopped by the user")
        session.interpreter.gate.decline_all("the user pressed Stop")

    def new_conversation(self) -> bool:
        """Forget the conversation (the kernel keeps its state); False while a turn runs."""
        session = self._need_session()
        if session is None:
            return False
        if session.busy:
            self.notice.emit(self.tr("A turn is still running: stop it first."))
            return False
        session.interpreter.reset()
        return True

    def undo_run(self) -> threading.Thread | None:
        """Put the working folder back as it was before the last risky run (off the Qt
        thread: it copies files); the outcome arrives as a ``notice``."""
        session = self._need_session()
        if session is None:
            return None
        if session.busy:
            self.notice.emit(self.tr("A turn is still running: stop it first."))
            return None
        interpreter = session.interpreter

        def work() -> None:
            try:
                self.notice.emit(interpreter.undo_run().message)
            except (OIVoiceError, OSError) as exc:
                self.notice.emit(self.tr("The run could not be undone: %1").replace("%1", str(exc)))

        thread = threading.Thread(target=work, name="oi-voice-undo-run", daemon=True)
        thread.start()
        return thread

    def reset_python(self, python_env: str = "auto") -> threading.Thread | None:
        """Remove the Python environment code runs in (with what was installed into it) and make it
        again, off the Qt thread (it takes a minute); what happens arrives as ``notice``s.

        The running session's environment, else the one ``python_env`` (the setting) names.
        """
        session = self.session
        if session is not None and session.busy:
            self.notice.emit(self.tr("A turn is still running: stop it first."))
            return None
        interpreter = session.interpreter if session is not None else None
        self.notice.emit(self.tr("Resetting the Python environment: everything installed into it goes…"))

        def work() -> None:
            import asyncio

            from oi_voice.core.interpreter import python_environment
            from oi_voice.errors import ComputerError

            try:
                if interpreter is not None:
                    path = interpreter.computer.reset_python().path
                else:
                    environment = python_environment(python_env)
                    if environment is None:
                        raise ComputerError(self.tr("Python code runs in this program's own Python: there is no "
                                                    "environment of its own to reset."))
                    asyncio.run(environment.reset())
                    path = environment.path
                self.notice.emit(self.tr("The Python environment was made again: %1").replace("%1", str(path)))
            except (OIVoiceError, OSError) as exc:
                self.notice.emit(self.tr("The Python environment could not be reset: %1").replace("%1", str(exc)))

        thread = threading.Thread(target=work, name="oi-voice-reset-python", daemon=True)
        thread.start()
        return thread

    def answer(self, id_: str, decision: Decision) -> bool:
        """Answer approval request ``id_``; False when it was no longer open."""
        interpreter = self.interpreter
        return interpreter is not None and interpreter.gate.answer(id_, decision)

    def is_pending(self, id_: str) -> bool:
        """Whether approval request ``id_`` still waits for an answer."""
        interpreter = self.interpreter
        return interpreter is not None and interpreter.gate.is_pending(id_)

    def set_muted(self, muted: bool) -> None:
        """Mute (or unmute) spoken replies; muting also silences what is being said."""
        session = self.session
        if session is None:
            return
        session.config.speak_replies = not muted
        if muted and session.speech is not None:
            session.speech.stop()

    def set_auto_run(self, on: bool) -> None:
        """Run code without asking (the caller has warned the user)."""
        if self.interpreter is not None:
            self.interpreter.auto_run = on

    def apply(self, path: str, value: Any) -> None:
        """Set one Interpreter setting (``llm.model``, ...) from the settings dialog."""
        if self.interpreter is not None:
            self.interpreter.set(path, value)

    # -- hands-free ----------------------------------------------------------------------

    @property
    def hands_free(self) -> bool:
        """Whether hands-free listening is on."""
        return self._hands_free is not None

    def set_hands_free(self, on: bool) -> None:
        """Listen for speech turn after turn (voice activity ends each), until switched off."""
        session = self.session
        if on == self.hands_free:
            return
        if not on:
            assert self._hands_free is not None
            self._hands_free.set()
            self._hands_free = None
            self.hands_free_changed.emit(False)
            return
        if session is None or session.capture is None:
            self.notice.emit(session.microphone_error if session is not None and session.microphone_error
                             else self.tr("Hands-free needs a microphone."))
            return
        stop = threading.Event()
        self._hands_free = stop
        self.hands_free_changed.emit(True)
        threading.Thread(target=self._listen_loop, args=(session, stop), name="oi-voice-hands-free",
                         daemon=True).start()

    def _listen_loop(self, session: VoiceSession, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                session.listen_turn(timeout=30.0, cancel=stop)
            except OIVoiceError as exc:
                self.notice.emit(self.tr("Hands-free stopped: %1").replace("%1", str(exc)))
                break
        if self._hands_free is stop:
            self._hands_free = None
            self.hands_free_changed.emit(False)

    # -- shutdown ------------------------------------------------------------------------

    def detach(self) -> None:
        """Stop receiving the session's events, leaving the session running (it is shared)."""
        self.set_hands_free(False)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.session = None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the session and the engine (bounded by ``timeout``; runs off the Qt thread)."""
        self._closed = True
        session = self.session
        self.detach()
        if session is None:
            return

        def shut() -> None:
            session.close()
            session.interpreter.close()

        worker = threading.Thread(target=shut, name="oi-voice-shutdown", daemon=True)
        worker.start()
        worker.join(timeout)
