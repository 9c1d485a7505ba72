"""Translation of HTTP statuses and library exceptions into ``oi_voice.errors``.

Both clients use this one mapping, so a 429 or a refused connection means the same
error whichever transport saw it. Library exception classes are recognised by *name*
along their MRO and along the ``__cause__`` / ``original_exception`` chain: litellm wraps
the openai SDK, which wraps httpx, which (in litellm) wraps aiohttp, and the outermost
class often says less than the innermost one (a refused connection surfaces as
litellm's ``InternalServerError``). Matching names also keeps this module free of
imports of those libraries.
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

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

#: What a cut stream is called, whichever transport noticed it.
STREAM_CUT = "the model server closed the stream mid-reply"

_TIMEOUT_NAMES = frozenset({"TimeoutException", "APITimeoutError", "Timeout", "ServerTimeoutError"})
_CONNECTION_NAMES = frozenset(
    {
        "TransportError",  # httpx: ConnectError, ReadError, RemoteProtocolError, ...
        "APIConnectionError",  # openai and litellm
        "ClientConnectionError",  # aiohttp
        "ClientPayloadError",  # aiohttp: chunked body cut short
        "ConnectionError",  # builtin: refused, reset, aborted
    }
)
_BAD_URL_NAMES = frozenset({"UnsupportedProtocol", "InvalidURL", "LocalProtocolError"})
#: What the openai SDK says when it has no key to send.
_NO_KEY_MARKERS = ("Missing credentials", "api_key client option must be set")
#: litellm raises this when a stream fails after its headers arrived.
_MID_STREAM_NAMES = frozenset({"MidStreamFallbackError"})


def place_of(where: str) -> str:
    """How messages name the server: " at URL" for an address, " (anthropic)" for a provider."""
    if not where:
        return ""
    return f" at {where}" if ("/" in where or ":" in where) else f" ({where})"


def error_for_status(
    status: int, detail: str = "", *, retry_after: float | None = None, where: str = ""
) -> LLMError:
    """The error for an HTTP error ``status``; ``detail`` is the server's own message."""
    place = place_of(where)
    said = f": {detail}" if detail else ""
    cls: type[LLMError]
    if status in (401, 403):
        cls, what = LLMAuthError, f"the model server{place} rejected the API key ({status})"
    elif status == 429:
        cls, what = LLMRateLimitError, f"the model server{place} is rate limiting requests (429)"
    elif status == 408:
        cls, what = LLMTimeoutError, f"the model server{place} timed out ({status})"
    elif status >= 500:
        cls, what = LLMServerError, f"the model server{place} failed ({status})"
    elif 400 <= status < 500:
        cls, what = LLMBadRequestError, f"the model server{place} rejected the request ({status})"
    else:
        cls, what = LLMServerError, f"the model server{place} answered with status {status}"
    return cls(what + said, status=status, retry_after=retry_after)


def error_from_payload(payload: Any, *, where: str = "") -> LLMError:
    """The error for an ``{"error": ...}`` object sent inside a stream (llama.cpp, Ollama)."""
    status = 500
    if isinstance(payload, Mapping):
        code = payload.get("code") or payload.get("status")
        if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
            status = int(code)
        detail = str(payload.get("message") or payload)
    else:
        detail = str(payload)
    return error_for_status(status, detail, where=where)


