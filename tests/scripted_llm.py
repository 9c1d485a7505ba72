"""A scripted OpenAI-compatible model server for tests.

``ScriptedLLM`` is a real HTTP server on 127.0.0.1 (a free port, a background thread)
that answers each ``POST /v1/chat/completions`` with the next queued reply, streamed as
server-sent events in the shape OpenAI sends (role chunk, content or tool-call chunks,
a finish chunk, a usage chunk, ``data: [DONE]``). It logs every request body and its
headers so tests can assert what a client sent. Both our own OpenAI-compatible client
and litellm (through the openai SDK) talk to it.

Replies are built with the module-level functions ``text``, ``tool_call``,
``raw_tool_call``, ``combine``, ``status``, ``refuse``, ``cut``, ``malformed``,
``silence``, ``stall``, ``endless``, ``delay`` and ``fragmented``::

    with ScriptedLLM() as llm:
        llm.add(text("Hello there", chunks=3), tool_call("python", "print(1)"))
        ...  # point a client at llm.url
        assert llm.requests[0]["model"] == "gpt-4o"

An empty queue answers 500 "scripted server: no reply queued", so a test that makes one
request too many fails loudly instead of hanging.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "Headers",
    "Reply",
    "ScriptedLLM",
    "combine",
    "cut",
    "delay",
    "endless",
    "fragmented",
    "malformed",
    "raw_tool_call",
    "refuse",
    "silence",
    "stall",
    "status",
    "text",
    "tool_call",
]

_ids = itertools.count(1)


# --- replies -------------------------------------------------------------------------


class _Chunker:
    """Builds ``chat.completion.chunk`` events for one reply, as OpenAI shapes them."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.model = str(body.get("model", "scripted"))
        self.id = f"chatcmpl-scripted{next(_ids)}"
        self.created = int(time.time())

    def __call__(self, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> str:
        payload: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            # The usage chunk (stream_options.include_usage) has no choices at all.
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": usage,
        }
        return "data: " + json.dumps(payload, separators=(",", ":")) + "\n\n"


class Reply:
    """One scripted answer to one request. Build them with the module functions."""

    def serve(self, conn: _Conn) -> None:  # pragma: no cover - abstract
        """Write this reply on ``conn``."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Stream(Reply):
    """A streamed completion: a list of ``delta`` dicts, then finish, usage and [DONE]."""

    deltas: tuple[dict[str, Any], ...]
    finish_reason: str | None = "stop"
    usage: tuple[int, int] | None = None
    #: Raw SSE lines inserted before the delta with this index (malformed data).
    inserts: tuple[tuple[int, str], ...] = ()
    #: Send only this many deltas, then close the connection (a cut stream).
    cut_after: int | None = None
    #: Seconds of silence before that close (a stream that stalls mid-reply).
    stall: float = 0.0

    def serve(self, conn: _Conn) -> None:
        conn.start_stream()
        chunk = _Chunker(conn.body)
        # OpenAI opens every stream with a role-only chunk.
        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        inserts = dict(self.inserts)
        for i, delta in enumerate(self.deltas):
            if i in inserts:
                events.append(inserts[i] + "\n\n")
            if self.cut_after is not None and i >= self.cut_after:
                break
            events.append(chunk(delta))
        else:
            if self.cut_after is None:
                prompt, completion = self.usage or (_prompt_tokens(conn.body), max(1, len(self.deltas)))
                usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                }
                events += [chunk({}, self.finish_reason), chunk(None, usage=usage), "data: [DONE]\n\n"]
        for event in events:
            if not conn.send_event(event):
                return
        if self.cut_after is None:
            conn.end_stream()
        else:
            if self.stall:
                conn.wait(self.stall)
            conn.cut()


def _prompt_tokens(body: dict[str, Any]) -> int:
    # A deterministic stand-in for a tokenizer: about four characters a token.
    return max(1, len(json.dumps(body.get("messages", []))) // 4)


def _split(s: str, chunks: int | Sequence[str] | None) -> list[str]:
    if chunks is None:
        chunks = 1
    if not isinstance(chunks, int):
        pieces = list(chunks)
        if "".join(pieces) != s:
            raise ValueError("chunks must concatenate to the text")
        return pieces
    n = max(1, min(chunks, len(s))) if s else 1
    size, extra = divmod(len(s), n)
    out, pos = [], 0
    for i in range(n):
        step = size + (1 if i < extra else 0)
        out.append(s[pos : pos + step])
        pos += step
    return out


def text(
    s: str,
    *,
    chunks: int | Sequence[str] | None = None,
    finish_reason: str = "stop",
    usage: tuple[int, int] | None = None,
) -> Reply:
    """A text reply, streamed in ``chunks`` pieces (a count, or the exact pieces)."""
    return _Stream(
        deltas=tuple({"content": piece} for piece in _split(s, chunks) if piece),
        finish_reason=finish_reason,
        usage=usage,
    )


def raw_tool_call(
    name: str,
    arguments: str,
    *,
    fragments: int = 4,
    call_id: str | None = None,
    text_before: str = "",
    index: int = 0,
) -> Reply:
    """A native tool call whose arguments text is sent as is (may be invalid JSON), split
    into ``fragments`` pieces across events the way OpenAI does: id, type and name with
    empty arguments first, then argument fragments with only the index."""
    deltas: list[dict[str, Any]] = []
    if text_before:
        deltas.append({"content": text_before})
    call_id = call_id or f"call_scripted{next(_ids)}"
    deltas.append(
        {
            "tool_calls": [
                {
                    "index": index,
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
            ]
        }
    )
    for piece in _split(arguments, fragments):
        if piece:
            deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    return _Stream(deltas=tuple(deltas), finish_reason="tool_calls")


def tool_call(
    language: str,
    code: str,
    *,
    name: str = "execute",
    fragments: int = 4,
    call_id: str | None = None,
    text_before: str = "",
) -> Reply:
    """An ``execute(language, code)`` tool call, arguments JSON split into fragments."""
    arguments = json.dumps({"language": language, "code": code})
    return raw_tool_call(name, arguments, fragments=fragments, call_id=call_id, text_before=text_before)


def combine(*replies: Reply) -> Reply:
    """One streamed reply made of several: text then tool calls, or several tool calls
    (each later tool call gets the next index). The last reply's finish reason wins."""
    deltas: list[dict[str, Any]] = []
    next_index = 0
    finish: str | None = "stop"
    for reply in replies:
        if not isinstance(reply, _Stream):
            raise TypeError("combine() takes text and tool-call replies only")
        shift = next_index
        for delta in reply.deltas:
            if "tool_calls" in delta:
                calls = [{**c, "index": c["index"] + shift} for c in delta["tool_calls"]]
                next_index = max(next_index, *(c["index"] + 1 for c in calls))
                delta = {**delta, "tool_calls": calls}
            deltas.append(delta)
        finish = reply.finish_reason
    return _Stream(deltas=tuple(deltas), finish_reason=finish)


