"""Magic commands in the terminal chat, typed as a user types them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pexpect
from scripted_llm import ScriptedLLM, text, tool_call
from test_cli_harness import OIRunner, oi_fixture, quit_chat, screen  # noqa: F401  (the oi fixture)

from oi_voice.llm.catalog import model_info

ASK = r"Would you like to run this code\? \(y/n/e\)"


def command(child: pexpect.spawn, line: str) -> None:
    """Wait for the prompt, then type ``line``."""
    child.expect("> ")
    child.sendline(line)


def test_help_unknown_verbose_and_shell(oi: OIRunner) -> None:
    child = oi.spawn()
    command(child, "%help")
    for name in ("%%", "%verbose", "%reset", "%undo", "%undo-run", "%tokens", "%auto_run", "%save_message",
                 "%load_message", "%markdown", "%jupyter", "%info", "%help"):
        child.expect(re.escape(name))
    command(child, "%frobnicate now")
    child.expect(r"Unknown command %frobnicate\. .*%help")
    command(child, "%undu")
    child.expect("Did you mean %undo")
    command(child, "%verbose true")
    child.expect("Verbose mode on")
    command(child, "%verbose false")
    child.expect("Verbose mode off")
    command(child, "%verbose maybe")
    child.expect("takes true or false")
    command(child, "%% echo from-the-shell-$((6*7))")
    child.expect("from-the-shell-42")
    assert quit_chat(child) == 0
    assert oi.server.requests == []  # none of it went to the model


def test_auto_run_toggles_approval(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo first-auto"), text("one"), tool_call("shell", "echo then-ask"),
                   text("two"))
    child = oi.spawn()
    command(child, "%auto_run true")
    child.expect("Warning: auto_run is on")
    command(child, "go")
    child.expect("first-auto\r\n")
    child.expect("one")
    command(child, "%auto_run false")
    child.expect("you will be asked")
    command(child, "go again")
    child.expect(ASK)
    child.sendline("y")
    child.expect("then-ask\r\n")
    assert quit_chat(child) == 0
    assert "(y/n/e)" not in screen(child).split("%auto_run false")[0]


def test_tokens_counts_the_conversation_and_prices_known_models(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    child = oi.spawn()
    command(child, "%tokens")
    child.expect(r"context: (\d+) \(estimated cost: unknown\)")
    empty = int(child.match.group(1))
    child.expect("no price")
    llm_server.add(text("A reply of some length. " * 20))
    command(child, "tell me something long")
    child.expect("A reply of some length.")
    command(child, "%tokens and a prompt")
    child.expect(r"context: (\d+) ")
    after = int(child.match.group(1))
    child.expect(r"Tokens in this prompt: (\d+)")
    prompt = int(child.match.group(1))
    child.expect(r"Total for the next request with this prompt: (\d+)")
    assert int(child.match.group(1)) == after + prompt
    assert quit_chat(child) == 0
    assert empty > 500  # the system message and the tool are part of every request
    assert after > empty + 100

    price = model_info("gpt-4o")
    assert price is not None and price.input_cost_per_token
    priced = oi.spawn("-m", "gpt-4o")
    command(priced, "%tokens")
    priced.expect(r"context: (\d+) \(estimated cost: \$([0-9.]+)\)")
    tokens, cost = int(priced.match.group(1)), float(priced.match.group(2))
    assert abs(cost - tokens * price.input_cost_per_token) < 1e-6
    assert quit_chat(priced) == 0


def test_save_reset_load_and_undo(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("Answer one."), text("Answer two."))
    child = oi.spawn()
    command(child, "question one")
    child.expect("Answer one.")
    command(child, "question two")
    child.expect("Answer two.")
    command(child, "%save_message saved")
    child.expect(r"Messages saved to \S*saved\.json")
    saved = json.loads((oi.tmp / "saved.json").read_text())
    assert [m["content"] for m in saved] == ["question one", "Answer one.", "question two", "Answer two."]

    command(child, "%reset")
    child.expect("Reset")
    llm_server.add(text("Fresh start."))
    command(child, "after reset")
    child.expect("Fresh start.")
    assert [m["content"] for m in llm_server.requests[-1]["messages"][1:]] == ["after reset"]

    command(child, "%load_message saved.json")
    child.expect("Loaded 4 messages")
    command(child, "%undo")
    child.expect("Removed user message: question two")
    child.expect("Removed assistant message: Answer two.")
    llm_server.add(text("Undone."))
    command(child, "question three")
    child.expect("Undone.")
    assert [m["content"] for m in llm_server.requests[-1]["messages"][1:]] == [
        "question one", "Answer one.", "question three"]
    command(child, "%load_message missing.json")
    child.expect("Could not load messages")
    assert quit_chat(child) == 0


def test_markdown_and_jupyter_exports(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo exported-output"), text("All **done**."))
    child = oi.spawn("-y")
    command(child, "make something to export")
    child.expect("All")
    command(child, "%markdown chat.md")
    child.expect(r"Markdown exported to \S*chat\.md")
    command(child, "%jupyter chat.ipynb")
    child.expect(r"Jupyter notebook exported to \S*chat\.ipynb")
    command(child, "%jupyter")  # no path: the Downloads folder
    child.expect(r"Jupyter notebook exported to (\S*\.ipynb)")
    default_path = child.match.group(1)
    assert quit_chat(child) == 0

    md = (oi.tmp / "chat.md").read_text()
    assert "> make something to export" in md
    assert "```shell\necho exported-output\n```" in md and "```\nexported-output\n```" in md
    assert "All **done**." in md

    notebook = json.loads((oi.tmp / "chat.ipynb").read_text())
    assert notebook["nbformat"] == 4 and notebook["metadata"]["kernelspec"]["name"] == "python3"
    kinds = [c["cell_type"] for c in notebook["cells"]]
    assert kinds == ["markdown", "code", "markdown"]
    code = notebook["cells"][1]
    assert "".join(code["source"]) == "%%bash\necho exported-output"
    assert code["outputs"] == [{"output_type": "stream", "name": "stdout", "text": ["exported-output\n"]}]
    assert default_path.startswith(str(oi.tmp / "home" / "Downloads"))


def test_undo_run_puts_the_folder_back(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    work = oi.tmp / "work"
    work.mkdir()
    (work / "notes.txt").write_text("precious\n")
    llm_server.add(tool_call("shell", "rm notes.txt && echo gone"), text("Deleted."))
    child = oi.spawn(cwd=work)
    command(child, "%undo-run")
    child.expect("There is no run to undo")
    command(child, "delete my notes")
    child.expect("deletes files")  # the risk, in words
    child.expect(ASK)
    child.sendline("y")
    child.expect("Deleted.")
    assert not (work / "notes.txt").exists()
    command(child, "%undo-run")
    child.expect(r"Undid the run of .*1 file\(s\) put back")
    assert (work / "notes.txt").read_text() == "precious\n"
    assert quit_chat(child) == 0


def test_reset_python_says_why_without_an_environment_and_remakes_one(oi: OIRunner, wheelhouse: Path,
                                                                     tmp_path: Path) -> None:
    child = oi.spawn("--python-env", "app")
    command(child, "%info")
    child.expect(r"computer\.python_env: app -> ")
    command(child, "%reset_python")
    child.expect("no environment of its own to reset")
    assert quit_chat(child) == 0
    # An environment of its own: the start-up warm-up begins making it, the reset makes it anew.
    folder = tmp_path / "python-env"
    child = oi.spawn("--python-env", str(folder), env={"OI_VOICE_WHEELHOUSE": str(wheelhouse)}, timeout=300)
    command(child, "%reset_python")
    child.expect(re.escape(f"Resetting the Python environment {folder}"))
    child.expect(re.escape(f"The Python environment was made again: {folder}"))
    assert (folder / ".oi-voice-ready").is_file()
    command(child, "%% python -c 'import pandas, sys; print(\"in\", sys.prefix)'")
    child.expect(re.escape(f"in {folder}"))
    assert quit_chat(child) == 0
