"""Voice for oi_voice: speech in, speech out, spoken confirmation, barge-in. No Qt.

The pieces, each usable alone:

- :mod:`~oi_voice.voice.capture`: microphones and other audio sources, push-to-talk
  with ~1 s of pre-roll, silero VAD end-of-speech, a level for meters, device listing;
- :mod:`~oi_voice.voice.stt`: faster-whisper on a worker thread (tiny.en packaged);
- :mod:`~oi_voice.voice.tts`: the synthesizer (Piper's neural voice, else pyttsx3), each engine
  on a worker thread (:mod:`~oi_voice.voice.tts_piper`, :mod:`~oi_voice.voice.tts_pyttsx3`);
- :mod:`~oi_voice.voice.playback`: a cuttable sounddevice speaker, a WAV-file speaker;
- :mod:`~oi_voice.voice.speech_queue`: streamed sentences -> synthesis -> playback, in order;
- :mod:`~oi_voice.voice.sentences` and :mod:`~oi_voice.voice.speech_text`: what of a
  streaming markdown reply gets said, and when;
- :mod:`~oi_voice.voice.confirm`: "Run two lines of shell that delete files?" -> yes/no;
- :mod:`~oi_voice.voice.pipeline`: :class:`VoiceSession`, all of it around an Interpreter;
- :mod:`~oi_voice.voice.events`: the typed events a session emits.

``oi-voice --headless`` is a front end: :mod:`oi_voice.frontend.headless`.

Names are loaded on first use: ``import oi_voice.voice`` imports neither numpy,
sounddevice nor faster-whisper.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Capture",
    "Latency",
    "Microphone",
    "SoundDeviceSpeaker",
    "SpeechQueue",
    "SpeechToText",
    "Synthesizer",
    "TurnResult",
    "VoiceConfig",
    "VoiceSession",
    "WavFileSpeaker",
    "WavSource",
    "classify",
    "list_devices",
]

_WHERE = {
    "Capture": "capture", "Microphone": "capture", "WavSource": "capture", "list_devices": "capture",
    "SpeechToText": "stt", "Synthesizer": "tts", "SpeechQueue": "speech_queue",
    "SoundDeviceSpeaker": "playback", "WavFileSpeaker": "playback",
    "VoiceSession": "pipeline", "VoiceConfig": "pipeline", "TurnResult": "pipeline",
    "Latency": "events", "classify": "confirm",
}

if TYPE_CHECKING:
    from oi_voice.voice.capture import Capture, Microphone, WavSource, list_devices
    from oi_voice.voice.confirm import classify
    from oi_voice.voice.events import Latency
    from oi_voice.voice.pipeline import TurnResult, VoiceConfig, VoiceSession
    from oi_voice.voice.playback import SoundDeviceSpeaker, WavFileSpeaker
    from oi_voice.voice.speech_queue import SpeechQueue
    from oi_voice.voice.stt import SpeechToText
    from oi_voice.voice.tts import Synthesizer


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'oi_voice.voice' has no attribute {name!r}")
    return getattr(importlib.import_module(f"oi_voice.voice.{module}"), name)
