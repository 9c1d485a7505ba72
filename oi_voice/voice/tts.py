"""Speech out: pyttsx3 on its own thread, played through a sounddevice stream that can be cut.

- :class:`Synthesizer` hands sentences to the one TTS worker thread of the process,
  which creates and runs the pyttsx3 engine (pyttsx3 caches one engine per driver, and
  espeak is a process-wide library). Each sentence is written to a WAV with
  ``save_to_file`` and is complete when its ``finished-utterance`` arrives (espeak sends
  it from its own thread, possibly after ``runAndWait`` returned). The voice and rate are
  set once, before the first sentence: changing them later garbles espeak's output
  (measured), so they hold for the life of the process. pyttsx3's own ``say()`` playback
  (``aplay`` through ``os.system``) is never used: it blocks and cannot be stopped.
- A :class:`Speaker` plays clips: :class:`SoundDeviceSpeaker` through an OutputStream
  whose ``stop()`` drops everything at once; :class:`WavFileSpeaker` writes a file.
- :class:`SpeechQueue` ties them: sentences go in as they stream, are synthesized ahead
  and played in order; ``stop()`` cuts the sound and makes every sentence queued before
  it stale, so none of them plays later.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import itertools
import logging
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oi_voice.errors import AudioDeviceError, OIVoiceError
from oi_voice.voice.audio import Samples, load_audio_file, resample, write_wav
from oi_voice.voice.capture import resolve_device, sounddevice
from oi_voice.voice.events import SpeakingStarted, VoiceEvent

log = logging.getLogger("oi_voice.voice")

#: espeak-ng's output rate, and so the default rate of speakers.
TTS_RATE = 22050

@dataclass(frozen=True, slots=True)
class Clip:
    """Synthesized speech of one sentence."""

    text: str
    samples: Samples
    rate: int

    @property
    def seconds(self) -> float:
        """Length of the clip."""
        return self.samples.size / self.rate


# --- synthesis -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """A voice the synthesizer offers."""

    id: str
    name: str
    languages: tuple[str, ...]


@dataclass
class _Job:
    text: str
    voice: str | None
    rate: int | None
    timeout: float
    future: concurrent.futures.Future[Clip]


class _EngineWorker:
    """The one thread that owns pyttsx3's engine, for the whole process.

    pyttsx3 keeps one engine per driver per process, and espeak itself is a process-wide
    library with one synthesis callback: two threads driving it would steal each other's
    audio. So every Synthesizer hands its sentences (with its own voice and rate) to
    this worker, which is started once and lives as long as the process.
    """

    _instance: _EngineWorker | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self.ready = threading.Event()
        self.error: OIVoiceError | None = None
        self.voices: list[VoiceInfo] = []
        self._dir = Path(tempfile.mkdtemp(prefix="oi-voice-tts-"))
        atexit.register(shutil.rmtree, self._dir, True)  # sentences are deleted as read; this is the folder
        self._names = itertools.count(1)
        self._defaults: tuple[Any, int] = (None, 200)
        self._applied: tuple[Any, int] | None = None
        self._warned: set[tuple[Any, int]] = set()
        # Counted finished-utterance notifications: pyttsx3 does not reliably name the
        # utterance a notification is about, and espeak sends it from its own thread,
        # sometimes after runAndWait returned. Syntheses run one at a time, so the
        # n-th notification belongs to the n-th synthesis.
        self._cond = threading.Condition()
        self._finished = 0
        self._issued = 0
        thread = threading.Thread(target=self._main, name="oi-voice-tts", daemon=True)
        thread.start()

    @classmethod
    def get(cls) -> _EngineWorker:
        """The process's TTS worker, started on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def submit(self, job: _Job) -> None:
        """Queue a sentence."""
        self._jobs.put(job)

    def match_voice(self, wanted: str) -> VoiceInfo | None:
        """The voice ``wanted`` names: an id, a name, a language code, or part of a name."""
        w = wanted.strip().lower()
        tests: tuple[Callable[[VoiceInfo], bool], ...] = (
            lambda v: v.id.lower() == w, lambda v: v.name.lower() == w,
            lambda v: any(lang.lower() == w for lang in v.languages),
            lambda v: v.id.lower().endswith("/" + w), lambda v: w in v.name.lower())
        for test in tests:
            for v in self.voices:
                if test(v):
                    return v
        return None

    def _main(self) -> None:
        try:
            engine = self._make_engine()
        except OIVoiceError as exc:
            self.error = exc
            log.warning("%s", exc)
            engine = None
        self.ready.set()
        while True:
            job = self._jobs.get()
            if not job.future.set_running_or_notify_cancel():
                continue
            if engine is None:
                job.future.set_exception(self.error or OIVoiceError("no speech synthesizer"))
                continue
            try:
                job.future.set_result(self._render(engine, job))
            except Exception as exc:
                job.future.set_exception(exc)

    def _make_engine(self) -> Any:
        try:
            import pyttsx3
        except ImportError as exc:
            raise OIVoiceError("speech output needs pyttsx3 (pip install 'oi-voice[voice]')") from exc
        _quiet_pyttsx3()
        try:
            engine = pyttsx3.init()
        except Exception as exc:  # no espeak library, no SAPI ...
            raise OIVoiceError(f"the speech synthesizer could not start: {exc}") from exc
        engine.connect("finished-utterance", self._notify)
        try:
            self.voices = [VoiceInfo(str(v.id), str(v.name), tuple(str(x) for x in (v.languages or [])))
                           for v in engine.getProperty("voices")]
        except Exception:  # some drivers cannot list voices; choosing one is then impossible
            self.voices = []
        self._defaults = (engine.getProperty("voice"), int(engine.getProperty("rate") or 200))
        return engine

    def _notify(self, name: Any = None, completed: bool = True) -> None:
        with self._cond:
            self._finished += 1
            self._cond.notify_all()

    def _run_once(self, engine: Any, text: str, path: Path, timeout: float) -> bool:
        """Write ``text`` to ``path``; True once the file is complete."""
        path.unlink(missing_ok=True)
        with self._cond:
            self._issued += 1
            target = self._issued
        # One save_to_file per runAndWait: pyttsx3 2.99 only writes the last one queued.
        engine.save_to_file(text, str(path))
        engine.runAndWait()
        with self._cond:
            if not self._cond.wait_for(lambda: self._finished >= target, timeout):
                self._finished = self._issued  # a notification went missing: resynchronise
                return False
        return path.exists()

    def _apply(self, engine: Any, job: _Job) -> None:
        """Give the engine the first job's voice and rate, before anything was synthesized.

        Measured with pyttsx3 2.99 + espeak-ng: changing the voice or rate after the first
        synthesis makes later files come out empty or at the old rate, at random; set
        before the first one, they hold. So they are fixed for the life of the process.
        """
        voice, rate = self._defaults
        chosen = self.match_voice(job.voice) if job.voice else None
        wanted = (chosen.id if chosen is not None else voice, int(job.rate) if job.rate else rate)
        if self._applied is None:
            if wanted[0] != voice:
                engine.setProperty("voice", wanted[0])
            if wanted[1] != rate:
                engine.setProperty("rate", wanted[1])
            self._applied = wanted
        elif wanted != self._applied and wanted not in self._warned:
            self._warned.add(wanted)
            log.warning("text-to-speech voice %s at %d words per minute takes effect after a restart "
                        "(the speech engine keeps its first settings)", wanted[0], wanted[1])

    def _render(self, engine: Any, job: _Job) -> Clip:
        self._apply(engine, job)
        path = self._dir / f"s{next(self._names)}.wav"
        try:
            if not self._run_once(engine, job.text, path, job.timeout):
                raise OIVoiceError(f"speech synthesis did not finish within {job.timeout:.0f} s")
            try:
                samples = load_audio_file(path, rate=TTS_RATE)
            except OIVoiceError:
                samples = np.zeros(0, dtype=np.float32)  # nothing speakable in the text ("...")
        finally:
            path.unlink(missing_ok=True)
        return Clip(job.text, samples, TTS_RATE)


