"""The FastAPI app: chat as server-sent events, the history, and approvals over HTTP.

Endpoints (every one behind ``Guard``: token, host and origin checks, body limit):

- ``GET /chat?message=...`` and ``POST /chat {"message": ...}``: the turn's LMC chunks,
  one ``data: <json>`` event each, ending with
  ``{"role": "server", "type": "status", "content": "complete"}``. One turn at a time:
  a chat while another runs gets 409. A client that disconnects cancels its turn.
- ``POST /approvals/{id} {"decision": "run" | "decline", "code"?, "reason"?}`` answers
  a confirmation chunk of the running turn; ``GET /approvals`` lists the open ones.
  Unanswered after ``approval_timeout`` seconds, a run is declined.
- ``GET /history``: the messages. ``POST /reset``: a new conversation. ``GET /health``.

Nothing here changes a setting: ``auto_run`` in particular stays what the person who
started the server set. The app is meant to run on the engine loop (``serve`` puts it
there), so ``achat()`` is iterated natively; on any other loop the turn is driven on
the engine loop and its events are handed over (``EngineThread.relay``). Inside, the
stream is typed events; each becomes its LMC chunk as it is sent (``_event``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.middleware.cors import CORSMiddleware

from oi_voice.core import lmc
from oi_voice.core.approval import Decision
from oi_voice.core.engine_thread import EngineThread
from oi_voice.core.events import ConfirmationRequest, EngineEvent, ErrorEvent, Status
from oi_voice.server import DEFAULT_APPROVAL_TIMEOUT, DEFAULT_MAX_BODY
from oi_voice.server.auth import Guard

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from oi_voice.core.interpreter import Interpreter

log = logging.getLogger("oi_voice.server")

#: The last event of every chat stream that was not cut off by its client.
COMPLETE = Status("complete")


def server_error(content: str, kind: str = "server") -> ErrorEvent:
    """An error from the server itself (the turn could not start or was stopped)."""
    return ErrorEvent(kind, content, role="server")


class ChatBody(BaseModel):
    """``POST /chat``: text, one LMC user message, or a list of them."""

    model_config = ConfigDict(extra="forbid")

    message: str | dict[str, Any] | list[dict[str, Any]]


class ApprovalBody(BaseModel):
    """``POST /approvals/{id}``: run (optionally edited code) or decline (optionally why)."""

    # Unknown fields are refused: "always" (approve later runs too) is not on offer here.
    model_config = ConfigDict(extra="forbid")

    decision: Literal["run", "decline"]
    code: str | None = None
    reason: str | None = None


class ServerState:
    """What the app tracks between requests: the running turn and its open approvals.

    Touched only on the serving loop, except ``wait_idle`` (any thread).
    """

    def __init__(self, interpreter: Interpreter, approval_timeout: float | None) -> None:
        self.interpreter = interpreter
        self.approval_timeout = approval_timeout
        self._turn: asyncio.Task[None] | None = None
        self._claimed = False
        #: Confirmation ids this server streamed that still wait, with their timeout.
        self._offered: dict[str, asyncio.TimerHandle | None] = {}
        self._idle = threading.Condition()
        #: Turns that ended, for tests and benchmarks waiting on "the server is idle".
        self.turns_finished = 0

    @property
    def busy(self) -> bool:
        """Whether a turn runs (this server's, or one another front end started)."""
        return self._claimed or self.interpreter.busy

    def claim(self) -> bool:
        """Take the one turn slot; False if it is taken. No await inside: atomic on the loop."""
        if self.busy:
            return False
        self._claimed = True
        return True

    def attach(self, task: asyncio.Task[None]) -> None:
        """The task driving the claimed turn (cancelled by ``stop_turn``)."""
        self._turn = task

    def release(self) -> None:
        """The claimed turn is over: expire its approvals and wake ``wait_idle``."""
        for handle in self._offered.values():
            if handle is not None:
                handle.cancel()
        self._offered.clear()
        self._turn = None
        with self._idle:
            self._claimed = False
            self.turns_finished += 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block (in another thread) until no turn of this server runs; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._claimed, timeout)

    def stop_turn(self) -> None:
        """Cancel the running turn (the server is stopping); its stream ends with an error."""
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()

    # -- approvals -------------------------------------------------------------------------

    def offer(self, id_: str) -> None:
        """A confirmation is about to be streamed: accept answers for it, start its clock."""
        if not self.interpreter.gate.is_pending(id_):
            return  # auto_run or "always": it runs without asking
        handle = None
        if self.approval_timeout is not None:
            timeout = self.approval_timeout
            handle = asyncio.get_running_loop().call_later(timeout, self._expire, id_, timeout)
        self._offered[id_] = handle

    def _expire(self, id_: str, timeout: float) -> None:
        if id_ in self._offered:
            del self._offered[id_]
            self.interpreter.gate.answer(
                id_, Decision.decline(f"nobody answered within {timeout:g} seconds", source="timeout"))

    def answer(self, id_: str, decision: Decision) -> bool:
        """Answer an open confirmation of this server's turn; False if there is none."""
        if id_ not in self._offered or not self.interpreter.gate.answer(id_, decision):
            return False
        handle = self._offered.pop(id_)
        if handle is not None:
            handle.cancel()
        return True

    def open_approvals(self) -> list[dict[str, Any]]:
        """The confirmations waiting for an answer, as their chunks' content."""
        return [r.to_content() for r in self.interpreter.gate.pending() if r.id in self._offered]


