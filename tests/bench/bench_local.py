"""The embedded local model at work: six everyday requests, scored strictly.

    .venv/bin/python tests/bench/bench_local.py [--json] [--verbose] [--functions auto|on|off]

Each request starts a fresh conversation (``interpreter.reset()``) with
``llm.model = "local"`` (Qwen2.5-Coder-0.5B-Instruct in-process), ``auto_run = True``
and ``max_steps = 4``, in a fresh temporary folder that holds a README.md of known
line count. A request scores when the right code ran (its output holds the answer,
or for the file task the file exists with the right content) AND the final assistant
message states the answer. The goal is at least 4 of 6.

This is a benchmark, not a test: it reports, it never fails on a low score. Run by
``tests/bench/run.py``, ``rows(ctx)`` runs this file in a fresh process with
oi_voice's venv and turns its JSON result into rows.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
RESULT_MARKER = "@@BENCH_LOCAL@@ "
README_LINES = 13
MAX_STEPS = 4
#: Seconds one run of the model's code may take before it is stopped.
RUN_TIMEOUT = 60.0

# --- scoring --------------------------------------------------------------------------------------

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")


def _number(text: str, n: int) -> bool:
    """``n`` appears as a whole number (``7006652`` or ``7,006,652``)."""
    forms = {str(n), f"{n:,}"}
    return any(re.search(rf"(?<![\d,.]){re.escape(f)}(?![\d,]|\.\d)", text) for f in forms)


def mentions_date(text: str, day: datetime.date) -> bool:
    """Whether ``text`` gives ``day`` (ISO, numeric, or month name + day + year)."""
    low = text.lower()
    numeric = {day.isoformat(), day.strftime("%m/%d/%Y"), day.strftime("%d/%m/%Y"), day.strftime("%Y/%m/%d"),
               day.strftime("%d.%m.%Y")}
    if any(f in low for f in numeric):
        return True
    month = MONTHS[day.month - 1]
    has_month = month in low or re.search(rf"\b{month[:3]}\b", low) is not None
    return has_month and re.search(rf"(?<!\d)0?{day.day}(?!\d)", low) is not None and str(day.year) in low


@dataclass
class Task:
    """One request and how its transcript is judged."""

    request: str
    #: (outputs of the code that ran, final answer, folder) -> (ran the right code, answer correct)
    judge: Callable[[str, str, Path], tuple[bool, bool]]


def _judge_multiply(out: str, answer: str, _: Path) -> tuple[bool, bool]:
    return _number(out, 7006652), _number(answer, 7006652)


def _judge_list(out: str, answer: str, _: Path) -> tuple[bool, bool]:
    return "README.md" in out, "readme.md" in answer.lower()


def _judge_python(out: str, answer: str, _: Path) -> tuple[bool, bool]:
    full, short = platform.python_version(), ".".join(platform.python_version_tuple()[:2])
    return full in out, re.search(rf"(?<![\d.]){re.escape(short)}(?!\d)", answer) is not None


def _judge_lines(out: str, answer: str, _: Path) -> tuple[bool, bool]:
    return _number(out, README_LINES), _number(answer, README_LINES)


def _judge_date(out: str, answer: str, _: Path) -> tuple[bool, bool]:
    today = datetime.date.today()
    return mentions_date(out, today), mentions_date(answer, today)


def _judge_file(_out: str, _answer: str, folder: Path) -> tuple[bool, bool]:
    path = folder / "hello.txt"
    ok = path.is_file() and path.read_text(errors="replace").strip() == "hi"
    return ok, ok


TASKS = [
    Task("what is 1234 times 5678", _judge_multiply),
    Task("list the files here", _judge_list),
    Task("what python version is this", _judge_python),
    Task("how many lines are in README.md", _judge_lines),
    Task("what is today's date", _judge_date),
    Task("make a file hello.txt containing hi", _judge_file),
]


@dataclass
class Result:
    """What one request did."""

    request: str
    ran: bool = False
    correct: bool = False
    seconds: float = 0.0
    answer: str = ""
    codes: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: int = 0


def readme_text() -> str:
    """A README.md of exactly README_LINES lines (each ending in a newline)."""
    lines = ["# Demo project", ""] + [f"Line {n} of the demo readme." for n in range(3, README_LINES + 1)]
    return "\n".join(lines) + "\n"


# --- running --------------------------------------------------------------------------------------


def run_one(interp: Any, task: Task, folder: Path, verbose: bool = False) -> Result:
    """Run one request in a fresh conversation and judge it."""
    from oi_voice.core import lmc

    (folder / "hello.txt").unlink(missing_ok=True)
    interp.reset()
    result = Result(task.request)
    # Code the model writes may run away (a walk of the whole disk ...): stop it in time.
    watchdog = threading.Timer(RUN_TIMEOUT, interp.stop)
    watchdog.daemon = True
    start = time.perf_counter()
    try:
        for chunk in interp.chat(task.request, display=False, stream=True):
            if chunk.get("type") == "error":
                result.errors.append(str(chunk.get("content", "")))
            elif chunk.get("type") == "confirmation":
                if verbose:
                    print(f"  [{time.perf_counter() - start:.1f}s] runs: {chunk['content'].get('content', '')!r}"[:300],
                          file=sys.stderr, flush=True)
                watchdog.cancel()
                watchdog = threading.Timer(RUN_TIMEOUT, interp.stop)
                watchdog.daemon = True
                watchdog.start()
    finally:
        watchdog.cancel()
    result.seconds = time.perf_counter() - start
    messages = interp.messages
    assistant = [m for m in messages if m.get("role") == "assistant"]
    result.codes = [f"[{m.get('format')}] {m.get('content', '')}" for m in assistant if m.get("type") == "code"]
    result.outputs = [str(m.get("content", "")) for m in messages
                      if m.get("role") == "computer" and m.get("type") == "console"]
    # The model's replies: a text reply after code, or a code block (a reply of its own).
    result.steps = sum(1 for n, m in enumerate(messages) if m.get("role") == "assistant"
                       and (n == 0 or messages[n - 1].get("role") != "assistant"))
    # Strict: the turn must END with the model's text (a turn that stops on code has no answer).
    last = assistant[-1] if assistant else None
    result.answer = str(last.get("content", "")) if last and last.get("type") == "message" else ""
    # Only output of code that actually ran counts (not the "not run" notes).
    skip = ("Error:", lmc.NOT_RUN, lmc.DECLINED)
    ran_output = "\n".join(o for o in result.outputs if not o.startswith(skip))
    result.ran, correct = task.judge(ran_output, result.answer, folder)
    result.correct = result.ran and correct
    return result


def uptime() -> str:
    """``uptime``'s line (the load averages)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_bench(functions: bool | None, verbose: bool, only: list[int] | None = None) -> dict[str, Any]:
    """Load the model, run the requests, return everything as a JSON-able dict."""
    info: dict[str, Any] = {"uptime_before": uptime(), "nproc": os.cpu_count(),
                            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="oi-bench-local-") as tmp:
        folder = Path(tmp) / "work"
        folder.mkdir()
        (folder / "README.md").write_text(readme_text())
        os.environ["OI_VOICE_DATA_DIR"] = str(Path(tmp) / "data")
        os.chdir(folder)  # the kernel starts in the folder the interpreter was made in
        from oi_voice import Interpreter
        from oi_voice.llm import local

        local.default_model_path()  # assembled and checked before the timed load
        interp = Interpreter()
        try:
            interp.llm.model = "local"
            interp.llm.supports_functions = functions
            interp.auto_run = True
            interp.max_steps = MAX_STEPS
            start = time.perf_counter()
            local.start()
            info["load_s"] = time.perf_counter() - start
            info["system_prompt"] = interp.system_prompt(True if functions is None else functions)
            results = []
            for n, task in enumerate(TASKS):
                if only and n + 1 not in only:
                    continue
                result = run_one(interp, task, folder, verbose)
                results.append(result)
                if verbose:
                    dump(result, interp.messages)
        finally:
            interp.close()
            os.chdir(ROOT)
    info["uptime_after"] = uptime()
    info["functions"] = "default" if functions is None else functions
    info["results"] = [asdict(r) for r in results]
    info["score"] = sum(r.correct for r in results)
    info["total"] = len(results)
    return info


