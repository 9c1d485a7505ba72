"""The side-by-side benchmark harness: oi_voice against Open Interpreter 0.4.3.

A benchmark module is a ``tests/bench/bench_*.py`` file with a function
``rows(ctx: Ctx) -> list[Row]``. It measures with the helpers on ``Ctx``:

- ``ctx.alternate(fn)`` calls ``fn(product)`` ``ctx.reps`` times per product, switching
  which product goes first on every repetition, so drift in machine load (other jobs
  share this 2-core machine) falls on both products alike;
- ``ctx.worker(product, task, params, replies)`` runs ``tests/bench/_worker.py`` in a
  fresh process with that product's own venv python and returns its JSON result; with
  ``replies`` it first starts a private ``ScriptedLLM`` (one per worker, so queues never
  cross) whose URL the worker finds in ``params["url"]``;
- ``ctx.wall(product, argv)`` times one command from spawn to exit.

Each ``Row`` carries the raw samples per product; ``run.py`` turns them into the table.
Modules import this one as ``import harness`` (run.py puts tests/bench on sys.path).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
TESTS_DIR = ROOT / "tests"
WORKER = BENCH_DIR / "_worker.py"
#: Open Interpreter lives in its own venv, kept between runs (its install takes minutes).
CACHE = Path(os.environ.get("OI_VOICE_BENCH_CACHE", str(Path.home() / ".cache" / "oi-voice-bench")))
OI_VERSION = "0.4.3"
OI_VENV = CACHE / f"oi-{OI_VERSION}"
#: The line a worker prints its JSON result on (products may print to stdout too).
RESULT_MARKER = "@@BENCH_RESULT@@ "

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from scripted_llm import Reply, ScriptedLLM  # noqa: E402  (needs TESTS_DIR on sys.path)

T = TypeVar("T")

OI_VOICE = "oi_voice"
OI = "oi"
LABELS = {OI_VOICE: "oi_voice", OI: "Open Interpreter"}


def log(message: str) -> None:
    """Progress on stderr: the table is the only thing on stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Product:
    """One product under test: its key, its venv, and how its processes are started."""

    key: str
    venv: Path
    env: dict[str, str]

    @property
    def label(self) -> str:
        """The column heading."""
        return LABELS[self.key]

    @property
    def python(self) -> str:
        """The venv's interpreter (not resolved: resolving would leave the venv)."""
        return str(self.venv / "bin" / "python")

    def site_packages(self) -> Path:
        """The venv's site-packages folder."""
        found = sorted(self.venv.glob("lib/python3*/site-packages"))
        if not found:
            raise FileNotFoundError(f"no site-packages under {self.venv}")
        return found[0]


def _base_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    # litellm fetches its cost map over the network at import unless told not to; both
    # products import litellm (OI 0.4.3 at start-up, oi_voice later), and there is no network.
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    # Both products save conversations and config under XDG dirs: keep them out of the
    # user's own, in a folder that persists so every run sees the same warm state.
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CONFIG_HOME"] = str(home / "config")
    # Cached bytecode, as users have it (any value of this variable turns caching off).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    for key in ("OI_VOICE_MODEL", "OI_VOICE_API_BASE", "OI_VOICE_API_KEY", "OI_VOICE_PREWARM"):
        env.pop(key, None)  # a developer's own settings must not change what is measured
    return env


def make_products(with_oi: bool = True) -> tuple[list[Product], dict[str, str]]:
    """The products available to measure, and a reason for each one that is not."""
    home = CACHE / "xdg"
    for sub in ("data", "config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    ours_env = _base_env(home)
    ours_env["PYTHONPATH"] = str(ROOT)
    products = [Product(OI_VOICE, ROOT / ".venv", ours_env)]
    missing: dict[str, str] = {}
    if not with_oi:
        missing[OI] = "skipped (--no-oi)"
        return products, missing
    reason = ensure_oi()
    if reason is None:
        products.append(Product(OI, OI_VENV, _base_env(home)))
    else:
        missing[OI] = reason
    return products, missing


def ensure_oi() -> str | None:
    """Make sure Open Interpreter's venv exists; None when it does, else why not."""
    python = OI_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('open-interpreter'))"]
    if python.exists():
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        if done.returncode == 0 and done.stdout.strip() == OI_VERSION:
            return None
    log(f"installing open-interpreter=={OI_VERSION} into {OI_VENV} (about 3 minutes, once)")
    try:
        OI_VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["python3", "-m", "venv", str(OI_VENV)], check=True, timeout=300)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"open-interpreter=={OI_VERSION}"],
            capture_output=True, text=True, timeout=1800,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"pip install open-interpreter=={OI_VERSION} failed: {last}"
        done = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            return f"open-interpreter is not importable after install: {done.stderr.strip()[-300:]}"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not install open-interpreter=={OI_VERSION}: {exc}"
    return None