@dataclass(frozen=True)
class _Status(Reply):
    code: int
    body: str
    retry_after: float | None

    def serve(self, conn: _Conn) -> None:
        body = self.body or json.dumps(
            {
                "error": {
                    "message": f"scripted status {self.code}",
                    "type": "scripted_error",
                    "param": None,
                    "code": str(self.code),
                }
            }
        )
        headers = {} if self.retry_after is None else {"Retry-After": _num(self.retry_after)}
        conn.send_json(self.code, body, headers)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def status(code: int, body: str = "", retry_after: float | None = None) -> Reply:
    """A non-200 answer with an OpenAI-style error JSON (or ``body`` as given)."""
    return _Status(code, body, retry_after)


@dataclass(frozen=True)
class _Refuse(Reply):
    def serve(self, conn: _Conn) -> None:
        conn.cut()


def refuse() -> Reply:
    """Read the request, then close the connection without any response."""
    return _Refuse()


def cut(after_chunks: int, reply: Reply) -> Reply:
    """Send the headers and the first ``after_chunks`` content/tool-call events of
    ``reply`` (after the role chunk), then close the connection mid-stream."""
    if not isinstance(reply, _Stream):
        raise TypeError("cut() takes a text or tool-call reply")
    return replace(reply, cut_after=after_chunks)


def stall(after_chunks: int, seconds: float, reply: Reply) -> Reply:
    """Like ``cut``, but the server goes silent for ``seconds`` before it closes the
    connection (ends at once when the server stops)."""
    if not isinstance(reply, _Stream):
        raise TypeError("stall() takes a text or tool-call reply")
    return replace(reply, cut_after=after_chunks, stall=seconds)


def malformed(reply: Reply, bad_line: str = "data: {not json", *, at: int = 1) -> Reply:
    """``reply`` with ``bad_line`` sent as an SSE event before its delta number ``at``."""
    if not isinstance(reply, _Stream):
        raise TypeError("malformed() takes a text or tool-call reply")
    return replace(reply, inserts=(*reply.inserts, (at, bad_line)))


@dataclass(frozen=True)
class _Silence(Reply):
    seconds: float
    then: Reply | None

    def serve(self, conn: _Conn) -> None:
        # The headers go out now; start_stream() makes ``then`` skip sending them again.
        conn.start_stream()
        if conn.wait(self.seconds) and self.then is not None:
            self.then.serve(conn)
        else:
            conn.cut()


