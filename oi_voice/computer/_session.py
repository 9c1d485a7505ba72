"""What every language shares: one run at a time, a producer task, interrupt and cancel.

A run is executed by a producer task that owns the runtime for its whole duration and
puts events into a small bounded queue; ``run()`` only forwards that queue. Keeping the
work in its own task is what makes interrupts and cancellation dependable: when the
consumer stops iterating (``break``, ``aclose()``, its task cancelled), the producer keeps
going in the background, interrupts the code, escalates if it does not stop, throws the
rest of the output away and only then lets the next run start. So a new run never sees
a previous run's output, and the session is never left half-finished.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from typing import ClassVar

from oi_voice.computer._catalog import LanguageSpec, find_runtime
from oi_voice.computer.base import LanguageInfo, Progress, RunEvent, RunFinished
from oi_voice.errors import ComputerError, LanguageNotAvailableError

log = logging.getLogger(__name__)

# Few events in flight: each holds at most one read budget of output, so this bounds
# the memory a fast producer can pile up in front of a slow consumer.
_QUEUE_SIZE = 8

# How long ``interrupt()`` waits for the run to wind down before returning anyway.
_INTERRUPT_WAIT = 5.0


class Run:
    """The state of one run, shared by its producer task and its consumer."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[RunEvent] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        #: Set when nobody listens any more: the producer finishes but emits nothing.
        self.discard = False
        #: ``time.monotonic()`` of the first interrupt request, None if not interrupted.
        self.interrupt_at: float | None = None
        #: Set to make a waiting producer look at its state again (interrupt, output).
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    @property
    def interrupted(self) -> bool:
        """Whether an interrupt was requested for this run."""
        return self.interrupt_at is not None

    def since_interrupt(self) -> float:
        """Seconds since the interrupt was requested (0 if it was not)."""
        return 0.0 if self.interrupt_at is None else time.monotonic() - self.interrupt_at

    async def emit(self, event: RunEvent) -> None:
        """Hand an event to the consumer (waits while the queue is full)."""
        if not self.discard:
            await self.queue.put(event)