class Synthesizer:
    """Text to speech with pyttsx3 (espeak-ng on Linux), off the caller's thread.

    ``voice`` is a voice id, a name, or a language code ("en", "en-gb"); ``rate`` is in
    words per minute (pyttsx3's default is 200). Every Synthesizer of the process shares
    one worker thread that owns the engine (see ``_EngineWorker``).
    """

    def __init__(self, voice: str | None = None, rate: int | None = None, *, timeout: float = 15.0) -> None:
        self.voice = voice
        self.rate = rate
        self.timeout = timeout
        self._worker: _EngineWorker | None = None

    def start(self) -> None:
        """Make sure the worker runs (it creates the engine)."""
        if self._worker is None:
            self._worker = _EngineWorker.get()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the engine exists; raises OIVoiceError if it could not be made."""
        self.start()
        assert self._worker is not None
        if not self._worker.ready.wait(timeout):
            raise OIVoiceError(f"the speech synthesizer did not start within {timeout:.0f} s")
        if self._worker.error is not None:
            raise self._worker.error
        if self.voice and self._worker.match_voice(self.voice) is None:
            log.warning("no text-to-speech voice matches %r; using the default", self.voice)

    def voices(self) -> list[VoiceInfo]:
        """The voices available (after ``wait_ready``)."""
        return list(self._worker.voices) if self._worker is not None else []

    def match_voice(self, wanted: str) -> VoiceInfo | None:
        """The voice ``wanted`` would choose, if any (after ``wait_ready``)."""
        return self._worker.match_voice(wanted) if self._worker is not None else None

    def submit(self, text: str) -> concurrent.futures.Future[Clip]:
        """Queue ``text``; the future resolves to its Clip."""
        self.start()
        assert self._worker is not None
        future: concurrent.futures.Future[Clip] = concurrent.futures.Future()
        self._worker.submit(_Job(text, self.voice, self.rate, self.timeout, future))
        return future

    def synthesize(self, text: str) -> Clip:
        """Synthesize and wait (not from the engine loop or a UI thread)."""
        future = self.submit(text)
        try:
            return future.result(self.timeout * 2 + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise OIVoiceError("speech synthesis timed out") from None

    def close(self) -> None:
        """Nothing to release: the shared worker lives as long as the process."""


def _quiet_pyttsx3() -> None:
    """pyttsx3 2.99's espeak driver prints "Audio saved to ..." for every file.

    That would land in the middle of the headless runner's output: shadow ``print`` in
    that one module of theirs (not ours, not builtins).
    """
    try:
        from pyttsx3.drivers import espeak
    except Exception:  # other platforms use other drivers, which do not print
        return
    espeak.print = lambda *args, **kwargs: None


# --- playback ------------------------------------------------------------------------------


class Playback:
    """One clip handed to a speaker: when it started, whether it finished or was cut."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.started = threading.Event()
        self.started_at: float | None = None
        self.done = threading.Event()
        self.cut = False

    def mark_started(self) -> None:
        """The first samples went to the device."""
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.started.set()

    def finish(self, cut: bool = False) -> None:
        """Every sample went to the device, or (``cut``) it was stopped."""
        self.cut = self.cut or cut
        self.started.set()
        self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until played or cut; False on timeout."""
        return self.done.wait(timeout)


class Speaker(Protocol):
    """Where speech goes."""

    #: Seconds between a sample leaving ``play`` and it being heard.
    latency: float

    def play(self, clip: Clip) -> Playback:
        """Queue ``clip`` after whatever is playing; returns at once."""

    def stop(self) -> None:
        """Cut all sound now and drop everything queued."""

    def pause(self) -> None:
        """Nothing is queued: release the device until the next ``play``."""

    def close(self) -> None:
        """Release the device for good."""


class SoundDeviceSpeaker:
    """A sounddevice OutputStream that plays queued clips and can be cut at once.

    The stream keeps running between sentences (silence), so a sentence starts without
    reopening the device; ``stop()`` aborts the stream, which drops what is already
    buffered, and the next ``play`` starts it again.
    """

    def __init__(self, device: str | int | None = None, *, rate: int = TTS_RATE) -> None:
        self.device = device
        self.rate = rate
        self.latency = 0.0
        self._stream: Any = None
        self._lock = threading.Lock()  # the clip queue (shared with the audio callback)
        self._ctl = threading.Lock()  # opening, starting and aborting the stream
        self._queue: collections.deque[list[Any]] = collections.deque()  # [playback, samples, position]

    def open(self) -> None:
        """Open the output stream now (AudioDeviceError when there is no usable speaker)."""
        with self._ctl:
            self._open_locked()

    def _open_locked(self) -> None:
        if self._stream is not None:
            return
        sd = sounddevice()
        index = resolve_device(self.device, "output")
        try:
            # 100 ms of buffer: "low" underruns when the machine is busy, and a cut does not
            # wait for the buffer (abort() drops it).
            self._stream = sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32", device=index,
                                           callback=self._callback, latency=0.1)
        except sd.PortAudioError as exc:
            raise AudioDeviceError(f"the speaker could not be opened (missing or busy): {exc}") from exc
        self.latency = float(self._stream.latency)

    def play(self, clip: Clip) -> Playback:
        """Queue ``clip`` and make sure the stream runs."""
        playback = Playback(clip)
        samples = clip.samples if clip.rate == self.rate else resample(clip.samples, clip.rate, self.rate)
        if samples.size == 0:
            playback.finish()
            return playback
        with self._ctl:
            self._open_locked()
            with self._lock:
                self._queue.append([playback, samples.astype(np.float32), 0])
            if not self._stream.active:
                try:
                    self._stream.start()
                except Exception as exc:
                    self._drop_all()
                    raise AudioDeviceError(f"the speaker could not be started: {exc}") from exc
        return playback

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy queued samples, nothing else.
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                entry = self._queue[0]
                playback, samples, pos = entry
                if pos == 0:
                    playback.mark_started()
                n = min(frames - filled, samples.size - pos)
                out[filled:filled + n] = samples[pos:pos + n]
                filled += n
                entry[2] = pos + n
                if entry[2] >= samples.size:
                    self._queue.popleft()
                    playback.finish()
        if filled < frames:
            out[filled:] = 0.0

    def stop(self) -> None:
        """Cut the sound now: drop queued clips and what the device has buffered."""
        self._drop_all()
        with self._ctl:
            if self._stream is not None and self._stream.active:
                try:
                    self._stream.abort()  # unlike stop(), does not play out the buffers
                except Exception:
                    log.debug("aborting the output stream failed", exc_info=True)

    def _drop_all(self) -> None:
        with self._lock:
            entries = list(self._queue)
            self._queue.clear()
        for playback, _samples, _pos in entries:
            playback.finish(cut=True)

    def pause(self) -> None:
        """Stop the (silent) stream when nothing is queued; the next play restarts it."""
        with self._ctl:
            with self._lock:
                busy = bool(self._queue)
            if not busy and self._stream is not None and self._stream.active:
                try:
                    self._stream.stop()
                except Exception:
                    log.debug("stopping the output stream failed", exc_info=True)

    def close(self) -> None:
        """Cut and close the stream."""
        self.stop()
        with self._ctl:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:
                log.debug("closing the output stream failed", exc_info=True)


class WavFileSpeaker:
    """A speaker that writes everything it is given to a WAV file (on ``close``).

    The headless runner's ``--output FILE.wav``, and a recording speaker for tests.
    Clips are "played" as soon as they are queued.
    """

    def __init__(self, path: str | Path | None = None, *, rate: int = TTS_RATE) -> None:
        self.path = Path(path) if path is not None else None
        self.rate = rate
        self.latency = 0.0
        self._chunks: list[Samples] = []
        self.played: list[Playback] = []
        self._lock = threading.Lock()

    def play(self, clip: Clip) -> Playback:
        """Append the clip."""
        playback = Playback(clip)
        samples = clip.samples if clip.rate == self.rate else resample(clip.samples, clip.rate, self.rate)
        with self._lock:
            self._chunks.append(samples)
            self.played.append(playback)
        playback.mark_started()
        playback.finish()
        return playback

    @property
    def samples(self) -> Samples:
        """Everything played so far."""
        with self._lock:
            return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)

    def samples_at(self, rate: int) -> Samples:
        """Everything played so far, resampled to ``rate`` (16000 for speech recognition)."""
        return resample(self.samples, self.rate, rate)

    def stop(self) -> None:
        """Nothing is playing in real time: nothing to cut."""

    def pause(self) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Write the file."""
        if self.path is not None:
            write_wav(self.path, self.samples, self.rate)


