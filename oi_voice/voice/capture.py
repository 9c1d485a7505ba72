"""Speech in: audio sources, push-to-talk with pre-roll, and VAD end-of-speech.

- An :class:`AudioSource` hands out float32 mono blocks at 16 kHz. :class:`Microphone`
  is a sounddevice ``InputStream`` whose callback only copies frames into a queue;
  :class:`WavSource` plays a file as if it were a microphone (headless runs, tests).
- :class:`Capture` reads a source on its own thread, keeps ~1 s of pre-roll so the
  first word of a push-to-talk press is not clipped, computes a level for the UI, and
  runs silero (shipped inside faster-whisper) block by block to find where a
  hands-free utterance ends.

sounddevice is imported lazily: PortAudio lists the devices when it is imported, so
importing it early would freeze the device list (and cost start-up time).
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import numpy as np

from oi_voice.errors import AudioDeviceError, AudioDeviceLost
from oi_voice.voice import devices
from oi_voice.voice.audio import SAMPLE_RATE, Samples, StreamResampler, level, load_audio_file, to_float
from oi_voice.voice.events import LevelChanged, SpeechEnded, SpeechStarted, VoiceEvent

log = logging.getLogger("oi_voice.voice")

#: Samples per block: 32 ms, also the window silero wants at 16 kHz.
BLOCK = 512
#: Seconds of recent audio a hands-free ``listen()`` searches for speech that began before it
#: was called: a front end says "listening", and on a busy machine the call comes late.
LOOKBACK = 2.0
#: Seconds kept before the start of a hands-free utterance.
LEAD_IN = 0.5


def sounddevice() -> ModuleType:
    """The sounddevice module; AudioDeviceError when PortAudio itself is missing."""
    try:
        with devices.signal_mask_kept():  # importing it initialises PortAudio
            import sounddevice as sd
    except OSError as exc:  # the Linux wheel needs the system's libportaudio2
        raise AudioDeviceError(f"audio is unavailable: PortAudio is not installed ({exc})") from exc
    except ImportError as exc:
        raise AudioDeviceError("audio is unavailable: install oi-voice[voice] (sounddevice)") from exc
    devices.quiet_native_stderr()  # PortAudio's and ALSA's C-level noise stays off the terminal
    return sd


# --- devices -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Device:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    inputs: int
    outputs: int
    samplerate: float
    default_input: bool = False
    default_output: bool = False


def list_devices() -> list[Device]:
    """Every audio device PortAudio sees (an empty list on a machine without sound)."""
    sd = sounddevice()
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = _defaults(sd)
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"cannot list audio devices: {exc}") from exc
    devices = []
    for info in raw:
        index = int(info["index"])
        devices.append(Device(
            index=index, name=str(info["name"]), hostapi=str(apis[int(info["hostapi"])]["name"]),
            inputs=int(info["max_input_channels"]), outputs=int(info["max_output_channels"]),
            samplerate=float(info["default_samplerate"]),
            default_input=index == default_in, default_output=index == default_out,
        ))
    return devices


def _defaults(sd: ModuleType) -> tuple[int, int]:
    try:
        pair = sd.default.device
        return int(pair[0]), int(pair[1])
    except (TypeError, ValueError, IndexError):
        return -1, -1


def format_devices(devices: list[Device]) -> str:
    """The device table ``oi-voice --list-devices`` prints."""
    if not devices:
        return "No audio devices found (no sound card, or no sound server running)."
    lines = ["  #  in out  name (host API)"]
    for d in devices:
        marks = ("<" if d.default_input else " ") + (">" if d.default_output else " ")
        lines.append(f"{marks}{d.index:>2} {d.inputs:>3} {d.outputs:>3}  {d.name} ({d.hostapi})")
    lines.append("< default input, > default output; pick one with --input-device/--output-device NAME|INDEX")
    return "\n".join(lines)


def resolve_device(spec: str | int | None, kind: Literal["input", "output"]) -> int | None:
    """The PortAudio index for a device given by index or (part of its) name; None: the default.

    Raises AudioDeviceError naming what was asked for and what exists.
    """
    devices = list_devices()
    usable = [d for d in devices if (d.inputs if kind == "input" else d.outputs) > 0]
    if not usable:
        what = "microphone" if kind == "input" else "speaker"
        raise AudioDeviceError(f"no {what} found: this machine has no audio {kind} device "
                               "(no sound card, or no sound server running)")
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None
    names = ", ".join(f"{d.index}: {d.name}" for d in usable)
    text = str(spec).strip()
    if text.isdigit():
        index = int(text)
        if any(d.index == index for d in usable):
            return index
        raise AudioDeviceError(f"no audio {kind} device with index {index}; {kind} devices: {names}")
    exact = [d for d in usable if d.name.lower() == text.lower()]
    partial = exact or [d for d in usable if text.lower() in d.name.lower()]
    if len(partial) == 1 or exact:
        return partial[0].index
    if not partial:
        raise AudioDeviceError(f"no audio {kind} device named {text!r}; {kind} devices: {names}")
    raise AudioDeviceError(f"{text!r} matches several {kind} devices ({', '.join(d.name for d in partial)}); "
                           "give its index")


# --- sources -------------------------------------------------------------------------------


class AudioSource(Protocol):
    """Where speech comes from: float32 mono blocks at 16 kHz."""

    name: str

    def start(self) -> None:
        """Begin producing audio (raises AudioDeviceError when it cannot)."""

    def read(self, timeout: float) -> Samples | None:
        """The next block, or None when none arrived within ``timeout`` seconds."""

    def stop(self) -> None:
        """Stop producing audio and release the device."""


class Microphone:
    """A sounddevice input stream at 16 kHz mono.

    The PortAudio callback only copies each block into a queue; conversion (and
    resampling, if the device refused 16 kHz) happens in :meth:`read`, on the reader's
    thread.
    """

    def __init__(self, device: str | int | None = None, *, block: int = BLOCK) -> None:
        self.device = device
        self.block = block
        self.name = "microphone" if device is None else f"microphone {device}"
        self._queue: queue.Queue[Samples] = queue.Queue(maxsize=2000)  # ~64 s of 32 ms blocks
        self._stream: Any = None
        self._resampler: StreamResampler | None = None
        self.first_block = threading.Event()
        self.overflows = 0
        #: Set by the owner: called with an AudioDeviceLost, then with None when the microphone is back.
        self.on_device: Callable[[AudioDeviceLost | None], None] = lambda _lost: None
        self._lost: AudioDeviceLost | None = None
        self.watch = devices.StreamWatch("input", on_lost=self._device_lost, reopen=self._reopen,
                                         on_back=lambda: self.on_device(None), device=device)

    def start(self) -> None:
        """Open the input stream; AudioDeviceError if the microphone is missing or busy."""
        with devices.portaudio_lock():
            self._start()

    def _device_lost(self, error: AudioDeviceLost) -> Any:
        stream, self._stream = self._stream, None
        while not self._queue.empty():  # what came before the loss is not news
            self._queue.get_nowait()
        self.on_device(error)  # said before the capture thread learns of it (and a turn ends)
        self._lost = error  # read() raises it once
        return stream

    def _reopen(self) -> None:
        self._resampler = None
        self._start()

    def _start(self) -> None:
        sd = sounddevice()
        index = resolve_device(self.device, "input")
        try:
            info = sd.query_devices(index, "input") if index is not None else sd.query_devices(kind="input")
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(f"no microphone found: {exc}") from exc
        self.name = f"microphone {info['name']!r}"
        try:
            self._stream = self._open(sd, index, SAMPLE_RATE)
        except sd.PortAudioError as exc:
            # Some hardware only does its own rate (44.1/48 kHz): record that and resample.
            rate = int(info["default_samplerate"])
            if "sample rate" not in str(exc).lower() or rate == SAMPLE_RATE:
                raise AudioDeviceError(f"the {self.name} could not be opened (missing or busy): {exc}") from exc
            try:
                self._stream = self._open(sd, index, rate)
            except sd.PortAudioError as exc2:
                raise AudioDeviceError(f"the {self.name} could not be opened (missing or busy): {exc2}") from exc2
            self._resampler = StreamResampler(rate, SAMPLE_RATE)
        try:
            self._stream.start()
        except sd.PortAudioError as exc:
            self._close_stream()
            raise AudioDeviceError(f"the {self.name} could not be started (busy?): {exc}") from exc
        self.watch.running(self._stream)

    def _open(self, sd: ModuleType, index: int | None, rate: int) -> Any:
        block = self.block if rate == SAMPLE_RATE else int(self.block * rate / SAMPLE_RATE)
        return devices.opened(sd.InputStream(samplerate=rate, channels=1, dtype="int16", blocksize=block,
                                             device=index, callback=self._callback, latency="low"))

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy and go. Anything slow here drops audio.
        self.watch.beat(status)
        if status:
            self.overflows += 1
        try:
            self._queue.put_nowait(indata[:, 0].copy())
        except queue.Full:
            self.overflows += 1
        if not self.first_block.is_set():
            self.first_block.set()

    def read(self, timeout: float) -> Samples | None:
        """The next block as float32 at 16 kHz, or None after ``timeout`` seconds.

        Raises AudioDeviceLost once when the microphone went away; it is reopened on its
        own, and blocks come again once it is back.
        """
        lost, self._lost = self._lost, None
        if lost is not None:
            raise lost
        try:
            raw = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        samples = to_float(raw)
        if self._resampler is not None:
            samples = self._resampler.process(samples)
        return samples

    def stop(self) -> None:
        """Stop and close the stream (and stop reopening a lost one)."""
        self.watch.close()
        self._close_stream()

    def _close_stream(self) -> None:
        self.watch.idle()
        stream, self._stream = self._stream, None
        devices.close_stream(stream)  # off-thread, bounded: a dead device's close can hang


class WavSource:
    """An audio file played as if it were a microphone.

    With ``realtime`` the blocks come at the pace a microphone would deliver them;
    after the file, ``tail`` seconds of silence follow (a speaker who went quiet),
    then :meth:`read` returns None. ``finished`` is set when the file's audio is out.
    With ``hold`` there is silence until :meth:`play` (the speaker starts talking then).
    """

    def __init__(self, audio: str | Path | Samples, *, realtime: bool = True, lead: float = 0.0,
                 tail: float = 3.0, block: int = BLOCK, hold: bool = False) -> None:
        if isinstance(audio, (str, Path)):
            self.name = f"file {audio}"
            samples = load_audio_file(audio)
        else:
            self.name = "audio"
            samples = audio.astype(np.float32, copy=False)
        silence = np.zeros(int(lead * SAMPLE_RATE), dtype=np.float32)
        self._data = np.concatenate([silence, samples])
        self._speech_samples = self._data.size
        self._data = np.concatenate([self._data, np.zeros(int(tail * SAMPLE_RATE), dtype=np.float32)])
        self.realtime = realtime
        self.block = block
        self._pos = 0
        self._held = 0  # samples of silence delivered while held
        self._t0 = 0.0
        self._playing = threading.Event()
        if not hold:
            self._playing.set()
        self.finished = threading.Event()
        self._stopped = threading.Event()

    def play(self) -> None:
        """Start saying the file (a source made with ``hold``)."""
        self._playing.set()

    def start(self) -> None:
        """Start the clock."""
        self._t0 = time.monotonic()

    def read(self, timeout: float) -> Samples | None:
        """The next block, paced like a microphone when ``realtime``."""
        if self._pos >= self._data.size or self._stopped.is_set():
            self.finished.set()
            self._stopped.wait(timeout)
            return None
        if self.realtime:
            due = self._t0 + (self._held + self._pos + self.block) / SAMPLE_RATE
            wait = due - time.monotonic()
            if wait > timeout:
                self._stopped.wait(timeout)  # a device clock, not synchronisation
                return None
            if wait > 0:
                self._stopped.wait(wait)
        if not self._playing.is_set():
            self._held += self.block
            return np.zeros(self.block, dtype=np.float32)
        block = self._data[self._pos:self._pos + self.block]
        self._pos += block.size
        if self._pos >= self._speech_samples:
            self.finished.set()
        return block

    def stop(self) -> None:
        """Stop delivering audio."""
        self._stopped.set()


# --- voice activity ------------------------------------------------------------------------


class StreamingVad:
    """silero VAD (the model shipped inside faster-whisper) run one 512-sample window at a time.

    faster-whisper only offers a whole-array VAD; this feeds the same ONNX model its
    recurrent state across calls, which gives the same probabilities block by block.
    """

    WINDOW = BLOCK
    CONTEXT = 64

    def __init__(self) -> None:
        # The package first: importing faster_whisper.vad takes that module's import lock before
        # its parent's, so with the speech model loading faster_whisper on another thread (whose
        # __init__ imports .vad) the two imports deadlock ("deadlock detected by _ModuleLock").
        import faster_whisper  # noqa: F401
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self.reset()

    def reset(self) -> None:
        """Forget the previous audio (a new utterance)."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(self.CONTEXT, dtype=np.float32)

    def __call__(self, window: Samples) -> float:
        """Speech probability of one 512-sample window."""
        x = np.concatenate([self._context, window])[None, :].astype(np.float32)
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-self.CONTEXT:]
        return float(np.asarray(out).ravel()[0])


