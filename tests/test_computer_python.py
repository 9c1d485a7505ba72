"""PythonKernel against a real ipykernel: state, streaming, images, errors, interrupt, death."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from helpers import finished, process_gone, text, wait_until

from oi_voice.computer import ActiveLine, Image, Output, RunEvent
from oi_voice.computer.jupyter import ACTIVE_LINE_MIME, TRANSPORT_ENV, PythonKernel, kernel_transport
from oi_voice.errors import ComputerError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True, params=["ipc", "tcp"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every kernel test runs twice: over ipc (Linux, macOS) and over tcp (what Windows uses)."""
    monkeypatch.setenv(TRANSPORT_ENV, request.param)
    return str(request.param)


# --- helpers -------------------------------------------------------------------------------


def run_async(test: Callable[[PythonKernel], Awaitable[None]]) -> None:
    """Run ``test`` with a fresh kernel on a fresh loop, closing the kernel afterwards."""

    async def main() -> None:
        kernel = PythonKernel()
        try:
            await test(kernel)
        finally:
            await kernel.close()

    asyncio.run(main())


async def collect(kernel: PythonKernel, code: str) -> list[RunEvent]:
    return [event async for event in kernel.run(code)]






async def run_until_output(kernel: PythonKernel, code: str, needle: str) -> list[RunEvent]:
    """Run ``code``; once ``needle`` was printed, interrupt; return all events."""
    events: list[RunEvent] = []
    interrupting: asyncio.Task[None] | None = None
    async for event in kernel.run(code):
        events.append(event)
        if interrupting is None and needle in text(events):
            interrupting = asyncio.create_task(kernel.interrupt())
    assert interrupting is not None, events
    await interrupting
    return events




def threads(pid: int) -> list[str]:
    try:
        return os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return []




# --- tests ---------------------------------------------------------------------------------


def test_variables_persist_and_execute_result() -> None:
    async def test(kernel: PythonKernel) -> None:
        assert finished(await collect(kernel, "x = 41")).status == "ok"
        events = await collect(kernel, "x + 1")
        assert finished(events).status == "ok"
        assert text(events) == "42"

    run_async(test)


def test_start_is_idempotent_and_concurrent() -> None:
    async def test(kernel: PythonKernel) -> None:
        await asyncio.gather(kernel.start(), kernel.start(), kernel.start())
        await kernel.start()
        events = await collect(kernel, "import os; print(os.getpid())")
        assert finished(events).status == "ok"
        assert text(events).strip().isdigit()

    run_async(test)


def test_output_streams_in_order() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = "import sys\nfor i in range(5):\n    print(i)\nprint('oops', file=sys.stderr)\n"
        events = await collect(kernel, code)
        assert finished(events).status == "ok"
        assert text(events, "stdout") == "0\n1\n2\n3\n4\n"
        assert text(events, "stderr") == "oops\n"

    run_async(test)


def test_line_printed_before_sleep_arrives_before_the_run_ends() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = "import time\nprint('before')\ntime.sleep(30)\nprint('after')\n"
        events = await run_until_output(kernel, code, "before")
        assert finished(events).status == "interrupted"
        assert "after" not in text(events)
        assert "KeyboardInterrupt" not in text(events)

    run_async(test)


def test_matplotlib_plot_is_a_png_image() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\n"
        events = await collect(kernel, code)
        assert finished(events).status == "ok"
        images = [e for e in events if isinstance(e, Image)]
        assert len(images) == 1
        assert images[0].format == "base64.png"
        assert base64.b64decode(images[0].data).startswith(b"\x89PNG\r\n\x1a\n")

    run_async(test)


def test_traceback_is_plain_text_and_status_error() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await collect(kernel, "def f():\n    return 1 / 0\n\nf()\n")
        done = finished(events)
        assert done.status == "error"
        assert "ZeroDivisionError" in done.message
        traceback = text(events, "stderr")
        assert "ZeroDivisionError" in traceback
        assert "\x1b" not in traceback
        for internal in ("settrace", "find_cell", "first_line", "oi_voice", "oi-voice"):
            assert internal not in traceback

    run_async(test)


