"""Fuzzing (hypothesis) of the SSE reader and the tool-call assembler.

The fence parser has its own fuzzing: any split of generated replies and of a soup of
fence fragments gives the same events (tests/test_codeblocks.py, hypothesis).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripted_llm import ScriptedLLM, fragmented, raw_tool_call, text

from oi_voice.core.lmc import to_chunk
from oi_voice.core.loop import ReplyAssembler
from oi_voice.errors import LLMError
from oi_voice.llm import ChatRequest
from oi_voice.llm.base import Delta, Finish, TextDelta, ToolCallDelta
from oi_voice.llm.chunks import ChunkReader
from oi_voice.llm.openai_compat import OpenAICompatClient

TAGS = {"python": "python", "py": "python", "shell": "shell", "bash": "shell", "sh": "shell",
        "javascript": "javascript", "js": "javascript"}

json_leaf = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=8)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or any other JSON value in its place."""
    return strategy | json_value


tool_fragment = st.fixed_dictionaries({}, optional={
    "index": maybe(st.integers(0, 2)), "id": maybe(st.text(max_size=5)), "type": maybe(st.just("function")),
    "function": maybe(st.fixed_dictionaries({}, optional={"name": maybe(st.sampled_from(["execute", "python"])),
                                                          "arguments": maybe(st.text(max_size=20))}))})
delta = st.fixed_dictionaries({}, optional={
    "role": maybe(st.just("assistant")), "content": maybe(st.text(max_size=20)),
    "tool_calls": maybe(st.lists(maybe(tool_fragment), max_size=2)),
    "function_call": maybe(st.fixed_dictionaries({}, optional={"name": json_value, "arguments": json_value}))})
choice = st.fixed_dictionaries({}, optional={"index": maybe(st.just(0)), "delta": maybe(delta),
                                             "finish_reason": maybe(st.sampled_from(["stop", "tool_calls"]))})
chunk = st.fixed_dictionaries({}, optional={"choices": maybe(st.lists(maybe(choice), max_size=2)),
                                            "usage": json_value, "error": st.none() | json_value})


@pytest.mark.fault("fuzz", "400 random chunk sequences into the SSE chunk reader")
@settings(max_examples=400, deadline=None)
@given(st.lists(chunk, max_size=6))
def test_any_chunk_gives_deltas_or_a_stream_error(chunks: list[dict[str, Any]]) -> None:
    reader = ChunkReader(where="fuzz")
    try:
        for c in chunks:
            for d in reader.feed(c):
                assert isinstance(d, TextDelta | ToolCallDelta)
                if isinstance(d, TextDelta):
                    assert isinstance(d.text, str) and d.text
                    d.text.encode("utf-8")
                else:
                    assert isinstance(d.index, int) and isinstance(d.arguments, str)
        assert isinstance(reader.finish(), Finish)
    except LLMError:
        pass  # a clear error is a fine answer to garbage; anything else is a crash


language = st.sampled_from(["python", "py", "shell", "bash", "cobol", ""])
code_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def arguments(draw: st.DrawFn) -> str:
    """Tool-call arguments: valid JSON, truncated JSON, or junk."""
    valid = json.dumps({"language": draw(language), "code": draw(code_text)})
    kind = draw(st.sampled_from(["valid", "valid", "truncated", "junk", "other keys"]))
    if kind == "truncated":
        return valid[: draw(st.integers(0, len(valid)))]
    if kind == "junk":
        return draw(st.text(max_size=30))
    if kind == "other keys":
        return json.dumps(draw(json_value))
    return valid


@st.composite
def deltas(draw: st.DrawFn) -> list[Delta]:
    """A reply: text with fences, then tool calls whose arguments arrive in fragments,
    interleaved across indexes."""
    out: list[Delta] = []
    for piece in draw(st.lists(st.sampled_from(["Hi ", "```python\n", "print(1)\n", "```\n", "``", "\n", "ok"])
                               | code_text, max_size=6)):
        out.append(TextDelta(piece))
    calls = draw(st.lists(arguments(), max_size=3))
    fragments: list[ToolCallDelta] = []
    for index, args in enumerate(calls):
        cuts = sorted(draw(st.lists(st.integers(0, len(args)), max_size=4)))
        pieces = [args[a:b] for a, b in zip([0, *cuts], [*cuts, len(args)], strict=True)]
        name = draw(st.sampled_from(["execute", "python", None]))
        fragments.append(ToolCallDelta(index, id=f"call{index}", name=name, arguments=pieces[0]))
        fragments += [ToolCallDelta(index, arguments=p) for p in pieces[1:]]
    if draw(st.booleans()):
        fragments = draw(st.permutations(fragments))
    out += fragments
    out.append(Finish(draw(st.sampled_from(["stop", "tool_calls", "length", None]))))
    return out


