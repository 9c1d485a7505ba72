"""Model server faults, through the public API: each ends in a clear error or a recovery,
``messages`` stay whole and journaled, and the next chat works.

Covered elsewhere and not repeated here: the clients' own error mapping per status
(tests/test_llm_clients.py, both transports), retries of 500/429 before the first delta
(tests/test_engine.py::test_transient_errors_are_retried). These run on the ``openai``
transport, the one every ``api_base`` server gets; the litellm transport shares the
ChunkReader, the retries and the turn logic.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from scripted_llm import (
    Reply,
    ScriptedLLM,
    combine,
    cut,
    endless,
    malformed,
    raw_tool_call,
    silence,
    stall,
    status,
    text,
    tool_call,
)

from oi_voice import Interpreter
from reliability.common import chunks_of, errors, journal, lost, problems
from reliability.report import Ledger

Chunks = list[dict[str, Any]]


def closed_port_url() -> str:
    """The address of a port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@dataclass
class Fault:
    """One model-server fault: what the server does, and how the turn must end."""

    name: str
    replies: list[Reply]
    #: "error": the turn ends with an llm error chunk; "recover": it ends normally.
    ends: str
    #: Extra settings for this fault (``llm.*`` attribute -> value).
    settings: dict[str, Any] = field(default_factory=dict)
    #: Further checks on (chunks, new messages, server).
    check: Callable[[Chunks, list[dict[str, Any]], ScriptedLLM], None] | None = None
    stop_after: int | None = None


