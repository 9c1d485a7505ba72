"""The HTTP server: a real uvicorn on a free port, httpx clients, the scripted model, a real kernel."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from scripted_llm import ScriptedLLM, combine, endless, text, tool_call

from oi_voice import Interpreter
from oi_voice.server import create_app, start
from oi_voice.server.auth import is_loopback
from oi_voice.server.runner import RunningServer

ROOT = Path(__file__).resolve().parents[1]
COMPLETE = {"role": "server", "type": "status", "content": "complete"}
# Generous: only reached when something hangs.
WAIT = 30.0

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


# --- fixtures and helpers -----------------------------------------------------------------



@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OI_VOICE_TOKEN", raising=False)
    shared.reset()
    shared.llm.model = "scripted-model"
    shared.llm.api_base = llm_server.url
    shared.llm.api_key = "sk-test"
    shared.llm.supports_functions = True
    shared.llm.max_retries = 1
    shared.auto_run = False
    shared.approver = None
    shared.gate.always = False
    return shared


@pytest.fixture
def server(interp: Interpreter) -> Iterator[RunningServer]:
    running = start(interp, port=0, approval_timeout=WAIT)
    yield running
    running.stop()


class Api:
    """An httpx client for one server, with an SSE chat helper."""

    def __init__(self, url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=url, headers=headers, timeout=WAIT)

    def chat(self, message: Any, answer: Answer | None = None, *, post: bool = False) -> list[dict[str, Any]]:
        """The chunks of one chat; ``answer(confirmation content)`` gives the approval body (None: none)."""
        request = (self.client.build_request("POST", "/chat", json={"message": message}) if post
                   else self.client.build_request("GET", "/chat", params={"message": message}))
        response = self.client.send(request, stream=True)
        try:
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            chunks = []
            for chunk in sse(response):
                chunks.append(chunk)
                if chunk["type"] == "confirmation" and answer is not None:
                    body = answer(chunk["content"])
                    if body is not None:
                        reply = self.client.post(f"/approvals/{chunk['content']['id']}", json=body)
                        assert reply.status_code == 200, reply.text
            return chunks
        finally:
            response.close()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def api(server: RunningServer) -> Iterator[Api]:
    client = Api(server.url)
    yield client
    client.close()


def sse(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON of each ``data:`` line; every line is one (no comments, no other fields)."""
    for line in response.iter_lines():
        if line:
            assert line.startswith("data: "), line
            yield json.loads(line[len("data: "):])


def run(_content: dict[str, Any]) -> dict[str, Any]:
    return {"decision": "run"}


