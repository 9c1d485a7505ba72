"""Benchmark of the HTTP server: a burst of requests during a turn, and time to first chunk.

Run it as a script (pytest does not collect it)::

    .venv/bin/python tests/bench/bench_server.py [--requests 200] [--runs 30]

1. Time to first SSE chunk: ``GET /chat`` sent -> first ``data:`` line received, over
   ``--runs`` short text turns against the scripted model server; the model server's own
   time to first event, measured the same way, is printed next to it.
2. ``--requests`` concurrent ``GET /health`` and ``GET /history`` (half each) fired while
   a turn streams the output of approved code (300 numbered lines): every request must be
   answered with 200, and the stream must arrive whole and in order. For scale, the same
   burst against the idle server and against a bare FastAPI app (two trivial routes, its
   own uvicorn thread) in this process.

It prints figures and asserts no timing; it exits 1 only if something was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from scripted_llm import ScriptedLLM, text, tool_call  # noqa: E402

LINES = 300
CODE = f"import time\nfor i in range({LINES}):\n    print(i, flush=True)\n    time.sleep(0.01)"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"min {ms(ordered[0])}  median {ms(statistics.median(ordered))}  p95 {ms(p95)}  "
            f"max {ms(ordered[-1])}  (n={len(ordered)})")


def first_event(client: httpx.Client, method: str, url: str, **kwargs: Any) -> float:
    """Seconds from sending the request to the first ``data:`` line; reads the stream to its end."""
    started = time.perf_counter()
    first = None
    with client.stream(method, url, **kwargs) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and first is None:
                first = time.perf_counter() - started
    if first is None:
        raise RuntimeError(f"{url}: no event")
    return first


def time_to_first_chunk(base: str, llm: ScriptedLLM, runs: int) -> tuple[list[float], list[float]]:
    ours, model = [], []
    reply = "Hello there, this is a short reply in a few chunks."
    with httpx.Client(timeout=60) as client:
        for n in range(runs + 1):
            llm.add(text(reply, chunks=5), text(reply, chunks=5))
            through_server = first_event(client, "GET", f"{base}/chat", params={"message": f"hi {n}"})
            direct = first_event(client, "POST", f"{llm.url}/chat/completions",
                                 json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]})
            if n:  # the first pair warms connections and imports
                ours.append(through_server)
                model.append(direct)
            client.post(f"{base}/reset").raise_for_status()
    return ours, model


class StreamingTurn(threading.Thread):
    """A turn whose approved code prints numbered lines; records every chunk's arrival."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.chunks: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.output_started = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=60) as client, \
                    client.stream("GET", "/chat", params={"message": "count"}) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line:
                        continue
                    chunk = json.loads(line[len("data: "):])
                    self.chunks.append(chunk)
                    self.arrivals.append(time.perf_counter())
                    if chunk["type"] == "confirmation":
                        client.post(f"/approvals/{chunk['content']['id']}", json={"decision": "run"}
                                    ).raise_for_status()
                    if chunk.get("format") == "output":
                        self.output_started.set()
        except BaseException as exc:  # reported by the main thread
            self.error = exc
            self.output_started.set()

    @property
    def output(self) -> str:
        return "".join(c["content"] for c in self.chunks if c.get("format") == "output")


async def burst(base: str, count: int) -> list[tuple[str, int, float, float]]:
    """``count`` requests at once; (path, status, seconds, finished-at) for each."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(path: str) -> tuple[str, int, float, float]:
            started = time.perf_counter()
            response = await client.get(path)
            response.json()
            now = time.perf_counter()
            return path, response.status_code, now - started, now

        paths = ["/health" if n % 2 == 0 else "/history" for n in range(count)]
        return list(await asyncio.gather(*(one(p) for p in paths)))


def bare_fastapi_burst(count: int) -> list[tuple[str, int, float, float]]:
    """The burst against a minimal FastAPI app: what this machine does without oi_voice."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/history")
    async def history() -> list[Any]:
        return []

    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        return asyncio.run(burst(f"http://127.0.0.1:{sock.getsockname()[1]}", count))
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def print_burst(label: str, results: list[tuple[str, int, float, float]]) -> None:
    answered = sum(1 for r in results if r[1] == 200)
    print(f"  {label:<26} answered {answered}/{len(results)}; latency {summary([r[2] for r in results])}")


def streaming_burst(base: str, llm: ScriptedLLM, requests: int) -> dict[str, Any]:
    """The burst fired while a turn streams approved code's output; what arrived, and how."""
    llm.add(tool_call("python", CODE), text("Counted."))
    turn = StreamingTurn(base)
    turn.start()
    if not turn.output_started.wait(120) or turn.error:
        raise RuntimeError(f"the turn did not start streaming: {turn.error!r}")
    burst_start = time.perf_counter()
    results = asyncio.run(burst(base, requests))
    burst_end = max(r[3] for r in results)
    still_streaming = turn.is_alive()
    turn.join(120)
    if turn.error:
        raise turn.error
    with httpx.Client(timeout=30) as client:
        client.post(f"{base}/reset").raise_for_status()
    during = [t for t in turn.arrivals if burst_start <= t <= burst_end]
    gaps = [b - a for a, b in zip(turn.arrivals, turn.arrivals[1:], strict=False) if burst_start <= b]
    return {
        "results": results,
        "answered": sum(1 for r in results if r[1] == 200),
        "wall": burst_end - burst_start,
        "still_streaming": still_streaming,
        "chunks_during": len(during),
        "longest_gap": max(gaps[: len(during) + 1], default=None),
        "chunks": len(turn.chunks),
        "whole": turn.output == "".join(f"{i}\n" for i in range(LINES)),
        "complete": bool(turn.chunks) and turn.chunks[-1] == {"role": "server", "type": "status",
                                                              "content": "complete"},
    }