def test_active_lines_follow_a_three_line_cell_without_markers_in_output() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = "import time\ntime.sleep(0.3)\nprint('done'); time.sleep(0.3)"
        events = await collect(kernel, code)
        assert finished(events).status == "ok"
        lines = [e.line for e in events if isinstance(e, ActiveLine)]
        assert lines == [1, 2, 3, None]
        assert text(events) == "done\n"
        assert ACTIVE_LINE_MIME not in text(events)

    run_async(test)


def test_active_lines_count_from_the_submitted_code() -> None:
    async def test(kernel: PythonKernel) -> None:
        # IPython strips leading blank lines before compiling: line numbers must not shift.
        events = await collect(kernel, "\n\nimport time\ntime.sleep(0.3)\n")
        assert finished(events).status == "ok"
        assert [e.line for e in events if isinstance(e, ActiveLine)] == [3, 4, None]

    run_async(test)


def test_interrupted_busy_loop_then_next_run_sees_only_its_own_output() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await run_until_output(kernel, "print('spinning', flush=True)\nwhile True:\n    pass\n", "spin")
        assert finished(events).status == "interrupted"
        events = await collect(kernel, "print('next')")
        assert finished(events).status == "ok"
        assert text(events) == "next\n"

    run_async(test)


def test_interrupted_flood_does_not_leak_into_the_next_run() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await run_until_output(kernel, "while True:\n    print('flood' * 100)\n", "flood")
        assert finished(events).status == "interrupted"
        events = await collect(kernel, "print('clean')")
        assert finished(events).status == "ok"
        assert text(events) == "clean\n"

    run_async(test)


def test_leaving_the_iterator_stops_the_code() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = "import time\nx = 'kept'\nprint('go', flush=True)\ntime.sleep(600)\nx = 'overwritten'\n"
        async for event in kernel.run(code):
            if isinstance(event, Output) and "go" in event.text:
                break
        # Without the interrupt this run would wait 600 s for the kernel.
        events = await collect(kernel, "print(x)")
        assert finished(events).status == "ok"
        assert text(events) == "kept\n"

    run_async(test)


def test_cancelling_the_consumer_task_stops_the_code() -> None:
    async def test(kernel: PythonKernel) -> None:
        started = asyncio.Event()

        async def consume() -> None:
            async for event in kernel.run("import time\nprint('go', flush=True)\ntime.sleep(600)\n"):
                if isinstance(event, Output):
                    started.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        events = await collect(kernel, "print('after cancel')")
        assert text(events) == "after cancel\n"

    run_async(test)


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        ("import os\nos._exit(1)", "exit code 1"),
        ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
    ],
    ids=["os_exit", "segfault"],
)
def test_dead_kernel_is_restarted_and_reported(code: str, cause: str) -> None:
    async def test(kernel: PythonKernel) -> None:
        await collect(kernel, "x = 1")
        done = finished(await collect(kernel, code))
        assert done.status == "died"
        assert cause in done.message
        assert "restarted" in done.message and "variables are gone" in done.message
        events = await collect(kernel, "print('alive')")
        assert finished(events).status == "ok"
        assert text(events) == "alive\n"
        done = finished(await collect(kernel, "x"))
        assert done.status == "error"
        assert "NameError" in done.message

    run_async(test)


def test_input_finishes_with_needs_input_not_a_traceback() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await collect(kernel, "print('asking')\nname = input('Name? ')\nprint('never')\n")
        done = finished(events)
        assert done.status == "needs_input"
        assert "keyboard input" in done.message
        assert "StdinNotImplementedError" not in text(events)
        assert "never" not in text(events)
        assert finished(await collect(kernel, "print('still fine')")).status == "ok"

    run_async(test)


def test_unicode_round_trips() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await collect(kernel, "print('héllo wörld ✓ 🌍')")
        assert text(events) == "héllo wörld ✓ 🌍\n"

    run_async(test)


