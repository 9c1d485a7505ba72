"""Child processes of the process-based languages: starting, reading and stopping them.

Every child runs in a session (and process group) of its own, so one signal reaches all
the processes a run started, background jobs included. Pipes are read without blocking,
in bounded chunks, when the event loop reports data: output of any size flows with
bounded memory, and the child simply blocks on a full pipe while the consumer is slow.

asyncio's own subprocess support is not used because ``Process.wait()`` also waits for
the pipes to close, which never happens while a background job holds them open.

Output is read from pipes in 64 KiB reads, at most 256 KiB per stream per event, decoded
as UTF-8 (errors replaced, with an incremental decoder so a character split between
reads survives) and stripped of terminal escapes. A slow consumer makes the code block
on a full pipe instead of making us buffer: memory stays bounded whatever the volume.

Stopping a run (``Escalation``): SIGINT to its process group when the user asks or when
it starves waiting on stdin, SIGKILL to the group 0.3 s later if it is still there.

Input: a run's stdin is a pipe nobody writes to. A watchdog (``_procfs``) notices a
process of the run blocked reading it; after ``input_timeout`` seconds of that the run is
stopped and finishes with ``needs_input``. Without /proc support stdin is /dev/null.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

from oi_voice.computer._procfs import StdinWatch
from oi_voice.computer._procs import group_exists, interrupt_group, kill_group
from oi_voice.computer._session import Run
from oi_voice.computer.ansi import AnsiStripper
from oi_voice.computer.base import Output

READ_CHUNK = 64 * 1024
#: The most one stream contributes to one Output event.
READ_BUDGET = 256 * 1024


def _nothing() -> None:
    pass


class Pipe:
    """The non-blocking read end of a pipe that calls ``wake`` when data arrives."""

    def __init__(self, fd: int, wake: Callable[[], None] = _nothing) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.eof = False
        self.wake = wake
        self._armed = False
        self._loop = asyncio.get_running_loop()

    def arm(self) -> None:
        """Call ``wake`` once when there is something to read (data or end of file)."""
        if not self._armed and not self.eof and self.fd >= 0:
            self._loop.add_reader(self.fd, self._ready)
            self._armed = True

    def _ready(self) -> None:
        # One-shot: a level-triggered reader would spin while the consumer is slow.
        self._disarm()
        self.wake()

    def _disarm(self) -> None:
        if self._armed:
            self._loop.remove_reader(self.fd)
            self._armed = False

    def read(self, budget: int = READ_BUDGET) -> bytes:
        """Read what is there now, up to ``budget`` bytes; sets ``eof`` at end of file."""
        chunks: list[bytes] = []
        total = 0
        while total < budget and not self.eof and self.fd >= 0:
            try:
                data = os.read(self.fd, min(READ_CHUNK, budget - total))
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.eof = True
                break
            chunks.append(data)
            total += len(data)
        return b"".join(chunks)

    def close(self) -> None:
        """Stop watching and close the descriptor (idempotent)."""
        if self.fd >= 0:
            self._disarm()
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
            self.eof = True


class TextDecoder:
    """Bytes of one output stream to text: UTF-8 with errors replaced, escapes removed."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget partial characters and sequences (before a new run's output)."""
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._ansi = AnsiStripper()

    def decode(self, data: bytes, *, final: bool = False) -> str:
        """Decode the next chunk; ``final`` flushes what is held back."""
        return self._ansi.feed(self._utf8.decode(data, final), final=final)


