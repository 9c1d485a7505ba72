"""Tool calls a model prints instead of making them, through the public API.

The shapes are those of Open Interpreter's ``test_hallucinations`` (and what small local
models print): ``functions.execute({...})`` as message text, with tools offered or in fence
mode; a code block whose code is such a call or the JSON of one; JavaScript-style unquoted
keys. Each is proposed like any code block: it waits for approval, and runs what it asks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.approval import Decision


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return point_at(shared, llm_server.url)


def call(language: str, code: str, *, pretty: bool = False) -> str:
    """``functions.execute({...})`` as a model prints it."""
    return f"functions.execute({json.dumps({'language': language, 'code': code}, indent=4 if pretty else None)})"


def run_approving(interp: Interpreter, message: str) -> tuple[list[dict], list[dict]]:
    """Chat, approving each confirmation; (confirmation contents, console output messages)."""
    asked: list[dict] = []
    for chunk in interp.chat(message, display=False, stream=True):
        if chunk["type"] == "confirmation":
            asked.append(chunk["content"])
            assert interp.approve(chunk["content"]["id"])
    outputs = [m for m in interp.messages if m["type"] == "console"]
    return asked, outputs


@pytest.mark.parametrize("functions", [True, False], ids=["tools offered", "fence mode"])
def test_printed_functions_execute_is_proposed_and_runs(interp: Interpreter, llm_server: ScriptedLLM,
                                                        functions: bool) -> None:
    interp.llm.supports_functions = functions
    reply = "I'll compute it.\n" + call("python", "print(6 * 7)", pretty=True) + "\n"
    llm_server.add(text(reply, chunks=7), text("It is 42."))
    asked, outputs = run_approving(interp, "what is 6*7?")
    assert [(a["format"], a["content"]) for a in asked] == [("python", "print(6 * 7)")]
    assert [o["content"] for o in outputs] == ["42\n"]
    code = [m for m in interp.messages if m["type"] == "code"]
    assert [(m["format"], m["content"]) for m in code] == [("python", "print(6 * 7)")]
    # The wrapper is not shown to the user as words of the reply.
    said = "".join(m["content"] for m in interp.messages if m["type"] == "message" and m["role"] == "assistant")
    assert "functions" not in said and "It is 42." in said


def test_a_printed_call_is_not_run_without_approval(interp: Interpreter, llm_server: ScriptedLLM,
                                                     tmp_path: Path) -> None:
    interp.llm.supports_functions = False
    marker = tmp_path / "ran"
    llm_server.add(text(call("python", f"open({str(marker)!r}, 'w').write('x')")), text("Not run, then."))
    interp.approver = lambda request: Decision.decline("no", source="api")
    try:
        interp.chat("make the file", display=False)
    finally:
        interp.approver = None
    assert not marker.exists()
    assert any(m["type"] == "console" and "declined" in m["content"] for m in interp.messages)


@pytest.mark.parametrize("block", [
    "```python\n" + call("python", "print(10 + 12)", pretty=True) + "\n```\n",
    '```python\n{\n    "language": "python",\n    "code": "print(10 + 12)"\n}\n```\n',
    "```python\n{language: \"python\", code: \"print(10 + 12)\" }\n```\n",
    "```shell\n" + call("python", "print(10 + 12)") + "\n```\n",
], ids=["functions.execute in a fence", "JSON in a fence", "unquoted keys", "another language's fence"])
def test_a_code_block_holding_a_call_runs_the_call(interp: Interpreter, llm_server: ScriptedLLM,
                                                   block: str) -> None:
    interp.llm.supports_functions = False
    llm_server.add(text("Here.\n" + block, chunks=5), text("22."))
    asked, outputs = run_approving(interp, "add 10 and 12")
    assert [(a["format"], a["content"]) for a in asked] == [("python", "print(10 + 12)")]
    assert [o["content"] for o in outputs] == ["22\n"]
    # The model is told about the code that ran, not the wrapper.
    assert "print(10 + 12)" in llm_server.requests[1]["messages"][-2]["content"]
    assert "functions.execute" not in llm_server.requests[1]["messages"][-2]["content"]


def test_a_native_call_wrapping_a_printed_call(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", call("python", "print('inner')")), text("Done."))
    asked, outputs = run_approving(interp, "say inner")
    assert [(a["format"], a["content"]) for a in asked] == [("python", "print('inner')")]
    assert [o["content"] for o in outputs] == ["inner\n"]


def test_prose_about_functions_stays_text(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.llm.supports_functions = False
    prose = "functions are values in Python.\nexecute(plan) is what I would call it.\nfunctions.sort(x) sorts."
    llm_server.add(text(prose, chunks=9))
    interp.chat("explain", display=False)
    assert [m["content"] for m in interp.messages if m["role"] == "assistant"] == [prose]