def test_ansi_colours_are_stripped_from_output() -> None:
    async def test(kernel: PythonKernel) -> None:
        events = await collect(kernel, r"print('\x1b[31mred\x1b[0m and \x1b[1mbold\x1b[0m')")
        assert text(events) == "red and bold\n"

    run_async(test)


def test_restart_forgets_variables() -> None:
    async def test(kernel: PythonKernel) -> None:
        await collect(kernel, "y = 2")
        await kernel.restart()
        assert finished(await collect(kernel, "y")).status == "error"

    run_async(test)


def test_close_kills_the_kernel() -> None:
    pid: dict[str, Any] = {}

    async def test(kernel: PythonKernel) -> None:
        events = await collect(kernel, "import os; print(os.getpid())")
        pid["kernel"] = int(text(events))
        await kernel.close()
        await kernel.close()  # idempotent
        done = finished(await collect(kernel, "1"))
        assert done.status == "unavailable"

    run_async(test)
    assert wait_until(lambda: process_gone(pid["kernel"]))
    assert not os.path.exists(f"/proc/{pid['kernel']}")


def test_code_that_ignores_interrupts_gets_the_kernel_restarted() -> None:
    async def test(kernel: PythonKernel) -> None:
        code = (
            "import time\nx = 1\nwhile True:\n    try:\n        print('stubborn', flush=True)\n"
            "        time.sleep(1)\n    except KeyboardInterrupt:\n        pass\n"
        )
        events = await run_until_output(kernel, code, "stubborn")
        done = finished(events)
        assert done.status == "interrupted"
        assert "restarted" in done.message
        assert finished(await collect(kernel, "x")).status == "error"
        assert text(await collect(kernel, "print('fresh')")) == "fresh\n"

    run_async(test)


def test_kernel_killed_between_runs_is_restarted_before_the_next_run() -> None:
    async def test(kernel: PythonKernel) -> None:
        pid = int(text(await collect(kernel, "import os; print(os.getpid())")))
        os.kill(pid, 9)
        # Dead means every thread gone: a zombie leader may still wait for its threads.
        assert await asyncio.to_thread(wait_until, lambda: process_gone(pid) and len(threads(pid)) <= 1)
        events = await collect(kernel, "print('works')")
        assert finished(events).status == "ok"
        assert "died" in text(events, "stderr")
        assert text(events, "stdout") == "works\n"

    run_async(test)


def test_transport_is_chosen_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRANSPORT_ENV)
    assert kernel_transport() == ("tcp" if os.name == "nt" else "ipc")
    assert kernel_transport("TCP") == "tcp"
    monkeypatch.setenv(TRANSPORT_ENV, "tcp")
    assert kernel_transport() == "tcp"
    assert PythonKernel().transport == "tcp"
    with pytest.raises(ComputerError, match="ipc or tcp"):
        kernel_transport("udp")


def test_kernel_speaks_the_chosen_transport_with_a_signing_key(transport: str) -> None:
    async def test(kernel: PythonKernel) -> None:
        assert finished(await collect(kernel, "print(6 * 7)")).status == "ok"
        km = kernel._km
        assert km is not None
        info = km.get_connection_info()
        assert info["transport"] == transport
        # The HMAC key signs every message: without it anyone who can reach the sockets could run code.
        assert len(info["key"]) >= 16 and info["signature_scheme"] == "hmac-sha256"
        with open(km.connection_file) as f:
            assert '"key"' in f.read()
        assert os.stat(km.connection_file).st_mode & 0o077 == 0
        if transport == "tcp":
            assert info["ip"] == "127.0.0.1"
            import psutil

            assert kernel._kernel_pid is not None
            listening = [c for c in psutil.Process(kernel._kernel_pid).net_connections("tcp")
                         if c.status == psutil.CONN_LISTEN]
            assert {c.laddr.port for c in listening} >= {info["shell_port"], info["iopub_port"]}
            assert all(c.laddr.ip == "127.0.0.1" for c in listening)
        else:
            assert os.path.exists(f"{info['ip']}-{info['shell_port']}")

    run_async(test)
