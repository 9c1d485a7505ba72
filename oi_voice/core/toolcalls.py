"""Tool calls: decoding the model's ``execute`` calls, native or printed as text.

Native calls arrive as a name and JSON arguments, streamed in fragments:
:func:`partial_code` and :func:`streamed_language` read an incomplete arguments text so
the code can be shown as it streams, and :func:`parse_tool_arguments` decodes the
complete call. Small models also print their call as text (a JSON object, in
``<tool_call>`` tags, in a fence, or as ``functions.execute({...})``);
:func:`recover_tool_call` decodes those for the fence parser (:mod:`oi_voice.core.codeblocks`).
Everything tolerates what small models send: wrong tool names, double-encoded
arguments, other keys for the code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

__all__ = [
    "TOOL_CLOSE",
    "TOOL_OPEN",
    "ToolCallError",
    "normalize_languages",
    "parse_tool_arguments",
    "partial_code",
    "recover",
    "recover_tool_call",
    "streamed_language",
]

class ToolCallError(ValueError):
    """A tool call's arguments could not be understood; the message is meant for the model."""


TOOL_OPEN: Final = "<tool_call>"
TOOL_CLOSE: Final = "</tool_call>"
# Keys a confused model uses for the code; only honoured when the object names a tool.
_CODE_KEYS: Final = ("code", "command", "cmd", "script", "source")
_EXAMPLE: Final = '{"language": "python", "code": "print(1)"}'
_WRAPPER_FENCE = re.compile(r"```[^\n`]*\n(.*?)\n?[ \t]*```+", re.S)
#: A call printed as code, the way OpenAI's tool namespace reads: ``functions.execute({...})``
#: (or a bare ``execute({...})``). The closing parenthesis is optional: the fence parser
#: hands over the text up to the object's last brace.
CALL_HEAD: Final = re.compile(r"(?:functions\.([A-Za-z_]\w*)|(execute))[ \t]*\(")
_CALL = re.compile(r"(?:functions\.([A-Za-z_]\w*)|(execute))[ \t]*\((.*?)(?:\)\s*;?)?", re.S)
#: What JavaScript-style objects print as keys: ``{language: "python", code: "..."}``.
_BARE_KEY = re.compile(r"[A-Za-z_]\w*")


def normalize_languages(languages: Mapping[str, str]) -> dict[str, str]:
    """Lower-case the tags; canonical names are accepted as tags of themselves."""
    out = {tag.strip().lower(): lang for tag, lang in languages.items()}
    for lang in languages.values():
        out.setdefault(lang.strip().lower(), lang)
    return out


def _resolve(language: str, languages: Mapping[str, str]) -> str:
    key = language.strip().lower()
    return languages.get(key, key)


def _name_language(name: str | None, languages: Mapping[str, str]) -> str | None:
    """The language a wrong tool name stands for: "python", "bash", "run_python" ..."""
    if not name:
        return None
    key = name.strip().lower()
    if key in languages:
        return languages[key]
    for part in re.split(r"[^a-z0-9+#]+", key):
        if part in languages:
            return languages[part]
    return None


def _loads(text: str) -> tuple[bool, object, str]:
    """json.loads that never raises: (ok, value, error message).

    ``strict=False`` because small models put raw newlines inside the "code" string.
    """
    try:
        return True, json.loads(text, strict=False), ""
    except ValueError as exc:  # JSONDecodeError
        quoted = _quote_bare_keys(text)
        if quoted != text:
            ok, value, _err = _loads(quoted)
            if ok:
                return True, value, ""
        return False, None, str(exc)
    except RecursionError:
        return False, None, "nested too deeply"


def _quote_bare_keys(text: str) -> str:
    """``{language: "python"}`` -> ``{"language": "python"}``; strings are left alone."""
    out: list[str] = []
    i, n = 0, len(text)
    after_open = False  # the last structural character was "{" or ","
    while i < n:
        c = text[i]
        if c == '"':  # copy a string whole, escapes included
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i, after_open = j + 1, False
            continue
        if after_open and (m := _BARE_KEY.match(text, i)) is not None:
            rest = text[m.end():].lstrip()
            if rest.startswith(":") and m.group() not in ("true", "false", "null"):
                out.append(f'"{m.group()}"')
                i, after_open = m.end(), False
                continue
        if not c.isspace():
            after_open = c in "{,"
        out.append(c)
        i += 1
    return "".join(out)


