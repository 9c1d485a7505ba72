"""What of a markdown reply is worth saying aloud, and how to say code.

Replies are written for a screen. Read aloud, markdown punctuation, code and URLs are
noise, so they are summarized instead: a code block becomes "Here are three lines of
Python.", a link becomes its text, a bare URL "a link to example.com", emphasis and
list markers disappear.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal

_NUMBERS: Final = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                   "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                   "nineteen", "twenty")

_LANGUAGES: Final = {
    "python": "Python", "py": "Python", "python3": "Python", "ipython": "Python",
    "shell": "shell", "bash": "shell", "sh": "shell", "zsh": "shell", "console": "shell",
    "javascript": "JavaScript", "js": "JavaScript", "node": "JavaScript", "typescript": "TypeScript",
    "ts": "TypeScript", "ruby": "Ruby", "rb": "Ruby", "r": "R", "powershell": "PowerShell",
    "ps1": "PowerShell", "applescript": "AppleScript", "html": "HTML", "css": "CSS", "sql": "SQL",
    "java": "Java", "json": "JSON", "yaml": "YAML", "go": "Go", "rust": "Rust", "c": "C", "cpp": "C++",
}


def language_name(language: str) -> str:
    """How to say a language tag: "py" -> "Python", "bash" -> "shell"."""
    key = language.strip().lower()
    return _LANGUAGES.get(key, language.strip() or "code")


def count(n: int, noun: str) -> str:
    """ "three lines", "one line", "25 lines"."""
    word = _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)
    return f"{word} {noun}{'' if n == 1 else 's'}"


def describe_code(language: str, code: str) -> str:
    """ "three lines of Python" (blank lines are not counted)."""
    lines = sum(1 for line in code.splitlines() if line.strip())
    name = language_name(language)
    if lines == 0:
        return f"an empty block of {name}"
    return f"{count(lines, 'line')} of {name}"


Purpose = Literal["propose", "running", "show"]


def code_sentence(language: str, code: str, purpose: Purpose = "show") -> str:
    """The sentence said instead of code.

    ``propose``: the model wants to run it ("I'd like to run three lines of Python.");
    ``running``: it runs without asking; ``show``: a block in the reply's text.
    """
    what = describe_code(language, code)
    if purpose == "propose":
        return f"I'd like to run {what}."
    if purpose == "running":
        return f"Running {what}."
    lines = sum(1 for line in code.splitlines() if line.strip())
    return f"Here {'is' if lines == 1 else 'are'} {what}, on screen."


# --- markdown -> speech --------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+#.-]*)[^\n]*\n?(.*?)(?:\n\s*\1\s*)?$", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_HTML = re.compile(r"</?[a-zA-Z][^>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_QUOTE = re.compile(r"^\s*>+\s?", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+", re.M)
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.M)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$", re.M)
# Underscores only count at word edges: snake_case_names keep theirs.
_EMPHASIS = re.compile(r"(\*{1,3}|~~)(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)")
_STRAY = re.compile(r"(?<!\w)[*_~#`]+|[*_~#`]+(?!\w)")
_SPACE = re.compile(r"[ \t]*\n[ \t\n]*|[ \t]{2,}")


def _say_url(url: str) -> str:
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.I).split("/")[0].split("?")[0].rstrip(".,;:")
    return f"a link to {host}" if host and len(host) <= 40 else "a link"


def _say_inline_code(match: re.Match[str]) -> str:
    code = match.group(2).strip()
    # Short names and commands read fine ("ls", "numpy", "os.getcwd"); longer code does not.
    if len(code) <= 24 and code.count(" ") <= 2 and not _URL.search(code):
        return code
    return "some code"


def speakable(unit: str, say_code: Callable[[str, str], str] | None = None) -> str:
    """The words to say for one unit of a markdown reply ('' when nothing is worth saying).

    A unit is a sentence, a line, or a whole fenced code block (see ``sentences``);
    ``say_code(language, code)`` words a code block (default: ``code_sentence(..., "show")``).
    """
    fence = _FENCE.match(unit)
    if fence and unit.lstrip().startswith(fence.group(1)):
        if say_code is not None:
            return say_code(fence.group(2) or "code", fence.group(3))
        return code_sentence(fence.group(2) or "code", fence.group(3), "show")
    text = unit
    text = _IMAGE.sub(lambda m: f"an image of {m.group(1)}" if m.group(1).strip() else "an image", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: _say_url(m.group(1)), text)
    text = _INLINE_CODE.sub(_say_inline_code, text)
    text = _URL.sub(lambda m: _say_url(m.group(0)), text)
    text = _HTML.sub(" ", text)
    if _TABLE_SEPARATOR.fullmatch(text.strip()) and "-" in text:
        return ""
    if text.strip().startswith("|") or text.count("|") >= 2:
        cells = [c.strip() for c in text.strip().strip("|").split("|")]
        text = ", ".join(c for c in cells if c)
    text = _RULE.sub(" ", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    for _ in range(2):  # nested emphasis: ***bold italic*** or **a _b_ c**
        text = _EMPHASIS.sub(lambda m: m.group(2) or m.group(4), text)
    text = _STRAY.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    # Nothing but punctuation left (a stray "-" or ":"): say nothing.
    return text if re.search(r"\w", text) else ""
