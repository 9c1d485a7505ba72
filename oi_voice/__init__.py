"""oi_voice: let a language model run code on your computer, with you in control.

>>> from oi_voice import interpreter
>>> interpreter.chat("Plot AAPL and META's normalized stock prices")

``Interpreter`` and ``interpreter`` are loaded on first access, so ``import oi_voice``
(and ``oi --version``) costs next to nothing and starts nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oi_voice.errors import (
    AudioDeviceError,
    AudioDeviceLost,
    AudioFileError,
    BusyError,
    ComputerError,
    ConfigError,
    LanguageNotAvailableError,
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMError,
    LLMRateLimitError,
    LLMServerError,
    LLMStreamError,
    LLMTimeoutError,
    OIVoiceError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioDeviceError",
    "AudioDeviceLost",
    "AudioFileError",
    "BusyError",
    "ComputerError",
    "ConfigError",
    "Interpreter",
    "LLMAuthError",
    "LLMBadRequestError",
    "LLMConnectionError",
    "LLMError",
    "LLMRateLimitError",
    "LLMServerError",
    "LLMStreamError",
    "LLMTimeoutError",
    "LanguageNotAvailableError",
    "OIVoiceError",
    "__version__",
    "interpreter",
]

if TYPE_CHECKING:
    from oi_voice.core.interpreter import Interpreter

    interpreter: Interpreter


def _terminal_display(owner: Interpreter) -> Any:
    from oi_voice.cli.display import TerminalDisplay

    return TerminalDisplay(owner)


def _terminal_chat(owner: Interpreter) -> None:
    from oi_voice.cli.terminal import interactive_chat

    interactive_chat(owner)


def _serve(owner: Interpreter, **options: Any) -> None:
    from oi_voice.server import serve

    serve(owner, **options)


def _load_interpreter_class() -> type[Interpreter]:
    from oi_voice.core.interpreter import Interpreter

    # The composition root: core knows only protocols; the front ends implement them.
    Interpreter.display_factory = _terminal_display
    Interpreter.terminal_chat = _terminal_chat
    Interpreter.server_factory = _serve
    return Interpreter


def __getattr__(name: str) -> Any:
    if name == "Interpreter":
        cls = _load_interpreter_class()
        globals()["Interpreter"] = cls
        return cls
    if name == "interpreter":
        instance = __getattr__("Interpreter")()
        globals()["interpreter"] = instance
        return instance
    raise AttributeError(f"module 'oi_voice' has no attribute {name!r}")
