"""Echo cancellation on the microphone: the app must not hear its own voice.

On a laptop's loudspeakers the microphone picks up every reply. What the app plays is
known exactly, so it is handed to an acoustic echo canceller as the reference and
subtracted from the microphone before anything listens (VAD, push-to-talk, Whisper).

- :class:`EchoCanceller` is the small protocol the capture path uses: ``played()``
  takes what went to the speaker (from the output stream's callback: a copy and a
  timestamp, nothing else), ``process()`` cleans one microphone block.
- :class:`WebRtcEchoCanceller` is WebRTC's audio processing (AEC3 with its noise
  suppression) through ``pywebrtc-audio``: chosen over LiveKit's ``AudioProcessingModule``
  (a 28 MB FFI library, protobuf per 10 ms frame, more near-end distortion) and
  ``aec-audio-processing`` (no manylinux or Windows wheels) — see the README's figures.
- :func:`echo_wanted` decides ``voice.echo_cancellation`` ``auto``: on, unless
  PulseAudio says the output is headphones.

Alignment: the reference is placed on a 16 kHz timeline by the time it is heard
(PortAudio's DAC time), the microphone by the time its blocks arrive (the earliest
arrival seen, so a busy machine's late reads do not move it). Both estimates err
towards the echo arriving *after* its reference, which is what AEC3 needs; it finds
the remaining delay (the room, the device buffers: tested up to 450 ms) itself.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from oi_voice.errors import AudioDeviceError
from oi_voice.voice.audio import SAMPLE_RATE, Samples, StreamResampler

log = logging.getLogger("oi_voice.voice")

#: WebRTC processes 10 ms frames.
FRAME = SAMPLE_RATE // 100
#: The reference is fed this much ahead of the microphone time it is matched with: the
#: timestamps are estimates, and an echo must never reach the canceller before its reference.
LEAD = 0.03
#: Seconds of reference after which the canceller counts as converged even when it never
#: heard an echo to remove (headphones with cancellation forced on).
WARM = 3.0
#: How late an echo can be and still be recognised as one (AEC3's own range, measured: 450 ms+).
MAX_DELAY = 0.5
_HISTORY = int(1.2 * SAMPLE_RATE)
#: Reference samples kept on the timeline (a power of two, for the ring index).
_RING = 1 << 16  # 4 s


class EchoCanceller(Protocol):
    """Removes what the app played from what the microphone heard."""

    def played(self, samples: Samples, rate: int, heard_at: float) -> None:
        """``samples`` at ``rate`` went to the speaker; the first is heard at monotonic ``heard_at``.

        Called on the audio device's thread: must only copy.
        """

    def process(self, block: Samples) -> Samples:
        """Clean one microphone block (16 kHz float32); may return a few samples more or fewer."""

    @property
    def warm(self) -> bool:
        """Whether it has heard enough of the speaker to have learnt the room."""

    def echo_likeness(self, seconds: float) -> float:
        """How much the last ``seconds`` of cleaned audio resemble what was played (0..1).

        A voice over the reply is unlike the reply; an echo the canceller let through
        (a device glitch moved it) is the reply, a little late.
        """


class WebRtcEchoCanceller:
    """WebRTC AEC3 + noise suppression (``pywebrtc-audio``) with a timestamped reference.

    ``erle_db()`` reports the echo removed so far (over frames where something played).
    """

    def __init__(self, *, noise_suppression: bool = True, gain_control: bool = False, lead: float = LEAD) -> None:
        try:
            from pywebrtc_audio import AudioProcessor
        except ImportError as exc:
            raise AudioDeviceError("echo cancellation needs pywebrtc-audio: install oi-voice[voice]") from exc
        # AGC is off by default: it lifts the residual echo with everything else (measured:
        # 18 dB less echo removed), and Whisper and silero do not need a levelled input.
        self._apm = AudioProcessor(sample_rate=SAMPLE_RATE, echo_cancellation=True,
                                   noise_suppression=noise_suppression, auto_gain_control=gain_control)
        self._lead = int(lead * SAMPLE_RATE)
        self._incoming: collections.deque[tuple[Samples, int, float]] = collections.deque()
        self._ring = np.zeros(_RING, dtype=np.float32)
        self._t_zero = time.monotonic()  # timeline index 0
        self._write_end: int | None = None  # timeline index right after the last reference written
        self._resampler: StreamResampler | None = None
        self._resampler_rate = 0
        self._mic_samples = 0  # microphone samples seen
        self._mic_offset: float | None = None  # monotonic time of microphone sample 0
        self._mic_seen_at = 0.0
        self._near_rest = np.zeros(0, dtype=np.float32)
        self._far_rest = np.zeros(0, dtype=np.float32)
        self._lock = threading.Lock()
        self._echo_in = 0.0
        self._echo_out = 0.0
        self._echo_seconds = 0.0
        self._far_hold = 0  # frames left in the room's tail after the speaker went quiet
        self._burst = [0.0, 0.0]  # microphone and cleaned power of the current burst
        self._recent = (0.0, 0.0)  # the same, decaying (~0.5 s)
        self._converged = False
        self._history_far = np.zeros(0, dtype=np.float32)  # the reference as fed, and the output
        self._history_out = np.zeros(0, dtype=np.float32)
        #: ERLE (dB) of each burst of speech so far (a reply, when its sentences follow closely).
        self.bursts: list[float] = []
        #: Seconds of microphone audio processed, and the CPU seconds it took.
        self.seconds = 0.0
        self.cpu = 0.0

    # -- the speaker side (device thread) ----------------------------------------------------

    def played(self, samples: Samples, rate: int, heard_at: float) -> None:
        """Queue a copy; the capture thread places it on the timeline."""
        self._incoming.append((np.array(samples, dtype=np.float32, copy=True), rate, heard_at))

    def _place_reference(self) -> None:
        while self._incoming:
            samples, rate, heard_at = self._incoming.popleft()
            start = round((heard_at - self._t_zero) * SAMPLE_RATE)
            # Contiguous device buffers continue where the last ended (their timestamps jitter).
            contiguous = self._write_end is not None and abs(start - self._write_end) < FRAME
            if not contiguous or rate != self._resampler_rate:
                self._resampler = StreamResampler(rate, SAMPLE_RATE) if rate != SAMPLE_RATE else None
                self._resampler_rate = rate
            else:
                start = self._write_end if self._write_end is not None else start
            data = self._resampler.process(samples) if self._resampler is not None else samples
            if data.size == 0:
                continue
            if data.size > _RING // 2:
                data = data[-_RING // 2:]
            idx = (start + np.arange(data.size)) % _RING
            self._ring[idx] = data
            self._write_end = start + data.size

    def _take_reference(self, start: int, count: int) -> Samples:
        idx = (start + np.arange(count)) % _RING
        far = self._ring[idx].copy()
        self._ring[idx] = 0.0  # consumed: the ring must not replay it 4 s later
        return far

    # -- the microphone side (capture thread) ------------------------------------------------

    def process(self, block: Samples) -> Samples:
        """Clean ``block``: align the reference with it and run whole 10 ms frames."""
        t_cpu = time.thread_time()
        now = time.monotonic()
        with self._lock:
            self._place_reference()
            # The earliest arrival is the best clock for the microphone; it may creep later
            # (1 ms/s) so a device clock slower than ours is followed.
            offset = now - (self._mic_samples + block.size) / SAMPLE_RATE
            if self._mic_offset is None or offset < self._mic_offset:
                self._mic_offset = offset
            else:
                self._mic_offset += min(offset - self._mic_offset, 0.001 * (now - self._mic_seen_at))
            self._mic_seen_at = now
            start = round((self._mic_offset - self._t_zero) * SAMPLE_RATE) + self._mic_samples + self._lead
            far = self._take_reference(start, block.size)
            self._mic_samples += block.size
            near = np.concatenate([self._near_rest, block.astype(np.float32, copy=False)])
            far_all = np.concatenate([self._far_rest, far])
            whole = near.size // FRAME * FRAME
            self._near_rest, self._far_rest = near[whole:], far_all[whole:]
            if whole == 0:
                out = np.zeros(0, dtype=np.float32)
            else:
                out = np.asarray(self._apm.process(np.ascontiguousarray(near[:whole]),
                                                   np.ascontiguousarray(far_all[:whole])), dtype=np.float32)
                self._measure(near[:whole], far_all[:whole], out)
                self._keep(far_all[:whole], out)
                if not self._far_hold:
                    # Nothing played within the room's tail: there is no echo to remove, and the
                    # canceller's noise suppression only blurs the voice for Whisper (push-to-talk
                    # heard "six times" as "it time is"). It still ran, to keep its state.
                    out = near[:whole].copy()
        self.seconds += block.size / SAMPLE_RATE
        self.cpu += time.thread_time() - t_cpu
        return out

    def _keep(self, far: Samples, out: Samples) -> None:
        self._history_far = np.concatenate([self._history_far, far])[-_HISTORY:]
        self._history_out = np.concatenate([self._history_out, out])[-_HISTORY:]

    def echo_likeness(self, seconds: float) -> float:
        """The largest normalised correlation of the last ``seconds`` of output with the reference.

        Searched over the delays AEC3 handles (up to :data:`MAX_DELAY`).
        """
        with self._lock:
            out = self._history_out[-int(seconds * SAMPLE_RATE):].astype(np.float64)
            far = self._history_far[-(out.size + int(MAX_DELAY * SAMPLE_RATE)):].astype(np.float64)
        if out.size == 0 or far.size < out.size:
            return 0.0
        n = 1 << math.ceil(math.log2(far.size + out.size))
        # corr[k] = sum_t out[t] * far[k + t]: the output against every window of the reference.
        corr = np.fft.irfft(np.fft.rfft(far, n) * np.conj(np.fft.rfft(out, n)), n)[: far.size - out.size + 1]
        energy = np.concatenate([[0.0], np.cumsum(far * far)])
        windows = energy[out.size:] - energy[: far.size - out.size + 1]
        denominator = np.sqrt(np.maximum(windows, 1e-12) * max(float(np.dot(out, out)), 1e-12))
        return float(np.max(np.abs(corr) / denominator))

    def _measure(self, near: Samples, far: Samples, out: Samples) -> None:
        # Echo frames: something played within the room's tail (0.3 s) and the microphone heard it.
        frames = near.size // FRAME
        far_on = np.mean(np.square(far[:frames * FRAME].reshape(frames, FRAME)), axis=1) > 1e-6
        near_pow = np.sum(np.square(near[:frames * FRAME].reshape(frames, FRAME), dtype=np.float64), axis=1)
        out_pow = np.sum(np.square(out[:frames * FRAME].reshape(frames, FRAME), dtype=np.float64), axis=1)
        for i in range(frames):
            was = self._far_hold
            self._far_hold = 30 if far_on[i] else max(0, self._far_hold - 1)
            if far_on[i]:
                self._echo_seconds += FRAME / SAMPLE_RATE
            if self._far_hold and near_pow[i] > 1e-7 * FRAME:
                self._echo_in += float(near_pow[i])
                self._echo_out += float(out_pow[i])
                self._burst[0] += float(near_pow[i])
                self._burst[1] += float(out_pow[i])
                # The last ~0.5 s of echo: once 10 dB of it is gone, AEC3 has found the room.
                self._recent = (0.98 * self._recent[0] + float(near_pow[i]), 0.98 * self._recent[1] + float(out_pow[i]))
                if self._echo_seconds >= 1.5 and self._recent[0] > 10.0 * self._recent[1]:
                    self._converged = True
            elif was and not self._far_hold and self._burst[0] > 0.0:
                # One burst of speech (a reply's sentences) and its tail are over.
                self.bursts.append(10.0 * math.log10(self._burst[0] / max(self._burst[1], 1e-12)))
                self._burst = [0.0, 0.0]

    @property
    def warm(self) -> bool:
        """Converged: it removes 10 dB of the echo, or :data:`WARM` s of the speaker went through."""
        return self._converged or self._echo_seconds >= WARM

    def erle_db(self) -> float | None:
        """Echo return loss enhancement so far: microphone power / cleaned power while playing."""
        if self._echo_in <= 0.0:
            return None
        return 10.0 * math.log10(self._echo_in / max(self._echo_out, 1e-12))


# --- when to cancel ---------------------------------------------------------------------------

_HEADPHONE_WORDS = re.compile(r"head(phone|set)|earphone|earbud|hands-?free|headset", re.IGNORECASE)


def headphones_in_use(timeout: float = 2.0) -> bool | None:
    """Whether PulseAudio's default output is headphones (port or form factor); None: unknown."""
    pactl = shutil.which("pactl")
    if pactl is None:
        return None
    try:
        default = subprocess.run([pactl, "get-default-sink"], capture_output=True, text=True, timeout=timeout)
        sinks = subprocess.run([pactl, "list", "sinks"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    if default.returncode != 0 or sinks.returncode != 0:
        return None
    return sink_is_headphones(sinks.stdout, default.stdout.strip())


def sink_is_headphones(listing: str, sink: str) -> bool | None:
    """From ``pactl list sinks`` output: is ``sink`` headphones? None when it is not listed."""
    for section in re.split(r"\n(?=Sink #)", listing):
        if not re.search(rf"^\s*Name: {re.escape(sink)}\s*$", section, re.MULTILINE):
            continue
        port = re.search(r"^\s*Active Port: (.+)$", section, re.MULTILINE)
        form = re.search(r'device\.form_factor = "([^"]*)"', section)
        bus = re.search(r'device\.bus = "([^"]*)"', section)
        if form and form.group(1) in ("headphone", "headset", "hands-free"):
            return True
        if port and _HEADPHONE_WORDS.search(port.group(1)):
            return True
        # A Bluetooth sink with no form factor is most often a headset.
        return bool(bus and bus.group(1) == "bluetooth" and not form)
    return None


def echo_wanted(mode: str, headphones: bool | None = None) -> bool:
    """``voice.echo_cancellation``: ``on``, ``off``, or ``auto`` (on unless the output is headphones).

    ``headphones`` is looked up (PulseAudio) when not given.
    """
    if mode == "on":
        return True
    if mode == "off":
        return False
    if headphones is None:
        headphones = headphones_in_use()
    return headphones is not True


def echo_canceller(mode: str, source: object, speaker: object,
                   report: Callable[[str], None]) -> EchoCanceller | None:
    """The canceller a session needs: only a device microphone can hear a device speaker.

    ``mode`` is ``voice.echo_cancellation``; a missing package is ``report``-ed and the
    microphone works uncancelled.
    """
    from oi_voice.voice.capture import Microphone
    from oi_voice.voice.playback import SoundDeviceSpeaker

    if not isinstance(source, Microphone) or not isinstance(speaker, SoundDeviceSpeaker):
        return None
    if not echo_wanted(mode):
        log.info("echo cancellation is off (%s)", "headphones" if mode == "auto" else "voice.echo_cancellation")
        return None
    try:
        return WebRtcEchoCanceller()
    except AudioDeviceError as exc:
        report(f"{exc}; the microphone will hear the replies")
        return None
