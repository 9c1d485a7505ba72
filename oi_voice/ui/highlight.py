"""Syntax highlighting for code blocks, by pygments' lexers, in Qt text formats.

A lexer reads the whole block (a ``#`` inside a string is part of the string, a
triple-quoted string spans lines), and each token type takes the format of its colour
role. The look lives in two tables only: ``TOKEN_ROLES`` (token type -> role) and
``THEMES`` (theme -> role -> colour, weight, slant), so a dark theme is one more entry.

Code streams in a piece at a time; the document is lexed again only when its text has
changed, once for all the lines Qt asks about, and each line remembers how it ended (in
a string, in a comment ...) so that a change which reaches into later lines recolours them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from pygments.util import ClassNotFound
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

__all__ = ["THEMES", "TOKEN_ROLES", "CodeHighlighter", "RoleStyle", "lexer_for"]

#: The colour role of each pygments token type; a type not listed takes its parent's role
#: (``String.Doc`` is a string), and a type with no listed ancestor stays plain.
TOKEN_ROLES: dict[_TokenType, str] = {
    Keyword: "keyword",
    Operator.Word: "keyword",  # and, or, not, in
    Name.Builtin: "builtin",
    Name.Function: "definition",
    Name.Class: "definition",
    Name.Decorator: "decorator",
    String: "string",
    Number: "number",
    Comment: "comment",
}


@dataclass(frozen=True)
class RoleStyle:
    """How one colour role looks."""

    colour: str
    bold: bool = False
    italic: bool = False


#: Every theme's look of every colour role.
THEMES: dict[str, dict[str, RoleStyle]] = {
    "light": {
        "keyword": RoleStyle("#7b1fa2", bold=True),
        "builtin": RoleStyle("#00838f"),
        "definition": RoleStyle("#1565c0", bold=True),
        "decorator": RoleStyle("#ad1457"),
        "string": RoleStyle("#2e7d32"),
        "number": RoleStyle("#1565c0"),
        "comment": RoleStyle("#757575", italic=True),
    },
    "dark": {
        "keyword": RoleStyle("#ce93d8", bold=True),
        "builtin": RoleStyle("#4dd0e1"),
        "definition": RoleStyle("#90caf9", bold=True),
        "decorator": RoleStyle("#f48fb1"),
        "string": RoleStyle("#a5d6a7"),
        "number": RoleStyle("#90caf9"),
        "comment": RoleStyle("#9e9e9e", italic=True),
    },
}

# Our language names that pygments knows by another name.
_LEXER_NAMES = {"shell": "bash", "zsh": "bash", "sh": "bash", "node": "javascript"}


def lexer_for(language: str) -> Lexer | None:
    """A pygments lexer for a code block's language (any of its aliases); None if unknown."""
    name = language.strip().lower()
    try:
        return get_lexer_by_name(_LEXER_NAMES.get(name, name), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


def _role(token: _TokenType) -> str | None:
    while token is not None:
        role = TOKEN_ROLES.get(token)
        if role is not None:
            return role
        token = token.parent
    return None


def _common_prefix(a: str, b: str) -> int:
    """The length of the start ``a`` and ``b`` share (string compares, not a loop per character)."""
    if b.startswith(a):
        return len(a)  # streaming: text was only added
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _format(style: RoleStyle) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(style.colour))
    if style.bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(style.italic)
    return fmt


_Span = tuple[int, int, str]  # start in the line, length, role


class CodeHighlighter(QSyntaxHighlighter):
    """Colours one code block's document for ``language`` in ``theme`` (see ``THEMES``)."""

    def __init__(self, document: QTextDocument, language: str, *, theme: str = "light") -> None:
        super().__init__(document)
        self._lexer = lexer_for(language)
        self._roles = sorted({role for styles in THEMES.values() for role in styles})
        self._formats = self._make_formats(theme)
        self._text: str | None = None
        self._lines: list[list[_Span]] = []
        self._ends: list[int] = []  # per line: the role the line ends in (as a block state)

    @staticmethod
    def _make_formats(theme: str) -> dict[str, QTextCharFormat]:
        return {role: _format(style) for role, style in THEMES[theme].items()}

    def set_theme(self, theme: str) -> None:
        """Recolour the whole block for another theme (a key of ``THEMES``)."""
        self._formats = self._make_formats(theme)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        """Colour one line from the lexed document."""
        if self._lexer is None:
            return
        self._lex()
        number = self.currentBlock().blockNumber()
        if number >= len(self._lines):
            return
        for start, length, role in self._lines[number]:
            fmt = self._formats.get(role)
            if fmt is not None:
                self.setFormat(start, length, fmt)
        # A line that now ends in another state (a string opened) makes Qt go on to the next.
        self.setCurrentBlockState(self._ends[number])

    def _lex(self) -> None:
        """Lex the document again if its text changed since the last time.

        The lines before the first changed one keep their colours: lexing restarts at the
        last line before it that starts at the left margin after a line that ended outside
        any string or comment, where a lexer is back in its first state. Code that streams
        in is lexed from its last top-level line, not from the top, at every piece.
        """
        assert self._lexer is not None
        text = self.document().toPlainText()
        if text == self._text:
            return
        old, self._text = self._text or "", text
        common = _common_prefix(old, text)
        line = text.count("\n", 0, common)
        start = text.rfind("\n", 0, common) + 1
        while line > 0 and not (self._ends[line - 1] == 0 and start < common and not text[start].isspace()):
            start = text.rfind("\n", 0, start - 1) + 1
            line -= 1
        lines: list[list[_Span]] = [[]]
        ends: list[int] = []
        column = 0
        # Some lexers end a comment at a newline (bash): the last line needs one too.
        for _, token, value in self._lexer.get_tokens_unprocessed(text[start:] + "\n"):
            role = _role(token)
            for i, piece in enumerate(value.split("\n")):
                if i:  # a line ended inside this token
                    ends.append(self._state(role))
                    lines.append([])
                    column = 0
                if piece and role is not None:
                    lines[-1].append((column, len(piece), role))
                column += len(piece)
        ends.append(0)
        self._lines[line:] = lines
        self._ends[line:] = ends

    def _state(self, role: str | None) -> int:
        """A line's block state: 1 + the role it ends in, 0 for none (never Qt's -1 of a new
        line, or a line split off by an edit would look unchanged and stop the recolouring)."""
        return 0 if role is None else 1 + self._roles.index(role)
