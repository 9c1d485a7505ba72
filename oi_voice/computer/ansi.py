"""Removal of terminal escape sequences (colours, cursor moves, titles) from program output.

Output reaches the model and the chat window as plain text, so every language strips
escapes. Pipes deliver output in arbitrary chunks, which can split a sequence in two:
``AnsiStripper`` keeps an unfinished sequence back until the next chunk completes it.
"""

from __future__ import annotations

import re

__all__ = ["AnsiStripper", "strip_ansi"]

_COMPLETE = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]               # CSI: colours, cursor movement, erase
    | \x9b[0-?]*[ -/]*[@-~]                 # CSI in its 8-bit form
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)     # OSC: window titles, hyperlinks
    | \x1b[PX^_][^\x1b]*\x1b\\              # DCS, SOS, PM, APC strings
    | \x1b[ -/]*[0-~]                       # two-byte escapes (ESC 7, ESC M, ESC ( B ...)
    """,
    re.VERBOSE,
)

# The start of a sequence that the chunk ended in the middle of.
_UNFINISHED_TAIL = re.compile(
    r"""
    (?:
      \x1b\[[0-?]*[ -/]*
    | \x9b[0-?]*[ -/]*
    | \x1b\][^\x07\x1b]*\x1b?
    | \x1b[PX^_][^\x1b]*\x1b?
    | \x1b[ -/]*
    )\Z
    """,
    re.VERBOSE,
)

# A "sequence" longer than this is not one: let it through rather than hold output back.
_MAX_CARRY = 4096


def strip_ansi(text: str) -> str:
    """Return ``text`` without terminal escape sequences."""
    if "\x1b" not in text and "\x9b" not in text:
        return text
    return _COMPLETE.sub("", text)


class AnsiStripper:
    """Strips escape sequences from a stream of text chunks."""

    def __init__(self) -> None:
        self._carry = ""

    def feed(self, text: str, *, final: bool = False) -> str:
        """Return the chunk without escapes; an unfinished trailing sequence waits for more."""
        if self._carry:
            text = self._carry + text
            self._carry = ""
        if "\x1b" not in text and "\x9b" not in text:
            return text
        text = _COMPLETE.sub("", text)
        if not final:
            tail = _UNFINISHED_TAIL.search(text, max(0, len(text) - _MAX_CARRY))
            if tail is not None:
                self._carry = text[tail.start() :]
                text = text[: tail.start()]
        return text
