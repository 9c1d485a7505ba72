"""What every speech synthesizer shares: clips, voices, the protocol, and the worker thread.

An engine (pyttsx3, Piper) is created and driven by one long-lived worker thread that
owns it: sentences are queued as jobs and each job's future resolves to a :class:`Clip`.
:class:`SynthesisWorker` is that thread; an engine module subclasses it with how to make
the engine (``make_engine``, run once in the thread) and how to render one job
(``render``). :class:`WorkerSynthesizer` is the caller's side of it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from oi_voice.errors import OIVoiceError
from oi_voice.voice.audio import Samples

log = logging.getLogger("oi_voice.voice")

#: espeak-ng's output rate (and Piper's medium voices'), and so the default rate of speakers.
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


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """A voice a synthesizer offers."""

    id: str
    name: str
    languages: tuple[str, ...]


class SpeechSynthesizer(Protocol):
    """Text to speech off the caller's thread; what the sentence queue speaks with."""

    #: Seconds one sentence may take to synthesize.
    timeout: float

    def start(self) -> None:
        """Start the worker (it makes the engine in the background)."""

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the engine is loaded and warm; OIVoiceError if it cannot be."""

    def submit(self, text: str) -> concurrent.futures.Future[Clip]:
        """Queue ``text``; the future resolves to its Clip."""

    def synthesize(self, text: str) -> Clip:
        """Synthesize and wait (not from the engine loop or a UI thread)."""

    def voices(self) -> list[VoiceInfo]:
        """The voices this synthesizer offers (after ``wait_ready``)."""

    def close(self) -> None:
        """Release what this synthesizer holds."""


@dataclass
class Job:
    """One sentence for a worker, with the settings of the synthesizer that queued it."""

    text: str
    voice: str | None
    rate: int | None
    timeout: float
    future: concurrent.futures.Future[Clip]


class SynthesisWorker:
    """The one thread that creates and drives an engine; jobs are rendered one at a time.

    ``ready`` is set once ``make_engine`` returned or failed (then ``error`` says why,
    and every job fails with it).
    """

    #: The worker thread's name.
    thread_name = "oi-voice-tts"

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job] = queue.Queue()
        self.ready = threading.Event()
        self.error: OIVoiceError | None = None
        self.voices: list[VoiceInfo] = []
        self._thread = threading.Thread(target=self._main, name=self.thread_name, daemon=True)

    def start(self) -> None:
        """Start the thread (subclasses call this at the end of their ``__init__``)."""
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue a sentence."""
        self._jobs.put(job)

    def make_engine(self) -> Any:
        """Create (and warm) the engine, in the worker thread; OIVoiceError when impossible."""
        raise NotImplementedError

    def render(self, engine: Any, job: Job) -> Clip:
        """Synthesize one job with ``engine``, in the worker thread."""
        raise NotImplementedError

    def idle(self) -> None:
        """Called in the worker thread when no sentence waits (after warm-up, after a reply)."""

    def _main(self) -> None:
        try:
            engine = self.make_engine()
        except OIVoiceError as exc:
            self.error = exc
            engine = None
        except Exception as exc:  # a library's own error while loading: translated here
            self.error = OIVoiceError(f"the speech synthesizer could not start: {exc}")
            engine = None
        self.ready.set()
        while True:
            if engine is not None and self._jobs.empty():
                self.idle()
            job = self._jobs.get()
            if not job.future.set_running_or_notify_cancel():
                continue
            if engine is None:
                job.future.set_exception(self.error or OIVoiceError("no speech synthesizer"))
                continue
            try:
                job.future.set_result(self.render(engine, job))
            except Exception as exc:
                job.future.set_exception(exc)


class WorkerSynthesizer:
    """A synthesizer whose sentences go to a :class:`SynthesisWorker` (shared per process).

    Subclasses say which worker (``_get_worker``); ``voice`` and ``rate`` travel with
    each job.
    """

    def __init__(self, voice: str | None = None, rate: int | None = None, *, timeout: float = 15.0) -> None:
        self.voice = voice
        self.rate = rate
        self.timeout = timeout
        self._worker: SynthesisWorker | None = None

    def _get_worker(self) -> SynthesisWorker:
        raise NotImplementedError

    def start(self) -> None:
        """Make sure the worker runs (it creates the engine)."""
        if self._worker is None:
            self._worker = self._get_worker()

    def _ready_worker(self, timeout: float) -> SynthesisWorker:
        self.start()
        assert self._worker is not None
        if not self._worker.ready.wait(timeout):
            raise OIVoiceError(f"the speech synthesizer did not start within {timeout:.0f} s")
        if self._worker.error is not None:
            raise self._worker.error
        return self._worker

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the engine exists; raises OIVoiceError if it could not be made."""
        self._ready_worker(timeout)

    @property
    def failed(self) -> OIVoiceError | None:
        """Why the engine could not be made, once its worker knows (else None)."""
        worker = self._worker
        return worker.error if worker is not None and worker.ready.is_set() else None

    def voices(self) -> list[VoiceInfo]:
        """The voices available (after ``wait_ready``)."""
        return list(self._worker.voices) if self._worker is not None else []

    def submit(self, text: str) -> concurrent.futures.Future[Clip]:
        """Queue ``text``; the future resolves to its Clip."""
        self.start()
        assert self._worker is not None
        future: concurrent.futures.Future[Clip] = concurrent.futures.Future()
        self._worker.submit(Job(text, self.voice, self.rate, self.timeout, future))
        return future

    def synthesize(self, text: str) -> Clip:
        """Synthesize and wait (not from the engine loop or a UI thread)."""
        return wait_clip(self.submit(text), self.timeout)

    def close(self) -> None:
        """Nothing to release: the shared worker lives as long as the process."""


def wait_clip(future: concurrent.futures.Future[Clip], timeout: float) -> Clip:
    """The clip of ``future``; OIVoiceError when synthesis takes far longer than ``timeout``."""
    try:
        return future.result(timeout * 2 + 5)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise OIVoiceError("speech synthesis timed out") from None
