"""Chinese and Korean: real recordings through the packaged multilingual Whisper, the
language settings, the model choice, and the voice choice rules.

The recordings are real human speech from public repositories' test data (see
tests/data/SOURCES.md); transcripts are checked by characters, not exact strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from lang_clips import CLIPS, Clip, cer, has_hangul, traditional_only

from oi_voice.errors import ConfigError
from oi_voice.packaged import sha256_of
from oi_voice.voice.audio import load_audio_file
from oi_voice.voice.lang import (
    VoicePicker,
    chinese_script,
    choose_voice,
    conversation_language,
    phrases,
    piper_voice_for,
    resolve_language,
    system_language,
    voice_language,
)
from oi_voice.voice.stt import BASE_MODEL_FILE, SpeechToText, model_for, packaged_multilingual, to_script

ZH = [c for c in CLIPS if c.language == "zh"]
KO = [c for c in CLIPS if c.language == "ko"]
#: The packaged base is small: a character error rate under this is a transcript a person would accept.
MAX_CER = 0.35


def _recognizer(language: str, **kw: object) -> Iterator[SpeechToText]:
    recognizer = SpeechToText(None, language, cpu_threads=2, **kw)  # type: ignore[arg-type]
    recognizer.wait_ready(180)
    yield recognizer
    recognizer.close()


@pytest.fixture(scope="module")
def zh_stt() -> Iterator[SpeechToText]:
    yield from _recognizer("zh", script="simplified")


@pytest.fixture(scope="module")
def ko_stt() -> Iterator[SpeechToText]:
    yield from _recognizer("ko")


@pytest.mark.slow
@pytest.mark.parametrize("clip", ZH, ids=lambda c: c.name)
def test_real_mandarin_is_transcribed_in_simplified_characters(zh_stt: SpeechToText, clip: Clip) -> None:
    result = zh_stt.transcribe(load_audio_file(clip.path), timeout=120)
    assert result.language == "zh"
    assert cer(clip.reference, result.text) <= MAX_CER, result.text
    assert sum(c in result.text for c in clip.key) >= 0.7 * len(clip.key), result.text
    assert traditional_only(result.text) == "", result.text
    assert " " not in result.text.strip()  # Chinese segments are joined without spaces


@pytest.mark.slow
@pytest.mark.parametrize("clip", KO, ids=lambda c: c.name)
def test_real_korean_is_transcribed(ko_stt: SpeechToText, clip: Clip) -> None:
    result = ko_stt.transcribe(load_audio_file(clip.path), timeout=120)
    assert result.language == "ko" and has_hangul(result.text)
    assert cer(clip.reference, result.text) <= MAX_CER, result.text


@pytest.mark.slow
def test_traditional_characters_for_a_taiwan_locale(zh_stt: SpeechToText) -> None:
    zh_stt.script = "traditional"
    try:
        text = zh_stt.transcribe(load_audio_file(ZH[0].path), timeout=120).text
    finally:
        zh_stt.script = "simplified"
    assert "歡迎" in text and "欢迎" not in text, text
    assert to_script("開放時間", "simplified") == "开放时间" and to_script("开放时间", "traditional") == "開放時間"


@pytest.mark.slow
def test_auto_detects_only_among_the_enabled_languages() -> None:
    audio = load_audio_file(KO[0].path)
    for recognizer in _recognizer("auto", languages=("en", "zh", "ko")):
        result = recognizer.transcribe(audio, timeout=120)
        assert result.language == "ko" and has_hangul(result.text)
        recognizer.languages = ("en", "zh")  # Korean not enabled: never Korean
        assert recognizer.transcribe(audio, timeout=120).language in ("en", "zh")


def test_an_english_only_model_for_chinese_is_an_error_naming_the_settings() -> None:
    with pytest.raises(ConfigError, match=r"voice\.stt_model tiny\.en.*voice\.language is zh"):
        model_for("tiny.en", "zh")
    recognizer = SpeechToText("base.en", "ko")
    try:
        with pytest.raises(ConfigError, match=r"voice\.stt_model.*voice\.language"):
            recognizer.wait_ready(60)
    finally:
        recognizer.close()


def test_the_model_follows_the_language_unless_one_is_named() -> None:
    assert model_for(None, "en") is None  # the packaged tiny.en, the fastest for English
    assert model_for(None, "zh") == model_for(None, "ko") == model_for(None, "auto") == "base"
    assert model_for("small", "zh") == "small" and model_for("tiny.en", "en") == "tiny.en"


def test_the_packaged_model_is_assembled_checked_and_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_CACHE_DIR", str(tmp_path))
    folder = packaged_multilingual()
    model = folder / "model.bin"
    assert {p.name for p in folder.iterdir()} == {"model.bin", "tokenizer.json", "vocabulary.json", "config.json"}
    assert model.stat().st_size == BASE_MODEL_FILE.size and sha256_of(model) == BASE_MODEL_FILE.sha256
    assert json.loads((folder / "config.json").read_text())["lang_ids"]  # a multilingual model
    with open(model, "r+b") as f:  # damaged on disk: refused and rebuilt from the packages
        f.seek(BASE_MODEL_FILE.size // 2)
        f.write(b"\0" * 64)
    assert sha256_of(packaged_multilingual() / "model.bin") == BASE_MODEL_FILE.sha256


@pytest.mark.parametrize(("env", "language", "script"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh", "simplified"),
    ({"LANG": "zh_TW.UTF-8"}, "zh", "traditional"),
    ({"LC_ALL": "zh_HK.UTF-8", "LANG": "en_US.UTF-8"}, "zh", "traditional"),
    ({"LANG": "ko_KR.UTF-8"}, "ko", "simplified"),
    ({"LANG": "C.UTF-8", "LANGUAGE": "ko_KR:en"}, "ko", "simplified"),
    ({"LANG": "de_DE.UTF-8"}, "en", "simplified"),
    ({}, "en", "simplified"),
])
def test_the_default_language_follows_the_locale(env: dict[str, str], language: str, script: str) -> None:
    assert system_language(env) == language and chinese_script(env) == script
    assert resolve_language(None, env) == language
    assert resolve_language("auto", env) == "auto" and resolve_language("zh-TW", env) == "zh"


def test_the_conversation_language_is_the_latest_message_s_else_the_spoken_one() -> None:
    assert conversation_language([{"role": "user", "content": "列出文件"}], "en") == "zh"
    assert conversation_language([{"role": "user", "content": "파일 목록"}], "zh") == "ko"
    assert conversation_language([], "ko") == "ko" and conversation_language([], "auto") == "en"


def test_each_sentence_gets_the_voice_of_its_script() -> None:
    assert voice_language("这个文件夹里有三个文件。") == "zh"
    assert voice_language("파일이 세 개 있습니다.") == "ko"
    assert voice_language("There are three files.") == "en" and voice_language("42", "zh") == "zh"


@dataclass(frozen=True)
class _V:
    id: str
    name: str
    languages: tuple[str, ...] = ()


WINDOWS = [_V(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Speech\Voices\Tokens\TTS_MS_EN-US_ZIRA_11.0", "Zira"),
           _V(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Speech\Voices\Tokens\TTS_MS_ZH-CN_HUIHUI_11.0",
              "Microsoft Huihui Desktop - Chinese (Simplified)"),
           _V(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Speech\Voices\Tokens\TTS_MS_KO-KR_HEAMI_11.0",
              "Microsoft Heami Desktop - Korean")]
MAC = [_V("com.apple.speech.synthesis.voice.Alex", "Alex", ("en_US",)),
       _V("com.apple.speech.synthesis.voice.ting-ting", "Ting-Ting", ("zh_CN",)),
       _V("com.apple.speech.synthesis.voice.yuna", "Yuna", ("ko_KR",))]
#: pyttsx3's espeak voices as this machine lists them.
LINUX = [_V("gmw/en", "English (Great Britain)", ("en-gb",)),
         _V("sit/cmn", "Chinese (Mandarin, latin as English)", ("cmn",)), _V("ko", "Korean", ("ko",))]


def test_system_voices_are_picked_by_language() -> None:
    assert "HUIHUI" in choose_voice("zh", WINDOWS).voice and "HEAMI" in choose_voice("ko", WINDOWS).voice
    assert choose_voice("zh", MAC).voice.endswith("ting-ting") and choose_voice("ko", MAC).voice.endswith("yuna")
    assert choose_voice("en", MAC).kind == "default"  # English keeps the voice the user chose


def test_espeak_is_no_voice_for_chinese_or_korean_and_says_so() -> None:
    # Linux with espeak-ng only: it reads Chinese as pinyin with tone digits. Say so, honestly.
    for language, word in (("zh", "Chinese"), ("ko", "Korean")):
        choice = choose_voice(language, LINUX, engine="espeak")
        assert choice.kind == "default" and choice.notice is not None and word in choice.notice
    english = choose_voice("en", LINUX, engine="espeak")
    assert english.kind == "default" and english.notice is None


def test_the_picker_says_each_language_s_notice_once() -> None:
    picker = VoicePicker(LINUX, engine="espeak")
    first = picker.pick("你好。")
    assert first[0] == "zh" and first[1].kind == "default" and first[2] and "Chinese" in first[2]
    assert picker.pick("再见。")[2] is None  # said once, not for every sentence
    assert picker.pick("Hello.")[2] is None and picker.pick("안녕하세요.")[2] is not None
    windows = VoicePicker(WINDOWS, engine="sapi5")
    assert windows.pick("你好。")[1:] == (choose_voice("zh", WINDOWS), None)


def test_a_piper_voice_for_the_language_wins(tmp_path: Path) -> None:
    (tmp_path / "en_US-joe-medium.onnx").write_bytes(b"")
    (tmp_path / "voice-a.onnx").write_bytes(b"")
    (tmp_path / "voice-a.onnx.json").write_text(json.dumps({"language": {"code": "zh_CN"}}))
    (tmp_path / "ko_KR-x-low.onnx").write_bytes(b"")
    assert piper_voice_for("zh", tmp_path) == tmp_path / "voice-a.onnx"  # from its JSON, not its name
    assert piper_voice_for("ko", tmp_path) == tmp_path / "ko_KR-x-low.onnx"
    assert choose_voice("zh", LINUX, tmp_path, "espeak").kind == "piper"
    assert choose_voice("zh", WINDOWS, tmp_path, "sapi5").kind == "piper"
    assert piper_voice_for("zh", tmp_path / "missing") is None


def test_confirmation_phrases_in_each_language() -> None:
    content = {"format": "python", "content": "print(1)", "risk": {"level": "low", "reasons": []},
               "summary": "Run one line of Python?"}
    assert phrases("zh").summary(content) == "运行一行 Python 吗？"
    assert phrases("ko").summary(content) == "Python 한 줄을 실행할까요?"
    assert phrases("en").summary(content) == "Run one line of Python?"
    risky = {**content, "format": "shell", "content": "rm a\nrm b", "risk": {"level": "medium",
                                                                               "reasons": ["deletes files"]}}
    assert "删除文件" in phrases("zh").summary(risky) and "삭제" in phrases("ko").summary(risky)
    assert phrases("zh").code_sentence("python", "a\nb\nc", "running") == "正在运行三行 Python。"
    assert "세 줄" in (phrases("ko").code_sentence("python", "a\nb\nc", "propose") or "")
    assert phrases("fr") is phrases("en")


def test_silence_is_no_words_in_chinese_either(zh_stt: SpeechToText) -> None:
    assert zh_stt.transcribe(np.zeros(3 * 16000, dtype=np.float32), timeout=60).text == ""
