"""Audio devices that go away and come back, with the real sound server (issue 19).

Each test runs its own private PulseAudio (so killing it touches no other test's): it
is killed and restarted, or its sink modules are unloaded and loaded again
(``pactl unload-module``), or its default sink and source are switched, while the app
listens or speaks. Each asserts the one line the user reads, the exit code or the
recovery, and that the next push-to-talk turn works once the device is back. Waits are
on events, signals and processes, with timeouts; nothing asserts a timing.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from helpers import point_at, wait_until
from scripted_llm import ScriptedLLM, text
from voice_env import Pulse, Recording, Utterances, missing_tools, utterance, words

from oi_voice import Interpreter
from oi_voice.frontend.messages import device_message
from oi_voice.voice import events as ev

__all__ = ["utterance"]  # a fixture used by name

ROOT = Path(__file__).resolve().parents[2]
OI_VOICE = [sys.executable, "-c", "import sys; from oi_voice.ui.main import main; sys.exit(main())"]
E = TypeVar("E", bound=ev.VoiceEvent)
STORY = ("Once upon a time there was a small robot. It liked to count the stars at night. Every night it counted "
         "a few more. One night it counted so many that the sun came up. The robot said good morning to the sun. "
         "Then it went to sleep until the evening came again.")
NOISE = ("Expression '", "ALSA lib", "pa_linux_alsa", "Traceback")


class SoundServer:
    """A private PulseAudio that a test kills, restarts and rewires (same socket each time)."""

    MODULES = ("module-null-sink sink_name=spk", "module-null-sink sink_name=micfeed",
               "module-remap-source master=micfeed.monitor source_name=mic")

    def __init__(self, runtime: Path) -> None:
        runtime.mkdir(mode=0o700, exist_ok=True)
        self.env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": f"unix:{runtime}/pulse/native"}
        self.pulse = Pulse(runtime, self.env)
        self._server: subprocess.Popen[bytes] | None = None
        self._drain: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server with a speaker ``spk`` and a microphone ``mic`` as defaults."""
        self._server = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes", "--log-level=error",
             "--load=module-native-protocol-unix", *(f"--load={m}" for m in self.MODULES)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = self._server
        assert wait_until(lambda: server.poll() is not None or self.pactl("info").returncode == 0, timeout=30)
        assert server.poll() is None, "PulseAudio did not start"
        self.defaults("spk", "mic")

    def defaults(self, sink: str, source: str) -> None:
        """Make ``sink`` and ``source`` the defaults, and keep ``sink`` rendering in real time."""
        for args in (["set-default-sink", sink], ["set-default-source", source]):
            assert self.pactl(*args).returncode == 0
        self._stop(self._drain)
        # Without a low-latency reader a null sink renders in 2 s blocks.
        self._drain = subprocess.Popen(["parec", "-d", f"{sink}.monitor", "--latency-msec=20"], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=30)

    def freeze(self) -> subprocess.Popen[bytes]:
        """The sound server hangs (SIGSTOP): its clients' calls block; returns it to thaw later."""
        assert self._server is not None
        self._server.send_signal(signal.SIGSTOP)
        return self._server

    def kill(self) -> None:
        """The sound server dies (as when PipeWire restarts after an update)."""
        assert self._server is not None
        self._server.kill()
        self._server.wait(10)
        self._stop(self._drain)
        self._drain = None

    def unplug(self) -> None:
        """Pull every sink (and the microphone fed by one): ``pactl unload-module module-null-sink``."""
        self._stop(self._drain)
        self._drain = None
        assert self.pactl("unload-module", "module-null-sink").returncode == 0
        assert wait_until(lambda: "spk" not in self.pactl("list", "short", "sinks").stdout, timeout=10)

    def plug(self) -> None:
        """Load the unloaded modules again."""
        for module in self.MODULES:
            name, *args = module.split()
            done = self.pactl("load-module", name, *args)
            assert done.returncode == 0 or "mic" in module, done.stderr  # the remap may have stayed
        self.defaults("spk", "mic")

    def record(self, sink: str = "spk") -> Recording:
        recording = Recording(self.env, f"{sink}.monitor")
        assert recording.started.wait(15), "parec did not start"
        return recording

    def close(self) -> None:
        self._stop(self._drain)
        if self._server is not None and self._server.poll() is None:
            self._server.send_signal(signal.SIGCONT)
        self._stop(self._server)

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _reload_portaudio() -> None:
    # PortAudio lists devices when it starts: look again at the server now in PULSE_SERVER.
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@pytest.fixture
def sound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SoundServer]:
    """This test's own sound server; this process talks to it while the test runs."""
    if missing := missing_tools():
        pytest.skip(f"audio tools missing: {', '.join(missing)}")
    server = SoundServer(tmp_path / "pulse-runtime")
    server.start()
    monkeypatch.setenv("PULSE_SERVER", server.env["PULSE_SERVER"])
    monkeypatch.setenv("XDG_RUNTIME_DIR", server.env["XDG_RUNTIME_DIR"])
    _reload_portaudio()
    try:
        yield server
    finally:
        server.close()
        monkeypatch.undo()
        _reload_portaudio()


