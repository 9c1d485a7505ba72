"""Private working folders of the language sessions, and the removal of abandoned ones."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile

from oi_voice.computer._procs import same_process, start_token

__all__ = ["private_dir"]

# Who made a folder: "pid start-time". Older oi_voice wrote start times in another unit to
# ".oi-voice-owner" and removes folders whose time does not match its own reading, so the
# current format goes to a file of its own, which older versions see as not theirs to judge.
_OWNER = ".oi-voice-owner2"
_OLD_OWNER = ".oi-voice-owner"


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


def _claim(path: str) -> None:
    with contextlib.suppress(OSError), open(os.path.join(path, _OWNER), "w") as f:
        f.write(f"{os.getpid()} {start_token(os.getpid())}")


def _read_owner(path: str) -> tuple[int, str]:
    """(pid, start token) of the process that made folder ``path``."""
    try:
        with open(os.path.join(path, _OWNER)) as f:
            text = f.read()
    except FileNotFoundError:
        with open(os.path.join(path, _OLD_OWNER)) as f:
            text = f.read()
    pid, _, started = text.partition(" ")
    return int(pid), started


def _sweep(base: str, prefix: str, keep: str) -> None:
    """Remove ``prefix*`` directories in ``base`` whose owner process is gone."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            if not entry.name.startswith(prefix) or entry.path == keep:
                continue
            try:
                owner = _read_owner(entry.path)
            except (OSError, ValueError):
                continue  # not ours to judge (no owner file, or not readable)
            alive = same_process(*owner)
            if not alive:
                shutil.rmtree(entry.path, ignore_errors=True)
