"""What a turn does, as typed events: the engine's stream inside the program.

One frozen dataclass per thing that happens: the model's message and code stream
(start, delta, end), a run waiting for approval, a run's console (start, active line,
output, end), an image, an error, a status. Front ends in this process (the terminal,
the chat window, the voice session, the server) match on these types; Open
Interpreter's LMC dicts are made from them at the two edges only, ``Interpreter.chat()``
and the HTTP server, by :func:`oi_voice.core.lmc.to_chunk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oi_voice.core.approval import ApprovalRequest


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """Base of every engine event."""


# --- the model's reply ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageStart(EngineEvent):
    """The assistant starts a message."""


@dataclass(frozen=True, slots=True)
class MessageDelta(EngineEvent):
    """More text of the assistant's message."""

    text: str


@dataclass(frozen=True, slots=True)
class MessageEnd(EngineEvent):
    """The assistant's message is complete."""


@dataclass(frozen=True, slots=True)
class CodeStart(EngineEvent):
    """The assistant starts a code block in ``language`` (canonical name)."""

    language: str


@dataclass(frozen=True, slots=True)
class CodeDelta(EngineEvent):
    """More code of the open block."""

    language: str
    text: str


@dataclass(frozen=True, slots=True)
class CodeEnd(EngineEvent):
    """The code block is complete (it may still be declined or fail to run)."""

    language: str


@dataclass(frozen=True, slots=True)
class UserMessage(EngineEvent):
    """A user's message (shown when a saved conversation is replayed)."""

    text: str


# --- approval and the run -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfirmationRequest(EngineEvent):
    """A run is proposed. When the gate holds ``request.id`` open, it waits for an answer;
    otherwise (auto_run, "always") it runs without one."""

    request: ApprovalRequest

    @property
    def content(self) -> dict[str, Any]:
        """The request as the LMC confirmation chunk's ``content``."""
        return self.request.to_content()


@dataclass(frozen=True, slots=True)
class ConsoleStart(EngineEvent):
    """A run starts."""


@dataclass(frozen=True, slots=True)
class ActiveLine(EngineEvent):
    """The 1-based line that is running; None when none is (the run is finishing)."""

    line: int | None


@dataclass(frozen=True, slots=True)
class ConsoleOutput(EngineEvent):
    """Output of a run, or (outside ConsoleStart/ConsoleEnd) a note about code that did not run."""

    text: str


@dataclass(frozen=True, slots=True)
class ConsoleEnd(EngineEvent):
    """The run is over."""


@dataclass(frozen=True, slots=True)
class Progress(EngineEvent):
    """A run waits for something slow before its code starts; front ends show it, the model never sees it.

    ``kind`` names it (``python_setup``: the Python environment is being made) so a front end can
    say it in the user's language; ``text`` is the English.
    """

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class ImageOutput(EngineEvent):
    """An image the code displayed: ``format`` is ``base64.png``, ``base64.jpeg`` or ``path``."""

    format: str
    data: str


# --- the turn -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorEvent(EngineEvent):
    """The turn could not go on.

    ``kind``: ``llm`` (the model failed), ``loop`` (a loop guard stopped the turn), ``input``
    (the request was unusable), ``busy`` (another turn runs), ``computer`` (execution set-up
    failed), ``server`` (the HTTP server stopped it). ``role`` is ``server`` for errors of
    the HTTP server itself.
    """

    kind: str
    message: str
    role: str = "computer"


@dataclass(frozen=True, slots=True)
class Status(EngineEvent):
    """A status word from the server (``complete`` ends every chat stream)."""

    content: str
