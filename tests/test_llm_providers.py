"""Providers other than OpenAI-compatible servers, through real litellm: Anthropic's Messages
API and Ollama's native API, each faked by a stdlib HTTP server on 127.0.0.1 that speaks
the provider's wire format (Anthropic: SSE events; Ollama: NDJSON on /api/chat)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from helpers import point_at
from test_cli_harness import OIRunner, oi_fixture  # noqa: F401  (the oi fixture)

from oi_voice import Interpreter
from oi_voice.errors import LLMBadRequestError, LLMError, LLMServerError
from oi_voice.llm import ChatRequest, LiteLLMClient, TextDelta, ToolCallDelta
from oi_voice.llm.capabilities import USER_AGENT, known_tool_support, ollama_target, tools_from_show
from oi_voice.llm.mapping import provider_words

#: What Anthropic answers an account without credit (its documented error shape).
CREDIT = "Your credit balance is too low to access the Anthropic API."
ANTHROPIC_400 = {"type": "error", "error": {"type": "invalid_request_error", "message": CREDIT}}

Handler = Callable[[BaseHTTPRequestHandler, str, dict[str, Any]], None]


class FakeProvider:
    """A provider's HTTP API on 127.0.0.1; ``routes`` maps a path to what it answers.
    Every request is logged as (path, JSON body)."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.agents: list[tuple[str, str]] = []
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                owner.requests.append((self.path, body))
                owner.agents.append((self.path, self.headers.get("user-agent", "")))
                route = owner.routes.get(self.path)
                if route is None:
                    send_json(self, 404, {"error": f"no route {self.path}"})
                else:
                    route(self, self.path, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_json(h: BaseHTTPRequestHandler, code: int, data: Any) -> None:
    raw = json.dumps(data).encode()
    h.send_response(code)
    h.send_header("content-type", "application/json")
    h.send_header("content-length", str(len(raw)))
    h.end_headers()
    h.wfile.write(raw)


def send_stream(h: BaseHTTPRequestHandler, content_type: str, pieces: list[str]) -> None:
    h.send_response(200)
    h.send_header("content-type", content_type)
    h.send_header("connection", "close")
    h.end_headers()
    for piece in pieces:
        h.wfile.write(piece.encode())
        h.wfile.flush()
    h.close_connection = True


def anthropic_events(*events: tuple[str, dict[str, Any]]) -> Handler:
    """An Anthropic Messages stream: ``event: NAME`` / ``data: JSON`` pairs."""
    def serve(h: BaseHTTPRequestHandler, _path: str, _body: dict[str, Any]) -> None:
        send_stream(h, "text/event-stream", [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events])
    return serve


MESSAGE_START = ("message_start", {"type": "message_start", "message": {
    "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-fake",
    "stop_reason": None, "usage": {"input_tokens": 12, "output_tokens": 1}}})


def collect(model: str, api_base: str) -> tuple[list[Any], LLMError | None]:
    async def go() -> tuple[list[Any], LLMError | None]:
        deltas: list[Any] = []
        request = ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}], api_base=api_base,
                              api_key="sk-ant-test", max_attempts=1, timeout=20)
        try:
            async for delta in LiteLLMClient().stream(request):
                deltas.append(delta)
        except LLMError as exc:
            return deltas, exc
        return deltas, None
    return asyncio.run(go())


# --- Anthropic: errors in words ------------------------------------------------------


def test_anthropic_error_body_becomes_its_message() -> None:
    def reject(h: BaseHTTPRequestHandler, _p: str, _b: dict[str, Any]) -> None:
        send_json(h, 400, ANTHROPIC_400)

    with FakeProvider({"/v1/messages": reject}) as fake:
        deltas, error = collect("anthropic/claude-fake", fake.url)
    assert deltas == []
    assert isinstance(error, LLMBadRequestError) and error.status == 400
    # One readable line: the provider's words, no bytes literal, no JSON, no class names.
    assert str(error) == f"the model server at {fake.url} rejected the request (400): {CREDIT}"


def test_anthropic_error_event_mid_stream_becomes_its_message() -> None:
    overloaded = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    with FakeProvider({"/v1/messages": anthropic_events(MESSAGE_START, overloaded)}) as fake:
        _, error = collect("anthropic/claude-fake", fake.url)
    assert isinstance(error, LLMServerError)
    assert str(error).endswith(": Overloaded"), str(error)
    assert "litellm" not in str(error) and "Original exception" not in str(error)


