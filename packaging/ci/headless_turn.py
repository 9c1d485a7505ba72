"""One spoken turn with an installed oi-voice against the scripted model: the installers' CI check.

    python packaging/ci/headless_turn.py PATH/TO/oi-voice[.exe] [--require-pandas]

Starts the scripted OpenAI-compatible server of tests/scripted_llm.py on 127.0.0.1, then runs
the installed app as a user would from a terminal::

    oi-voice --headless --input tests/data/six_times_seven.wav --output reply.wav -y \\
        --api_base URL --model scripted-model --api_key sk-test -lsf

and checks what happened from the server's side (the Windows build is a windowed program
whose own output may not reach a console): the transcript the model was sent names six and
seven, the Python run's output came back to the model with 42 in it (with
``--require-pandas``: pandas imported, so the per-user Python environment was made), and
reply.wav holds the spoken answer. Exit code 0 when all holds; the details are printed.

The user's folders are fresh temporary ones (``OI_VOICE_DATA_DIR``, ``OI_VOICE_CONFIG_DIR``),
so the Python environment is made as on a first run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from scripted_llm import ScriptedLLM, text, tool_call  # noqa: E402

CODE = ("import sys\ntry:\n    import pandas\n    has = 'yes'\nexcept ImportError:\n    has = 'no'\n"
        "print(6 * 7, 'pandas:', has, sys.prefix)")


def main(argv: list[str] | None = None) -> int:
    """Run the turn; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", help="the installed oi-voice executable")
    parser.add_argument("--audio", default=str(ROOT / "tests" / "data" / "six_times_seven.wav"))
    parser.add_argument("--require-pandas", action="store_true",
                        help="fail unless pandas imported in the run (the per-user Python environment)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds the turn may take (first run "
                        "included: it makes the Python environment)")
    args = parser.parse_args(argv)

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="oi-voice-ci-") as tmp, ScriptedLLM() as llm:
        home = Path(tmp)
        llm.add(tool_call("python", CODE), text("Six times seven is forty two."))
        env = dict(os.environ, OI_VOICE_DATA_DIR=str(home / "data"), OI_VOICE_CONFIG_DIR=str(home / "config"))
        reply = home / "reply.wav"
        command = [args.app, "--headless", "--input", args.audio, "--output", str(reply), "-y",
                   "--api_base", llm.url, "--model", "scripted-model", "--api_key", "sk-test", "-lsf"]
        print("$", " ".join(command), flush=True)
        started = time.monotonic()
        done = subprocess.run(command, env=env, cwd=home, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", timeout=args.timeout)
        print(f"exit code {done.returncode} after {time.monotonic() - started:.1f} s")
        print("--- stdout\n" + (done.stdout or "(none)") + "\n--- stderr\n" + (done.stderr or "(none)"))
        if done.returncode != 0:
            problems.append(f"exit code {done.returncode}")

        requests = llm.requests
        print(f"--- the model was asked {len(requests)} time(s)")
        for request in requests:  # what was new in each: the transcript, then the run's output
            print(json.dumps(request.get("messages", [])[-1], ensure_ascii=False)[:1500])
        if not requests:
            problems.append("the model was never asked (no transcript)")
        else:
            heard = str(requests[0]["messages"][-1].get("content", "")).lower()
            if not any(w in heard for w in ("six", "6")) or not any(w in heard for w in ("seven", "7")):
                problems.append(f"the transcript does not name six and seven: {heard!r}")
        if len(requests) < 2:
            problems.append("the run's output never reached the model")
        else:
            result = json.dumps(requests[1]["messages"][-1], ensure_ascii=False)
            if "42" not in result:
                problems.append(f"the Python run did not print 42: {result[:500]}")
            if args.require_pandas and "pandas: yes" not in result:
                problems.append(f"pandas did not import in the code's Python: {result[:500]}")

        if not reply.is_file():
            problems.append("no reply.wav")
        else:
            with wave.open(str(reply)) as clip:
                seconds = clip.getnframes() / clip.getframerate()
            print(f"reply.wav: {seconds:.1f} s of speech")
            if seconds < 0.5:
                problems.append(f"reply.wav holds only {seconds:.2f} s")

    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    if not problems:
        print("OK: heard, ran the code, answered aloud")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
