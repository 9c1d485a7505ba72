"""Code execution on this computer: one session per language, behind ``Computer``.

``Computer`` is the registry the engine uses: it resolves language names and aliases,
creates each language's session on first use (importing its implementation only
then), runs code, interrupts whatever is running, and closes everything down.
With a :class:`~oi_voice.computer.pyenv.PythonEnvironment` (``python_env``) Python runs in
that environment and every other language finds its ``python`` and ``pip`` first on PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import platform
from collections.abc import AsyncIterator

from oi_voice.computer._catalog import CATALOG, SPECS, LanguageSpec, find_runtime
from oi_voice.computer._session import SessionLanguage
from oi_voice.computer.base import (
    ActiveLine,
    Image,
    Language,
    LanguageInfo,
    Output,
    Progress,
    RunEvent,
    RunFinished,
)
from oi_voice.computer.pyenv import PythonEnvironment
from oi_voice.errors import ComputerError

__all__ = [
    "ActiveLine",
    "Computer",
    "Image",
    "Language",
    "LanguageInfo",
    "Output",
    "Progress",
    "RunEvent",
    "RunFinished",
]

log = logging.getLogger(__name__)

_ALIASES: dict[str, str] = {alias.lower(): spec.name for spec in CATALOG for alias in (spec.name, *spec.aliases)}


class Computer:
    """The languages of one interpreter: created lazily, run one run per language at a time."""

    def __init__(self, *, cwd: str | None = None, input_timeout: float = 3.0,
                 python_env: PythonEnvironment | None = None) -> None:
        """``cwd``: where sessions start (default: the current directory);
        ``input_timeout``: seconds a run may wait on stdin before it is stopped;
        ``python_env``: the environment Python code runs in (None: this process's Python)."""
        self.cwd = cwd
        self.input_timeout = input_timeout
        #: The environment Python runs in; sessions started later use a new value.
        self.python_env = python_env
        self._languages: dict[str, SessionLanguage] = {}
        #: The python_env each session was made with (a session made with another one is stale).
        self._made_with: dict[str, PythonEnvironment | None] = {}
        self._warming: set[asyncio.Task[None]] = set()

    # --- what is there ---------------------------------------------------------------

    def languages(self) -> list[LanguageInfo]:
        """Every known language, with whether this computer can run it."""
        infos = []
        for spec in CATALOG:
            language = self._languages.get(spec.name)
            if language is not None:
                infos.append(language.info)
            else:
                available = find_runtime(spec) is not None
                # Python is the one running us; other versions are known once started.
                version = platform.python_version() if spec.runtime is None else ""
                infos.append(LanguageInfo(spec.name, spec.aliases, available=available, version=version))
        return infos

    def available_names(self) -> list[str]:
        """The canonical names of the languages this computer can run."""
        return [info.name for info in self.languages() if info.available]

    def resolve(self, name: str) -> str | None:
        """The canonical name for a language name or alias (any case), None if unknown."""
        return _ALIASES.get(name.strip().lower())

    def language(self, name: str) -> Language:
        """The session of a language (created, not started, on first use).

        Raises ``KeyError`` for an unknown name.
        """
        canonical = self.resolve(name)
        if canonical is None:
            raise KeyError(name)
        return self._get(SPECS[canonical])

    def _get(self, spec: LanguageSpec) -> SessionLanguage:
        language = self._languages.get(spec.name)
        if language is None:
            cls = getattr(importlib.import_module(spec.module), spec.cls)
            if spec.runtime is None:
                language = cls(cwd=self.cwd, environment=self.python_env)
            else:
                language = cls(cwd=self.cwd, input_timeout=self.input_timeout, python_env=self.python_env)
            self._languages[spec.name] = language
            self._made_with[spec.name] = self.python_env
        return language

    # --- running ---------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether code of any language is running."""
        return any(language.is_running for language in self._languages.values())

    async def warm(self, name: str = "python") -> None:
        """Start a language's runtime in the background and return at once.

        A run started meanwhile waits for that same start. Failures are logged, not
        raised: the run that needs the language will report them.
        """
        canonical = self.resolve(name)
        if canonical is None:
            log.warning("not warming unknown language %r", name)
            return
        language = self._get(SPECS[canonical])
        if not language.info.available:
            return

        async def start() -> None:
            try:
                await language.start()
            except Exception:
                log.warning("could not start %s", canonical, exc_info=True)

        task = asyncio.get_running_loop().create_task(start())
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)

    async def run(self, language: str, code: str) -> AsyncIterator[RunEvent]:
        """Run ``code`` in ``language``; yields events and ends with one ``RunFinished``.

        An unknown or uninstalled language yields just ``RunFinished("unavailable")``.
        Leaving the iteration early (``break``, cancellation) stops the code.
        """
        canonical = self.resolve(language)
        if canonical is None:
            names = ", ".join(self.available_names()) or "none"
            yield RunFinished(
                "unavailable",
                message=f"Unknown language {language!r}. The languages available here: {names}.",
            )
            return
        events = self._get(SPECS[canonical]).run(code)
        try:
            async for event in events:
                yield event
        finally:
            # Close the language's own iterator now, so that leaving early interrupts
            # the code at once rather than whenever the iterator is garbage-collected.
            await events.aclose()

    async def use_python_env(self, python_env: PythonEnvironment | None) -> None:
        """Run code with ``python_env`` from now on: sessions made with another one are closed
        (each language starts again at its next run)."""
        self.python_env = python_env
        await self._drop([name for name in self._languages if self._made_with.get(name) != python_env])

    async def reset_python_env(self) -> PythonEnvironment:
        """Remove the Python environment with all that was installed into it, and make it again.

        Every session is closed first (they use it). Raises ComputerError when there is no
        environment of our own (Python is this process's) or it cannot be made.
        """
        environment = self.python_env
        if environment is None:
            raise ComputerError("Python code runs in oi_voice's own Python here: there is no environment of its "
                                "own to reset (see the computer.python_env setting).")
        await self._drop(list(self._languages))
        await environment.reset()
        return environment

    async def _drop(self, names: list[str]) -> None:
        """Close these languages' sessions (a later run starts a fresh one)."""
        dropped = [self._languages.pop(name) for name in names if name in self._languages]
        for name in names:
            self._made_with.pop(name, None)
        for language in dropped:
            language.kill_now()
        await asyncio.gather(*(language.close() for language in dropped), return_exceptions=True)

    async def interrupt(self) -> None:
        """Interrupt whatever code is running, in any language, and wait for it to stop."""
        running = [language for language in self._languages.values() if language.is_running]
        await asyncio.gather(*(language.interrupt() for language in running))

    # --- shutting down -----------------------------------------------------------------

    async def close(self) -> None:
        """Kill every runtime at once and free its files (safe when nothing was started).

        The computer stays usable: a later run starts a fresh session.
        """
        for task in list(self._warming):
            task.cancel()
        languages = list(self._languages.values())
        self._languages.clear()
        self._made_with.clear()
        # Kill first, all at once; the orderly part (reaping, removing files) follows.
        for language in languages:
            language.kill_now()
        results = await asyncio.gather(*(language.close() for language in languages), return_exceptions=True)
        for language, result in zip(languages, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("closing %s failed: %r", language.info.name, result)
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._warming, return_exceptions=True)

    def close_sync_best_effort(self) -> None:
        """Kill every runtime and remove its files without an event loop (for atexit)."""
        for language in list(self._languages.values()):
            with contextlib.suppress(Exception):
                language.kill_now()
            with contextlib.suppress(Exception):
                language.remove_files()
