"""Text that can always be encoded as UTF-8 (imports nothing of ours: every layer may use it)."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD.

    Python decodes bytes that are not UTF-8 (file names, a Latin-1 terminal, JSON ``\\udcxx``
    escapes from a model) to lone surrogates, which no UTF-8 encoder accepts: one in a
    message would break the journal, the HTTP request and the terminal. Invalid bytes
    become U+FFFD here as they do everywhere else (the shell's output, ``errors="replace"``).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
