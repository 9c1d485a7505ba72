"""The model client for every provider litellm knows (OpenAI, Anthropic, Ollama, ...).

litellm is imported on first use only (it costs ~3.6 s); front ends call ``preload()``
from a background thread after their first paint so the first turn does not wait.
litellm's own retries are off: ``retry.py`` retries, the same way for both clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

from oi_voice.errors import LLMError
from oi_voice.llm.base import ChatRequest, Delta
from oi_voice.llm.catalog import provider_of
from oi_voice.llm.chunks import ChunkReader
from oi_voice.llm.mapping import map_exception
from oi_voice.llm.retry import with_retries

#: Sent as the API key to OpenAI-compatible servers when none is configured.
NO_KEY = "sk-no-key-required"

#: Modules litellm 1.106 imports lazily during its first streamed completion (~0.8 s).
_FIRST_CALL_MODULES = (
    "openai.resources.chat",
    "litellm.proxy.openai_files_endpoints.common_utils",
    "litellm.litellm_core_utils.default_encoding",
    "litellm.llms.custom_httpx.aiohttp_transport",
    "litellm.litellm_core_utils.streaming_handler",
)

_import_lock = threading.Lock()
_litellm: ModuleType | None = None


def load_litellm() -> ModuleType:
    """Import and configure litellm once (thread-safe); later calls are free."""
    global _litellm
    if _litellm is None:
        with _import_lock:
            if _litellm is None:
                # Without this, importing litellm fetches the price list from the network.
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                _spare_pydantic_from_pyside()
                import litellm

                litellm.suppress_debug_info = True
                _litellm = litellm
    return _litellm


def _spare_pydantic_from_pyside() -> None:
    """Keep PySide6's import hook away from pydantic's modules (the desktop app loads both).

    Once PySide6 is imported, its hook (``shibokensupport.feature``) reads the source of
    every module imported afterwards to see whether it uses PySide; ``inspect`` then probes
    the module for ``__wrapped__``, which runs pydantic's module ``__getattr__``, which
    imports ``pydantic._internal._validators`` -- an ImportError ("partially initialized
    module") when that is the module being imported. Modules the hook has already
    classified are skipped, so pydantic's are classified up front as what they are:
    modules that do not use PySide (-1). Without PySide6 loaded this does nothing.
    """
    feature = sys.modules.get("PySide6.support.feature") or sys.modules.get("shibokensupport.feature")
    known = getattr(feature, "pyside_feature_dict", None)
    spec = importlib.util.find_spec("pydantic") if isinstance(known, dict) else None
    if not isinstance(known, dict) or spec is None or not spec.submodule_search_locations:
        return
    for folder in spec.submodule_search_locations:
        root = Path(folder)
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            known.setdefault(".".join(("pydantic", *parts)), -1)


def litellm_model_name(model: str, api_base: str | None) -> str:
    """The model name litellm should route: as given, but with ``openai/`` in front when a
    custom ``api_base`` is set and the name has no provider prefix (as Open Interpreter
    does), so litellm treats the server as OpenAI-compatible."""
    if api_base and provider_of(model) is None:
        return "openai/" + model
    return model


class LiteLLMClient:
    """Streams a completion through ``litellm.acompletion``.

    ``api_base`` and ``api_key`` are defaults; a request's own values win. litellm reads
    provider keys (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ...) from the environment.
    """

    def __init__(self, api_base: str | None = None, api_key: str | None = None) -> None:
        self.api_base = api_base
        self.api_key = api_key

    @staticmethod
    def preload() -> None:
        """Import litellm and what its first call imports (call from a background thread)."""
        load_litellm()
        for name in _FIRST_CALL_MODULES:
            # Internal module names move between litellm releases: a miss only costs time.
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    def stream(self, request: ChatRequest) -> AsyncIterator[Delta]:
        """Yield the reply's deltas, ending with a ``Finish``; retries per ``retry.py``."""
        return with_retries(request, lambda: self._attempt(request))

    async def aclose(self) -> None:
        """Nothing to close: litellm pools its own connections."""

    def completion_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments for ``litellm.acompletion``."""
        api_base = request.api_base or self.api_base
        model = litellm_model_name(request.model, api_base)
        api_key = request.api_key or self.api_key
        if api_base and not api_key and provider_of(model) == "openai":
            # The openai SDK refuses to start without a key, and local servers need none;
            # a placeholder also keeps the user's OPENAI_API_KEY away from a custom server.
            api_key = NO_KEY
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": request.timeout,
            # Retries are ours (retry.py); the openai SDK under litellm must not add its own.
            "num_retries": 0,
            "max_retries": 0,
            # Otherwise litellm imports its MCP gateway (~1.7 s, and the mcp package, which
            # oi_voice does not install) on the first call with tools.
            "_skip_mcp_handler": True,
        }
        optional = {
            "api_base": api_base,
            "api_key": api_key,
            "api_version": request.api_version,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        if request.tools:
            kwargs["tools"] = request.tools
            kwargs["tool_choice"] = "auto"
            if model.startswith("ollama/"):
                # litellm's "ollama" route (/api/generate) turns tools into forced JSON output;
                # "ollama_chat" (/api/chat) sends them as Ollama's native tool calls.
                kwargs["model"] = "ollama_chat/" + model.partition("/")[2]
        kwargs.update(request.extra)
        return kwargs

    async def _attempt(self, request: ChatRequest) -> AsyncGenerator[Delta, None]:
        kwargs = self.completion_kwargs(request)
        # Errors name the server by its address, or by its provider ("anthropic") when litellm knows it.
        where = kwargs.get("api_base") or provider_of(kwargs["model"]) or ""
        reader = ChunkReader(where=where)
        response: Any = None
        try:
            # The first import takes seconds: never on the engine loop.
            litellm = _litellm if _litellm is not None else await asyncio.to_thread(load_litellm)
            response = await litellm.acompletion(**kwargs)
            async for chunk in response:
                data = chunk.model_dump() if hasattr(chunk, "model_dump") else dict(chunk)
                for delta in reader.feed(data):
                    yield delta
        except LLMError:
            raise
        except Exception as exc:  # litellm raises its own, openai's, httpx's and aiohttp's
            raise map_exception(exc, where=where, timeout=request.timeout) from exc
        finally:
            # Close the HTTP stream now (cancelled or cut short), so the server sees the
            # disconnect instead of a socket left for the garbage collector.
            closer = getattr(response, "aclose", None)
            if closer is not None:
                await closer()
        yield reader.finish()
