"""A voice session: microphone -> transcript -> the engine's turn -> spoken reply.

:class:`VoiceSession` ties capture, speech recognition, the engine, speech output,
barge-in and spoken confirmation together, with no Qt: a front end calls ``press()``
/ ``release()`` (push-to-talk), ``listen_turn()`` (hands-free), ``run_utterance()``
(audio it has) or ``send_text()`` (typed), and subscribes to the typed events of
:mod:`oi_voice.voice.events`. Listeners are called on the session's worker threads;
the Qt bridge re-emits them as queued signals.

Threads: the capture thread (reads the microphone), the STT worker, the TTS worker,
the playback thread, and one thread per turn that consumes the engine's typed events. The
turn itself runs on the engine loop (``Interpreter.achat``), handed over by the one bridge,
``EngineThread.pump``; nothing here blocks it.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oi_voice.core.approval import Decision
from oi_voice.core.engine_thread import END, EngineThread
from oi_voice.core.events import (
    CodeDelta,
    CodeEnd,
    CodeStart,
    ConfirmationRequest,
    ConsoleOutput,
    EngineEvent,
    ErrorEvent,
    MessageDelta,
    MessageEnd,
    MessageStart,
    Progress,
)
from oi_voice.errors import AudioDeviceError, AudioDeviceLost
from oi_voice.settings import Record
from oi_voice.voice.capture import AudioSource, Capture, Listener, Microphone, Utterance
from oi_voice.voice.confirm import SpokenConfirmation
from oi_voice.voice.devices import DeviceStatus
from oi_voice.voice.echo import echo_canceller
from oi_voice.voice.events import (
    CodeReady,
    ConfirmationAnswered,
    ConfirmationAsked,
    EventHub,
    Interrupted,
    Latency,
    ListeningStarted,
    NothingHeard,
    OutputDelta,
    ReplyDelta,
    SpeechEnded,
    TranscriptHeld,
    TranscriptReady,
    TurnError,
    TurnEvent,
    TurnFinished,
    TurnStarted,
    VoiceError,
    VoiceEvent,
    VoiceNotice,
)
from oi_voice.voice.lang import conversation_language, phrases
from oi_voice.voice.memory import release_freed_memory
from oi_voice.voice.playback import SoundDeviceSpeaker, Speaker
from oi_voice.voice.sentences import SentenceSplitter
from oi_voice.voice.speech_queue import SpeechQueue
from oi_voice.voice.speech_text import Purpose, code_sentence, speakable
from oi_voice.voice.stt import SpeechToText
from oi_voice.voice.tts import Synthesizer
from oi_voice.voice.turn_taking import TurnTaking

if TYPE_CHECKING:
    from oi_voice.core.interpreter import Interpreter

log = logging.getLogger("oi_voice.voice")

#: Decides a run the voice left open (the keyboard in the headless runner); None: leave it.
Fallback = Callable[[dict[str, Any]], "Decision | None"]


class VoiceConfig(Record, view="voice"):
    """Voice settings: one field per ``voice.*`` setting of :data:`oi_voice.settings.SCHEMA`,
    named without the prefix (``stt_model``, ``language``, ``vad_silence`` ...).

    ``VoiceConfig.from_settings(profile.voice, **overrides)`` takes a profile's ``voice``
    mapping (unknown keys ignored), then ``overrides`` (None skipped).
    """


@dataclass
class TurnResult:
    """What one turn said and did."""

    transcript: str
    reply: str = ""
    code: list[tuple[str, str]] = field(default_factory=list)
    output: str = ""
    latency: Latency = field(default_factory=Latency)
    cancelled: bool = False
    error: str | None = None
    #: How the runs were decided: (id, "run" | "decline" | None).
    confirmations: list[tuple[str, str | None]] = field(default_factory=list)


_turn_ids = itertools.count(1)


class VoiceSession:
    """Voice in and out around one Interpreter.

    ``source``: an AudioSource to listen to (default: the microphone, when
    ``microphone`` is true); ``speaker``: where speech goes (default: the sound
    device); ``answers``: a Listener for spoken confirmations (default: the capture);
    ``fallback``: decides a run the voice left open (default: leave it to whoever else
    answers the gate, such as the app's dialog).
    """

    def __init__(self, interpreter: Interpreter, config: VoiceConfig | None = None, *,
                 source: AudioSource | None = None, microphone: bool = True, speaker: Speaker | None = None,
                 answers: Listener | None = None, fallback: Fallback | None = None) -> None:
        self.interpreter = interpreter
        self.config = config or VoiceConfig()
        self.events = EventHub()
        self._source = source
        self._want_microphone = microphone and source is None
        self._speaker = speaker
        self._answers = answers
        self.fallback = fallback
        self.stt = SpeechToText(self.config.stt_model, self.config.language,
                                no_speech_threshold=self.config.no_speech_threshold, languages=self.config.languages)
        self.capture: Capture | None = None
        self.speech: SpeechQueue | None = None
        #: Why there is no microphone (typed chat still works), or None.
        self.microphone_error: str | None = None
        self.speaker_error: str | None = None
        self._turn_thread: threading.Thread | None = None
        self._turn_cancel: threading.Event | None = None
        self._turn_future: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()
        self._active_turns = 0
        self._started = False
        #: Which device is away; a lost speaker cuts what is being said (the turn's text goes on).
        self.devices = DeviceStatus(self.events.emit, self._device_lost)
        #: The microphone path: echo cancellation and hands-free barge-in (voice.turn_taking).
        self.turn_taking = TurnTaking(self.interrupt, lambda: self.speaking or self.busy)

    # -- lifetime --------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[VoiceEvent], None]) -> Callable[[], None]:
        """Receive every event (on worker threads); returns an unsubscribe function."""
        return self.events.subscribe(listener)

    def start(self) -> None:
        """Start the workers and open the devices.

        A missing microphone or speaker does not raise: it is reported as a VoiceError
        event and in ``microphone_error``/``speaker_error``, and typed chat still works.
        """
        if self._started:
            return
        self._started = True
        self.stt.start()  # loads and warms in the background
        speaker = self._speaker
        if speaker is None:
            try:
                device_speaker = SoundDeviceSpeaker(self.config.output_device)
                device_speaker.open()
                self.devices.attach(device_speaker, "output")
                speaker = device_speaker
            except AudioDeviceError as exc:
                self.speaker_error = str(exc)
                self._error(f"{exc}; replies will not be spoken")
        if speaker is not None:
            synthesizer = Synthesizer(self.config.tts_voice, self.config.tts_rate, engine=self.config.tts_engine,
                                      language=self.config.language, piper_voices=self.config.piper_voices)
            synthesizer.on_notice = lambda text: self.events.emit(VoiceNotice(text))
            self.speech = SpeechQueue(synthesizer, speaker, self.events.emit)
            self.speech.start()
        source = self._source
        if source is None and self._want_microphone:
            source = Microphone(self.config.input_device)
        if source is not None:
            self.devices.attach(source, "input")
            capture = Capture(source, preroll=self.config.preroll, vad_silence=self.config.vad_silence,
                              on_event=self.events.emit)
            self.turn_taking.echo = echo_canceller(self.config.echo_cancellation, source, speaker, self._error)
            self.turn_taking.attach(capture, speaker)
            try:
                # The VAD serves hands-free turns and spoken answers to confirmations.
                capture.start(vad=self.config.vad or self.config.confirm_by_voice)
                self.capture = capture
            except AudioDeviceError as exc:
                self.microphone_error = str(exc)
                self._error(f"{exc}; typed chat still works")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the speech model and voice are loaded and warm (raises their load error).

        And until the microphone delivers audio: the first stream can take seconds to
        open on a busy machine, and what is said before is lost.
        """
        self.stt.wait_ready(timeout)
        if self.speech is not None:
            self.speech.synthesizer.wait_ready(timeout)
        if self.capture is not None and not self.capture.first_block.wait(timeout):
            self._error(f"the microphone delivered no audio within {timeout:.0f} s")
        # The warm-ups' buffers were freed in the workers' malloc arenas: give them back, the
        # app idles with these models loaded (oi_voice.voice.memory).
        release_freed_memory()

    def close(self) -> None:
        """Stop everything: the turn, speech, the microphone, the workers."""
        self.interrupt("closing", quiet=True)
        thread = self._turn_thread
        if thread is not None:
            thread.join(timeout=15)
        if self.capture is not None:
            self.capture.close()
        if self.speech is not None:
            self.speech.close()
            _settle(self.speech)
        self.stt.close()

    def _device_lost(self, kind: str) -> None:
        if kind == "output" and self.speech is not None:
            self.speech.stop()  # what was queued for the lost speaker is dropped, not retried

    def _error(self, message: str) -> None:
        log.warning("%s", message)
        self.events.emit(VoiceError(message))

    # -- state -----------------------------------------------------------------------------

    @property
    def level(self) -> float:
        """The microphone's loudness for a meter, 0..1."""
        return self.capture.level if self.capture is not None else 0.0

    @property
    def speaking(self) -> bool:
        """Whether speech is queued or playing."""
        return self.speech is not None and self.speech.speaking

    @property
    def busy(self) -> bool:
        """Whether a turn is running (transcribing, thinking, running code or speaking)."""
        thread = self._turn_thread
        return self._active_turns > 0 or (thread is not None and thread.is_alive())

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no turn runs and nothing is being said; False on timeout."""
        deadline = time.monotonic() + timeout
        thread = self._turn_thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        if self.speech is not None:
            return self.speech.wait_idle(max(0.0, deadline - time.monotonic()))
        return True

    # -- push-to-talk ----------------------------------------------------------------------

    def _require_capture(self) -> Capture:
        if self.capture is None:
            raise AudioDeviceError(self.microphone_error or "no microphone is open; typed chat still works")
        if "input" in self.devices.away:
            raise self.devices.away["input"]  # until it is back
        return self.capture

    def press(self) -> None:
        """Push-to-talk down: barge in (stop speech, cancel the turn) and start recording."""
        capture = self._require_capture()
        if self.config.barge_in and (self.speaking or self.busy):
            self.interrupt("push-to-talk")
        capture.press()
        self.events.emit(ListeningStarted("push-to-talk"))

    def release(self) -> threading.Thread:
        """Push-to-talk up: the utterance becomes a turn on a worker thread (returned)."""
        if self.capture is None:
            self._require_capture()
        capture = self.capture
        assert capture is not None
        lost = self.devices.away.get("input") or capture.error
        utterance = capture.release()
        if isinstance(lost, AudioDeviceLost):
            raise lost  # what was recorded ends where the microphone went: no turn
        return self._start_thread(lambda: self.run_utterance(utterance))

    @property
    def recording(self) -> bool:
        """Whether push-to-talk is held (the microphone is being kept for an utterance)."""
        return self.capture is not None and self.capture.recording

    def cancel_recording(self) -> None:
        """Push-to-talk up, throwing the audio away (a click on the mic button, not a hold)."""
        if self.capture is not None and self.capture.recording:
            self.capture.release()
            self.events.emit(NothingHeard("recording discarded"))

    def submit_text(self, text: str) -> threading.Thread:
        """``send_text`` on a worker thread (returned): for front ends that must not block."""
        return self._start_thread(lambda: self.send_text(text))

    def interrupt(self, reason: str = "interrupted", *, quiet: bool = False) -> None:
        """Barge-in: cut speech now and cancel the running turn; nothing of it plays later."""
        at = time.monotonic()
        if self.speech is not None:
            self.speech.stop()  # first: silence is what the user notices
        cancel, future = self._turn_cancel, self._turn_future
        if cancel is not None:
            cancel.set()
        if future is not None and not future.done():
            future.cancel()
        if not quiet:
            self.events.emit(Interrupted(at, reason))

    # -- hands-free ------------------------------------------------------------------------

    def listen_turn(self, timeout: float = 30.0, cancel: threading.Event | None = None) -> TurnResult | None:
        """Wait for speech (VAD end-of-speech), then run it as a turn; None if nobody spoke.

        While the turn runs, speech over it (echo-cancelled) is a barge-in: the reply stops,
        and the next call returns at once with what was said (:mod:`oi_voice.voice.turn_taking`).
        """
        capture = self._require_capture()
        with self.turn_taking.hands_free():  # speech over the reply is a barge-in, and the next request
            self.events.emit(ListeningStarted("hands-free"))
            utterance = self.turn_taking.listen(capture, timeout, cancel)
            if utterance is None:
                if isinstance(capture.error, AudioDeviceLost):
                    raise capture.error
                if capture.error is not None:
                    raise AudioDeviceError(f"the microphone stopped working: {capture.error}")
                self.events.emit(NothingHeard("no speech before the timeout"))
                return None
            return self.run_utterance(utterance)

    # -- turns -----------------------------------------------------------------------------

    def _start_thread(self, target: Callable[[], object]) -> threading.Thread:
        previous = self._turn_thread

        def run() -> None:
            if previous is not None and previous is not threading.current_thread():
                previous.join(timeout=15)  # an interrupted turn winds down first
            try:
                target()
            except Exception as exc:  # a worker thread has nobody to raise to
                log.exception("voice turn failed")
                self._error(str(exc))

        thread = threading.Thread(target=run, name="oi-voice-turn", daemon=True)
        with self._lock:
            self._turn_thread = thread
        thread.start()
        return thread

    def run_utterance(self, utterance: Utterance) -> TurnResult:
        """Transcribe ``utterance`` and run it as a turn (blocking; not on a UI thread)."""
        latency = Latency(speech_end=utterance.speech_end)
        cancel = threading.Event()
        self._turn_cancel = cancel
        if utterance.reason == "file":
            self.events.emit(SpeechEnded(utterance.speech_end, utterance.seconds, "file"))
        transcription = self.stt.transcribe(utterance.audio, cancel=cancel)
        latency = Latency(speech_end=utterance.speech_end, transcript=transcription.done_at)
        self.events.emit(TranscriptReady(transcription.text, transcription.audio_seconds, transcription.elapsed))
        if cancel.is_set():
            return TurnResult(transcription.text, latency=latency, cancelled=True)
        if not transcription.text:
            self.events.emit(NothingHeard("no words in the audio"))
            return TurnResult("", latency=latency, error="nothing was heard")
        if self.config.review_transcripts and utterance.reason != "file":
            self.events.emit(TranscriptHeld(transcription.text))
            return TurnResult(transcription.text, latency=latency)
        return self._turn(transcription.text, latency, cancel)

    def send_text(self, text: str) -> TurnResult:
        """A typed message through the voice pipeline (the reply is spoken); blocking."""
        cancel = threading.Event()
        self._turn_cancel = cancel
        now = time.monotonic()
        return self._turn(text, Latency(speech_end=now, transcript=now), cancel)

    def _turn(self, text: str, latency: Latency, cancel: threading.Event) -> TurnResult:
        with self._lock:
            self._active_turns += 1
        try:
            return self._run_turn(text, latency, cancel)
        finally:
            with self._lock:
                self._active_turns -= 1

    def _run_turn(self, text: str, latency: Latency, cancel: threading.Event) -> TurnResult:
        turn_id = next(_turn_ids)
        devices_mark = self.devices.mark()
        speech = self.speech
        epoch = speech.epoch if speech is not None else 0
        result = TurnResult(text)
        self.events.emit(TurnStarted(text))
        chunks: queue.Queue[Any] = queue.Queue()
        future = EngineThread.get().pump(self.interpreter.achat(text), chunks.put)
        self._turn_future = future
        if cancel.is_set():  # interrupted while the engine call was being set up
            future.cancel()
        consumer = _TurnConsumer(self, result, turn_id, epoch, cancel)
        deadline = time.monotonic() + self.config.turn_timeout
        try:
            while True:
                try:
                    item = chunks.get(timeout=0.1)
                except queue.Empty:
                    if cancel.is_set() or (future.done() and chunks.empty()):
                        break
                    if time.monotonic() > deadline:
                        future.cancel()
                        result.error = f"the turn took longer than {self.config.turn_timeout:.0f} s"
                        break
                    continue
                if item is END:
                    break
                if cancel.is_set():
                    break
                consumer.handle(item)
            consumer.finish()
        finally:
            if not future.done():
                future.cancel()
        if cancel.is_set():
            _drain_until_end(chunks, timeout=15.0)
        if speech is not None and not cancel.is_set():
            # The reply is still being said: the turn (and its latency) ends when it was heard.
            while not cancel.is_set() and not speech.wait_idle_quick(0.2):
                pass
        result.cancelled = cancel.is_set()
        lost = self.devices.lost_since(devices_mark)
        if lost is not None and not result.error:
            result.error = str(lost)  # the reply's text is whole; the turn ends with the device's line
        first_audio = speech.first_audio(turn_id) if speech is not None else None
        result.latency = Latency(latency.speech_end, latency.transcript, consumer.first_token, first_audio)
        log.info("%s", result.latency.line())
        self.events.emit(TurnFinished(text, result.reply, result.latency, result.cancelled, result.error))
        return result

    # -- used by the turn consumer ---------------------------------------------------------

    def _say(self, text: str, epoch: int, turn_id: int) -> bool:
        if self.speech is None or "output" in self.devices.away:
            return False
        return self.speech.say(text, epoch, tag=turn_id)

    def _listener(self) -> Listener | None:
        if self._answers is not None:
            return self._answers
        return self.capture


def _settle(speech: SpeechQueue) -> None:
    """Wait (bounded) for a sentence still being synthesized after speech was cut (a lost speaker):
    a daemon thread inside the voice's C++ when the process exits aborts it."""
    try:
        speech.synthesizer.submit(".").result(timeout=10)  # the worker takes jobs in order
    except Exception:  # a broken or stuck voice: nothing more to wait for
        log.debug("the synthesizer did not settle", exc_info=True)


def _drain_until_end(chunks: queue.Queue[Any], timeout: float) -> None:
    """Wait for a cancelled turn to unwind on the engine loop (its pump ends with END).

    Until then the Interpreter is still busy; a turn cancelled before it started never
    sends END, hence the timeout.
    """
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if chunks.get(timeout=left) is END:
                return
        except queue.Empty:
            return


class _TurnConsumer:
    """Turns one turn's engine events into voice events, spoken sentences and confirmations."""

    def __init__(self, session: VoiceSession, result: TurnResult, turn_id: int, epoch: int,
                 cancel: threading.Event) -> None:
        self.s = session
        self.result = result
        self.turn_id = turn_id
        self.epoch = epoch
        self.cancel = cancel
        self.splitter = SentenceSplitter()
        self.first_token: float | None = None
        self.code_language = ""
        self.code = ""
        self.speak_replies = session.config.speak_replies

    def language(self) -> str:
        """The language to speak to the user in (that of their latest message, else the spoken one)."""
        return conversation_language(self.s.interpreter.messages, self.s.stt.language)

    def code_sentence(self, language: str, code: str, purpose: Purpose) -> str:
        """``speech_text.code_sentence`` in the user's language."""
        return phrases(self.language()).code_sentence(language, code, purpose) or \
            code_sentence(language, code, purpose)

    def show_code(self, language: str, code: str) -> str:
        """What is said for a code block in the reply's text."""
        return self.code_sentence(language, code, "show")

    def say(self, text: str) -> None:
        if self.speak_replies and text:
            self.s._say(text, self.epoch, self.turn_id)

    def handle(self, event: EngineEvent) -> None:
        emit = self.s.events.emit
        emit(TurnEvent(event))
        if isinstance(event, MessageDelta | CodeDelta) and event.text and self.first_token is None:
            self.first_token = time.monotonic()
        if isinstance(event, MessageDelta):
            if event.text:
                self.result.reply += event.text
                emit(ReplyDelta(event.text))
                for unit in self.splitter.feed(event.text):
                    self.say(speakable(unit, self.show_code))
        elif isinstance(event, MessageStart):
            if self.result.reply and not self.result.reply[-1].isspace():
                self.result.reply += "\n"  # a later step's message is a new paragraph
        elif isinstance(event, MessageEnd):
            self._flush()
        elif isinstance(event, CodeStart):
            self._flush()
            self.code_language, self.code = event.language, ""
        elif isinstance(event, CodeDelta):
            self.code += event.text
        elif isinstance(event, CodeEnd):
            self.result.code.append((self.code_language, self.code))
            emit(CodeReady(self.code_language, self.code))
        elif isinstance(event, ConfirmationRequest):
            self._confirm(event.content)
        elif isinstance(event, ConsoleOutput):
            self.result.output += event.text
            emit(OutputDelta(event.text))
        elif isinstance(event, ErrorEvent):
            self.result.error = event.message
            emit(TurnError(event.kind, event.message))
            self.say(phrases(self.language()).went_wrong)
        elif isinstance(event, Progress) and event.kind == "python_setup":
            self.say(phrases(self.language()).python_setup)  # else a minute of silence

    def _ask_aloud(self, text: str, id_: str) -> bool:
        """Say a confirmation question and wait until it was heard; False when cut short.

        A click in the dialog answers the request while the question is still being
        said: then the question stops at once, and the turn's later sentences still play.
        """
        speech = self.s.speech
        if speech is None or not speech.say(text, self.epoch, tag=self.turn_id):
            return False
        while not speech.wait_idle_quick(0.05):
            if self.cancel.is_set() or speech.epoch != self.epoch:
                return False
            if not self.s.interpreter.gate.is_pending(id_):
                self.epoch = speech.stop()
                return False
        speech.wait_latency()
        return speech.epoch == self.epoch and not self.cancel.is_set()

    def _flush(self) -> None:
        for unit in self.splitter.flush():
            self.say(speakable(unit, self.show_code))

    def finish(self) -> None:
        self._flush()

    def _confirm(self, content: dict[str, Any]) -> None:
        s = self.s
        id_ = str(content.get("id"))
        language, code = str(content.get("format") or ""), str(content.get("content") or "")
        if not s.interpreter.gate.is_pending(id_):
            # No approval asked: auto_run (or "always") runs it.
            self.say(self.code_sentence(language, code, "running"))
            self.result.confirmations.append((id_, "auto"))
            return
        decided: str | None = None
        listener = s._listener()
        can_speak = s.speech is not None
        if s.config.confirm_by_voice and can_speak and listener is not None:
            confirmation = SpokenConfirmation(
                gate=s.interpreter.gate,
                say=lambda text: self._ask_aloud(text, id_),
                listener=listener, stt=s.stt, emit=s.events.emit, answer_timeout=s.config.answer_timeout,
                language=self.language())
            decided = confirmation.ask(content, self.cancel)
        else:
            summary = phrases(self.language()).summary(content) if content.get("summary") else ""
            spoken = s.config.confirm_by_voice and can_speak
            # No ears: say the question anyway (the user answers with a key or a click).
            self.say(summary if spoken else self.code_sentence(language, code, "propose"))
            s.events.emit(ConfirmationAsked(id_, summary, str((content.get("risk") or {}).get("level", "low")),
                                            spoken=spoken))
        if decided is None and s.fallback is not None and s.interpreter.gate.is_pending(id_) \
                and not self.cancel.is_set():
            decision = s.fallback(content)
            if decision is not None and s.interpreter.gate.answer(id_, decision):
                decided = decision.action
                s.events.emit(ConfirmationAnswered(id_, decided, f"answered by {decision.source}"))
        self.result.confirmations.append((id_, decided))
