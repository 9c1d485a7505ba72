"""Audio devices that come and go: a lost microphone or speaker is noticed within about a
second, reported once, and reopened on its own when it (or the sound server) returns.

What PortAudio 19.6 does here (ALSA host API through PulseAudio's ALSA plugin, measured):

- the sound server killed, or the device's module unloaded with no other device left:
  the stream's callback thread ends (``stream.active`` turns False at once, no status
  flag set) and PortAudio prints ``Expression 'alsa_snd_pcm_poll_descriptors_revents(...)'
  failed`` lines on C's ``stderr``;
- the server frozen (SIGSTOP, a hung daemon): the callbacks just stop, ``active`` stays
  True, and ``abort()`` blocks for the PulseAudio client's ~30 s timeout;
- a default device switched, or one of several devices pulled: PulseAudio (and
  PipeWire's pulse server) moves the open stream itself; nothing to do;
- PortAudio lists devices once, in ``Pa_Initialize``: a server that was down then leaves
  an empty list until a re-initialisation, which closes every open stream.

Hence: a :class:`StreamWatch` per device owner, fed by its callback (one store per
block); one monitor thread that declares a running stream lost when it went inactive by
itself or delivered nothing for :data:`STALL` s of the monitor's own on-schedule time;
dead streams closed (and stale ones started) on a helper thread with a timeout,
abandoned when they hang; a recovery thread per lost device that reopens it (the
system's default, or the device named) with a growing pause, re-initialising PortAudio
when its list lacks the device and no stream is open. Measured here: a killed server is
noticed in 0.3 s and a frozen one in 0.4-1.3 s; a restarted one is back in 0.5-5 s.
:func:`quiet_native_stderr` keeps PortAudio's and ALSA's C-level noise off the terminal
(into the debug log) by pointing C's ``stderr`` stream at a filter; Python's own
``sys.stderr`` and child processes keep the real fd 2.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, Literal

from oi_voice.errors import AudioDeviceError, AudioDeviceLost

log = logging.getLogger("oi_voice.voice")

Kind = Literal["input", "output"]

#: Seconds without a callback after which a running stream counts as lost. Callbacks
#: come every 15-65 ms here. Only time in which the monitor itself ran on schedule counts:
#: on a starved machine (load 15 on 2 cores, models loading) callbacks come seconds late,
#: and a late monitor sees that it is the machine, not the device.
STALL = 1.2
#: Seconds a freshly opened stream may take for its first callback (the first stream
#: after a sound server starts took ~2 s here).
START_GRACE = 5.0
#: How often the monitor looks.
TICK = 0.2
#: Seconds a close may take before the stream is abandoned.
CLOSE_TIMEOUT = 2.0
#: Pauses between attempts to reopen a lost device: the first, and the longest.
RETRY_FIRST, RETRY_LONGEST = 0.25, 2.0


# --- C's stderr ------------------------------------------------------------------------------

#: Lines of PortAudio's and ALSA's (and JACK's, probed at init) diagnostics.
_NOISE = re.compile(rb"^(Expression '.*' failed in '|ALSA lib |Cannot connect to server|jack server |"
                    rb"JackShm|\s*$)")
_quiet_lock = threading.Lock()
_quiet_installed = False


def quiet_native_stderr() -> bool:
    """Send C code's ``stderr`` (PortAudio's and ALSA's noise) through a filter; True when installed.

    C's ``stderr`` FILE is pointed at a pipe; a thread drops the known noise into the debug
    log and copies any other line to fd 2. fd 2 itself is untouched, so Python's
    ``sys.stderr`` and child processes are unaffected. Linux (glibc) only; idempotent.
    """
    global _quiet_installed
    with _quiet_lock:
        if _quiet_installed:
            return True
        if not sys.platform.startswith("linux"):
            return False
        try:
            libc = ctypes.CDLL(None)
            c_stderr = ctypes.c_void_p.in_dll(libc, "stderr")
            libc.fdopen.restype = ctypes.c_void_p
            libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
            libc.setvbuf.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t]
        except (OSError, ValueError, AttributeError):
            return False
        read_fd, write_fd = os.pipe()  # both close-on-exec: children never hold the pipe
        stream = libc.fdopen(write_fd, b"w")
        if not stream:
            os.close(read_fd)
            os.close(write_fd)
            return False
        libc.setvbuf(stream, None, 1, 0)  # _IOLBF: each line reaches the filter at once
        threading.Thread(target=_filter_stderr, args=(read_fd,), name="oi-voice-c-stderr", daemon=True).start()
        c_stderr.value = stream  # the FILE stays open for the life of the process
        _quiet_installed = True
        # Registered after sounddevice's own exit handler, so it runs first (atexit is LIFO).
        atexit.register(_stop_recoveries)
        return True


def _filter_stderr(fd: int) -> None:
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(4096):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if _NOISE.match(line):
                    if line.strip():
                        log.debug("audio library: %s", line.decode(errors="replace"))
                else:
                    with contextlib.suppress(OSError):
                        os.write(2, line + b"\n")


# --- PortAudio's streams ---------------------------------------------------------------------

_pa_lock = threading.RLock()  # opening, re-initialising
_open_streams: set[int] = set()  # id() of streams opened and not yet closed
_abandoned: set[int] = set()  # closes that hung
_registry_lock = threading.Lock()


def opened(stream: Any) -> Any:
    """Note a stream as open (so PortAudio is not re-initialised under it); returns it."""
    with _registry_lock:
        _open_streams.add(id(stream))
    return stream


def portaudio_lock() -> threading.RLock:
    """Held while opening a stream: a re-initialisation must not run meanwhile."""
    return _pa_lock


def close_stream(stream: Any, timeout: float = CLOSE_TIMEOUT) -> bool:
    """Abort and close ``stream`` on a helper thread; False when that hung and it was abandoned.

    Closing a stream whose server froze blocks for the client's timeout (~30 s): nothing
    waits that long. An abandoned stream keeps PortAudio from being re-initialised (or
    terminated at exit, which would close it again) until its close returns.
    """
    if stream is None:
        return True
    key = id(stream)
    done = threading.Event()

    def close() -> None:
        try:
            stream.abort()
        except Exception:  # the device is already gone: aborting may fail, closing must be tried
            log.debug("aborting a stream failed", exc_info=True)
        try:
            stream.close()
        except Exception:
            log.debug("closing a stream failed", exc_info=True)
        with _registry_lock:
            _open_streams.discard(key)
            _abandoned.discard(key)
        done.set()

    threading.Thread(target=close, name="oi-voice-stream-close", daemon=True).start()
    if done.wait(timeout):
        return True
    with _registry_lock:
        if not done.is_set():
            _abandoned.add(key)
    log.info("an audio stream did not close within %.0f s; left behind", timeout)
    _skip_portaudio_exit()
    return False


_shutting_down = threading.Event()


def _stop_recoveries() -> None:
    """At exit: no reopening may run while PortAudio is terminated (libpulse aborts the process)."""
    _shutting_down.set()
    if not _pa_lock.acquire(timeout=CLOSE_TIMEOUT):  # kept: nothing opens after this
        _skip_portaudio_exit()


def start_stream(stream: Any, kind: Kind, timeout: float = CLOSE_TIMEOUT) -> None:
    """``stream.start()`` bounded by ``timeout``: a stream opened before its sound server died
    can block in ``Pa_StartStream`` for ever. Then it is abandoned and AudioDeviceLost raised."""
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            stream.start()
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=start, name="oi-voice-stream-start", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        with _registry_lock:
            _abandoned.add(id(stream))
        _skip_portaudio_exit()
        raise AudioDeviceLost(kind, "stalled", f"the stream did not start within {timeout:.0f} s")
    if outcome[0] is not None:
        raise outcome[0]


_losses = 0


def losses() -> int:
    """How many devices were lost so far in this process: a stream opened before the last
    loss may belong to a sound server that died since, and is replaced before it is started."""
    return _losses


def _skip_portaudio_exit() -> None:
    # sounddevice's exit handler stops the last callback stream and terminates PortAudio, which
    # closes every open stream: with a hung one, the process would hang on its way out.
    sd = sys.modules.get("sounddevice")
    handler = getattr(sd, "_exit_handler", None)
    if handler is not None:
        atexit.unregister(handler)


def refresh_devices(sd: ModuleType) -> bool:
    """Re-initialise PortAudio so it lists the devices anew; False when a stream is open (not safe).

    Needed when the sound server was down at start (an empty list) or a device was
    added; ``Pa_Terminate`` would close every open stream, so it runs only with none.
    """
    with _pa_lock:
        with _registry_lock:
            if _open_streams or _abandoned:
                return False
        # The pair sounddevice itself offers; our stderr filter takes the probe noise.
        sd._terminate()
        with signal_mask_kept():
            sd._initialize()
        return True


@contextlib.contextmanager
def signal_mask_kept() -> Iterator[None]:
    """Restore the calling thread's signal mask afterwards: PortAudio's initialisation (ALSA's
    PulseAudio plugin) blocks SIGPIPE in the thread that runs it, and threads started later
    inherit the mask, as do the programs they start: ``yes | head`` in a code run printed
    "Broken pipe" once sounddevice was imported."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