def dump(result: Result, messages: list[dict[str, Any]]) -> None:
    """The transcript of one request, on stderr."""
    print(f"\n=== {result.request}  ran={result.ran} correct={result.correct} {result.seconds:.1f}s",
          file=sys.stderr)
    for m in messages:
        content = str(m.get("content", "")).replace("\n", "\\n")
        print(f"  {m.get('role')}/{m.get('type')}/{m.get('format', '')}: {content[:300]}", file=sys.stderr)
    for e in result.errors:
        print(f"  ERROR: {e}", file=sys.stderr)


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(info: dict[str, Any]) -> str:
    """The results as a plain-text table with the score, load time and machine load."""
    head = ("request", "ran code", "correct", "seconds", "final answer")
    rows = [(r["request"], "yes" if r["ran"] else "no", "yes" if r["correct"] else "no", f"{r['seconds']:.1f}",
             _cell(r["answer"] or ("(" + r["errors"][-1] + ")" if r["errors"] else "(no answer)"), 70))
            for r in info["results"]]
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    times = sorted(r["seconds"] for r in info["results"])
    median = times[len(times) // 2] if len(times) % 2 else sum(times[len(times) // 2 - 1: len(times) // 2 + 1]) / 2
    lines += [
        "",
        f"score: {info['score']}/{info['total']}  (goal: at least 4/6)",
        f"seconds per request: median {median:.1f}, total {sum(times):.1f}",
        f"model load: {info['load_s']:.2f} s   native tools: {info['functions']}",
        f"machine ({info['nproc']} cores) before: {info['uptime_before']}",
        f"machine after: {info['uptime_after']}",
    ]
    return "\n".join(lines)


# --- run.py -----------------------------------------------------------------------------------------


def _spawn(argv: list[str], env: dict[str, str], timeout: float) -> tuple[str, str, int]:
    """Run the bench in its own session, so a timeout also kills its kernels."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return out, err + f"\ntimed out after {timeout} s", -9
    return out, err, proc.returncode


def rows(ctx: Any) -> list[Any]:
    """Rows for run.py: the score, seconds per request and load time (oi_voice only)."""
    from harness import OI, OI_VOICE, Row, log

    product = ctx.product(OI_VOICE)
    if product is None:
        return []
    log("local model: six requests to the embedded Qwen2.5-Coder-0.5B (once, whatever --reps)")
    out, err, code = _spawn([product.python, str(HERE), "--json"], product.env, timeout=1800)
    line = next((x for x in reversed(out.splitlines()) if x.startswith(RESULT_MARKER)), None)
    if line is None:
        why = (err.strip().splitlines() or [f"exit {code}"])[-1][:200]
        log(f"local model bench failed: {err.strip()[-800:]}")
        return [Row("local model: score (6 requests)", "", {OI_VOICE: []}, missing={OI_VOICE: why, OI: "-"})]
    info = json.loads(line[len(RESULT_MARKER):])
    ctx.record("local", info)
    results = info["results"]
    not_oi = {OI: "not run (oi_voice's embedded model)"}
    note = (f"Qwen2.5-Coder-0.5B Q4_K_M in-process, each request a fresh conversation, max_steps {MAX_STEPS}; "
            f"load during run: {info['uptime_before'].split('load average:')[-1].strip()}")
    out_rows = [
        Row("local model: requests answered correctly", "", {OI_VOICE: [float(info["score"])]}, target=None,
            note=note, text={OI_VOICE: f"{info['score']}/{info['total']} (goal 4/6)"}, missing=dict(not_oi)),
        Row("local model: seconds per request", "s", {OI_VOICE: [r["seconds"] for r in results]},
            missing=dict(not_oi)),
        Row("local model: load", "s", {OI_VOICE: [info["load_s"]]}, missing=dict(not_oi)),
    ]
    for r in results:
        verdict = "correct" if r["correct"] else ("ran, wrong answer" if r["ran"] else "failed")
        out_rows.append(Row(f"local: {r['request']}", "s", {OI_VOICE: [r["seconds"]]},
                            text={OI_VOICE: f"{verdict}, {r['seconds']:.1f} s"}, missing=dict(not_oi)))
    return out_rows


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table (and with --json one JSON line)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="also print the result as one JSON line")
    parser.add_argument("--verbose", action="store_true", help="print each transcript on stderr")
    parser.add_argument("--functions", choices=("auto", "on", "off"), default="auto",
                        help="native tool calls (on) or markdown fences (off); auto: the default")
    parser.add_argument("--only", type=int, action="append", help="run request number N (1-6); repeatable")
    args = parser.parse_args(argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    functions = {"auto": None, "on": True, "off": False}[args.functions]
    info = run_bench(functions, args.verbose, args.only)
    print(table(info), flush=True)
    if args.json:
        print(RESULT_MARKER + json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