# --- the queue of sentences ----------------------------------------------------------------


@dataclass
class _Item:
    epoch: int
    text: str
    future: concurrent.futures.Future[Clip]
    tag: Hashable | None = None


@dataclass
class SpeechQueue:
    """Sentences in, speech out, in order; ``stop()`` cuts and makes the queue stale.

    Every sentence carries the epoch it was queued in; ``stop()`` starts a new epoch, so
    sentences of an interrupted turn are dropped wherever they are (waiting for
    synthesis, synthesized, queued on the speaker).
    """

    synthesizer: Synthesizer
    speaker: Speaker
    emit: Callable[[VoiceEvent], None] = lambda _e: None
    #: Release the speaker after this many idle seconds.
    idle_release: float = 3.0
    _epoch: int = 0
    _items: queue.Queue[_Item | None] = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _outstanding: int = 0
    _current: Playback | None = None
    _first_audio: dict[Hashable, float] = field(default_factory=dict)
    _thread: threading.Thread | None = None
    #: Sentences that started playing: (epoch, tag, text, monotonic start), for tests and logs.
    history: list[tuple[int, Hashable | None, str, float]] = field(default_factory=list)

    def start(self) -> None:
        """Start the synthesizer and the playback thread."""
        self.synthesizer.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="oi-voice-playback", daemon=True)
            self._thread.start()

    @property
    def epoch(self) -> int:
        """The current epoch (a turn remembers it to queue its sentences)."""
        return self._epoch

    def say(self, text: str, epoch: int | None = None, tag: Hashable | None = None) -> bool:
        """Queue one sentence; False if ``epoch`` is stale (the turn was interrupted).

        ``tag`` (a turn id) groups sentences for :meth:`first_audio`.
        """
        text = text.strip()
        if not text:
            return False
        with self._lock:
            if epoch is not None and epoch != self._epoch:
                return False
            current = self._epoch
        with self._idle:
            self._outstanding += 1
        self._items.put(_Item(current, text, self.synthesizer.submit(text), tag))
        return True

    def stop(self) -> int:
        """Cut speech now; every sentence queued before is dropped. Returns the new epoch."""
        with self._lock:
            self._epoch += 1
            epoch = self._epoch
            current = self._current
            self.speaker.stop()
        if current is not None:
            current.finish(cut=True)
        # Drop what waits, so the synthesizer does not spend time on sentences never said.
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                break
            if item is None:  # close() asked the thread to end: keep asking
                self._items.put(None)
                break
            item.future.cancel()
            self._done_one()
        return epoch

    def first_audio(self, tag: Hashable) -> float | None:
        """When the first sentence queued with ``tag`` started playing (monotonic), if it did."""
        return self._first_audio.get(tag)

    @property
    def speaking(self) -> bool:
        """Whether anything is queued or playing."""
        return self._outstanding > 0

    def wait_idle_quick(self, timeout: float) -> bool:
        """Wait until everything queued went to the device (or was cut); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._outstanding > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def wait_latency(self) -> None:
        """Wait out the device's buffer: the last samples are heard about this much later."""
        time.sleep(min(max(self.speaker.latency, 0.0), 0.5))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued has been heard (or was cut); False on timeout."""
        if not self.wait_idle_quick(timeout):
            return False
        self.wait_latency()
        return True

    def speak_and_wait(self, text: str, epoch: int | None = None, timeout: float = 30.0) -> bool:
        """Say ``text`` (after what is queued) and wait until it was heard; False if cut or stale."""
        if not self.say(text, epoch):
            return False
        started = self._epoch
        return self.wait_idle(timeout) and self._epoch == started

    def close(self) -> None:
        """Cut speech and stop the threads."""
        self.stop()
        if self._thread is not None:
            self._items.put(None)
            self._thread.join(timeout=5)
            self._thread = None
        self.synthesizer.close()
        self.speaker.close()

    def _done_one(self) -> None:
        with self._idle:
            self._outstanding -= 1
            if self._outstanding <= 0:
                self._outstanding = 0
                self._idle.notify_all()

    def _run(self) -> None:
        while True:
            try:
                item = self._items.get(timeout=self.idle_release)
            except queue.Empty:
                self.speaker.pause()
                continue
            if item is None:
                return
            try:
                self._play(item)
            except Exception as exc:  # a failed sentence must not end speech for good
                log.warning("could not speak %r: %s", item.text[:60], exc)
            finally:
                self._done_one()

    def _play(self, item: _Item) -> None:
        if item.epoch != self._epoch:
            item.future.cancel()
            return
        clip = item.future.result(timeout=self.synthesizer.timeout + 5)
        with self._lock:
            # Checked under the lock stop() takes: a stale sentence never reaches the speaker.
            if item.epoch != self._epoch:
                return
            playback = self.speaker.play(clip)
            self._current = playback
        if playback.started.wait(5.0) and playback.started_at is not None and not playback.cut:
            if item.tag is not None:
                self._first_audio.setdefault(item.tag, playback.started_at)
            self.history.append((item.epoch, item.tag, item.text, playback.started_at))
            self.emit(SpeakingStarted(item.text, playback.started_at))
        # Bounded: a stalled device must not hang the queue.
        playback.wait(clip.seconds + 5.0)
        with self._lock:
            if self._current is playback:
                self._current = None


def default_speaker(output: str | int | None = None) -> Speaker:
    """A sounddevice speaker for ``output`` (device name or index; None: the default)."""
    speaker = SoundDeviceSpeaker(output)
    speaker.open()
    return speaker


__all__ = [
    "TTS_RATE",
    "Clip",
    "Playback",
    "SoundDeviceSpeaker",
    "Speaker",
    "SpeechQueue",
    "Synthesizer",
    "VoiceInfo",
    "WavFileSpeaker",
    "default_speaker",
]

