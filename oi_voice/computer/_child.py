"""Child processes of the process-based languages, and their pipes.

Every child runs in a session (and process group) of its own, so one signal reaches all
the processes a run started, background jobs included. Pipes are read without blocking,
in bounded chunks, when the event loop reports data: output of any size flows with
bounded memory, and the child simply blocks on a full pipe while the consumer is slow.

asyncio's own subprocess support is not used because ``Process.wait()`` also waits for
the pipes to close, which never happens while a background job holds them open.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence

from oi_voice.computer._procfs import group_members
from oi_voice.computer.ansi import AnsiStripper

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


def _die_with_parent() -> None:
    """In the child, before exec: be killed when oi_voice dies, however it dies.

    A busy interpreter never reads the EOF of its control pipe, so without this a
    killed oi_voice could leave a driver spinning forever (seen: an orphaned node
    driver at 100 % CPU after a test process was killed).
    """
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
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
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

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to every process of the child's group (ignores a gone group)."""
        signal_group(self.pid, signum)

    def group_exists(self) -> bool:
        """Whether any process of the child's group is still there."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

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


def private_dir(prefix: str) -> str:
    """A new directory only we can read, in memory where possible.

    Runs write and rename small state files many times: on a disk file system each
    rewrite may be flushed (ext4 does so on truncate and rename-over), on tmpfs it is free.
    The directory records its owner; directories of owners that are gone (a kill -9, a
    crash: nothing removed them) are removed here.
    """
    path = None
    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if base and os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            try:
                path = tempfile.mkdtemp(prefix=prefix, dir=base)
            except OSError:
                continue
            break
    if path is None:
        path = tempfile.mkdtemp(prefix=prefix)
    _claim(path)
    _sweep(os.path.dirname(path), prefix, keep=path)
    return path


_OWNER = ".oi-voice-owner"


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` (tells a reused pid apart); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is the state (field 3 of stat), fields[19] the start time (field 22).
    return fields[19].decode() if fields[0] not in (b"Z", b"X") else None


def _claim(path: str) -> None:
    with contextlib.suppress(OSError), open(os.path.join(path, _OWNER), "w") as f:
        f.write(f"{os.getpid()} {_process_start(os.getpid())}")


def _sweep(base: str, prefix: str, keep: str) -> None:
    """Remove ``prefix*`` directories in ``base`` whose owner process is gone."""
    if not os.path.isdir("/proc/self"):
        return  # no way to tell who is alive
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            if not entry.name.startswith(prefix) or entry.path == keep:
                continue
            try:
                with open(os.path.join(entry.path, _OWNER)) as f:
                    pid, _, started = f.read().partition(" ")
                alive = _process_start(int(pid)) == started
            except (OSError, ValueError):
                continue  # not ours to judge (no owner file, or not readable)
            if not alive:
                shutil.rmtree(entry.path, ignore_errors=True)


def signal_group(pgid: int, signum: int) -> None:
    """``killpg`` that treats a group which is already gone as success."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def kill_followers(pgid: int) -> None:
    """SIGKILL every member of group ``pgid`` but its leader (found through /proc)."""
    for pid in group_members(pgid):
        if pid != pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


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
