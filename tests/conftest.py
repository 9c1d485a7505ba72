"""Shared fixtures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TINY
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




@pytest.fixture(scope="session")
def tiny_wheels(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """A folder holding only oi_tiny_pkg's wheel, built here with ``pip wheel`` (offline)."""
    project = tmp_path_factory.mktemp("tiny-project")
    (project / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools", "wheel"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{TINY}"
        version = "1.0"
        """))
    (project / "oi_tiny_pkg").mkdir()
    (project / "oi_tiny_pkg" / "__init__.py").write_text("VALUE = 4321\n")
    out = tmp_path_factory.mktemp("tiny-wheels")
    done = _pip_here("wheel", "-q", "--no-deps", "--no-index", "--find-links", str(wheelhouse), "-w", str(out),
                str(project))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in out.glob("*.whl")] == ["oi_tiny_pkg-1.0-py3-none-any.whl"]
    return out


def _pip_here(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=600)