# --- watching a stream -----------------------------------------------------------------------


class StreamWatch:
    """What the monitor knows about one device owner's stream (a microphone's, a speaker's).

    The owner calls :meth:`beat` from its callback, :meth:`running` after it started the
    stream and :meth:`idle` before it stops it on purpose. When the stream is lost the
    monitor calls ``on_lost(error)`` (on its thread: drop the stream, return it for closing),
    then ``reopen()`` from a recovery thread until it stops raising AudioDeviceError, then
    ``on_back()``.
    """

    def __init__(self, kind: Kind, *, on_lost: Callable[[AudioDeviceLost], Any],
                 reopen: Callable[[], None], on_back: Callable[[], None], device: str | int | None = None) -> None:
        self.kind = kind
        #: The device asked for (index or name; None: the system's default).
        self.device = device
        self.on_lost = on_lost
        self.reopen = reopen
        self.on_back = on_back
        self.lost: AudioDeviceLost | None = None
        self.flags = 0
        self._stream: Any = None
        self._since: float | None = None  # when the stream was (re)started; None: not expected to run
        self._grace = START_GRACE
        self._last = 0.0
        self._seen = 0.0  # the last beat the monitor saw
        self._silent = 0.0  # on-schedule seconds without a beat
        self._delivered = False  # a beat since the stream was (re)started
        self.closed = threading.Event()

    def beat(self, status: Any = None) -> None:
        """A callback arrived (PortAudio's thread: two stores, nothing else)."""
        self._last = time.monotonic()
        if status:
            self.flags += 1

    def running(self, stream: Any) -> None:
        """``stream`` was started and should deliver callbacks from now on."""
        fresh = stream is not self._stream
        self.closed.clear()
        self._stream = stream
        self._grace = START_GRACE if fresh else STALL
        self._seen, self._silent, self._delivered = self._last, 0.0, False
        self._since = time.monotonic()
        _monitor().add(self)

    def idle(self) -> None:
        """The owner is about to stop the stream on purpose (no callbacks expected)."""
        self._since = None

    def close(self) -> None:
        """The owner is done for good: stop watching and stop any recovery (waiting for an attempt
        under way, a bounded while)."""
        self._since = None
        self.closed.set()
        _monitor().remove(self)
        if _pa_lock.acquire(timeout=CLOSE_TIMEOUT):
            _pa_lock.release()

    def check(self, credit: float) -> AudioDeviceLost | None:
        """Whether the running stream is lost (called by the monitor, with the seconds since its
        last look that count: 0 when the monitor itself ran late)."""
        stream, since = self._stream, self._since
        if stream is None or since is None or self.lost is not None:
            return None
        try:
            active = bool(stream.active)
        except Exception:  # a stream PortAudio no longer knows
            active = False
        if not active and self._since is not None:
            return AudioDeviceLost(self.kind, "stopped", "the sound system ended its stream")
        if self._last != self._seen:
            self._seen, self._silent, self._delivered = self._last, 0.0, True
            return None
        self._silent += credit
        if self._silent > (STALL if self._delivered else self._grace):
            return AudioDeviceLost(self.kind, "stalled", f"no audio for {self._silent:.1f} s")
        return None