def test_anthropic_stream_text_and_tool_use_arrive() -> None:
    # The fake is the real wire format: litellm turns it into text and a tool call.
    events = [
        MESSAGE_START,
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Let me run it."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": "execute", "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
            "type": "input_json_delta", "partial_json": '{"language": "python", '}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
            "type": "input_json_delta", "partial_json": '"code": "print(6*7)"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                           "usage": {"output_tokens": 20}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    with FakeProvider({"/v1/messages": anthropic_events(*events)}) as fake:
        deltas, error = collect("anthropic/claude-fake", fake.url)
    assert error is None
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == "Let me run it."
    args = "".join(d.arguments for d in deltas if isinstance(d, ToolCallDelta))
    assert json.loads(args) == {"language": "python", "code": "print(6*7)"}


def test_oi_prints_the_providers_words_on_stderr(oi: OIRunner) -> None:
    def reject(h: BaseHTTPRequestHandler, _p: str, _b: dict[str, Any]) -> None:
        send_json(h, 400, ANTHROPIC_400)

    with FakeProvider({"/v1/messages": reject}) as fake:
        result = oi.run("-m", "anthropic/claude-fake", "-ab", fake.url, "-ak", "sk-ant-test", "hello")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].endswith(f"(400): {CREDIT}"), result.stderr
    assert "Error" not in result.stdout and "b'" not in result.stdout + result.stderr


@pytest.mark.parametrize(("raw", "words"), [
    ("litellm.BadRequestError: AnthropicException - b'" + json.dumps(ANTHROPIC_400) + "'", CREDIT),
    ('litellm.NotFoundError: OllamaException - {"error":"model \\"x\\" not found, try pulling it first"}',
     'model "x" not found, try pulling it first'),
    ("litellm.InternalServerError: AnthropicError - Overloaded Original exception: InternalServerError: x",
     "Overloaded"),
    ('OpenAIException - {"error": {"message": "The model `gpt-9` does not exist", "type": "x"}}',
     "The model `gpt-9` does not exist"),
    ("plain words\n  on two lines", "plain words on two lines"),
])
def test_provider_words(raw: str, words: str) -> None:
    assert provider_words(raw) == words


# --- Ollama: tool calls when the server says the model takes them -------------------------


def ollama_routes(capabilities: list[str] | None, replies: list[list[dict[str, Any]]]) -> dict[str, Handler]:
    """/api/show with ``capabilities``; /api/chat answering with ``replies`` in turn (NDJSON)."""
    queue = list(replies)

    def show(h: BaseHTTPRequestHandler, _p: str, body: dict[str, Any]) -> None:
        info: dict[str, Any] = {"modelfile": "", "template": "{{ .Prompt }}", "details": {"family": "qwen2"},
                                "model_info": {"qwen2.context_length": 32768}}
        if capabilities is not None:
            info["capabilities"] = capabilities
        send_json(h, 200, info)

    def chat(h: BaseHTTPRequestHandler, _p: str, body: dict[str, Any]) -> None:
        lines = queue.pop(0)
        send_stream(h, "application/x-ndjson", [json.dumps(line) + "\n" for line in lines])

    return {"/api/show": show, "/api/chat": chat}


