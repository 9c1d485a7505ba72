"""pyttsx3 (espeak-ng on Linux, SAPI on Windows, NSSpeech on macOS) on its own thread.

:class:`Pyttsx3Synthesizer` hands sentences to the one pyttsx3 worker thread of the
process, which creates and runs the engine (pyttsx3 caches one engine per driver, and
espeak is a process-wide library). Each sentence is written to a WAV with
``save_to_file`` and is complete when its ``finished-utterance`` arrives (espeak sends
it from its own thread, possibly after ``runAndWait`` returned). The voice and rate are
set once, before the first sentence: changing them later garbles espeak's output
(measured), so they hold for the life of the process. pyttsx3's own ``say()`` playback
(``aplay`` through ``os.system``) is never used: it blocks and cannot be stopped.

It is the fallback voice when Piper or a Piper voice for the language is missing, and
the way to the system voices on Windows and macOS.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from oi_voice.errors import OIVoiceError
from oi_voice.voice.audio import load_audio_file
from oi_voice.voice.tts_base import TTS_RATE, Clip, Job, SynthesisWorker, VoiceInfo, WorkerSynthesizer, log


class Pyttsx3Worker(SynthesisWorker):
    """The one thread that owns pyttsx3's engine, for the whole process.

    pyttsx3 keeps one engine per driver per process, and espeak itself is a process-wide
    library with one synthesis callback: two threads driving it would steal each other's
    audio. So every Pyttsx3Synthesizer hands its sentences (with its own voice and rate)
    to this worker, which is started once and lives as long as the process.
    """

    _instance: Pyttsx3Worker | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
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
        self.start()

    @classmethod
    def get(cls) -> Pyttsx3Worker:
        """The process's pyttsx3 worker, started on first use."""
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

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

    def make_engine(self) -> Any:
        """pyttsx3's engine, with the finished-utterance notification connected."""
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

    def _apply(self, engine: Any, job: Job) -> None:
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

    def render(self, engine: Any, job: Job) -> Clip:
        """One sentence through a temporary WAV."""
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


class Pyttsx3Synthesizer(WorkerSynthesizer):
    """Text to speech with pyttsx3, off the caller's thread.

    ``voice`` is a voice id, a name, or a language code ("en", "en-gb"); ``rate`` is in
    words per minute (pyttsx3's default is 200). Every Pyttsx3Synthesizer of the process
    shares one worker thread that owns the engine (see :class:`Pyttsx3Worker`).
    """

    engine_name = "pyttsx3"

    def _get_worker(self) -> Pyttsx3Worker:
        return Pyttsx3Worker.get()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the engine exists; warns when no voice matches ``voice``."""
        super().wait_ready(timeout)
        if self.voice and self.match_voice(self.voice) is None:
            log.warning("no text-to-speech voice matches %r; using the default", self.voice)

    def match_voice(self, wanted: str) -> VoiceInfo | None:
        """The voice ``wanted`` would choose, if any (after ``wait_ready``)."""
        worker = self._worker
        return worker.match_voice(wanted) if isinstance(worker, Pyttsx3Worker) else None


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
