"""Speech out: which engine says a sentence — Piper's neural voice, else pyttsx3.

:class:`Synthesizer` is what a voice session speaks with. For each sentence it picks
the language (by script: Hangul is Korean, Han characters Chinese, Latin letters English
in a Chinese or Korean session; else the session's) and the voice for it, by one rule,
:class:`~oi_voice.voice.lang.VoicePicker`'s:

- ``engine="auto"`` (the default) and ``"piper"``: Piper when a Piper voice exists for
  the language (``piper_voices[language]``, a ``.onnx`` or a folder holding one; for
  English the bundled en_US-joe-medium); else the system voice for the language through
  pyttsx3 (Huihui, Ting-Ting, Heami, Yuna ...), else the default voice — and where that
  cannot speak the language (espeak-ng and Chinese or Korean), :attr:`Synthesizer.on_notice`
  is told so once, in words for the user;
- ``"pyttsx3"``: always pyttsx3 (espeak-ng on Linux, the system voices on Windows and
  macOS; ``voice`` picks one for the session's language).

A Piper voice that is missing or broken is not fatal: the synthesizer says why once
(a warning naming the file) and speaks that language with pyttsx3.

The rest of speech out lives beside this module: :mod:`~oi_voice.voice.tts_base`
(clips, the protocol, the worker thread), :mod:`~oi_voice.voice.tts_piper` and
:mod:`~oi_voice.voice.tts_pyttsx3` (the engines), :mod:`~oi_voice.voice.playback` (the
speakers) and :mod:`~oi_voice.voice.speech_queue` (sentences in, speech out, in order).
"""

from __future__ import annotations

import concurrent.futures
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from oi_voice.errors import OIVoiceError
from oi_voice.voice.lang import VoiceChoice, VoicePicker
from oi_voice.voice.tts_base import Clip, SpeechSynthesizer, VoiceInfo, log, wait_clip
from oi_voice.voice.tts_piper import PiperSynthesizer, bundled_voice, resolve_voice
from oi_voice.voice.tts_pyttsx3 import Pyttsx3Synthesizer

#: The values of ``voice.tts_engine``.
ENGINES = ("auto", "piper", "pyttsx3")


#: pyttsx3's driver on this platform (VoicePicker knows which drivers speak Chinese and Korean well).
PYTTSX3_DRIVER = {"win32": "sapi5", "darwin": "nsss"}.get(sys.platform, "espeak")


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
        #: Called (once per language, on the speaking thread) with words for the user when no
        #: good voice for a sentence's language is installed; the session turns it into an event.
        self.on_notice: Callable[[str], None] | None = None
        #: The one rule for which voice says what.
        self.picker = VoicePicker(self._system_voices, engine=PYTTSX3_DRIVER, default=self.language,
                                  piper_for=self._configured_piper)

    # -- choosing ----------------------------------------------------------------------------

    def piper_model(self, language: str) -> Path | None:
        """The Piper voice for ``language``: the configured one, else the bundled one (English).

        Raises OIVoiceError when a configured voice is missing or incomplete.
        """
        spec = self.piper_voices.get(_base(language))
        if spec:
            return resolve_voice(spec)
        return bundled_voice(language)

    def _configured_piper(self, language: str) -> Path | None:
        """The picker's Piper voice for ``language``: none with engine pyttsx3; a broken one is noted."""
        if self.engine == "pyttsx3":
            return None
        try:
            model = self.piper_model(language)
        except OIVoiceError as exc:
            self._note(language, str(exc))
            return None
        if model is None and language not in self.fallbacks and self.engine == "piper":
            self._note(language, f"no Piper voice for the language {language!r}")
        return model

    def _system_voices(self) -> list[VoiceInfo]:
        system = Pyttsx3Synthesizer(timeout=self.timeout)
        try:
            system.wait_ready(self.timeout)
        except OIVoiceError as exc:
            log.warning("the system voices could not be listed: %s", exc)
            return []
        return system.voices()

    def _make(self, language: str) -> SpeechSynthesizer:
        choice = self.picker.choice(language)
        if choice.kind == "piper":
            return PiperSynthesizer(Path(choice.voice), self.rate, timeout=self.timeout)
        return self._pyttsx3(language, choice)

    def _pyttsx3(self, language: str, choice: VoiceChoice) -> Pyttsx3Synthesizer:
        if choice.kind == "system":
            voice: str | None = choice.voice
        else:  # the user's voice for the session's language; for another one, pyttsx3's voice for it
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
                        self._engines[language] = self._pyttsx3(language, self.picker.without_piper(language))
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
        """Queue ``text`` on its language's engine; the future resolves to its Clip.

        The first sentence of a language no good voice speaks calls :attr:`on_notice` first.
        """
        language, _choice, notice = self.picker.pick(text)
        if notice is not None:
            log.warning("%s", notice)
            if self.on_notice is not None:
                self.on_notice(notice)
        return self.engine_for(language).submit(text)

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
