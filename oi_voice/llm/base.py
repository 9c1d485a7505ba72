"""What every model client streams, and what it is asked.

A client turns a ``ChatRequest`` into an async stream of ``Delta``s. It retries
transient failures (connection refused, 429, 5xx) with bounded backoff *before the
first delta*; after that a cut stream raises ``LLMStreamError``. Every failure is
raised as an ``oi_voice.errors.LLMError`` subclass: library exceptions never escape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's visible text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a native tool call. Fragments with the same ``index`` belong together;
    ``id`` and ``name`` usually arrive on the first fragment only, ``arguments`` is a
    piece of a JSON text to be concatenated."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Finish:
    """The stream ended normally. ``reason`` as the server said (stop, length, tool_calls)."""

    reason: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


Delta = TextDelta | ToolCallDelta | Finish


@dataclass(slots=True)
class ChatRequest:
    """One completion request in OpenAI chat format."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    api_base: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    #: Seconds to wait for the connection and for each piece of the stream.
    timeout: float = 60.0
    #: Attempts for transient failures before the first delta (1 = no retry).
    max_attempts: int = 3
    extra: dict[str, Any] = field(default_factory=dict)


class ChatClient(Protocol):
    """Streams one completion."""

    def stream(self, request: ChatRequest) -> AsyncIterator[Delta]:
        """Yield the reply's deltas; the last one is a ``Finish``."""
