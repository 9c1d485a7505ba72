"""Streaming markdown-fence parser; tool calls printed as text become code blocks.

Models without function calling answer with markdown code fences; small local models
(Qwen2.5-Coder-0.5B) often print their ``execute`` tool call as JSON text instead of
making a real call. :class:`FenceParser` turns a streamed reply into :data:`ParseEvent`
values: message text, and code blocks whose language is enabled. JSON tool calls printed
as text (bare, in ``<tool_call>`` tags, as ``functions.execute({...})``, in a ```` ```json ````
or untagged fence) become code blocks too (decoded by :mod:`oi_voice.core.toolcalls`); anything
that turns out not to be a tool call stays text, verbatim.

The events do not depend on how the reply was split into chunks: after :func:`merge`,
any split of the same reply gives the same events. Text and code stream as soon as they
are certain; only the start of a line that could still become a fence or a tool call is
held back. All work is linear in the length of the reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from oi_voice.core.toolcalls import CALL_HEAD, TOOL_CLOSE, TOOL_OPEN, normalize_languages, recover

__all__ = [
    "CodeDelta",
    "CodeEnd",
    "CodeStart",
    "FenceParser",
    "ParseEvent",
    "Text",
    "merge",
]


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """Message text, streamed; fences of languages that are not enabled stay in it verbatim."""

    text: str


@dataclass(frozen=True, slots=True)
class CodeStart:
    """A code block begins; ``language`` is canonical, or as written (lower-cased) if unknown."""

    language: str


@dataclass(frozen=True, slots=True)
class CodeDelta:
    """More code of the open block (the block's last newline is not part of its code)."""

    text: str


@dataclass(frozen=True, slots=True)
class CodeEnd:
    """The open code block is complete."""


ParseEvent: TypeAlias = Text | CodeStart | CodeDelta | CodeEnd


def merge(events: Iterable[ParseEvent]) -> list[ParseEvent]:
    """Join adjacent Text and adjacent CodeDelta events and drop empty ones.

    Two parses of the same reply split differently give the same merged list.
    """
    out: list[ParseEvent] = []
    run: list[str] = []  # texts of the current run, joined once (linear)
    run_type: type[Text] | type[CodeDelta] | None = None

    def flush() -> None:
        if run_type is not None and run:
            out.append(run_type("".join(run)))
        run.clear()

    for ev in events:
        if isinstance(ev, Text | CodeDelta):
            if not ev.text:
                continue
            if type(ev) is not run_type:
                flush()
                run_type = type(ev)
            run.append(ev.text)
        else:
            flush()
            run_type = None
            out.append(ev)
    flush()
    return out


# --- the parser -----------------------------------------------------------------------

# Modes (what the parser is inside of).
_TEXT: Final = 0  # message text
_OPENER: Final = 1  # a line starting with ``` whose end has not arrived
_JSON: Final = 2  # a JSON object that may be a tool call, held back
_TAG: Final = 3  # after <tool_call>, waiting for the "{"
_CODE: Final = 4  # a fenced block of an enabled language
_VERBATIM: Final = 5  # a fenced block that stays text
_JFENCE: Final = 6  # a ```json or untagged fence that may hold a tool call

# Line phases.
_HEAD: Final = 0  # the start of a line, not yet classified
_BODY: Final = 1  # the rest of a line already classified as ordinary
_TAIL: Final = 2  # what follows a recovered call on its line (dropped if blank)

# Classes of a text line's start.
_HOLD: Final = 0
_K_PLAIN: Final = 1
_K_FENCE: Final = 2
_K_JSON: Final = 3
_K_TAG: Final = 4
_K_TAIL: Final = 5
_K_CALL: Final = 6  # functions.execute( ... a call printed as code

_JSON_TAGS: Final = frozenset({"", "json", "jsonc", "json5", "tool_call", "tool_code"})
_OPENER_RE = re.compile(r" {0,3}(`{3,})([^`]*)")
_NONWS = re.compile(r"\S")
# Outside strings: braces and quotes matter; any character JSON cannot hold outside a
# string (letters other than those of true/false/null, '#', '(' ...) means it is not JSON.
_JSON_STRUCT = re.compile(r'[{}"]|[^\s\[\]:,0-9.+\-eEtrufalsn]')
_JSON_STR = re.compile(r'["\\]')
# What a line may start with while it can still become ``functions.NAME(`` or ``execute(``.
_CALL_PREFIX = re.compile(r"functions\.[A-Za-z_]\w*[ \t]*|execute[ \t]*")
_CALL_WORDS: Final = ("functions.", "execute")


def _classify(head: str, after_call: bool) -> int:
    """Class of a line from its first characters (each call sees one more character)."""
    s = head.lstrip(" \t")
    lead = len(head) - len(s)
    if lead > 3:
        return _K_PLAIN  # an indented line is never a fence or a tool call
    if not s:
        return _HOLD
    c = s[0]
    if c == "`":
        if "\t" in head[:lead]:
            return _K_PLAIN
        ticks = len(s) - len(s.lstrip("`"))
        if ticks >= 3:
            return _K_FENCE
        return _HOLD if ticks == len(s) else _K_PLAIN
    if c == "{":
        return _K_JSON
    if c in "fe" and len(s) <= 64:
        if CALL_HEAD.fullmatch(s):
            return _K_CALL
        if any(w.startswith(s) for w in _CALL_WORDS) or _CALL_PREFIX.fullmatch(s):
            return _HOLD
    if c == "<":
        if s == TOOL_OPEN:
            return _K_TAG
        if after_call and s == TOOL_CLOSE:
            return _K_TAIL
        if TOOL_OPEN.startswith(s) or (after_call and TOOL_CLOSE.startswith(s)):
            return _HOLD
    return _K_PLAIN


class FenceParser:
    """Streaming parser of one model reply into text and code-block events.

    ``languages`` maps every accepted fence tag or alias (lower-case) to a canonical
    language name, e.g. ``{"python": "python", "py": "python", "bash": "shell"}``.
    Call :meth:`feed` with each piece of the reply and :meth:`close` at its end; after
    ``close()`` the parser is ready for a new reply.

    A code block may be empty (an opening fence at the very end of a reply).
    """

    def __init__(self, languages: Mapping[str, str]) -> None:
        self._languages = normalize_languages(languages)
        self._reset()

    def _reset(self) -> None:
        self._out: list[ParseEvent] = []
        self._mode = _TEXT
        self._phase = _HEAD
        self._head = ""  # held start of a text line (a few characters at most)
        self._held: list[str] = []  # held text of _OPENER/_JSON/_TAG/_JFENCE/_TAIL
        self._after_call = False  # a recovered call came last: drop a stray </tool_call>
        self._paren = False  # the call was printed as functions.NAME(...): drop its ")"
        self._tail_idx = 0  # characters of </tool_call> matched in _TAIL
        # JSON scanner
        self._depth = 0
        self._in_str = False
        self._esc = False
        self._first = False  # the next non-blank character is the first inside "{"
        # fenced blocks
        self._fence_len = 0
        self._pending_nl = False  # a code line's newline, emitted once the block goes on
        self._opener = ""  # the opening line of a _JFENCE block
        self._probe = False  # _JFENCE: no content seen yet
        self._bhead: list[str] = []  # held start of a block line that may close the fence
        self._cl_phase = 0  # 0 leading spaces, 1 backticks, 2 trailing blanks
        self._cl_lead = 0
        self._cl_ticks = 0

    # -- public -------------------------------------------------------------------------

    def feed(self, text: str) -> list[ParseEvent]:
        """Events for one more piece of the reply."""
        out: list[ParseEvent] = []
        self._out = out
        i, n = 0, len(text)
        while i < n:
            i = self._step(text, i)
        return out

    def close(self) -> list[ParseEvent]:
        """Events that end the reply: held text is flushed, an open code block is closed."""
        out: list[ParseEvent] = []
        self._out = out
        if self._mode == _OPENER:
            line = "".join(self._held)
            self._held = []
            self._open_fence(line)
        mode = self._mode
        if mode == _TEXT:
            if self._phase == _HEAD:
                self._emit_text(self._head)  # a lone "``", "<tool_ca" ... is just text
            elif self._phase == _TAIL and self._tail_idx not in (0, len(TOOL_CLOSE)):
                self._emit_text("".join(self._held))
        elif mode == _JSON:
            text = "".join(self._held)
            call = None
            if not self._in_str and not self._first:
                # The model stopped before the last braces: complete them.
                call = recover(text + "}" * self._depth, self._languages)
            if call is not None:
                self._emit_call(*call)
            else:
                self._emit_text(text)
        elif mode == _TAG:
            self._emit_text("".join(self._held))
        else:  # a fenced block the reply did not close
            if self._bhead:
                line = "".join(self._bhead)
                if self._closing():
                    self._end_block(line)
                else:
                    self._block_text(line, False)
            if self._mode == _CODE:
                self._out.append(CodeEnd())
            elif self._mode == _JFENCE:
                self._finish_jfence("".join(self._held), "")
        self._reset()
        return out

    # -- emitting -----------------------------------------------------------------------

    def _emit_text(self, text: str) -> None:
        if text:
            if self._after_call and not text.isspace():
                self._after_call = False
            self._out.append(Text(text))

    def _emit_call(self, language: str, code: str) -> None:
        self._out.append(CodeStart(language))
        if code:
            self._out.append(CodeDelta(code))
        self._out.append(CodeEnd())
        self._after_call = True

    # -- dispatch -----------------------------------------------------------------------

    def _step(self, data: str, i: int) -> int:
        """Consume some of ``data`` from ``i``; returns the new position."""
        mode = self._mode
        if mode == _TEXT:
            if self._phase == _HEAD:
                return self._text_head(data, i)
            if self._phase == _BODY:
                return self._text_body(data, i)
            return self._tail(data, i)
        if mode == _OPENER:
            return self._opener_line(data, i)
        if mode == _JSON:
            return self._json(data, i)
        if mode == _TAG:
            return self._tag(data, i)
        if self._phase == _HEAD:
            return self._block_head(data, i)
        return self._block_body(data, i)

    # -- text ---------------------------------------------------------------------------

    def _text_head(self, data: str, i: int) -> int:
        # One character at a time: a line's class is known within a few characters.
        ch = data[i]
        head = self._head + ch
        kind = _classify(head, self._after_call)
        if kind == _HOLD:
            self._head = head
            return i + 1
        self._head = ""
        if kind == _K_PLAIN:
            self._emit_text(head)
            self._phase = _HEAD if ch == "\n" else _BODY
        elif kind == _K_FENCE:
            self._held = [head]
            self._mode = _OPENER
        elif kind == _K_JSON:
            self._start_json(head)
        elif kind in (_K_TAG, _K_CALL):
            self._held = [head]
            self._mode = _TAG
            self._paren = kind == _K_CALL
        else:  # a </tool_call> after a recovered call
            self._held = [head]
            self._phase = _TAIL
            self._tail_idx = len(TOOL_CLOSE)
        return i + 1

    def _text_body(self, data: str, i: int) -> int:
        j = data.find("\n", i)
        if j < 0:
            self._emit_text(data[i:])
            return len(data)
        self._emit_text(data[i : j + 1])
        self._phase = _HEAD
        return j + 1

    def _tail(self, data: str, i: int) -> int:
        # The rest of a recovered call's line: blanks and a </tool_call> are dropped.
        ch = data[i]
        if ch == "\n":
            self._held = []
            self._phase = _HEAD
            self._paren = False
            return i + 1
        if ch == ")" and self._paren:
            self._paren = False  # the end of functions.NAME(...): dropped like </tool_call>
            return i + 1
        idx = self._tail_idx
        if (ch in " \t\r" and idx in (0, len(TOOL_CLOSE))) or (
                idx < len(TOOL_CLOSE) and ch == TOOL_CLOSE[idx]):
            if ch not in " \t\r":
                self._tail_idx += 1
            self._held.append(ch)
            return i + 1
        text = "".join(self._held)
        self._held = []
        self._phase = _BODY
        self._paren = False
        self._emit_text(text)
        return i  # ``ch`` is ordinary text of this line

    # -- fences -------------------------------------------------------------------------

    def _opener_line(self, data: str, i: int) -> int:
        j = data.find("\n", i)
        if j < 0:
            self._held.append(data[i:])
            return len(data)
        self._held.append(data[i : j + 1])
        line = "".join(self._held)
        self._held = []
        self._open_fence(line)
        return j + 1

    def _open_fence(self, line: str) -> None:
        """Decide what an opening fence line (complete, or the reply's last) starts."""
        body = line[:-1] if line.endswith("\n") else line
        m = _OPENER_RE.fullmatch(body)
        if m is None:  # a backtick in the info string: inline code, not a fence (CommonMark)
            self._mode = _TEXT
            self._phase = _HEAD
            self._emit_text(line)
            return
        info = m.group(2).strip()
        tag = info.split()[0].lower().strip("{}.") if info else ""
        self._fence_len = len(m.group(1))
        self._phase = _HEAD
        self._reset_closing()
        language = self._languages.get(tag) if tag else None
        if language is not None:
            self._mode = _CODE
            self._pending_nl = False
            self._after_call = False
            self._out.append(CodeStart(language))
        elif tag in _JSON_TAGS:
            self._mode = _JFENCE
            self._opener = line
            self._held = []
            self._probe = True
        else:
            self._mode = _VERBATIM
            self._emit_text(line)

    def _reset_closing(self) -> None:
        self._bhead = []
        self._cl_phase = 0
        self._cl_lead = 0
        self._cl_ticks = 0

    def _closing(self) -> bool:
        return self._cl_phase != 0 and self._cl_ticks >= self._fence_len

    def _block_head(self, data: str, i: int) -> int:
        # One character at a time while the line could still be the closing fence.
        ch = data[i]
        if ch == "\n":
            closing = self._closing()
            line = "".join(self._bhead) + "\n"
            self._reset_closing()
            if closing:
                self._end_block(line)
            else:
                self._block_text(line[:-1], True)
            return i + 1
        phase = self._cl_phase
        ok = False
        if phase == 0:
            if ch == " " and self._cl_lead < 3:
                self._cl_lead += 1
                ok = True
            elif ch == "`":
                self._cl_phase = 1
                self._cl_ticks = 1
                ok = True
        elif phase == 1:
            if ch == "`":
                self._cl_ticks += 1
                ok = True
            elif ch in " \t\r" and self._cl_ticks >= self._fence_len:
                self._cl_phase = 2
                ok = True
        elif ch in " \t\r":
            ok = True
        if ok:
            self._bhead.append(ch)
            return i + 1
        text = "".join(self._bhead) + ch
        self._reset_closing()
        self._phase = _BODY
        self._block_text(text, False)
        return i + 1

    def _block_body(self, data: str, i: int) -> int:
        j = data.find("\n", i)
        if j < 0:
            self._block_text(data[i:], False)
            return len(data)
        self._block_text(data[i:j], True)
        self._phase = _HEAD
        return j + 1

    def _block_text(self, text: str, newline: bool) -> None:
        """Content of the open block; ``newline``: the line ends after ``text``."""
        mode = self._mode
        if mode == _CODE:
            if self._pending_nl:
                text = "\n" + text
                self._pending_nl = False
            if text:
                self._out.append(CodeDelta(text))
            # Held until the block goes on, so the code has no trailing newline.
            self._pending_nl = newline
        elif mode == _VERBATIM:
            self._emit_text(text + "\n" if newline else text)
        else:
            if newline:
                text += "\n"
            self._held.append(text)
            if self._probe:
                m = _NONWS.search(text)
                if m is not None:
                    if text[m.start()] in "{<":
                        self._probe = False  # may be a tool call: hold until the fence closes
                    else:  # ordinary content: the block is text, streamed from here on
                        self._mode = _VERBATIM
                        self._emit_text(self._opener + "".join(self._held))
                        self._held = []

    def _end_block(self, line: str) -> None:
        mode = self._mode
        self._mode = _TEXT
        self._phase = _HEAD
        if mode == _CODE:
            self._pending_nl = False
            self._out.append(CodeEnd())
        elif mode == _VERBATIM:
            self._emit_text(line)
        else:
            content = "".join(self._held)
            self._held = []
            self._finish_jfence(content, line)

    def _finish_jfence(self, content: str, closing: str) -> None:
        call = recover(content, self._languages)
        if call is not None:
            self._emit_call(*call)
        else:
            self._emit_text(self._opener + content + closing)
        self._held = []

    # -- JSON printed as text ---------------------------------------------------------------

    def _start_json(self, held: str) -> None:
        self._held = [held]
        self._mode = _JSON
        self._depth = 1
        self._in_str = False
        self._esc = False
        self._first = True

    def _tag(self, data: str, i: int) -> int:
        m = _NONWS.search(data, i)
        if m is None:
            self._held.append(data[i:])
            return len(data)
        k = m.start()
        if k > i:
            self._held.append(data[i:k])
        if data[k] == "{":
            held = "".join(self._held)
            self._start_json(held + "{")
            return k + 1
        return self._json_reject(k)

    def _json(self, data: str, i: int) -> int:
        n = len(data)
        held = self._held
        while i < n:
            if self._first:
                m = _NONWS.search(data, i)
                if m is None:
                    held.append(data[i:])
                    return n
                k = m.start()
                if k > i:
                    held.append(data[i:k])
                    i = k
                if data[k] not in '"}':  # a JSON object starts with a key
                    return self._json_reject(k)
                self._first = False
            if self._esc:
                held.append(data[i])
                i += 1
                self._esc = False
                continue
            if self._in_str:
                m = _JSON_STR.search(data, i)
                if m is None:
                    held.append(data[i:])
                    return n
                j = m.end()
                held.append(data[i:j])
                i = j
                if m.group() == '"':
                    self._in_str = False
                else:
                    self._esc = True
                continue
            m = _JSON_STRUCT.search(data, i)
            if m is None:
                held.append(data[i:])
                return n
            c, k = m.group(), m.start()
            if c not in '{}"':
                if k > i:
                    held.append(data[i:k])
                return self._json_reject(k, repair=True)
            held.append(data[i : k + 1])
            i = k + 1
            if c == '"':
                self._in_str = True
            elif c == "{":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._json_done()
                    return i
        return i

    def _json_reject(self, k: int, *, repair: bool = False) -> int:
        """Not JSON after all: the held text is message text; go on at ``k``.

        With ``repair``, the object may be a tool call whose last braces the model forgot
        before going on with prose: completed, it is recovered.
        """
        text = "".join(self._held)
        self._held = []
        self._mode = _TEXT
        self._phase = _HEAD if text.endswith("\n") else _BODY
        self._paren = False
        call = recover(text + "}" * self._depth, self._languages) if repair else None
        if call is not None:
            self._emit_call(*call)
        else:
            self._emit_text(text)
        return k

    def _json_done(self) -> None:
        text = "".join(self._held)
        self._held = []
        self._mode = _TEXT
        call = recover(text, self._languages)
        if call is not None:
            self._emit_call(*call)
            self._phase = _TAIL
            self._tail_idx = 0
        else:
            self._emit_text(text)
            self._phase = _BODY
            self._paren = False