def _event(event: EngineEvent) -> bytes:
    """One server-sent event: the LMC chunk of ``event`` (this is the server's LMC edge)."""
    # json.dumps escapes newlines, so each chunk is exactly one data: line.
    return b"data: " + json.dumps(lmc.to_chunk(event), ensure_ascii=False, default=str).encode() + b"\n\n"


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class ChatStream(Response):
    """The SSE response of ``/chat``: claims the turn slot, streams, and cleans up.

    The turn runs in its own task next to a task that waits for the client to go
    away; whichever ends first decides. A disconnect cancels the turn, which stops
    running code and leaves ``messages`` whole (the loop commits what happened).
    """

    media_type = "text/event-stream"

    def __init__(self, state: ServerState, message: Any) -> None:
        super().__init__(status_code=200, media_type=self.media_type)
        self._state = state
        self._message = message
        self._released = False

    def _release(self) -> None:
        # Once per stream: the slot may already belong to the next turn.
        if not self._released:
            self._released = True
            self._state.release()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self._state
        if not state.claim():
            body = json.dumps({"detail": "a turn is already running; try again when it ends"}).encode()
            await send({"type": "http.response.start", "status": 409,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"),  # reverse proxies: do not buffer the stream
            ]})
            pump = asyncio.create_task(self._pump(send))
            state.attach(pump)
            watch = asyncio.create_task(_wait_for_disconnect(receive))
            try:
                await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                disconnected = watch.done() and not watch.cancelled()
                for task in (pump, watch):
                    task.cancel()
                await asyncio.gather(pump, watch, return_exceptions=True)
            if pump.cancelled() and not disconnected:
                # stop_turn(): the server is stopping. Tell the client, end the stream.
                await send({"type": "http.response.body", "more_body": True,
                            "body": _event(server_error("The server is shutting down; the turn was stopped."))})
                self._release()
                await send({"type": "http.response.body", "body": _event(COMPLETE), "more_body": False})
        finally:
            self._release()

    async def _pump(self, send: Send) -> None:
        state = self._state
        # A BusyError (another front end started a turn between our check and achat's)
        # arrives as the stream's last event, an error of the server.
        events = EngineThread.get().relay(state.interpreter.achat(self._message), role="server")
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    if isinstance(event, ConfirmationRequest):
                        state.offer(event.request.id)
                    await send({"type": "http.response.body", "body": _event(event), "more_body": True})
        except Exception as exc:
            log.exception("the turn failed")
            await send({"type": "http.response.body", "more_body": True,
                        "body": _event(server_error(f"internal error: {type(exc).__name__}: {exc}"))})
        # The turn is over (achat has returned): free the slot before the client hears
        # "complete", so a chat sent the moment it does is not refused.
        self._release()
        await send({"type": "http.response.body", "body": _event(COMPLETE), "more_body": False})


