"""The interactive terminal chat behind ``interpreter.chat()`` and ``oi``."""

from __future__ import annotations

import sys

from oi_voice.core.interpreter import Interpreter
from oi_voice.errors import OIVoiceError


def read_message(prompt: str = "> ") -> str | None:
    """One message from the user; None at end of input. Ctrl-C propagates."""
    try:
        return input(prompt)
    except EOFError:
        return None


def interactive_chat(owner: Interpreter) -> None:
    """Chat until end of input or Ctrl-C at the prompt.

    Ctrl-C during a turn stops the turn (the reply, or the running code); the
    next message works as usual.
    """
    try:
        import readline  # noqa: F401  (up-arrow history for input())
    except ImportError:
        pass
    while True:
        try:
            line = read_message()
        except KeyboardInterrupt:
            print()
            return
        if line is None:
            print()
            return
        if not line.strip():
            continue
        try:
            owner.chat(line, display=True)
        except KeyboardInterrupt:
            print("\n[stopped]", file=sys.stderr)
        except OIVoiceError as exc:
            print(f"Error: {exc}", file=sys.stderr)
