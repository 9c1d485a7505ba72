"""The protocol every language implements, and the events a run produces.

A run is an async iterator of ``RunEvent``s that always ends with exactly one
``RunFinished``. Cancelling the task that iterates a run (or calling ``interrupt``)
stops the code; the next run of the same language sees only its own output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from oi_voice._unicode import scrub


@dataclass(frozen=True, slots=True)
class Output:
    """Text the code printed, decoded as UTF-8 with errors replaced, ANSI stripped."""

    text: str
    stream: Literal["stdout", "stderr"] = "stdout"

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", scrub(self.text))


@dataclass(frozen=True, slots=True)
class ActiveLine:
    """The 1-based line of the submitted code now running; None when the run is over."""

    line: int | None


@dataclass(frozen=True, slots=True)
class Image:
    """An image the code displayed (a matplotlib figure, IPython.display.Image)."""

    format: Literal["base64.png", "base64.jpeg"]
    data: str


@dataclass(frozen=True, slots=True)
class Progress:
    """The run waits for something slow before its code starts (setting up Python): tell the user.

    ``kind`` names it for front ends that say it in the user's language (``python_setup``);
    ``text`` says it in English. Not output: the model never sees it.
    """

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The last event of every run.

    status: ``ok`` ran to the end; ``error`` raised or exited non-zero; ``interrupted``
    stopped by the user; ``died`` the runtime died and was restarted (state lost);
    ``needs_input`` the code waited on stdin and was stopped; ``unavailable`` the
    language is not installed (``message`` says so).
    """

    status: Literal["ok", "error", "interrupted", "died", "needs_input", "unavailable"]
    message: str = ""
    exit_code: int | None = None


RunEvent = Output | ActiveLine | Image | Progress | RunFinished


@dataclass(frozen=True, slots=True)
class LanguageInfo:
    """What a language is called and whether this machine can run it."""

    name: str
    aliases: tuple[str, ...] = field(default=())
    available: bool = True
    version: str = ""


@runtime_checkable
class Language(Protocol):
    """One programming language with a persistent session (variables, cwd survive runs)."""

    info: LanguageInfo

    async def start(self) -> None:
        """Start the runtime ahead of the first run (idempotent). Raises ComputerError."""

    def run(self, code: str) -> AsyncIterator[RunEvent]:
        """Run ``code``; yields events and ends with one RunFinished."""

    async def interrupt(self) -> None:
        """Stop the running code (SIGINT, then SIGKILL after a grace period)."""

    async def restart(self) -> None:
        """Throw the session away and start a fresh one."""

    async def close(self) -> None:
        """Stop the runtime and free everything it holds (idempotent)."""
