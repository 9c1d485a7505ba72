"""The engine through the public API, against the scripted model server and a real kernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, combine, cut, endless, raw_tool_call, refuse, status, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.approval import Decision
from oi_voice.core.history import list_conversations, load


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return point_at(shared, llm_server.url)


def stream(interp: Interpreter, message: str, answer: Decision | None = None) -> list[dict]:
    """Chat with display=False, stream=True; answer every confirmation with ``answer``."""
    chunks = []
    for chunk in interp.chat(message, display=False, stream=True):
        chunks.append(chunk)
        if chunk["type"] == "confirmation" and answer is not None:
            cid = chunk["content"]["id"]
            if answer.action == "run":
                assert interp.approve(cid, answer.code)
            else:
                assert interp.decline(cid, answer.reason)
    return chunks


def tool_messages(request: dict) -> list[dict]:
    return [m for m in request["messages"] if m["role"] == "tool"]


def test_stream_has_open_interpreter_shape(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    llm_server.add(combine(text("Let me check."), tool_call("python", "print(6*7)")), text("It is 42."))
    chunks = stream(interp, "what is 6*7?", Decision.run())
    shapes: list[tuple] = []
    for c in chunks:
        shape = (c["role"], c["type"], c.get("format"), "start" in c, "end" in c)
        if c.get("format") != "active_line" and (not shapes or shapes[-1] != shape):
            shapes.append(shape)  # runs of content chunks count once
    assert shapes[:8] == [
        ("assistant", "message", None, True, False),
        ("assistant", "message", None, False, False),
        ("assistant", "message", None, False, True),
        ("assistant", "code", "python", True, False),
        ("assistant", "code", "python", False, False),
        ("assistant", "code", "python", False, True),
        ("computer", "confirmation", "execution", False, False),
        ("computer", "console", None, True, False),
    ]
    assert "".join(c["content"] for c in chunks if c["type"] == "code" and "content" in c) == "print(6*7)"
    outputs = [c["content"] for c in chunks if c["type"] == "console" and c.get("format") == "output"]
    assert "".join(outputs) == "42\n"
    lines = [c["content"] for c in chunks if c.get("format") == "active_line"]
    assert lines[0] == 1 and lines[-1] is None
    confirmation = next(c for c in chunks if c["type"] == "confirmation")["content"]
    assert confirmation["content"] == "print(6*7)" and confirmation["risk"]["level"] == "low"
    assert [(m["role"], m["type"]) for m in interp.messages] == [
        ("user", "message"), ("assistant", "message"), ("assistant", "code"),
        ("computer", "console"), ("assistant", "message")]
    assert interp.messages[3]["content"] == "42\n"
    # What the model was sent on the second step: the tool call and its result.
    second = llm_server.requests[1]
    assert second["tools"][0]["function"]["name"] == "execute"
    assert second["messages"][0]["role"] == "system"
    assert tool_messages(second)[0]["content"] == "42\n"
    assert llm_server.headers[0]["Authorization"] == "Bearer sk-test"


def test_chat_without_approval_runs_nothing(interp: Interpreter, llm_server: ScriptedLLM,
                                            tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("python", f"open({str(marker)!r}, 'w').write('x')"), text("Okay, I won't."))
    added = interp.chat("make the file", display=False)
    assert not marker.exists()
    assert added[-1] == {"role": "assistant", "type": "message", "content": "Okay, I won't."}
    told = tool_messages(llm_server.requests[1])[0]["content"]
    assert told.startswith("The user declined to run this code")


def test_consumer_that_moves_on_has_declined(interp: Interpreter, llm_server: ScriptedLLM,
                                             tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("Declined, fine."))
    stream(interp, "touch it", answer=None)
    assert not marker.exists()
    assert "declined" in tool_messages(llm_server.requests[1])[0]["content"]


def test_decline_with_reason_reaches_the_model_and_turn_continues(interp: Interpreter,
                                                                  llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "rm -rf build"), text("Understood, keeping build."))
    chunks = stream(interp, "clean up", Decision.decline("I need the build folder"))
    assert tool_messages(llm_server.requests[1])[0]["content"] == (
        "The user declined to run this code: I need the build folder")
    assert interp.messages[-1]["content"] == "Understood, keeping build."
    confirmation = next(c for c in chunks if c["type"] == "confirmation")["content"]
    assert confirmation["risk"]["level"] == "high"


def test_edited_code_runs_and_is_recorded(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print('original')"), text("done"))
    stream(interp, "print something", Decision.run("print('edited')"))
    code = next(m for m in interp.messages if m["type"] == "code")
    output = next(m for m in interp.messages if m["type"] == "console")
    assert code["content"] == "print('edited')" and output["content"] == "edited\n"


def test_approver_function_answers(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    seen = []

    def approver(request):  # type: ignore[no-untyped-def]
        seen.append((request.language, request.code))
        return Decision.run()

    interp.approver = approver
    llm_server.add(tool_call("shell", "echo from-shell"), text("ok"))
    interp.chat("echo", display=False)
    assert seen == [("shell", "echo from-shell")]
    assert any(m["type"] == "console" and m["content"] == "from-shell\n" for m in interp.messages)


def test_auto_run_and_always(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    llm_server.add(tool_call("python", "x_auto = 5; print(x_auto)"), text("five"))
    interp.chat("go", display=False)
    assert any(m["type"] == "console" and m["content"] == "5\n" for m in interp.messages)


def test_markdown_mode_and_recovered_json_tool_calls(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.llm.supports_functions = False
    interp.auto_run = True
    fenced = "Sure.\n```python\nprint('fenced')\n```\n"
    llm_server.add(text(fenced, chunks=["Sure.\n```py", "thon\nprint(", "'fenced')\n```\n"]),
                   text('{"name": "python", "arguments": {"code": "print(\'recovered\')"}}', chunks=5),
                   text("All done."))
    interp.chat("run two things", display=False)
    assert "tools" not in llm_server.requests[0]
    outputs = [m["content"] for m in interp.messages if m["type"] == "console"]
    assert outputs == ["fenced\n", "recovered\n"]
    # In markdown mode the output goes back as a user message.
    assert llm_server.requests[1]["messages"][-1] == {"role": "user", "content": "Code output:\nfenced\n"}
    assert "```python" in llm_server.requests[1]["messages"][-2]["content"]


def test_messages_restore_reset_and_system_message(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    saved = [{"role": "user", "type": "message", "content": "my name is Ada"},
             {"role": "assistant", "type": "message", "content": "Hello Ada."}]
    interp.messages = saved
    interp.system_message += "\nAlways answer in English."
    interp.custom_instructions = "Call the user by name."
    try:
        llm_server.add(text("You are Ada."))
        interp.chat("who am I?", display=False)
        sent = llm_server.requests[0]["messages"]
        assert sent[1:3] == [{"role": "user", "content": "my name is Ada"},
                             {"role": "assistant", "content": "Hello Ada."}]
        assert "Always answer in English." in sent[0]["content"]
        assert "Call the user by name." in sent[0]["content"]
        assert interp.messages[-1]["content"] == "You are Ada."
        interp.messages = []
        assert interp.messages == []
    finally:
        interp.system_message = interp.system_message.replace("\nAlways answer in English.", "")


def test_two_interpreters_are_independent(llm_server: ScriptedLLM, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path))
    a, b = Interpreter(auto_run=True), Interpreter(auto_run=True)
    try:
        for i in (a, b):
            i.llm.model, i.llm.api_base, i.llm.supports_functions = "m", llm_server.url, True
        a.computer.run("python", "secret = 'a-only'")
        result = b.computer.run("python", "print('secret' in globals())")
        assert result == [{"role": "computer", "type": "console", "format": "output", "content": "False\n"}]
        llm_server.add(text("hi from a"))
        a.chat("hello", display=False)
        assert b.messages == [] and a.messages[-1]["content"] == "hi from a"
    finally:
        a.close()
        b.close()


def test_loop_guards(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    interp.max_steps = 3
    for n in range(3):
        llm_server.add(tool_call("python", f"print({n})"))
    chunks = stream(interp, "loop forever")
    assert chunks[-1]["type"] == "error" and "max_steps" in chunks[-1]["content"]
    assert len(llm_server.requests) == 3

    interp.reset()
    interp.max_steps = 20
    llm_server.add(tool_call("python", "1/0"), tool_call("python", "1/0"))
    chunks = stream(interp, "divide")
    assert chunks[-1]["type"] == "error" and "same code again" in chunks[-1]["content"]
    # The repeated code has its own console message: messages stay consistent.
    assert [m["type"] for m in interp.messages].count("console") == 2

    interp.reset()  # code that worked, echoed back: told once to answer, then stopped
    llm_server.add(*(tool_call("python", "print(7)") for _ in range(3)))
    chunks = stream(interp, "seven")
    assert chunks[-1]["type"] == "error" and "same code again" in chunks[-1]["content"]
    assert "Answer the user from that output" in tool_messages(llm_server.requests[-1])[-1]["content"]
    assert next(m["content"] for m in interp.messages if m["type"] == "console") == "7\n"

    interp.reset()
    llm_server.add(text(""))
    chunks = stream(interp, "say nothing")
    assert chunks[-1]["type"] == "error" and "empty reply" in chunks[-1]["content"]


def test_context_is_trimmed_keeping_system_and_latest_turn(interp: Interpreter,
                                                            llm_server: ScriptedLLM) -> None:
    interp.llm.context_window = 3000
    interp.llm.max_tokens = 500
    interp.messages = [m for n in range(30) for m in (
        {"role": "user", "type": "message", "content": f"old question {n} " + "words " * 60},
        {"role": "assistant", "type": "message", "content": f"old answer {n} " + "words " * 60})]
    llm_server.add(text("fits"))
    interp.chat("the latest question", display=False)
    sent = llm_server.requests[0]["messages"]
    assert sent[0]["role"] == "system"
    assert sent[-1] == {"role": "user", "content": "the latest question"}
    assert len(sent) < 61
    assert "old question 29" in json.dumps(sent) and "old question 0 " not in json.dumps(sent)
    assert llm_server.requests[0]["max_tokens"] == 500


def test_max_output_keeps_head_and_tail_and_saves_the_rest(interp: Interpreter,
                                                           llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    interp.max_output = 1000
    llm_server.add(tool_call("python", "print('HEAD' + 'x' * 20000 + '\\x1b[31mTAIL')"), text("long"))
    interp.chat("print a lot", display=False)
    output = next(m for m in interp.messages if m["type"] == "console")["content"]
    assert output.startswith("HEAD") and output.rstrip().endswith("TAIL")
    assert "\x1b" not in output and len(output) < 1400
    path = Path(output.split("is saved at ")[1].split("]")[0])
    assert len(path.read_text()) > 20000


def test_journal_records_every_message_and_resumes(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    llm_server.add(tool_call("python", "print('journaled')"), text("done"))
    interp.chat("journal this", display=False)
    interp.flush()
    path = interp.conversation_path
    assert path is not None and load(path) == interp.messages
    infos = list_conversations()
    assert infos[0].title == "journal this" and infos[0].messages == len(interp.messages)

    other = Interpreter()
    try:
        other.load_conversation(path)
        assert other.messages == interp.messages
    finally:
        other.close()


@pytest.mark.parametrize("transport", ["openai", "litellm"])
def test_model_errors_end_in_an_error_chunk_and_the_next_chat_works(
        interp: Interpreter, llm_server: ScriptedLLM, transport: str) -> None:
    interp.llm.transport = transport
    interp.llm.max_retries = 1
    llm_server.add(status(401, "bad key"))
    chunks = stream(interp, "hello")
    assert chunks[-1]["type"] == "error" and chunks[-1]["format"] == "llm"
    assert interp.messages == [{"role": "user", "type": "message", "content": "hello"}]

    llm_server.add(cut(3, text("This reply will be cut off before the end.", chunks=8)))
    chunks = stream(interp, "again")
    assert chunks[-1]["type"] == "error"
    assert all(m["type"] != "code" for m in interp.messages)

    llm_server.add(text("working now"))
    stream(interp, "and now?")
    assert interp.messages[-1] == {"role": "assistant", "type": "message", "content": "working now"}


def test_transient_errors_are_retried(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(500, "oops"), status(429, "slow down", retry_after=0), text("third time lucky"))
    stream(interp, "hello")
    assert interp.messages[-1]["content"] == "third time lucky"
    assert len(llm_server.requests) == 3


def test_refused_connection_is_a_clear_error(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.llm.max_retries = 1
    llm_server.add(refuse())
    chunks = stream(interp, "hello")
    assert chunks[-1]["type"] == "error" and interp.llm.model in chunks[-1]["content"]


def test_invalid_tool_arguments_go_back_to_the_model(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    llm_server.add(raw_tool_call("execute", '{"language": "python", "code": "print(1)'),
                   tool_call("cobol", "DISPLAY 'HI'"), text("I give up."))
    interp.chat("try", display=False)
    first = tool_messages(llm_server.requests[1])[0]["content"]
    assert "not valid JSON" in first
    second = tool_messages(llm_server.requests[2])[-1]["content"]
    assert "cobol" in second.lower() and "python" in second
    assert interp.messages[-1]["content"] == "I give up."


def test_computer_run_directly(shared: Interpreter) -> None:
    out = shared.computer.run("python", "print('direct')")
    assert out == [{"role": "computer", "type": "console", "format": "output", "content": "direct\n"}]
    assert "python" in shared.computer.languages and "shell" in shared.computer.languages
    seen = []
    for chunk in shared.computer.run("python", "import time\nprint('tick', flush=True)\ntime.sleep(60)",
                                     stream=True):
        if chunk.get("format") == "output":
            seen.append(chunk["content"])
            if "".join(seen) == "tick\n":
                break  # leaving the generator stops the code
    assert "".join(seen) == "tick\n"
    assert shared.computer.run("python", "print('after')")[0]["content"] == "after\n"


def test_text_mode_stops_the_reply_after_the_first_code_block(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    """Small models print call after call; one block a step, and the model stops generating."""
    interp.llm.supports_functions = False
    interp.auto_run = True
    llm_server.add(endless("```python\nprint('again')\n```\n"), text("Done."))
    interp.chat("go", display=False)
    assert [m["content"] for m in interp.messages if m["type"] == "code"] == ["print('again')"]
    llm_server.wait_for_disconnects(1)  # the endless reply was cut by us, not by the server
    assert interp.messages[-1]["content"] == "Done."


def test_a_code_block_completed_by_one_delta_is_streamed_whole(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    """The local model prints its call as JSON; one delta can open, fill and close the block."""
    call = '{"name": "execute", "arguments": {"language": "python", "code": "print(1234 * 5678)"}}'
    llm_server.add(text(call), text("7006652."))
    chunks = stream(interp, "multiply", Decision.run())
    code = [c for c in chunks if c["type"] == "code"]
    assert [("start" in c, c.get("content"), "end" in c) for c in code] == [
        (True, None, False), (False, "print(1234 * 5678)", False), (False, None, True)]
    assert any(c.get("content") == "7006652\n" for c in chunks if c["type"] == "console")