class _Monitor:
    """One thread that looks at every running stream each :data:`TICK` s."""

    def __init__(self) -> None:
        self._watches: set[StreamWatch] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, watch: StreamWatch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="oi-voice-device-monitor", daemon=True)
                self._thread.start()

    def remove(self, watch: StreamWatch) -> None:
        with self._lock:
            self._watches.discard(watch)

    def _run(self) -> None:
        looked = time.monotonic()
        while True:
            with self._lock:
                watches = list(self._watches)
                if not watches:
                    self._thread = None
                    return
            now = time.monotonic()
            elapsed, looked = now - looked, now
            credit = elapsed if elapsed <= 2 * TICK else 0.0  # late: the machine is starved, not the device
            for watch in watches:
                lost = watch.check(credit)
                if lost is not None:
                    lose(watch, lost)
            time.sleep(TICK)  # a polling period, not a synchronisation


_the_monitor = _Monitor()


def _monitor() -> _Monitor:
    return _the_monitor


def lose(watch: StreamWatch, error: AudioDeviceLost) -> None:
    """Declare ``watch``'s stream lost (the monitor, or the owner on a PortAudio error):
    tell the owner, close the dead stream off-thread, and start reopening."""
    if watch.lost is not None or watch.closed.is_set():
        return
    global _losses
    watch.lost = error
    watch._since = None
    _losses += 1
    log.info("%s", error)
    # The owner's handling may wait for a lock a stuck call holds: never on the monitor's thread.
    threading.Thread(target=_recover, args=(watch, error), name=f"oi-voice-{watch.kind}-recovery",
                     daemon=True).start()