def blocks(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages a front end assembles from the chunks: flags must pair up, content
    must sit between its own flags."""
    out: list[dict[str, Any]] = []
    open_: dict[str, Any] | None = None
    for c in chunks:
        if c.get("start"):
            assert open_ is None, chunks
            open_ = {"type": c["type"], "format": c.get("format"), "content": ""}
        elif c.get("end"):
            assert open_ is not None and open_["type"] == c["type"], chunks
            out.append(open_)
            open_ = None
        else:
            assert open_ is not None and open_["type"] == c["type"] and open_["format"] == c.get("format"), chunks
            assert isinstance(c["content"], str)
            open_["content"] += c["content"]
    assert open_ is None, chunks
    return out


@pytest.mark.fault("fuzz", "400 random delta sequences into the tool-call assembler")
@settings(max_examples=400, deadline=None)
@given(deltas(), st.booleans())
def test_the_assembler_keeps_chunks_and_messages_in_step(reply: list[Delta], aborted: bool) -> None:
    assembler = ReplyAssembler(TAGS)
    chunks: list[dict[str, Any]] = []
    for d in reply[:-1]:
        chunks += map(to_chunk, assembler.feed(d))
    if aborted:
        chunks += map(to_chunk, assembler.abort())
        problems: list[str] = []
    else:
        chunks += map(to_chunk, assembler.feed(reply[-1]))
        more, problems = assembler.finish()
        chunks += map(to_chunk, more)
    shown = blocks(chunks)
    messages = assembler.messages
    assert all(m["role"] == "assistant" and isinstance(m["content"], str) for m in messages)
    # Every message is one of the blocks shown, in order (blank text and broken calls are
    # shown but never become messages).
    remaining = iter(shown)
    for m in messages:
        assert any(b["type"] == m["type"] and b["content"] == m["content"] and b["format"] == m.get("format")
                   for b in remaining), (m, shown)
    calls = len({d.index for d in reply if isinstance(d, ToolCallDelta)})
    fences = any("`" in d.text for d in reply if isinstance(d, TextDelta))
    if not aborted and not fences:
        # One code message per tool call that parsed, one problem per call that did not.
        assert sum(m["type"] == "code" for m in messages) + len(problems) == calls, (messages, problems)


@pytest.fixture(scope="module")
def sse_server() -> Iterator[ScriptedLLM]:
    """One scripted server for every example."""
    with ScriptedLLM() as server:
        yield server


def collect(server: ScriptedLLM) -> list[Delta]:
    """One streamed request through the OpenAI-compatible client."""
    client = OpenAICompatClient()
    request = ChatRequest(model="fuzz", messages=[{"role": "user", "content": "x"}], api_base=server.url,
                          api_key="k", max_attempts=1, timeout=10)

    async def go() -> list[Delta]:
        try:
            return [d async for d in client.stream(request)]
        finally:
            await client.aclose()

    return asyncio.run(go())


unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1F64F), min_size=1,
                       max_size=60)


@pytest.mark.fault("fuzz", "60 SSE text streams split at random bytes (real HTTP)")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unicode_text, st.integers(1, 8), st.lists(st.integers(0, 4000), max_size=12))
def test_sse_split_anywhere_reads_the_same(sse_server: ScriptedLLM, s: str, pieces: int, cuts: list[int]) -> None:
    sse_server.add(fragmented(text(s, chunks=pieces), cuts))
    got = collect(sse_server)
    assert "".join(d.text for d in got if isinstance(d, TextDelta)) == s
    assert isinstance(got[-1], Finish) and got[-1].reason == "stop"


@pytest.mark.fault("fuzz", "40 tool-call streams split at random bytes (real HTTP)")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code_text, st.integers(1, 6), st.lists(st.integers(0, 4000), max_size=12))
def test_tool_call_split_anywhere_reassembles(sse_server: ScriptedLLM, code: str, fragments: int,
                                              cuts: list[int]) -> None:
    args = json.dumps({"language": "python", "code": code}, ensure_ascii=False)
    sse_server.add(fragmented(raw_tool_call("execute", args, fragments=fragments), cuts))
    got = collect(sse_server)
    calls = [d for d in got if isinstance(d, ToolCallDelta)]
    assert "".join(d.arguments for d in calls) == args and calls[0].name == "execute"
    assert isinstance(got[-1], Finish) and got[-1].reason == "tool_calls"
