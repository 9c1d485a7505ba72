"""The interactive chat in a terminal: approvals, Ctrl-C, multi-line input, history,
resuming conversations, and rich rendering."""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import wait_until
from scripted_llm import ScriptedLLM, combine, endless, text, tool_call
from test_cli_harness import OI, OIRunner, finish, oi_fixture, quit_chat, screen  # noqa: F401  (the oi fixture)

ASK = r"Would you like to run this code\? \(y/n/e\)"


def tool_results(request: dict) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def test_y_runs_the_code_and_the_model_sees_its_output(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(combine(text("Let me look."), tool_call("shell", "echo ran-after-yes")), text("It ran."))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("run something")
    child.expect("Let me look.")
    child.expect("echo ran-after-yes")
    child.expect(ASK)
    child.sendline("y")
    child.expect("ran-after-yes\r\n")
    child.expect("It ran.")
    assert quit_chat(child) == 0
    assert tool_results(llm_server.requests[1]) == ["ran-after-yes\n"]
    assert "\x1b" not in screen(child)  # -pl: no colour or cursor movement, even in a terminal


def test_n_asks_why_and_the_model_is_told(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    marker = oi.tmp / "deleted-nothing"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("Understood, I left it alone."),
                   text("Next answer."))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("make the file")
    child.expect(ASK)
    child.sendline("n")
    child.expect(r"Reason \(optional, Enter to skip\): ")
    child.sendline("I do not want that file")
    child.expect("The user declined to run this code: I do not want that file")
    child.expect("Understood, I left it alone.")
    child.expect("> ")
    child.sendline("and now?")
    child.expect("Next answer.")
    assert quit_chat(child) == 0
    assert not marker.exists()
    assert tool_results(llm_server.requests[1]) == ["The user declined to run this code: I do not want that file"]


def test_e_opens_the_editor_and_runs_the_edited_code(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    editor = oi.tmp / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/original/edited-by-user/' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    llm_server.add(tool_call("shell", "echo original"), text("Saw the edit."))
    child = oi.spawn(env={"EDITOR": str(editor)})
    child.expect("> ")
    child.sendline("echo something")
    child.expect(ASK)
    child.sendline("e")
    child.expect("Running the edited code:")
    child.expect("edited-by-user\r\n")
    child.expect("Saw the edit.")
    assert quit_chat(child) == 0
    assert tool_results(llm_server.requests[1]) == ["edited-by-user\n"]
    sent_call = llm_server.requests[1]["messages"][-2]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(sent_call)["code"] == "echo edited-by-user"  # the history records what ran


def test_ctrl_c_stops_the_reply_and_the_next_message_works(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(endless("la "), text("Fine, shorter."))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("sing forever")
    child.expect("la la la ")
    child.sendintr()
    child.expect(r"\[stopped\]")
    child.expect("> ")
    child.sendline("sing less")
    child.expect("Fine, shorter.")
    assert quit_chat(child) == 0
    second = llm_server.requests[1]["messages"]
    assert second[-1] == {"role": "user", "content": "sing less"}
    assert second[-2]["role"] == "assistant" and second[-2]["content"].startswith("la la")  # kept what was said


def test_ctrl_c_stops_the_run_and_the_next_message_works(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo started-long-run; sleep 60; echo never-printed"))
    child = oi.spawn("-y")
    child.expect("> ")
    child.sendline("run long")
    child.expect("started-long-run\r\n")
    child.sendintr()
    child.expect(r"\[stopped\]")
    child.expect("> ")
    llm_server.add(tool_call("shell", "echo second-run"), text("Back to normal."))
    child.sendline("run short")
    child.expect("second-run")
    child.expect("Back to normal.")
    assert quit_chat(child) == 0
    assert screen(child).count("never-printed") == 1  # in the code, never in the output
    assert len(llm_server.requests) == 3  # the stopped turn did not call the model again
    results = tool_results(llm_server.requests[1])
    assert "started-long-run" in results[0] and "Stopped" in results[0]


def test_ctrl_c_at_the_approval_prompt_stops_the_turn(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    marker = oi.tmp / "must-not-exist"
    llm_server.add(tool_call("shell", f"touch {marker}"))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("touch it")
    child.expect(ASK)
    child.sendintr()
    child.expect(r"\[stopped\]")
    child.expect("> ")
    llm_server.add(text("Still here."))
    child.sendline("hello?")
    child.expect("Still here.")
    assert quit_chat(child) == 0
    assert not marker.exists()
    assert len(llm_server.requests) == 2


def test_ctrl_c_at_the_prompt_exits(oi: OIRunner) -> None:
    child = oi.spawn()
    child.expect("> ")
    child.sendintr()
    assert finish(child) == 0


def test_multi_line_input_between_fences(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("Got three lines."))
    child = oi.spawn("-ml")
    child.expect("> ")
    for line in ("```", "first line", "  second line, indented", "third line", "```"):
        child.sendline(line)
    child.expect("Got three lines.")
    assert quit_chat(child) == 0
    assert llm_server.requests[0]["messages"][-1]["content"] == "first line\n  second line, indented\nthird line"


def test_up_arrow_recalls_messages_not_answers(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo hi"), text("one"), text("two"))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("the first message")
    child.expect(ASK)
    child.sendline("y")
    child.expect("one")
    child.expect("> ")
    child.send("\x1b[A")  # up arrow: the last message, not the "y" answer
    child.send("\r")
    child.expect("two")
    assert quit_chat(child) == 0
    assert llm_server.requests[2]["messages"][-1]["content"] == "the first message"
    history = (oi.data_dir / "cli_history").read_text()
    assert "the first message" in history and "\ny\n" not in f"\n{history}"


def test_conversations_lists_and_resumes_the_one_picked(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    none = oi.spawn("--conversations")
    none.expect("No saved conversations yet.")
    assert finish(none) == 0

    llm_server.add(text("I will remember banana."))
    assert oi.run("remember the word banana").returncode == 0
    llm_server.add(text("Noted cherry."))
    assert oi.run("and the word cherry").returncode == 0

    child = oi.spawn("--conversations")
    child.expect("1\\. .*and the word cherry")
    child.expect("2\\. .*remember the word banana")
    child.expect(r"Resume which conversation\?")
    child.sendline("2")
    child.expect("I will remember banana.")  # the conversation is shown again
    child.expect("> ")
    llm_server.add(text("The word was banana."))
    child.sendline("what was the word?")
    child.expect("The word was banana.")
    assert quit_chat(child) == 0
    sent = llm_server.requests[-1]["messages"]
    assert [m["content"] for m in sent[1:]] == [
        "remember the word banana", "I will remember banana.", "what was the word?"]
    journals = list((oi.data_dir / "conversations").glob("*.jsonl"))
    assert len(journals) == 2  # the resumed conversation went on in its own file


PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000"
    "050001a5f645400000000049454e44ae426082")).decode()


def test_rich_rendering_in_a_terminal(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    code = ("import base64, time\nfrom IPython.display import Image, display\nprint('first output', flush=True)\n"
            f"time.sleep(1)\ndisplay(Image(data=base64.b64decode('{PNG}')))\nprint('last output')")
    llm_server.add(combine(text("Here is **bold** text."), tool_call("python", code)), text("Shown."))
    child = oi.spawn("-y", plain=False, timeout=60, env={"OI_VOICE_PREWARM": "1"})
    child.expect("> ")
    child.sendline("draw")
    child.expect(r"image saved to (\S+\.png)")
    saved = Path(child.match.group(1))
    child.expect("Shown.")
    assert quit_chat(child) == 0
    shown = screen(child)
    assert "\x1b[1m" in shown and "\x1b[38;5;" in shown  # bold markdown, highlighted code
    assert "\u2771" in shown  # ❱ marks the active line while it runs
    assert "output" in shown and "first output" in shown and "last output" in shown
    assert "\u256d" in shown  # panels
    assert saved.read_bytes().startswith(b"\x89PNG") and saved.is_relative_to(oi.data_dir)


def test_a_turn_started_right_after_a_stop_is_not_busy(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    """Stop, and type the next message at once: the engine has finished with the old turn."""
    llm_server.add(endless("na "))
    child = oi.spawn()
    child.expect("> ")
    child.sendline("go on")
    child.expect("na na ")
    llm_server.add(text("quick answer"))
    child.sendintr()
    child.sendline("next")  # typed ahead, before the prompt is back
    child.expect("quick answer")
    assert quit_chat(child) == 0
    assert "busy" not in screen(child).lower() and "already running" not in screen(child)


def test_ctrl_c_stops_python_and_the_kernel_keeps_its_state(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "import time\nkept = 7\nprint('py-started', flush=True)\ntime.sleep(60)"))
    child = oi.spawn("-y", env={"OI_VOICE_PREWARM": "1"}, timeout=60)
    child.expect("> ")
    child.sendline("run python for a long time")
    child.expect("py-started\r\n")
    child.sendintr()
    child.expect(r"\[stopped\]")
    llm_server.add(tool_call("python", "print(kept * 6)"), text("Still 42."))
    child.expect("> ")
    child.sendline("use the variable")
    child.expect("42\r\n")
    child.expect("Still 42.")
    assert quit_chat(child) == 0


def tmux_screen(sock: Path, session: str) -> str:
    """Everything the tmux pane shows, scrollback included, as a terminal renders it."""
    done = subprocess.run(["tmux", "-S", str(sock), "capture-pane", "-p", "-J", "-S", "-", "-t", session],
                          capture_output=True, text=True, timeout=30)
    return done.stdout


def test_the_terminal_shows_the_code_once(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    # tmux renders rich's live repaints the way a terminal does; what is left on the screen counts.
    if shutil.which("tmux") is None:
        pytest.skip("tmux is needed")
    code = "import time\nprint('shown' + '-once', flush=True)\ntime.sleep(0.3)\nprint('done')"
    llm_server.add(combine(text("Running it."), tool_call("python", code)), text("It ran."))
    sock, session = oi.tmp / "tmux.sock", "oi"
    script = oi.tmp / "run-oi.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in oi.environment().items())
    script.write_text(f"{exports}cd {shlex.quote(str(oi.tmp))}\nexec {' '.join(map(shlex.quote, OI))} -lsf\n")
    subprocess.run(["tmux", "-S", str(sock), "new-session", "-d", "-s", session, "-x", "120", "-y", "60",
                    f"bash {shlex.quote(str(script))}"], check=True, timeout=30)
    try:
        assert wait_until(lambda: "> " in tmux_screen(sock, session), timeout=60)
        subprocess.run(["tmux", "-S", str(sock), "send-keys", "-t", session, "run it", "Enter"], check=True)
        assert wait_until(lambda: "Would you like to run this code?" in tmux_screen(sock, session), timeout=60)
        subprocess.run(["tmux", "-S", str(sock), "send-keys", "-t", session, "y", "Enter"], check=True)
        assert wait_until(lambda: "It ran." in tmux_screen(sock, session), timeout=90), tmux_screen(sock, session)
        lines = tmux_screen(sock, session).splitlines()
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], capture_output=True, timeout=30)
    code_lines = [n for n, line in enumerate(lines) if "'shown' + '-once'" in line]
    assert len(code_lines) == 1, "\n".join(lines)  # the code once, not again when it runs
    prompt = next(n for n, line in enumerate(lines) if "Would you like to run this code?" in line)
    output = next(n for n, line in enumerate(lines) if "shown-once" in line and "'" not in line)
    answer = next(n for n, line in enumerate(lines) if "It ran." in line)
    assert code_lines[0] < prompt < output < answer  # code, then the prompt under it, then the run, then the reply
    assert any("done" in line for line in lines[output:answer])