def ollama_reply(content: str = "", tool_calls: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return [
        {"model": "house-coder:7b", "created_at": "2026-12-06T00:00:00Z", "message": message, "done": False},
        {"model": "house-coder:7b", "created_at": "2026-12-06T00:00:01Z",
         "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
         "prompt_eval_count": 30, "eval_count": 9},
    ]


@pytest.fixture(scope="module")
def interp() -> Iterator[Interpreter]:
    owner = Interpreter()
    yield owner
    owner.close()


def test_ollama_model_litellm_does_not_know_gets_tool_calls(interp: Interpreter) -> None:
    call = {"function": {"name": "execute", "arguments": {"language": "python", "code": "print(6*7)"}}}
    replies = [ollama_reply(tool_calls=[call]), ollama_reply("It is 42."), ollama_reply("Still here.")]
    with FakeProvider(ollama_routes(["completion", "tools"], replies)) as fake:
        model = "ollama/house-coder:7b"
        point_at(interp, fake.url, llm__model=model, llm__supports_functions=None, auto_run=True)
        assert not interp.llm.resolved_functions()  # litellm's list does not know it
        added = interp.chat("What is 6*7?", display=False)
        interp.chat("And now?", display=False)
    chats = [body for path, body in fake.requests if path == "/api/chat"]
    assert len(chats) == 3
    assert chats[0]["tools"][0]["function"]["name"] == "execute"  # native tools, on /api/chat
    assert "format" not in chats[0]  # not litellm's forced-JSON emulation
    outputs = [m["content"] for m in added if m.get("type") == "console"]
    assert outputs == ["42\n"]
    assert added[-1]["content"] == "It is 42."
    # Asked once per server and model, then remembered (litellm asks on its own too).
    assert fake.agents.count(("/api/show", USER_AGENT)) == 1
    assert known_tool_support(model, fake.url) is True
    assert interp.llm.resolved_functions()


def openai_stream(*deltas: dict[str, Any], finish: str) -> list[str]:
    """An OpenAI chat.completion.chunk SSE stream of ``deltas``."""
    chunks = [{"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
               "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]


def test_a_bare_model_on_ollamas_openai_endpoint_gets_tool_calls(interp: Interpreter) -> None:
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "execute", "arguments": json.dumps({"language": "python", "code": "print(5*5)"})}}
    replies = [openai_stream({"role": "assistant", "tool_calls": [call]}, finish="tool_calls"),
               openai_stream({"role": "assistant", "content": "It is 25."}, finish="stop")]

    def chat(h: BaseHTTPRequestHandler, _p: str, _b: dict[str, Any]) -> None:
        send_stream(h, "text/event-stream", replies.pop(0))

    routes = {**ollama_routes(["completion", "tools"], []), "/v1/chat/completions": chat}
    with FakeProvider(routes) as fake:
        point_at(interp, fake.url + "/v1", llm__model="house-coder:7b", llm__supports_functions=None,
                 auto_run=True)
        added = interp.chat("What is 5*5?", display=False)
    chats = [body for path, body in fake.requests if path == "/v1/chat/completions"]
    assert chats[0]["tools"][0]["function"]["name"] == "execute"
    assert [m["content"] for m in added if m.get("type") == "console"] == ["25\n"]
    assert ("/api/show", USER_AGENT) in fake.agents


def test_a_server_that_is_not_ollama_is_not_asked_every_turn(interp: Interpreter) -> None:
    def chat(h: BaseHTTPRequestHandler, _p: str, _b: dict[str, Any]) -> None:
        send_stream(h, "text/event-stream", openai_stream({"role": "assistant", "content": "Hi."}, finish="stop"))

    with FakeProvider({"/v1/chat/completions": chat}) as fake:  # /api/show: 404, as LM Studio answers
        point_at(interp, fake.url + "/v1", llm__model="other-model", llm__supports_functions=None)
        interp.chat("one", display=False)
        interp.chat("two", display=False)
    assert [path for path, _ in fake.requests].count("/api/show") == 1
    chats = [body for path, body in fake.requests if path == "/v1/chat/completions"]
    assert len(chats) == 2 and "tools" not in chats[0]  # unknown model, no word from the server: fences


def test_ollama_model_without_tools_gets_markdown_fences(interp: Interpreter) -> None:
    replies = [ollama_reply("```python\nprint(7*6)\n```"), ollama_reply("Done.")]
    with FakeProvider(ollama_routes(["completion"], replies)) as fake:
        point_at(interp, fake.url, llm__model="ollama_chat/plain-model:1b", llm__supports_functions=None, auto_run=True)
        added = interp.chat("What is 7*6?", display=False)
    chats = [body for path, body in fake.requests if path == "/api/chat"]
    assert "tools" not in chats[0]
    assert [m["content"] for m in added if m.get("type") == "console"] == ["42\n"]


def test_setting_wins_over_the_server(interp: Interpreter) -> None:
    with FakeProvider(ollama_routes(["completion", "tools"], [ollama_reply("Hi.")])) as fake:
        point_at(interp, fake.url, llm__model="ollama_chat/other-model:1b", llm__supports_functions=False)
        interp.chat("hello", display=False)
    assert ("/api/show", USER_AGENT) not in fake.agents
    assert "tools" not in next(body for path, body in fake.requests if path == "/api/chat")


def test_what_show_says() -> None:
    assert tools_from_show({"capabilities": ["completion", "tools"]}) is True
    assert tools_from_show({"capabilities": ["completion", "vision"]}) is False
    # Ollama before 0.6 has no capabilities: its template mentions .Tools when the model takes them.
    assert tools_from_show({"template": "{{- if .Tools }}{{ .Tools }}{{ end }}"}) is True
    assert tools_from_show({"template": "{{ .Prompt }}"}) is False
    assert tools_from_show({"error": "not found"}) is None
    assert ollama_target("ollama_chat/m:1b", "http://h:11434/api/chat/") == ("http://h:11434", "m:1b")
    assert ollama_target("gpt-4o", None) is None
    assert ollama_target("qwen:7b", "http://h:11434/v1") == ("http://h:11434", "qwen:7b")
    assert ollama_target("anthropic/claude-x", "http://h:1") is None