# --- capture -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Utterance:
    """One recorded utterance."""

    audio: Samples
    #: When the speaker stopped talking (monotonic): the release, or the last voiced block.
    speech_end: float
    reason: str  # "release" | "vad" | "max-length" | "file"

    @property
    def seconds(self) -> float:
        """Length of the audio."""
        return self.audio.size / SAMPLE_RATE


class Listener(Protocol):
    """Something that can hear one short answer (spoken confirmation)."""

    def listen(self, timeout: float, cancel: threading.Event | None = None) -> Utterance | None:
        """Wait up to ``timeout`` s for speech to start; return the utterance, or None."""


_IDLE, _PTT, _LISTEN = "idle", "ptt", "listen"


class Capture:
    """Reads an AudioSource on its own thread: pre-roll, level, push-to-talk and VAD turns.

    The recent audio (``preroll`` s, and at least :data:`LOOKBACK` s) is kept: push-to-talk
    starts its utterance ``preroll`` s before the press, and a hands-free :meth:`listen`
    runs the VAD over the last :data:`LOOKBACK` s, so speech that began between a
    "listening" prompt and the call (a busy machine) keeps its first word.

    ``on_event`` receives LevelChanged (at most ~15 per second), SpeechStarted and
    SpeechEnded, on the capture thread.
    """

    def __init__(self, source: AudioSource, *, preroll: float = 1.0, vad_silence: float = 0.7,
                 vad_threshold: float = 0.5, min_speech: float = 0.2, max_utterance: float = 30.0,
                 on_event: Callable[[VoiceEvent], None] | None = None) -> None:
        self.source = source
        self.preroll = preroll
        self.vad_silence = vad_silence
        self.vad_threshold = vad_threshold
        self.min_speech = min_speech
        self.max_utterance = max_utterance
        self._emit = on_event or (lambda _e: None)
        self._preroll_blocks = max(1, int(preroll * SAMPLE_RATE / BLOCK) + 1)
        self._recent: collections.deque[Samples] = collections.deque(
            maxlen=max(self._preroll_blocks, int(LOOKBACK * SAMPLE_RATE / BLOCK) + 1))
        self._cond = threading.Condition()
        self._mode = _IDLE
        self._buffer: list[Samples] = []
        self._result: Utterance | None = None
        self._vad: StreamingVad | None = None
        self._pending = np.zeros(0, dtype=np.float32)  # audio not yet a whole VAD window
        self._in_speech = False
        self._voiced = 0  # consecutive voiced windows (speech start needs two)
        self._speech_samples = 0
        self._silence_samples = 0
        self._last_voiced_at = 0.0
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._level = 0.0
        self._last_level_emit = 0.0
        self.error: Exception | None = None
        self.blocks = 0
        self.first_block = threading.Event()
        #: Applied to every block before anything listens (echo cancellation: voice.turn_taking).
        self.filter: Callable[[Samples], Samples] | None = None

    # -- lifetime --------------------------------------------------------------------------

    def start(self, vad: bool = True) -> None:
        """Start the source and the reader thread (AudioDeviceError if the source fails)."""
        if vad and self._vad is None:
            self._vad = StreamingVad()
        self.source.start()
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="oi-voice-capture", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop reading and release the source."""
        self._running.clear()
        with self._cond:
            self._mode = _IDLE
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.source.stop()

    @property
    def level(self) -> float:
        """The latest loudness, 0..1."""
        return self._level

    # -- push-to-talk ----------------------------------------------------------------------

    def press(self) -> None:
        """Start recording an utterance, beginning with the pre-roll."""
        with self._cond:
            self._buffer = list(self._recent)[-self._preroll_blocks:]
            self._mode = _PTT

    def release(self) -> Utterance:
        """Stop recording; the utterance from the pre-roll to now."""
        with self._cond:
            audio = np.concatenate(self._buffer) if self._buffer else np.zeros(0, dtype=np.float32)
            self._buffer = []
            self._mode = _IDLE
        end = time.monotonic()
        utterance = Utterance(audio.astype(np.float32), end, "release")
        self._emit(SpeechEnded(end, utterance.seconds, "release"))
        return utterance

    @property
    def recording(self) -> bool:
        """Whether push-to-talk is held."""
        return self._mode == _PTT

    @property
    def listening(self) -> bool:
        """Whether a :meth:`listen` waits for an utterance."""
        return self._mode == _LISTEN

    # -- hands-free ------------------------------------------------------------------------

    def listen(self, timeout: float, cancel: threading.Event | None = None) -> Utterance | None:
        """Wait up to ``timeout`` s for speech to start, then until ``vad_silence`` s of silence.

        Returns the utterance (with up to ~0.5 s before the speech started), or None when
        nobody spoke, ``cancel`` was set, or the capture stopped. Speech still going on
        from the last :data:`LOOKBACK` s counts (its start is kept); speech that already
        ended before the call does not.
        """
        if self._vad is None:
            raise AudioDeviceError("hands-free listening needs the VAD: start the capture with vad=True")
        with self._cond:
            events = self._look_back()
        for event in events:
            self._emit(event)
        with self._cond:
            deadline = time.monotonic() + timeout
            while self._result is None and self._running.is_set():
                if cancel is not None and cancel.is_set():
                    break
                if self.error is not None:
                    break
                if not self._in_speech and time.monotonic() >= deadline:
                    break
                # Short waits: ``cancel`` is a plain Event that cannot notify this condition.
                self._cond.wait(0.05)
            result, self._result = self._result, None
            self._mode = _IDLE
            self._buffer = []
        return result

    def _reset_listening(self) -> None:
        assert self._vad is not None
        self._vad.reset()
        self._buffer = []
        self._pending = np.zeros(0, dtype=np.float32)
        self._in_speech = False
        self._voiced = self._speech_samples = self._silence_samples = 0
        self._result = None

    def _look_back(self) -> list[VoiceEvent]:
        """Start listening (under the lock) with the recent audio run through the VAD.

        Speech in progress there becomes the start of the utterance. An utterance that
        already ended there is old (an earlier answer, an echo): it is dropped, and
        listening starts afresh from the last :data:`LEAD_IN` s.
        """
        self._reset_listening()
        self._mode = _LISTEN
        now = time.monotonic()
        recent = list(self._recent)[-int(LOOKBACK * SAMPLE_RATE / BLOCK):]
        events: list[VoiceEvent] = []
        for block in recent:
            events += self._listen_block(block, now)
            if self._result is not None:
                break
        if self._result is not None:
            self._reset_listening()
            self._mode = _LISTEN
            self._buffer = recent[-max(1, int(LEAD_IN * SAMPLE_RATE / BLOCK)):]
            return []
        return events

    # -- the reader thread -----------------------------------------------------------------

    def _run(self) -> None:
        while self._running.is_set():
            try:
                block = self.source.read(0.2)
            except AudioDeviceLost as exc:  # reopened on its own: keep reading, blocks come back with it
                self.error = exc
                with self._cond:
                    self._cond.notify_all()
                continue
            except Exception as exc:  # a device that vanished mid-stream
                log.warning("audio input failed: %s", exc)
                self.error = exc
                with self._cond:
                    self._cond.notify_all()
                return
            if block is None or block.size == 0:
                continue
            if isinstance(self.error, AudioDeviceLost):
                self.error = None
            self.blocks += 1
            if not self.first_block.is_set():
                self.first_block.set()
            if self.filter is not None:
                block = self.filter(block)
                if block.size == 0:
                    continue
            self._level = level(block)
            now = time.monotonic()
            if now - self._last_level_emit >= 0.066:
                self._last_level_emit = now
                self._emit(LevelChanged(self._level))
            events: list[VoiceEvent] = []
            with self._cond:
                self._recent.append(block)
                if self._mode == _PTT:
                    self._buffer.append(block)
                elif self._mode == _LISTEN:
                    events = self._listen_block(block, now)
            for event in events:
                self._emit(event)

    def _listen_block(self, block: Samples, now: float) -> list[VoiceEvent]:
        """VAD bookkeeping for one block (under the lock); events to emit after it."""
        assert self._vad is not None
        self._buffer.append(block)
        events: list[VoiceEvent] = []
        data = np.concatenate([self._pending, block])
        n = data.size // BLOCK
        self._pending = data[n * BLOCK:]
        for i in range(n):
            prob = self._vad(data[i * BLOCK:(i + 1) * BLOCK])
            if not self._in_speech:
                self._voiced = self._voiced + 1 if prob >= self.vad_threshold else 0
                if self._voiced >= 2:
                    self._in_speech = True
                    self._speech_samples = self._voiced * BLOCK
                    self._silence_samples = 0
                    self._last_voiced_at = now
                    events.append(SpeechStarted(now))
                continue
            if prob >= self.vad_threshold - 0.15:  # hysteresis: keep going through soft sounds
                self._speech_samples += BLOCK + self._silence_samples
                self._silence_samples = 0
                self._last_voiced_at = now
            else:
                self._silence_samples += BLOCK
        if not self._in_speech:
            # Keep only the last half second before speech: the lead-in of this utterance.
            keep = max(1, int(LEAD_IN * SAMPLE_RATE / BLOCK))
            if len(self._buffer) > keep:
                del self._buffer[:-keep]
            return events
        total = sum(b.size for b in self._buffer) / SAMPLE_RATE
        reason = None
        if self._silence_samples >= self.vad_silence * SAMPLE_RATE:
            if self._speech_samples < self.min_speech * SAMPLE_RATE:
                # A click or a cough: not an utterance; keep waiting for real speech.
                self._in_speech = False
                self._voiced = 0
                return events
            reason = "vad"
        elif total >= self.max_utterance:
            reason = "max-length"
        if reason is not None:
            audio = np.concatenate(self._buffer).astype(np.float32)
            end = self._last_voiced_at if reason == "vad" else now
            self._result = Utterance(audio, end, reason)
            self._mode = _IDLE
            self._cond.notify_all()
            events.append(SpeechEnded(end, audio.size / SAMPLE_RATE, reason))
        return events



class FileAnswers:
    """A Listener that "hears" prepared utterances, one per question (headless ``--answer``)."""

    def __init__(self, answers: list[Samples]) -> None:
        self._answers = list(answers)

    def listen(self, timeout: float, cancel: threading.Event | None = None) -> Utterance | None:
        """The next prepared answer, or None when there are no more."""
        if not self._answers or (cancel is not None and cancel.is_set()):
            return None
        return Utterance(self._answers.pop(0), time.monotonic(), "file")