def _recover(watch: StreamWatch, error: AudioDeviceLost) -> None:
    dead = watch.on_lost(error)
    watch._stream = None
    close_stream(dead)
    from oi_voice.voice.capture import resolve_device, sounddevice

    def listed() -> bool:
        try:
            resolve_device(watch.device, watch.kind)
        except AudioDeviceError:
            return False
        return True

    pause = RETRY_FIRST
    while not watch.closed.wait(pause):  # the pause between attempts, or the owner closed
        try:
            with _pa_lock:
                if watch.closed.is_set() or _shutting_down.is_set():
                    return
                # Re-initialising probes every host API (JACK's threads among them): only when
                # PortAudio's list lacks the device (the server was down at start, a new device).
                if not listed():
                    refresh_devices(sounddevice())
                watch.reopen()
        except AudioDeviceError as exc:
            log.debug("the %s is still away: %s", watch.kind, exc)
            pause = min(pause * 2, RETRY_LONGEST)
            continue
        except Exception:  # a recovery thread has nobody to raise to
            log.exception("reopening the %s failed", watch.kind)
            pause = RETRY_LONGEST
            continue
        watch.lost = None
        log.info("the %s is back", "microphone" if watch.kind == "input" else "speaker")
        watch.on_back()
        return


# --- a session's devices ---------------------------------------------------------------------


class DeviceStatus:
    """A voice session's view of its microphone and speaker: which is away, and what a turn met.

    :meth:`attach` hooks a :class:`~oi_voice.voice.capture.Microphone` or
    :class:`~oi_voice.voice.playback.SoundDeviceSpeaker`; their losses and returns become
    DeviceLost / DeviceBack events. ``on_lost(kind)`` runs first (the session cuts speech).
    """

    def __init__(self, emit: Callable[[Any], None], on_lost: Callable[[str], None] = lambda _kind: None) -> None:
        self._emit = emit
        self._on_lost = on_lost
        self.away: dict[str, AudioDeviceLost] = {}
        self._history: list[AudioDeviceLost] = []
        self._lock = threading.Lock()

    def attach(self, owner: object, kind: Kind) -> None:
        """Report ``owner``'s device changes (an owner without ``on_device`` is no device)."""
        if hasattr(owner, "on_device"):
            owner.on_device = lambda lost: self.changed(kind, lost)

    def changed(self, kind: Kind, lost: AudioDeviceLost | None) -> None:
        """``kind``'s device went away (``lost``) or came back (None)."""
        from oi_voice.voice.events import DeviceBack, DeviceLost

        with self._lock:
            if lost is None:
                self.away.pop(kind, None)
            else:
                self.away[kind] = lost
                self._history.append(lost)
        if lost is None:
            self._emit(DeviceBack(kind))
            return
        # Said first: cutting speech may end the turn, and a headless run exits right after it.
        self._emit(DeviceLost(kind, lost.reason, lost.detail, str(lost)))
        self._on_lost(kind)

    def mark(self) -> int:
        """A point to ask :meth:`lost_since` about (the start of a turn)."""
        with self._lock:
            return len(self._history)

    def lost_since(self, mark: int) -> AudioDeviceLost | None:
        """The device lost after ``mark``, if any: the speaker first (what a turn needs), then the microphone."""
        with self._lock:
            lost = self._history[mark:]
        return next((e for e in lost if e.kind == "output"), lost[0] if lost else None)
