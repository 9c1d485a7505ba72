"""Shared fixtures."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheels of the per-user Python environment's packages and their dependencies (plus
    setuptools and wheel, to build test wheels offline), from the package index once per session;
    skips when the index cannot be reached."""
    from oi_voice.computer.pyenv import PACKAGES

    folder = tmp_path_factory.mktemp("wheelhouse")
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q", "-d",
                           str(folder), *PACKAGES, "setuptools", "wheel"], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        pytest.skip(f"the package index cannot be reached to make a wheelhouse: {done.stderr[-500:]}")
    return folder
