"""Speech out: which engine says a sentence — Piper's neural voice, else pyttsx3.

:class:`Synthesizer` is what a voice session speaks with. For each sentence it picks
the language (the session's, or the script's: Hangul is Korean, kana Japanese, other
Han characters Chinese), and for the language an engine:

- ``engine="auto"`` (the default) and ``"piper"``: Piper when a Piper voice exists for
  the language (``piper_voices[language]``, a ``.onnx`` or a folder holding one; for
  English the bundled en_US-joe-medium); else pyttsx3;
- ``"pyttsx3"``: always pyttsx3 (espeak-ng on Linux, the system voices on Windows and
  macOS; ``voice`` picks one).

A Piper voice that is missing or broken is not fatal: the synthesizer says why once
(a warning naming the file) and speaks that language with pyttsx3.

The rest of speech out lives beside this module: :mod:`~oi_voice.voice.tts_base`
(clips, the protocol, the worker thread), :mod:`~oi_voice.voice.tts_piper` and
:mod:`~oi_voice.voice.tts_pyttsx3` (the engines), :mod:`~oi_voice.voice.playback` (the
speakers) and :mod:`~oi_voice.voice.speech_queue` (sentences in, speech out, in order).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Mapping
from pathlib import Path

from oi_voice.errors import OIVoiceError
from oi_voice.voice.tts_base import Clip, SpeechSynthesizer, VoiceInfo, log, wait_clip
from oi_voice.voice.tts_piper import PiperSynthesizer, bundled_voice, resolve_voice
from oi_voice.voice.tts_pyttsx3 import Pyttsx3Synthesizer

#: The values of ``voice.tts_engine``.
ENGINES = ("auto", "piper", "pyttsx3")


def script_language(text: str) -> str | None:
    """The language a sentence's script says (ko, ja, zh), or None for Latin and the rest."""
    han = False
    for ch in text:
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            return "ko"
        if 0x3040 <= code <= 0x30FF:
            return "ja"
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            han = True
    return "zh" if han else None


def _base(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


class Synthesizer:
    """Speaks each sentence with the best engine there is for its language (see the module).

    ``voice`` is a pyttsx3 voice (id, name or language code) and ``rate`` words per
    minute, for either engine. Engines load in their own threads: :meth:`start` begins
    loading the session language's voice, :meth:`wait_ready` waits for it (warm).
    """

    def __init__(self, voice: str | None = None, rate: int | None = None, *, engine: str = "auto",
                 language: str | None = "en", piper_voices: Mapping[str, str] | None = None,
                 timeout: float = 15.0) -> None:
        if engine not in ENGINES:
            raise OIVoiceError(f"unknown text-to-speech engine {engine!r} (use one of {', '.join(ENGINES)})")
        self.voice = voice
        self.rate = rate
        self.engine = engine
        self.language = _base(language or "en")
        self.piper_voices = {_base(k): str(v) for k, v in (piper_voices or {}).items() if v}
        self.timeout = timeout
        self._engines: dict[str, SpeechSynthesizer] = {}
        self._lock = threading.Lock()
        #: Why a language is not spoken with Piper (language -> reason), for logs and the UI.
        self.fallbacks: dict[str, str] = {}

    # -- choosing ----------------------------------------------------------------------------

    def piper_model(self, language: str) -> Path | None:
        """The Piper voice for ``language``: the configured one, else the bundled one (English).

        Raises OIVoiceError when a configured voice is missing or incomplete.
        """
        spec = self.piper_voices.get(_base(language))
        if spec:
            return resolve_voice(spec)
        return bundled_voice(language)

    def _make(self, language: str) -> SpeechSynthesizer:
        if self.engine != "pyttsx3":
            try:
                model = self.piper_model(language)
            except OIVoiceError as exc:
                self._note(language, str(exc))
                model = None
            if model is not None:
                return PiperSynthesizer(model, self.rate, timeout=self.timeout)
            if language not in self.fallbacks and self.engine == "piper":
                self._note(language, f"no Piper voice for the language {language!r}")
        return self._pyttsx3(language)

    def _pyttsx3(self, language: str) -> Pyttsx3Synthesizer:
        voice = self.voice if language == self.language else (self.voice or language)
        return Pyttsx3Synthesizer(voice, self.rate, timeout=self.timeout)

    def _note(self, language: str, reason: str) -> None:
        self.fallbacks[language] = reason
        log.warning("%s; speaking %s with the system voice (pyttsx3) instead", reason, language)

    def _pick(self, language: str) -> SpeechSynthesizer:
        with self._lock:
            engine = self._engines.get(language)
            if engine is None:
                engine = self._engines[language] = self._make(language)
                engine.start()
            return engine

    def engine_for(self, language: str | None = None, timeout: float | None = None) -> SpeechSynthesizer:
        """The loaded engine that speaks ``language`` (default: the session's); waits for Piper to load.

        A Piper voice that cannot be loaded is replaced by pyttsx3 (with a warning).
        """
        language = _base(language or self.language)
        engine = self._pick(language)
        if isinstance(engine, PiperSynthesizer):
            try:
                engine.wait_ready(self.timeout if timeout is None else timeout)
            except OIVoiceError as exc:
                with self._lock:
                    if self._engines.get(language) is engine:
                        self._note(language, str(exc))
                        self._engines[language] = self._pyttsx3(language)
                        self._engines[language].start()
                    engine = self._engines[language]
        return engine

    def engine_name(self, language: str | None = None) -> str:
        """"piper" or "pyttsx3": what speaks ``language`` (loading it if needed)."""
        return "piper" if isinstance(self.engine_for(language), PiperSynthesizer) else "pyttsx3"

    # -- the SpeechSynthesizer protocol --------------------------------------------------------

    def start(self) -> None:
        """Start loading the session language's engine (in its own thread)."""
        self._pick(self.language)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Block until the session language's engine is loaded and warm.

        Raises OIVoiceError only when no engine at all can speak (pyttsx3 failed too).
        """
        engine = self.engine_for(self.language, timeout)
        engine.wait_ready(timeout)
        if isinstance(engine, PiperSynthesizer):
            log.info("speaking %s with the Piper voice %s", self.language, engine.model)
        else:
            log.info("speaking %s with the system voice (pyttsx3)", self.language)

    def submit(self, text: str) -> concurrent.futures.Future[Clip]:
        """Queue ``text`` on its language's engine; the future resolves to its Clip."""
        return self.engine_for(script_language(text) or self.language).submit(text)

    def synthesize(self, text: str) -> Clip:
        """Synthesize and wait (not from the engine loop or a UI thread)."""
        return wait_clip(self.submit(text), self.timeout)

    def voices(self) -> list[VoiceInfo]:
        """The voices of the engines loaded so far."""
        with self._lock:
            engines = list(self._engines.values())
        return [v for engine in engines for v in engine.voices()]

    def close(self) -> None:
        """Nothing to release: the engines' workers live as long as the process."""
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.close()
