"""The conversation journal: one JSON-lines file per conversation, append-only.

Each message is written to the file as soon as it is complete, before the engine goes
on (a ``write`` to the page cache: microseconds, and a killed process can no longer lose
it); a writer thread then fsyncs it, so disk waits never run on the engine loop and a
power cut loses at most the last moments. A line torn by a kill mid-write is skipped when
the file is read back, and cut off before the next message is appended. Edits that
rewrite history (``%undo``, assigning ``messages``) replace the file atomically.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

Message = dict[str, Any]


def data_dir() -> Path:
    """Where oi_voice keeps user data (``OI_VOICE_DATA_DIR`` overrides)."""
    override = os.environ.get("OI_VOICE_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("oi-voice", appauthor=False))


def conversations_dir() -> Path:
    """The folder of conversation journals."""
    return data_dir() / "conversations"


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """A saved conversation, for listing and resuming."""

    id: str
    path: Path
    title: str
    updated: float
    messages: int


class Journal:
    """Appends messages of one conversation to its file, durably and in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="oi-voice-journal")
        self._lock = threading.Lock()
        self._fd = -1

    @classmethod
    def create(cls, folder: Path | None = None) -> Journal:
        """A journal for a new conversation (the file appears with the first message)."""
        folder = folder or conversations_dir()
        name = time.strftime("%Y-%m-%d_%H-%M-%S") + "_" + secrets.token_hex(3)
        return cls(folder / f"{name}.jsonl")

    @property
    def id(self) -> str:
        """The conversation's id (its file name without suffix)."""
        return self.path.stem

    def append(self, message: Message) -> concurrent.futures.Future[None]:
        """Append ``message`` now; the returned future is done once it is fsync'd."""
        data = (_line(message) + "\n").encode("utf-8")
        with self._lock:
            fd = self._open()
            _write_all(fd, data)
            # The writer thread syncs its own descriptor: rewrite() may close ours meanwhile.
            dup = os.dup(fd)
        return self._writer.submit(_sync_and_close, dup)

    def rewrite(self, messages: list[Message]) -> concurrent.futures.Future[None]:
        """Replace the whole file with ``messages`` (atomic; done when this returns)."""
        text = "".join(_line(m) + "\n" for m in messages)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            self._close_fd()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything appended is on disk."""
        self._writer.submit(lambda: None).result(timeout)

    def _open(self) -> int:
        """The append descriptor (called with the lock held); the first open cuts a torn tail."""
        if self._fd < 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _cut_torn_tail(fd)
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def _close_fd(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def close(self) -> None:
        """Finish pending syncs and stop the writer thread."""
        self._writer.shutdown(wait=True)
        with self._lock:
            self._close_fd()


def _line(message: Message) -> str:
    """One message as a JSON line that is valid UTF-8."""
    line = json.dumps(message, ensure_ascii=False, default=str)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (undecodable bytes in file names and terminal input, as Python
        # decodes them) have no UTF-8 form; escaped, they read back exactly.
        line = json.dumps(message, ensure_ascii=True, default=str)
    return line


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_torn_tail(fd: int) -> None:
    """Truncate a file after its last newline: a line torn by a kill mid-write would
    otherwise swallow the next message appended after it."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:
        start = max(0, end - 65536)
        block = os.pread(fd, end - start, start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        end = start
    os.ftruncate(fd, 0)


def load(path: Path) -> list[Message]:
    """The messages of a journal; a torn or corrupt line (a kill mid-write) is skipped."""
    messages: list[Message] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # torn final line
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict) and "role" in value:
                messages.append(value)
    return messages


def list_conversations(folder: Path | None = None) -> list[ConversationInfo]:
    """Saved conversations, newest first."""
    folder = folder or conversations_dir()
    if not folder.is_dir():
        return []
    infos = []
    for path in folder.glob("*.jsonl"):
        try:
            messages = load(path)
        except OSError:
            continue
        first = next((m for m in messages if m.get("role") == "user" and m.get("type") == "message"), None)
        title = str(first.get("content", "")) if first else "(empty)"
        infos.append(ConversationInfo(path.stem, path, " ".join(title.split())[:80], path.stat().st_mtime,
                                      len(messages)))
    return sorted(infos, key=lambda c: c.updated, reverse=True)
