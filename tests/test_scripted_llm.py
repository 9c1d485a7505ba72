"""The scripted model server itself: its wire format, its log, and its lifecycle."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import openai
import pytest
from scripted_llm import (
    ScriptedLLM,
    combine,
    cut,
    delay,
    malformed,
    raw_tool_call,
    refuse,
    silence,
    status,
    text,
    tool_call,
)


def sse_events(server: ScriptedLLM, body: dict[str, Any] | None = None) -> list[str]:
    """The data fields of one streamed reply, read with plain httpx."""
    body = body or {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.stream("POST", server.url + "/chat/completions", json=body, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: ")]


def test_text_reply_has_openai_shape(llm_server: ScriptedLLM) -> None:
    llm_server.add(text("Hello world", chunks=2, usage=(11, 2)))
    events = sse_events(llm_server)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c["choices"][0]["delta"].get("content") for c in chunks[1:3]] == ["Hello ", "world"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}


def test_tool_call_arguments_are_split_into_fragments(llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print(6*7)", fragments=3, call_id="call_9"))
    chunks = [json.loads(e) for e in sse_events(llm_server)[:-1]]
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0]["id"] == "call_9"
    assert calls[0]["function"] == {"name": "execute", "arguments": ""}
    assert len(calls) == 4
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert json.loads(arguments) == {"language": "python", "code": "print(6*7)"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_combined_tool_calls_get_their_own_indexes(llm_server: ScriptedLLM) -> None:
    llm_server.add(combine(text("Two things."), tool_call("shell", "ls"), raw_tool_call("execute", "{oops")))
    chunks = [json.loads(e) for e in sse_events(llm_server)[:-1]]
    indexes = {
        call["index"]
        for c in chunks
        if c["choices"]
        for call in c["choices"][0]["delta"].get("tool_calls") or ()
    }
    assert indexes == {0, 1}


def test_requests_and_headers_are_logged(llm_server: ScriptedLLM) -> None:
    llm_server.add(text("a"), text("b"))
    body = {"model": "x", "messages": [], "stream": True}
    for _ in range(2):
        with httpx.stream(
            "POST", llm_server.url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"}
        ) as r:
            r.read()
    assert llm_server.wait_for_requests(2) == [body, body]
    assert llm_server.headers[1]["authorization"] == "Bearer k"
    assert llm_server.headers[1]["Authorization"] == "Bearer k"


def test_empty_queue_answers_500(llm_server: ScriptedLLM) -> None:
    response = httpx.post(llm_server.url + "/chat/completions", json={"model": "m", "messages": []})
    assert response.status_code == 500
    assert "scripted server: no reply queued" in response.text


def test_status_reply_with_retry_after(llm_server: ScriptedLLM) -> None:
    llm_server.add(status(429, retry_after=3))
    response = httpx.post(llm_server.url + "/chat/completions", json={"model": "m", "messages": []})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["message"]


def test_models_endpoint(llm_server: ScriptedLLM) -> None:
    response = httpx.get(llm_server.url + "/models")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"]


def test_refuse_and_cut_break_the_connection(llm_server: ScriptedLLM) -> None:
    llm_server.add(refuse(), cut(1, text("abc", chunks=3)))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(llm_server.url + "/chat/completions", json={"model": "m", "messages": []})
    with pytest.raises(httpx.RemoteProtocolError):
        sse_events(llm_server)


def test_malformed_inserts_the_bad_line(llm_server: ScriptedLLM) -> None:
    llm_server.add(malformed(text("abc", chunks=3), "data: {not json", at=1))
    events = sse_events(llm_server)
    assert events[2] == "{not json"


def test_delay_then_reply(llm_server: ScriptedLLM) -> None:
    llm_server.add(delay(0.05, text("late")))
    assert json.loads(sse_events(llm_server)[1])["choices"][0]["delta"]["content"] == "late"


def test_silence_then_reply(llm_server: ScriptedLLM) -> None:
    llm_server.add(silence(0.05, then=text("finally")))
    assert json.loads(sse_events(llm_server)[1])["choices"][0]["delta"]["content"] == "finally"


def test_stop_ends_a_silent_reply() -> None:
    server = ScriptedLLM().start()
    server.add(silence(3600))
    outcome: list[BaseException | None] = []

    def client() -> None:
        try:
            sse_events(server)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    server.wait_for_requests(1)
    server.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], httpx.HTTPError)


def test_openai_sdk_reads_the_stream(llm_server: ScriptedLLM) -> None:
    # The SDK litellm uses must accept our SSE, including the usage-only chunk.
    llm_server.add(combine(text("Sure."), tool_call("python", "print(1)", call_id="call_x")))
    client = openai.OpenAI(base_url=llm_server.url, api_key="sk-test", max_retries=0)
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "go"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    content, arguments, usage, finish = "", "", None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for call in choice.delta.tool_calls or ():
                arguments += call.function.arguments or "" if call.function else ""
            finish = choice.finish_reason or finish
    client.close()
    assert content == "Sure."
    assert json.loads(arguments) == {"language": "python", "code": "print(1)"}
    assert finish == "tool_calls"
    assert usage is not None and usage.total_tokens > 0
