"""The one asyncio loop that runs the engine, in its own daemon thread, and the one bridge to it.

Every front end attaches the same way, through :class:`EngineThread`:

- ``iterate``: pull a turn's events from a plain thread, one per request (the sync
  ``chat()`` facade and the CLI, through ``Interpreter.events``);
- ``pump``: push a turn's events into a thread's queue (the voice session, and with it
  the Qt bridge, which only speaks to the session);
- ``relay``: an async iterator of a turn's events on any asyncio loop (the server).

``pump`` and ``relay`` end a turn that raised an :class:`~oi_voice.errors.OIVoiceError`
with an :class:`~oi_voice.core.events.ErrorEvent` (see :func:`guarded`), so their
consumers handle one error type. Blocking work never runs on this loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Generator
from typing import Any, Final, TypeVar

from oi_voice.core.events import EngineEvent, ErrorEvent
from oi_voice.errors import BusyError, OIVoiceError

T = TypeVar("T")

#: The last item ``pump`` hands over: the turn is over (whatever way it ended).
END: Final = object()


async def guarded(events: AsyncIterator[EngineEvent], role: str = "computer") -> AsyncGenerator[EngineEvent, None]:
    """``events``, with an OIVoiceError it raises turned into its last event, an ErrorEvent.

    ``role`` is the error's LMC role (``server`` for the HTTP server's own errors).
    """
    try:
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event
    except BusyError as exc:
        yield ErrorEvent("busy", str(exc), role)
    except OIVoiceError as exc:
        yield ErrorEvent("llm", str(exc), role)


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

    # -- the bridge ----------------------------------------------------------------------------

    def iterate(self, agen: AsyncIterator[T]) -> Generator[T, None, None]:
        """Iterate an async generator from a plain thread, one item per request.

        Pull-based on purpose: the engine produces the next event only when the consumer
        asks for it, so a consumer can answer an approval before the turn goes on.
        Leaving the loop early (``break``, an exception, garbage collection) closes
        the generator on the engine loop, which cancels what it was doing. Errors the
        generator raises reach the consumer as they are (the Python API raises them).
        """
        pulls: list[asyncio.Task[Any]] = []  # the latest pull's task, set on the engine loop
        try:
            while True:
                try:
                    item: T = self.call(_next(agen, pulls))
                except StopAsyncIteration:
                    return
                yield item
        finally:
            if not self.loop.is_closed():
                with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
                    self.submit(_close(agen, pulls)).result(timeout=10)

    def pump(self, events: AsyncIterator[EngineEvent], put: Callable[[object], None],
             role: str = "computer") -> concurrent.futures.Future[None]:
        """Run a turn on the engine loop, handing each event to ``put`` (from the engine thread).

        ``put`` gets :data:`END` last, however the turn ended; cancelling the returned
        future cancels the turn. ``put`` must not block (``queue.Queue.put``,
        ``loop.call_soon_threadsafe``).
        """

        async def drive() -> None:
            try:
                async for event in guarded(events, role):
                    put(event)
            finally:
                put(END)

        return self.submit(drive())

    async def relay(self, events: AsyncIterator[EngineEvent], role: str = "computer"
                    ) -> AsyncGenerator[EngineEvent, None]:
        """A turn's events on whatever asyncio loop this is awaited on.

        On the engine loop the turn is iterated natively; on another loop (a server run
        by someone else's uvicorn) it is driven on the engine loop, where its kernel and
        gate live, and its events are handed over. Leaving early cancels the turn.
        """
        here = asyncio.get_running_loop()
        if here is self.loop:
            async with contextlib.aclosing(guarded(events, role)) as native:
                async for event in native:
                    yield event
            return
        queue: asyncio.Queue[object] = asyncio.Queue()

        def put(item: object) -> None:
            with contextlib.suppress(RuntimeError):  # the serving loop is gone: nobody to tell
                here.call_soon_threadsafe(queue.put_nowait, item)

        future = self.pump(events, put, role)
        try:
            while (item := await queue.get()) is not END:
                assert isinstance(item, EngineEvent)
                yield item
            await asyncio.wrap_future(future)  # raises what the turn raised, if anything
        finally:
            future.cancel()  # cancels the turn on the engine loop if it is still running
            with contextlib.suppress(BaseException):
                await asyncio.wrap_future(future)


async def _next(agen: AsyncIterator[T], pulls: list[asyncio.Task[Any]]) -> T:
    task = asyncio.current_task()
    if task is not None:
        pulls[:] = [task]
    return await agen.__anext__()


async def _close(agen: AsyncIterator[Any], pulls: list[asyncio.Task[Any]]) -> None:
    """Close ``agen`` once a pull that was cancelled (Ctrl-C) has finished unwinding.

    Closing it while that pull still runs fails ("already running"), and the turn would
    then finish later, on its own: the next message would find the interpreter busy.
    """
    if pulls and not pulls[0].done():
        await asyncio.wait(pulls)
    aclose = getattr(agen, "aclose", None)
    if aclose is not None:
        await aclose()
