"""The user's language, read from the script of what they wrote or said.

A message in Han characters is Chinese, one in Hangul is Korean. The system message
then tells the model to answer in that language (:func:`reply_instruction`), so a
Chinese question gets a Chinese answer from a hosted model and the local one alike.
A transcript of speech is text too: the spoken language arrives the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

__all__ = ["Language", "reply_instruction", "script_language", "user_language"]

Language = Literal["en", "zh", "ko"]

_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL: Final = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA: Final = re.compile(r"[\u3040-\u30ff]")
_LATIN: Final = re.compile(r"[A-Za-z]")
# Code, paths and URLs say nothing about the language a person writes in.
_NOT_PROSE: Final = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+|\S+[/\\]\S+", re.S)


def script_language(text: str) -> Language | None:
    """``"zh"`` for Han, ``"ko"`` for Hangul, ``"en"`` for Latin letters, None for neither.

    A few CJK characters are enough to outweigh Latin words (file names, commands,
    "Python" in a Chinese sentence), but one quoted character in an English sentence
    is not. Japanese (kana) is none of the three: None.
    """
    prose = _NOT_PROSE.sub(" ", text)
    hangul = len(_HANGUL.findall(prose))
    han = len(_HAN.findall(prose))
    if _KANA.search(prose):
        return None
    latin_words = len(re.findall(r"[A-Za-z]+", prose))
    if hangul and hangul >= han and hangul * 2 >= latin_words:
        return "ko"
    if (han >= 2 and han * 2 >= latin_words) or (han and not latin_words):
        return "zh"
    if _LATIN.search(prose):
        return "en"
    return None


def user_language(messages: Iterable[Mapping[str, Any]]) -> Language | None:
    """The language of the latest message the user typed or said (None: unknown)."""
    last: Mapping[str, Any] | None = None
    for message in messages:
        if message.get("role") == "user" and message.get("type", "message") == "message":
            last = message
    if last is None:
        return None
    content = last.get("content")
    return script_language(content) if isinstance(content, str) else None


_INSTRUCTIONS: Final[dict[str, str]] = {
    "zh": ("The user writes in Chinese. Always reply in Simplified Chinese (简体中文), whatever language "
           "this system message is in; keep code, commands and file names as they are. "
           "请用简体中文回答。"),
    "ko": ("The user writes in Korean. Always reply in Korean (한국어), whatever language this system "
           "message is in; keep code, commands and file names as they are. "
           "한국어로 답하세요."),
}


def reply_instruction(language: str | None) -> str | None:
    """The system-message line that makes the model answer in ``language`` (None for English)."""
    return _INSTRUCTIONS.get(language or "")
