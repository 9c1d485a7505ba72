"""Audio helpers shared by capture, STT and TTS: reading files, resampling, WAV writing.

Everything inside the voice layer is float32 mono; speech in is 16 kHz (what Whisper
and silero want), speech out is whatever the synthesizer made (espeak-ng: 22050 Hz).
Only numpy is imported at module level; PyAV (shipped with faster-whisper) is imported
when a file is not plain PCM WAV.
"""

from __future__ import annotations

import math
import os
import re
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from oi_voice.errors import AudioFileError

#: The rate of everything the microphone side hands around.
SAMPLE_RATE = 16000

Samples = npt.NDArray[np.float32]


def to_float(data: npt.NDArray[np.generic]) -> Samples:
    """PCM integers (or floats) -> float32 in -1..1."""
    if data.dtype == np.float32:
        return data.astype(np.float32, copy=False)
    if data.dtype.kind == "f":
        return data.astype(np.float32)
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned
        return ((data.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    scale = float(2 ** (8 * data.dtype.itemsize - 1))
    return (data.astype(np.float32) / scale).astype(np.float32)


def to_mono(data: npt.NDArray[np.float32]) -> Samples:
    """Average the channels of a (frames, channels) array; 1-D input is returned as is."""
    if data.ndim == 1:
        return data
    return data.mean(axis=1, dtype=np.float32).astype(np.float32)


def _lowpass(cutoff: float, taps: int = 63) -> Samples:
    """A windowed-sinc low-pass FIR; ``cutoff`` as a fraction of the input rate (0..0.5)."""
    n = np.arange(taps, dtype=np.float64) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    return (h / h.sum()).astype(np.float32)


def resample(data: Samples, src_rate: int, dst_rate: int) -> Samples:
    """Resample a whole mono signal (anti-aliased when going down)."""
    if src_rate == dst_rate or data.size == 0:
        return data.astype(np.float32, copy=False)
    resampler = StreamResampler(src_rate, dst_rate)
    return np.concatenate([resampler.process(data), resampler.flush()]).astype(np.float32)


class StreamResampler:
    """Resamples a mono stream block by block, with no seams between blocks.

    A FIR low-pass (only when downsampling) then linear interpolation: cheap, and good
    enough for speech recognition, which only needs the band below 8 kHz.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate, self.dst_rate = src_rate, dst_rate
        self._step = src_rate / dst_rate  # input samples per output sample
        self._taps = _lowpass(0.45 * dst_rate / src_rate) if dst_rate < src_rate else None
        width = 0 if self._taps is None else len(self._taps) - 1
        # Filter history, so each block is filtered as if the stream were one array.
        self._history = np.zeros(width, dtype=np.float32)
        self._filtered = np.zeros(0, dtype=np.float32)  # filtered input not yet interpolated past
        self._pos = 0.0  # position of the next output sample within self._filtered
        self._delay = width // 2

    def process(self, block: Samples) -> Samples:
        """Resample the next block of input; may return fewer or more samples than it got."""
        block = block.astype(np.float32, copy=False)
        if self._taps is not None:
            padded = np.concatenate([self._history, block])
            filtered = np.convolve(padded, self._taps, mode="valid").astype(np.float32)
            if len(self._taps) > 1:
                self._history = padded[-(len(self._taps) - 1):]
            if self._delay:  # the filter delays the signal by half its length: drop that once
                cut = min(self._delay, filtered.size)
                filtered, self._delay = filtered[cut:], self._delay - cut
        else:
            filtered = block
        data = np.concatenate([self._filtered, filtered])
        # Output samples whose two neighbours are both available.
        count = max(0, math.floor((data.size - 1 - self._pos) / self._step) + 1) if data.size > 1 else 0
        if count == 0:
            self._filtered = data
            return np.zeros(0, dtype=np.float32)
        positions = self._pos + self._step * np.arange(count)
        out = np.interp(positions, np.arange(data.size), data).astype(np.float32)
        next_pos = self._pos + self._step * count
        # Keep the last sample at least: the next output may fall between it and new input.
        keep_from = min(math.floor(next_pos), data.size - 1)
        self._filtered = data[keep_from:]
        self._pos = next_pos - keep_from
        return out

    def flush(self) -> Samples:
        """The last samples held back by the filter (call once at the end)."""
        if self._taps is None or not self._history.size:
            return np.zeros(0, dtype=np.float32)
        return self.process(np.zeros(len(self._taps) // 2, dtype=np.float32))


def load_audio_file(path: str | os.PathLike[str], rate: int = SAMPLE_RATE) -> Samples:
    """Read an audio file as float32 mono at ``rate``, whatever its own rate and channels.

    Plain PCM WAV is read with the standard library; anything else (float WAV, FLAC,
    MP3, OGG ...) through PyAV. Raises AudioFileError naming the file when it is
    missing, unreadable, not audio, or silent-empty.
    """
    p = Path(path)
    if not p.exists():
        raise AudioFileError(f"{p}: no such file")
    if p.is_dir():
        raise AudioFileError(f"{p}: is a folder, not an audio file")
    if not os.access(p, os.R_OK):
        raise AudioFileError(f"{p}: not readable (permission denied)")
    try:
        data, src_rate = _read_wav(p)
    except (wave.Error, EOFError, ValueError):
        data, src_rate = _read_with_av(p)
    except OSError as exc:
        raise AudioFileError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if data.size == 0:
        raise AudioFileError(f"{p}: contains no audio")
    return resample(data, src_rate, rate)


def _read_wav(path: Path) -> tuple[Samples, int]:
    with wave.open(str(path), "rb") as w:
        channels, width, src_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 3:  # 24-bit: widen to 32-bit by hand, numpy has no int24
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        wide = (b[:, 0].astype(np.int32) << 8) | (b[:, 1].astype(np.int32) << 16) | (b[:, 2].astype(np.int32) << 24)
        ints: npt.NDArray[np.generic] = wide
    elif width in (1, 2, 4):
        ints = np.frombuffer(raw, dtype={1: np.uint8, 2: np.int16, 4: np.int32}[width])
    else:
        raise ValueError(f"unsupported sample width {width}")
    if src_rate <= 0 or channels <= 0:
        raise ValueError("bad header")
    usable = ints.size - ints.size % channels
    samples = to_float(ints[:usable]).reshape(-1, channels)
    return to_mono(samples), src_rate


def _read_with_av(path: Path) -> tuple[Samples, int]:
    try:
        import av
    except ImportError as exc:  # faster-whisper brings PyAV; without it only PCM WAV is read
        raise AudioFileError(f"{path}: not a PCM WAV file, and PyAV is not installed to read it") from exc
    try:
        chunks: list[Samples] = []
        with av.open(str(path), mode="r") as container:
            if not container.streams.audio:
                raise AudioFileError(f"{path}: has no audio stream")
            stream = container.streams.audio[0]
            # Planar float, channels kept: we average them ourselves (swresample's downmix
            # adds +3 dB, which clips loud recordings).
            resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
            for frame in [*container.decode(stream), None]:
                for out in resampler.resample(frame):
                    chunks.append(to_mono(out.to_ndarray().astype(np.float32).T))
    except AudioFileError:
        raise
    except Exception as exc:  # PyAV raises its own tree (InvalidDataError ...) and OSErrors
        reason = getattr(exc, "strerror", None) or str(exc).split(":")[0]
        reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(reason)).strip() or type(exc).__name__
        raise AudioFileError(f"{path}: not a readable audio file ({reason})") from exc
    data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return data, SAMPLE_RATE


def write_wav(path: str | os.PathLike[str], samples: Samples, rate: int) -> None:
    """Write float32 mono samples as 16-bit PCM WAV."""
    pcm = np.clip(samples, -1.0, 1.0)
    ints = (pcm * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(ints.tobytes())


def level(samples: Samples) -> float:
    """Loudness for a meter: RMS in dBFS mapped from -60..0 dB to 0..1."""
    if samples.size == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 1e-6:
        return 0.0
    db = 20.0 * math.log10(rms)
    return min(1.0, max(0.0, (db + 60.0) / 60.0))