def _no_code(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    assert not [m for m in new if m["type"] in ("code", "console")], new


def _one_request(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    assert len(llm.requests) == 1  # not retried


def _partial_text_kept(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    shown = "".join(c["content"] for c in chunks if c["type"] == "message" and "content" in c)
    assert shown and [m["content"] for m in new if m["role"] == "assistant"] == [shown]


def _told_the_model(fragment: str) -> Callable[[Chunks, list[dict[str, Any]], ScriptedLLM], None]:
    def check(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
        tool_results = [m["content"] for m in llm.requests[1]["messages"] if m["role"] == "tool"]
        assert any(fragment in r for r in tool_results), tool_results
        assert new[-1] == {"role": "assistant", "type": "message", "content": "Understood."}
    return check


def _huge_reply_whole(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    assert new[-1]["content"] == HUGE


def _length_said(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    assert new[-1]["content"] == "la " * 300
    notes = [c for c in chunks if c["type"] == "error"]
    assert notes and "max_tokens" in notes[-1]["content"], chunks[-3:]


def _stopped_by_user(chunks: Chunks, new: list[dict[str, Any]], llm: ScriptedLLM) -> None:
    llm.wait_for_disconnects(1)  # leaving the stream hung up on the model
    shown = "".join(c["content"] for c in chunks if c["type"] == "message" and "content" in c)
    assert shown.startswith("la ") and [m["content"] for m in new if m["role"] == "assistant"] == [shown]


# About 100k tokens (four characters a token) in 2,000 events.
HUGE = "".join(f"word{i % 97} " for i in range(400_000 // 7))

FAULTS = [
    Fault("refused connection", [], "error", {"api_base": "closed"}, _no_code),
    Fault("401 unauthorized", [status(401, "bad key")], "error", {"max_retries": 3}, _one_request),
    Fault("429 with Retry-After, then an answer", [status(429, "slow down", retry_after=0.05), text("Understood.")],
          "recover", {"max_retries": 2}),
    Fault("429 with Retry-After, every time", [status(429, "slow down", retry_after=0.05)] * 2, "error",
          {"max_retries": 2}),
    Fault("500 server error", [status(500, "boom")] * 2, "error", {"max_retries": 2}),
    Fault("stream cut mid-text", [cut(3, text("This reply is cut off before it ends.", chunks=8))], "error", {},
          _partial_text_kept),
    Fault("stream cut mid-tool-call", [cut(3, tool_call("python", "print('never runs')", fragments=6))], "error",
          {}, _no_code),
    Fault("malformed SSE line", [malformed(text("Hello there, friend.", chunks=4), at=2)], "error", {}),
    Fault("invalid JSON in tool arguments",
          [raw_tool_call("execute", '{"language": "python", "code": "print(1)'), text("Understood.")],
          "recover", {}, _told_the_model("not valid JSON")),
    Fault("tool call for an unknown language", [tool_call("cobol", "DISPLAY 'HI'."), text("Understood.")],
          "recover", {}, _told_the_model("cobol")),
    Fault("100k-token reply", [text(HUGE, chunks=2000)], "recover", {"context_window": 200_000},
          _huge_reply_whole),
    Fault("endless stream stopped by max_tokens", [endless(honour_max_tokens=True)], "recover",
          {"max_tokens": 300}, _length_said),
    Fault("endless stream stopped by the user", [endless()], "recover", {}, _stopped_by_user, stop_after=60),
    Fault("silence (timeout)", [silence(30)], "error", {"timeout": 0.5}),
    Fault("silence after part of the reply", [stall(2, 30, text("Half a reply and then", chunks=4))], "error",
          {"timeout": 0.5}, _partial_text_kept),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_model_fault(interp: Interpreter, llm_server: ScriptedLLM, ledger: Ledger, fault: Fault) -> None:
    # A conversation already under way: none of it may be lost.
    llm_server.add(tool_call("python", "print('before the fault')"), text("It printed."))
    interp.chat("warm up", display=False)
    before = [dict(m) for m in interp.messages]
    llm_server.requests.clear()

    saved = {k: getattr(interp.llm, k) for k in fault.settings}
    for key, value in fault.settings.items():
        setattr(interp.llm, key, closed_port_url() if value == "closed" else value)
    llm_server.add(*fault.replies)
    survived = False
    try:
        chunks = chunks_of(interp, "the faulty turn", stop_after=fault.stop_after)
    finally:
        for key, value in saved.items():
            setattr(interp.llm, key, value)
    try:
        new = interp.messages[len(before):]
        assert interp.messages[:len(before)] == before
        assert new[0] == {"role": "user", "type": "message", "content": "the faulty turn"}
        assert problems(interp.messages) == []
        llm_errors = [c for c in errors(chunks) if c["format"] == "llm"]
        if fault.ends == "error":
            assert llm_errors, chunks[-3:]
            assert "scripted-model" in llm_errors[-1]["content"]  # says which model failed
            assert chunks[-1] == llm_errors[-1]
        else:
            assert not llm_errors, llm_errors
        if fault.check is not None:
            fault.check(chunks, new, llm_server)
        assert journal(interp) == interp.messages

        # The next chat works, and the model sees a well-formed history.
        llm_server.add(text("Back to normal."))
        interp.chat("and now?", display=False)
        assert interp.messages[-1] == {"role": "assistant", "type": "message", "content": "Back to normal."}
        assert problems(interp.messages) == []
        sent = llm_server.requests[-1]["messages"]
        assert sent[-1] == {"role": "user", "content": "and now?"}
        assert journal(interp) == interp.messages
        survived = True
    finally:
        ledger.record("model server", fault.name, survived=survived,
                      lost=lost(before, journal(interp)))


@pytest.mark.fault("model server", "two tool calls in one reply (parallel calls)")
def test_two_tool_calls_in_one_reply_run_once_each(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    # Found by test_fuzz: the first call was recorded twice, so it ran twice and the second never did.
    llm_server.add(combine(tool_call("python", "print('one')"), tool_call("python", "print('two')")),
                   text("Both ran."))
    chunks = chunks_of(interp, "run both")
    codes = [m["content"] for m in interp.messages if m["type"] == "code"]
    assert codes == ["print('one')", "print('two')"]
    assert [m["content"] for m in interp.messages if m["type"] == "console"] == ["one\n", "two\n"]
    shown = [c["content"] for c in chunks if c["type"] == "code" and "content" in c]
    assert "".join(shown) == "print('one')print('two')"
    assert problems(interp.messages) == [] and journal(interp) == interp.messages
