"""Shell, JavaScript (Node.js), Ruby and R, each in processes of its own.

Output is read from pipes in 64 KiB reads, at most 256 KiB per stream per event, decoded
as UTF-8 (errors replaced, with an incremental decoder so a character split between
reads survives) and stripped of terminal escapes. A slow consumer makes the code block
on a full pipe instead of making us buffer: memory stays bounded whatever the volume.

Shell (bash): every run is a fresh ``bash -c`` in a session of its own. Through
``BASH_ENV`` it first reads ``_drivers/shell_env.bash``, which restores the session's
state from a file (working directory, ``declare -p`` of the variables bash does not
manage itself, ``declare -f``, ``alias -p``, ``shopt -p``); the ``-c`` script evaluates the
code on its first line (so bash's "line N" in error messages is the code's own line N)
and saves the state again, as does an EXIT trap on ``exit`` and on SIGINT. So:

- completion is simply the process exit: no marker is printed, none can leak;
- the exit status is the code's own (``exit 3`` gives exit_code 3);
- an interrupt signals the whole process group (SIGINT, then SIGKILL after 0.3 s, and
  SIGKILL for what is left once bash is gone), which reaches background jobs too;
- a run that is killed mid-save keeps the previous state: the wrapper writes
  ``state.new`` with an end line, and only a complete file replaces ``state``.

Background jobs of a run that ended normally keep running (a server started with ``&``
should); their later output is read and dropped, and ``close()`` kills them.

Node.js and Ruby: one persistent driver process (``_drivers/*``) per session. Requests
travel as JSON lines on a control pipe, completions on a separate status pipe, so
stdout and stderr carry only the code's output. An interrupt sends SIGINT to the
driver's group; if the run has not finished 0.3 s later, the group is killed, the
driver restarted, and the run says that all variables are gone.

Input: a run's stdin is a pipe nobody writes to. A watchdog (``_procfs``) notices a
process of the run blocked reading it; after ``input_timeout`` seconds of that the run is
stopped and finishes with ``needs_input``. Without /proc support stdin is /dev/null.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import signal
import time
from pathlib import Path
from typing import ClassVar, Literal

from oi_voice.computer._catalog import SPECS
from oi_voice.computer._child import (
    READ_BUDGET,
    ChildProcess,
    Pipe,
    TextDecoder,
    describe_exit,
    private_dir,
    signal_group,
    write_all,
)
from oi_voice.computer._procfs import StdinWatch, stdin_watch_supported
from oi_voice.computer._session import Run, SessionLanguage
from oi_voice.computer.base import Output, RunFinished
from oi_voice.errors import ComputerError

__all__ = ["NodeLanguage", "RLanguage", "RubyLanguage", "ShellLanguage"]

log = logging.getLogger(__name__)

_DRIVERS = Path(__file__).with_name("_drivers")
_SIGKILL_AFTER = 0.3  # seconds between SIGINT and SIGKILL
_TICK = 0.25  # longest wait between two looks at a quiet run
_DRIVER_START_TIMEOUT = 20.0
_STATE_END = b"#oi-voice-state-end\n"
_MAX_PIPE_BYTES = 1024 * 1024  # Linux's default /proc/sys/fs/pipe-max-size

StreamName = Literal["stdout", "stderr"]


def _needs_input_message(language: str) -> str:
    return (
        f"The {language} code waited for input on stdin (the keyboard), which is not available "
        "here, so it was stopped. Put the values in the code instead."
    )


def _spawn_cwd(preferred: str | None) -> str:
    if preferred and os.path.isdir(preferred):
        return preferred
    try:
        return os.getcwd()
    except OSError:  # our own working directory was deleted
        return os.path.expanduser("~")


async def _wait(event: asyncio.Event, timeout: float) -> None:
    """Wait until ``event`` is set or ``timeout`` passes, then clear it."""
    if not event.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
    event.clear()


class _Streams:
    """A run's stdout and stderr pipes with their decoders."""

    def __init__(self, stdout: Pipe, stderr: Pipe) -> None:
        self.pipes: dict[StreamName, Pipe] = {"stdout": stdout, "stderr": stderr}
        self.decoders: dict[StreamName, TextDecoder] = {"stdout": TextDecoder(), "stderr": TextDecoder()}

    def set_wake(self, wake: asyncio.Event) -> None:
        for pipe in self.pipes.values():
            pipe.wake = wake.set

    def arm(self) -> None:
        for pipe in self.pipes.values():
            pipe.arm()

    async def forward(self, run: Run) -> bool:
        """Emit what the pipes hold now (one budget per stream); True if there was any."""
        any_output = False
        for name, pipe in self.pipes.items():
            data = pipe.read()
            if data or pipe.eof:
                text = self.decoders[name].decode(data, final=pipe.eof)
                if text:
                    any_output = True
                    await run.emit(Output(text, name))
        return any_output

    async def forward_all(self, run: Run) -> None:
        """Emit what was written before the run ended, until the pipes are empty.

        A pipe holds at most 1 MiB: more rounds than that can only be a background job
        still writing, which would keep us here for ever.
        """
        for _ in range(_MAX_PIPE_BYTES // READ_BUDGET + 1):
            if not await self.forward(run):
                break
        for name, decoder in self.decoders.items():
            rest = decoder.decode(b"", final=True)
            if rest:
                await run.emit(Output(rest, name))

    def discard(self) -> None:
        """Drop what the pipes hold now (output of nobody's run)."""
        for pipe in self.pipes.values():
            for _ in range(_MAX_PIPE_BYTES // READ_BUDGET + 1):
                if not pipe.read():
                    break
        for decoder in self.decoders.values():
            decoder.reset()

    def close(self) -> None:
        for pipe in self.pipes.values():
            pipe.close()


class _InputWatchdog:
    """Decides when a run has waited on its stdin pipe long enough to be stopped."""

    def __init__(self, stdin_write_fd: int, timeout: float) -> None:
        self._watch = StdinWatch(stdin_write_fd) if stdin_write_fd >= 0 else None
        self._timeout = timeout
        self._interval = max(0.02, min(_TICK, timeout / 4))
        self._next_check = time.monotonic() + self._interval
        self._since: float | None = None

    @property
    def interval(self) -> float:
        return self._interval

    def starved(self, pgid: int, had_output: bool) -> bool:
        """Look (at most every interval) whether group ``pgid`` waits on stdin."""
        now = time.monotonic()
        if had_output:
            # A process that just printed is not waiting (a prompt comes before a read).
            self._since = None
            self._next_check = now + self._interval
            return False
        if self._watch is None or now < self._next_check:
            return False
        self._next_check = now + self._interval
        if self._watch.waiting_pid(pgid) is None:
            self._since = None
            return False
        if self._since is None:
            self._since = now
        return now - self._since >= self._timeout


class _Escalation:
    """How a run is stopped: SIGINT when the user asks or when it starves waiting on stdin,
    then SIGKILL to its group if it is still there ``_SIGKILL_AFTER`` later."""

    def __init__(self, watchdog: _InputWatchdog) -> None:
        self._watchdog = watchdog
        self._starved_at: float | None = None
        self.killed = False

    @property
    def starved(self) -> bool:
        """Whether the run was stopped for waiting on input."""
        return self._starved_at is not None

    def step(self, run: Run, child: ChildProcess, had_output: bool) -> float:
        """Escalate as due; returns how long to wait before the next look."""
        stop_at = self._starved_at if self._starved_at is not None else run.interrupt_at
        if stop_at is not None and not self.killed and time.monotonic() - stop_at >= _SIGKILL_AFTER:
            child.signal_group(signal.SIGKILL)
            self.killed = True
        if self._starved_at is None and self._watchdog.starved(child.pid, had_output):
            self._starved_at = time.monotonic()
            child.signal_group(signal.SIGINT)
        return self._watchdog.interval if stop_at is None else _SIGKILL_AFTER / 3


def _make_stdin(watch: bool) -> tuple[int, int]:
    """(read end for the child, write end we keep or -1)."""
    if watch:
        return os.pipe()
    return os.open(os.devnull, os.O_RDONLY), -1


def _close(*fds: int) -> None:
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)


class _ProcessLanguage(SessionLanguage):
    """What the shell and the drivers share: options and stdin handling."""

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0) -> None:
        super().__init__()
        self._cwd = cwd
        self._input_timeout = input_timeout
        self._watch_stdin = stdin_watch_supported()
        self._child: ChildProcess | None = None

    def _interrupt_now(self) -> None:
        if self._child is not None:
            self._child.signal_group(signal.SIGINT)

    def kill_now(self) -> None:
        """Kill the running process group at once (no grace period)."""
        if self._child is not None:
            self._child.signal_group(signal.SIGKILL)