def _user_env(tmp_path: Path, server: SoundServer) -> dict[str, str]:
    environ = dict(server.env)
    for key in ("OI_VOICE_MODEL", "OI_VOICE_API_BASE", "OI_VOICE_API_KEY"):
        environ.pop(key, None)
    environ.update(OI_VOICE_DATA_DIR=str(tmp_path / "data"), OI_VOICE_CONFIG_DIR=str(tmp_path / "config"),
                   LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPATH=str(ROOT), LANG="C.UTF-8", PYTHONFAULTHANDLER="1")
    return environ


def _model(llm: ScriptedLLM) -> list[str]:
    return ["--api_base", llm.url, "--model", "scripted-model", "--api_key", "sk-test", "-lsf"]


class Headless:
    """``oi-voice --headless`` as a user runs it, its stderr read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen([*OI_VOICE, "--headless", *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.errors: list[str] = []
        self.output: list[str] = []
        self.listening = threading.Event()
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_output, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_output(self) -> None:
        assert self.proc.stdout is not None
        self.output.extend(self.proc.stdout)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.errors.append(line)
            if line.startswith("Listening"):
                self.listening.set()

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Wait for the exit (the test fails if it hangs); its code, stdout and stderr."""
        try:
            self.proc.wait(timeout)  # both pipes are read by this object's threads
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(10)
        return self.proc.returncode, "".join(self.output), "".join(self.errors)


@pytest.mark.fault("audio devices", "sound server killed while headless listens: exit 1, one line")
def test_headless_listening_when_the_sound_server_dies_exits_with_one_line(
        sound: SoundServer, tmp_path: Path, llm_server: ScriptedLLM) -> None:
    run = Headless(["--input", "mic", "--output", "speaker", "-y", "--listen-timeout", "120", *_model(llm_server)],
                   _user_env(tmp_path, sound), tmp_path)
    assert run.listening.wait(180), "".join(run.errors)
    sound.kill()
    code, _out, err = run.finish(timeout=60)  # was: no word and no exit after 20 s
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("oi-voice:")]
    assert lines == ["oi-voice: " + device_message("input", "stopped", language="en")], err
    assert not any(noise in err for noise in NOISE), err  # PortAudio's own lines stay off the terminal
    assert not llm_server.requests


@pytest.mark.fault("audio devices", "sound server frozen while headless listens (Korean locale): exit 1")
def test_headless_listening_when_the_sound_server_hangs_exits_with_one_line_in_korean(
        sound: SoundServer, tmp_path: Path, llm_server: ScriptedLLM) -> None:
    run = Headless(["--input", "mic", "--output", "speaker", "-y", "--listen-timeout", "120", *_model(llm_server)],
                   {**_user_env(tmp_path, sound), "LANG": "ko_KR.UTF-8"}, tmp_path)
    assert run.listening.wait(180), "".join(run.errors)
    sound.freeze()  # the callbacks stop; closing the stream would block for the client's timeout
    code, _out, err = run.finish(timeout=60)
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith("oi-voice:")]
    assert lines == ["oi-voice: 마이크 연결이 끊겼습니다: 오디오가 더 이상 들어오지 않습니다"], err
    assert not any(noise in err for noise in NOISE), err