def silence(seconds: float, then: Reply | None = None) -> Reply:
    """Send the stream's headers, then nothing for ``seconds`` (ends at once when the
    server stops), then ``then`` (a streamed reply) or a closed connection."""
    if then is not None and not isinstance(then, _Stream):
        raise TypeError("silence(then=...) takes a text or tool-call reply: the headers are sent")
    return _Silence(seconds, then)


@dataclass(frozen=True)
class _Endless(Reply):
    piece: str
    honour_max_tokens: bool = False

    def serve(self, conn: _Conn) -> None:
        conn.start_stream()
        chunk = _Chunker(conn.body)
        limit = conn.body.get("max_tokens") if self.honour_max_tokens else None
        sent = 0
        while not conn.stopping():
            if isinstance(limit, int) and sent >= limit:
                # What a real server does at max_tokens: finish with "length".
                usage = {"prompt_tokens": _prompt_tokens(conn.body), "completion_tokens": sent,
                         "total_tokens": _prompt_tokens(conn.body) + sent}
                for event in (chunk({}, "length"), chunk(None, usage=usage), "data: [DONE]\n\n"):
                    if not conn.send_event(event):
                        return
                conn.end_stream()
                return
            if not conn.send_event(chunk({"content": self.piece})):
                return
            sent += 1
            # Pace the stream so a cancelled client is noticed promptly without a busy loop.
            if not self.honour_max_tokens:
                conn.wait(0.005)
        conn.cut()


def endless(text_piece: str = "la ", *, honour_max_tokens: bool = False) -> Reply:
    """Stream ``text_piece`` over and over until the client disconnects or the server stops.

    With ``honour_max_tokens``, each piece counts as one token and the reply finishes with
    ``finish_reason="length"`` once the request's ``max_tokens`` pieces were sent (a model
    that would never stop on its own, stopped by the server's limit)."""
    return _Endless(text_piece, honour_max_tokens)


@dataclass(frozen=True)
class _Delay(Reply):
    seconds: float
    reply: Reply

    def serve(self, conn: _Conn) -> None:
        if conn.wait(self.seconds):
            self.reply.serve(conn)
        else:
            conn.cut()


def delay(seconds: float, reply: Reply) -> Reply:
    """Wait ``seconds`` before the first byte of ``reply``."""
    return _Delay(seconds, reply)


@dataclass(frozen=True)
class _Fragmented(Reply):
    reply: _Stream
    cuts: tuple[int, ...]

    def serve(self, conn: _Conn) -> None:
        recorder = _Recorder(conn.handler, conn.body, conn.server)
        self.reply.serve(recorder)
        raw = "".join(recorder.sent).encode()
        conn.start_stream()
        edges = sorted({0, len(raw), *(c for c in self.cuts if 0 < c < len(raw))})
        for start, end in itertools.pairwise(edges):
            if not conn.send_bytes(raw[start:end]):
                return
        if recorder.was_cut:
            conn.cut()
        else:
            conn.end_stream()


def fragmented(reply: Reply, cuts: Sequence[int]) -> Reply:
    """``reply``'s SSE body re-split into HTTP chunks at the byte offsets ``cuts``: events,
    lines and multi-byte characters split across reads, as a proxy or a slow network does."""
    if not isinstance(reply, _Stream):
        raise TypeError("fragmented() takes a text or tool-call reply")
    return _Fragmented(reply, tuple(cuts))


# --- the connection a reply writes to ------------------------------------------------


class _Disconnected(Exception):
    """The client went away while a reply was being written."""


