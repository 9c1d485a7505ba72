"""The laptop rig: the private PulseAudio's speaker heard by its microphone, as in a room.

``python tests/echo_room.py`` (run by the :func:`echo_room` fixture, with the server in
``PULSE_SERVER``) reads what is played on ``spk`` (``parec spk.monitor``, 10 ms blocks),
runs it through a room: attenuated, delayed, with the reverberation of sox's ``reverb``
(its response to a click, made once), and writes it into ``micfeed`` (``pacat``), which
the app records as ``mic`` — together with whatever a test says into ``micfeed`` itself.
The whole path (pipes and PulseAudio buffers included) delays the sound 30-60 ms
(``--delay`` adds to what the pipes take; the bench measures the total). A sox process
in the pipe would add ~130 ms of its own buffering, hence the convolution here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RATE = 16000
BLOCK = 160  # 10 ms
_FORMAT = ["--raw", "--format=s16le", f"--rate={RATE}", "--channels=1"]


def room_response(delay: float = 0.02, gain: float = 0.3, reverberance: int = 50, length: float = 0.4) -> np.ndarray:
    """The room: ``delay`` s of air, then sox's ``reverb`` of a click, scaled to ``gain``."""
    with tempfile.TemporaryDirectory() as folder:
        click, wet = Path(folder) / "click.wav", Path(folder) / "room.wav"
        pcm = np.zeros(int(length * RATE), dtype="<i2")
        pcm[0] = 32767
        with wave.open(str(click), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        subprocess.run(["sox", str(click), str(wet), "reverb", str(reverberance), "50", "60", "trim", "0",
                        str(length)], check=True, capture_output=True)
        with wave.open(str(wet), "rb") as w:
            response = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32767.0
    return np.concatenate([np.zeros(int(delay * RATE), dtype=np.float32), response * gain])


def run(delay: float, gain: float, reverberance: int) -> None:
    """Couple spk.monitor into micfeed until killed."""
    response = room_response(delay, gain, reverberance)
    env = dict(os.environ)
    reader = subprocess.Popen(["parec", "-d", "spk.monitor", *_FORMAT, "--latency-msec=5"], env=env,
                              stdout=subprocess.PIPE)
    writer = subprocess.Popen(["pacat", "-d", "micfeed", *_FORMAT, "--latency-msec=10"], env=env,
                              stdin=subprocess.PIPE)
    assert reader.stdout is not None and writer.stdin is not None
    tail = np.zeros(response.size - 1, dtype=np.float32)
    ready = False
    start = time.monotonic()
    taken = 0  # samples read from the speaker's monitor
    floor: float | None = None  # the least backlog seen: the pipes' own buffering
    while True:
        data = reader.stdout.read(BLOCK * 2)
        if not data:
            return
        taken += len(data) // 2
        # After a stall (a busy machine) parec holds a backlog that pacat, paced by the same
        # clock, never drains: the room would grow longer for good. Skip it, as a room would.
        backlog = (time.monotonic() - start) - taken / RATE
        floor = backlog if floor is None else min(floor, backlog)
        if backlog - floor > 0.02:
            skip = int((backlog - floor) * RATE) // BLOCK * BLOCK
            taken += len(reader.stdout.read(skip * 2)) // 2
        x = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
        y = np.convolve(x, response)  # x.size + len(tail)
        y[: tail.size] += tail
        out, tail = y[: x.size], y[x.size:]
        writer.stdin.write((np.clip(out, -1, 1) * 32767).astype("<i2").tobytes())
        writer.stdin.flush()
        if not ready:
            ready = True
            print("ready", flush=True)


class Room:
    """A running rig (a process of this module); ``stop()`` ends it by its PID."""

    def __init__(self, env: dict[str, str], delay: float = 0.02, gain: float = 0.3, reverberance: int = 50) -> None:
        self.delay, self.gain = delay, gain
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--delay", str(delay), "--gain", str(gain), "--reverberance",
             str(reverberance)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._ready = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == "ready":
                self._ready.set()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Wait until the first block went round the room (the null sink plays silence: at once)."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Stop the rig (its parec and pacat end with their pipes)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


class HandsFree:
    """A voice session in hands-free mode (``listen_turn`` in a loop, as the app's mic button
    runs it), with what it heard counted: the tests' and the bench's view of turn-taking."""

    def __init__(self, session: Any) -> None:
        from oi_voice.voice.events import Interrupted, TranscriptReady, TurnFinished, TurnStarted

        self.session = session
        self.heard: list[str] = []  # transcripts of what the microphone turned into requests
        self.barge_ins: list[float] = []
        self.started: list[str] = []
        self.finished: list[Any] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()

        def on_event(event: object) -> None:
            with self._cond:
                if isinstance(event, TranscriptReady):
                    self.heard.append(event.text)
                elif isinstance(event, Interrupted) and event.reason == "barge-in":
                    self.barge_ins.append(event.at)
                elif isinstance(event, TurnStarted):
                    self.started.append(event.text)
                elif isinstance(event, TurnFinished):
                    self.finished.append(event)
                self._cond.notify_all()

        self._unsubscribe = session.subscribe(on_event)
        self._thread = threading.Thread(target=self._loop, name="hands-free-loop", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.session.listen_turn(timeout=600, cancel=self._stop)

    def wait(self, condition: Callable[[HandsFree], bool], timeout: float = 60.0) -> bool:
        """Wait until ``condition(self)`` holds (checked on every event)."""
        with self._cond:
            return self._cond.wait_for(lambda: condition(self), timeout)

    def typed_replies(self, texts: list[str], *, stop_when_heard: bool = False) -> list[Any]:
        """Type each text (its reply is spoken while the loop listens); their TurnResults."""
        results = []
        for text in texts:
            results.append(self.session.send_text(text))
            if stop_when_heard and (self.heard or self.barge_ins):
                break
        return results

    def close(self) -> None:
        """Stop the loop and wait for its turn to end."""
        self._stop.set()
        self.session.interrupt("test over", quiet=True)
        self._thread.join(60)
        self._unsubscribe()


@pytest.fixture
def echo_room(pulse: object) -> Iterator[Room]:
    """The speaker coupled into the microphone for one test (``pulse``: the voice_env fixture)."""
    env = getattr(pulse, "env")  # noqa: B009 - voice_env.Pulse, not imported: this file also runs alone
    room = Room(env)
    try:
        assert room.wait_ready(30), "the echo rig did not start"
        yield room
    finally:
        room.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--gain", type=float, default=0.3)
    parser.add_argument("--reverberance", type=int, default=50)
    a = parser.parse_args()
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        run(a.delay, a.gain, a.reverberance)