@pytest.mark.fault("audio devices", "sink modules unloaded while headless speaks: exit 1, text kept")
def test_headless_speaking_when_the_speaker_is_pulled_exits_with_the_reply_printed(
        sound: SoundServer, tmp_path: Path, llm_server: ScriptedLLM, utterance: Utterances) -> None:
    question = utterance("tell me a story")
    llm_server.add(text(STORY))
    recording = sound.record()
    run = Headless(["--input", str(question), "--output", "speaker", "-y", *_model(llm_server)],
                   _user_env(tmp_path, sound), tmp_path)
    try:
        assert recording.wait_loud(after=0.0, timeout=180) is not None, "".join(run.errors)
    finally:
        recording.stop()
    sound.unplug()
    code, out, err = run.finish(timeout=60)  # was: still there 30 s later
    assert code == 1, err + out
    lines = [line for line in err.splitlines() if line.startswith("oi-voice:")]
    assert len(lines) == 1 and lines[0].startswith("oi-voice: the speaker went away: "), err + out
    assert not any(noise in err for noise in NOISE), err
    assert "assistant: " + STORY[:40] in out and "until the evening came again." in out, out
    # The device is back: the next run speaks again and succeeds.
    sound.plug()
    llm_server.add(text("Hello again."))
    recording = sound.record()
    try:
        again = Headless(["--input", str(question), "--output", "speaker", "-y", *_model(llm_server)],
                         _user_env(tmp_path, sound), tmp_path)
        code, out, err = again.finish(timeout=180)
        assert code == 0, err
        assert recording.loud_times(), "nothing was heard on the speaker"
    finally:
        recording.stop()


# --- in the app -------------------------------------------------------------------------------


class AppRun:
    """The window and bridge around a voice session on the real microphone and speaker."""

    def __init__(self, qtbot: object, interp: Interpreter, **config: object) -> None:
        from pytestqt.qtbot import QtBot

        from oi_voice.ui.bridge import Bridge
        from oi_voice.ui.window import MainWindow
        from oi_voice.voice.pipeline import VoiceConfig, VoiceSession

        assert isinstance(qtbot, QtBot)
        self.qtbot = qtbot
        self.session = VoiceSession(interp, VoiceConfig(confirm_by_voice=False, **config))  # type: ignore[arg-type]
        self.bridge = Bridge()
        self.window = MainWindow(self.bridge)
        qtbot.addWidget(self.window)
        self.window.show()
        self.events: list[ev.VoiceEvent] = []
        self.bridge.voice_event.connect(self.events.append)  # on the Qt thread
        with qtbot.waitSignal(self.bridge.ready, timeout=180_000):
            self.bridge.start(lambda _report: self.session)

    def count(self, kind: type[E], where: Callable[[E], bool] = lambda e: True) -> int:
        return sum(1 for e in self.events if isinstance(e, kind) and where(e))

    def wait_for(self, kind: type[E], where: Callable[[E], bool] = lambda e: True, *, after: int = 0,
                 timeout: int = 120_000) -> E:
        def found() -> E | None:
            return next((e for e in self.events[after:] if isinstance(e, kind) and where(e)), None)

        self.qtbot.waitUntil(lambda: found() is not None, timeout=timeout)
        event = found()
        assert event is not None
        return event

    def story_cut_by(self, llm: ScriptedLLM, fault: Callable[[], object]) -> ev.TurnFinished:
        """Ask for a long reply, bring ``fault`` about while it is said; the turn's end."""
        llm.add(text(STORY))
        self.bridge.send_text("tell me a story")
        self.wait_for(ev.SpeakingStarted)
        fault()
        return self.wait_for(ev.TurnFinished)

    def push_to_talk(self, sound: SoundServer, wav: Path) -> ev.TurnFinished:
        """Hold the talk key, say ``wav`` into the microphone, let go; the turn's end."""
        start = len(self.events)
        self.bridge.press()
        self.wait_for(ev.ListeningStarted, after=start)
        sound.pulse.say_into_mic(wav)
        self.bridge.release()
        return self.wait_for(ev.TurnFinished, after=start)

    def close(self) -> None:
        self.bridge.stop()
        self.session.wait_idle(60)
        self.bridge.detach()
        self.session.close()


@pytest.fixture
def app_run(qtbot: object, shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppRun]]:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    made: list[AppRun] = []

    def make(**config: object) -> AppRun:
        made.append(AppRun(qtbot, point_at(shared, llm_server.url, auto_run=True), **config))
        return made[-1]

    yield make
    for run in made:
        run.close()


