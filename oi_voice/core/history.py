"""The conversation journal: one JSON-lines file per conversation, append-only.

Each message is appended and fsync'd as soon as it is complete, by a writer thread
(disk waits never run on the engine loop). A killed process loses at most the
message in flight; a torn last line is skipped when the file is read back.
Edits that rewrite history (``%undo``, assigning ``messages``) replace the file
atomically.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import secrets
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
        """Queue ``message`` to be appended and fsync'd."""
        line = json.dumps(message, ensure_ascii=False, default=str) + "\n"
        return self._writer.submit(self._write, line, "a")

    def rewrite(self, messages: list[Message]) -> concurrent.futures.Future[None]:
        """Queue replacing the whole file with ``messages`` (atomic)."""
        text = "".join(json.dumps(m, ensure_ascii=False, default=str) + "\n" for m in messages)
        return self._writer.submit(self._write, text, "w")

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued is on disk."""
        self._writer.submit(lambda: None).result(timeout)

    def _write(self, text: str, mode: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "w":
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        """Finish pending writes and stop the writer thread."""
        self._writer.shutdown(wait=True)


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
