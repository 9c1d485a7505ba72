"""Reading lines from the user: the chat prompt (with up-arrow history) and answers.

Messages go into readline's history (kept in the data dir across sessions); answers to
approval prompts do not, so up-arrow brings back what the user said, not "y". When
standard input is a pipe (``echo ... | oi -s``), answers are read from the controlling
terminal if there is one, since the pipe holds the message, not the user's answers.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

_HISTORY_LINES = 1000


def is_plain(out: IO[str]) -> bool:
    """Whether output to ``out`` must be plain: not a terminal, or a dumb one."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return not tty or os.environ.get("TERM") == "dumb"


class LineReader:
    """Reads lines for the chat; set up readline once per process."""

    def __init__(self, history_file: Path | None = None, *, plain: bool = False) -> None:
        self._readline: Any = None
        self._tty: tuple[IO[str], IO[str]] | None = None
        self._tty_tried = False
        if sys.stdin.isatty() and sys.stdout.isatty():
            self._setup_readline(history_file, plain)

    def _setup_readline(self, history_file: Path | None, plain: bool) -> None:
        try:
            import readline
        except ImportError:  # Windows without pyreadline: input() still works
            return
        self._readline = readline
        if plain:
            # Bracketed paste makes readline print control sequences around each prompt.
            readline.parse_and_bind("set enable-bracketed-paste off")
        if history_file is None:
            return
        readline.set_history_length(_HISTORY_LINES)
        with contextlib.suppress(OSError):
            readline.read_history_file(history_file)

        def save() -> None:
            with contextlib.suppress(OSError):
                history_file.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(history_file)

        atexit.register(save)

    def message(self, prompt: str = "> ") -> str | None:
        """One line of a message (remembered for up-arrow); None at end of input."""
        try:
            return input(prompt)
        except EOFError:
            return None

    def answer(self, prompt: str) -> str | None:
        """An answer to a question (not remembered); None at end of input."""
        if not sys.stdin.isatty():
            tty = self._terminal()
            if tty is not None:
                reader, writer = tty
                writer.write(prompt)
                writer.flush()
                line = reader.readline()
                return line.rstrip("\n") if line else None
            if threading.current_thread() is not threading.main_thread():
                return None  # a server's worker thread: nobody at a keyboard can answer, so no
        try:
            line = input(prompt)
        except (EOFError, OSError):  # OSError: stdin closed or captured
            return None
        self._forget_last(line)
        return line

    def _forget_last(self, line: str) -> None:
        rl = self._readline
        if rl is None or not line.strip():
            return
        n = rl.get_current_history_length()
        if n and rl.get_history_item(n) == line:
            rl.remove_history_item(n - 1)

    def _terminal(self) -> tuple[IO[str], IO[str]] | None:
        """The controlling terminal (to read, to write), when stdin is a pipe but a user sits at a
        terminal. Two files: one read-write text file on a terminal would try to seek."""
        if not self._tty_tried:
            self._tty_tried = True
            if os.name == "posix":
                try:
                    reader = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115
                    writer = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115
                except OSError:
                    return None
                self._tty = (reader, writer)
        return self._tty


_default: LineReader | None = None


def default_reader() -> LineReader:
    """The process's reader (readline without persistent history unless the chat set one up)."""
    global _default
    if _default is None:
        _default = LineReader()
    return _default


def set_default_reader(reader: LineReader) -> None:
    """Make ``reader`` the one approval prompts use."""
    global _default
    _default = reader
