"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scripted_llm import ScriptedLLM


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A started scripted OpenAI-compatible model server, stopped after the test."""
    with ScriptedLLM() as server:
        yield server
