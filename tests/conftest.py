"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scripted_llm import ScriptedLLM

from oi_voice import Interpreter


@pytest.fixture
def llm_server() -> Iterator[ScriptedLLM]:
    """A started scripted OpenAI-compatible model server, stopped after the test."""
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module")
def shared() -> Iterator[Interpreter]:
    """One interpreter (one Python kernel) per test module; each test points it at its own server."""
    interp = Interpreter()
    yield interp
    interp.close()
