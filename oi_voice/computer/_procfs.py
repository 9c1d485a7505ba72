"""Does a run wait for keyboard input? Linux tells through /proc.

Runs get a stdin pipe that nobody ever writes to. A process that reads it blocks for
good, and /proc shows where: ``/proc/<pid>/task/<tid>/syscall`` names the system call a
thread sleeps in and its arguments. A ``read`` of a descriptor that is our pipe is a
wait for input; so is a ``poll``/``select`` whose descriptor set holds the pipe (read
from ``/proc/<pid>/mem``) and an endless ``epoll_wait`` on an epoll set that watches it
(listed in ``/proc/<pid>/fdinfo``), which is how Node.js waits. The pipe is recognised by
its inode, so a descriptor that merely has the number 0 but points elsewhere is not.

Where this is not available (not Linux, an unknown CPU, a locked-down /proc) runs get
/dev/null as stdin instead, and reading it returns end-of-file at once.
"""

from __future__ import annotations

import functools
import os
import platform
import struct
from dataclasses import dataclass

import psutil

from oi_voice.computer._procs import group_members

__all__ = ["StdinWatch", "stdin_watch_supported"]

_POLLIN = 0x1
_EPOLLIN = 0x1
_MAX_POLL_FDS = 256
_MAX_SELECT_FDS = 1024


@dataclass(frozen=True)
class _Syscalls:
    read: frozenset[int]
    poll: frozenset[int]
    select: frozenset[int]
    epoll: frozenset[int]
    #: epoll_pwait2, whose timeout is a pointer (NULL: wait forever), not milliseconds.
    epoll_timespec: int


# read/pread64/readv/preadv, poll/ppoll, select/pselect6, epoll_wait/epoll_pwait/epoll_pwait2
_TABLES = {
    "x86_64": _Syscalls(
        read=frozenset({0, 17, 19, 295}),
        poll=frozenset({7, 271}),
        select=frozenset({23, 270}),
        epoll=frozenset({232, 281, 441}),
        epoll_timespec=441,
    ),
    "aarch64": _Syscalls(
        read=frozenset({63, 65, 67, 69}),
        poll=frozenset({73}),
        select=frozenset({72}),
        epoll=frozenset({22, 441}),
        epoll_timespec=441,
    ),
}
_TABLES["amd64"] = _TABLES["x86_64"]
_TABLES["arm64"] = _TABLES["aarch64"]


@functools.cache
def stdin_watch_supported() -> bool:
    """Whether this machine lets us see that a process waits on stdin."""
    if platform.machine().lower() not in _TABLES:
        return False
    try:
        with open(f"/proc/{os.getpid()}/syscall", "rb") as f:
            f.read()
    except OSError:
        return False
    return True


class StdinWatch:
    """Finds a process of a group that waits to read from one particular pipe."""

    def __init__(self, read_fd: int) -> None:
        st = os.fstat(read_fd)
        self._pipe = (st.st_dev, st.st_ino)
        self._calls = _TABLES[platform.machine().lower()]

    def waiting_pid(self, pgid: int) -> int | None:
        """The pid of a process in group ``pgid`` blocked reading the pipe, if any."""
        for pid in group_members(pgid):
            try:
                tids = [thread.id for thread in psutil.Process(pid).threads()]
            except psutil.Error:
                continue
            for tid in tids:
                if self._task_waits(pid, tid):
                    return pid
        return None

    def _task_waits(self, pid: int, tid: int) -> bool:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall", "rb") as f:
                parts = f.read().split()
        except OSError:
            return False
        # "running", or -1 for a thread that sleeps outside a system call.
        if not parts or not parts[0].isdigit():
            return False
        number = int(parts[0])
        try:
            args = [int(a, 16) for a in parts[1:7]]
        except ValueError:
            return False
        if len(args) < 4:
            return False
        calls = self._calls
        if number in calls.read:
            fds: list[int] = [args[0]]
        elif number in calls.poll:
            fds = _poll_fds(pid, args[0], args[1])
        elif number in calls.select:
            fds = _select_fds(pid, args[1], args[0])
        elif number in calls.epoll:
            # Only a wait without a timeout: libuv leaves a descriptor in its epoll set
            # after reading stops, so a registered stdin alone proves nothing while a
            # timer is pending; with nothing else that can wake the process, it does.
            infinite = args[3] == 0 if number == calls.epoll_timespec else args[3] & 0xFFFFFFFF == 0xFFFFFFFF
            fds = _epoll_fds(pid, args[0]) if infinite else []
        else:
            return False
        return any(self._is_pipe(pid, fd) for fd in fds)

    def _is_pipe(self, pid: int, fd: int) -> bool:
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._pipe


def _read_memory(pid: int, address: int, size: int) -> bytes:
    try:
        with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
            mem.seek(address)
            return mem.read(size)
    except (OSError, OverflowError, ValueError):
        return b""


def _poll_fds(pid: int, address: int, count: int) -> list[int]:
    count = min(count, _MAX_POLL_FDS)
    data = _read_memory(pid, address, 8 * count)
    fds = []
    for offset in range(0, len(data) - 7, 8):
        fd, events, _ = struct.unpack_from("=ihh", data, offset)
        if fd >= 0 and events & _POLLIN:
            fds.append(fd)
    return fds


def _select_fds(pid: int, address: int, nfds: int) -> list[int]:
    if not address:
        return []
    nfds = min(nfds, _MAX_SELECT_FDS)
    data = _read_memory(pid, address, (nfds + 7) // 8)
    return [fd for fd in range(min(nfds, 8 * len(data))) if data[fd // 8] >> (fd % 8) & 1]


def _epoll_fds(pid: int, epfd: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/fdinfo/{epfd}", "rb") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    fds = []
    for line in lines:
        # "tfd:        0 events:       19 data: ..." (events in hex)
        parts = line.split()
        if len(parts) >= 4 and parts[0] == b"tfd:" and parts[2] == b"events:":
            try:
                fd, events = int(parts[1]), int(parts[3], 16)
            except ValueError:
                continue
            if events & _EPOLLIN:
                fds.append(fd)
    return fds