@dataclass
class _Conn:
    """What a reply may do with its request's connection."""

    handler: _Handler
    body: dict[str, Any]
    server: ScriptedLLM
    streaming: bool = False
    closed: bool = False
    sent: list[str] = field(default_factory=list)

    def stopping(self) -> bool:
        return self.server._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait, but return False at once when the server stops."""
        return not self.server._stop.wait(seconds)

    def start_stream(self) -> None:
        if self.streaming:
            return
        self.streaming = True
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream; charset=utf-8")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        self._flush()

    def send_event(self, data: str) -> bool:
        """Write one chunk of the chunked body; False when the client has gone."""
        if not self.send_bytes(data.encode()):
            return False
        self.sent.append(data)
        return True

    def send_bytes(self, raw: bytes) -> bool:
        """Write raw bytes as one chunk of the chunked body; False when the client has gone."""
        try:
            self.handler.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
            self.handler.wfile.flush()
        except OSError:
            self.server._note_disconnect()
            self.handler.close_connection = True
            self.closed = True
            return False
        return True

    def end_stream(self) -> None:
        with contextlib.suppress(OSError):
            self.handler.wfile.write(b"0\r\n\r\n")
            self.handler.wfile.flush()

    def send_json(self, code: int, body: str, headers: dict[str, str]) -> None:
        raw = body.encode()
        h = self.handler
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        with contextlib.suppress(OSError):
            h.wfile.write(raw)
            h.wfile.flush()

    def cut(self) -> None:
        """Close the connection now, whatever was (not) sent."""
        self.handler.close_connection = True
        self.closed = True
        self._flush()
        with contextlib.suppress(OSError):
            self.handler.connection.shutdown(socket.SHUT_RDWR)

    def _flush(self) -> None:
        with contextlib.suppress(OSError):
            self.handler.wfile.flush()


@dataclass
class _Recorder(_Conn):
    """A connection that only records what a reply would send (for ``fragmented``)."""

    was_cut: bool = False

    def start_stream(self) -> None:
        self.streaming = True

    def send_event(self, data: str) -> bool:
        self.sent.append(data)
        return True

    def end_stream(self) -> None:
        pass

    def cut(self) -> None:
        self.was_cut = True


# --- the server ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as real servers do: clients reuse them.
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must leave at once, as from real servers; with Nagle on, each
        # waits for the client's delayed ACK (~40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def do_GET(self) -> None:
        conn = _Conn(self, {}, self.server.owner)
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            body = {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]}
            conn.send_json(200, json.dumps(body), {})
        else:
            conn.send_json(404, json.dumps({"error": {"message": f"no route {self.path}"}}), {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_invalid_json": raw.decode(errors="replace")}
        owner = self.server.owner
        conn = _Conn(self, body, owner)
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            conn.send_json(404, json.dumps({"error": {"message": f"no route {self.path}"}}), {})
            return
        headers = Headers({k.lower(): v for k, v in self.headers.items()})
        reply = owner._log_and_pop(body, headers, (str(self.client_address[0]), int(self.client_address[1])))
        if reply is None:
            err = {"error": {"message": "scripted server: no reply queued", "type": "scripted_error"}}
            conn.send_json(500, json.dumps(err), {})
            return
        reply.serve(conn)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # We join our handler threads ourselves, with a deadline.
    block_on_close = False

    def __init__(self, owner: ScriptedLLM) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, cancelled turns, cut tests) are expected here.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Headers(dict[str, str]):
    """Request headers: stored lower-cased, looked up in any case."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class ScriptedLLM:
    """A scripted OpenAI-compatible chat server; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: list[Reply] = []
        self._stop = threading.Event()
        self._sockets: dict[socket.socket, threading.Thread] = {}
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: JSON bodies of the chat requests received, in order.
        self.requests: list[dict[str, Any]] = []
        #: Their headers (case-insensitive lookups).
        self.headers: list[Headers] = []
        #: The client (host, port) each came from: the same port means a reused connection.
        self.clients: list[tuple[str, int]] = []
        #: How many times a client went away while a reply was being streamed.
        self.disconnects = 0

    # lifecycle

    def start(self) -> ScriptedLLM:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-llm",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end every reply in progress and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stop.set()
        server.shutdown()
        with self._lock:
            sockets = dict(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in sockets.values():
            thread.join(timeout=5)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("ScriptedLLM is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # script and log

    def add(self, *replies: Reply) -> ScriptedLLM:
        """Queue replies; each answers one chat request, in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def clear(self) -> None:
        """Forget the replies still queued."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        """Replies still queued."""
        with self._lock:
            return len(self._queue)

    def wait_for_requests(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Block until ``n`` chat requests have arrived; return the request log."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"expected {n} requests, got {len(self.requests)}")
            return list(self.requests)

    def wait_for_disconnects(self, n: int = 1, timeout: float = 10) -> None:
        """Block until clients have gone away mid-reply ``n`` times."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.disconnects >= n, timeout):
                raise TimeoutError(f"expected {n} disconnects, saw {self.disconnects}")

    # internals used by the handler

    def _log_and_pop(self, body: dict[str, Any], headers: Headers, client: tuple[str, int]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self.clients.append(client)
            self._lock.notify_all()
            return self._queue.pop(0) if self._queue else None

    def _note_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1
            self._lock.notify_all()

    def _track(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._sockets[sock] = threading.current_thread()
                stopping = self._stop.is_set()
            else:
                self._sockets.pop(sock, None)
                stopping = False
        if stopping:
            # Accepted just as stop() ran: don't leave a thread waiting on it.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
