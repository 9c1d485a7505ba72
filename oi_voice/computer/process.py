"""Shell, JavaScript (Node.js) and Ruby, each in processes of its own.

How their processes are started, read and stopped is ``_child``'s business (pipes, the
input watchdog, SIGINT then SIGKILL to the run's process group); this module is what
each language adds.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import ClassVar

from oi_voice.computer._catalog import SPECS
from oi_voice.computer._child import (
    TICK,
    ChildProcess,
    Escalation,
    InputWatchdog,
    Pipe,
    Streams,
    close_fds,
    describe_exit,
    make_stdin,
    spawn_cwd,
    wait_clear,
    write_all,
)
from oi_voice.computer._private import private_dir
from oi_voice.computer._procfs import stdin_watch_supported
from oi_voice.computer._procs import kill_group
from oi_voice.computer._session import Run, SessionLanguage
from oi_voice.computer.base import Output, RunFinished
from oi_voice.computer.pyenv import PythonEnvironment
from oi_voice.errors import ComputerError

__all__ = ["NodeLanguage", "RubyLanguage", "ShellLanguage"]

log = logging.getLogger(__name__)

_DRIVERS = Path(__file__).with_name("_drivers")
_DRIVER_START_TIMEOUT = 20.0
_STATE_END = b"#oi-voice-state-end\n"


def _needs_input_message(language: str) -> str:
    return (
        f"The {language} code waited for input on stdin (the keyboard), which is not available "
        "here, so it was stopped. Put the values in the code instead."
    )


class _ProcessLanguage(SessionLanguage):
    """What the shell and the drivers share: options and stdin handling."""

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0,
                 python_env: PythonEnvironment | None = None) -> None:
        super().__init__()
        self._cwd = cwd
        self._input_timeout = input_timeout
        self._python_env = python_env
        self._watch_stdin = stdin_watch_supported()
        self._child: ChildProcess | None = None

    def _environ(self) -> dict[str, str]:
        """The environment of the processes runs start: ours, with the Python environment's
        ``python`` and ``pip`` first on PATH (so ``pip install`` in a shell run installs there)."""
        if self._python_env is None:
            return dict(os.environ)
        return self._python_env.activate(os.environ)

    def _interrupt_now(self) -> None:
        if self._child is not None:
            self._child.interrupt_group()

    def kill_now(self) -> None:
        """Kill the running process group at once (no grace period)."""
        if self._child is not None:
            self._child.kill_group()


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

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0,
                 python_env: PythonEnvironment | None = None) -> None:
        super().__init__(cwd=cwd, input_timeout=input_timeout, python_env=python_env)
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
            kill_group(pgid)
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
        stdin_r, stdin_w = make_stdin(self._watch_stdin)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            argv = [self._executable, "--noprofile", "--norc", "-c", _SHELL_SCRIPT, "bash"]
            env = dict(self._environ(), BASH_ENV=str(_SHELL_ENV), OI_VOICE_SHELL_SESSION=self._dir)
            child = ChildProcess(argv, cwd=spawn_cwd(self._cwd), env=env, stdin=stdin_r, stdout=out_w, stderr=err_w)
        except OSError as exc:
            close_fds(stdin_w, out_r, err_r)
            return RunFinished("error", message=f"Could not start bash: {exc}")
        finally:
            close_fds(stdin_r, out_w, err_w)
        self._child = child
        streams = Streams(Pipe(out_r), Pipe(err_r))
        finished: RunFinished | None = None
        try:
            finished = await self._follow(run, child, streams, stdin_w)
            return finished
        finally:
            close_fds(stdin_w)
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

    async def _follow(self, run: Run, child: ChildProcess, streams: Streams, stdin_w: int) -> RunFinished:
        watchdog = InputWatchdog(stdin_w, self._input_timeout)
        streams.set_wake(run.wake)
        child.wake = run.wake.set
        stopping = Escalation(watchdog)
        while True:
            had_output = await streams.forward(run)
            if child.exited.is_set():
                # Whatever the run's foreground processes wrote is in the pipes by now.
                await streams.forward_all(run)
                break
            timeout = stopping.step(run, child, had_output)
            streams.arm()
            await wait_clear(run.wake, timeout)

        if stopping.starved or run.interrupted:
            # bash is gone; its background jobs ignore SIGINT but must not outlive the stop.
            child.kill_group()
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

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0,
                 python_env: PythonEnvironment | None = None) -> None:
        super().__init__(cwd=cwd, input_timeout=input_timeout, python_env=python_env)
        self._streams: Streams | None = None
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
        stdin_r, stdin_w = make_stdin(self._watch_stdin)
        try:
            child = ChildProcess(
                self._argv(control_r, status_w),
                cwd=spawn_cwd(self._cwd),
                env=self._environ(),
                stdin=stdin_r,
                stdout=out_w,
                stderr=err_w,
                pass_fds=(control_r, status_w),
            )
        except OSError as exc:
            close_fds(control_w, status_r, out_r, err_r, stdin_w)
            raise ComputerError(f"Could not start {self.display_name}: {exc}") from exc
        finally:
            close_fds(control_r, status_w, out_w, err_w, stdin_r)
        os.set_blocking(control_w, False)
        self._child = child
        self._control_w = control_w
        self._stdin_w = stdin_w
        self._status = Pipe(status_r)
        self._status_buffer = b""
        self._streams = Streams(Pipe(out_r), Pipe(err_r))

        status, streams = self._status, self._streams
        ready = asyncio.Event()
        self._wire(ready)
        deadline = time.monotonic() + _DRIVER_START_TIMEOUT
        message = self._next_status()
        while message is None and not (status.eof or child.exited.is_set() or time.monotonic() > deadline):
            status.arm()
            await wait_clear(ready, TICK)
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
            child.kill_group()
        if self._streams is not None:
            self._streams.close()
            self._streams = None
        if self._status is not None:
            self._status.close()
            self._status = None
        close_fds(self._control_w, self._stdin_w)
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

        watchdog = InputWatchdog(self._stdin_w, self._input_timeout)
        stopping = Escalation(watchdog)
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
            await wait_clear(run.wake, timeout)

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
            child.kill_group()
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
