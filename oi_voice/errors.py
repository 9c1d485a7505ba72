"""The one error tree of oi_voice.

Library exceptions (httpx, litellm, jupyter_client, OS errors) are translated into
these where they enter our code, so front ends catch ``OIVoiceError`` and nothing else.
This module imports nothing of ours: every layer may use it.
"""

from __future__ import annotations


class OIVoiceError(Exception):
    """Base of every error oi_voice raises on purpose."""


class ConfigError(OIVoiceError):
    """A setting, flag or profile is wrong; the message names what and where."""


# --- the model -----------------------------------------------------------------


class LLMError(OIVoiceError):
    """The model could not be reached or answered badly."""

    #: Whether retrying the same request later may succeed.
    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class LLMConnectionError(LLMError):
    """The model server refused the connection or could not be resolved."""

    transient = True


class LLMTimeoutError(LLMError):
    """The model server did not answer (or went silent mid-stream) within the timeout."""

    transient = True


class LLMAuthError(LLMError):
    """The model server rejected the API key (401/403)."""


class LLMRateLimitError(LLMError):
    """The model server said to slow down (429)."""

    transient = True


class LLMServerError(LLMError):
    """The model server failed (5xx)."""

    transient = True


class LLMBadRequestError(LLMError):
    """The model server rejected the request (400, 404, 422: bad model name, context too long)."""


class LLMStreamError(LLMError):
    """The reply stream was cut or held malformed data."""


# --- the computer --------------------------------------------------------------


class ComputerError(OIVoiceError):
    """Code execution could not be set up (not: the code failed; that is output)."""


class LanguageNotAvailableError(ComputerError):
    """The requested language is unknown or its runtime is not installed."""


# --- front ends ----------------------------------------------------------------


class BusyError(OIVoiceError):
    """A turn is already running on this interpreter."""


class AudioDeviceError(OIVoiceError):
    """A microphone or speaker is missing, busy or unusable."""


class AudioDeviceLost(AudioDeviceError):
    """A microphone or speaker that was working went away (unplugged, the sound server died).

    ``kind`` is "input" or "output"; ``reason`` says how it was noticed ("stopped": its stream
    ended by itself, "stalled": it stopped delivering audio, "error": the audio library failed);
    ``detail`` is the library's own words, if any.
    """

    def __init__(self, kind: str, reason: str, detail: str = "") -> None:
        what = "microphone" if kind == "input" else "speaker"
        super().__init__(f"the {what} went away: {detail or reason}")
        self.kind = kind
        self.reason = reason
        self.detail = detail


class AudioFileError(OIVoiceError):
    """An audio file could not be read or has an unusable format."""