def describe_exit(returncode: int | None) -> str:
    """How a process ended, in words ("exit code 2", "killed by SIGSEGV")."""
    if returncode is None:
        return "it stopped without an exit status"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _prepare_child() -> None:
    """In the child, before exec: no blocked signals, and (Linux) be killed when oi_voice dies.

    The signal mask is inherited through exec, and the thread that starts a run may have
    signals blocked by a library (seen: SIGPIPE blocked in the test process made
    ``yes | head`` print "yes: standard output: Broken pipe", which in a terminal it never does).

    A busy interpreter never reads the EOF of its control pipe, so without the death signal a
    killed oi_voice could leave a driver spinning forever (seen: an orphaned node
    driver at 100 % CPU after a test process was killed).
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class ChildProcess:
    """A process started in a new session, whose exit the event loop notices at once."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None,
        env: dict[str, str] | None,
        stdin: int,
        stdout: int,
        stderr: int,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self._proc = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            env=env,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            close_fds=True,
            preexec_fn=_prepare_child if os.name == "posix" else None,
        )
        self.pid = self._proc.pid
        self.exited = asyncio.Event()
        self.wake: Callable[[], None] = _nothing
        self._loop = asyncio.get_running_loop()
        self._pidfd = -1
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            # No pidfd (not Linux, or an old kernel): a thread waits instead.
            threading.Thread(target=self._wait_in_thread, name=f"wait-{self.pid}", daemon=True).start()
        else:
            self._loop.add_reader(self._pidfd, self._on_exit)

    @property
    def returncode(self) -> int | None:
        """The exit status (negative: killed by that signal), None while running."""
        return self._proc.returncode

    def _on_exit(self) -> None:
        if self._proc.poll() is None:
            return
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = -1
        self.exited.set()
        self.wake()

    def _wait_in_thread(self) -> None:
        self._proc.wait()
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            self._loop.call_soon_threadsafe(self._exited_from_thread)

    def _exited_from_thread(self) -> None:
        self.exited.set()
        self.wake()

    def interrupt_group(self) -> None:
        """SIGINT to every process of the child's group (ignores a gone group)."""
        interrupt_group(self.pid)

    def kill_group(self) -> None:
        """Kill every process of the child's group at once (ignores a gone group)."""
        kill_group(self.pid)

    def group_exists(self) -> bool:
        """Whether any process of the child's group is still there."""
        return group_exists(self.pid)

    async def wait_exit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the child to exit; True if it did."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.exited.wait(), timeout)
        return self.exited.is_set()

    def release(self) -> None:
        """Stop watching the process (when closing; until then its exit reaps it)."""
        if self._pidfd >= 0:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self._pidfd)
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = -1