def tool_results(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def shape(chunks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(role, type, format, start, end) per chunk, runs of content chunks counted once."""
    shapes: list[tuple[Any, ...]] = []
    for c in chunks:
        s = (c["role"], c["type"], c.get("format"), "start" in c, "end" in c)
        if c.get("format") != "active_line" and (not shapes or shapes[-1] != s):
            shapes.append(s)
    return shapes


class ThreadedUvicorn:
    """An app on its own uvicorn and loop in a thread, as ``uvicorn module:app`` would run it."""

    def __init__(self, app: Any) -> None:
        # Listening before the thread starts: requests wait in the backlog, no readiness poll.
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, lifespan="off", log_config=None, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ThreadedUvicorn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(WAIT)
        self.sock.close()


# --- streaming and history ------------------------------------------------------------------------


def test_chat_streams_chunks_in_order_and_history_matches(interp: Interpreter, server: RunningServer,
                                                          api: Api, llm_server: ScriptedLLM) -> None:
    llm_server.add(combine(text("Let me check."), tool_call("python", "print(6*7)")), text("It is 42."))
    chunks = api.chat("what is 6*7?", run)
    assert chunks[-1] == COMPLETE and chunks.count(COMPLETE) == 1
    assert shape(chunks) == [
        ("assistant", "message", None, True, False),
        ("assistant", "message", None, False, False),
        ("assistant", "message", None, False, True),
        ("assistant", "code", "python", True, False),
        ("assistant", "code", "python", False, False),
        ("assistant", "code", "python", False, True),
        ("computer", "confirmation", "execution", False, False),
        ("computer", "console", None, True, False),
        ("computer", "console", "output", False, False),
        ("computer", "console", None, False, True),
        ("assistant", "message", None, True, False),
        ("assistant", "message", None, False, False),
        ("assistant", "message", None, False, True),
        ("server", "status", None, False, False),
    ]
    confirmation = next(c for c in chunks if c["type"] == "confirmation")["content"]
    assert confirmation["id"] and confirmation["content"] == "print(6*7)" and confirmation["risk"]["level"] == "low"
    assert "".join(c["content"] for c in chunks if c.get("format") == "output") == "42\n"

    history = api.client.get("/history")
    assert history.status_code == 200 and history.json() == interp.messages
    assert [(m["role"], m["type"]) for m in history.json()] == [
        ("user", "message"), ("assistant", "message"), ("assistant", "code"),
        ("computer", "console"), ("assistant", "message")]

    # POST, with an LMC message: the same stream, and the conversation goes on.
    llm_server.add(text("Still 42."))
    chunks = api.chat([{"role": "user", "type": "message", "content": "and again?"}], post=True)
    assert "".join(c.get("content", "") for c in chunks if c["type"] == "message") == "Still 42."
    assert chunks[-1] == COMPLETE
    assert api.client.get("/history").json()[-2:] == [
        {"role": "user", "type": "message", "content": "and again?"},
        {"role": "assistant", "type": "message", "content": "Still 42."}]
    assert llm_server.requests[-1]["messages"][1]["content"] == "what is 6*7?"

    assert api.client.post("/reset").json() == {"status": "ok"}
    assert api.client.get("/history").json() == [] and interp.messages == []
    assert api.client.get("/health").json() == {"status": "ok", "busy": False}


# --- approvals --------------------------------------------------------------------------------


def test_declined_run_tells_the_model_and_runs_nothing(interp: Interpreter, api: Api,
                                                      llm_server: ScriptedLLM, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("python", f"open({str(marker)!r}, 'w').write('x')"), text("Fine, I won't."))
    seen: list[list[dict[str, Any]]] = []

    def decline(content: dict[str, Any]) -> dict[str, Any]:
        seen.append(api.client.get("/approvals").json())
        return {"decision": "decline", "reason": "not in my home folder"}

    chunks = api.chat("write the file", decline)
    assert not marker.exists()
    assert seen[0][0]["id"] == next(c for c in chunks if c["type"] == "confirmation")["content"]["id"]
    assert tool_results(llm_server.requests[1]) == ["The user declined to run this code: not in my home folder"]
    assert api.client.get("/approvals").json() == []
    assert chunks[-1] == COMPLETE and interp.messages[-1]["content"] == "Fine, I won't."


def test_approved_run_with_edited_code(interp: Interpreter, api: Api, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print('original')"), text("done"))
    chunks = api.chat("print", lambda _c: {"decision": "run", "code": "print('edited')"})
    assert "".join(c["content"] for c in chunks if c.get("format") == "output") == "edited\n"
    assert next(m for m in interp.messages if m["type"] == "code")["content"] == "print('edited')"


def test_unanswered_run_is_declined_after_the_timeout(interp: Interpreter, llm_server: ScriptedLLM,
                                                      tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("python", f"open({str(marker)!r}, 'w').write('x')"), text("No answer, no run."))
    with start(interp, port=0, approval_timeout=0.2) as running:
        api = Api(running.url)
        chunks = api.chat("write the file")  # nobody answers
        cid = next(c for c in chunks if c["type"] == "confirmation")["content"]["id"]
        assert api.client.post(f"/approvals/{cid}", json={"decision": "run"}).status_code == 404
        api.close()
    assert not marker.exists()
    assert tool_results(llm_server.requests[1]) == [
        "The user declined to run this code: nobody answered within 0.2 seconds"]
    assert chunks[-1] == COMPLETE


def test_approval_requests_are_checked(api: Api, llm_server: ScriptedLLM, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("ok"))
    statuses: dict[str, int] = {}

    def probe(content: dict[str, Any]) -> dict[str, Any]:
        cid = content["id"]
        post = api.client.post
        statuses["unknown id"] = post("/approvals/c999", json={"decision": "run"}).status_code
        # "always" would approve later runs too: not on offer over HTTP.
        statuses["always"] = post(f"/approvals/{cid}", json={"decision": "run", "always": True}).status_code
        statuses["auto_run"] = post(f"/approvals/{cid}", json={"decision": "run", "auto_run": True}).status_code
        statuses["bad decision"] = post(f"/approvals/{cid}", json={"decision": "maybe"}).status_code
        statuses["reason on run"] = post(f"/approvals/{cid}", json={"decision": "run", "reason": "x"}).status_code
        statuses["code on decline"] = post(f"/approvals/{cid}",
                                           json={"decision": "decline", "code": "x"}).status_code
        statuses["bad json"] = post(f"/approvals/{cid}", content=b"{decision: run",
                                    headers={"content-type": "application/json"}).status_code
        return {"decision": "decline"}

    api.chat("touch it", probe)
    assert statuses == {"unknown id": 404, "always": 422, "auto_run": 422, "bad decision": 422,
                        "reason on run": 422, "code on decline": 422, "bad json": 400}
    assert not marker.exists()


# --- one turn at a time ---------------------------------------------------------------------------


def test_second_chat_while_busy_gets_409(interp: Interpreter, api: Api, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print('first')"), text("first done"))
    during: dict[str, Any] = {}

    def meanwhile(content: dict[str, Any]) -> dict[str, Any]:
        # The turn waits for this answer: everything here happens while it is busy.
        during["chat"] = api.client.get("/chat", params={"message": "second"}).status_code
        during["post chat"] = api.client.post("/chat", json={"message": "second"}).status_code
        during["reset"] = api.client.post("/reset").status_code
        during["health"] = api.client.get("/health").json()
        during["history"] = len(api.client.get("/history").json())
        return {"decision": "run"}

    chunks = api.chat("first", meanwhile)
    assert during == {"chat": 409, "post chat": 409, "reset": 409, "health": {"status": "ok", "busy": True},
                      "history": 2}
    assert len(llm_server.requests) == 2  # the refused chats never reached the model
    # Nothing of a second turn is mixed into the first one's stream.
    assert [c["content"] for c in chunks if c.get("format") == "output"] == ["first\n"]
    assert [m["content"] for m in interp.messages if m["role"] == "user"] == ["first"]
    llm_server.add(text("second done"))
    assert api.chat("second")[-2]["role"] == "assistant"
    assert interp.messages[-1]["content"] == "second done"


# --- disconnects ------------------------------------------------------------------------------------


def test_disconnect_during_a_run_interrupts_it_and_the_next_chat_works(
        interp: Interpreter, server: RunningServer, api: Api, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "import time; print('x', flush=True); time.sleep(60)"))
    with api.client.stream("GET", "/chat", params={"message": "sleep"}) as response:
        for chunk in sse(response):
            if chunk["type"] == "confirmation":
                assert api.client.post(f"/approvals/{chunk['content']['id']}",
                                       json={"decision": "run"}).status_code == 200
            if chunk.get("format") == "output" and chunk["content"] == "x\n":
                break  # the code is sleeping now; leaving closes the connection
    assert server.state.wait_idle(WAIT)
    assert not interp.busy
    assert [(m["role"], m["type"]) for m in interp.messages] == [
        ("user", "message"), ("assistant", "code"), ("computer", "console")]
    assert interp.messages[-1]["content"].startswith("x\n") and "cancelled" in interp.messages[-1]["content"]

    # The kernel was interrupted: the next run answers at once (the read timeout is
    # far below the 60 s sleep), in the same kernel.
    llm_server.add(tool_call("python", "print('after')"), text("awake"))
    chunks = api.chat("again", run)
    assert [c["content"] for c in chunks if c.get("format") == "output"] == ["after\n"]
    assert chunks[-1] == COMPLETE and interp.messages[-1]["content"] == "awake"
    assert not interp.computer.impl.is_running
    # What the model saw of the cut turn: its code and the output it got to.
    assert "[Stopped: the turn was cancelled.]" in tool_results(llm_server.requests[1])[0]


def test_disconnect_at_a_confirmation_runs_nothing(interp: Interpreter, server: RunningServer, api: Api,
                                                   llm_server: ScriptedLLM, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("python", f"open({str(marker)!r}, 'w').write('x')"))
    with api.client.stream("GET", "/chat", params={"message": "write"}) as response:
        for chunk in sse(response):
            if chunk["type"] == "confirmation":
                cid = chunk["content"]["id"]
                break
    assert server.state.wait_idle(WAIT)
    assert interp.gate.pending() == [] and api.client.get("/approvals").json() == []
    assert api.client.post(f"/approvals/{cid}", json={"decision": "run"}).status_code == 404
    assert not marker.exists()
    assert [(m["role"], m["type"]) for m in interp.messages] == [
        ("user", "message"), ("assistant", "code"), ("computer", "console")]
    assert "not run" in interp.messages[-1]["content"] and "cancelled" in interp.messages[-1]["content"]


def test_disconnect_while_the_model_streams(interp: Interpreter, server: RunningServer, api: Api,
                                            llm_server: ScriptedLLM) -> None:
    llm_server.add(endless("la "))
    with api.client.stream("GET", "/chat", params={"message": "sing"}) as response:
        for n, _chunk in enumerate(sse(response)):
            if n == 5:
                break
    assert server.state.wait_idle(WAIT)
    llm_server.wait_for_disconnects(1, timeout=WAIT)  # the model's stream was closed too
    assert interp.messages[0] == {"role": "user", "type": "message", "content": "sing"}
    assert all(m["role"] != "computer" for m in interp.messages)
    llm_server.add(text("quiet now"))
    assert api.chat("stop singing")[-1] == COMPLETE
    assert interp.messages[-1] == {"role": "assistant", "type": "message", "content": "quiet now"}


# --- authentication and request checks ------------------------------------------------------------


def test_token_is_required_when_set(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    with start(interp, port=0, token="s3cret-token") as running:
        url = running.url
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-token"},
                        {"Authorization": "Bearer s3cret-token-and-more"}):
            for method, path in (("GET", "/health"), ("GET", "/history"), ("GET", "/chat?message=hi"),
                                 ("POST", "/reset"), ("POST", "/approvals/c1")):
                response = httpx.request(method, url + path, headers=headers, timeout=WAIT)
                assert response.status_code == 401, (headers, path)
                assert response.headers["www-authenticate"].startswith("Bearer")
        assert llm_server.requests == []  # nothing reached the model
        good = Api(url, token="s3cret-token")
        assert good.client.get("/health").status_code == 200
        llm_server.add(text("authorised"))
        assert good.chat("hello")[-1] == COMPLETE
        # With a token, any Host name is fine (the token, not the name, is the check).
        assert good.client.get("/health", headers={"Host": "example.com"}).status_code == 200
        good.close()


def test_other_addresses_need_a_token(interp: Interpreter, monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    with start(interp, host="0.0.0.0", port=0) as running:
        assert running.token_generated and running.token and len(running.token) >= 32
        local = f"http://127.0.0.1:{running.port}"
        assert httpx.get(local + "/health", timeout=WAIT).status_code == 401
        assert httpx.get(local + "/health", headers={"Authorization": f"Bearer {running.token}"},
                         timeout=WAIT).status_code == 200
    monkeypatch.setenv("OI_VOICE_TOKEN", "from-the-environment")
    with start(interp, host="0.0.0.0", port=0) as running:
        assert running.token == "from-the-environment" and not running.token_generated
        headers = {"Authorization": "Bearer from-the-environment"}
        assert httpx.get(f"http://127.0.0.1:{running.port}/health", headers=headers,
                         timeout=WAIT).status_code == 200


def test_web_pages_cannot_drive_the_server(interp: Interpreter, api: Api, llm_server: ScriptedLLM) -> None:
    get = api.client.get
    # DNS rebinding: a foreign name that resolves to 127.0.0.1.
    assert get("/health", headers={"Host": "attacker.example"}).status_code == 400
    # CSRF: a page on another site (fetch sends Origin; an <img> sends Sec-Fetch-Site).
    assert get("/chat", params={"message": "x"}, headers={"Origin": "https://attacker.example"}).status_code == 403
    assert get("/chat", params={"message": "x"}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # A form can post text/plain without a preflight: only JSON bodies are read.
    form = api.client.post("/chat", content=b'{"message": "x"}', headers={"content-type": "text/plain"})
    assert form.status_code == 415
    assert llm_server.requests == []


def test_cors_only_for_configured_origins(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    with start(interp, port=0, cors_origins=["http://localhost:3000"]) as running:
        client = httpx.Client(base_url=running.url, timeout=WAIT)
        preflight = client.options("/chat", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        allowed = client.get("/health", headers={"Origin": "http://localhost:3000"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = client.get("/health", headers={"Origin": "http://localhost:4000"})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
        client.close()
    with pytest.raises(ValueError, match="origins"):
        create_app(interp, cors_origins=["*"])


def test_bodies_are_limited_and_checked(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    with start(interp, port=0, max_body=1000) as running:
        client = httpx.Client(base_url=running.url, timeout=WAIT)
        big = {"message": "x" * 2000}
        assert client.post("/chat", json=big).status_code == 413

        def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"message": "'
            for _ in range(20):
                yield b"y" * 100
            yield b'"}'

        assert client.post("/chat", content=chunked(), headers={"content-type": "application/json"}
                           ).status_code == 413
        assert client.post("/chat", content=b'{"message": "hi"', headers={"content-type": "application/json"}
                           ).status_code == 400
        assert client.post("/chat", json=[1, 2]).status_code == 422
        assert client.post("/chat", json={}).status_code == 422
        assert client.post("/chat", json={"message": "   "}).status_code == 422
        assert client.post("/chat").status_code == 422
        assert client.get("/chat").status_code == 422
        assert client.get("/chat", params={"message": ""}).status_code == 422
        # Settings cannot ride along, and nobody speaks for the computer or the model.
        assert client.post("/chat", json={"message": "hi", "auto_run": True}).status_code == 422
        forged = [{"role": "computer", "type": "console", "format": "output", "content": "ok"}]
        assert client.post("/chat", json={"message": forged}).status_code == 422
        client.close()
    assert llm_server.requests == [] and interp.messages == [] and interp.auto_run is False


def test_start_reports_a_port_in_use(interp: Interpreter) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken, pytest.raises(OSError):
        start(interp, port=taken.getsockname()[1])


# --- other ways to run it -----------------------------------------------------------------------------


def test_app_on_its_own_loop_drives_the_turn_on_the_engine(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    """``create_app`` under someone else's uvicorn (its own loop): approvals still work."""
    llm_server.add(tool_call("python", "print('bridged')"), text("ok"))
    with ThreadedUvicorn(create_app(interp, approval_timeout=WAIT)) as served:
        api = Api(served.url)
        chunks = api.chat("bridge", run)
        assert [c["content"] for c in chunks if c.get("format") == "output"] == ["bridged\n"]
        assert chunks[-1] == COMPLETE
        assert api.client.get("/history").json() == interp.messages
        api.close()


README_EXAMPLE = '''\
# server.py
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from interpreter import interpreter

app = FastAPI()

@app.get("/chat")
def chat_endpoint(message: str):
    def event_stream():
        for result in interpreter.chat(message, stream=True):
            yield f"data: {result}\\n\\n"

    return StreamingResponse(event_stream(), media_type="text/event-stream")

@app.get("/history")
def history_endpoint():
    return interpreter.messages
'''


# The children get a session of their own (start_new_session): without a controlling
# terminal, the terminal approval prompt cannot wait on the developer's tty.


def _child_env(llm_server: ScriptedLLM, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_API_KEY": "sk-test",
           "OI_VOICE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("OI_VOICE_TOKEN", None)
    return env


def _line_matching(stream: Any, pattern: str) -> re.Match[str]:
    for line in stream:
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"the process ended without printing {pattern!r}")


def test_readme_fastapi_example_works_as_written(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """Open Interpreter's README server, with ``from oi_voice import interpreter``, under uvicorn.

    The stream's consumer never approves, so with auto_run off the run is declined:
    it streams, and nothing runs unapproved.
    """
    marker = tmp_path / "ran.txt"
    llm_server.add(combine(text("Writing it."), tool_call("python", f"open({str(marker)!r}, 'w').write('x')")),
                   text("Understood, not written."))
    (tmp_path / "server.py").write_text(README_EXAMPLE.replace("from interpreter import", "from oi_voice import"))
    child = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server:app", "--host", "127.0.0.1", "--port", "0"],
        cwd=tmp_path, env=_child_env(llm_server, tmp_path), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        url = _line_matching(child.stderr, r"Uvicorn running on (http://\S+)").group(1)
        results = []
        with httpx.stream("GET", url + "/chat", params={"message": "write the file"}, timeout=WAIT) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line:
                    assert line.startswith("data: ")
                    results.append(ast.literal_eval(line[len("data: "):]))  # the example sends dict reprs
        history = httpx.get(url + "/history", timeout=WAIT).json()
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=WAIT)
    assert any(r["type"] == "confirmation" for r in results)
    assert "".join(r.get("content", "") for r in results if r["type"] == "message") == (
        "Writing it.Understood, not written.")
    assert not marker.exists()
    assert tool_results(llm_server.requests[1])[0].startswith("The user declined to run this code")
    assert [(m["role"], m["type"]) for m in history] == [
        ("user", "message"), ("assistant", "message"), ("assistant", "code"), ("computer", "console"),
        ("assistant", "message")]


def test_interpreter_server_prints_a_token_and_stops_on_ctrl_c(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """``interpreter.server(host="0.0.0.0")`` in a process: token printed and required; Ctrl-C
    during a streaming turn ends the stream properly and the process exits cleanly."""
    code = "from oi_voice import interpreter; interpreter.server(host='0.0.0.0', port=0)"
    env = {**_child_env(llm_server, tmp_path), "OI_VOICE_PREWARM": "0"}
    child = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert child.stdout is not None
        port = _line_matching(child.stdout, r"serving on http://0\.0\.0\.0:(\d+)").group(1)
        token = _line_matching(child.stdout, r"Token: (\S+)").group(1)
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/health", timeout=WAIT).status_code == 401
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url + "/health", headers=headers, timeout=WAIT).json()["status"] == "ok"
        llm_server.add(endless("la "))
        chunks = []
        with httpx.stream("GET", url + "/chat", params={"message": "sing"}, headers=headers,
                          timeout=WAIT) as response:
            for chunk in sse(response):
                chunks.append(chunk)
                if len(chunks) == 3:
                    child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=WAIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err[-3000:]
    assert chunks[-2]["type"] == "error" and "shutting down" in chunks[-2]["content"]
    assert chunks[-1] == COMPLETE
    assert "Stopping" in err


def test_oi_server_flags(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """``oi --server --host H --port P --token T`` serves, requires T, and stops on Ctrl-C."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    code = "import sys; from oi_voice.cli.main import main; sys.exit(main())"
    env = {**_child_env(llm_server, tmp_path), "OI_VOICE_PREWARM": "0"}
    child = subprocess.Popen(
        [sys.executable, "-c", code, "--server", "--host", "127.0.0.1", "--port", str(port), "--token", "flag-token"],
        cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        assert child.stdout is not None
        assert _line_matching(child.stdout, r"serving on (http://\S+)").group(1) == f"http://127.0.0.1:{port}"
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/health", timeout=WAIT).status_code == 401
        assert httpx.get(url + "/health", headers={"Authorization": "Bearer flag-token"},
                         timeout=WAIT).status_code == 200
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=WAIT)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err[-3000:]
