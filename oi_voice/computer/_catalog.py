"""The languages oi_voice knows, their aliases, and what each needs installed.

Kept apart from the implementations so the registry can list and resolve languages
without importing them (jupyter_client alone takes ~0.2 s to import).
"""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass

__all__ = ["CATALOG", "SPECS", "LanguageSpec", "find_runtime", "forget_runtimes"]


@dataclass(frozen=True)
class LanguageSpec:
    """One language: its names, its runtime, and where its implementation lives."""

    name: str
    aliases: tuple[str, ...]
    #: The executable that must be on PATH; None for Python (the one running us).
    runtime: str | None
    module: str
    cls: str


CATALOG: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", ("py", "python3", "ipython"), None, "oi_voice.computer.jupyter", "PythonKernel"),
    LanguageSpec("shell", ("bash", "sh", "zsh"), "bash", "oi_voice.computer.process", "ShellLanguage"),
    LanguageSpec("javascript", ("js", "node", "nodejs"), "node", "oi_voice.computer.process", "NodeLanguage"),
    LanguageSpec("ruby", ("rb",), "ruby", "oi_voice.computer.process", "RubyLanguage"),
)

SPECS: dict[str, LanguageSpec] = {spec.name: spec for spec in CATALOG}


@functools.cache
def _which(executable: str) -> str | None:
    return shutil.which(executable)


def find_runtime(spec: LanguageSpec) -> str | None:
    """The path of the language's runtime, or None if it is not installed (cached)."""
    if spec.runtime is None:
        return "python"
    return _which(spec.runtime)


def forget_runtimes() -> None:
    """Look runtimes up again on next use (after PATH changed, or something was installed)."""
    _which.cache_clear()
