"""Both model clients against the scripted server: real sockets, real SSE, real litellm."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from scripted_llm import (
    ScriptedLLM,
    combine,
    cut,
    endless,
    malformed,
    raw_tool_call,
    silence,
    status,
    text,
    tool_call,
)

from oi_voice.errors import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMError,
    LLMRateLimitError,
    LLMServerError,
    LLMStreamError,
    LLMTimeoutError,
)
from oi_voice.llm import (
    ChatClient,
    ChatRequest,
    Delta,
    Finish,
    LiteLLMClient,
    OpenAICompatClient,
    TextDelta,
    ToolCallDelta,
    choose_transport,
    client_for,
    model_info,
    provider_of,
    tiktoken_cache_dir,
)
from oi_voice.llm.catalog import LITELLM_PROVIDERS
from oi_voice.llm.litellm_client import litellm_model_name
from oi_voice.llm.mapping import parse_retry_after
from oi_voice.llm.retry import backoff_delay

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "execute",
            "description": "Run code.",
            "parameters": {
                "type": "object",
                "properties": {
                    "language": {"type": "string", "enum": ["python", "shell"]},
                    "code": {"type": "string"},
                },
                "required": ["language", "code"],
            },
        },
    }
]
MESSAGES = [{"role": "system", "content": "You run code."}, {"role": "user", "content": "What is 6*7?"}]


@dataclass
class Result:
    """Everything a stream produced, and the error that ended it."""

    deltas: list[Delta] = field(default_factory=list)
    error: LLMError | None = None

    @property
    def text(self) -> str:
        return "".join(d.text for d in self.deltas if isinstance(d, TextDelta))

    def tool_calls(self) -> dict[int, dict[str, Any]]:
        calls: dict[int, dict[str, Any]] = {}
        for d in self.deltas:
            if isinstance(d, ToolCallDelta):
                call = calls.setdefault(d.index, {"id": None, "name": None, "arguments": ""})
                call["id"] = call["id"] or d.id
                call["name"] = call["name"] or d.name
                call["arguments"] += d.arguments
        return calls

    @property
    def finish(self) -> Finish | None:
        last = self.deltas[-1] if self.deltas else None
        return last if isinstance(last, Finish) else None


def collect(client: ChatClient, request: ChatRequest) -> Result:
    async def go() -> Result:
        result = Result()
        try:
            async for delta in client.stream(request):
                result.deltas.append(delta)
        except LLMError as exc:
            result.error = exc
        finally:
            await client.aclose()  # type: ignore[attr-defined]
        return result

    return asyncio.run(go())


def make_request(server_url: str, **kw: Any) -> ChatRequest:
    kw.setdefault("api_key", "sk-test")
    return ChatRequest(model="gpt-4o", messages=MESSAGES, api_base=server_url, **kw)


@pytest.fixture(params=["openai", "litellm"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(transport: str) -> ChatClient:
    return OpenAICompatClient() if transport == "openai" else LiteLLMClient()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- streaming -----------------------------------------------------------------------


def test_text_in_chunks_reassembles(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("The answer is 42.", chunks=["The ", "answer ", "is ", "42."]))
    result = collect(client, make_request(llm_server.url))
    assert result.error is None
    assert [d.text for d in result.deltas if isinstance(d, TextDelta)] == ["The ", "answer ", "is ", "42."]
    assert result.finish is not None
    assert result.finish.reason == "stop"
    assert result.finish.prompt_tokens and result.finish.completion_tokens == 4


def test_tool_call_fragments_reassemble(client: ChatClient, llm_server: ScriptedLLM) -> None:
    code = 'import math\nprint("π ≈", math.pi)'
    llm_server.add(tool_call("python", code, fragments=7, call_id="call_1", text_before="Let me check."))
    result = collect(client, make_request(llm_server.url, tools=TOOLS))
    assert result.error is None
    assert result.text == "Let me check."
    calls = result.tool_calls()
    assert list(calls) == [0]
    assert calls[0]["id"] == "call_1"
    assert calls[0]["name"] == "execute"
    assert json.loads(calls[0]["arguments"]) == {"language": "python", "code": code}
    assert result.finish is not None and result.finish.reason == "tool_calls"


def test_two_tool_calls_and_invalid_json_arrive_as_sent(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(combine(tool_call("shell", "ls"), raw_tool_call("execute", '{"language": "python", "co')))
    result = collect(client, make_request(llm_server.url, tools=TOOLS))
    calls = result.tool_calls()
    assert json.loads(calls[0]["arguments"]) == {"language": "shell", "code": "ls"}
    assert calls[1]["arguments"] == '{"language": "python", "co'


def test_what_was_sent_is_logged(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("ok"))
    result = collect(client, make_request(llm_server.url, tools=TOOLS, max_tokens=123, temperature=0.25))
    assert result.error is None
    body = llm_server.requests[0]
    assert body["model"] == "gpt-4o"
    assert body["messages"] == MESSAGES
    assert body["tools"] == TOOLS
    assert body["tool_choice"] == "auto"
    assert body["max_tokens"] == 123
    assert body["temperature"] == 0.25
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert llm_server.headers[0]["Authorization"] == "Bearer sk-test"


def test_users_openai_key_never_goes_to_a_custom_server(
    client: ChatClient, llm_server: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-users-real-key")
    llm_server.add(text("ok"))
    result = collect(client, ChatRequest(model="local", messages=MESSAGES, api_base=llm_server.url))
    assert result.error is None
    assert "sk-users-real-key" not in llm_server.headers[0].get("authorization", "")


def test_missing_key_is_an_auth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = collect(LiteLLMClient(), ChatRequest(model="gpt-4o", messages=MESSAGES))
    assert isinstance(result.error, LLMAuthError)


def test_openai_prefix_is_stripped(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("ok"))
    collect(client, ChatRequest(model="openai/my-local-model", messages=MESSAGES, api_base=llm_server.url))
    assert llm_server.requests[0]["model"] == "my-local-model"


# --- errors and retries --------------------------------------------------------------


def test_401_is_an_auth_error_without_retry(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(401), text("never sent"))
    result = collect(client, make_request(llm_server.url))
    assert isinstance(result.error, LLMAuthError)
    assert result.error.status == 401
    assert len(llm_server.requests) == 1


def test_404_is_a_bad_request_without_retry(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(404), text("never sent"))
    result = collect(client, make_request(llm_server.url))
    assert isinstance(result.error, LLMBadRequestError)
    assert "scripted status 404" in str(result.error)
    assert len(llm_server.requests) == 1


def test_429_with_retry_after_is_retried(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(429, retry_after=0), text("after the wait"))
    result = collect(client, make_request(llm_server.url))
    assert result.error is None
    assert result.text == "after the wait"
    assert len(llm_server.requests) == 2


def test_429_keeps_status_and_retry_after(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(429, retry_after=7))
    result = collect(client, make_request(llm_server.url, max_attempts=1))
    assert isinstance(result.error, LLMRateLimitError)
    assert result.error.status == 429
    assert result.error.retry_after == 7


def test_500s_give_up_after_max_attempts(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(*[status(500, retry_after=0)] * 3, text("too late"))
    result = collect(client, make_request(llm_server.url, max_attempts=3))
    assert isinstance(result.error, LLMServerError)
    assert result.error.status == 500
    assert len(llm_server.requests) == 3
    assert llm_server.pending == 1


def test_html_error_page_is_a_server_error(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(502, body="<html><h1>502 Bad Gateway</h1></html>"))
    result = collect(client, make_request(llm_server.url, max_attempts=1))
    assert isinstance(result.error, LLMServerError)
    assert result.error.status == 502


def test_refused_connection(client: ChatClient) -> None:
    result = collect(client, make_request(f"http://127.0.0.1:{closed_port()}/v1", max_attempts=1))
    assert isinstance(result.error, LLMConnectionError)
    assert result.error.transient


def test_cut_mid_text_is_a_stream_error_not_retried(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(
        cut(2, text("one two three four", chunks=["one ", "two ", "three ", "four"])),
        text("must not be used"),
    )
    result = collect(client, make_request(llm_server.url))
    assert isinstance(result.error, LLMStreamError)
    assert "mid-reply" in str(result.error)
    assert result.text == "one two "
    assert len(llm_server.requests) == 1


def test_cut_mid_tool_call_is_a_stream_error(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(cut(3, tool_call("python", "print('hello world')", fragments=5)))
    result = collect(client, make_request(llm_server.url, tools=TOOLS))
    assert isinstance(result.error, LLMStreamError)
    arguments = result.tool_calls()[0]["arguments"]
    assert arguments and not arguments.endswith("}")
    assert len(llm_server.requests) == 1


def test_malformed_line_is_a_stream_error(
    transport: str, client: ChatClient, llm_server: ScriptedLLM
) -> None:
    llm_server.add(malformed(text("abcdef", chunks=3), "data: {not json"))
    result = collect(client, make_request(llm_server.url))
    assert isinstance(result.error, LLMError)
    if transport == "openai":
        assert isinstance(result.error, LLMStreamError)
        assert "data: {not json" in str(result.error)
    assert len(llm_server.requests) == 1


def test_error_event_inside_the_stream(llm_server: ScriptedLLM) -> None:
    # llama.cpp and Ollama report failures mid-stream as an {"error": ...} event.
    bad = 'data: {"error": {"message": "model crashed", "code": 500}}'
    llm_server.add(malformed(text("abcdef", chunks=3), bad))
    result = collect(OpenAICompatClient(), make_request(llm_server.url))
    assert isinstance(result.error, LLMServerError)
    assert "model crashed" in str(result.error)


def test_silence_is_a_timeout(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(silence(60))
    result = collect(client, make_request(llm_server.url, timeout=0.3, max_attempts=1))
    assert isinstance(result.error, LLMTimeoutError)
    assert "no data from the model server" in str(result.error)


def test_silence_before_first_delta_is_retried(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(silence(60), status(503, retry_after=0), text("third time lucky"))
    result = collect(client, make_request(llm_server.url, timeout=1.0, max_attempts=3))
    assert result.error is None
    assert result.text == "third time lucky"


def test_cancelling_an_endless_stream(client: ChatClient, llm_server: ScriptedLLM) -> None:
    llm_server.add(endless("la "))

    async def go() -> int:
        seen = asyncio.Event()
        count = 0

        async def consume() -> None:
            nonlocal count
            async for _ in client.stream(make_request(llm_server.url)):
                count += 1
                if count == 5:
                    seen.set()

        task = asyncio.create_task(consume())
        waiter = asyncio.create_task(seen.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        assert not task.done(), task.exception()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.aclose()  # type: ignore[attr-defined]
        return count

    assert asyncio.run(go()) >= 5
    llm_server.wait_for_disconnects(1, timeout=10)


def test_openai_transport_reuses_its_connection(llm_server: ScriptedLLM) -> None:
    llm_server.add(text("one"), text("two"))
    client = OpenAICompatClient()

    async def go() -> list[str]:
        texts = []
        for _ in range(2):
            texts.append(
                "".join(
                    [
                        d.text
                        async for d in client.stream(make_request(llm_server.url))
                        if isinstance(d, TextDelta)
                    ]
                )
            )
        await client.aclose()
        return texts

    assert asyncio.run(go()) == ["one", "two"]
    assert llm_server.clients[0] == llm_server.clients[1]


def test_api_base_without_scheme(transport: str, client: ChatClient) -> None:
    result = collect(client, make_request("localhost:1234/v1"))
    assert isinstance(result.error, LLMBadRequestError)
    assert "localhost:1234/v1" in str(result.error)


# --- choosing a client ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "api_base", "transport", "expected"),
    [
        ("gpt-4o", None, "auto", "litellm"),
        ("gpt-4o", "http://localhost:1234/v1", "auto", "openai"),
        ("openai/qwen2.5-coder", "http://localhost:1234/v1", "auto", "openai"),
        ("meta-llama/Llama-3-8B", "http://localhost:8000/v1", "auto", "openai"),
        ("ollama/llama3", "http://localhost:11434", "auto", "litellm"),
        ("anthropic/claude-3-5-sonnet", None, "auto", "litellm"),
        ("gpt-4o", None, "openai", "openai"),
        ("gpt-4o", "http://localhost:1234/v1", "litellm", "litellm"),
    ],
)
def test_choose_transport(model: str, api_base: str | None, transport: str, expected: str) -> None:
    assert choose_transport(ChatRequest(model=model, messages=[], api_base=api_base), transport) == expected


def test_client_for_caches_per_endpoint() -> None:
    local = ChatRequest(model="m", messages=[], api_base="http://127.0.0.1:9/v1", api_key="a")
    first = client_for(local)
    assert isinstance(first, OpenAICompatClient)
    assert (
        client_for(ChatRequest(model="other", messages=[], api_base="http://127.0.0.1:9/v1", api_key="a"))
        is first
    )
    assert (
        client_for(ChatRequest(model="m", messages=[], api_base="http://127.0.0.1:9/v1", api_key="b"))
        is not first
    )
    assert isinstance(client_for(local, "litellm"), LiteLLMClient)
    with pytest.raises(ValueError):
        client_for(local, "carrier-pigeon")


def test_litellm_model_names() -> None:
    assert litellm_model_name("gpt-4o", None) == "gpt-4o"
    assert litellm_model_name("qwen2.5-coder", "http://x/v1") == "openai/qwen2.5-coder"
    assert litellm_model_name("meta-llama/Llama-3", "http://x/v1") == "openai/meta-llama/Llama-3"
    assert litellm_model_name("ollama/llama3", "http://x") == "ollama/llama3"
    assert provider_of("ollama_chat/llama3") == "ollama_chat"
    assert provider_of("meta-llama/Llama-3") is None


# --- retry policy and helpers --------------------------------------------------------


def test_backoff_is_bounded_and_honours_retry_after() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1, 2, 4, 8, 8]
    assert backoff_delay(1, retry_after=3) == 3
    assert backoff_delay(1, retry_after=600) == 30


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


# --- catalog and imports -------------------------------------------------------------


def test_catalog_knows_gpt_4o() -> None:
    info = model_info("gpt-4o")
    assert info is not None
    assert info.supports_function_calling
    assert info.max_input_tokens and info.max_input_tokens >= 100_000
    assert info.input_cost_per_token and info.output_cost_per_token
    prefixed = model_info("openai/gpt-4o")
    assert prefixed is not None and prefixed.max_input_tokens == info.max_input_tokens


def test_catalog_unknown_model() -> None:
    assert model_info("no-such-model-anywhere") is None
    assert model_info("ollama/no-such-model") is None


def test_tiktoken_cache_dir_has_files() -> None:
    folder = tiktoken_cache_dir()
    assert folder is not None
    import os

    assert os.listdir(folder)


def test_provider_list_matches_installed_litellm() -> None:
    LiteLLMClient.preload()
    import litellm

    installed = {str(getattr(p, "value", p)) for p in litellm.provider_list}
    assert installed == LITELLM_PROVIDERS


def test_import_does_not_load_litellm() -> None:
    code = (
        "import sys, oi_voice.llm\n"
        "print(sorted(m for m in ('litellm', 'openai', 'aiohttp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_litellm_tool_calls_need_no_mcp(llm_server: ScriptedLLM) -> None:
    # litellm 1.106.2 imports mcp on a call with tools unless told not to; oi_voice does not
    # depend on mcp, so a tool call must work where it cannot be imported.
    llm_server.add(tool_call("python", "print(6*7)", call_id="call_1"))
    code = f"""
import asyncio, importlib.abc, json, sys

class NoMCP(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "mcp" or name.startswith("mcp."):
            raise ImportError("mcp is not installed")
        return None

sys.meta_path.insert(0, NoMCP())
from oi_voice.llm import ChatRequest, LiteLLMClient, ToolCallDelta

async def main():
    request = ChatRequest(model="gpt-4o", messages={MESSAGES!r}, api_base={llm_server.url!r},
                          api_key="sk-test", tools={TOOLS!r})
    parts = [d async for d in LiteLLMClient().stream(request) if isinstance(d, ToolCallDelta)]
    print(json.dumps({{"name": parts[0].name, "arguments": "".join(p.arguments for p in parts),
                      "mcp": "mcp" in sys.modules}}))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["name"] == "execute"
    assert json.loads(result["arguments"]) == {"language": "python", "code": "print(6*7)"}
    assert result["mcp"] is False
