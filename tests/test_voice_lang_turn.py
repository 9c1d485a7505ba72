"""A Chinese turn through the voice session: the model is told the language, the
confirmation is asked in Chinese, and a real Mandarin answer that is no yes or no
leaves the run to the keyboard (the fallback).

Real parts: the scripted model server over HTTP, a real kernel, the packaged
multilingual Whisper on a real Mandarin recording, pyttsx3 writing to a WAV speaker.
The answer comes from our own Listener implementation (a recording, not a microphone).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lang_clips import CLIPS
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.approval import Decision
from oi_voice.voice.audio import load_audio_file
from oi_voice.voice.capture import Utterance
from oi_voice.voice.events import ConfirmationAnswered, ConfirmationAsked, ConfirmationHeard, VoiceEvent
from oi_voice.voice.pipeline import VoiceConfig, VoiceSession
from oi_voice.voice.playback import WavFileSpeaker


class RecordingListener:
    """Hears the same recording each time it listens (a Listener)."""

    def __init__(self, path: Path) -> None:
        self.audio = load_audio_file(path)
        self.heard = 0

    def listen(self, timeout: float, cancel: threading.Event | None = None) -> Utterance | None:
        """The recording, as if it had just been said."""
        self.heard += 1
        return Utterance(self.audio, time.monotonic(), "file")


@pytest.fixture
def interp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm_server: ScriptedLLM) -> Iterator[Interpreter]:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    owner = Interpreter()
    owner.llm.model, owner.llm.api_base, owner.llm.api_key = "scripted-model", llm_server.url, "sk-test"
    owner.llm.supports_functions = True
    yield owner
    owner.close()


@pytest.mark.slow
def test_a_chinese_turn_is_asked_in_chinese(interp: Interpreter, llm_server: ScriptedLLM, tmp_path: Path) -> None:
    llm_server.add(tool_call("python", "print(6*7)"), text("结果是 42。"))
    listener = RecordingListener(next(c for c in CLIPS if c.name == "zh_funasr_mid").path)
    asked_fallback: list[dict[str, Any]] = []

    def keyboard(content: dict[str, Any]) -> Decision:
        asked_fallback.append(content)
        return Decision.run(source="keyboard")

    voice = VoiceSession(interp, VoiceConfig(language="zh", answer_timeout=5), microphone=False,
                         speaker=WavFileSpeaker(tmp_path / "reply.wav"), answers=listener, fallback=keyboard)
    events: list[VoiceEvent] = []
    voice.subscribe(events.append)
    try:
        voice.start()
        voice.wait_ready(180)
        result = voice.send_text("用 Python 算一下 6 乘 7")
    finally:
        voice.close()
    asked = next(e for e in events if isinstance(e, ConfirmationAsked))
    assert asked.spoken and asked.summary == "运行一行 Python 吗？"
    heard = [e for e in events if isinstance(e, ConfirmationHeard)]
    # A Mandarin sentence that is neither yes nor no: asked twice, then left to the keyboard.
    assert len(heard) == 2 and listener.heard == 2
    assert all(e.meaning is None and "肯德基" in e.text for e in heard), [e.text for e in heard]
    left = next(e for e in events if isinstance(e, ConfirmationAnswered) and e.action is None)
    assert left.reason == "not understood"
    assert asked_fallback and "42" in result.output and result.reply == "结果是 42。"
    assert "简体中文" in llm_server.requests[0]["messages"][0]["content"]


ROOT = Path(__file__).resolve().parent.parent
OI_VOICE = [sys.executable, "-c", "import sys; from oi_voice.ui.main import main; sys.exit(main())"]


def _headless(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OI_VOICE_")}
    env.update(OI_VOICE_DATA_DIR=str(tmp_path / "data"), OI_VOICE_CONFIG_DIR=str(tmp_path / "config"),
               LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    return subprocess.run([*OI_VOICE, "--headless", *args, "--output", str(tmp_path / "reply.wav")], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_headless_language_zh_hears_mandarin(tmp_path: Path, llm_server: ScriptedLLM) -> None:
    # The repro: `--language zh` used to run tiny.en and print English.
    llm_server.add(text("好的。"))
    clip = next(c for c in CLIPS if c.name == "zh_sensevoice")
    done = _headless(["--input", str(clip.path), "--language", "zh", "--api_base", llm_server.url,
                      "--model", "scripted-model", "--api_key", "sk-test"], tmp_path)
    assert done.returncode == 0, done.stderr
    said = done.stdout.split("you said:", 1)[1].splitlines()[0]
    assert "开放时间早上" in said, done.stdout
    assert "简体中文" in llm_server.requests[0]["messages"][0]["content"]


def test_headless_english_only_model_for_chinese_is_a_clear_error(tmp_path: Path) -> None:
    clip = next(c for c in CLIPS if c.name == "zh_sensevoice")
    done = _headless(["--input", str(clip.path), "--language", "zh", "--stt-model", "tiny.en", "-m", "x"], tmp_path)
    assert done.returncode != 0
    assert "voice.stt_model tiny.en understands only English" in done.stderr
    assert "voice.language is zh" in done.stderr and "you said" not in done.stdout
