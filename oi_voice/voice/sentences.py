"""Split a streaming reply into sentences, so speech can start before the reply ends.

:class:`SentenceSplitter` is fed text as it arrives and hands back each unit as soon
as it is complete: a sentence (ended by ``.``, ``!`` or ``?`` and a space, or by
Chinese and full-width marks -- 。！？；…… -- which need no space), a line of
markdown (a heading, a list item), or a whole fenced code block (to be summarized,
not read). Abbreviations ("e.g.", "Dr."), decimals ("3.14"), list numbers ("1.") and
inline code do not end a sentence. A very long sentence is cut at a comma so the
voice does not wait for its end.
"""

from __future__ import annotations

import re
from typing import Final

_ABBREVIATIONS: Final = frozenset({
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "approx", "cf", "fig",
    "inc", "ltd", "co", "corp", "dept", "est", "min", "max", "no.", "p", "pp", "vol", "ca", "al",
})
# Closers that may follow the end mark before the space: quotes, brackets, emphasis.
_CLOSERS = "\"'”’)\\]*_」』）】》"
# Western marks end a sentence before a space; CJK and full-width ones (。！？；．｡ and
# an ellipsis after a CJK character) end it at once, closers included: the lookahead
# waits for one more character so a closing 」 is not cut off into the next sentence.
_CJK_END = r"(?:[。！？；．｡]+|(?<=[\u3000-\u9fff\uac00-\ud7af])…+)"
_END = re.compile(rf"[.!?…]+[{_CLOSERS}]*(?=\s)|{_CJK_END}[{_CLOSERS}]*(?=[^{_CLOSERS}…。！？；．｡])", re.S)
#: Where a long sentence may be cut: after a comma, semicolon or colon, Western or CJK.
_SOFT_BREAKS = (", ", "; ", ": ", "，", "、", "：")
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.M)
#: Sentences longer than this are cut at a comma, semicolon or colon.
LONG = 220


class SentenceSplitter:
    """Streaming sentence splitter for markdown text."""

    def __init__(self, long: int = LONG) -> None:
        self._buf = ""
        self._fence: str | None = None  # the opening fence while inside a code block
        self.long = long

    def feed(self, text: str) -> list[str]:
        """Add streamed text; returns the units completed by it."""
        self._buf += text
        out: list[str] = []
        while True:
            unit = self._next_unit()
            if unit is None:
                return out
            if unit.strip():
                out.append(unit.strip())

    def flush(self) -> list[str]:
        """The rest, at the end of the reply (an unclosed code block counts as a block)."""
        rest, self._buf, self._fence = self._buf.strip(), "", None
        out = []
        for line in ([rest] if rest.startswith(("```", "~~~")) else rest.split("\n")):
            if line.strip():
                out.append(line.strip())
        return out

    def _next_unit(self) -> str | None:
        buf = self._buf
        if self._fence is not None:
            # Inside a code block (the buffer starts with its info line): wait for the closing line.
            closing = re.compile(rf"^[ \t]*{re.escape(self._fence[0])}{{{len(self._fence)},}}[ \t]*\n", re.M)
            close = closing.search(buf, buf.find("\n") + 1)
            if close is None:
                return None
            self._buf, self._fence = buf[close.end():], None
            return buf[:close.end()]
        candidates: list[tuple[int, str]] = []
        fence = _FENCE_OPEN.search(buf)
        if fence is not None:
            candidates.append((fence.start(), "fence"))
        if (newline := buf.find("\n")) >= 0:
            candidates.append((newline, "line"))
        if (end_mark := self._sentence_end(buf)) is not None:
            candidates.append((end_mark, "sentence"))
        if not candidates:
            cut = self._long_cut(buf)
            if cut is None:
                return None
            self._buf = buf[cut:]
            return buf[:cut]
        pos, kind = min(candidates)
        if kind == "fence":
            assert fence is not None
            if pos > 0:  # the text before the fence is a unit of its own
                self._buf = buf[pos:]
                return buf[:pos]
            if "\n" not in buf:  # the info line ("```python") may not be complete yet
                return None
            self._fence = fence.group(1)
            return self._next_unit()
        if kind == "line":
            self._buf = buf[pos + 1:]
            return buf[:pos]
        self._buf = buf[pos:]
        return buf[:pos]

    def _sentence_end(self, buf: str) -> int | None:
        """Index just after the first real sentence end in ``buf`` (before its space)."""
        for m in _END.finditer(buf):
            before = buf[:m.start()]
            if before.count("`") % 2 == 1:
                continue  # inside inline code
            word = re.search(r"([\w.]+)$", before)
            token = word.group(1).lower() if word else ""
            mark = m.group(0)[0]
            if mark == ".":
                if token in _ABBREVIATIONS or token.rstrip(".") in _ABBREVIATIONS:
                    continue
                if re.fullmatch(r"[a-z]", token) and word and word.group(1).isupper():
                    continue  # an initial: "J. Smith"
                line_start = before.rfind("\n") + 1
                if re.fullmatch(r"\s*\d{1,3}", before[line_start:]):
                    continue  # "1. " starts a list item
            return m.end()
        return None

    def _long_cut(self, buf: str) -> int | None:
        if len(buf) < self.long:
            return None
        cut = max(buf.rfind(mark, 0, self.long) for mark in _SOFT_BREAKS)
        if cut < self.long // 3:
            cut = buf.rfind(" ", 0, self.long)
        if cut <= 0 and re.search(r"[\u3000-\u9fff\uac00-\ud7af]", buf[:self.long]):
            return self.long  # CJK text without spaces or commas: cut where it is long
        return cut + 1 if cut > 0 else None


def split_sentences(text: str) -> list[str]:
    """All units of a complete text (the non-streaming form)."""
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()
