"""The voice layer's text side: sentences, what gets said, spoken answers, audio files."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from oi_voice.errors import AudioFileError
from oi_voice.voice.audio import StreamResampler, load_audio_file, resample, write_wav
from oi_voice.voice.confirm import classify
from oi_voice.voice.events import Latency
from oi_voice.voice.pipeline import VoiceConfig
from oi_voice.voice.sentences import SentenceSplitter, split_sentences
from oi_voice.voice.speech_text import code_sentence, describe_code, speakable

REPLY = """Sure! I'll check that, e.g. with Python. The value is 3.14 today.
1. First item here
2. Second **bold** item with `ls -la` and a [link](http://x.com/a).

```python
import os
print(os.name)
```
See https://www.example.com/path?q=1 for more. Dr. Who met J. Smith. Done"""


def test_sentences_come_out_as_soon_as_they_end_whatever_the_chunking() -> None:
    expected = split_sentences(REPLY)
    assert expected == [
        "Sure!", "I'll check that, e.g. with Python.", "The value is 3.14 today.", "1. First item here",
        "2. Second **bold** item with `ls -la` and a [link](http://x.com/a).",
        "```python\nimport os\nprint(os.name)\n```",
        "See https://www.example.com/path?q=1 for more.", "Dr. Who met J. Smith.", "Done"]
    for step in (1, 2, 5, 17):
        splitter = SentenceSplitter()
        got: list[str] = []
        for i in range(0, len(REPLY), step):
            got += splitter.feed(REPLY[i:i + step])
        assert got + splitter.flush() == expected


def test_first_sentence_is_ready_before_the_reply_ends() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("The answer is four") == []
    assert splitter.feed(".") == []  # "4.5" is not an end: the end mark needs a space after it
    assert splitter.feed(" And more") == ["The answer is four."]
    assert splitter.flush() == ["And more"]


def test_long_sentence_is_cut_at_a_comma() -> None:
    text = "word " * 30 + ", then " + "more " * 40
    units = SentenceSplitter(long=200).feed(text)
    assert units and len(units[0]) <= 200


def test_markdown_code_and_urls_are_summarized_not_read() -> None:
    said = [speakable(u) for u in split_sentences(REPLY)]
    assert said[4] == "Second bold item with ls -la and a link."
    assert said[5] == "Here are two lines of Python, on screen."
    assert said[6] == "See a link to example.com for more."
    assert speakable("## Results") == "Results"
    assert speakable("|---|---|") == ""
    assert speakable("| name | size |") == "name, size"
    assert speakable("Use `subprocess.run(['rm', '-rf', path], check=True)` here.") == "Use some code here."
    assert speakable("keep my_var_name but drop _emphasis_") == "keep my_var_name but drop emphasis"
    assert speakable("![a chart](chart.png)") == "an image of a chart"
    assert speakable("---") == ""


def test_code_is_described_by_language_and_length() -> None:
    code = "import os\n\nprint(os.name)\nprint(1)\n"
    assert describe_code("python", code) == "three lines of Python"
    assert code_sentence("python", code, "propose") == "I'd like to run three lines of Python."
    assert code_sentence("bash", "ls", "running") == "Running one line of shell."
    assert code_sentence("js", "a()\nb()", "show") == "Here are two lines of JavaScript, on screen."


@pytest.mark.parametrize("heard", ["Yes.", "yeah", "Yep!", "Run it.", "Go ahead", "Okay, do it", "sure"])
def test_yes_words_run(heard: str) -> None:
    assert classify(heard) == "run"


@pytest.mark.parametrize("heard", ["No.", "No, cancel that.", "Stop!", "skip", "Don't run it.", "nope",
                                   "Cancel", "never mind"])
def test_no_words_decline(heard: str) -> None:
    assert classify(heard) == "decline"


@pytest.mark.parametrize("heard", ["", "What?", "Maybe later today", "I'm not sure", "Thank you."])
def test_anything_else_is_not_understood(heard: str) -> None:
    assert classify(heard) is None


@pytest.mark.parametrize("heard", ["是", "是的。", "对", "好", "好的", "可以", "行", "运行", "执行", "确定",
                                   "好的，运行吧", "那就执行吧", "不错，运行吧", "OK，运行",
                                   "네", "예", "응", "좋아", "그래", "실행", "해 줘", "네, 실행해 주세요"])
def test_chinese_and_korean_yes_words_run(heard: str) -> None:
    assert classify(heard) == "run"


@pytest.mark.parametrize("heard", ["不", "不要", "别", "取消", "停", "算了", "不行", "好吧，不过不要运行", "不是",
                                   "아니", "아니요", "아뇨", "취소", "하지 마", "멈춰", "그만", "네? 아니, 실행하지 마",
                                   "yes... 不要"])
def test_chinese_and_korean_no_words_decline_even_beside_a_yes(heard: str) -> None:
    assert classify(heard) == "decline"


@pytest.mark.parametrize("heard", ["这是什么", "好不好", "可不可以", "是吗？", "뭐라고요", "天气",
                                   "大学生利用漏洞免费吃肯德基或行。"])
def test_chinese_and_korean_questions_are_not_answers(heard: str) -> None:
    # 是 inside a question, and the X不X form, are neither a yes nor a no.
    assert classify(heard) is None


def test_cjk_sentences_end_at_full_width_marks_without_a_space() -> None:
    text = "你好。这个文件夹里有3个文件！要我列出来吗？好的；我来做……然后呢。他说：「可以。」下一句"
    expected = ["你好。", "这个文件夹里有3个文件！", "要我列出来吗？", "好的；", "我来做……", "然后呢。",
                "他说：「可以。」", "下一句"]
    assert split_sentences(text) == expected
    for step in (1, 2, 3):
        splitter = SentenceSplitter()
        got: list[str] = []
        for i in range(0, len(text), step):
            got += splitter.feed(text[i:i + step])
        assert got + splitter.flush() == expected  # a closing 」 is never cut off
    korean = ["안녕하세요.", "파일이 3개 있어요!", "실행할까요?"]
    assert split_sentences(" ".join(korean)) == korean


def test_long_cjk_sentence_is_cut_at_a_full_width_comma() -> None:
    text = "这是一句很长的话，" * 40
    units = split_sentences(text)
    assert len(units) > 1 and all(u.endswith("，") for u in units[:-1]) and "".join(units) == text.strip()


def test_voice_config_reads_the_bundled_voice_profile() -> None:
    from oi_voice.profiles import bundled_dir, load_profile

    profile = load_profile(bundled_dir() / "voice.yaml")
    config = VoiceConfig.from_settings(profile.voice, vad_silence=0.5, tts_rate=None)
    # Unset: the language follows the system locale, the speech model follows the language.
    assert config.stt_model is None and config.language is None and config.languages == ["en", "zh", "ko"]
    assert config.confirm_by_voice and config.barge_in and config.vad_silence == 0.5
    assert config.tts_rate is None  # None overrides nothing


def test_latency_line() -> None:
    latency = Latency(speech_end=10.0, transcript=10.4, first_token=10.6, first_audio=None)
    assert latency.line() == "latency after speech end: transcript 0.40 s, first token 0.60 s, first audio -"
    assert latency.as_dict()["first_token"] == pytest.approx(0.6)


# --- audio files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A 440 Hz tone at 44.1 kHz mono, and what it should become at 16 kHz."""
    folder = tmp_path_factory.mktemp("tone")
    t = np.arange(44100) / 44100
    samples = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = folder / "tone.wav"
    write_wav(path, samples, 44100)
    expected = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    return path, expected


@pytest.mark.parametrize("rate,channels,extra", [(16000, 1, []), (48000, 2, []), (8000, 1, []),
                                                 (22050, 2, ["-b", "24"]), (44100, 1, ["-e", "floating-point"]),
                                                 (44100, 2, ["-t", "flac"])])
def test_any_rate_and_channel_count_is_resampled(tone: tuple[Path, np.ndarray], rate: int, channels: int,
                                                 extra: list[str]) -> None:
    src, expected = tone
    suffix = ".flac" if "flac" in extra else ".wav"
    out = src.with_name(f"tone_{rate}_{channels}_{len(extra)}{suffix}")
    subprocess.run(["sox", str(src), *[e for e in extra if e not in ("-t", "flac")], "-r", str(rate),
                    "-c", str(channels), str(out)], check=True, capture_output=True)
    audio = load_audio_file(out)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size - 16000) <= 16
    core = slice(800, 15000)  # away from the filter's edges
    assert np.abs(audio[core]).max() == pytest.approx(0.5, abs=0.05)
    if rate >= 16000:  # 8 kHz lost nothing at 440 Hz either, but is phase-shifted by sox's filter
        correlation = float(np.corrcoef(audio[core], expected[: audio.size][core])[0, 1])
        assert correlation > 0.95


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    for path, problem in ((text, "not a readable audio file"), (tmp_path / "missing.wav", "no such file"),
                          (tmp_path, "is a folder"), (empty, "contains no audio")):
        with pytest.raises(AudioFileError) as info:
            load_audio_file(path)
        assert str(path) in str(info.value) and problem in str(info.value)
        assert "\n" not in str(info.value)


def test_streaming_resampler_has_no_seams() -> None:
    rng = np.random.default_rng(1)
    signal = rng.standard_normal(44100).astype(np.float32)
    whole = resample(signal, 44100, 16000)
    for block in (7, 512, 4410):
        resampler = StreamResampler(44100, 16000)
        parts = [resampler.process(signal[i:i + block]) for i in range(0, signal.size, block)]
        streamed = np.concatenate([*parts, resampler.flush()])
        assert streamed.size == whole.size
        assert np.allclose(streamed, whole, atol=1e-5)
