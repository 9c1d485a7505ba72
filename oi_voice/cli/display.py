"""Rendering the LMC stream in a terminal, and asking for approval there.

With a terminal: streamed markdown, highlighted code with the active line marked,
output panels (rich ``Live``). Plain mode (``--plain``, or stdout not a terminal)
prints text as it comes, with no colour and no cursor movement.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from oi_voice.core.approval import Decision
from oi_voice.core.history import data_dir
from oi_voice.core.interpreter import Interpreter

_LEXERS = {"shell": "bash", "javascript": "javascript", "python": "python", "ruby": "ruby", "r": "r"}
# Output panels show the end of long output; the model and the file keep the rest.
_PANEL_LINES = 40


class TerminalDisplay:
    """Renders one turn's chunks; implements core's ``Display`` protocol."""

    def __init__(self, owner: Interpreter | None = None, *, plain: bool | None = None,
                 out: TextIO | None = None, input_stream: TextIO | None = None) -> None:
        self._out = out or sys.stdout
        self._in = input_stream or sys.stdin
        self.plain = plain if plain is not None else not self._out.isatty()
        self.console = Console(file=self._out, no_color=self.plain, highlight=False,
                               force_terminal=None if not self.plain else False)
        self._live: Live | None = None
        self._kind = ""
        self._text = ""
        self._code = ""
        self._language = ""
        self._output = ""
        self._active: int | None = None

    # -- rendering ------------------------------------------------------------------------

    def render(self, chunk: dict[str, Any]) -> None:
        """Show one chunk."""
        role, type_, fmt = chunk.get("role"), chunk.get("type"), chunk.get("format")
        if type_ == "message" and role == "assistant":
            self._message(chunk)
        elif type_ == "code" and role == "assistant":
            self._code_chunk(chunk)
        elif type_ == "console":
            self._console(chunk, fmt)
        elif type_ == "image":
            self._image(chunk)
        elif type_ == "error":
            self._stop_live()
            self._write(f"\nError: {chunk.get('content')}\n", style="bold red")

    def _write(self, text: str, style: str | None = None) -> None:
        if self.plain:
            self._out.write(text)
            self._out.flush()
        else:
            self.console.print(Text(text, style=style or ""), end="")

    def _message(self, chunk: dict[str, Any]) -> None:
        if chunk.get("start"):
            self._stop_live()
            self._kind, self._text = "message", ""
            if not self.plain:
                self._live = Live(Markdown(""), console=self.console, refresh_per_second=12,
                                  vertical_overflow="visible")
                self._live.start()
            return
        if chunk.get("end"):
            if self.plain:
                self._write("\n")
            self._stop_live()
            return
        text = str(chunk.get("content", ""))
        self._text += text
        if self.plain:
            self._write(text)
        elif self._live is not None:
            self._live.update(Markdown(self._text))

    def _code_chunk(self, chunk: dict[str, Any]) -> None:
        if chunk.get("start"):
            self._stop_live()
            self._kind, self._code, self._output, self._active = "code", "", "", None
            self._language = str(chunk.get("format", ""))
            if self.plain:
                self._write(f"\n```{self._language}\n")
            else:
                self._live = Live(self._code_view(), console=self.console, refresh_per_second=12,
                                  vertical_overflow="visible")
                self._live.start()
            return
        if chunk.get("end"):
            if self.plain:
                self._write("\n```\n")
            return
        text = str(chunk.get("content", ""))
        self._code += text
        if self.plain:
            self._write(text)
        else:
            self._refresh()

    def _console(self, chunk: dict[str, Any], fmt: Any) -> None:
        if chunk.get("start"):
            if self._live is None and not self.plain:
                self._live = Live(self._code_view(), console=self.console, refresh_per_second=12,
                                  vertical_overflow="visible")
                self._live.start()
            return
        if chunk.get("end"):
            self._active = None
            self._refresh()
            self._stop_live()
            return
        if fmt == "active_line":
            self._active = chunk.get("content")
            self._refresh()
        elif fmt == "output":
            text = str(chunk.get("content", ""))
            if self.plain:
                self._write(text)
            else:
                self._output = (self._output + text)[-20_000:]
                self._refresh()

    def _image(self, chunk: dict[str, Any]) -> None:
        folder = data_dir() / "images"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".jpg" if str(chunk.get("format", "")).endswith("jpeg") else ".png"
        path = folder / (time.strftime("image-%Y%m%d-%H%M%S") + f"-{id(chunk) % 10000}{suffix}")
        path.write_bytes(base64.b64decode(str(chunk.get("content", ""))))
        self._write(f"\n[image saved to {path}]\n", style="cyan")

    def _code_view(self) -> Group:
        highlight = {self._active} if isinstance(self._active, int) else set()
        syntax = Syntax(self._code or " ", _LEXERS.get(self._language, self._language or "text"),
                        theme="monokai", line_numbers=False, highlight_lines=highlight, word_wrap=True)
        parts: list[Any] = [Panel(syntax, title=self._language, title_align="left", border_style="blue")]
        if self._output:
            tail = "\n".join(self._output.rstrip("\n").splitlines()[-_PANEL_LINES:])
            parts.append(Panel(Text(tail), border_style="grey50"))
        return Group(*parts)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._code_view())

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def close(self) -> None:
        """The turn is over (or was interrupted)."""
        self._stop_live()

    # -- approval ----------------------------------------------------------------------------

    def ask(self, request: dict[str, Any]) -> Decision:
        """``Would you like to run this code? (y/n/e)``; e edits in $EDITOR, n asks for a reason."""
        self._stop_live()
        risk = request.get("risk") or {}
        if risk.get("level") in ("medium", "high"):
            self._write(f"\nRisk: {risk['level']} — {'; '.join(risk.get('reasons', []))}\n",
                        style="bold yellow" if risk["level"] == "medium" else "bold red")
        while True:
            try:
                answer = self._prompt("\nWould you like to run this code? (y/n/e) ").strip().lower()
            except EOFError:
                self._write("\n(no answer: end of input — not run)\n")
                return Decision.decline("no answer (end of input)", source="keyboard")
            if answer in ("y", "yes"):
                return Decision.run(source="keyboard")
            if answer in ("n", "no"):
                try:
                    reason = self._prompt("Reason (optional, Enter to skip): ").strip()
                except EOFError:
                    reason = ""
                return Decision.decline(reason, source="keyboard")
            if answer in ("e", "edit"):
                edited = edit_in_editor(str(request.get("content", "")), str(request.get("format", "")))
                if edited is None:
                    self._write("The editor failed; the code is unchanged.\n", style="red")
                    continue
                self._write(f"\nRunning the edited code:\n{edited}\n")
                return Decision.run(edited, source="keyboard")

    def _prompt(self, text: str) -> str:
        self._out.write(text)
        self._out.flush()
        line = self._in.readline()
        if not line:
            raise EOFError
        return line


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
