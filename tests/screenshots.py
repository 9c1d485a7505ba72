"""``make screenshots``: the README's pictures, taken from the real app on a virtual screen.

The app (``oi-voice``, its own process) runs under a private Xvfb with a private
PulseAudio and talks to the scripted model server. One turn is driven as a user would
(typing the request with xdotool, approving in the dialog) with a plot in the output;
then the same in dark mode, and the voice HUD while the push-to-talk key is held and a
recorded request plays into the microphone. Waits are on the app's log and on X windows.

    python tests/screenshots.py [--out assets/screenshots]

Writes ``conversation-light.png``, ``approval-light.png``, ``conversation-dark.png``,
``approval-dark.png``, ``hud.png``, and the window in Chinese and Korean
(``window-zh_CN.png``, ``window-ko_KR.png``); prints each path and size.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from helpers import wait_until  # noqa: E402  (tests/ is not a package)
from scripted_llm import ScriptedLLM, combine, text, tool_call  # noqa: E402
from x_env import xvfb  # noqa: E402

#: The pictures, in the order they are taken.
NAMES = ("approval-light", "conversation-light", "approval-dark", "conversation-dark", "hud", "window-zh_CN",
         "window-ko_KR")
#: The display languages pictured (ui.language).
LANGUAGES = ("zh_CN", "ko_KR")
SCREEN = "1400x1000x24"
#: Where the main window goes, and its size (x, y, width, height).
WINDOW = (20, 20, 920, 860)
#: The colour behind the windows (Xvfb's root is black), per look.
DESKTOPS = {"light": "#d5dce5", "dark": "#3a4250"}
#: The hairline drawn around each window.
FRAME = "#8a94a3"
REQUEST = "Plot a sine wave and tell me where it peaks"
PLOT = """import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(0, 4 * np.pi, 400)
y = np.sin(x)
plt.figure(figsize=(6, 2.4))
plt.plot(x, y, color="#2f6feb", linewidth=2)
plt.title("sin(x)")
plt.grid(alpha=0.3)
plt.show()
print(f"peak {y.max():.3f} at x = {x[y.argmax()]:.3f}")"""
ANSWER = ("The sine wave peaks at **1.0**, first at x ≈ 1.571 (that is π/2), and again every 2π "
          "after that.")


class App:
    """One ``oi-voice`` process with its own log, config and data folders."""

    def __init__(self, env: dict[str, str], folder: Path, llm_url: str, theme: str, language: str = "en",
                 name: str = "") -> None:
        self.env = env
        name = name or theme
        self.log = folder / f"app-{name}.log"
        profiles = folder / "config" / "profiles"
        profiles.mkdir(parents=True, exist_ok=True)
        (profiles / "screenshots.yaml").write_text(
            f"llm:\n  model: scripted-model\n  supports_functions: true\nvoice:\n  confirm_by_voice: false\n"
            f"  speak_replies: false\n  language: en\nui:\n  theme: {theme}\n  language: {language}\n",
            encoding="utf-8")
        command = [str(Path(sys.executable).with_name("oi-voice")), "--profile", "screenshots", "-ab", llm_url,
                   "-ak", "sk-test", "--log-file", str(self.log), "--no-tray"]
        self.output = (folder / f"app-{name}.out").open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=folder, stdout=self.output,
                                        stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def wait_for(self, needle: str, timeout: float = 120) -> None:
        if not wait_until(lambda: needle in self.text() or self.process.poll() is not None, timeout=timeout):
            seen = self.log.with_name("screen-when-it-failed.png")
            subprocess.run(["import", "-window", "root", str(seen)], env=self.env, capture_output=True, timeout=60)
            raise RuntimeError(f"(the screen: {seen}) {needle!r} not logged in {timeout} s:\n{self.text()[-2000:]}")
        if self.process.poll() is not None:
            said = Path(self.output.name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the app exited ({self.process.returncode}):\n{self.text()[-2000:]}\n{said}")

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                xdo(self.env, "key", "--clearmodifiers", "ctrl+q")
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def xdo(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"xdotool {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


def window_id(env: dict[str, str], name: str) -> str:
    return xdo(env, "search", "--sync", "--onlyvisible", "--name", name).splitlines()[0]


def geometry(env: dict[str, str], window: str) -> tuple[int, int, int, int]:
    """(x, y, width, height) of an X window."""
    values = dict(line.split("=", 1) for line in xdo(env, "getwindowgeometry", "--shell", window).splitlines())
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


Box = tuple[int, int, int, int]


def shoot(env: dict[str, str], path: Path, box: Box, desktop: str = "#d5dce5", windows: tuple[Box, ...] = ()) \
        -> Path:
    """The screen region ``box`` as a PNG, the bare X root (black) painted ``desktop``, and a
    hairline frame around each of ``windows`` (bottom to top): Xvfb has no window manager to
    draw one, and a light dialog on a light window has no edge without it."""
    x, y, w, h = box
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", "+repage", str(path)],
                   env=env, check=True, capture_output=True, timeout=60)
    if windows:
        original = path.with_suffix(".orig.png")
        shutil.copyfile(path, original)
        steps: list[str] = []
        for wx, wy, ww, wh in windows:
            left, top = wx - x, wy - y
            # The window's own pixels again (over the frame of the one below), then its frame.
            steps += ["(", str(original), "-crop", f"{ww}x{wh}+{left}+{top}", "+repage", ")",
                      "-geometry", f"+{left}+{top}", "-composite",
                      "-fill", "none", "-stroke", FRAME, "-strokewidth", "1",
                      "-draw", f"rectangle {left - 1},{top - 1} {left + ww},{top + wh}"]
        subprocess.run(["convert", str(path), *steps, str(path)], check=True, capture_output=True, timeout=60)
        original.unlink()
    fills = []
    for cx, cy in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        pixel = subprocess.run(["convert", str(path), "-format", f"%[pixel:p{{{cx},{cy}}}]", "info:"],
                               capture_output=True, text=True, timeout=60).stdout.strip()
        if pixel in ("black", "srgb(0,0,0)", "srgba(0,0,0,1)", "rgb(0,0,0)", "gray(0)"):  # Xvfb's bare root
            fills += ["-draw", f"color {cx},{cy} floodfill"]
    if fills:
        subprocess.run(["convert", str(path), "-fuzz", "0", "-fill", desktop, *fills, str(path)], check=True,
                       capture_output=True, timeout=60)
    if path.stat().st_size > 280_000:
        subprocess.run(["convert", str(path), "-colors", "256", "-strip", str(path)], check=True,
                       capture_output=True, timeout=60)
    return path


def union(*boxes: tuple[int, int, int, int], pad: int = 16, screen: tuple[int, int] = (1400, 1000)) \
        -> tuple[int, int, int, int]:
    left = max(0, min(b[0] for b in boxes) - pad)
    top = max(0, min(b[1] for b in boxes) - pad)
    right = min(screen[0], max(b[0] + b[2] for b in boxes) + pad)
    bottom = min(screen[1], max(b[1] + b[3] for b in boxes) + pad)
    return left, top, right - left, bottom - top


def speech(folder: Path, words: str) -> Path:
    """A recorded request to play into the microphone (espeak-ng; 16 kHz mono)."""
    raw, wav = folder / "raw.wav", folder / "request.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw), words], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True, capture_output=True)
    return wav


def one_turn(app: App, env: dict[str, str], out: Path, theme: str) -> list[Path]:
    """Type the request, picture the approval, approve, picture the answer."""
    shots = []
    app.wait_for("ready")
    main = window_id(env, "^oi-voice$")
    x, y, w, h = WINDOW
    xdo(env, "windowsize", "--sync", main, str(w), str(h))
    xdo(env, "windowmove", "--sync", main, str(x), str(y))
    xdo(env, "windowfocus", "--sync", main)
    xdo(env, "type", "--delay", "8", REQUEST)
    xdo(env, "key", "Return")
    app.wait_for("approval dialog shown")
    dialog = window_id(env, "run this code")
    # Over the lower part of the window, so both show: the dialog, and the card asking the same question.
    xdo(env, "windowmove", "--sync", dialog, str(x + w - 400), str(y + h - 400))
    time.sleep(0.5)  # the moved dialog is painted after the move is acknowledged
    desktop = DESKTOPS[theme]
    both = (geometry(env, main), geometry(env, dialog))
    shots.append(shoot(env, out / f"approval-{theme}.png", union(*both), desktop, windows=both))
    xdo(env, "windowfocus", "--sync", dialog)
    xdo(env, "key", "Return")
    app.wait_for("turn finished", timeout=180)
    xdo(env, "windowfocus", "--sync", main)
    time.sleep(0.8)  # the plot's image and the last reply are painted after the log line
    shots.append(shoot(env, out / f"conversation-{theme}.png", union(geometry(env, main), pad=0), desktop))
    return shots


def hud(app: App, env: dict[str, str], out: Path, pulse: object, request: Path) -> Path:
    """Hold the push-to-talk key while the request plays into the microphone; picture the HUD."""
    main = window_id(env, "^oi-voice$")
    xdo(env, "windowfocus", "--sync", main)
    xdo(env, "keydown", "F9")
    try:
        app.wait_for("state: listening")
        player = pulse.play_into_mic(request)  # type: ignore[attr-defined]
        pill = window_id(env, "^oi-voice voice$")
        time.sleep(1.2)  # mid-sentence: the level meter is up
        window = geometry(env, main)
        box = union(window, geometry(env, pill), pad=24)
        path = shoot(env, out / "hud.png", box, DESKTOPS["dark"], windows=(window,))
        player.wait(30)
    finally:
        xdo(env, "keyup", "F9")
    app.wait_for("turn finished", timeout=180)
    return path


def language_window(env: dict[str, str], folder: Path, llm_url: str, language: str, path: Path,
                    fontconfig: Path | None = None) -> Path:
    """The ready window shown in ``language`` (``fontconfig``: a fontconfig file, to render it
    without a font, for the test that no text comes out as boxes)."""
    if fontconfig is not None:
        env = {**env, "FONTCONFIG_FILE": str(fontconfig)}
    app = App(env, folder, llm_url, "light", language, name=path.stem)
    try:
        app.wait_for("ready")
        main = window_id(env, "^oi-voice$")
        x, y, w, h = WINDOW
        xdo(env, "windowsize", "--sync", main, str(w), str(h - 300))
        xdo(env, "windowmove", "--sync", main, str(x), str(y))
        xdo(env, "windowfocus", "--sync", main)
        time.sleep(0.8)  # painted after the move is acknowledged
        return shoot(env, path, union(geometry(env, main), pad=0), DESKTOPS["light"])
    finally:
        app.close()


def fonts_without_cjk(folder: Path) -> Path:
    """A fontconfig file that offers DejaVu only: Chinese and Korean have no font under it."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "no-cjk-fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                      '  <dir>/usr/share/fonts/truetype/dejavu</dir>\n'
                      f'  <cachedir>{folder / "cache"}</cachedir>\n</fontconfig>\n', encoding="utf-8")
    return config


