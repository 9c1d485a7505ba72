"""Run every benchmark module and print one table: oi_voice beside Open Interpreter 0.4.3.

    .venv/bin/python tests/bench/run.py [--quick] [--reps N] [--only NAME ...] [--no-oi]

Each ``tests/bench/bench_*.py`` that defines ``rows(ctx) -> list[Row]`` contributes rows
(modules without it are skipped). ``--only core`` runs one module, ``--only core.session``
one group of it. The table is also written to bench-results/results.md and
results.json, with the date and the machine's load. Timings are reported, never asserted:
this exits 0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from harness import LABELS, OI, OI_VOICE, Ctx, Row, log

RESULTS = harness.ROOT / "bench-results"
COLUMNS = ("row", LABELS[OI_VOICE], LABELS[OI], "ratio oi_voice/OI", "target (oi_voice)")


def machine() -> dict[str, Any]:
    """Date, core count, load and CPU model: the context the numbers need."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "uptime_before": uptime(),
    }


def uptime() -> str:
    """``uptime``'s line (the load averages)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def discover(only: list[str]) -> list[tuple[str, ModuleType | None, str]]:
    """(name, module or None, why not) for each bench module, bench_core first."""
    files = sorted(harness.BENCH_DIR.glob("bench_*.py"), key=lambda p: (p.stem != "bench_core", p.stem))
    picks = {o.split(".", 1)[0].removeprefix("bench_") for o in only}
    found: list[tuple[str, ModuleType | None, str]] = []
    for path in files:
        name = path.stem.removeprefix("bench_")
        if picks and name not in picks:
            continue
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            # Registered first, as a normal import does: dataclasses and typing look it up.
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        except Exception:
            # Another module being half-written must not cost the whole table.
            found.append((name, None, "import failed: " + traceback.format_exc(limit=1).strip().splitlines()[-1]))
            continue
        if not callable(getattr(module, "rows", None)):
            found.append((name, None, "no rows(ctx)"))
            continue
        found.append((name, module, ""))
    return found


def render_text(rows: list[Row]) -> str:
    """The table in aligned plain text, notes below."""
    cells = [COLUMNS] + [(r.name, r.cell(OI_VOICE), r.cell(OI), r.ratio(), r.target_cell()) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(cells):
        lines.append(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    """The table as GitHub markdown."""
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = (r.name, r.cell(OI_VOICE), r.cell(OI), r.ratio(), r.target_cell())
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out)


def notes(rows: list[Row], skipped: list[str], ctx: Ctx) -> list[str]:
    """Footnotes: per-row notes, missing products, skipped modules."""
    out = [f"- {r.name}: {r.note}" for r in rows if r.note]
    out += [f"- {LABELS[k]} not measured: {why}" for k, why in ctx.missing.items()]
    out += [f"- module {s}" for s in skipped]
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure, print, write the results; always 0 (timings are never assertions)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 repetitions and fewer inner iterations")
    parser.add_argument("--reps", type=int, help="repetitions per product (default 5, --quick 3)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="a module (core, server, ...) or module.group (core.session); repeatable")
    parser.add_argument("--no-oi", action="store_true", help="measure oi_voice alone")
    args = parser.parse_args(argv)

    info = machine()
    started = time.perf_counter()
    log(f"load before: {info['uptime_before']}")
    products, missing = harness.make_products(with_oi=not args.no_oi)
    for key, why in missing.items():
        log(f"{LABELS[key]} not measured: {why}")
    ctx = Ctx(products, missing, reps=args.reps or (3 if args.quick else 5), quick=args.quick, only=args.only)

    rows: list[Row] = []
    skipped: list[str] = []
    for name, module, why in discover(args.only):
        if module is None:
            skipped.append(f"{name}: {why}")
            continue
        ctx.module = name
        try:
            got = module.rows(ctx)
        except Exception:
            skipped.append(f"{name}: rows() failed: {traceback.format_exc(limit=2).strip().splitlines()[-1]}")
            log(traceback.format_exc())
            continue
        for row in got:
            for key in missing:
                row.missing.setdefault(key, "not measured")
        rows += got

    info["uptime_after"] = uptime()
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["reps"] = ctx.reps
    info["quick"] = args.quick
    footer = notes(rows, skipped, ctx)
    header = (
        f"{info['date']}  nproc={info['nproc']}  CPU: {info['cpu']}  reps={ctx.reps}"
        f"{' (quick)' if args.quick else ''}  took {info['seconds']} s\n"
        f"load before: {info['uptime_before']}\nload after:  {info['uptime_after']}"
    )
    print(header + "\n\n" + render_text(rows) + ("\n\n" + "\n".join(footer) if footer else ""), flush=True)

    RESULTS.mkdir(exist_ok=True)
    markdown = (
        "# oi_voice vs Open Interpreter 0.4.3\n\n"
        + "\n".join(f"- {line}" for line in header.splitlines())
        + "\n\nEach cell: median (min-max) over the repetitions; each repetition is a fresh process."
        + "\n\n" + render_markdown(rows) + "\n\n" + "\n".join(footer) + "\n"
    )
    (RESULTS / "results.md").write_text(markdown)
    (RESULTS / "results.json").write_text(
        json.dumps({"machine": info, "missing": missing, "skipped": skipped, "rows": [r.to_json() for r in rows],
                    "details": ctx.details}, indent=1, default=str)
    )
    log(f"wrote {RESULTS / 'results.md'} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
