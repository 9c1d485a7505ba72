"""One benchmark measurement in a fresh process, for either product.

    <venv>/bin/python _worker.py PRODUCT TASK PARAMS_JSON

PRODUCT is ``oi_voice`` (``from oi_voice import interpreter``) or ``oi`` (Open
Interpreter 0.4.3: ``from interpreter import interpreter``). Both are driven through
the API they share (``chat``, ``computer.run``, ``computer.stop``), so the same code
measures both. The result goes to stdout as one JSON line after ``RESULT_MARKER``
(the products may print to stdout themselves).

This file runs under either venv: standard library only at module level (plus
jupyter_client, which both products depend on, and psutil if present).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

RESULT_MARKER = "@@BENCH_RESULT@@ "

# Wrapped in exec() so that Open Interpreter's active-line rewriting (a print before every
# statement, loop bodies included) does not turn the busy loop into an output flood:
# both products then run the very same CPU-bound loop.
BUSY_CODE = "print('started', flush=True)\nexec('while True: pass')"
STAMP = re.compile(r"STAMP (\d+\.\d+)")


def load(product: str) -> Any:
    """Import the product's API object (the import is what some rows time)."""
    if product == "oi_voice":
        from oi_voice import interpreter
    else:
        from interpreter import interpreter
    return interpreter


def configure(interp: Any, product: str, url: str) -> None:
    """Point the product at the scripted server, running code without asking."""
    interp.llm.model = "openai/scripted"
    interp.llm.api_base = url
    interp.llm.api_key = "x"
    interp.llm.supports_functions = True
    interp.auto_run = True
    interp.offline = True  # OI: no telemetry, no update check
    if product == "oi":
        # Unknown model: OI would print a context-window warning on every first chat.
        interp.llm.context_window = 8000
        interp.llm.max_tokens = 1000


def is_output(chunk: dict[str, Any]) -> bool:
    """A console output chunk (not an active-line marker, not a flag)."""
    return chunk.get("type") == "console" and chunk.get("format") == "output" and "content" in chunk


def chat_until(interp: Any, message: str, needle: str, clock: Callable[[], float]) -> float | None:
    """Chat (streaming, auto-run) to the end; the clock when output containing needle came."""
    seen: float | None = None
    for chunk in interp.chat(message, display=False, stream=True):
        if seen is None and is_output(chunk) and needle in str(chunk["content"]):
            seen = clock()
    return seen


def run_text(interp: Any, language: str, code: str) -> str:
    """Run code through the product's computer API; the console output it returned."""
    messages = interp.computer.run(language, code)
    return "".join(str(m.get("content", "")) for m in messages if m.get("type") == "console")


# --- memory ------------------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a process in MB; psutil has no peak on Linux."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def kernel_pids() -> list[int]:
    """This process's descendants that are Jupyter kernels."""
    try:
        import psutil

        return [
            p.pid for p in psutil.Process().children(recursive=True)
            if "ipykernel" in " ".join(p.cmdline())
        ]
    except ImportError:
        pass
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                grew = True
    found = []
    for pid in mine - {os.getpid()}:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"ipykernel" in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


# --- tasks -------------------------------------------------------------------------------------


def task_import(product: str, params: dict[str, Any]) -> dict[str, Any]:
    """Seconds the import statement takes in a fresh process."""
    start = time.perf_counter()
    interp = load(product)
    result = {"import_s": time.perf_counter() - start}
    interp.computer.terminate()  # oi_voice starts its kernel at import: stop it before exit
    return result


def task_first_output(product: str, params: dict[str, Any]) -> dict[str, Any]:
    """Process start (the parent's clock before spawning) -> first code output chunk."""
    t_spawn = float(params["t_spawn"])
    t_main = time.time() - t_spawn  # the interpreter's own start-up
    interp = load(product)
    t_imported = time.time() - t_spawn
    configure(interp, product, params["url"])
    try:
        seen = chat_until(interp, "Print 42.", "42", time.time)
    finally:
        interp.computer.terminate()
    if seen is None:
        raise RuntimeError("no output containing 42")
    return {"python_start_s": t_main, "imported_s": t_imported, "first_output_s": seen - t_spawn}


def task_session(product: str, params: dict[str, Any]) -> dict[str, Any]:
    """One long-lived process: a chat, peak RSS, warm chats, print latency, per-run
    overhead, and last (it may break the kernel) stop of a busy loop."""
    interp = load(product)
    configure(interp, product, params["url"])
    out: dict[str, Any] = {}
    try:
        if chat_until(interp, "Print 42.", "42", time.perf_counter) is None:
            raise RuntimeError("the first chat showed no output containing 42")
        kernels = kernel_pids()
        out["rss_main_mb"] = peak_rss_mb(os.getpid())
        out["rss_kernel_mb"] = max((peak_rss_mb(p) or 0 for p in kernels), default=None)
        out["kernels"] = len(kernels)

        warm = []
        for _ in range(int(params["n_warm"])):
            interp.messages = []  # every chat sends the same prompt
            start = time.perf_counter()
            seen = chat_until(interp, "Print 42.", "42", time.perf_counter)
            if seen is None:
                raise RuntimeError("a warm chat showed no output containing 42")
            warm.append(seen - start)
        out["warm_chat_s"] = statistics.median(warm)

        out["print_latency_s"] = print_latency(interp, int(params["n_lines"]))
        out.update(python_overhead(interp, int(params["n_py"])))
        out.update(shell_overhead(interp, int(params["n_sh"])))
        out.update(stop_busy_loop(interp))
    finally:
        interp.computer.terminate()
    return out


