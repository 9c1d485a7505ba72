"""Process groups, trees and liveness through psutil: the same on Linux, macOS and Windows.

A run's processes are the process group its child leads (POSIX: the child starts a
session of its own, so one signal reaches whatever the code started, background jobs and
double-forked daemons included). Windows has no process groups: there the leader's tree
of descendants stands in for the group.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil

__all__ = [
    "descendants",
    "group_exists",
    "group_members",
    "interrupt_group",
    "kill_followers",
    "kill_group",
    "kill_tree",
    "physical_memory",
    "same_process",
    "start_token",
]

#: Whether this system has process groups (POSIX) or only trees of processes (Windows).
HAVE_GROUPS = hasattr(os, "killpg") and hasattr(os, "getpgid")

# Two computations of one process's start time may differ by a clock adjustment (Linux
# derives it from the boot time, which NTP moves); a reused pid starts much later.
_START_TOLERANCE = 1.0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process it started, recursively (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return []


def group_members(pgid: int) -> list[int]:
    """The pids in process group ``pgid`` (Windows: the leader's tree)."""
    if not HAVE_GROUPS:
        return descendants(pgid)
    members = []
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pgid:
                members.append(pid)
    return members


def interrupt_group(pgid: int) -> None:
    """SIGINT to every process of group ``pgid``; a group already gone is success.

    Windows: a CTRL_C_EVENT to the leader (best effort; it has no process groups).
    """
    if HAVE_GROUPS:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGINT)
        return
    with contextlib.suppress(psutil.Error, ValueError, OSError):
        psutil.Process(pgid).send_signal(getattr(signal, "CTRL_C_EVENT", signal.SIGINT))


def kill_group(pgid: int) -> None:
    """Kill every process of group ``pgid`` at once (Windows: the leader's tree)."""
    if HAVE_GROUPS:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    else:
        kill_tree(pgid)


def kill_tree(pid: int) -> None:
    """Kill ``pid`` and every process it started (how Windows stops a run's processes)."""
    _kill(descendants(pid))


def group_exists(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still there (a zombie leader counts)."""
    if not HAVE_GROUPS:
        return psutil.pid_exists(pgid) or bool(group_members(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_followers(pgid: int) -> None:
    """Kill every member of group ``pgid`` but its leader."""
    _kill([pid for pid in group_members(pgid) if pid != pgid])


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def start_token(pid: int) -> str | None:
    """When process ``pid`` started, as text (tells a reused pid apart); None if it is gone."""
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return None
        return f"{process.create_time():.3f}"
    except psutil.Error:
        return None


def same_process(pid: int, token: str) -> bool:
    """Whether ``pid`` is still the process whose ``start_token`` was ``token``."""
    now = start_token(pid)
    if now is None:
        return False
    if "." not in token:
        # Written by an older oi_voice (clock ticks since boot): alive is all we can tell.
        return True
    try:
        return abs(float(now) - float(token)) <= _START_TOLERANCE
    except ValueError:
        return False


def physical_memory() -> int | None:
    """This computer's memory in bytes (None if it cannot be told)."""
    try:
        return int(psutil.virtual_memory().total)
    except (psutil.Error, OSError, AttributeError):
        return None
