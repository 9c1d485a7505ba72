"""A killed process loses at most the message in flight, and the conversation resumes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
from helpers import process_gone, wait_until
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.history import list_conversations, load

ROOT = Path(__file__).resolve().parents[1]




CHILD = """
from oi_voice import interpreter
interpreter.auto_run = True
interpreter.llm.supports_functions = True
interpreter.chat("count slowly", display=False)
"""


def test_kill_mid_run_keeps_complete_messages_and_resumes(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    llm_server.add(tool_call("python", "import time\nprint('started', flush=True)\ntime.sleep(120)"))
    env = {**os.environ, "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, start_new_session=True)
    try:
        def code_journaled() -> bool:
            infos = list_conversations(tmp_path / "conversations")
            return bool(infos) and any(m["type"] == "code" for m in load(infos[0].path))

        assert wait_until(code_journaled, timeout=30)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the kernel too: nothing may clean up
        child.wait(10)
    path = list_conversations(tmp_path / "conversations")[0].path
    saved = load(path)
    assert [(m["role"], m["type"]) for m in saved] == [("user", "message"), ("assistant", "code")]

    resumed = Interpreter()
    try:
        resumed.llm.api_base, resumed.llm.supports_functions = llm_server.url, True
        resumed.load_conversation(path)
        llm_server.add(text("Picking up where we left off."))
        resumed.chat("are you still there?", display=False)
        sent = llm_server.requests[-1]["messages"]
        # The interrupted call is answered, so the model sees a well-formed history.
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "user"]
        assert "not run" in sent[3]["content"]
        resumed.flush()
        assert load(path)[-1]["content"] == "Picking up where we left off."
    finally:
        resumed.close()


INTERACTIVE = "from oi_voice import interpreter; interpreter.llm.supports_functions = True; interpreter.chat()"


def test_interactive_chat_in_a_terminal(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """`interpreter.chat()` with no message is a terminal chat that asks before running code."""
    llm_server.add(tool_call("python", "print(6*7)"), text("The answer is 42."))
    env = {**os.environ, "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT), "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-c", INTERACTIVE], env=env, encoding="utf-8", timeout=60,
                          dimensions=(40, 120))
    try:
        child.expect("> ")
        child.sendline("what is 6 times 7?")
        child.expect(r"Would you like to run this code\? \(y/n/e\)")
        child.sendline("y")
        child.expect("42")
        child.expect("The answer is 42.")
        child.expect("> ")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert llm_server.requests[1]["messages"][-1]["content"] == "42\n"


DISPLAYED = """
from oi_voice import interpreter
interpreter.llm.supports_functions = True
added = interpreter.chat("what is 6*7?")
print("ADDED", [(m["role"], m["type"]) for m in added])
"""


def test_chat_renders_in_the_terminal_and_returns_new_messages(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    llm_server.add(tool_call("python", "print(6*7)"), text("It is **42**."))
    env = {**os.environ, "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    child = pexpect.spawn(sys.executable, ["-c", DISPLAYED], env=env, encoding="utf-8", timeout=60,
                          dimensions=(40, 120))
    screen = io.StringIO()
    child.logfile_read = screen
    try:
        child.expect(r"\(y/n/e\)")
        child.sendline("n")
        child.expect("Reason")
        child.sendline("not now")
        child.expect(r"ADDED \[\('user', 'message'\), \('assistant', 'code'\), \('computer', 'console'\), "
                     r"\('assistant', 'message'\)\]")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert "\x1b[" in screen.getvalue()  # a tty gets rich's colours
    tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert tool["content"] == "The user declined to run this code: not now"


ORPHAN = """
import os
from oi_voice import Interpreter
interp = Interpreter()
for chunk in interp.computer.run("javascript", "console.log(process.pid); while (true) {}", stream=True):
    if chunk.get("format") == "output":
        print("PID", chunk["content"].strip(), flush=True)
        os._exit(0)  # die without any clean-up
"""


def test_a_killed_oi_voice_leaves_no_busy_child(tmp_path: Path) -> None:
    """Code stuck in a busy loop never reads EOF: the child must die with its parent anyway."""
    env = {**os.environ, "OI_VOICE_PREWARM": "0", "OI_VOICE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", ORPHAN], env=env, capture_output=True, text=True, timeout=60)
    pid = int(result.stdout.split("PID")[1].split()[0])
    assert wait_until(lambda: process_gone(pid), timeout=10)
