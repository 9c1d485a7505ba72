"""Running the app: uvicorn's ``Server.serve()`` on the engine loop.

Serving on the engine loop means ``achat()`` is iterated natively and approvals resolve
on the loop that waits for them: no second loop, no bridging. uvicorn installs no
signal handlers off the main thread, so Ctrl-C reaches the caller of ``serve()``,
which then stops the running turn and shuts the server down.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import uvicorn

from oi_voice.core.engine_thread import EngineThread
from oi_voice.server import DEFAULT_APPROVAL_TIMEOUT, DEFAULT_MAX_BODY
from oi_voice.server.app import ServerState, create_app
from oi_voice.server.auth import TOKEN_ENV, is_loopback, resolve_token

if TYPE_CHECKING:
    from fastapi import FastAPI

    from oi_voice.core.interpreter import Interpreter

# Seconds the shutdown waits for open responses before uvicorn cancels them.
_GRACE = 5


class _Server(uvicorn.Server):
    """uvicorn's server, reporting to another thread when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then say so."""
        await super().startup(sockets=sockets)
        if not self.listening.done():
            self.listening.set_result(None)


class RunningServer:
    """A server started by ``start()``: where it listens, its token, and ``stop()``."""

    def __init__(self, server: _Server, done: concurrent.futures.Future[None], app: FastAPI,
                 host: str, port: int, token: str | None, token_generated: bool) -> None:
        self._server = server
        self._done = done
        self.app = app
        self.host = host
        #: The bound port (the real one when 0 was asked for).
        self.port = port
        #: The bearer token clients must send, or None (loopback without a token).
        self.token = token
        #: Whether the token was generated here (so ``serve()`` prints it).
        self.token_generated = token_generated

    @property
    def state(self) -> ServerState:
        """The app's state: the running turn, its approvals, ``wait_idle()``."""
        state: ServerState = self.app.state.oi
        return state

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8000``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server still serves."""
        return not self._done.done()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        with contextlib.suppress(concurrent.futures.CancelledError):
            self._done.result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the running turn, close every connection and stop listening.

        Waits up to ``timeout`` seconds; a second Ctrl-C meanwhile forces it.
        """
        loop = EngineThread.get().loop
        if not self._done.done() and not loop.is_closed():
            loop.call_soon_threadsafe(self._begin_shutdown)
        try:
            self.wait(timeout)
        except KeyboardInterrupt:
            self._server.force_exit = True
            self.wait(_GRACE)
        except concurrent.futures.TimeoutError:
            self._server.force_exit = True
            self._done.cancel()

    def _begin_shutdown(self) -> None:
        self.state.stop_turn()
        self._server.should_exit = True

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket for ``host:port`` (0: any free port); errors surface here."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _type, proto, _name, address = infos[0]
    # The protocol number matters: asyncio turns Nagle off (TCP_NODELAY) only for
    # sockets whose proto is IPPROTO_TCP, and accepted sockets inherit it. With proto 0
    # every SSE event after the headers would wait ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    try:
        if sys.platform != "win32":
            # Restarting right after a stop must not fail on TIME_WAIT connections.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if host in ("::", "") else 1)
        sock.bind(address)
        sock.listen(2048)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def start(interpreter: Interpreter, host: str = "127.0.0.1", port: int = 8000, token: str | None = None, *,
          approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT, cors_origins: Iterable[str] | None = None,
          max_body: int = DEFAULT_MAX_BODY, log_level: str = "warning", access_log: bool = False,
          ) -> RunningServer:
    """Start serving ``interpreter`` on the engine loop and return once it listens.

    ``token``: else ``OI_VOICE_TOKEN``; an address other than loopback without either
    gets a random token (``RunningServer.token``, ``token_generated``). Raises OSError
    when the address cannot be bound.
    """
    chosen, generated = resolve_token(host, token)
    app = create_app(interpreter, token=chosen, approval_timeout=approval_timeout,
                     cors_origins=cors_origins, max_body=max_body)
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="off", ws="none", log_config=None, log_level=log_level,
        access_log=access_log, server_header=False, timeout_graceful_shutdown=_GRACE,
    )
    server = _Server(config)
    # Bound here rather than by uvicorn: a taken port raises OSError in the caller, and
    # port 0 gives a free port known before the first request.
    sock = _bind(host, port)
    bound = int(sock.getsockname()[1])

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            # uvicorn exits the process on a failed start; on the shared loop that would
            # stop the engine for everyone, so it becomes an ordinary error.
            raise RuntimeError(f"the server failed to start (exit {exc.code})") from None
        finally:
            sock.close()

    done = EngineThread.get().submit(run())
    concurrent.futures.wait([server.listening, done], return_when=concurrent.futures.FIRST_COMPLETED)
    if done.done():
        done.result()  # raises why it failed
        raise RuntimeError("the server stopped as it started")
    return RunningServer(server, done, app, host, bound, chosen, generated)


def serve(interpreter: Interpreter, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          **options: Any) -> None:
    """Serve ``interpreter`` over HTTP until Ctrl-C (or the server stops); see ``start``.

    Prints the address, and the token when one was generated.
    """
    running = start(interpreter, host, port, token, **options)
    print(f"oi_voice is serving on {running.url} (Ctrl-C stops)", flush=True)
    if running.token_generated:
        print(f"Token: {running.token}\n  Send it as 'Authorization: Bearer <token>'; set {TOKEN_ENV} or "
              "--token to choose one.", flush=True)
    if running.token is not None and not is_loopback(host):
        print("Note: plain HTTP. The token and the conversation cross the network unencrypted; use a "
              "trusted network, an SSH tunnel or a TLS proxy.", file=sys.stderr, flush=True)
    if getattr(interpreter, "auto_run", False):
        from oi_voice.frontend.approval import auto_run_warning

        print(auto_run_warning(getattr(interpreter, "safe_mode", "off")), file=sys.stderr, flush=True)
    try:
        running.wait()
    except KeyboardInterrupt:
        print("\nStopping the server...", file=sys.stderr, flush=True)
    finally:
        running.stop()
