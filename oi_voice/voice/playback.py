"""Speech out on a device: clips played through a sounddevice stream that ``stop()`` cuts at once.

A :class:`Speaker` plays clips: :class:`SoundDeviceSpeaker` through an OutputStream
whose ``stop()`` drops everything at once (the stream is aborted, not drained);
:class:`WavFileSpeaker` writes a file (the headless ``--output FILE.wav``, and tests).
Each clip handed over becomes a :class:`Playback` that says when it started and
whether it finished or was cut.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oi_voice.errors import AudioDeviceError, AudioDeviceLost
from oi_voice.voice import devices
from oi_voice.voice.audio import Samples, resample, write_wav
from oi_voice.voice.capture import resolve_device, sounddevice
from oi_voice.voice.tts_base import TTS_RATE, Clip

log = logging.getLogger("oi_voice.voice")


class Playback:
    """One clip handed to a speaker: when it started, whether it finished or was cut."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.started = threading.Event()
        self.started_at: float | None = None
        self.done = threading.Event()
        self.cut = False

    def mark_started(self) -> None:
        """The first samples went to the device."""
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.started.set()

    def finish(self, cut: bool = False) -> None:
        """Every sample went to the device, or (``cut``) it was stopped."""
        self.cut = self.cut or cut
        self.started.set()
        self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until played or cut; False on timeout."""
        return self.done.wait(timeout)


class Speaker(Protocol):
    """Where speech goes."""

    #: Seconds between a sample leaving ``play`` and it being heard.
    latency: float

    def play(self, clip: Clip) -> Playback:
        """Queue ``clip`` after whatever is playing; returns at once."""

    def stop(self) -> None:
        """Cut all sound now and drop everything queued."""

    def pause(self) -> None:
        """Nothing is queued: release the device until the next ``play``."""

    def close(self) -> None:
        """Release the device for good."""


class SoundDeviceSpeaker:
    """A sounddevice OutputStream that plays queued clips and can be cut at once.

    The stream keeps running between sentences (silence), so a sentence starts without
    reopening the device; ``stop()`` aborts the stream, which drops what is already
    buffered, and the next ``play`` starts it again.
    """

    def __init__(self, device: str | int | None = None, *, rate: int = TTS_RATE) -> None:
        self.device = device
        self.rate = rate
        self.latency = 0.0
        self._stream: Any = None
        self._lock = threading.Lock()  # the clip queue (shared with the audio callback)
        self._ctl = threading.Lock()  # opening, starting and aborting the stream
        self._queue: collections.deque[list[Any]] = collections.deque()  # [playback, samples, position]
        #: Set by the owner: called with an AudioDeviceLost, then with None when the speaker is back.
        self.on_device: Callable[[AudioDeviceLost | None], None] = lambda _lost: None
        self._lost: AudioDeviceLost | None = None
        self._opened_at = 0
        self.watch = devices.StreamWatch("output", on_lost=self._device_lost, reopen=self._reopen,
                                         on_back=lambda: self.on_device(None), device=device)
        #: Receives what goes to the device and when it is heard (the echo canceller's reference).
        self.on_played: Callable[[Samples, int, float], None] | None = None

    def open(self) -> None:
        """Open the output stream now (AudioDeviceError when there is no usable speaker)."""
        with self._ctl:
            self._open_locked()

    def _device_lost(self, error: AudioDeviceLost) -> Any:
        # The monitor's thread: no _ctl here (a start() stuck on a frozen server holds it).
        self._lost = error
        stream, self._stream = self._stream, None
        self.on_device(error)  # said before the playbacks are released (and a turn ends)
        self._drop_all()
        return stream

    def _reopen(self) -> None:
        with self._ctl:
            if self._stream is None:
                self._open_stream()
            self._lost = None

    def _open_locked(self) -> None:
        if self._lost is not None:
            raise self._lost  # the recovery thread reopens it; a frozen server must not block play()
        if self._stream is None:
            self._open_stream()

    def _open_stream(self) -> None:
        sd = sounddevice()
        index = resolve_device(self.device, "output")
        try:
            # 100 ms of buffer: "low" underruns when the machine is busy, and a cut does not
            # wait for the buffer (abort() drops it).
            self._opened_at = devices.losses()
            with devices.portaudio_lock():
                self._stream = devices.opened(sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32",
                                                              device=index, callback=self._callback, latency=0.1))
        except sd.PortAudioError as exc:
            raise AudioDeviceError(f"the speaker could not be opened (missing or busy): {exc}") from exc
        self.latency = float(self._stream.latency)

    def play(self, clip: Clip) -> Playback:
        """Queue ``clip`` and make sure the stream runs."""
        playback = Playback(clip)
        samples = clip.samples if clip.rate == self.rate else resample(clip.samples, clip.rate, self.rate)
        if samples.size == 0:
            playback.finish()
            return playback
        with self._ctl:
            self._open_locked()
            with self._lock:
                self._queue.append([playback, samples.astype(np.float32), 0])
            if not self._stream.active:
                self._start_locked()
        return playback

    def _start_locked(self) -> None:
        stream = self._stream
        try:
            if self._opened_at != devices.losses():
                raise AudioDeviceError("a device was lost since this stream was opened")
            devices.start_stream(stream, "output")
        except Exception:
            # A stream opened before the sound server restarted is dead: one fresh one before giving up.
            log.info("the output stream did not start; opening it again", exc_info=True)
            self._stream = None
            devices.close_stream(stream)
            try:
                self._open_stream()
                stream = self._stream
                devices.start_stream(stream, "output")
            except Exception as exc:
                self._drop_all()
                stream, self._stream = self._stream, None
                devices.close_stream(stream)
                raise AudioDeviceError(f"the speaker could not be started: {exc}") from exc
        self.watch.running(stream)

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy queued samples, nothing else.
        self.watch.beat(status)
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                entry = self._queue[0]
                playback, samples, pos = entry
                if pos == 0:
                    playback.mark_started()
                n = min(frames - filled, samples.size - pos)
                out[filled:filled + n] = samples[pos:pos + n]
                filled += n
                entry[2] = pos + n
                if entry[2] >= samples.size:
                    self._queue.popleft()
                    playback.finish()
        if filled < frames:
            out[filled:] = 0.0
        if filled and self.on_played is not None:
            ahead = time_info.outputBufferDacTime - time_info.currentTime
            self.on_played(out[:filled], self.rate, time.monotonic() + (ahead if 0.0 < ahead < 1.0 else 0.0))

    def stop(self) -> None:
        """Cut the sound now: drop queued clips and what the device has buffered."""
        self._drop_all()
        with self._ctl:
            if self._stream is not None and self._stream.active:
                self.watch.idle()
                try:
                    self._stream.abort()  # unlike stop(), does not play out the buffers
                except Exception:
                    log.debug("aborting the output stream failed", exc_info=True)

    def _drop_all(self) -> None:
        with self._lock:
            entries = list(self._queue)
            self._queue.clear()
        for playback, _samples, _pos in entries:
            playback.finish(cut=True)

    def pause(self) -> None:
        """Stop the (silent) stream when nothing is queued; the next play restarts it."""
        with self._ctl:
            with self._lock:
                busy = bool(self._queue)
            if not busy and self._stream is not None and self._stream.active:
                self.watch.idle()
                try:
                    self._stream.stop()
                except Exception:
                    log.debug("stopping the output stream failed", exc_info=True)

    def close(self) -> None:
        """Cut and close the stream (and stop reopening a lost one)."""
        self.watch.close()
        self.stop()
        with self._ctl:
            stream, self._stream = self._stream, None
        devices.close_stream(stream)  # off-thread, bounded: a dead device's close can hang


class WavFileSpeaker:
    """A speaker that writes everything it is given to a WAV file (on ``close``).

    The headless runner's ``--output FILE.wav``, and a recording speaker for tests.
    Clips are "played" as soon as they are queued.
    """

    def __init__(self, path: str | Path | None = None, *, rate: int = TTS_RATE) -> None:
        self.path = Path(path) if path is not None else None
        self.rate = rate
        self.latency = 0.0
        self._chunks: list[Samples] = []
        self.played: list[Playback] = []
        self._lock = threading.Lock()

    def play(self, clip: Clip) -> Playback:
        """Append the clip."""
        playback = Playback(clip)
        samples = clip.samples if clip.rate == self.rate else resample(clip.samples, clip.rate, self.rate)
        with self._lock:
            self._chunks.append(samples)
            self.played.append(playback)
        playback.mark_started()
        playback.finish()
        return playback

    @property
    def samples(self) -> Samples:
        """Everything played so far."""
        with self._lock:
            return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)

    def samples_at(self, rate: int) -> Samples:
        """Everything played so far, resampled to ``rate`` (16000 for speech recognition)."""
        return resample(self.samples, self.rate, rate)

    def stop(self) -> None:
        """Nothing is playing in real time: nothing to cut."""

    def pause(self) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Write the file."""
        if self.path is not None:
            write_wav(self.path, self.samples, self.rate)