# --- shell ---------------------------------------------------------------------------


_SHELL_ENV = _DRIVERS / "shell_env.bash"
# On one line: bash numbers the lines of eval'd code from the line of the eval.
_SHELL_SCRIPT = (
    'IFS= read -r -d \'\' __oi_code <"$__oi_dir/code"; eval "$__oi_code"; '
    '{ __oi_rc=$?; set +x; } 2>/dev/null; __oi_save; exit "$__oi_rc"'
)


class ShellLanguage(_ProcessLanguage):
    """bash, with cwd, variables, functions and aliases kept between runs."""

    spec = SPECS["shell"]

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0) -> None:
        super().__init__(cwd=cwd, input_timeout=input_timeout)
        self._dir: str | None = None
        self._lingering: set[int] = set()  # process groups of finished runs' background jobs
        self._orphans: set[Pipe] = set()  # their pipes, drained and dropped

    async def _start(self) -> None:
        if self._dir is None:
            self._dir = private_dir("oi-voice-shell-")

    async def _restart(self) -> None:
        self._kill_lingering()
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self._dir, "state"))

    def kill_now(self) -> None:
        """Kill the run and its lingering background jobs at once."""
        super().kill_now()
        self._kill_lingering()

    def _kill_lingering(self) -> None:
        for pgid in self._lingering:
            signal_group(pgid, signal.SIGKILL)
        self._lingering.clear()

    async def _shutdown(self) -> None:
        for pipe in self._orphans:
            pipe.close()
        self._orphans.clear()
        if self._child is not None:
            await self._child.wait_exit(1.0)  # killed by kill_now: reap it
            self._child.release()
            self._child = None
        self.remove_files()

    def remove_files(self) -> None:
        """Remove the session directory (no loop needed)."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def _execute(self, run: Run, code: str) -> RunFinished:
        assert self._dir is not None and self._executable is not None
        with open(os.path.join(self._dir, "code"), "w", encoding="utf-8") as f:
            f.write(code)
        stdin_r, stdin_w = _make_stdin(self._watch_stdin)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            argv = [self._executable, "--noprofile", "--norc", "-c", _SHELL_SCRIPT, "bash"]
            env = dict(os.environ, BASH_ENV=str(_SHELL_ENV), OI_VOICE_SHELL_SESSION=self._dir)
            child = ChildProcess(argv, cwd=_spawn_cwd(self._cwd), env=env, stdin=stdin_r, stdout=out_w, stderr=err_w)
        except OSError as exc:
            _close(stdin_w, out_r, err_r)
            return RunFinished("error", message=f"Could not start bash: {exc}")
        finally:
            _close(stdin_r, out_w, err_w)
        self._child = child
        streams = _Streams(Pipe(out_r), Pipe(err_r))
        finished: RunFinished | None = None
        try:
            finished = await self._follow(run, child, streams, stdin_w)
            return finished
        finally:
            _close(stdin_w)
            self._keep_state()
            # Background jobs of a run that ended by itself may go on (a server started with
            # "&"); a stopped run's were killed with it.
            ended_normally = finished is not None and finished.status in ("ok", "error")
            if ended_normally and any(not p.eof for p in streams.pipes.values()) and child.group_exists():
                self._lingering.add(child.pid)
                for pipe in streams.pipes.values():
                    self._drop_later(pipe)
            else:
                streams.close()

    async def _follow(self, run: Run, child: ChildProcess, streams: _Streams, stdin_w: int) -> RunFinished:
        watchdog = _InputWatchdog(stdin_w, self._input_timeout)
        streams.set_wake(run.wake)
        child.wake = run.wake.set
        stopping = _Escalation(watchdog)
        while True:
            had_output = await streams.forward(run)
            if child.exited.is_set():
                # Whatever the run's foreground processes wrote is in the pipes by now.
                await streams.forward_all(run)
                break
            timeout = stopping.step(run, child, had_output)
            streams.arm()
            await _wait(run.wake, timeout)

        if stopping.starved or run.interrupted:
            # bash is gone; its background jobs ignore SIGINT but must not outlive the stop.
            child.signal_group(signal.SIGKILL)
            if stopping.starved:
                return RunFinished("needs_input", message=_needs_input_message("shell"))
            return RunFinished("interrupted")
        returncode = child.returncode
        if returncode == 0:
            return RunFinished("ok")
        exit_code = returncode if returncode is not None and returncode >= 0 else 128 - (returncode or 0)
        return RunFinished("error", message=describe_exit(returncode), exit_code=exit_code)

    def _keep_state(self) -> None:
        """Move a completely written state.new over state; drop a partial one."""
        assert self._dir is not None
        new = os.path.join(self._dir, "state.new")
        try:
            with open(new, "rb") as f:
                complete = f.read().endswith(_STATE_END)
        except FileNotFoundError:
            return
        if complete:
            os.replace(new, os.path.join(self._dir, "state"))
        else:
            os.unlink(new)

    def _drop_later(self, pipe: Pipe) -> None:
        """Read and drop what background jobs write from now on, until they close the pipe."""

        def drain() -> None:
            pipe.read()  # one budget per wake-up: a chatty job must not hog the loop
            if pipe.eof:
                pipe.close()
                self._orphans.discard(pipe)
            else:
                pipe.arm()

        pipe.wake = drain
        self._orphans.add(pipe)
        drain()


# --- driver-based languages ------------------------------------------------------------


class _DriverLanguage(_ProcessLanguage):
    """A language run by a persistent driver process speaking JSON lines on extra pipes."""

    display_name: ClassVar[str]
    driver: ClassVar[str]

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0) -> None:
        super().__init__(cwd=cwd, input_timeout=input_timeout)
        self._streams: _Streams | None = None
        self._status: Pipe | None = None
        self._status_buffer = b""
        self._control_w = -1
        self._stdin_w = -1

    def _argv(self, control_fd: int, status_fd: int) -> list[str]:
        assert self._executable is not None
        return [self._executable, str(_DRIVERS / self.driver), str(control_fd), str(status_fd)]

    # --- the driver process ------------------------------------------------------------

    async def _start(self) -> None:
        await self._launch()

    async def _launch(self) -> None:
        control_r, control_w = os.pipe()
        status_r, status_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        stdin_r, stdin_w = _make_stdin(self._watch_stdin)
        try:
            child = ChildProcess(
                self._argv(control_r, status_w),
                cwd=_spawn_cwd(self._cwd),
                env=None,
                stdin=stdin_r,
                stdout=out_w,
                stderr=err_w,
                pass_fds=(control_r, status_w),
            )
        except OSError as exc:
            _close(control_w, status_r, out_r, err_r, stdin_w)
            raise ComputerError(f"Could not start {self.display_name}: {exc}") from exc
        finally:
            _close(control_r, status_w, out_w, err_w, stdin_r)
        os.set_blocking(control_w, False)
        self._child = child
        self._control_w = control_w
        self._stdin_w = stdin_w
        self._status = Pipe(status_r)
        self._status_buffer = b""
        self._streams = _Streams(Pipe(out_r), Pipe(err_r))

        status, streams = self._status, self._streams
        ready = asyncio.Event()
        self._wire(ready)
        deadline = time.monotonic() + _DRIVER_START_TIMEOUT
        message = self._next_status()
        while message is None and not (status.eof or child.exited.is_set() or time.monotonic() > deadline):
            status.arm()
            await _wait(ready, _TICK)
            message = self._next_status()
        if message is None or not message.get("ready"):
            errors = streams.pipes["stderr"].read().decode("utf-8", "replace").strip()
            self._discard_driver()
            raise ComputerError(f"{self.display_name} did not start" + (f": {errors}" if errors else ""))
        streams.discard()
        self.info = dataclasses.replace(self.info, version=str(message.get("version", "")))

    def _wire(self, wake: asyncio.Event) -> None:
        """Point every pipe and the exit of the driver at ``wake``."""
        assert self._child is not None and self._status is not None and self._streams is not None
        self._child.wake = wake.set
        self._status.wake = wake.set
        self._streams.set_wake(wake)

    def _next_status(self) -> dict[str, object] | None:
        """The next complete line from the status pipe, parsed, if one has arrived."""
        assert self._status is not None
        self._status_buffer += self._status.read()
        line, newline, rest = self._status_buffer.partition(b"\n")
        if not newline:
            return None
        self._status_buffer = rest
        try:
            message = json.loads(line)
        except ValueError:
            return {"status": "error", "message": f"garbled status from the driver: {line[:200]!r}"}
        return message if isinstance(message, dict) else {}

    def _discard_driver(self) -> ChildProcess | None:
        """Kill the driver and close every pipe to it; returns the (dying) process."""
        child, self._child = self._child, None
        if child is not None:
            child.signal_group(signal.SIGKILL)
        if self._streams is not None:
            self._streams.close()
            self._streams = None
        if self._status is not None:
            self._status.close()
            self._status = None
        _close(self._control_w, self._stdin_w)
        self._control_w = self._stdin_w = -1
        return child

    async def _restart(self) -> None:
        self._discard_driver()
        await self._launch()

    def remove_files(self) -> None:
        """Nothing to remove: a driver keeps no files."""

    async def _shutdown(self) -> None:
        child = self._discard_driver()
        if child is not None:
            await child.wait_exit(1.0)
            child.release()

    # --- a run -------------------------------------------------------------------------

    async def _execute(self, run: Run, code: str) -> RunFinished:
        if self._child is None or self._child.exited.is_set():
            cause = describe_exit(self._child.returncode if self._child else None)
            try:
                await self._restart()
            except ComputerError as exc:
                return RunFinished("died", message=f"{self.display_name} had died and did not restart: {exc}")
            await run.emit(
                Output(
                    f"{self.display_name} had died ({cause}) since the last run; it was restarted "
                    "and all variables are gone.\n",
                    "stderr",
                )
            )
        child, streams = self._child, self._streams
        assert child is not None and streams is not None and self._status is not None
        # Output of timers and callbacks that fired between runs belongs to no run.
        streams.discard()
        self._wire(run.wake)
        request = json.dumps({"code": code}).encode() + b"\n"
        with contextlib.suppress(OSError):  # a driver that is gone is noticed below
            await write_all(self._control_w, request)

        watchdog = _InputWatchdog(self._stdin_w, self._input_timeout)
        stopping = _Escalation(watchdog)
        while True:
            had_output = await streams.forward(run)
            status = self._next_status()
            if status is not None:
                await streams.forward_all(run)
                return self._finished(run, status, starved=stopping.starved)
            if self._status.eof or child.exited.is_set():
                await streams.forward_all(run)
                return await self._after_death(run, child, stopping.killed, starved=stopping.starved)
            timeout = stopping.step(run, child, had_output)
            streams.arm()
            self._status.arm()
            await _wait(run.wake, timeout)

    def _finished(self, run: Run, status: dict[str, object], *, starved: bool) -> RunFinished:
        if starved:
            return RunFinished("needs_input", message=_needs_input_message(self.display_name))
        if run.interrupted or status.get("status") == "interrupted":
            return RunFinished("interrupted")
        if status.get("status") == "ok":
            return RunFinished("ok")
        exit_code = status.get("exit_code")
        return RunFinished(
            "error",
            message=str(status.get("message", "")),
            exit_code=exit_code if isinstance(exit_code, int) else None,
        )

    async def _after_death(self, run: Run, child: ChildProcess, killed: bool, *, starved: bool) -> RunFinished:
        if not child.exited.is_set():
            child.signal_group(signal.SIGKILL)
            await child.wait_exit(2.0)
        cause = describe_exit(child.returncode)
        lost = f"{self.display_name} was restarted and all variables are gone"
        try:
            await self._restart()
        except ComputerError as exc:
            lost = f"restarting {self.display_name} failed: {exc}"
        if killed and starved:
            message = f"{_needs_input_message(self.display_name)} It did not stop, so {lost}."
            return RunFinished("needs_input", message=message)
        if killed:
            return RunFinished("interrupted", message=f"The code did not stop when interrupted, so {lost}.")
        return RunFinished("died", message=f"{self.display_name} died ({cause}); {lost}.")


class NodeLanguage(_DriverLanguage):
    """JavaScript in one persistent Node.js process (top-level variables persist)."""

    spec = SPECS["javascript"]
    display_name = "Node.js"
    driver = "node_driver.js"

    def _argv(self, control_fd: int, status_fd: int) -> list[str]:
        argv = super()._argv(control_fd, status_fd)
        # The REPL's top-level-await rewriting lives in Node's internals.
        return [argv[0], "--expose-internals", *argv[1:]]


class RubyLanguage(_DriverLanguage):
    """Ruby in one persistent interpreter (locals, methods and constants persist)."""

    spec = SPECS["ruby"]
    display_name = "Ruby"
    driver = "ruby_driver.rb"


class RLanguage(_ProcessLanguage):
    """R: listed so that the model and the user get a clear answer; not implemented yet."""

    # Reported unavailable even where R exists: there is no R driver yet.
    spec = SPECS["r"]

    def unavailable_message(self) -> str:
        if self._executable is None:
            return "R is not installed on this computer"
        return "Running R code is not supported yet"

    async def _start(self) -> None:
        raise ComputerError(self.unavailable_message())

    async def _execute(self, run: Run, code: str) -> RunFinished:
        return RunFinished("unavailable", message=self.unavailable_message())

    def _interrupt_now(self) -> None:
        pass

    async def _restart(self) -> None:
        pass

    async def _shutdown(self) -> None:
        pass

    def kill_now(self) -> None:
        pass

    def remove_files(self) -> None:
        pass