def measure(requests: int, runs: int, reps: int) -> dict[str, Any]:
    """Everything this bench measures, against a real server on a free port."""
    os.environ.setdefault("OI_VOICE_DATA_DIR", tempfile.mkdtemp(prefix="oi-bench-server-"))
    from oi_voice import Interpreter
    from oi_voice.server import start

    with ScriptedLLM() as llm:
        interp = Interpreter()
        interp.llm.model, interp.llm.api_base, interp.llm.api_key = "scripted-model", llm.url, "sk-bench"
        interp.llm.supports_functions = True
        running = start(interp, port=0)
        try:
            ours, model = time_to_first_chunk(running.url, llm, runs)
            baseline = bare_fastapi_burst(requests)
            idle = asyncio.run(burst(running.url, requests))
            streaming = [streaming_burst(running.url, llm, requests) for _ in range(reps)]
        finally:
            running.stop()
            interp.close()
    return {"requests": requests, "first_chunk": ours, "model_first_event": model, "bare": baseline,
            "idle": idle, "streaming": streaming, "load": os.getloadavg()}


def report(m: dict[str, Any]) -> bool:
    """Print the figures; True when nothing was lost."""
    load = m["load"]
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\ntime to first SSE chunk (request sent -> first data: line)")
    print(f"  oi_voice /chat        {summary(m['first_chunk'])}")
    print(f"  model server alone    {summary(m['model_first_event'])}")
    print(f"\n{m['requests']} concurrent requests, half /health and half /history")
    print_burst("bare FastAPI (idle)", m["bare"])
    print_burst("oi_voice (idle)", m["idle"])
    ok = all(r[1] == 200 for r in m["idle"] + m["bare"])
    for s in m["streaming"]:
        results = s["results"]
        print_burst("oi_voice (turn streaming)", results)
        for path in ("/health", "/history"):
            print(f"    {path:<22} latency {summary([r[2] for r in results if r[0] == path])}")
        print(f"    burst wall time        {ms(s['wall'])}; "
              f"turn still streaming when it ended: {'yes' if s['still_streaming'] else 'no'}")
        gap = ms(s["longest_gap"]) if s["longest_gap"] is not None else "n/a"
        print(f"    SSE chunks during it   {s['chunks_during']}; longest gap between chunks {gap}")
        verdict = "whole and in order" if s["whole"] else "DAMAGED"
        print(f"    the stream             {s['chunks']} chunks; output {verdict}; "
              f"ended with complete: {'yes' if s['complete'] else 'NO'}")
        ok = ok and s["answered"] == len(results) and s["whole"] and s["complete"]
    return ok


def rows(ctx: Any) -> list[Any]:
    """Rows for tests/bench/run.py (oi_voice only: Open Interpreter ships no server method)."""
    from harness import OI, OI_VOICE, Row

    m = ctx.run_own_process("server", Path(__file__),
                            "time to first SSE chunk, 200 concurrent requests while a turn streams")
    if m is None:
        return []
    none = {OI: "no server (interpreter.server() never shipped)"}
    answered = sum(s["answered"] for s in m["streaming"])
    asked = m["requests"] * len(m["streaming"])
    whole = sum(1 for s in m["streaming"] if s["whole"] and s["complete"])
    model = statistics.median(m["model_first_event"]) * 1000
    latency = statistics.median(r[2] for s in m["streaming"] for r in s["results"]) * 1000
    bare = statistics.median(r[2] for r in m["bare"]) * 1000
    return [
        Row("server: /chat sent -> first SSE chunk", "ms", {OI_VOICE: [x * 1000 for x in m["first_chunk"]]},
            note=f"the scripted model server's own first event: {model:.1f} ms", missing=dict(none)),
        Row(f"server: {m['requests']} concurrent /health + /history while a turn streams", "ms",
            {OI_VOICE: [statistics.median(r[2] for r in s["results"]) * 1000 for s in m["streaming"]]},
            text={OI_VOICE: f"{answered}/{asked} answered, {whole}/{len(m['streaming'])} streams whole; "
                            f"median latency {latency:.0f} ms"},
            note=f"all {m['requests']} sent at once; a bare FastAPI app answers the same burst in {bare:.0f} ms",
            missing=dict(none)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reps", type=int, default=1, help="bursts while a turn streams")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line (last)")
    args = parser.parse_args()
    m = measure(args.requests, args.runs, args.reps)
    ok = report(m)
    if args.json:
        print(json.dumps(m))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
