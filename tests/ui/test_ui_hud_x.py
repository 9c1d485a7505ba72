"""The voice HUD on a real X display, driven by the global hotkey while the window is away.

``oi-voice`` runs as its own process under Xvfb with a private PulseAudio and the scripted
model. Its window is unmapped (as when it is hidden to the tray); the push-to-talk key is
pressed with XTEST, so only the global hotkey (pynput) can hear it. The HUD must appear,
the window must stay unmapped, and Esc -- again a global key -- must stop and hide it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import wait_until
from scripted_llm import ScriptedLLM, text
from voice_env import Pulse, pulse
from x_env import display, xdotool

__all__ = ["display", "pulse"]  # fixtures used by name

pytestmark = pytest.mark.slow


def visible(env: dict[str, str], name: str) -> bool:
    done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=env, capture_output=True,
                          text=True, timeout=30)
    return done.returncode == 0 and bool(done.stdout.strip())


def test_global_hotkey_shows_the_hud_without_the_window_and_esc_stops(display: str, pulse: Pulse,
                                                                      llm_server: ScriptedLLM,
                                                                      tmp_path: Path) -> None:
    llm_server.add(text("Not used."))
    env = {**pulse.env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "OI_VOICE_CONFIG_DIR": str(tmp_path / "config"), "OI_VOICE_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "app.log"
    command = [str(Path(sys.executable).with_name("oi-voice")), "-m", "scripted-model", "-ab", llm_server.url,
               "-ak", "sk-test", "--log-file", str(log), "--no-tray"]
    app = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def logged(needle: str) -> bool:
        return (log.exists() and needle in log.read_text()) or app.poll() is not None

    try:
        assert wait_until(lambda: logged("ready"), timeout=120) and app.poll() is None
        window = xdotool(env, "search", "--sync", "--onlyvisible", "--name", "^oi-voice$").splitlines()[0]
        xdotool(env, "windowunmap", "--sync", window)
        assert not visible(env, "^oi-voice voice$")
        xdotool(env, "keydown", "F9")
        try:
            assert wait_until(lambda: logged("state: listening"), timeout=30), log.read_text()[-2000:]
            assert wait_until(lambda: visible(env, "^oi-voice voice$"), timeout=30)
            assert not visible(env, "^oi-voice$")  # the window was not raised
            # Still holding the key, so still listening: only Esc can take the HUD away now.
            xdotool(env, "key", "Escape")
            assert wait_until(lambda: not visible(env, "^oi-voice voice$"), timeout=30)
            assert wait_until(lambda: logged("state: idle"), timeout=30)
        finally:
            xdotool(env, "keyup", "F9")
        assert not visible(env, "^oi-voice$")
    finally:
        app.terminate()
        try:
            app.wait(30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait(10)