def run_bench_script(product: Product, script: Path, reps: int, timeout: float = 1200) -> dict[str, Any]:
    """Run a bench script (``--json --reps N``) with ``product``'s Python; its JSON results.

    Benches that need their own sound server or display measure in a process of their own.
    """
    done = subprocess.run([product.python, str(script), "--json", "--reps", str(reps)],
                          env={**product.env, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{script.stem} failed: {done.stderr[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class WorkerError(RuntimeError):
    """A worker process failed or gave no result."""


class NotMeasured(Exception):
    """Raised by a measurement that cannot apply to a product (the row says why)."""


@dataclass
class Ctx:
    """What a benchmark module gets: the products, the repetition count, the helpers."""

    products: list[Product]
    #: Products that could not be measured, with the reason (shown under the table).
    missing: dict[str, str]
    reps: int
    quick: bool = False
    #: ``--only`` selections: module names, or ``module.group`` (see ``wants``).
    only: list[str] = field(default_factory=list)
    #: Set by run.py to the module whose rows are being measured.
    module: str = ""
    #: Raw per-repetition results kept for results.json (``record``).
    details: dict[str, Any] = field(default_factory=dict)

    def record(self, name: str, results: Any) -> None:
        """Keep raw results (worker dicts, phases) in results.json under ``module.name``."""
        self.details[f"{self.module}.{name}"] = results

    def run_own_process(self, name: str, script: Path, what: str) -> dict[str, Any] | None:
        """Run an oi_voice-only bench ``script`` in a process of its own and record its results.

        None when oi_voice cannot be measured.
        """
        product = self.product(OI_VOICE)
        if product is None:
            return None
        log(f"{name}: {what}")
        results = run_bench_script(product, script, self.reps)
        self.record(name, results)
        return results

    def wants(self, group: str) -> bool:
        """Whether ``--only`` selects this group of the current module (all by default)."""
        picks = [p for p in self.only if "." in p and p.split(".", 1)[0] in (self.module, f"bench_{self.module}")]
        return not picks or any(p.split(".", 1)[1] == group for p in picks)

    def product(self, key: str) -> Product | None:
        """The product with that key, if it can be measured."""
        return next((p for p in self.products if p.key == key), None)

    def alternate(self, fn: Callable[[Product], T], reps: int | None = None) -> dict[str, list[T]]:
        """Call ``fn(product)`` ``reps`` times per product, alternating which goes first.

        A call that raises is logged and leaves no sample (the row shows the failure
        through its missing samples and its note); ``NotMeasured`` is not logged.
        """
        results: dict[str, list[T]] = {p.key: [] for p in self.products}
        for rep in range(reps or self.reps):
            order = self.products if rep % 2 == 0 else list(reversed(self.products))
            for product in order:
                try:
                    results[product.key].append(fn(product))
                except NotMeasured:
                    pass
                except Exception as exc:
                    log(f"{product.label}: failed: {exc}")
        return results

    def worker(
        self,
        product: Product,
        task: str,
        params: dict[str, Any] | None = None,
        replies: Sequence[Reply] = (),
        timeout: float = 240,
    ) -> dict[str, Any]:
        """Run ``_worker.py task`` with the product's python and return its JSON result.

        ``params["t_spawn"]`` is the wall clock just before the spawn, for measurements
        "from process start". The scripted server (if any) lives in this process.
        """
        params = dict(params or {})
        llm = ScriptedLLM().start() if replies else None
        try:
            if llm is not None:
                llm.add(*replies)
                params["url"] = llm.url
            params["t_spawn"] = time.time()
            out, err, code = _spawn(
                [product.python, str(WORKER), product.key, task, json.dumps(params)], product.env, timeout
            )
            result = _parse_result(out)
            if result is None:
                raise WorkerError(f"{task} exited {code} without a result: {err.strip()[-800:]}")
            if "error" in result:
                raise WorkerError(f"{task}: {result['error'].strip()[-800:]}")
            if llm is not None:
                result["_requests"] = len(llm.requests)
                result["_unused_replies"] = llm.pending
            return result
        finally:
            if llm is not None:
                llm.stop()

    def wall(self, product: Product, argv: Sequence[str], timeout: float = 120) -> float:
        """Seconds from spawning ``argv`` (with the product's environment) to its exit.

        Raises WorkerError when it exits non-zero.
        """
        start = time.perf_counter()
        out, err, code = _spawn(list(argv), product.env, timeout)
        elapsed = time.perf_counter() - start
        if code != 0:
            raise WorkerError(f"{' '.join(argv)} exited {code}: {(err or out).strip()[-400:]}")
        return elapsed


def _spawn(argv: list[str], env: dict[str, str], timeout: float) -> tuple[str, str, int]:
    """Run a process in its own session (so a timeout can kill its kernels too)."""
    with tempfile.TemporaryDirectory(prefix="oi-bench-") as cwd:
        # A scratch cwd: the products may write files where they run.
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Only the group this call started: the worker and the kernels it spawned.
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise WorkerError(f"{' '.join(argv[:4])} timed out after {timeout} s") from None
        return out, err, proc.returncode


def _parse_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            value = json.loads(line[len(RESULT_MARKER):])
            return value if isinstance(value, dict) else None
    return None


# --- rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: samples per product in ``unit``, and a target for oi_voice.

    ``target`` is an upper bound in ``unit`` (None: no target); ``text`` overrides a
    product's cell (for yes/no results); ``note`` explains anything unusual.
    """

    name: str
    unit: str
    samples: dict[str, list[float]]
    target: float | None = None
    note: str = ""
    text: dict[str, str] = field(default_factory=dict)
    #: Why a product has no samples (not measurable, failed ...).
    missing: dict[str, str] = field(default_factory=dict)

    def median(self, key: str) -> float | None:
        """The median sample of a product, None without samples."""
        values = self.samples.get(key) or []
        return statistics.median(values) if values else None

    def cell(self, key: str) -> str:
        """``median (min-max)`` of a product, or its text override."""
        if key in self.text:
            return self.text[key]
        values = self.samples.get(key) or []
        if not values:
            return self.missing.get(key, "n/a")
        med = fmt(statistics.median(values), self.unit)
        if len(values) == 1:
            return med
        return f"{med} ({fmt(min(values), self.unit, False)}-{fmt(max(values), self.unit, False)})"

    def ratio(self) -> str:
        """oi_voice median / Open Interpreter median."""
        ours, theirs = self.median(OI_VOICE), self.median(OI)
        if ours is None or theirs is None or theirs == 0 or OI_VOICE in self.text:
            return "-"
        return f"{ours / theirs:.2f}" if ours / theirs >= 0.01 else f"{ours / theirs:.3f}"

    def target_cell(self) -> str:
        """``<= target unit``, marked met or missed by oi_voice's median (shown, never asserted)."""
        if self.target is None:
            return "-"
        ours = self.median(OI_VOICE)
        mark = "" if ours is None else (" met" if ours <= self.target else " MISSED")
        return f"<= {fmt(self.target, self.unit)}{mark}"

    def to_json(self) -> dict[str, Any]:
        """Everything, raw samples included, for results.json."""
        return {
            "name": self.name, "unit": self.unit, "target": self.target, "note": self.note,
            "samples": self.samples, "text": self.text, "missing": self.missing,
            "median": {k: self.median(k) for k in self.samples}, "ratio": self.ratio(),
        }


def fmt(value: float, unit: str, with_unit: bool = True) -> str:
    """A number with sensible precision for its size."""
    if abs(value) >= 100:
        s = f"{value:.0f}"
    elif abs(value) >= 10:
        s = f"{value:.1f}"
    elif abs(value) >= 1:
        s = f"{value:.2f}"
    else:
        s = f"{value:.3f}"
    return f"{s} {unit}" if with_unit and unit else s


def row_from(
    name: str, unit: str, results: dict[str, list[dict[str, Any]]], key: str,
    target: float | None = None, note: str = "", scale: float = 1.0,
) -> Row:
    """A row whose samples are ``result[key] * scale`` of each worker result that has it."""
    samples = {
        product: [float(r[key]) * scale for r in rs if r.get(key) is not None]
        for product, rs in results.items()
    }
    return Row(name, unit, samples, target, note)


def script_main(doc: str | None, measure: Callable[[int], dict[str, Any]], report: Callable[[dict[str, Any]], str],
                argv: list[str] | None = None, default_reps: int = 5) -> int:
    """The command line of a bench script run on its own: ``--reps N``, ``--json``; always 0.

    Timings are never assertions, so the exit code says nothing about the numbers.
    """
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=default_reps,
                        help=f"repetitions of each measurement (default {default_reps})")
    parser.add_argument("--json", action="store_true", help="print the raw results as one JSON line")
    args = parser.parse_args(argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    results = measure(args.reps)
    print(json.dumps(results, ensure_ascii=False) if args.json else report(results), flush=True)
    return 0
