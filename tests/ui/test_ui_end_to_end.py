"""The real app, end to end: Xvfb, xdotool, a private PulseAudio, the scripted model server.

``oi-voice`` runs as its own process on a virtual X display. The test holds F9 with
xdotool while espeak-ng's recording of a request plays into the microphone, waits for
the approval dialog, approves it with Enter, checks that the output reached the window
(the app's log records what the window rendered), and records the speaker's monitor to
hear the reply. Screenshots are kept in ``test-artifacts/``. Waits are on the log, on
X windows (``xdotool search --sync``) and on processes, with timeouts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from scripted_llm import ScriptedLLM, text, tool_call
from voice_env import Pulse, Utterances, pulse, stt, utterance, words
from x_env import AppLog, display, push_to_talk, quit_app, screenshot, xdotool

from oi_voice.voice.stt import SpeechToText

__all__ = ["display", "pulse", "stt", "utterance"]  # fixtures used by name

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.slow


def shot(env: dict[str, str], name: str) -> Path:
    return screenshot(env, ARTIFACTS / f"{name}.png")


def test_speak_approve_see_and_hear(display: str, pulse: Pulse, llm_server: ScriptedLLM, utterance: Utterances,
                                    stt: SpeechToText, tmp_path: Path) -> None:
    llm_server.add(tool_call("python", "print(6 * 7)"), text("The answer is 42."))
    request = utterance("what is six times seven")
    env = {**pulse.env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "OI_VOICE_CONFIG_DIR": str(tmp_path / "config"), "OI_VOICE_DATA_DIR": str(tmp_path / "data")}
    log = AppLog(tmp_path / "app.log")
    command = [str(Path(sys.executable).with_name("oi-voice")), "-m", "scripted-model", "-ab", llm_server.url,
               "-ak", "sk-test", "--llm_supports_functions", "--log-file", str(log.path)]
    app = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    recording = None
    try:
        log.wait_for("window visible", app)
        window = xdotool(env, "search", "--sync", "--name", "^oi-voice$").splitlines()[0]
        log.wait_for("ready", app)
        shot(env, "e2e-1-ready")
        recording = pulse.record_speaker()
        push_to_talk(env, window, log, app, lambda: pulse.say_into_mic(request))
        log.wait_for("approval dialog shown", app)
        dialog = xdotool(env, "search", "--sync", "--name", "run this code").splitlines()[0]
        shot(env, "e2e-2-approval")
        xdotool(env, "windowfocus", "--sync", dialog)
        xdotool(env, "key", "Return")
        logged = log.wait_for("turn finished", app, timeout=180)
        shot(env, "e2e-3-answered")
        audio = recording.stop()
        recording = None
        said = words(stt.transcribe(audio).text)
        user_line = next(line for line in logged.splitlines() if " user: " in line)
        heard = words(user_line.split(" user: ", 1)[1])
        assert "times" in heard or "six" in heard, heard
        assert "output: 42" in logged, logged[-3000:]
        assert "approval c1: run" in logged
        assert "reply: The answer is 42." in logged
        assert "answer" in said and ("42" in said or "forty" in said), said
        # What the model was sent: the transcript as the user's message, then the run's output.
        first = llm_server.requests[0]["messages"]
        assert words(first[-1]["content"]) == heard
        tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
        assert tool["content"].strip() == "42"
        quit_app(env, window, app)
    finally:
        if recording is not None:
            recording.stop()
        if app.poll() is None:
            app.kill()
            app.wait(10)
        output = app.stdout.read().decode(errors="replace") if app.stdout else ""
        (ARTIFACTS / "e2e-app-output.txt").write_text(output + "\n--- log ---\n" + log.text()) \
            if ARTIFACTS.exists() else None
    assert os.path.exists(ARTIFACTS / "e2e-2-approval.png")


def test_global_hotkey_hears_a_held_key_once_under_x(display: str, qtbot: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from pytestqt.qtbot import QtBot

    from oi_voice.ui.hotkey import GlobalHotkey

    assert isinstance(qtbot, QtBot)
    monkeypatch.setenv("DISPLAY", display)
    hotkey = GlobalHotkey("F9")
    presses: list[str] = []
    hotkey.pressed.connect(lambda: presses.append("down"))
    hotkey.released.connect(lambda: presses.append("up"))
    threads = threading.active_count()
    assert hotkey.start() is None
    env = {**os.environ, "DISPLAY": display}
    try:
        with qtbot.waitSignal(hotkey.pressed, timeout=10_000):
            xdotool(env, "keydown", "F9")
        # The user holds the key past the X server's auto-repeat delay (660 ms): the
        # repeats it sends must not become presses. This is the stimulus, not a wait.
        subprocess.run(["xdotool", "sleep", "1"], env=env, check=True)
        with qtbot.waitSignal(hotkey.released, timeout=10_000):
            xdotool(env, "keyup", "F9")
    finally:
        hotkey.stop()
    assert presses == ["down", "up"]
    assert threading.active_count() == threads  # the listener's thread ended with stop()


def test_without_a_display_the_global_hotkey_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from oi_voice.ui.hotkey import GlobalHotkey

    monkeypatch.delenv("DISPLAY", raising=False)
    problem = GlobalHotkey("F9").start()
    assert problem is not None and "no X display" in problem and "F9" in problem
