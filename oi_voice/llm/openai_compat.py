"""A direct client for OpenAI-compatible servers (Ollama, LM Studio, llama.cpp, vLLM).

It skips litellm: one ``httpx.AsyncClient`` per client (per event loop) keeps the
connection alive between turns, and the SSE stream is parsed here, so a warm turn costs
one request on an open socket.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any

from oi_voice.errors import LLMError, LLMStreamError
from oi_voice.llm.base import ChatRequest, Delta
from oi_voice.llm.chunks import ChunkReader
from oi_voice.llm.mapping import detail_from_body, error_for_status, map_exception, parse_retry_after
from oi_voice.llm.retry import with_retries

if TYPE_CHECKING:
    import asyncio

    import httpx

DEFAULT_API_BASE = "https://api.openai.com/v1"


def wire_model_name(model: str) -> str:
    """The model name an OpenAI-compatible server expects (litellm's ``openai/`` removed)."""
    return model.removeprefix("openai/")


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body of a streamed ``/chat/completions`` request."""
    body: dict[str, Any] = {
        "model": wire_model_name(request.model),
        "messages": request.messages,
        "stream": True,
        # Without this, servers send no token counts in streamed replies.
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = request.tools
        body["tool_choice"] = "auto"
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    body.update(request.extra)
    return body


class OpenAICompatClient:
    """Streams ``/chat/completions`` from an OpenAI-compatible server over httpx.

    ``api_base`` and ``api_key`` are defaults; a request's own values win. Without either,
    OpenAI's endpoint and ``OPENAI_API_KEY`` are used.
    """

    def __init__(self, api_base: str | None = None, api_key: str | None = None) -> None:
        self.api_base = api_base
        self.api_key = api_key
        self._http: httpx.AsyncClient | None = None
        self._loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    def stream(self, request: ChatRequest) -> AsyncIterator[Delta]:
        """Yield the reply's deltas, ending with a ``Finish``; retries per ``retry.py``."""
        return with_retries(request, lambda: self._attempt(request))

    async def aclose(self) -> None:
        """Close the pooled connections (on the loop that opened them)."""
        import asyncio

        http, self._http = self._http, None
        loop = self._loop() if self._loop else None
        if http is not None and loop is asyncio.get_running_loop():
            await http.aclose()

    def _client(self) -> httpx.AsyncClient:
        # httpx's pooled connections belong to the loop that opened them; a client used
        # from another loop (tests run one loop per test) gets a fresh pool.
        import asyncio

        import httpx

        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is None or self._loop() is not loop:
            self._http = httpx.AsyncClient(
                timeout=None, limits=httpx.Limits(max_keepalive_connections=4, keepalive_expiry=60)
            )
            self._loop = weakref.ref(loop)
        return self._http

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Delta, None]:
        import httpx

        custom_base = request.api_base or self.api_base
        base = (custom_base or DEFAULT_API_BASE).rstrip("/")
        # The user's OpenAI key goes to OpenAI only, never to a custom server.
        key = request.api_key or self.api_key or (None if custom_base else os.environ.get("OPENAI_API_KEY"))
        headers = {"Accept": "text/event-stream"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        reader = ChunkReader(where=base)
        mid_stream = False
        try:
            async with self._client().stream(
                "POST",
                base + "/chat/completions",
                json=request_body(request),
                headers=headers,
                timeout=httpx.Timeout(request.timeout),
            ) as response:
                if response.status_code >= 400:
                    raise error_for_status(
                        response.status_code,
                        detail_from_body(await response.aread()),
                        retry_after=parse_retry_after(response.headers),
                        where=base,
                    )
                mid_stream = True
                async for line in response.aiter_lines():
                    # One event per data line: OpenAI-compatible servers never split an
                    # event's JSON over several data lines, and dispatching at once saves
                    # waiting for the blank line.
                    if not line.startswith("data:") or reader.done:
                        continue  # blank separators, ": keep-alive" comments, event:/id: fields
                    data = line[5:].strip()
                    if data == "[DONE]":
                        # Keep reading to the end of the body so the connection goes back
                        # to the pool instead of being closed.
                        reader.done = True
                        continue
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        raise LLMStreamError(
                            f"the model server at {base} sent malformed data: {line[:200]!r}"
                        ) from None
                    if not isinstance(chunk, dict):
                        raise LLMStreamError(
                            f"the model server at {base} sent malformed data: {line[:200]!r}"
                        )
                    for delta in reader.feed(chunk):
                        yield delta
        except LLMError:
            raise
        except Exception as exc:  # httpx's errors, and the few it raises outside HTTPError
            raise map_exception(exc, where=base, timeout=request.timeout, mid_stream=mid_stream) from exc
        yield reader.finish()
