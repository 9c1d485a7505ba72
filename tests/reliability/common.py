"""Checks shared by the reliability tests: is a conversation whole, and what was lost."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from oi_voice import Interpreter
from oi_voice.core.history import load

Message = dict[str, Any]

ROLES_TYPES = {
    ("user", "message"), ("user", "image"), ("user", "file"), ("user", "audio"),
    ("assistant", "message"), ("assistant", "code"),
    ("computer", "console"), ("computer", "image"),
}


def problems(messages: list[Message]) -> list[str]:
    """What is wrong with a conversation, per the LMC contract (empty when it is whole).

    Every message is complete (no flags, known role and type, text content), and the code
    blocks of each reply are followed by exactly one console message each (and images).
    """
    found: list[str] = []
    for i, m in enumerate(messages):
        where = f"message {i} {m!r:.120}"
        if "start" in m or "end" in m:
            found.append(f"{where}: a flag chunk stored as a message")
        if (m.get("role"), m.get("type")) not in ROLES_TYPES:
            found.append(f"{where}: unknown role/type")
        if m.get("type") in ("message", "code", "console") and not isinstance(m.get("content"), str):
            found.append(f"{where}: content is not text")
        try:
            json.dumps(m)
        except (TypeError, ValueError):
            found.append(f"{where}: not JSON-serialisable")
    # Code blocks of one reply come together, then their results in the same order.
    i = 0
    while i < len(messages):
        if messages[i].get("role") != "assistant":
            if messages[i].get("type") == "console":
                found.append(f"message {i}: console result without its code")
            i += 1
            continue
        codes = 0
        while i < len(messages) and messages[i].get("role") == "assistant":
            codes += messages[i].get("type") == "code"
            i += 1
        consoles = 0
        while i < len(messages) and messages[i].get("role") == "computer":
            consoles += messages[i].get("type") == "console"
            i += 1
        if consoles != codes:
            found.append(f"before message {i}: {codes} code block(s) with {consoles} result(s)")
    return found


def lost(expected: Iterable[Message], actual: list[Message]) -> int:
    """How many of ``expected`` are missing from ``actual``."""
    return sum(1 for m in expected if m not in actual)


def journal(interp: Interpreter) -> list[Message]:
    """The interpreter's journal as read back from disk (after flushing)."""
    interp.flush()
    path: Path | None = interp.conversation_path
    return load(path) if path is not None else []


def chunks_of(interp: Interpreter, message: Any, *, stop_after: int | None = None) -> list[dict[str, Any]]:
    """Chat with display=False, stream=True; leave the stream after ``stop_after`` chunks."""
    out: list[dict[str, Any]] = []
    gen = interp.chat(message, display=False, stream=True)
    try:
        for chunk in gen:
            out.append(chunk)
            if stop_after is not None and len(out) >= stop_after:
                break
    finally:
        gen.close()
    return out


def errors(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The error chunks of a stream."""
    return [c for c in chunks if c.get("type") == "error"]
