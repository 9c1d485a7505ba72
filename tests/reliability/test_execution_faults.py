"""Execution faults, through the public API with ``auto_run``: code that kills its
language, floods it, waits for input, or breaks its surroundings. Each run ends with a
result the model can read, ``messages`` stay whole, and the next run works.

Covered elsewhere and not repeated here: a kernel killed between runs, code that ignores
SIGINT, interrupted floods leaking into the next run (tests/test_computer_python.py),
shell background jobs killed on interrupt, a deleted cwd in the shell, 20 MB from the
shell, invalid bytes in shell/ruby output (tests/test_computer_process.py).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import process_gone, wait_until
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from reliability.common import journal, problems


def run_code(interp: Interpreter, llm: ScriptedLLM, language: str, code: str, *,
             stop_when: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """One model turn that runs ``code``; returns the console result the model got, and
    the chunks. With ``stop_when``, the user stops the run once that text was printed."""
    # A stopped run ends the turn: the model is not asked again.
    llm.add(tool_call(language, code), *([] if stop_when else [text("Noted.")]))
    chunks: list[dict[str, Any]] = []
    shown = ""
    stopped = False
    for chunk in interp.chat(f"run some {language}", display=False, stream=True):
        chunks.append(chunk)
        if chunk["type"] == "console" and chunk.get("format") == "output":
            shown += chunk["content"]
            if stop_when is not None and stop_when in shown and not stopped:
                stopped = True
                interp.stop()
    assert stop_when is None or stopped, shown[-500:]
    console = [m for m in interp.messages if m["type"] == "console"][-1]["content"]
    return console, chunks


def still_works(interp: Interpreter, llm: ScriptedLLM, language: str = "python") -> None:
    """The language runs the next code, and the conversation is whole and journaled."""
    code = "print('still', 'alive')" if language == "python" else "echo still alive"
    console, _ = run_code(interp, llm, language, code)
    assert console.strip() == "still alive", console[-500:]
    assert problems(interp.messages) == []
    assert journal(interp) == interp.messages


def pids_in(text_: str) -> list[int]:
    """The numbers printed on lines of their own."""
    return [int(line) for line in text_.split() if re.fullmatch(r"[0-9]+", line)]


@pytest.mark.fault("execution", "os._exit in Python")
def test_os_exit(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    # (What it printed just before may be lost: os._exit does not wait for zmq to send it.)
    console, _ = run_code(interp, llm_server, "python", "import os\nprint('leaving', flush=True)\nos._exit(3)")
    assert "died" in console.lower() and "restarted" in console.lower()
    assert "exit code 3" in console
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "segfault (ctypes) in Python")
def test_segfault(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "python", "import ctypes\nctypes.string_at(0)")
    assert "died" in console.lower() and "SIGSEGV" in console, console
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "infinite loop, then stop (Python)")
def test_python_infinite_loop_then_stop(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    run_code(interp, llm_server, "python", "kept = 41")
    console, _ = run_code(interp, llm_server, "python", "print('looping', flush=True)\nwhile True:\n    pass",
                          stop_when="looping")
    assert "Stopped by the user" in console
    console, _ = run_code(interp, llm_server, "python", "print(kept + 1)")
    assert console.strip() == "42"  # an interrupt, not a restart: the state is kept
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "infinite loop, then stop (shell)")
def test_shell_infinite_loop_then_stop(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "shell", "echo looping; while true; do :; done", stop_when="looping")
    assert "Stopped by the user" in console
    still_works(interp, llm_server, "shell")


FORK_SLEEPERS = """\
import os, sys, time
for _ in range(50):
    sys.stdout.flush()  # or each child inherits, and may send, what is still buffered
    pid = os.fork()
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    print(pid)
print('spawned', flush=True)
time.sleep(300)
"""


@pytest.mark.fault("execution", "50 forked sleepers, then stop (Python)")
def test_python_forked_sleepers_are_gone_after_stop(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "python", FORK_SLEEPERS, stop_when="spawned")
    pids = set(pids_in(console))
    assert len(pids) == 50 and "Stopped by the user" in console
    assert wait_until(lambda: all(process_gone(p) for p in pids), timeout=15), \
        [p for p in pids if not process_gone(p)]
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "50 forked sleepers, then stop (shell)")
def test_shell_forked_sleepers_are_gone_after_stop(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    code = "for i in $(seq 50); do sleep 300 & echo $!; done; echo spawned; wait"
    console, _ = run_code(interp, llm_server, "shell", code, stop_when="spawned")
    pids = pids_in(console)
    assert len(pids) == 50
    assert wait_until(lambda: all(process_gone(p) for p in pids), timeout=15), \
        [p for p in pids if not process_gone(p)]
    still_works(interp, llm_server, "shell")


@pytest.mark.fault("execution", "100 MB of output (Python)")
def test_python_100_mb_of_output(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    code = "import sys\nline = 'x' * 999 + '\\n'\nfor _ in range(100_000):\n    sys.stdout.write(line)\nprint('END')"
    console, chunks = run_code(interp, llm_server, "python", code)
    assert console.rstrip().endswith("END") and len(console) < 10_000  # head and tail for the model
    saved = Path(console.split("is saved at ")[1].split("]")[0])
    assert saved.stat().st_size >= 100_000_000
    shown = sum(len(c["content"]) for c in chunks if c["type"] == "console" and c.get("format") == "output")
    assert shown < 1_000_000  # the stream to the front end is capped too
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "100 MB of output (shell)")
def test_shell_100_mb_of_output(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "shell", "yes | head -c 100000000; echo END")
    assert console.rstrip().endswith("END") and len(console) < 10_000
    still_works(interp, llm_server, "shell")


@pytest.mark.fault("execution", "binary output (Python)")
def test_python_binary_output(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    code = "import os, sys\nos.write(1, bytes(range(256)) * 4 + b'\\xff\\xfe\\n')\nprint('END')"
    console, _ = run_code(interp, llm_server, "python", code)
    assert console.rstrip().endswith("END")
    json.dumps(console)
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "binary output (shell)")
def test_shell_binary_output(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "shell", "head -c 65536 /dev/urandom; echo; echo END")
    assert console.rstrip().endswith("END")
    json.dumps(console)
    still_works(interp, llm_server, "shell")


@pytest.mark.fault("execution", "input() wait")
def test_input_wait(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    console, _ = run_code(interp, llm_server, "python", "name = input('Your name? ')\nprint('hello', name)")
    assert "input" in console and "hello" not in console
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "a cell that closes stdout (Python)")
def test_python_cell_that_closes_stdout(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    run_code(interp, llm_server, "python", "import sys\nsys.stdout.close()\nsys.stderr.close()")
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "a command that closes stdout (shell)")
def test_shell_command_that_closes_stdout(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    run_code(interp, llm_server, "shell", "exec 1>&- 2>&-")
    still_works(interp, llm_server, "shell")


@pytest.mark.fault("execution", "deleting the working directory (Python)")
def test_python_deletes_its_working_directory(interp: Interpreter, llm_server: ScriptedLLM,
                                              tmp_path: Path) -> None:
    doomed = tmp_path / "doomed"
    doomed.mkdir()
    code = f"import os, shutil\nos.chdir({str(doomed)!r})\nshutil.rmtree({str(doomed)!r})\nprint('deleted')"
    console, _ = run_code(interp, llm_server, "python", code)
    assert "deleted" in console
    still_works(interp, llm_server)


@pytest.mark.fault("execution", "deleting oi_voice's own working directory")
def test_deleting_the_process_working_directory(interp: Interpreter, llm_server: ScriptedLLM,
                                                tmp_path: Path) -> None:
    doomed = tmp_path / "project"
    doomed.mkdir()
    home = os.getcwd()
    os.chdir(doomed)
    try:
        run_code(interp, llm_server, "shell", f"rm -rf {str(doomed)!r}; echo deleted")
        assert not doomed.exists()
        still_works(interp, llm_server, "shell")
        still_works(interp, llm_server)
    finally:
        os.chdir(home)


@pytest.mark.fault("execution", "runaway allocation (memory cap)")
def test_runaway_allocation_is_a_memory_error(llm_server: ScriptedLLM, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_KERNEL_MEMORY", "600M")
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path))
    interp = Interpreter(auto_run=True)
    try:
        interp.llm.model, interp.llm.api_base, interp.llm.supports_functions = "m", llm_server.url, True
        interp.llm.transport = "openai"
        run_code(interp, llm_server, "python", "kept = 'state'")
        grow = "hog = []\nwhile True:\n    hog.append(bytearray(10**7))"
        console, _ = run_code(interp, llm_server, "python", grow)
        assert "MemoryError" in console, console[-500:]
        console, _ = run_code(interp, llm_server, "python", "print(len(hog) < 70, kept)\ndel hog")
        assert console.strip() == "True state"  # the same kernel, alive, with its state
        still_works(interp, llm_server)
    finally:
        interp.close()
