"""The retry policy both clients share.

A transient failure (``LLMError.transient``: refused connection, timeout, 429, 5xx) is
retried with bounded exponential backoff, but only until the first delta has been
yielded: after that the caller has shown part of the reply, and a silent restart would
show it twice. A server's Retry-After is honoured up to ``MAX_RETRY_AFTER``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from oi_voice.errors import LLMConnectionError, LLMError, LLMStreamError
from oi_voice.llm.base import ChatRequest, Delta
from oi_voice.llm.mapping import STREAM_CUT

BASE_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 30.0


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    if retry_after is not None:
        return min(max(0.0, retry_after), MAX_RETRY_AFTER)
    return min(BASE_DELAY * 2 ** (attempt - 1), MAX_DELAY)


async def with_retries(
    request: ChatRequest, attempt: Callable[[], AsyncGenerator[Delta, None]]
) -> AsyncIterator[Delta]:
    """Yield the deltas of ``attempt()``, calling it again on transient failures that
    happen before the first delta, up to ``request.max_attempts`` times in all."""
    tries = 0
    while True:
        tries += 1
        started = False
        try:
            # aclosing: a consumer that stops early closes the HTTP stream now, not at GC.
            async with contextlib.aclosing(attempt()) as deltas:
                async for delta in deltas:
                    started = True
                    yield delta
            return
        except LLMError as exc:
            if started:
                if isinstance(exc, LLMConnectionError):
                    # The connection broke after part of the reply was shown: a cut stream.
                    raise LLMStreamError(f"{STREAM_CUT}: {exc}", status=exc.status) from exc
                raise
            if not exc.transient or tries >= max(1, request.max_attempts):
                raise
            delay = backoff_delay(tries, exc.retry_after)
        import asyncio  # here, not at the top: importing this package must stay cheap

        await asyncio.sleep(delay)
