"""Undo of the last run: a snapshot of the working folder taken before risky code runs.

Before a medium- or high-risk run, :meth:`UndoStore.take` records every file of the
working folder: a hard link for each (instant, no disk space: it keeps a deleted,
moved or replaced file's data alive), and a real copy of each file the run could
change in place -- a hard link shares its inode, so ``open(f, "w")``, ``: > f``,
``cp x f`` or ``shred f`` would change the snapshot too. Copies are reflinks
(copy-on-write, instant) where the file system has them (Btrfs, XFS), else byte copies.
A folder over the caps (files or bytes) is not snapshotted, and the run's note says so.

:meth:`UndoStore.undo` puts the folder back as it was: deleted and changed files come
back with their bytes and permissions, and files the run created are set aside in the
store (never deleted), so undo loses nothing either.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import filecmp
import logging
import os
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from oi_voice.core.risk import Risk

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_FILES", "Snapshot", "UndoResult", "UndoStore", "needs_copies",
           "snapshot_before_run"]

log = logging.getLogger("oi_voice.undo")

#: A folder with more than this many bytes of files is not snapshotted.
DEFAULT_MAX_BYTES: Final = 1024 * 1024 * 1024
#: ... nor one with more files than this (the scan stops there).
DEFAULT_MAX_FILES: Final = 20_000
#: Byte copies (not reflinks) made for one snapshot at most; larger files are hard-linked only.
DEFAULT_MAX_COPY_BYTES: Final = 256 * 1024 * 1024
#: Seconds a snapshot may take before it gives up (the run then goes ahead without one).
DEFAULT_TIMEOUT: Final = 30.0

_FICLONE: Final = 0x40049409  # Linux ioctl: make dst share src's blocks (copy-on-write)

# Effects that never write into an existing file's blocks: for them a hard link keeps the old bytes.
_LINK_SAFE_PREFIXES: Final = (
    "deletes ", "moves ", "discards uncommitted", "rewrites ", "deletes or moves", "drops stashed",
    "replaces files with compressed", "uses the network", "installs packages", "stops other programs",
    "removes packages", "changes the permissions of", "makes files writable", "changes file permissions",
)


def needs_copies(risk: Risk) -> bool:
    """Whether code of this risk could change a file in place (so links alone are not enough)."""
    return any(not reason.startswith(_LINK_SAFE_PREFIXES) for reason in risk.reasons)


Kind = Literal["file", "dir", "link"]


@dataclass(frozen=True)
class _Entry:
    kind: Kind
    mode: int
    size: int = 0
    mtime_ns: int = 0
    ino: int = 0
    #: "link" (hard link), "copy", "reflink", or "" (dirs, symlinks).
    how: str = ""
    #: A symlink's target.
    target: str = ""


@dataclass
class Snapshot:
    """The working folder as it was before one run."""

    folder: Path
    store: Path
    summary: str
    taken_at: float
    entries: dict[str, _Entry] = field(default_factory=dict)
    seconds: float = 0.0
    #: Bytes written for copies (reflinks and hard links take none).
    bytes_copied: int = 0
    linked: int = 0
    copied: int = 0
    #: Files only hard-linked although the run could change them in place (over the copy cap).
    unprotected: list[str] = field(default_factory=list)


@dataclass
class UndoResult:
    """What undo did."""

    ok: bool
    message: str
    restored: list[str] = field(default_factory=list)
    #: Files the run created, moved aside into ``aside``.
    set_aside: list[str] = field(default_factory=list)
    aside: Path | None = None
    #: Files that could not be put back (changed in place while only hard-linked).
    lost: list[str] = field(default_factory=list)


class _TooBig(Exception):
    pass


class UndoStore:
    """Keeps the snapshot of the last risky run and restores it (thread-safe)."""

    def __init__(self, root: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_files: int = DEFAULT_MAX_FILES, max_copy_bytes: int = DEFAULT_MAX_COPY_BYTES,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._root = root
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.max_copy_bytes = max_copy_bytes
        self.timeout = timeout
        self._last: Snapshot | None = None
        self._lock = threading.Lock()
        self._reflink_works: dict[int, bool] = {}

    @property
    def root(self) -> Path:
        """Where snapshots are kept (default: ``<data dir>/undo``)."""
        if self._root is None:
            from oi_voice.core.history import data_dir

            self._root = data_dir() / "undo"
        return self._root

    @property
    def last(self) -> Snapshot | None:
        """The snapshot :meth:`undo` would restore."""
        return self._last

    # -- taking --------------------------------------------------------------------------

    def take(self, folder: str | Path, risk: Risk, summary: str = "",
             cancel: threading.Event | None = None) -> str | None:
        """Snapshot ``folder`` before a run of ``risk``; replaces the previous snapshot.

        Returns a note for the user when the run cannot be undone (too big, an error), else None.
        """
        folder = Path(folder).resolve()
        started = time.monotonic()
        with self._lock:
            self._discard()
            try:
                snapshot = self._take(folder, needs_copies(risk), summary, cancel, started)
            except _TooBig as exc:
                return f"[This run cannot be undone: {exc}.]\n"
            except OSError as exc:
                log.warning("snapshot of %s failed: %s", folder, exc)
                return f"[This run cannot be undone: the snapshot of {folder} failed ({exc.strerror or exc}).]\n"
            self._last = snapshot
        log.info("snapshot of %s: %d files (%d copied, %d bytes) in %.3f s", folder, len(snapshot.entries),
                 snapshot.copied, snapshot.bytes_copied, snapshot.seconds)
        if snapshot.unprotected:
            return (f"[Undo can bring back {len(snapshot.unprotected)} large file(s) if deleted, but not if "
                    f"changed in place: over the copy limit ({self.max_copy_bytes // 2**20} MB).]\n")
        return None

    def _scan(self, folder: Path, cancel: threading.Event | None, deadline: float) -> dict[str, tuple[Kind,
                                                                                                      os.stat_result]]:
        found: dict[str, tuple[Kind, os.stat_result]] = {}
        total = 0
        skip = {self.root.resolve()}
        for rel, kind, st in _walk(folder, skip):
            found[rel] = (kind, st)
            if kind == "file":
                total += st.st_size
            if len(found) > self.max_files:
                raise _TooBig(f"{folder} holds more than {self.max_files:,} files")
            if total > self.max_bytes:
                raise _TooBig(f"{folder} holds more than {self.max_bytes // 2**20:,} MB")
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                raise _TooBig("the snapshot was stopped before it finished")
        return found

    def _take(self, folder: Path, copies: bool, summary: str, cancel: threading.Event | None,
              started: float) -> Snapshot:
        deadline = started + self.timeout
        found = self._scan(folder, cancel, deadline)
        self.root.mkdir(parents=True, exist_ok=True)
        _forget_orphans(self.root)
        store = self.root / f"run-{int(time.time() * 1000)}-{os.getpid()}"
        files = store / "files"
        files.mkdir(parents=True)
        same_device = os.stat(files).st_dev == os.stat(folder).st_dev
        snapshot = Snapshot(folder, store, summary, time.time())
        budget = self.max_copy_bytes
        # Copy the small files first: most files are small, and a big one may not fit the budget.
        order = sorted(found.items(), key=lambda item: (item[1][0] != "dir", item[1][1].st_size))
        try:
            for rel, (kind, st) in order:
                if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                    raise _TooBig("the snapshot was stopped before it finished")
                mode = stat.S_IMODE(st.st_mode)
                if kind == "dir":
                    snapshot.entries[rel] = _Entry("dir", mode)
                    continue
                if kind == "link":
                    snapshot.entries[rel] = _Entry("link", mode, target=os.readlink(folder / rel))
                    continue
                source, dest = folder / rel, files / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                how = ""
                if copies or not same_device:
                    how = "reflink" if self._reflink(source, dest, st.st_dev) else ""
                    if not how and (st.st_size <= budget or not same_device):
                        if not same_device and st.st_size > budget:
                            raise _TooBig(f"{folder} is on another disk than {self.root} and its files do not "
                                          f"fit the copy limit ({self.max_copy_bytes // 2**20} MB)")
                        shutil.copyfile(source, dest, follow_symlinks=False)
                        budget -= st.st_size
                        snapshot.bytes_copied += st.st_size
                        how = "copy"
                    if how:
                        snapshot.copied += 1
                    elif copies:
                        snapshot.unprotected.append(rel)
                if not how:
                    os.link(source, dest, follow_symlinks=False)
                    snapshot.linked += 1
                    how = "link"
                snapshot.entries[rel] = _Entry("file", mode, st.st_size, st.st_mtime_ns, st.st_ino, how)
        except BaseException:
            shutil.rmtree(store, ignore_errors=True)
            raise
        snapshot.seconds = time.monotonic() - started
        return snapshot

    def _reflink(self, source: Path, dest: Path, device: int) -> bool:
        if self._reflink_works.get(device) is False:
            return False
        try:
            import fcntl
        except ImportError:  # Windows
            self._reflink_works[device] = False
            return False
        try:
            with open(source, "rb") as src, open(dest, "wb") as dst:
                fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError as exc:
            dest.unlink(missing_ok=True)
            if exc.errno in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EXDEV, errno.EINVAL, errno.ENOSYS):
                self._reflink_works[device] = False
            return False
        self._reflink_works[device] = True
        return True

    # -- restoring -------------------------------------------------------------------------

    def undo(self) -> UndoResult:
        """Put the working folder back as it was before the last risky run."""
        with self._lock:
            snapshot = self._last
            if snapshot is None:
                return UndoResult(False, "There is no run to undo: no risky code ran since the start (or the "
                                         "last undo).")
            result = _restore(snapshot, self.root / "set-aside" / snapshot.store.name)
            if not result.lost:
                shutil.rmtree(snapshot.store / "files", ignore_errors=True)
                self._last = None
            return result

    def discard(self) -> None:
        """Forget the snapshot (its files are removed)."""
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        if self._last is not None:
            shutil.rmtree(self._last.store, ignore_errors=True)
            self._last = None


def _forget_orphans(root: Path) -> None:
    """Remove the snapshots of processes that are gone (one that exited kept its last one)."""
    for store in root.glob("run-*-*"):
        try:
            pid = int(store.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(store, ignore_errors=True)
        except (PermissionError, OSError):
            pass  # alive (another user's), or we cannot tell: keep it


def _walk(folder: Path, skip: set[Path]) -> Iterator[tuple[str, Kind, os.stat_result]]:
    """(relative path, kind, stat) of everything under ``folder``, symlinks not followed."""
    stack = [folder]
    while stack:
        here = stack.pop()
        if here in skip:
            continue
        with os.scandir(here) as entries:
            for entry in entries:
                path = Path(entry.path)
                st = entry.stat(follow_symlinks=False)
                rel = os.path.relpath(path, folder)
                if stat.S_ISLNK(st.st_mode):
                    yield rel, "link", st
                elif stat.S_ISDIR(st.st_mode):
                    if path not in skip:
                        yield rel, "dir", st
                        stack.append(path)
                elif stat.S_ISREG(st.st_mode):
                    yield rel, "file", st
                # sockets, fifos, devices: nothing to keep


def _same(entry: _Entry, saved: Path, current: Path, st: os.stat_result) -> bool:
    if not stat.S_ISREG(st.st_mode):
        return False
    if entry.how == "link":
        return st.st_ino == entry.ino and st.st_size == entry.size and st.st_mtime_ns == entry.mtime_ns
    if st.st_size != entry.size:
        return False
    if st.st_mtime_ns == entry.mtime_ns and st.st_ino == entry.ino:
        return True
    return filecmp.cmp(saved, current, shallow=False)


def _put_back(saved: Path, current: Path, entry: _Entry) -> None:
    """Replace ``current`` by the saved file, atomically."""
    current.parent.mkdir(parents=True, exist_ok=True)
    temporary = current.with_name(f".{current.name}.oi-undo-{os.getpid()}")
    if entry.how == "link":
        os.link(saved, temporary)
    else:
        shutil.copyfile(saved, temporary)
    os.replace(temporary, current)


def _set_aside(path: Path, aside: Path, rel: str) -> None:
    dest = aside / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(dest))


def _restore(snapshot: Snapshot, aside: Path) -> UndoResult:
    folder, files = snapshot.folder, snapshot.store / "files"
    result = UndoResult(True, "")
    # What is there now and was not (or was something else): set aside, deepest first, so
    # that folders the run made are empty when their turn comes and can simply go.
    now = {rel: kind for rel, kind, _st in _walk(folder, {snapshot.store.parent})} if folder.is_dir() else {}
    for rel in sorted(now, key=lambda r: r.count(os.sep), reverse=True):
        kind = now[rel]
        entry = snapshot.entries.get(rel)
        if entry is not None and entry.kind == kind:
            continue
        if kind == "dir" and entry is None:
            with contextlib.suppress(OSError):
                os.rmdir(folder / rel)
                continue
        _set_aside(folder / rel, aside, rel)
        result.set_aside.append(rel)
    # What was there: folders first, then files and links.
    for rel, entry in sorted(snapshot.entries.items(), key=lambda item: (item[1].kind != "dir", item[0])):
        current = folder / rel
        if entry.kind == "dir":
            current.mkdir(parents=True, exist_ok=True)
            if stat.S_IMODE(current.stat().st_mode) != entry.mode:
                os.chmod(current, entry.mode)
            continue
        if entry.kind == "link":
            if not (current.is_symlink() and os.readlink(current) == entry.target):
                if current.is_symlink() or current.exists():
                    current.unlink()
                os.symlink(entry.target, current)
                result.restored.append(rel)
            continue
        saved = files / rel
        try:
            st: os.stat_result | None = current.lstat()
        except FileNotFoundError:
            st = None
        if st is not None and _same(entry, saved, current, st):
            if stat.S_IMODE(st.st_mode) != entry.mode:
                os.chmod(current, entry.mode)
                result.restored.append(rel)
            continue
        if entry.how == "link":
            saved_st = saved.stat()
            if saved_st.st_size != entry.size or saved_st.st_mtime_ns != entry.mtime_ns:
                result.lost.append(rel)  # changed in place through the shared inode
                continue
        _put_back(saved, current, entry)
        os.chmod(current, entry.mode)
        result.restored.append(rel)
    result.ok = not result.lost
    result.aside = aside if result.set_aside else None
    result.message = _message(snapshot, result)
    return result


def _message(snapshot: Snapshot, result: UndoResult) -> str:
    when = time.strftime("%H:%M:%S", time.localtime(snapshot.taken_at))
    parts = [f"Undid the run of {when}" + (f" ({snapshot.summary.rstrip('?')})" if snapshot.summary else "")
             + f" in {snapshot.folder}:"]
    parts.append(f"{len(result.restored)} file(s) put back" if result.restored else "no file needed putting back")
    if result.set_aside:
        parts.append(f"{len(result.set_aside)} file(s) it made moved to {result.aside}")
    if result.lost:
        parts.append(f"{len(result.lost)} file(s) could not be restored: {', '.join(result.lost[:5])}")
    return parts[0] + " " + "; ".join(parts[1:]) + "."


async def snapshot_before_run(store: UndoStore, folder: str, risk: Risk, summary: str) -> str | None:
    """Take the snapshot off the engine loop; a cancelled turn stops it too."""
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(store.take, folder, risk, summary, cancel)
    except asyncio.CancelledError:
        cancel.set()
        raise
