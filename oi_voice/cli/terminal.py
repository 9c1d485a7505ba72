"""The interactive terminal chat behind ``oi`` and ``interpreter.chat()``.

Ctrl-C while the model replies stops the reply; while code runs, stops the run; at the
approval prompt, stops the turn; at the chat prompt, exits. However a turn ends, the
engine has finished with it before the prompt comes back, so the next message works.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from oi_voice.cli.display import TerminalDisplay
from oi_voice.cli.reader import LineReader, is_plain, set_default_reader
from oi_voice.core.events import ConfirmationRequest, ErrorEvent
from oi_voice.core.history import data_dir
from oi_voice.core.interpreter import Interpreter
from oi_voice.errors import ConfigError, OIVoiceError
from oi_voice.frontend import messages
from oi_voice.frontend.approval import auto_run_warning
from oi_voice.frontend.runtime import sigint_deferred

log = logging.getLogger("oi_voice.cli")

#: Lines that open (and close) a multi-line message with ``-ml``. Open Interpreter 0.4.3
#: documents ``\"\"\"``; ``` is what people paste.
_FENCES = ("```", '"""')


@dataclass
class TurnResult:
    """How a turn ended."""

    #: Error chunks (model failures, loop guards) and errors raised by the engine.
    errors: list[str]
    #: The user stopped it with Ctrl-C.
    stopped: bool = False
    #: The error was in the settings (exit code 2 rather than 1).
    config_error: bool = False


def run_turn(owner: Interpreter, message: str | dict[str, Any] | list[dict[str, Any]],
             display: TerminalDisplay) -> TurnResult:
    """Send one message and render the turn, asking before each run unless auto_run."""
    result = TurnResult(errors=[])
    chunks = None
    try:
        chunks = owner.events(message)
        for event in chunks:
            display.render(event)
            if isinstance(event, ErrorEvent):
                result.errors.append(event.message)
            elif isinstance(event, ConfirmationRequest) and owner.gate.is_pending(event.request.id):
                # Answer before asking for the next event: moving on would decline it.
                owner.gate.answer(event.request.id, display.ask(event.content))
    except KeyboardInterrupt:
        result.stopped = True
    except ConfigError as exc:
        result.errors.append(str(exc))
        result.config_error = True
        display.error(str(exc))
    except OIVoiceError as exc:
        result.errors.append(str(exc))
        display.error(str(exc))
    finally:
        with sigint_deferred():
            if chunks is not None:
                chunks.close()  # cancels what the turn was doing: the reply, or the running code
            display.close()
            if result.stopped:
                display.line("[stopped]", style="bold yellow")
    return result


class TerminalChat:
    """An interactive chat session: messages, magic commands, approvals."""

    def __init__(self, owner: Interpreter, *, plain: bool | None = None, multi_line: bool = False,
                 profile: Any = None, configuration: Any = None) -> None:
        self.owner = owner
        if plain is None:
            plain = is_plain(sys.stdout)
        self.reader = LineReader(data_dir() / "cli_history", plain=plain)
        set_default_reader(self.reader)
        self.display = TerminalDisplay(owner, plain=plain, reader=self.reader.answer)
        self.multi_line = multi_line
        #: The profile in use (for %info), if any.
        self.profile = profile
        #: How the settings were configured (a frontend.config.Configuration, for %info), if known.
        self.configuration = configuration

    def read_message(self) -> str | None:
        """The next message; with multi_line, a line starting with a fence reads on to the
        closing fence (the fence lines are not part of the message). None at end of input."""
        first = self.reader.message("> ")
        if first is None or not self.multi_line:
            return first
        fence = next((f for f in _FENCES if first.lstrip().startswith(f)), None)
        if fence is None:
            return first
        opening = first.lstrip()[len(fence):]
        if opening.rstrip().endswith(fence) and opening.strip() != "":
            return opening.rstrip()[: -len(fence)]  # ```one line```
        lines: list[str] = []
        while True:
            line = self.reader.message("")
            if line is None:
                break
            if line.rstrip().endswith(fence):
                last = line.rstrip()[: -len(fence)]
                if last.strip():
                    lines.append(last)
                break
            lines.append(line)
        return "\n".join(lines)

    def handle(self, line: str) -> None:
        """Answer one line: a magic command or a message to the model."""
        if line.lstrip().startswith("%"):
            from oi_voice.cli.magic import run_magic

            run_magic(self, line.strip())
            return
        run_turn(self.owner, line, self.display)

    def loop(self) -> None:
        """Chat until end of input or Ctrl-C at the prompt."""
        while True:
            try:
                line = self.read_message()
            except KeyboardInterrupt:
                self.display.write("\n")
                return
            if line is None:
                self.display.write("\n")
                return
            if not line.strip():
                continue
            try:
                self.handle(line)
            except KeyboardInterrupt:
                # Between chunks or in a magic command: stop it and come back to the prompt.
                self.display.close()
                self.display.line("[stopped]", style="bold yellow")
            except OIVoiceError as exc:
                self.display.error(str(exc))
            except Exception as exc:  # a bug must not end the session: say so and carry on
                log.debug("unexpected error", exc_info=True)
                self.display.error(messages.message("unexpected", kind=type(exc).__name__, text=exc))


def interactive_chat(owner: Interpreter, *, plain: bool | None = None, multi_line: bool = False) -> None:
    """``interpreter.chat()`` with no message: a terminal chat until end of input."""
    chat = TerminalChat(owner, plain=plain, multi_line=multi_line)
    if owner.auto_run:
        chat.display.warning(auto_run_warning(owner.safe_mode))
    chat.loop()
