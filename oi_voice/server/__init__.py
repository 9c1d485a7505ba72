"""The HTTP server: FastAPI on uvicorn, run on the engine loop.

``serve(interpreter, host, port, token=None, ...)`` serves until Ctrl-C (it is what
``interpreter.server()`` and ``oi --server`` call); ``start(...)`` returns a
``RunningServer`` to stop later; ``create_app(interpreter, ...)`` is the bare FastAPI
app. FastAPI and uvicorn are imported only when one of these is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from oi_voice.core.interpreter import Interpreter
    from oi_voice.server.runner import RunningServer

__all__ = ["create_app", "serve", "start"]

#: Seconds a confirmation waits for ``POST /approvals/{id}`` before the run is declined.
DEFAULT_APPROVAL_TIMEOUT = 120.0
#: The largest request body accepted, in bytes.
DEFAULT_MAX_BODY = 1 << 20


def _missing(exc: ImportError) -> Exception:
    from oi_voice.errors import ConfigError

    return ConfigError(f"the HTTP server needs FastAPI and uvicorn: pip install 'oi-voice[server]' ({exc})")


def create_app(interpreter: Interpreter, *, token: str | None = None,
               approval_timeout: float | None = DEFAULT_APPROVAL_TIMEOUT,
               cors_origins: Iterable[str] | None = None, max_body: int = DEFAULT_MAX_BODY) -> FastAPI:
    """The FastAPI app serving ``interpreter``; see ``oi_voice.server.app.create_app``."""
    try:
        from oi_voice.server.app import create_app as create
    except ImportError as exc:
        raise _missing(exc) from exc
    return create(interpreter, token=token, approval_timeout=approval_timeout, cors_origins=cors_origins,
                  max_body=max_body)


def start(interpreter: Interpreter, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          **options: Any) -> RunningServer:
    """Start serving in the background; see ``oi_voice.server.runner.start``."""
    try:
        from oi_voice.server.runner import start as run
    except ImportError as exc:
        raise _missing(exc) from exc
    return run(interpreter, host, port, token, **options)


def serve(interpreter: Interpreter, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          **options: Any) -> None:
    """Serve ``interpreter`` until Ctrl-C; see ``oi_voice.server.runner.serve``."""
    try:
        from oi_voice.server.runner import serve as run
    except ImportError as exc:
        raise _missing(exc) from exc
    run(interpreter, host, port, token, **options)
