"""Python in a Jupyter kernel (ipykernel), driven with jupyter_client over ipc or tcp sockets.

One kernel per session, started with ``sys.executable -m ipykernel_launcher`` (in the
frozen app of packaging/: ``sys.executable --oi-kernel``; with a :class:`PythonEnvironment`,
that environment's Python, made first if need be) and with matplotlib's inline backend
selected through ``MPLBACKEND`` (running ``%matplotlib inline`` costs a second or more).
Connection file and sockets live in a private temporary directory, removed on close.

Transport (:func:`kernel_transport`, the one place that chooses): ipc (Unix sockets in that
private directory) where it exists; Windows has none, so tcp on 127.0.0.1 there, with the
connection file's HMAC key signing every message as jupyter_client does for any kernel.
``$OI_VOICE_KERNEL_TRANSPORT=tcp`` forces tcp anywhere (the test suite runs both).

Every run filters iopub messages by its own request's ``msg_id``: the kernel may still
be publishing for an earlier, interrupted request, and the first "idle" seen may be
someone else's. Stale messages are skipped, never shown.

Active line, without rewriting the user's code: at start a hidden cell registers
IPython ``pre_run_cell``/``post_run_cell`` hooks (see ``_SETUP_CODE``). A cell's first
line comes from a ``sys.settrace`` tracer that only traces the cell's own ``<module>``
frame (recognised by the file name IPython compiles the cell under) and removes itself
at that first line; after that a sampler thread reads the frame's current line every
20 ms. Tracing every line made loops 7-10x slower; sampling costs the cell nothing.
Lines travel as ``display_data`` of a private mime type that the client turns into
``ActiveLine`` and never shows.

Interrupt: SIGINT through ``interrupt_kernel()``, again after 0.3 s, and a restart of
the kernel after 2 s. A dead kernel (``os._exit``, a segfault, the OOM killer) is noticed
while waiting for messages, restarted, and reported as ``died``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import platform
import queue
import shutil
import sys
from typing import Any, Literal

from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from oi_voice.computer._catalog import SPECS
from oi_voice.computer._child import describe_exit
from oi_voice.computer._private import private_dir
from oi_voice.computer._procs import interrupt_group, kill_followers, kill_group, physical_memory
from oi_voice.computer._session import Run, SessionLanguage
from oi_voice.computer.ansi import AnsiStripper, strip_ansi
from oi_voice.computer.base import ActiveLine, Image, Output, Progress, RunFinished
from oi_voice.computer.pyenv import SETUP_MESSAGE, PythonEnvironment
from oi_voice.errors import ComputerError

__all__ = ["ACTIVE_LINE_MIME", "TRANSPORT_ENV", "PythonKernel", "kernel_transport"]

log = logging.getLogger(__name__)

#: The private mime type the kernel publishes active lines under.
ACTIVE_LINE_MIME = "application/vnd.oi-voice.active-line+json"

StreamName = Literal["stdout", "stderr"]

_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_POLL = 0.1  # seconds between liveness checks while the kernel is quiet
_REINTERRUPT_AFTER = 0.3
_RESTART_AFTER = 2.0
_READY_TIMEOUT = 60.0
_SHUTDOWN_TIMEOUT = 5.0

_NEEDS_INPUT = (
    "The code waited for keyboard input (input()), which is not available here, so it was "
    "stopped. Put the values in the code instead."
)

# Runs once in every fresh kernel, silently (no history, no output, no names left behind).
_SETUP_CODE = r"""
def _oi_voice_setup():
    import sys
    import threading
    import time

    ip = get_ipython()
    pub = ip.display_pub
    kernel = getattr(ip, "kernel", None)
    mime = "application/vnd.oi-voice.active-line+json"
    interval = 0.02

    class State:
        active = False
        filename = None
        offset = 0
        parent = None
        thread = None
        last = None
        last_time = 0.0

    state = State()
    cond = threading.Condition()

    def publish(line):
        # Called with cond held. Sent straight to the iopub socket (thread-safe in
        # ipykernel) with the cell's request as parent, so it works from the sampler too.
        state.last = line
        state.last_time = time.monotonic()
        content = {"data": {mime: {"line": line + state.offset}}, "metadata": {}, "transient": {}}
        pub.session.send(pub.pub_socket, "display_data", content, parent=state.parent, ident=pub.topic)

    def is_cell(code):
        return code.co_name == "<module>" and code.co_filename == state.filename

    def first_line(frame, event, arg):
        if event != "line":
            return first_line
        frame.f_trace = None
        if sys.gettrace() is find_cell:
            sys.settrace(None)
        with cond:
            if state.active and state.last is None:
                publish(frame.f_lineno)
        return None

    def find_cell(frame, event, arg):
        if event == "call" and is_cell(frame.f_code):
            return first_line
        return None

    def sample():
        while True:
            with cond:
                cond.wait_for(lambda: state.active)
                cond.wait(interval)
                if not state.active or time.monotonic() - state.last_time < interval / 2:
                    continue
                frame = sys._current_frames().get(state.thread)
                while frame is not None and not is_cell(frame.f_code):
                    frame = frame.f_back
                if frame is not None and frame.f_lineno and frame.f_lineno != state.last:
                    publish(frame.f_lineno)

    def blank_lines(text):
        count = 0
        for line in text.splitlines():
            if line.strip():
                break
            count += 1
        return count

    def pre_run_cell(info):
        try:
            raw = info.raw_cell or ""
            transformed = getattr(info, "transformed_cell", None) or ip.transform_cell(raw)
            number = ip.execution_count - (1 if info.store_history else 0)
            filename = ip.compile.get_code_name(raw, transformed, number)
            parent = kernel.get_parent("shell") if kernel is not None else None
        except Exception:
            return
        with cond:
            state.filename = filename
            # IPython drops leading blank lines before compiling; lines count from the raw cell.
            state.offset = blank_lines(raw) - blank_lines(transformed)
            state.parent = parent
            state.thread = threading.get_ident()
            state.last = None
            state.last_time = 0.0
            state.active = True
            cond.notify_all()
        if sys.gettrace() is None:
            sys.settrace(find_cell)

    # A cell that closes sys.stdout/sys.stderr (or leaves a closed file there) would silence
    # every later cell of this kernel: each cell starts with the kernel's own streams again.
    streams = {name: getattr(sys, name) for name in ("stdout", "stderr")}
    pub_threads = {name: getattr(stream, "pub_thread", None) for name, stream in streams.items()}

    def reopen_streams():
        for name, stream in streams.items():
            current = getattr(sys, name)
            if current is stream and not getattr(stream, "closed", False):
                continue
            if current is not stream and not getattr(current, "closed", False):
                continue  # redirected on purpose, and still usable
            if getattr(stream, "pub_thread", False) is None:
                stream.pub_thread = pub_threads[name]
            setattr(sys, name, stream)

    ip.events.register("pre_run_cell", lambda info: reopen_streams())

    def post_run_cell(result):
        if sys.gettrace() is find_cell:
            sys.settrace(None)
        with cond:
            state.active = False
            state.parent = None
            cond.notify_all()

    # ipykernel sends printed text every 0.2 s; a line printed before a long call should
    # reach the user almost at once (writes within the interval still travel together).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "flush_interval"):
            stream.flush_interval = 0.01

    threading.Thread(target=sample, name="oi-voice-active-line", daemon=True).start()
    ip.events.register("pre_run_cell", pre_run_cell)
    ip.events.register("post_run_cell", post_run_cell)