def environment(folder: Path, display: str, pulse: object) -> dict[str, str]:
    """The app's environment: the virtual screen, the private sound server and config folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OI_VOICE_", "OPENAI_", "ANTHROPIC_"))}
    env.update({**pulse.env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",  # type: ignore[attr-defined]
                "OI_VOICE_CONFIG_DIR": str(folder / "config"), "OI_VOICE_DATA_DIR": str(folder / "data"),
                "XDG_CONFIG_HOME": str(folder / "xdg")})
    return env


@contextlib.contextmanager
def audio() -> Iterator[object]:
    from voice_env import _start_pulse

    running, server, drain = _start_pulse()
    try:
        yield running
    finally:
        for proc in (drain, server):
            proc.terminate()
            proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots")
    args = parser.parse_args(argv)
    out: Path = args.out
    folder = Path(tempfile.mkdtemp(prefix="oi-voice-shots-"))
    taken: list[Path] = []
    with xvfb(SCREEN) as display, audio() as pulse, ScriptedLLM() as llm:
        request = speech(folder, "what is six times seven")
        for _ in range(2):
            llm.add(combine(text("I'll plot it with matplotlib and print the peak."), tool_call("python", PLOT)),
                    text(ANSWER))
        llm.add(text("Six times seven is **42**."))
        env = environment(folder, display, pulse)
        for theme in ("light", "dark"):
            app = App(env, folder, llm.url, theme)
            try:
                taken += one_turn(app, env, out, theme)
                if theme == "dark":
                    taken.append(hud(app, env, out, pulse, request))
            finally:
                app.close()
        for language in LANGUAGES:
            taken.append(language_window(env, folder, llm.url, language, out / f"window-{language}.png"))
    for path in taken:
        print(f"{path} {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
