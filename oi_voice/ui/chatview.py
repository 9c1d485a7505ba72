"""The conversation as it streams: one widget per block, fed the engine's events.

:class:`ChatView` renders the engine's typed event stream (:mod:`oi_voice.core.events`) and
nothing else: user turns, the assistant's markdown, code with syntax highlighting and
the active line, collapsible output panes that show the start of long output with a
"Show all" button, and images inline.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QPixmap, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from oi_voice.core import events as ev
from oi_voice.ui.highlight import CodeHighlighter

log = logging.getLogger("oi_voice.ui")

#: Characters of output shown before "Show all".
SHOWN = 4_000
#: Characters of one run's output the window keeps at most (the engine bounds what the
#: model sees; this bounds what a runaway print costs the window).
KEPT = 2_000_000
#: Widest an inline image is drawn.
IMAGE_WIDTH = 560


def _monospace() -> Any:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class _Block(QFrame):
    """A titled block of the conversation."""

    def __init__(self, title: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"block-{kind}")
        self.kind = kind
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 4, 8, 6)
        self.title = QLabel(title)
        self.title.setObjectName("title")
        self.title.setStyleSheet("color: #555; font-weight: bold;")
        self.layout_.addWidget(self.title)


class TextBlock(_Block):
    """A user turn, the assistant's reply (markdown) or a notice."""

    def __init__(self, title: str, kind: str, text: str = "", *, markdown: bool = False) -> None:
        super().__init__(title, kind)
        self.text = text
        self.label = QLabel()
        self.label.setObjectName("text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.label.setOpenExternalLinks(True)
        self.label.setTextFormat(Qt.TextFormat.MarkdownText if markdown else Qt.TextFormat.PlainText)
        self.layout_.addWidget(self.label)
        self.label.setText(text)

    def append(self, text: str) -> None:
        """Add streamed text."""
        self.text += text
        self.label.setText(self.text)


class CodeBlock(_Block):
    """Highlighted code, with the line that is running marked."""

    def __init__(self, language: str) -> None:
        super().__init__(language or "code", "code")
        self.language = language
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("code")
        self.editor.setReadOnly(True)
        self.editor.setFont(_monospace())
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.highlighter = CodeHighlighter(self.editor.document(), language)
        self.layout_.addWidget(self.editor)
        #: The 1-based line that is running, or None.
        self.active_line: int | None = None
        self._fit()

    @property
    def code(self) -> str:
        """The code shown."""
        return self.editor.toPlainText()

    def append(self, text: str) -> None:
        """Add streamed code."""
        cursor = self.editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._fit()

    def _fit(self) -> None:
        lines = max(1, min(self.editor.document().blockCount(), 24))
        height = self.editor.fontMetrics().lineSpacing() * lines + 12
        self.editor.setFixedHeight(height)

    def set_active_line(self, line: int | None) -> None:
        """Mark ``line`` (1-based) as running; None clears the mark."""
        self.active_line = line
        selections = []
        if line is not None and 1 <= line <= self.editor.document().blockCount():
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(QColor("#fff59d"))
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(self.editor.document().findBlockByNumber(line - 1))
            selection.cursor = cursor
            selections.append(selection)
        self.editor.setExtraSelections(selections)


class OutputBlock(_Block):
    """A run's output: collapsible, showing the first :data:`SHOWN` characters until asked."""

    def __init__(self) -> None:
        super().__init__("Output", "output")
        self.title.hide()
        self.toggle = QToolButton()
        self.toggle.setObjectName("toggle")
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setText("Output")
        self.toggle.toggled.connect(self._expand)
        self.layout_.insertWidget(0, self.toggle)
        self.view = QPlainTextEdit()
        self.view.setObjectName("output")
        self.view.setReadOnly(True)
        self.view.setFont(_monospace())
        self.layout_.addWidget(self.view)
        self.show_all = QPushButton("Show all")
        self.show_all.setObjectName("show-all")
        self.show_all.clicked.connect(self.reveal)
        self.show_all.hide()
        self.layout_.addWidget(self.show_all)
        self._parts: list[str] = []
        self._kept = 0
        #: Characters received (including any beyond what is kept).
        self.received = 0
        self.revealed = False

    @property
    def text(self) -> str:
        """The output kept (all of it up to :data:`KEPT` characters)."""
        return "".join(self._parts)

    @property
    def shown(self) -> str:
        """The text on screen."""
        return self.view.toPlainText()

    def append(self, text: str) -> None:
        """Add streamed output; past :data:`SHOWN` characters only the count grows on screen."""
        self.received += len(text)
        room = KEPT - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(len(text), room)
        if self.revealed:
            self._insert(text[:room] if room > 0 else "")
            return
        on_screen = len(self.view.toPlainText())
        if on_screen < SHOWN:
            self._insert(text[:SHOWN - on_screen])
        if self.received > SHOWN:
            self.show_all.setText(f"Show all ({self.received:,} characters)")
            self.show_all.show()

    def _insert(self, text: str) -> None:
        if not text:
            return
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        self._fit()

    def _fit(self) -> None:
        # As tall as the text, up to a screenful; the pane scrolls beyond that.
        most = 30 if self.revealed else 14
        lines = max(1, min(self.view.document().blockCount(), most))
        self.view.setFixedHeight(self.view.fontMetrics().lineSpacing() * lines + 12)

    def reveal(self) -> None:
        """Show everything kept ("Show all")."""
        self.revealed = True
        text = self.text
        if self.received > self._kept:
            text += f"\n… {self.received - self._kept:,} more characters were not kept"
        self.view.setPlainText(text)
        self._fit()
        self.show_all.hide()

    def _expand(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.view.setVisible(on)
        self.show_all.setVisible(on and not self.revealed and self.received > SHOWN)

    @property
    def expanded(self) -> bool:
        """Whether the pane is open."""
        return self.toggle.isChecked()


class ImageBlock(_Block):
    """An image the code produced (a plot), drawn inline."""

    def __init__(self, data: bytes) -> None:
        super().__init__("Image", "image")
        self.pixmap = QPixmap()
        self.pixmap.loadFromData(QByteArray(data))
        self.label = QLabel()
        self.label.setObjectName("image")
        if self.pixmap.isNull():
            self.label.setText("(an image that could not be decoded)")
        else:
            shown = self.pixmap
            if shown.width() > IMAGE_WIDTH:
                shown = shown.scaledToWidth(IMAGE_WIDTH, Qt.TransformationMode.SmoothTransformation)
            self.label.setPixmap(shown)
        self.layout_.addWidget(self.label)


class ChatView(QScrollArea):
    """The conversation, rendered from the engine's event stream."""

    #: A block was added (for the app's log and the end-to-end test).
    block_added = Signal(object)
    #: A run's output ended (the OutputBlock).
    output_finished = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat")
        self.setWidgetResizable(True)
        body = QWidget()
        self.column = QVBoxLayout(body)
        self.column.setContentsMargins(6, 6, 6, 6)
        self.column.addStretch(1)
        self.setWidget(body)
        self.blocks: list[_Block] = []
        self._message: TextBlock | None = None
        self._code: CodeBlock | None = None
        self._output: OutputBlock | None = None
        self._stick = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._grown)

    def _scrolled(self, value: int) -> None:
        # Follow new blocks only while the user has not scrolled up to read.
        self._stick = value >= self.verticalScrollBar().maximum() - 24

    def _grown(self, _low: int, high: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(high)

    def _add(self, block: _Block) -> None:
        block.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.column.insertWidget(self.column.count() - 1, block)
        self.blocks.append(block)
        self.block_added.emit(block)

    # -- blocks the window adds ------------------------------------------------------------

    def add_user(self, text: str) -> TextBlock:
        """A user turn (typed, or a transcript)."""
        self._message = self._code = self._output = None
        block = TextBlock("You", "user", text)
        self._add(block)
        self._stick = True
        QTimer.singleShot(0, self.scroll_to_end)
        return block

    def add_notice(self, text: str, kind: str = "notice") -> TextBlock:
        """A line from the app: an error, a latency figure, a decision."""
        block = TextBlock("" if kind == "notice" else kind.capitalize(), kind, text)
        if kind == "notice":
            block.title.hide()
            block.label.setStyleSheet("color: #666;")
        else:
            block.label.setStyleSheet("color: #b71c1c;")
        self._add(block)
        return block

    def clear(self) -> None:
        """Forget every block (after %reset)."""
        for block in self.blocks:
            block.deleteLater()
        self.blocks.clear()
        self._message = self._code = self._output = None

    def scroll_to_end(self) -> None:
        """Show the newest block."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- the event stream ------------------------------------------------------------------

    def feed(self, event: ev.EngineEvent) -> None:
        """Render one engine event."""
        if isinstance(event, ev.MessageStart):
            self._new_message()
        elif isinstance(event, ev.MessageDelta):
            if self._message is None:
                self._new_message()
            assert self._message is not None
            self._message.append(event.text)
        elif isinstance(event, ev.MessageEnd):
            self._message = None
        elif isinstance(event, ev.CodeStart):
            self._new_code(event.language)
        elif isinstance(event, ev.CodeDelta):
            if self._code is None:
                self._new_code(event.language)
            assert self._code is not None
            self._code.append(event.text)
        elif isinstance(event, ev.ConsoleStart):
            self._output = OutputBlock()
            self._add(self._output)
        elif isinstance(event, ev.ActiveLine):
            if self._code is not None:
                self._code.set_active_line(event.line)
        elif isinstance(event, ev.ConsoleOutput):
            self._console_output(event.text)
        elif isinstance(event, ev.ConsoleEnd):
            self._console_end()
        elif isinstance(event, ev.ImageOutput):
            self._image(event.format, event.data)
        elif isinstance(event, ev.ErrorEvent):
            self.add_notice(event.message or "error", "error")

    def _new_message(self) -> None:
        self._message = TextBlock("Assistant", "assistant", markdown=True)
        self._add(self._message)

    def _new_code(self, language: str) -> None:
        self._code = CodeBlock(language)
        self._output = None
        self._add(self._code)

    def _console_end(self) -> None:
        if self._code is not None:
            self._code.set_active_line(None)
        if self._output is not None:
            if not self._output.received:
                self._output.append("(no output)")
            self.output_finished.emit(self._output)
        self._output = None

    def _console_output(self, content: str) -> None:
        if not content:
            return
        if self._output is None:  # a note without a run (declined, not run)
            self._output = OutputBlock()
            self._add(self._output)
            self._output.append(content)
            self._output = None
            return
        self._output.append(content)

    def _image(self, fmt: str, content: str) -> None:
        try:
            if fmt.startswith("base64"):
                data = base64.b64decode(content)
            elif fmt == "path":
                with open(content, "rb") as file:
                    data = file.read()
            else:
                return
        except (ValueError, OSError) as exc:
            self.add_notice(f"An image could not be shown: {exc}", "error")
            return
        self._add(ImageBlock(data))