def detail_from_body(body: bytes | str) -> str:
    """The human part of an error response body (OpenAI's ``error.message`` when present)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    found = _error_message(data)
    return found if found is not None else text.strip()[:500]


def _error_message(data: Any) -> str | None:
    if isinstance(data, Mapping):
        err = data.get("error", data)
        if isinstance(err, Mapping) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    return None


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lower:
        try:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # rare (HTTP-date form), and costly to import up front

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps, outermost first, each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        # As tracebacks do: an explicit "from" cause hides the implicit context.
        context = None if e.__suppress_context__ else e.__context__
        for nxt in (getattr(e, "original_exception", None), e.__cause__, context):
            if isinstance(nxt, BaseException):
                todo.append(nxt)


def _names(e: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(e).__mro__}


def map_exception(
    exc: BaseException,
    *,
    where: str = "",
    timeout: float | None = None,
    mid_stream: bool = False,
) -> LLMError:
    """Translate any exception raised while talking to a model server.

    ``where`` names the server in messages; ``timeout`` is the configured per-read timeout;
    ``mid_stream`` says the reply's headers had already arrived, so a broken connection
    is a cut stream rather than an unreachable server.
    """
    if isinstance(exc, LLMError):
        return exc
    chain = list(_chain(exc))
    names = set().union(*(_names(e) for e in chain))
    mid_stream = mid_stream or bool(names & _MID_STREAM_NAMES)
    place = place_of(where)

    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        bad = next(e for e in chain if isinstance(e, json.JSONDecodeError))
        return LLMStreamError(f"the model server{place} sent malformed data: {bad.doc[:200]!r} ({bad.msg})")
    if names & _TIMEOUT_NAMES or any(isinstance(e, TimeoutError) for e in chain):
        secs = f" for {timeout:g} s" if timeout is not None else ""
        return LLMTimeoutError(f"no data from the model server{place}{secs}", status=_status(chain))
    if names & _BAD_URL_NAMES and not mid_stream:
        return LLMBadRequestError(f"cannot use the model server address{place}: {_root_text(chain)}")
    if names & _CONNECTION_NAMES:
        if mid_stream:
            return LLMStreamError(f"{STREAM_CUT}{place}: {_root_text(chain)}")
        return LLMConnectionError(f"cannot reach the model server{place}: {_root_text(chain)}")

    if any(marker in str(e) for e in chain for marker in _NO_KEY_MARKERS):
        # The openai SDK refuses to send a request without a key; litellm reports that
        # as a 500, which would be retried for nothing.
        return LLMAuthError(
            f"no API key for the model server{place}: set api_key or its environment variable"
        )
    status = _status(chain)
    if status is not None:
        return error_for_status(status, _detail(chain, exc), retry_after=_retry_after(chain), where=where)
    return LLMError(f"the model call{place} failed: {type(exc).__name__}: {exc}")


def _status(chain: list[BaseException]) -> int | None:
    for e in chain:
        code = getattr(e, "status_code", None)
        if isinstance(code, int) and code >= 400:
            return code
        response = getattr(e, "response", None)
        code = getattr(response, "status_code", None)
        if isinstance(code, int) and code >= 400:
            return code
    return None


def _retry_after(chain: list[BaseException]) -> float | None:
    for e in chain:
        # litellm keeps the provider's real headers here; its own .response is a stand-in.
        for headers in (
            getattr(e, "litellm_response_headers", None),
            getattr(getattr(e, "response", None), "headers", None),
        ):
            if isinstance(headers, Mapping):
                found = parse_retry_after(headers)
                if found is not None:
                    return found
    return None


#: What litellm puts before the provider's words: "litellm.BadRequestError: ", "AnthropicException - ".
_WRAPPER_PREFIX = re.compile(r"^\s*(?:litellm\.\w+:\s*|\w+(?:Error|Exception)\s+-\s+)")
#: A Python bytes literal, as litellm formats a provider's raw error body: b'{"type": "error", ...}'.
_BYTES_LITERAL = re.compile(r"""^b(['"]).*\1$""", re.DOTALL)


def _detail(chain: list[BaseException], exc: BaseException) -> str:
    for e in chain:
        found = _error_message(getattr(e, "body", None))
        if found:
            return found
    # Innermost first: the provider's own exception carries its words; each wrapper around
    # it adds class names ("litellm.MidStreamFallbackError: ... Original exception: ...").
    for e in reversed(chain):
        message = getattr(e, "message", None)
        if isinstance(message, str) and message.strip():
            return provider_words(message)
    return provider_words(str(exc))


def provider_words(text: str) -> str:
    """The provider's own message in one line, from whatever litellm made of it.

    Strips litellm's class and provider prefixes, turns a bytes literal back into text, and
    takes ``error.message`` out of a JSON error body (OpenAI's ``{"error": {...}}``,
    Anthropic's ``{"type": "error", "error": {...}}``, Ollama's ``{"error": "..."}``).
    """
    text = text.split(" Original exception:", 1)[0].strip()
    while (stripped := _WRAPPER_PREFIX.sub("", text, count=1)) != text:
        text = stripped
    if _BYTES_LITERAL.match(text):
        try:
            raw = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raw = None
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", "replace")
    start = text.find("{")
    if start >= 0:
        try:
            found = _error_message(json.loads(text[start:]))
        except ValueError:
            found = None
        if found:
            text = found
    return " ".join(text.split())[:500]


def _root_text(chain: list[BaseException]) -> str:
    root = chain[-1]
    text = " ".join(str(root).split())  # aiohttp's messages span lines
    return text or type(root).__name__