def _code_value(value: object) -> str | None:
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return "\n".join(value)  # a list of lines
    return value if isinstance(value, str) else None


def _interpret(obj: object, name: str | None, languages: Mapping[str, str],
               *, from_text: bool) -> tuple[str, str] | str:
    """(language, code) from a decoded tool call, or a message saying what is wrong.

    ``from_text`` is set when the object was printed in the message: then a bare object
    without a tool name only counts with a known language, so that ordinary JSON the
    model shows the user is not mistaken for code to run.
    """
    tool = name or "execute"
    # OpenAI style: {"type": "function", "function": {"name": ..., "arguments": ...}}
    for _ in range(3):
        if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
            obj = obj["function"]
    if isinstance(obj, str):
        ok, value, _err = _loads(obj.strip())
        if ok and isinstance(value, dict):
            obj = value
        else:
            guess = _name_language(name, languages)
            if guess is not None:
                return guess, obj  # {"name": "python", "arguments": "print(1)"}: the string is code
            return f"{tool} needs a JSON object with 'language' and 'code', like {_EXAMPLE}"
    if not isinstance(obj, dict):
        return f"{tool} needs a JSON object with 'language' and 'code', like {_EXAMPLE}"

    envelope = False
    args: object = obj
    for key in ("arguments", "parameters", "args", "input"):
        if key in obj and "code" not in obj:  # {"code": ..., "args": [...]} is arguments, not a call
            envelope = True
            args = obj[key]
            break
    for key in ("name", "tool", "function", "tool_name"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            name = value
            tool = value
            break
    if envelope and isinstance(args, str):
        ok, value, err = _loads(args.strip())
        if ok and isinstance(value, str):  # double-encoded
            ok, value, err = _loads(value.strip())
        if ok and isinstance(value, dict):
            args = value
        else:
            guess = _name_language(name, languages)
            if guess is not None:
                return guess, args
            return f"the arguments of {tool} were not valid JSON: {err or 'not an object'}. Send {_EXAMPLE}"
    if not isinstance(args, dict):
        return f"{tool} needs a JSON object with 'language' and 'code', like {_EXAMPLE}"

    keys = _CODE_KEYS if (envelope or name or not from_text) else ("code",)
    code = None
    for key in keys:
        code = _code_value(args.get(key))
        if code is not None:
            break
    language = args.get("language", args.get("lang"))
    lang: str | None = None
    if isinstance(language, str) and language.strip():
        lang = _resolve(language, languages)
        if from_text and not envelope and name is None and language.strip().lower() not in languages:
            return "an object with an unknown language and no tool name is not a tool call"
    else:
        lang = _name_language(name, languages)
    if code is None or lang is None:
        got = ", ".join(sorted(map(str, args))) or "nothing"
        return f"{tool} needs 'language' and 'code' (got: {got}); send {_EXAMPLE}"
    return lang, code


def _strip_wrappers(text: str) -> tuple[str | None, str]:
    """Remove <tool_call> tags, a surrounding markdown fence and a ``functions.NAME(...)``
    around a printed call: (the tool name the wrapper gave, if any; what is inside)."""
    s = text.strip()
    name: str | None = None
    for _ in range(2):
        if s.startswith(TOOL_OPEN):
            s = s[len(TOOL_OPEN):]
            if s.rstrip().endswith(TOOL_CLOSE):
                s = s.rstrip()[: -len(TOOL_CLOSE)]
            s = s.strip()
        m = _WRAPPER_FENCE.fullmatch(s)
        if m:
            s = m.group(1).strip()
        m = _CALL.fullmatch(s) if s[:1] in ("f", "e") else None
        if m:
            name, s = m.group(1) or m.group(2), m.group(3).strip()
    return name, s


def recover(text: str, languages: Mapping[str, str]) -> tuple[str, str] | None:
    """:func:`recover_tool_call` with ``languages`` already normalized (the parser's hot path)."""
    name, s = _strip_wrappers(text)
    if not s.startswith("{"):
        return None
    ok, obj, _err = _loads(s)
    if not ok:
        return None
    result = _interpret(obj, name, languages, from_text=True)
    return result if isinstance(result, tuple) else None


def recover_tool_call(text: str, languages: Mapping[str, str]) -> tuple[str, str] | None:
    """(language, code) if ``text`` is a tool call printed as text, else None.

    Accepts ``{"name": "execute", "arguments": {"language": ..., "code": ...}}`` (arguments
    may be a JSON string), wrong tool names ("python", "run_code", "bash": a name that is a
    language gives the language when "language" is missing), ``{"function": {...}}``,
    a bare ``{"language": ..., "code": ...}`` (known languages only; keys may be unquoted,
    as JavaScript prints them), optionally wrapped in ``<tool_call>`` tags, a markdown
    fence, or ``functions.execute(...)``. Unknown languages come back lower-cased.
    """
    return recover(text, normalize_languages(languages))


def parse_tool_arguments(name: str | None, arguments: str,
                         languages: Mapping[str, str]) -> tuple[str, str]:
    """(language, code) from a native tool call's name and JSON arguments.

    Tolerates what small models send: a wrong tool name, arguments that are a JSON string
    of an object, the whole call nested in the arguments, or (for a tool named after a
    language) the bare code. Raises :class:`ToolCallError` with a message the model can
    act on otherwise.
    """
    langs = normalize_languages(languages)
    tool = name or "execute"
    text = (arguments or "").strip()
    if not text:
        raise ToolCallError(f"{tool} needs 'language' and 'code' but got no arguments; send {_EXAMPLE}")
    ok, obj, err = _loads(text)
    if not ok:
        lang = _name_language(name, langs)
        if lang is not None:
            return lang, arguments
        raise ToolCallError(f"the arguments of {tool} were not valid JSON: {err}. Send {_EXAMPLE}")
    result = _interpret(obj, name, langs, from_text=False)
    if isinstance(result, str):
        raise ToolCallError(result)
    return result


# --- arguments as they stream -------------------------------------------------------------

_CODE_KEY = re.compile(r'"code"\s*:\s*"')
_LANG_KEY = re.compile(r'"language"\s*:\s*"([^"\\]*)"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def partial_code(arguments: str) -> str | None:
    """The decoded prefix of the ``code`` string in an incomplete JSON arguments text (None: not yet)."""
    match = _CODE_KEY.search(arguments)
    if match is None:
        return None
    out: list[str] = []
    i = match.end()
    while i < len(arguments):
        c = arguments[i]
        if c == '"':
            break
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(arguments):
            break
        esc = arguments[i + 1]
        if esc == "u":
            if i + 6 > len(arguments):
                break
            try:
                unit = int(arguments[i + 2 : i + 6], 16)
            except ValueError:
                break
            if 0xD800 <= unit < 0xDC00:
                # A surrogate pair: wait for its second half, as json.loads joins them.
                if i + 12 > len(arguments):
                    break
                try:
                    low = int(arguments[i + 8 : i + 12], 16) if arguments[i + 6 : i + 8] == "\\u" else -1
                except ValueError:
                    low = -1
                if 0xDC00 <= low < 0xE000:
                    out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                    i += 12
                    continue
            out.append(chr(unit))
            i += 6
        else:
            out.append(_ESCAPES.get(esc, esc))
            i += 2
    return "".join(out)


def streamed_language(arguments: str, languages: Mapping[str, str]) -> str | None:
    """The language of an incomplete JSON arguments text, once its value is complete."""
    match = _LANG_KEY.search(arguments)
    if match is None:
        return None
    name = match.group(1).lower()
    return languages.get(name, name)