_oi_voice_setup()
del _oi_voice_setup
"""


#: Environment variable with the kernel's memory cap: bytes, or a number with K/M/G; 0 or
#: "off" for none. Default: half of this computer's memory.
MEMORY_ENV = "OI_VOICE_KERNEL_MEMORY"

# Sets the soft RLIMIT_DATA (heap and anonymous mappings, not shared libraries) of a fresh
# kernel, so a runaway allocation ends as a MemoryError in the cell instead of filling the
# machine; the hard limit is left alone, so code that really needs more may raise it.
# Windows has no resource module (nor rlimits): no cap there.
_LIMIT_CODE = """
try:
    import resource as _r
except ImportError:
    pass
else:
    _soft, _hard = _r.getrlimit(_r.RLIMIT_DATA)
    _r.setrlimit(_r.RLIMIT_DATA, ({limit} if _hard == _r.RLIM_INFINITY else min({limit}, _hard), _hard))
    del _r, _soft, _hard
"""


def memory_limit(value: str | None = None) -> int | None:
    """The kernel's memory cap in bytes (None: no cap), from ``value`` or ``$OI_VOICE_KERNEL_MEMORY``.

    Raises ComputerError for a value that is not a size.
    """
    raw = (os.environ.get(MEMORY_ENV, "") if value is None else value).strip().lower()
    if not raw:
        total = physical_memory()
        return total // 2 if total else None
    if raw in ("0", "off", "none", "no"):
        return None
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(raw.rstrip("b")[-1:], 1)
    number = raw.rstrip("b").rstrip("kmgt") if scale != 1 else raw
    try:
        limit = int(float(number) * scale)
    except ValueError:
        raise ComputerError(f"{MEMORY_ENV}={raw!r} is not a size (try 4G or 512M)") from None
    return limit if limit > 0 else None


#: Environment variable that forces the kernel's transport: ``ipc`` or ``tcp``.
TRANSPORT_ENV = "OI_VOICE_KERNEL_TRANSPORT"


def kernel_transport(value: str | None = None) -> Literal["ipc", "tcp"]:
    """The kernel's transport: ``value`` or ``$OI_VOICE_KERNEL_TRANSPORT`` if set, else by platform.

    ipc (Unix domain sockets) where the system has them; Windows has not: tcp on loopback.
    Raises ComputerError for a value that is neither.
    """
    raw = (os.environ.get(TRANSPORT_ENV, "") if value is None else value).strip().lower()
    if not raw:
        return "tcp" if os.name == "nt" else "ipc"
    if raw not in ("ipc", "tcp"):
        raise ComputerError(f"{TRANSPORT_ENV}={raw!r}: the kernel's transport is ipc or tcp")
    if raw == "ipc" and os.name == "nt":
        raise ComputerError("the ipc transport does not exist on Windows: use tcp")
    return raw  # type: ignore[return-value]


class _OneKernelSpec(KernelSpecManager):
    """Hands out our own kernel spec whatever name is asked for (no installed specs)."""

    def __init__(self, spec: KernelSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._spec = spec

    def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
        return self._spec


def _image(data: dict[str, Any]) -> Image | None:
    for mime, fmt in (("image/png", "base64.png"), ("image/jpeg", "base64.jpeg")):
        value = data.get(mime)
        if isinstance(value, str):
            return Image(fmt, "".join(value.split()))  # type: ignore[arg-type]
    return None


@dataclasses.dataclass
class _Outcome:
    """How a run is going, as its messages tell."""

    status: Literal["ok", "error", "interrupted", "needs_input"] = "ok"
    message: str = ""
    strippers: dict[StreamName, AnsiStripper] = dataclasses.field(
        default_factory=lambda: {"stdout": AnsiStripper(), "stderr": AnsiStripper()}
    )


class PythonKernel(SessionLanguage):
    """Python with a persistent namespace, in an ipykernel this session starts."""

    spec = SPECS["python"]

    def __init__(self, *, cwd: str | None = None, python: str | None = None, memory: int | None = None,
                 environment: PythonEnvironment | None = None, transport: str | None = None) -> None:
        """``cwd``: the kernel's working directory; ``python``: the interpreter to run
        ``-m ipykernel_launcher`` with (default: this one); ``memory``: the kernel's memory
        cap in bytes, 0 for none (default: ``$OI_VOICE_KERNEL_MEMORY``, see ``memory_limit``);
        ``environment``: a per-user environment to run in (made at the first start; its
        Python wins over ``python``); ``transport``: ipc or tcp (default: ``kernel_transport()``)."""
        super().__init__()
        self._memory = memory_limit() if memory is None else memory
        self._transport = kernel_transport(transport)
        self._environment = environment
        version = environment.version() if environment is not None else platform.python_version()
        self.info = dataclasses.replace(self.info, version=version)
        self._cwd = cwd
        self._python = python or sys.executable
        self._km: AsyncKernelManager | None = None
        self._kc: AsyncKernelClient | None = None
        self._tmpdir: str | None = None
        self._log_fd = -1
        self._kernel_pid: int | None = None

    # --- lifecycle ---------------------------------------------------------------------

    @property
    def environment(self) -> PythonEnvironment | None:
        """The per-user environment code runs in (None: ``python``, by default this process's)."""
        return self._environment

    @property
    def transport(self) -> str:
        """``ipc`` or ``tcp``."""
        return self._transport

    def _preparing(self) -> Progress | None:
        environment = self._environment
        if environment is not None and not environment.is_ready():
            return Progress("python_setup", SETUP_MESSAGE)
        return None

    async def _start(self) -> None:
        env = dict(os.environ, MPLBACKEND=_INLINE_BACKEND)
        if self._environment is not None:
            await self._environment.ensure()
            self._python = str(self._environment.python)
            self.info = dataclasses.replace(self.info, version=self._environment.version())
            env = self._environment.activate(env)
        self._tmpdir = private_dir("oi-voice-kernel-")
        if getattr(sys, "frozen", False) and self._python == sys.executable:
            # The frozen app (packaging/) is its own kernel: its entry point takes --oi-kernel.
            launcher = [self._python, "--oi-kernel"]
        else:
            launcher = [self._python, "-m", "ipykernel_launcher"]
        spec = KernelSpec(
            argv=[*launcher, "-f", "{connection_file}"],
            display_name="Python (oi-voice)",
            language="python",
            interrupt_mode="signal",
            env={"MPLBACKEND": _INLINE_BACKEND},
        )
        # ipc: the sockets are files in our private folder. tcp: loopback only; the kernel checks
        # every message against the HMAC key jupyter_client writes to the (private) connection file.
        ip = os.path.join(self._tmpdir, "ipc") if self._transport == "ipc" else "127.0.0.1"
        km = AsyncKernelManager(
            transport=self._transport,
            ip=ip,
            connection_file=os.path.join(self._tmpdir, "kernel.json"),
            kernel_spec_manager=_OneKernelSpec(spec),
        )
        self._km = km
        try:
            cwd = self._cwd if self._cwd and os.path.isdir(self._cwd) else os.getcwd()
        except FileNotFoundError:  # our own working directory was deleted
            cwd = os.path.expanduser("~")
        # The kernel's own log and crash messages (not user output: that goes over iopub).
        self._log_fd = os.open(os.path.join(self._tmpdir, "kernel.log"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            await km.start_kernel(env=env, cwd=cwd, stdout=self._log_fd, stderr=self._log_fd)
            await self._connect()
        except Exception as exc:
            self.kill_now()
            await self._shutdown()
            raise ComputerError(f"Could not start the Python kernel: {exc}") from exc

    async def _connect(self) -> None:
        """Connect a fresh client to the (re)started kernel and install the hooks."""
        km = self._km
        assert km is not None
        self._kernel_pid = getattr(km.provisioner, "pid", None)
        kc = km.client()
        kc.start_channels()
        self._kc = kc
        await kc.wait_for_ready(timeout=_READY_TIMEOUT)
        setup = _SETUP_CODE + (_LIMIT_CODE.format(limit=self._memory) if self._memory else "")
        msg_id = kc.execute(setup, silent=True, store_history=False, allow_stdin=False)
        while True:
            reply = await kc.get_shell_msg(timeout=_READY_TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        if reply["content"].get("status") != "ok":
            log.warning("active-line hooks not installed: %s", reply["content"].get("evalue"))

    async def _restart(self) -> None:
        km = self._km
        if km is None:
            await self.start()
            return
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        try:
            await km.restart_kernel(now=True)
            await self._connect()
        except Exception as exc:
            raise ComputerError(f"Could not restart the Python kernel: {exc}") from exc

    def kill_now(self) -> None:
        """SIGKILL the kernel's process group (it leads a session of its own)."""
        if self._kernel_pid is not None:
            kill_group(self._kernel_pid)

    async def _shutdown(self) -> None:
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        if self._km is not None:
            with contextlib.suppress(Exception):
                # now=True: the process is already killed; this reaps it and tidies up.
                await asyncio.wait_for(self._km.shutdown_kernel(now=True), _SHUTDOWN_TIMEOUT)
            self._km = None
        self._kernel_pid = None  # a number the system may hand out again
        self.remove_files()

    def remove_files(self) -> None:
        """Close the log and remove the private directory (no loop needed)."""
        if self._log_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._log_fd)
            self._log_fd = -1
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def _send_interrupt(self, run: Run) -> None:
        if self._km is not None and self._km.has_kernel:
            await self._km.interrupt_kernel()
        self._end_strays()

    def _interrupt_now(self) -> None:
        # What interrupt_kernel() does for a local kernel, without awaiting: SIGINT to the
        # kernel's process group (it leads a session of its own).
        if self._kernel_pid is not None:
            interrupt_group(self._kernel_pid)
        self._end_strays()

    def _end_strays(self) -> None:
        """Stop ends what the code started too: forks and subprocesses in the kernel's group.

        SIGINT alone is not enough for a fork of the kernel: its KeyboardInterrupt lands in
        the copied kernel's own loop, which carries on running. The kernel itself only gets
        SIGINT, so its variables survive.
        """
        if self._kernel_pid is not None:
            kill_followers(self._kernel_pid)

    # --- a run -------------------------------------------------------------------------

    def _death_cause(self) -> str:
        km = self._km
        process = getattr(km.provisioner, "process", None) if km is not None else None
        return describe_exit(process.poll() if process is not None else None)

    async def _recover(self, run: Run, what: str) -> RunFinished | None:
        """Restart after a death or a failed interrupt; a RunFinished if that failed too."""
        try:
            await self._restart()
        except ComputerError as exc:
            await run.emit(ActiveLine(None))
            return RunFinished("died", message=f"{what}, and restarting it failed: {exc}")
        return None

    async def _execute(self, run: Run, code: str) -> RunFinished:
        km = self._km
        assert km is not None
        if not await km.is_alive():
            cause = self._death_cause()
            failed = await self._recover(run, f"The Python kernel had died ({cause})")
            if failed is not None:
                return failed
            await run.emit(
                Output(
                    f"The Python kernel had died ({cause}) since the last run; it was restarted "
                    "and all variables are gone.\n",
                    "stderr",
                )
            )
        kc = self._kc
        assert kc is not None
        # Replies of earlier (interrupted) requests: nobody will read them otherwise.
        with contextlib.suppress(queue.Empty):
            while True:
                await kc.get_shell_msg(timeout=0)
        msg_id = kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)

        outcome = _Outcome()
        reinterrupted = False
        while True:
            if run.interrupted:
                waited = run.since_interrupt()
                if waited >= _RESTART_AFTER:
                    what = "The code did not stop when interrupted, so the Python kernel was restarted"
                    failed = await self._recover(run, what)
                    if failed is not None:
                        return failed
                    await run.emit(ActiveLine(None))
                    return RunFinished("interrupted", message=f"{what}; all variables are gone.")
                if waited >= _REINTERRUPT_AFTER and not reinterrupted:
                    reinterrupted = True
                    await km.interrupt_kernel()
            try:
                msg = await kc.get_iopub_msg(timeout=_POLL)
            except queue.Empty:
                if await km.is_alive():
                    continue
                cause = self._death_cause()
                what = f"The Python kernel died ({cause})"
                failed = await self._recover(run, what)
                if failed is not None:
                    return failed
                await run.emit(ActiveLine(None))
                return RunFinished("died", message=f"{what}; it was restarted and all variables are gone.")
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue  # an earlier request's late messages, or someone else's
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                break
            await self._forward(run, msg["msg_type"], msg["content"], outcome)

        for stream, stripper in outcome.strippers.items():
            rest = stripper.feed("", final=True)
            if rest:
                await run.emit(Output(rest, stream))
        await run.emit(ActiveLine(None))
        if run.interrupted and outcome.status != "needs_input":
            return RunFinished("interrupted", message=outcome.message)
        return RunFinished(outcome.status, message=outcome.message)

    async def _forward(self, run: Run, kind: str, content: dict[str, Any], outcome: _Outcome) -> None:
        """Turn one iopub message of our request into events (or into the outcome)."""
        if kind == "stream":
            name: StreamName = "stderr" if content.get("name") == "stderr" else "stdout"
            text = outcome.strippers[name].feed(content.get("text", ""))
            if text:
                await run.emit(Output(text, name))
        elif kind in ("execute_result", "display_data", "update_display_data"):
            data = content.get("data", {})
            if ACTIVE_LINE_MIME in data:
                line = data[ACTIVE_LINE_MIME].get("line")
                if isinstance(line, int):
                    await run.emit(ActiveLine(line))
                return
            image = _image(data)
            if image is not None:
                await run.emit(image)
            elif isinstance(data.get("text/plain"), str):
                text = strip_ansi(data["text/plain"])
                # An expression's value as in Open Interpreter; display() output as a line.
                await run.emit(Output(text if kind == "execute_result" else text + "\n"))
        elif kind == "error":
            ename = content.get("ename", "")
            if ename == "StdinNotImplementedError":
                # Not the kernel's traceback: tell the model what to do instead.
                outcome.status, outcome.message = "needs_input", _NEEDS_INPUT
            elif run.interrupted and ename == "KeyboardInterrupt":
                outcome.status = "interrupted"
            else:
                traceback = strip_ansi("\n".join(content.get("traceback", [])))
                await run.emit(Output(traceback.rstrip("\n") + "\n", "stderr"))
                outcome.status, outcome.message = "error", f"{ename}: {content.get('evalue', '')}"
