"""Model clients: one streaming contract (``base.py``), two transports.

- ``OpenAICompatClient`` talks to an OpenAI-compatible server directly over httpx:
  the fast path for ``--api_base`` (Ollama, LM Studio, llama.cpp, our test server).
- ``LiteLLMClient`` goes through litellm for every other provider.

``client_for`` picks one and reuses it, so connections stay open between turns.
Importing this package imports neither litellm nor httpx.
"""

from __future__ import annotations

import threading
from typing import Literal

from oi_voice.llm.base import ChatClient, ChatRequest, Delta, Finish, TextDelta, ToolCallDelta
from oi_voice.llm.catalog import ModelInfo, model_info, provider_of, tiktoken_cache_dir
from oi_voice.llm.litellm_client import LiteLLMClient
from oi_voice.llm.openai_compat import OpenAICompatClient

__all__ = [
    "ChatClient",
    "ChatRequest",
    "Delta",
    "Finish",
    "LiteLLMClient",
    "ModelInfo",
    "OpenAICompatClient",
    "TextDelta",
    "ToolCallDelta",
    "Transport",
    "aclose_clients",
    "choose_transport",
    "client_for",
    "model_info",
    "preload",
    "provider_of",
    "tiktoken_cache_dir",
]

Transport = Literal["auto", "openai", "litellm"]

_clients: dict[tuple[str, str | None, str | None], OpenAICompatClient | LiteLLMClient] = {}
_lock = threading.Lock()


def choose_transport(request: ChatRequest, transport: str = "auto") -> Literal["openai", "litellm"]:
    """Which transport serves ``request``: "openai" or "litellm". ``auto`` takes the direct path when an
    ``api_base`` is set and the model names no provider other than ``openai/``."""
    if transport == "openai":
        return "openai"
    if transport == "litellm":
        return "litellm"
    if transport != "auto":
        raise ValueError(f"unknown transport {transport!r}: use auto, openai or litellm")
    if request.api_base and provider_of(request.model) in (None, "openai"):
        return "openai"
    return "litellm"


def client_for(request: ChatRequest, transport: str = "auto") -> ChatClient:
    """The (cached) client for ``request``; one per (transport, api_base, api_key)."""
    chosen = choose_transport(request, transport)
    key = (chosen, request.api_base, request.api_key)
    with _lock:
        client = _clients.get(key)
        if client is None:
            cls = OpenAICompatClient if chosen == "openai" else LiteLLMClient
            client = _clients[key] = cls(request.api_base, request.api_key)
    return client


async def aclose_clients() -> None:
    """Close and forget every cached client (call on the engine loop at shutdown)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        await client.aclose()


def preload() -> None:
    """Import litellm now; call from a background thread after the first paint."""
    LiteLLMClient.preload()
