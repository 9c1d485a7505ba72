"""Facts about models, read from litellm's bundled price list without importing litellm.

``import litellm`` costs seconds; its ``model_prices_and_context_window_backup.json`` is
a plain file in the installed package, found with ``importlib.util.find_spec`` (which
locates the package without running it) and parsed once (~40 ms) on first use.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from dataclasses import dataclass
from typing import Any

#: litellm 1.106.2's ``provider_list``: the prefixes litellm routes on ("ollama/llama3").
#: A test compares it with the installed litellm, so an upgrade cannot leave it stale.
_PROVIDER_WORDS = """
    a2a a2a_agent ai21 ai21_chat aiml aiohttp_openai amazon_nova anthropic anthropic_text
    apertis assemblyai auto_router aws_polly aws_textract azure azure_ai azure_speech
    azure_text baseten bedrock bedrock_mantle black_forest_labs bytez cerebras
    charity_engine chatgpt chutes clarifai cloudflare codestral cognition cohere
    cohere_chat cometapi compactifai cortecs cursor custom custom_openai darkbloom
    dashscope databricks datarobot deepgram deepinfra deepseek docker_model_runner
    dotprompt edenai elevenlabs empower fal_ai featherless_ai fireworks_ai friendliai
    galadriel gdc gemini gigachat github github_copilot gradient_ai groq helicone heroku
    hosted_vllm huggingface humanloop hyperbolic inception infinity jina_ai lambda_ai
    langflow langfuse langgraph lemonade libertai litellm_agent litellm_proxy llamafile
    lm_studio manus maritalk meta meta_llama milvus minimax mistral modelscope mongodb
    moonshot morph nadir nano-gpt nebius neosantara nlp_cloud novita nscale nvidia_nim
    nvidia_riva oci ollama ollama_chat oobabooga openai openai_like openrouter ovhcloud
    parasail perplexity petals pg_vector pinstripes poe predibase prism publicai
    qwen_ai_platform qwencloud ragflow recraft reducto reka replicate runwayml s3_vectors
    sagemaker sagemaker_chat sagemaker_nova sail sambanova sap scaleway scx-ai snowflake
    soniox stability strands_decider synthetic tencent tensormesh
    text-completion-codestral text-completion-inception text-completion-openai
    together_ai topaz transcribe triton typesafe v0 valkey vercel_ai_gateway vertex_ai
    vertex_ai_beta vllm volcengine voyage wandb watsonx watsonx_text xai xiaomi_mimo
    xinference zai
"""
LITELLM_PROVIDERS = frozenset(_PROVIDER_WORDS.split())


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What litellm's price list knows about one model (None where it says nothing)."""

    name: str
    provider: str | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    supports_function_calling: bool
    supports_vision: bool
    input_cost_per_token: float | None
    output_cost_per_token: float | None


def provider_of(model: str) -> str | None:
    """The litellm provider prefix of ``model`` ("ollama/llama3" -> "ollama"), or None for
    a bare name or one whose first part is an organisation ("meta-llama/Llama-3-8B")."""
    head, sep, _ = model.partition("/")
    return head if sep and head in LITELLM_PROVIDERS else None


def _litellm_dir() -> str | None:
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return locations[0] if locations else None


@functools.cache
def _prices() -> dict[str, Any]:
    folder = _litellm_dir()
    if folder is None:
        return {}
    try:
        with open(os.path.join(folder, "model_prices_and_context_window_backup.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def model_info(model: str) -> ModelInfo | None:
    """Facts about ``model``, looked up as given and without its provider prefix."""
    prices = _prices()
    candidates = [model]
    if provider_of(model):
        candidates.append(model.partition("/")[2])
    for name in candidates:
        entry = prices.get(name)
        if name != "sample_spec" and isinstance(entry, dict):
            return _info(name, entry)
    return None


def _info(name: str, e: dict[str, Any]) -> ModelInfo:
    def num(key: str) -> Any:
        v = e.get(key)
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    # "max_tokens" is the legacy field: the output limit where one is given.
    max_in = num("max_input_tokens")
    max_out = num("max_output_tokens") or num("max_tokens")
    provider = e.get("litellm_provider")
    return ModelInfo(
        name=name,
        provider=provider if isinstance(provider, str) else None,
        max_input_tokens=int(max_in) if max_in is not None else None,
        max_output_tokens=int(max_out) if max_out is not None else None,
        supports_function_calling=bool(e.get("supports_function_calling")),
        supports_vision=bool(e.get("supports_vision")),
        input_cost_per_token=num("input_cost_per_token"),
        output_cost_per_token=num("output_cost_per_token"),
    )


def tiktoken_cache_dir() -> str | None:
    """litellm's bundled tiktoken files, for ``TIKTOKEN_CACHE_DIR`` (offline token counts)."""
    folder = _litellm_dir()
    if folder is None:
        return None
    path = os.path.join(folder, "litellm_core_utils", "tokenizers")
    return path if os.path.isdir(path) else None