class SessionLanguage(abc.ABC):
    """Base class of every language: implements the ``Language`` protocol's plumbing.

    Subclasses implement ``_start`` (bring the runtime up), ``_execute`` (produce the
    events of one run and return its ``RunFinished``), ``_interrupt_now`` (the first,
    gentle stop signal), ``_restart``, ``_shutdown``, ``kill_now`` and ``remove_files``.
    """

    #: Which language this is (names, runtime); set by every concrete class.
    spec: ClassVar[LanguageSpec]
    info: LanguageInfo

    def __init__(self) -> None:
        self._executable = find_runtime(self.spec)
        self.info = LanguageInfo(self.spec.name, self.spec.aliases, available=self._executable is not None)
        self._lock = asyncio.Lock()
        self._current: Run | None = None
        self._start_task: asyncio.Task[None] | None = None
        self._closed = False

    # --- the Language protocol -------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether a run is in progress (including one winding down after a cancel)."""
        return self._current is not None

    def unavailable_message(self) -> str:
        """Why this language cannot run here (shown when ``info.available`` is False)."""
        return f"{self.spec.runtime or self.spec.name} is not installed on this computer"

    async def start(self) -> None:
        """Start the runtime ahead of the first run; concurrent callers share one start.

        Raises ``LanguageNotAvailableError`` when the runtime is missing and
        ``ComputerError`` when it could not be started.
        """
        if self._closed:
            raise ComputerError(f"The {self.info.name} session is closed")
        if not self.info.available:
            raise LanguageNotAvailableError(self.unavailable_message())
        task = self._start_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._start_task = asyncio.get_running_loop().create_task(self._start())
        # shield: one caller giving up must not cancel the start the others wait for.
        await asyncio.shield(task)

    def run(self, code: str) -> AsyncGenerator[RunEvent, None]:
        """Run ``code``; yields events and ends with exactly one ``RunFinished``."""
        return self._run(code)

    async def interrupt(self) -> None:
        """Stop the running code, escalating if it ignores the first signal.

        Returns once the run has finished (or after a few seconds if the consumer does
        not read its events). Does nothing when no run is in progress.
        """
        run = self._current
        if run is None or run.task is None or run.task.done():
            return
        await self._request_interrupt(run)
        await asyncio.wait({run.task}, timeout=_INTERRUPT_WAIT)

    async def restart(self) -> None:
        """Throw the session away and start a fresh one."""
        await self.interrupt()
        async with self._lock:
            task = self._start_task
            if task is not None and task.done() and not task.cancelled() and task.exception() is None:
                await self._restart()
            else:
                await self.start()

    async def close(self) -> None:
        """Stop the runtime at once and free what it holds (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.kill_now()
        tasks = [t for t in (self._start_task, self._current.task if self._current else None) if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self._shutdown()
        except Exception:  # closing must not fail half-way
            log.exception("closing %s failed", self.info.name)

    # --- for subclasses --------------------------------------------------------------

    @abc.abstractmethod
    async def _start(self) -> None:
        """Bring the runtime up (called once per session, by ``start``)."""

    @abc.abstractmethod
    async def _execute(self, run: Run, code: str) -> RunFinished:
        """Run ``code``, emitting its events through ``run``; return how it finished."""

    @abc.abstractmethod
    def _interrupt_now(self) -> None:
        """Send the first, gentle stop signal (SIGINT) to the running code, synchronously."""

    async def _send_interrupt(self, run: Run) -> None:
        """Send the first stop signal for ``interrupt()`` (default: ``_interrupt_now``)."""
        self._interrupt_now()

    def _preparing(self) -> Progress | None:
        """What a run must wait for before the runtime can start, if that is slow (default: nothing).

        A run that gets a Progress shows it, and an interrupt while it waits cancels the start.
        Called on the loop: a cheap check only.
        """
        return None

    @abc.abstractmethod
    async def _restart(self) -> None:
        """Replace the runtime with a fresh one (the run lock is held by the caller)."""

    @abc.abstractmethod
    async def _shutdown(self) -> None:
        """Release what ``kill_now`` left: connections, pipes, temporary files."""

    @abc.abstractmethod
    def kill_now(self) -> None:
        """Kill every process of this language at once; safe without a running loop."""

    @abc.abstractmethod
    def remove_files(self) -> None:
        """Remove temporary files at once; safe without a running loop."""

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    # --- internals ---------------------------------------------------------------------

    async def _request_interrupt(self, run: Run) -> None:
        if run.interrupt_at is None:
            run.interrupt_at = time.monotonic()
            try:
                await self._send_interrupt(run)
            except Exception:  # the escalation in the producer still applies
                log.exception("interrupting %s failed", self.info.name)
        run.wake.set()

    async def _run(self, code: str) -> AsyncGenerator[RunEvent, None]:
        if not self.info.available:
            yield RunFinished("unavailable", message=self.unavailable_message())
            return
        if self._closed:
            yield RunFinished("unavailable", message=f"The {self.info.name} session is closed")
            return
        await self._lock.acquire()
        run = Run()
        try:
            run.task = asyncio.get_running_loop().create_task(self._produce(run, code))
        except BaseException:
            self._lock.release()
            raise
        self._current = run
        finished = False
        try:
            while not finished:
                event = await run.queue.get()
                if isinstance(event, RunFinished):
                    finished = True
                    # Let the producer release the session first, so that is_running is
                    # False and a next run can start as soon as the caller sees the end.
                    await asyncio.wait({run.task})  # neither raises its error nor cancels it
                yield event
        finally:
            if not finished:
                # The consumer left early: stop the code before the exception goes on, drop
                # its output, and unblock a producer waiting on the full queue. The producer
                # escalates and finishes in the background; the next run waits for it.
                run.discard = True
                while not run.queue.empty():
                    run.queue.get_nowait()
                if not run.task.done() and run.interrupt_at is None:
                    run.interrupt_at = time.monotonic()
                    try:
                        self._interrupt_now()
                    except Exception:
                        log.exception("interrupting %s failed", self.info.name)
                run.wake.set()

    async def _produce(self, run: Run, code: str) -> None:
        try:
            progress = self._preparing() if not self._started() else None
            try:
                if progress is None:
                    await self.start()
                    stopped = False
                else:
                    await run.emit(progress)
                    stopped = await self._start_unless_interrupted(run)
            except ComputerError as exc:
                finished = RunFinished("error", message=str(exc))
            else:
                if stopped:
                    finished = RunFinished("interrupted", message="It was stopped while it was being set up.")
                else:
                    finished = await self._execute(run, code)
            await run.emit(finished)
        except asyncio.CancelledError:
            # close() cancelled us: tell a consumer that is still listening, then stop.
            if not run.discard:
                if run.queue.full():  # make room: the end matters more than some output
                    run.queue.get_nowait()
                run.queue.put_nowait(RunFinished("interrupted", message=f"The {self.info.name} session was closed."))
            raise
        except Exception as exc:
            log.exception("running %s code failed", self.info.name)
            message = f"Internal error while running {self.info.name}: {exc}"
            await run.emit(RunFinished("error", message=message))
        finally:
            self._end(run)

    def _started(self) -> bool:
        task = self._start_task
        return task is not None and task.done() and not task.cancelled() and task.exception() is None

    async def _start_unless_interrupted(self, run: Run) -> bool:
        """Start, or cancel the start when the run is interrupted meanwhile; True if it was."""
        starting = asyncio.ensure_future(self.start())
        while not starting.done():
            if run.interrupted:
                task = self._start_task
                if task is not None and not task.done():
                    task.cancel()  # the slow part (a build) is killed, and made again next time
                await asyncio.wait({starting})
                if not starting.cancelled():
                    starting.exception()  # retrieved: a failure of a start we gave up on is no news
                return True
            woken = asyncio.ensure_future(run.wake.wait())
            try:
                await asyncio.wait({starting, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:  # also when close() cancels us: no waiter is left behind
                woken.cancel()
                if not starting.done() and self._closed:
                    starting.cancel()
            run.wake.clear()
        starting.result()  # raises its ComputerError
        return False

    def _end(self, run: Run) -> None:
        if self._current is run:
            self._current = None
        if self._lock.locked():
            self._lock.release()