def print_latency(interp: Any, lines: int) -> float:
    """Median of (chunk arrival - the time the code printed), one line every 0.2 s."""
    code = (
        "import time\n"
        f"for _ in range({lines}):\n"
        "    print(f'STAMP {time.time():.6f}', flush=True)\n"
        "    time.sleep(0.2)"
    )
    latencies = []
    for chunk in interp.computer.run("python", code, stream=True):
        if is_output(chunk):
            now = time.time()
            latencies += [now - float(s) for s in STAMP.findall(str(chunk["content"]))]
    if len(latencies) != lines:
        raise RuntimeError(f"expected {lines} stamped lines, got {len(latencies)}")
    return statistics.median(latencies)


def _interleave(n: int, product: Callable[[], None], raw: Callable[[], None]) -> tuple[float, float]:
    """Medians of n timed product runs and n raw runs, interleaved so load drift hits both."""
    ours, base = [], []
    for _ in range(n):
        for fn, into in ((product, ours), (raw, base)):
            start = time.perf_counter()
            fn()
            into.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(base)


def python_overhead(interp: Any, n: int) -> dict[str, Any]:
    """``computer.run("python", "1+1")`` against a bare jupyter_client round trip."""
    from jupyter_client import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)

        def raw() -> None:
            msg_id = kc.execute("1+1")
            while True:  # this request's own idle, not an earlier one's
                msg = kc.get_iopub_msg(timeout=30)
                if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                        and msg["content"]["execution_state"] == "idle"):
                    return

        def product() -> None:
            if "2" not in run_text(interp, "python", "1+1"):
                raise RuntimeError("computer.run('python', '1+1') did not return 2")

        product()  # the product's kernel is warm already; this warms its code path
        raw()
        run, base = _interleave(n, product, raw)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return {"py_run_s": run, "py_raw_s": base, "py_overhead_s": run - base}


def shell_overhead(interp: Any, n: int) -> dict[str, Any]:
    """``computer.run("shell", "echo hi")`` against a bare ``bash -c 'echo hi'`` process."""

    def raw() -> None:
        subprocess.run(["bash", "-c", "echo hi"], capture_output=True, check=True)

    def product() -> None:
        if "hi" not in run_text(interp, "shell", "echo hi"):
            raise RuntimeError("computer.run('shell', 'echo hi') did not print hi")

    product()  # the first run starts the shell
    run, base = _interleave(n, product, raw)
    return {"sh_run_s": run, "sh_raw_s": base, "sh_overhead_s": run - base}


def stop_busy_loop(interp: Any) -> dict[str, Any]:
    """Start a busy loop, stop it at its first output, time until the run is over, then
    check that the next run shows only its own output."""
    stopped_at: float | None = None
    returned_at: float | None = None
    after: list[str] = []
    # If stop does nothing the loop runs forever: try again, then give up (the parent's
    # timeout kills the process group as a last resort).
    watchdog = threading.Timer(20, interp.computer.stop)
    for chunk in interp.computer.run("python", BUSY_CODE, stream=True):
        if stopped_at is None and is_output(chunk) and "started" in str(chunk["content"]):
            stopped_at = time.perf_counter()
            watchdog.start()
            interp.computer.stop()
            returned_at = time.perf_counter()
        elif stopped_at is not None and is_output(chunk):
            after.append(str(chunk["content"]))
    ended_at = time.perf_counter()
    watchdog.cancel()
    if stopped_at is None or returned_at is None:
        raise RuntimeError("the busy loop never printed 'started'")
    next_start = time.perf_counter()
    text = run_text(interp, "python", "print('next')")
    next_done = time.perf_counter()
    return {
        "stop_ended_s": ended_at - stopped_at,
        "stop_call_s": returned_at - stopped_at,
        "stop_to_next_done_s": next_done - stopped_at,
        "next_run_s": next_done - next_start,
        "next_clean": text.strip() == "next",
        "next_output": text[-300:],
        "stopped_output": "".join(after)[-300:],
    }


TASKS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "import": task_import,
    "first_output": task_first_output,
    "session": task_session,
}


def main(argv: Iterable[str]) -> None:
    """Run the task; print its result (or its error) after the marker."""
    product, task, raw = list(argv)
    try:
        result = TASKS[task](product, json.loads(raw))
    except BaseException:
        result = {"error": traceback.format_exc()}
    sys.__stdout__.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.__stdout__.flush()
    sys.stderr.flush()
    # Kernels are terminated already; don't wait on a product's stray non-daemon threads
    # (OI's iopub listeners) or its atexit hooks.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
