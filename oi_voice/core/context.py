"""Offline token counting and trimming the history to the model's context window.

Counting uses tiktoken's cl100k_base from the cache litellm ships, so nothing is
downloaded; without it, a conservative estimate is used. Byte-level BPE never makes
more tokens than UTF-8 bytes, so a conversation whose bytes fit needs no tokenizer at
all: the common case costs no tokenizer load.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from typing import Any, Protocol

# Per-message framing tokens in the OpenAI chat format (role, separators).
_PER_MESSAGE = 4


class _Encoding(Protocol):
    def encode(self, text: str, *, disallowed_special: Any = ...) -> list[int]: ...


_encoding_lock = threading.Lock()


@lru_cache(maxsize=1)
def _encoding() -> _Encoding | None:
    with _encoding_lock:
        from oi_voice.llm.catalog import tiktoken_cache_dir

        cache = tiktoken_cache_dir()
        if cache:
            os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
        try:
            import tiktoken

            return tiktoken.get_encoding("cl100k_base")
        except Exception:  # no cache, no network: fall back to the estimate
            return None


def _text_of(message: dict[str, Any]) -> str:
    parts = [str(message.get("role", ""))]
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        for part in content:
            if part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            else:
                parts.append("x" * 3000)  # an image costs roughly this much; never zero
    if message.get("tool_calls"):
        parts.append(json.dumps(message["tool_calls"]))
    return "\n".join(parts)


def upper_bound(messages: list[dict[str, Any]]) -> int:
    """A bound no tokenizer can exceed: the UTF-8 bytes plus per-message framing."""
    return sum(len(_text_of(m).encode("utf-8")) + _PER_MESSAGE for m in messages)


def count_tokens(messages: list[dict[str, Any]]) -> int:
    """Tokens of OpenAI-format messages (cl100k_base; an estimate without the tokenizer)."""
    return sum(_tokens(_text_of(m)) + _PER_MESSAGE for m in messages)


@lru_cache(maxsize=8192)
def _tokens(text: str) -> int:
    # Cached: every turn counts the whole history again, and re-encoding it made each turn
    # of a long conversation slower than the last (~100 ms a turn after 200 turns).
    encoding = _encoding()
    if encoding is None:
        return len(text) // 3
    return len(encoding.encode(text, disallowed_special=()))


def count_text(text: str) -> int:
    """Tokens of one text."""
    return count_tokens([{"role": "", "content": text}]) - _PER_MESSAGE


def trim(messages: list[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """Drop the oldest messages until the conversation fits ``budget`` tokens.

    Keeps the system message and the latest turn (from the last user message on);
    drops an assistant message together with the tool results that answer it, so no
    tool result is ever orphaned. If even that does not fit, the latest turn is
    returned whole and the server will say the context is too long.
    """
    if upper_bound(messages) <= budget or count_tokens(messages) <= budget:
        return messages
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    body = messages[len(head):]
    last_user = max((i for i, m in enumerate(body) if m.get("role") == "user"), default=0)
    older, latest = body[:last_user], body[last_user:]
    fixed = count_tokens(head) + count_tokens(latest)
    sizes = [count_tokens([m]) for m in older]
    start, total = 0, sum(sizes)
    while older[start:] and fixed + total > budget:
        total -= sizes[start]
        start += 1
        # Never start on a tool result: its assistant message is gone.
        while start < len(older) and older[start].get("role") == "tool":
            total -= sizes[start]
            start += 1
    return head + older[start:] + latest
