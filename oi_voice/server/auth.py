"""Who may talk to the server: tokens, loopback checks, and the request guard.

The server runs code on this computer, so every request passes ``Guard`` first:

- a bearer token, when one is set, compared in constant time;
- without a token (loopback only) the ``Host`` header must name a loopback host, so a
  web page cannot reach the server through DNS rebinding;
- browser requests from other sites are refused unless their origin is allowed (CORS
  is off by default), so a page cannot start a chat or approve a run (CSRF);
- request bodies are read up front, at most ``max_body`` bytes, and JSON only.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The environment variable that holds the token when ``--token`` is not given.
TOKEN_ENV = "OI_VOICE_TOKEN"

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts connections from this computer.

    Names are resolved; a name counts as loopback only if every address it resolves
    to is a loopback address.
    """
    name = host.strip().strip("[]")
    if name.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {str(info[4][0]).split("%", 1)[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def resolve_token(host: str, token: str | None) -> tuple[str | None, bool]:
    """The token to require for ``host``, and whether it was generated here.

    ``token`` wins, then ``OI_VOICE_TOKEN``; a non-loopback address with neither gets a
    random token (the caller prints it). Loopback without either needs no token.
    """
    chosen = token or os.environ.get(TOKEN_ENV) or None
    if chosen is not None:
        return chosen, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(32), True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _host_name(host_header: str) -> str:
    """The host part of a ``Host`` header (``[::1]:8000`` -> ``::1``)."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Guard:
    """ASGI middleware: authentication, host and origin checks, and the body limit."""

    def __init__(self, app: ASGIApp, *, token: str | None, max_body: int,
                 cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self._token = token.encode() if token else None
        self._max_body = max_body
        self._origins = frozenset(o.rstrip("/") for o in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refuse(scope)
        if refusal is not None:
            status, detail, headers = refusal
            await _reply(send, status, detail, headers)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Bodies are read here, in full and bounded, before any handler sees them.
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self._max_body):
            await _reply(send, 413, f"the request body is larger than {self._max_body} bytes")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self._max_body:
                await _reply(send, 413, f"the request body is larger than {self._max_body} bytes")
                return
            if not message.get("more_body", False):
                break
        if body:
            kind = (_header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
            # Only JSON: a cross-site form can send text/plain or form data without a
            # CORS preflight, never application/json.
            if kind != "application/json":
                await _reply(send, 415, "the request body must be JSON (Content-Type: application/json)")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: only http.disconnect comes

        await self.app(scope, replay, send)

    def _refuse(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """Why this request may not go on (status, detail, headers), or None."""
        if self._token is None:
            host = _header(scope, b"host")
            if host is None or not is_loopback_name(_host_name(host)):
                return 400, "without a token this server answers loopback host names only", []
        origin = _header(scope, b"origin")
        site = (_header(scope, b"sec-fetch-site") or "").lower()
        if origin is not None and origin.rstrip("/") not in self._origins:
            return 403, "requests from web pages are not allowed from this origin", []
        if origin is None and site in ("cross-site", "same-site"):
            return 403, "requests from other web sites are not allowed", []
        if self._token is not None:
            given = _header(scope, b"authorization") or ""
            scheme, _, credentials = given.partition(" ")
            # compare_digest takes the same time wherever the first difference is.
            if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), self._token):
                return 401, "a valid bearer token is required", [(b"www-authenticate", b'Bearer realm="oi_voice"')]
        return None


def is_loopback_name(name: str) -> bool:
    """Whether a Host header's name is a loopback name, without resolving anything."""
    if name.lower() in _LOOPBACK_NAMES:
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(name).is_loopback
    return False


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
