"""The one asyncio loop that runs the engine, in its own daemon thread.

Every front end attaches the same way: the sync ``chat()`` facade and the CLI call
``EngineThread.get().call(...)`` / ``.iterate(...)``; the server and the Qt bridge use
``submit`` (``run_coroutine_threadsafe``). Blocking work never runs on this loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class EngineThread:
    """A daemon thread owning an asyncio loop; created on first use, shared process-wide."""

    _instance: EngineThread | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="oi-voice-engine", daemon=True)
        self._thread.start()
        ready.wait()

    def _main(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    @classmethod
    def get(cls) -> EngineThread:
        """The shared engine thread, started if needed."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def in_engine(self) -> bool:
        """True when called from the engine thread itself."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the engine loop from any other thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the engine loop and wait for its result (not from the loop itself).

        A KeyboardInterrupt while waiting cancels the coroutine before it propagates.
        """
        if self.in_engine():
            coro.close()
            raise RuntimeError("EngineThread.call() from the engine thread would deadlock")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def iterate(self, agen: AsyncIterator[T],
                on_close: Callable[[], Coroutine[Any, Any, None]] | None = None) -> Iterator[T]:
        """Iterate an async generator from a plain thread, one item per request.

        Pull-based on purpose: the engine produces the next chunk only when the consumer
        asks for it, so a consumer can answer an approval before the turn goes on.
        Leaving the loop early (``break``, an exception, garbage collection) closes
        the generator on the engine loop, which cancels what it was doing.
        """
        try:
            while True:
                try:
                    item: T = self.call(_next(agen))
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None and not self.loop.is_closed():
                with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                    self.submit(aclose()).result(timeout=10)
            if on_close is not None:
                self.submit(on_close()).result(timeout=10)


async def _next(agen: AsyncIterator[T]) -> T:
    return await agen.__anext__()