def _user_message(value: str | dict[str, Any] | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Validate what a client sent as its message; 422 if it is not a usable user message."""
    if isinstance(value, str):
        if not value.strip():
            raise HTTPException(422, "the message is empty")
        return value
    try:
        messages = lmc.user_messages(value)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    # Clients speak as the user only: no forged model replies or code output.
    if any(m.get("role") != lmc.USER for m in messages):
        raise HTTPException(422, "only messages with role 'user' can be sent")
    if not any(str(m.get("content", "")).strip() for m in messages):
        raise HTTPException(422, "the message is empty")
    return messages


async def _json_body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise HTTPException(422, "a JSON body is required")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, default=str), status_code=status,
                    media_type="application/json")


def create_app(interpreter: Interpreter, *, token: str | None = None,
               approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
               cors_origins: Iterable[str] | None = None, max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """The FastAPI app serving ``interpreter``.

    ``token``: require ``Authorization: Bearer <token>`` on every request (without one,
    only loopback host names are answered). ``approval_timeout``: seconds before an
    unanswered run is declined (None: wait until the turn ends). ``cors_origins``: web
    origins allowed to call the API (none by default). ``max_body``: largest request
    body in bytes. ``app.state.oi`` is the ``ServerState``.
    """
    if approval_timeout is not None and approval_timeout <= 0:
        raise ValueError("approval_timeout must be positive (or None)")
    if max_body < 1:
        raise ValueError("max_body must be positive")
    origins = [o for o in (cors_origins or []) if o]
    if "*" in origins:
        raise ValueError("cors_origins must list origins; '*' would let any web page drive this computer")
    state = ServerState(interpreter, approval_timeout)
    app = FastAPI(title="oi_voice", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.oi = state

    @app.get("/health")
    async def health() -> Response:
        """Liveness, and whether a turn is running."""
        return _json({"status": "ok", "busy": state.busy})

    @app.get("/history")
    async def history() -> Response:
        """The conversation's messages."""
        return _json(list(interpreter.messages))

    @app.post("/reset")
    async def reset() -> Response:
        """Start a new conversation (409 while a turn runs)."""
        if state.busy:
            raise HTTPException(409, "a turn is running; it must end first")
        interpreter.reset()
        return _json({"status": "ok"})

    @app.get("/chat")
    async def chat_get(message: str = Query(..., min_length=1)) -> Response:
        """Chat: the turn's chunks as server-sent events."""
        return ChatStream(state, _user_message(message))

    @app.post("/chat")
    async def chat_post(request: Request) -> Response:
        """Chat with a JSON body ``{"message": ...}``: the turn's chunks as server-sent events."""
        body: ChatBody = await _json_body(request, ChatBody)
        return ChatStream(state, _user_message(body.message))

    @app.get("/approvals")
    async def approvals() -> Response:
        """The confirmations of the running turn that wait for an answer."""
        return _json(state.open_approvals())

    @app.post("/approvals/{approval_id}")
    async def answer(approval_id: str, request: Request) -> Response:
        """Run or decline confirmation ``approval_id`` (404 if it is not waiting)."""
        body: ApprovalBody = await _json_body(request, ApprovalBody)
        if body.decision == "run":
            if body.reason is not None:
                raise HTTPException(422, "'reason' goes with a decline")
            decision = Decision.run(body.code, source="api")
        else:
            if body.code is not None:
                raise HTTPException(422, "'code' goes with a run")
            decision = Decision.decline(body.reason or "", source="api")
        if not state.answer(approval_id, decision):
            raise HTTPException(404, f"no run {approval_id!r} is waiting for an answer")
        return _json({"id": approval_id, "decision": body.decision})

    # add_middleware wraps: the last added runs first, so CORS answers preflights
    # (which carry no token) before the guard checks the real requests.
    app.add_middleware(Guard, token=token, max_body=max_body, cors_origins=origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)
    return app
