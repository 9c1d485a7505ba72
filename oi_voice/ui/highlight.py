"""Syntax highlighting for code blocks: keywords, strings, comments and numbers.

Deliberately small — a rule table per language family — so code is readable while it
streams in; it is not meant to be an editor's full grammar.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

_KEYWORDS = {
    "python": "and as assert async await break class continue def del elif else except False finally for from "
              "global if import in is lambda None nonlocal not or pass raise return True try while with yield",
    "shell": "if then else elif fi for while until do done case esac function in select return export local "
             "source alias unset echo cd exit sudo",
    "javascript": "async await break case catch class const continue default delete do else export extends false "
                  "finally for function if import in instanceof let new null return super switch this throw true "
                  "try typeof undefined var void while yield",
    "ruby": "alias and begin break case class def defined? do else elsif end ensure false for if in module next nil "
            "not or redo rescue retry return self super then true undef unless until when while yield puts require",
    "r": "if else repeat while function for in next break TRUE FALSE NULL Inf NaN NA library",
}
_ALIASES = {"py": "python", "bash": "shell", "sh": "shell", "zsh": "shell", "js": "javascript", "node": "javascript",
            "rb": "ruby"}
_HASH_COMMENTS = {"python", "shell", "ruby", "r"}


def _format(colour: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class CodeHighlighter(QSyntaxHighlighter):
    """Colours one code block's document for ``language``."""

    def __init__(self, document: QTextDocument, language: str) -> None:
        super().__init__(document)
        name = _ALIASES.get(language.lower(), language.lower())
        words = _KEYWORDS.get(name, "")
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        if words:
            pattern = r"(?<![\w$])(?:" + "|".join(re.escape(w) for w in words.split()) + r")(?![\w?])"
            self._rules.append((re.compile(pattern), _format("#7b1fa2", bold=True)))
        self._rules.append((re.compile(r"\b\d+(?:\.\d+)?\b"), _format("#1565c0")))
        self._rules.append((re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'"), _format("#2e7d32")))
        comment = r"#.*$" if name in _HASH_COMMENTS else r"//.*$"
        self._rules.append((re.compile(comment), _format("#757575", italic=True)))

    def highlightBlock(self, text: str) -> None:
        """Colour one line (later rules win: a keyword inside a string is a string)."""
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)
