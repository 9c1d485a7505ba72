"""What a model's own server says it can do, for models litellm's bundled list does not know.

Ollama serves whatever the user pulled (``ollama/qwen2.5-coder:7b``, a fine-tune, a model
released after litellm's price list was frozen), under its own API and under an
OpenAI-compatible ``/v1``; its ``POST /api/show`` answers with the
model's ``capabilities`` (``["completion", "tools", ...]``), or, before Ollama 0.6, with the
chat template, which mentions ``.Tools`` when the model takes them. The answer is asked
once per (server, model) in a worker thread and remembered, so deciding whether a turn
uses native tool calls stays a cheap, synchronous look-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from typing import Any

from oi_voice.llm.catalog import provider_of

#: Where Ollama listens unless told otherwise (as litellm assumes too).
OLLAMA_DEFAULT_BASE = "http://localhost:11434"
#: The model-name prefixes litellm routes to Ollama.
OLLAMA_PREFIXES = ("ollama/", "ollama_chat/")
#: Seconds to wait for ``/api/show``: it reads a local manifest, so a slow answer means no server.
PROBE_TIMEOUT = 3.0

#: Sent with the probe, so a server's log tells it from litellm's own /api/show calls.
USER_AGENT = "oi-voice"

#: Seconds a server that gave no answer (not Ollama, or not up) is left alone before it is asked again.
RETRY_AFTER = 60.0

_known: dict[tuple[str, str], bool] = {}
_unanswered: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def ollama_target(model: str, api_base: str | None) -> tuple[str, str] | None:
    """(server root, model name) to ask about ``model``: an ``ollama/`` model, or a model with
    no provider on an OpenAI-compatible ``api_base`` (Ollama's ``/v1`` is one); else None."""
    prefix = next((p for p in OLLAMA_PREFIXES if model.startswith(p)), None)
    if prefix is None:
        if not api_base or model == "local" or provider_of(model) not in (None, "openai"):
            return None
        prefix = "openai/" if model.startswith("openai/") else ""
    base = api_base or os.environ.get("OLLAMA_API_BASE") or OLLAMA_DEFAULT_BASE
    base = base.rstrip("/")
    # Users paste the endpoint they saw in Ollama's docs as often as its root.
    for suffix in ("/api/chat", "/api/generate", "/api", "/v1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if "://" not in base:
        base = "http://" + base
    return base, model[len(prefix):]


def known_tool_support(model: str, api_base: str | None) -> bool | None:
    """What the model's server said about tool calls, if it was asked (``probe_tool_support``)."""
    target = ollama_target(model, api_base)
    if target is None:
        return None
    with _lock:
        return _known.get(target)


def tools_from_show(info: Any) -> bool | None:
    """Whether an ``/api/show`` answer says the model takes tools; None if it does not say."""
    if not isinstance(info, dict):
        return None
    capabilities = info.get("capabilities")
    if isinstance(capabilities, list):
        return "tools" in capabilities
    template = info.get("template")
    if isinstance(template, str) and template:
        return ".Tools" in template or "tools" in template.lower()
    return None


def _ask(base: str, name: str, api_key: str | None, timeout: float) -> bool | None:
    body = json.dumps({"model": name, "name": name}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    import urllib.request  # here, not at the top: the API's import stays quick (~9 ms)

    req = urllib.request.Request(f"{base}/api/show", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return tools_from_show(json.loads(response.read(4_000_000)))
    except (OSError, ValueError):
        # No server, no such model, or not Ollama: the turn will say so in its own words.
        return None


async def probe_tool_support(model: str, api_base: str | None, api_key: str | None = None,
                             timeout: float = PROBE_TIMEOUT) -> bool | None:
    """Ask the model's server whether it takes tool calls (Ollama's ``/api/show``), once per
    (server, model); None when the model is not served by Ollama or the server did not say."""
    target = ollama_target(model, api_base)
    if target is None:
        return None
    with _lock:
        if target in _known:
            return _known[target]
        if time.monotonic() - _unanswered.get(target, -RETRY_AFTER) < RETRY_AFTER:
            return None  # a server that is not Ollama is not asked on every turn
    answer = await asyncio.to_thread(_ask, *target, api_key, timeout)
    with _lock:
        if answer is None:
            _unanswered[target] = time.monotonic()
        else:
            _known[target] = answer
    return answer