async def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a non-blocking pipe, waiting while it is full."""
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            await _writable(loop, fd)
            continue
        view = view[written:]


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def on_writable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(fd, on_writable)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


# --- supervising a run -------------------------------------------------------------------

SIGKILL_AFTER = 0.3  # seconds between SIGINT and SIGKILL
TICK = 0.25  # longest wait between two looks at a quiet run
_MAX_PIPE_BYTES = 1024 * 1024  # Linux's default /proc/sys/fs/pipe-max-size

StreamName = Literal["stdout", "stderr"]


def spawn_cwd(preferred: str | None) -> str:
    """Where a child starts: ``preferred`` if it exists, else our cwd, else home."""
    if preferred and os.path.isdir(preferred):
        return preferred
    try:
        return os.getcwd()
    except OSError:  # our own working directory was deleted
        return os.path.expanduser("~")


async def wait_clear(event: asyncio.Event, timeout: float) -> None:
    """Wait until ``event`` is set or ``timeout`` passes, then clear it."""
    if not event.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
    event.clear()


class Streams:
    """A run's stdout and stderr pipes with their decoders."""

    def __init__(self, stdout: Pipe, stderr: Pipe) -> None:
        self.pipes: dict[StreamName, Pipe] = {"stdout": stdout, "stderr": stderr}
        self.decoders: dict[StreamName, TextDecoder] = {"stdout": TextDecoder(), "stderr": TextDecoder()}

    def set_wake(self, wake: asyncio.Event) -> None:
        """Point both pipes at ``wake``."""
        for pipe in self.pipes.values():
            pipe.wake = wake.set

    def arm(self) -> None:
        """Wake once when either pipe has something to read."""
        for pipe in self.pipes.values():
            pipe.arm()

    async def forward(self, run: Run) -> bool:
        """Emit what the pipes hold now (one budget per stream); True if there was any."""
        any_output = False
        for name, pipe in self.pipes.items():
            data = pipe.read()
            if data or pipe.eof:
                text = self.decoders[name].decode(data, final=pipe.eof)
                if text:
                    any_output = True
                    await run.emit(Output(text, name))
        return any_output

    async def forward_all(self, run: Run) -> None:
        """Emit what was written before the run ended, until the pipes are empty.

        A pipe holds at most 1 MiB: more rounds than that can only be a background job
        still writing, which would keep us here for ever.
        """
        for _ in range(_MAX_PIPE_BYTES // READ_BUDGET + 1):
            if not await self.forward(run):
                break
        for name, decoder in self.decoders.items():
            rest = decoder.decode(b"", final=True)
            if rest:
                await run.emit(Output(rest, name))

    def discard(self) -> None:
        """Drop what the pipes hold now (output of nobody's run)."""
        for pipe in self.pipes.values():
            for _ in range(_MAX_PIPE_BYTES // READ_BUDGET + 1):
                if not pipe.read():
                    break
        for decoder in self.decoders.values():
            decoder.reset()

    def close(self) -> None:
        """Close both pipes."""
        for pipe in self.pipes.values():
            pipe.close()


class InputWatchdog:
    """Decides when a run has waited on its stdin pipe long enough to be stopped."""

    def __init__(self, stdin_write_fd: int, timeout: float) -> None:
        self._watch = StdinWatch(stdin_write_fd) if stdin_write_fd >= 0 else None
        self._timeout = timeout
        self._interval = max(0.02, min(TICK, timeout / 4))
        self._next_check = time.monotonic() + self._interval
        self._since: float | None = None

    @property
    def interval(self) -> float:
        """How often the watchdog looks."""
        return self._interval

    def starved(self, pgid: int, had_output: bool) -> bool:
        """Look (at most every interval) whether group ``pgid`` waits on stdin."""
        now = time.monotonic()
        if had_output:
            # A process that just printed is not waiting (a prompt comes before a read).
            self._since = None
            self._next_check = now + self._interval
            return False
        if self._watch is None or now < self._next_check:
            return False
        self._next_check = now + self._interval
        if self._watch.waiting_pid(pgid) is None:
            self._since = None
            return False
        if self._since is None:
            self._since = now
        return now - self._since >= self._timeout


class Escalation:
    """How a run is stopped: SIGINT when the user asks or when it starves waiting on stdin,
    then SIGKILL to its group if it is still there ``SIGKILL_AFTER`` later."""

    def __init__(self, watchdog: InputWatchdog) -> None:
        self._watchdog = watchdog
        self._starved_at: float | None = None
        self.killed = False

    @property
    def starved(self) -> bool:
        """Whether the run was stopped for waiting on input."""
        return self._starved_at is not None

    def step(self, run: Run, child: ChildProcess, had_output: bool) -> float:
        """Escalate as due; returns how long to wait before the next look."""
        stop_at = self._starved_at if self._starved_at is not None else run.interrupt_at
        if stop_at is not None and not self.killed and time.monotonic() - stop_at >= SIGKILL_AFTER:
            child.kill_group()
            self.killed = True
        if self._starved_at is None and self._watchdog.starved(child.pid, had_output):
            self._starved_at = time.monotonic()
            child.interrupt_group()
        return self._watchdog.interval if stop_at is None else SIGKILL_AFTER / 3


def make_stdin(watch: bool) -> tuple[int, int]:
    """A child's stdin: (read end for the child, write end we keep or -1).

    A pipe nobody writes to where the input watchdog can see waits on it, else /dev/null.
    """
    if watch:
        return os.pipe()
    return os.open(os.devnull, os.O_RDONLY), -1


def close_fds(*fds: int) -> None:
    """Close the descriptors that are open (>= 0), ignoring errors."""
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
