"""Persistence: a process killed with SIGKILL at random points of 200 scripted turns
keeps every message that was complete before the kill, and the conversation resumes.

Also here: a line torn by a kill mid-write never swallows the next message. Covered
elsewhere: a kill mid-run (tests/test_engine_process.py), journal round trip and
listing (tests/test_engine.py::test_journal_records_every_message_and_resumes).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scripted_llm import Reply, ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.history import Journal, list_conversations, load
from reliability.common import lost, problems
from reliability.report import Ledger

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("journal_driver.py")
TURNS = 200
TRIALS = 20


def script(rng: random.Random) -> tuple[list[Reply], int]:
    """The replies of 200 turns (text, runs of shell code, a few long replies), and the
    number of messages they make."""
    replies: list[Reply] = []
    messages = 0
    for i in range(TURNS):
        kind = rng.random()
        if kind < 0.15:
            replies += [tool_call("shell", f"echo turn {i}"), text(f"Turn {i} printed its number.")]
            messages += 4  # user, code, console, answer
        elif kind < 0.2:
            replies.append(text(f"A long reply {i}: " + "lorem ipsum " * 800, chunks=10))
            messages += 2
        else:
            replies.append(text(f"Reply {i}: " + "words " * rng.randint(1, 50), chunks=rng.randint(1, 6)))
            messages += 2
    return replies, messages


def kill_at_random(llm: ScriptedLLM, data: Path, rng: random.Random) -> tuple[list[dict[str, Any]], bool]:
    """Start the driver, SIGKILL its process group after a random number of reported
    messages; return the messages it reported, and whether it had finished first."""
    replies, total = script(rng)
    llm.add(*replies)
    env = {**os.environ, "OI_VOICE_API_BASE": llm.url, "OI_VOICE_DATA_DIR": str(data), "PYTHONPATH": str(ROOT),
           "OI_VOICE_PREWARM": "0"}
    child = subprocess.Popen([sys.executable, str(DRIVER), str(TURNS)], env=env, stdout=subprocess.PIPE,
                             start_new_session=True)
    assert child.stdout is not None
    kill_after = rng.randint(0, total)
    reported: list[dict[str, Any]] = []
    finished = False
    try:
        while len(reported) < kill_after:
            line = child.stdout.readline()
            if not line or line == b"DONE\n":
                finished = True
                break
            reported.append(json.loads(line))
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the shell it started too: nothing may clean up
        # What it printed before the kill was complete before the kill.
        for line in child.stdout.read().splitlines():
            if line == b"DONE":
                finished = True
            elif line:
                reported.append(json.loads(line))
        child.wait(10)
    return reported, finished


def test_kill_9_at_random_points_loses_nothing_and_resumes(tmp_path: Path, ledger: Ledger) -> None:
    seed = int(os.environ.get("OI_VOICE_RELIABILITY_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    failures: list[str] = []
    for trial in range(TRIALS):
        data = tmp_path / f"trial{trial}"
        lost_here = 0
        try:
            with ScriptedLLM() as llm:
                reported, finished = kill_at_random(llm, data, rng)
                infos = list_conversations(data / "conversations")
                if not reported and not infos:
                    ledger.record("persistence", "kill -9 during 200 scripted turns", survived=True)
                    continue  # killed before the first message
                path = infos[0].path
                saved = load(path)
                lost_here = lost(reported, saved)
                assert saved[:len(reported)] == reported, f"seed {seed} trial {trial}: journal differs"
                if finished:
                    assert saved == reported
                # Whole, except that the last code may have been cut off before its result.
                assert problems(saved[:-1] if saved[-1]["type"] == "code" else saved) == []

                resumed = Interpreter()
                try:
                    resumed.llm.api_base, resumed.llm.supports_functions = llm.url, True
                    resumed.llm.model, resumed.llm.transport = "scripted-model", "openai"
                    resumed.load_conversation(path)
                    assert resumed.messages[:len(saved)] == saved
                    assert problems(resumed.messages) == []
                    llm.clear()  # what the killed driver left unasked
                    llm.add(text("Resumed."))
                    resumed.chat("where were we?", display=False)
                    assert resumed.messages[-1]["content"] == "Resumed."
                    sent = llm.requests[-1]["messages"]
                    assert [m["content"] for m in sent if m["role"] == "user"][-1] == "where were we?"
                    resumed.flush()
                    assert load(path) == resumed.messages
                finally:
                    resumed.close()
            ledger.record("persistence", "kill -9 during 200 scripted turns", survived=True, lost=lost_here)
        except AssertionError as exc:
            ledger.record("persistence", "kill -9 during 200 scripted turns", survived=False, lost=lost_here)
            failures.append(f"trial {trial}: {exc}")
    assert not failures, f"seed {seed}: " + "\n".join(failures)


@pytest.mark.fault("persistence", "a line torn by a kill mid-write")
def test_a_torn_last_line_never_swallows_the_next_message(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    first = {"role": "user", "type": "message", "content": "complete"}
    journal = Journal(path)
    journal.append(first)
    journal.close()
    with open(path, "ab") as f:
        f.write(b'{"role": "assistant", "type": "message", "content": "torn in the mid')  # killed here
    assert load(path) == [first]

    resumed = Journal(path)
    second = {"role": "user", "type": "message", "content": "after the restart"}
    resumed.append(second)
    resumed.close()
    assert load(path) == [first, second]


@pytest.mark.fault("persistence", "kernel and shell folders left by a kill -9")
def test_folders_of_a_killed_process_are_removed_by_the_next_one() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom oi_voice.computer._private import private_dir\n"
         "print(private_dir('oi-voice-kernel-'), private_dir('oi-voice-shell-'), flush=True)\ntime.sleep(300)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout is not None
    left = [Path(p) for p in child.stdout.readline().split()]
    child.kill()  # SIGKILL: nothing cleans up
    child.wait(10)
    assert all(p.is_dir() for p in left)
    from oi_voice.computer._private import private_dir

    mine = [Path(private_dir("oi-voice-kernel-")), Path(private_dir("oi-voice-shell-"))]
    try:
        assert not any(p.exists() for p in left), left
        again = Path(private_dir("oi-voice-kernel-"))
        assert mine[0].is_dir()  # a live owner's folder is never touched
        shutil.rmtree(again)
    finally:
        for p in mine:
            shutil.rmtree(p, ignore_errors=True)


@pytest.mark.fault("persistence", "resuming a reply cut off between two tool calls")
def test_resumed_codes_without_results_are_answered(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    saved = [{"role": "user", "type": "message", "content": "two things"},
             {"role": "assistant", "type": "code", "format": "python", "content": "print(1)"},
             {"role": "assistant", "type": "code", "format": "shell", "content": "echo 2"},
             {"role": "computer", "type": "console", "format": "output", "content": "1\n"}]
    path.write_text("".join(json.dumps(m) + "\n" for m in saved))
    resumed = Interpreter()
    try:
        resumed.load_conversation(path)
        assert resumed.messages[:4] == saved and len(resumed.messages) == 5
        assert "not run" in resumed.messages[4]["content"]
        assert problems(resumed.messages) == []
        resumed.flush()
        assert load(path) == resumed.messages
    finally:
        resumed.close()