@pytest.mark.fault("audio devices", "sound server killed while the app speaks, then restarted")
def test_app_speaking_when_the_server_dies_keeps_the_reply_and_comes_back(
        sound: SoundServer, app_run: Callable[..., AppRun], llm_server: ScriptedLLM, shared: Interpreter,
        utterance: Utterances) -> None:
    from oi_voice.ui.chatview import TextBlock
    from oi_voice.ui.state import AppState

    app = app_run()
    finished = app.story_cut_by(llm_server, sound.kill)
    lost = app.wait_for(ev.DeviceLost, lambda e: e.kind == "output")
    mic_lost = app.wait_for(ev.DeviceLost, lambda e: e.kind == "input")
    # One clear line, the reply whole on screen and in the history, the mic button showing it.
    assert finished.error == lost.message and lost.message.startswith("the speaker went away: ")
    assert finished.reply == STORY
    assert shared.messages[-1]["content"] == STORY
    assert any(isinstance(b, TextBlock) and STORY[:60] in b.text for b in app.window.chat.blocks)
    assert app.bridge.state is AppState.ERROR and not app.window.mic.isEnabled()
    assert app.window.mic.toolTip() == mic_lost.message  # the locale is English here
    assert app.bridge.tracker.error in (mic_lost.message, lost.message)
    # The server returns: both devices are reopened with no restart, and the next turn works.
    sound.start()
    app.wait_for(ev.DeviceBack, lambda e: e.kind == "input")
    app.wait_for(ev.DeviceBack, lambda e: e.kind == "output")
    app.qtbot.waitUntil(lambda: app.bridge.state is AppState.IDLE and app.window.mic.isEnabled(), timeout=10_000)
    llm_server.add(text("Four."))
    recording = sound.record()
    try:
        turn = app.push_to_talk(sound, utterance.piper("What is two plus two?"))
        assert turn.error is None and turn.reply == "Four."
        assert "two plus two" in words(turn.transcript), turn.transcript
        assert recording.loud_times(), "the reply was not heard after the server came back"
    finally:
        recording.stop()


@pytest.mark.fault("audio devices", "microphone chosen by name lost while push-to-talk is held, then back")
def test_app_listening_when_the_server_dies_says_so_and_push_to_talk_works_again(
        sound: SoundServer, app_run: Callable[..., AppRun], llm_server: ScriptedLLM,
        utterance: Utterances) -> None:
    from oi_voice.ui.state import AppState

    app = app_run(input_device="pulse")  # chosen by name: the same device is reopened when it reappears
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    app.bridge.press()
    app.wait_for(ev.ListeningStarted)
    sound.kill()
    lost = app.wait_for(ev.DeviceLost, lambda e: e.kind == "input")
    assert lost.message == "the microphone went away: the sound system ended its stream"
    app.bridge.release()  # what was recorded ends where the microphone went: no turn
    assert notices[-1] == lost.message and not app.count(ev.TurnStarted)
    assert app.bridge.state is AppState.ERROR and app.bridge.tracker.error == lost.message
    app.bridge.press()  # while it is away, the key says so
    assert notices[-1] == lost.message and not app.session.recording
    sound.start()
    app.wait_for(ev.DeviceBack, lambda e: e.kind == "input")
    llm_server.add(text("Four."))
    turn = app.push_to_talk(sound, utterance.piper("What is two plus two?"))
    assert turn.error is None and "two plus two" in words(turn.transcript), turn.transcript


@pytest.mark.fault("audio devices", "speaker unplugged and plugged back; default sink and source switched")
def test_app_follows_unplugged_devices_and_a_new_default(
        sound: SoundServer, app_run: Callable[..., AppRun], llm_server: ScriptedLLM, utterance: Utterances) -> None:
    app = app_run()
    finished = app.story_cut_by(llm_server, sound.unplug)
    assert finished.error is not None and finished.error.startswith("the speaker went away: ")
    assert finished.reply == STORY
    sound.plug()
    app.wait_for(ev.DeviceBack, lambda e: e.kind == "output")
    if app.count(ev.DeviceLost, lambda e: e.kind == "input"):
        app.wait_for(ev.DeviceBack, lambda e: e.kind == "input")
    # Headphones plugged in: a new sink and source become the defaults mid-session.
    for module in ("module-null-sink sink_name=phones", "module-null-sink sink_name=phonesmicfeed",
                   "module-remap-source master=phonesmicfeed.monitor source_name=phonesmic"):
        assert sound.pactl("load-module", *module.split()).returncode == 0
    sound.defaults("phones", "phonesmic")
    old, new = sound.record("spk"), sound.record("phones")
    try:
        llm_server.add(text("Four."))
        start = len(app.events)
        app.bridge.press()
        app.wait_for(ev.ListeningStarted, after=start)
        said = subprocess.run(["paplay", "-d", "phonesmicfeed", str(utterance.piper("What is two plus two?"))],
                              env=sound.env, capture_output=True, timeout=60)
        assert said.returncode == 0
        app.bridge.release()
        turn = app.wait_for(ev.TurnFinished, after=start)
        assert turn.error is None and "two plus two" in words(turn.transcript), turn.transcript
        assert new.loud_times(), "the reply was not heard on the new default speaker"
        assert not old.loud_times(threshold=0.05)
    finally:
        old.stop()
        new.stop()
