"""Rendering the engine's event stream in a terminal, and asking for approval there.

With a terminal: streamed markdown, highlighted code with line numbers and the active
line marked (``❱``), output panels (rich ``Live``). Plain mode (``--plain``, a stdout
that is not a terminal, or ``TERM=dumb``) prints text as it comes, with no colour and
no cursor movement, so it can be piped, logged and matched.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from oi_voice.cli.reader import is_plain
from oi_voice.core import events as ev
from oi_voice.core.approval import Decision
from oi_voice.core.history import data_dir
from oi_voice.core.interpreter import Interpreter
from oi_voice.core.lmc import message_events
from oi_voice.frontend import messages

_LEXERS = {"shell": "bash", "javascript": "javascript", "python": "python", "ruby": "ruby", "r": "r"}
# Output panels show the end of long output; the model and the file keep the rest.
_PANEL_LINES = 40
# An active-line change repaints at once unless the last forced repaint was this recent
# (a tight loop reports lines far faster than a terminal can show them).
_REPAINT_GAP = 0.05

#: Reads an answer for a prompt; None at end of input.
Reader = Callable[[str], "str | None"]


class TerminalDisplay:
    """Renders one turn's events; implements core's ``Display`` protocol."""

    def __init__(self, owner: Interpreter | None = None, *, plain: bool | None = None,
                 out: TextIO | None = None, input_stream: TextIO | None = None,
                 reader: Reader | None = None, err: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        # Errors go to stderr, as a terminal program's should: `oi "..." > answer.txt` keeps
        # the answer clean and still shows why there is none.
        self._err = err or sys.stderr
        self._in = input_stream
        self._reader = reader
        self.plain = plain if plain is not None else is_plain(self._out)
        self.console = Console(file=self._out, no_color=self.plain, highlight=False,
                               force_terminal=False if self.plain else None)
        self._err_console = Console(file=self._err, no_color=self.plain, highlight=False,
                                    force_terminal=False if self.plain else None)
        self._live: Live | None = None
        self._text = ""
        self._code = ""
        self._language = ""
        self._output = ""
        self._active: int | None = None
        #: The code panel is printed above the approval prompt: the run must not repeat it.
        self._code_shown = False
        #: A run is streaming (between ConsoleStart and ConsoleEnd).
        self._running = False
        self._repainted = 0.0
        self._at_line_start = True

    # -- rendering ------------------------------------------------------------------------

    def render(self, event: ev.EngineEvent) -> None:
        """Show one event."""
        if isinstance(event, ev.MessageDelta):
            self._message_text(event.text)
        elif isinstance(event, ev.CodeDelta):
            self._code_text(event.text)
        elif isinstance(event, ev.ConsoleOutput):
            self._console_output(event.text)
        elif isinstance(event, ev.ActiveLine):
            self._active_line(event.line)
        elif isinstance(event, ev.MessageStart):
            self._message_start()
        elif isinstance(event, ev.MessageEnd):
            self._message_end()
        elif isinstance(event, ev.CodeStart):
            self._code_start(event.language)
        elif isinstance(event, ev.CodeEnd):
            self._code_end()
        elif isinstance(event, ev.ConsoleStart):
            self._console_start()
        elif isinstance(event, ev.ConsoleEnd):
            self._console_end()
        elif isinstance(event, ev.ImageOutput):
            self._image(event.format, event.data)
        elif isinstance(event, ev.UserMessage):
            self.write(f"> {event.text}\n", style="bold")
        elif isinstance(event, ev.ErrorEvent):
            self.error(event.message)
        elif isinstance(event, ev.Progress):
            self.notice(messages.message(event.kind) if event.kind in messages.MESSAGES["en"] else event.text)

    def write(self, text: str, style: str | None = None) -> None:
        """Print ``text`` as is (styled when not plain)."""
        if not text:
            return
        self._stop_live()
        if self.plain:
            self._out.write(text)
            self._out.flush()
        else:
            self.console.print(Text(text, style=style or ""), end="")
        self._at_line_start = text.endswith("\n")

    def line(self, text: str, style: str | None = None) -> None:
        """Print ``text`` on a line of its own."""
        self.write(("" if self._at_line_start else "\n") + text + "\n", style)

    def notice(self, text: str) -> None:
        """An informational line (magic commands, status)."""
        self.line(text, style="dim")

    def warning(self, text: str) -> None:
        """A warning line."""
        self.line(text, style="bold yellow")

    def error(self, text: str) -> None:
        """An error line, on stderr."""
        self._stop_live()
        if not self._at_line_start:
            self.write("\n")
        self._err_console.print(Text(messages.message("error", text=text), style="bold red"), soft_wrap=True)
        self._err.flush()

    def markdown(self, text: str) -> None:
        """Markdown, rendered when not plain (help texts)."""
        if self.plain:
            self.line(text.rstrip("\n"))
        else:
            self._stop_live()
            self.console.print(Markdown(text))
            self._at_line_start = True

    def _message_start(self) -> None:
        self._stop_live()
        self._text = ""
        if not self._at_line_start:
            self.write("\n")
        if not self.plain:
            self._live = Live(Markdown(""), console=self.console, refresh_per_second=12,
                              vertical_overflow="visible")
            self._live.start()

    def _message_end(self) -> None:
        if self.plain and not self._at_line_start:
            self.write("\n")
        self._stop_live()

    def _message_text(self, text: str) -> None:
        self._text += text
        if self.plain:
            self.write(text)
        elif self._live is not None:
            self._live.update(Markdown(self._text))

    def _code_start(self, language: str) -> None:
        self._stop_live()
        self._code, self._output, self._active = "", "", None
        self._code_shown = self._running = False
        self._language = language
        if self.plain:
            self.line(f"```{self._language}")
        else:
            self._start_live()

    def _code_end(self) -> None:
        if self.plain:
            self.line("```")

    def _code_text(self, text: str) -> None:
        self._code += text
        if self.plain:
            self.write(text)
        else:
            self._refresh()

    def _console_start(self) -> None:
        self._running = True
        if not self.plain and self._live is None:
            self._start_live()

    def _console_end(self) -> None:
        self._active = None
        self._running = False
        self._refresh(force=True)
        self._stop_live()
        if self.plain and not self._at_line_start:
            self.write("\n")

    def _active_line(self, line: int | None) -> None:
        self._active = line
        now = time.monotonic()
        force = now - self._repainted >= _REPAINT_GAP
        if force:
            self._repainted = now
        self._refresh(force=force)

    def _console_output(self, text: str) -> None:
        if self.plain or self._live is None:
            self.write(text)  # no code panel (the model's output notes, %%): print as it comes
        else:
            self._output = (self._output + text)[-20_000:]
            self._refresh()

    def _image(self, format: str, data: str) -> None:
        folder = data_dir() / "images"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".jpg" if format.endswith(("jpeg", "jpg")) else ".png"
        fd, name = tempfile.mkstemp(prefix=time.strftime("image-%Y%m%d-%H%M%S-"), suffix=suffix,
                                    dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(data))
        self.line(f"[image saved to {name}]", style="cyan")

    def _code_view(self) -> Group:
        parts: list[Any] = []
        title = "output"
        if not self._code_shown:
            highlight = {self._active} if isinstance(self._active, int) else set()
            syntax = Syntax(self._code.rstrip("\n") or " ", _LEXERS.get(self._language, self._language or "text"),
                            theme="monokai", line_numbers=True, highlight_lines=highlight, word_wrap=True)
            parts.append(Panel(syntax, title=self._language, title_align="left", border_style="blue"))
        elif self._running:
            # The code is on the screen above the approval prompt: the run shows only its
            # output, and says which line runs (the ❱ marker of the code panel, in words).
            line = f", line {self._active}" if isinstance(self._active, int) else ""
            title = f"output \u2771 running{line}"
        if self._output:
            tail = "\n".join(self._output.rstrip("\n").splitlines()[-_PANEL_LINES:])
            parts.append(Panel(Text(tail), title=title, title_align="left", border_style="grey50"))
        elif self._code_shown and self._running:
            parts.append(Text(f"{title}\u2026", style="dim"))
        return Group(*parts)

    def _start_live(self) -> None:
        self._live = Live(self._code_view(), console=self.console, refresh_per_second=12,
                          vertical_overflow="visible")
        self._live.start()

    def _refresh(self, force: bool = False) -> None:
        if self._live is not None:
            self._live.update(self._code_view(), refresh=force)

    def _stop_live(self) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()
            self._at_line_start = True

    def close(self) -> None:
        """The turn is over (or was interrupted)."""
        self._stop_live()
        if self.plain and not self._at_line_start:
            self.write("\n")

    def replay(self, messages: list[dict[str, Any]]) -> None:
        """Show saved messages (a resumed conversation) as they looked when they streamed."""
        for message in messages:
            for event in message_events(message):
                self.render(event)
        self.close()

    # -- approval ----------------------------------------------------------------------------

    def ask(self, request: dict[str, Any]) -> Decision:
        """``Would you like to run this code? (y/n/e)``; e edits in $EDITOR, n asks for a reason.

        The prompt goes under the code panel; the run then streams below the prompt without
        repeating the code, as Open Interpreter shows it.
        """
        from oi_voice.frontend.approval import ask_approval

        self._stop_live()
        self._code_shown = bool(self._code)
        risk = request.get("risk") or {}
        if risk.get("level") in ("medium", "high"):
            self.line(f"Risk: {risk['level']} - {'; '.join(risk.get('reasons', []))}",
                      style="bold yellow" if risk["level"] == "medium" else "bold red")
        self.write("" if self._at_line_start else "\n")
        return ask_approval(self._read, self.line, request,
                            edit=lambda r: edit_in_editor(str(r.get("content", "")), str(r.get("format", ""))))

    def _read(self, prompt: str) -> str | None:
        self._at_line_start = True  # the user's Enter ends the line
        if self._in is not None:
            self._out.write(prompt)
            self._out.flush()
            line = self._in.readline()
            return line.rstrip("\n") if line else None
        if self._reader is not None:
            return self._reader(prompt)
        from oi_voice.cli.reader import default_reader

        return default_reader().answer(prompt)


_SUFFIXES = {"python": ".py", "shell": ".sh", "javascript": ".js", "ruby": ".rb", "r": ".R"}


def edit_in_editor(code: str, language: str) -> str | None:
    """Open ``code`` in $VISUAL/$EDITOR (default: nano, then vi); the edited text, or None."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or ("nano" if _has("nano") else "vi")
    fd, name = tempfile.mkstemp(suffix=_SUFFIXES.get(language, ".txt"), prefix="oi-edit-")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(code)
        result = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if result.returncode != 0:
            return None
        return path.read_text(encoding="utf-8").rstrip("\n")
    except OSError:
        return None
    finally:
        path.unlink(missing_ok=True)


def _has(program: str) -> bool:
    from shutil import which

    return which(program) is not None
