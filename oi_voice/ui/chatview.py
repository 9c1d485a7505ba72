"""The conversation as it streams: the user's messages on the right, the assistant's on the left.

:class:`ChatView` renders the engine's stream and nothing else. The user's words are a
bubble on the right; the assistant's replies are plain markdown on the left, with no box
around them; notices from the app are small centred lines. Each piece of code the model
writes is a card (:class:`CodeBlock`): its language, its run state as a chip (writing,
waiting for approval, running, done, declined, failed, stopped), a copy button, the
highlighted code with the running line marked, the approval (Run / Edit / Decline) while
it waits, and under it the run's output, folded in a collapsible pane that shows the
start of long output with a "Show all" button, and any images the run drew.

The engine's typed events (:mod:`oi_voice.core.events`) arrive through :meth:`ChatView.feed`;
the methods it calls (``start_message``, ``start_code``, ``console_start`` ...) are the
view's vocabulary.
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPixmap, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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
from oi_voice.core.approval import Decision
from oi_voice.settings import QT_TRANSLATE_NOOP
from oi_voice.ui import theme
from oi_voice.ui.highlight import CodeHighlighter
from oi_voice.ui.i18n import translate

log = logging.getLogger("oi_voice.ui")

#: Characters of output shown before "Show all".
SHOWN = 4_000
#: Characters of one run's output the window keeps at most (the engine bounds what the
#: model sees; this bounds what a runaway print costs the window).
KEPT = 2_000_000
#: Widest an inline image is drawn.
IMAGE_WIDTH = 560
#: Lines of code shown before the card's code pane scrolls.
CODE_LINES = 24

#: What the empty conversation says.
EMPTY_HINT = QT_TRANSLATE_NOOP("ChatView", "Type a request below, or hold {key} and say it.\n"
                               "Code the model writes waits for your OK before it runs.")
#: The words of each run state's chip.
STATE_WORDS = {
    "writing": QT_TRANSLATE_NOOP("ChatView", "Writing…"),
    "ready": QT_TRANSLATE_NOOP("ChatView", "Ready to run"),
    "waiting": QT_TRANSLATE_NOOP("ChatView", "Waiting for approval"),
    "running": QT_TRANSLATE_NOOP("ChatView", "Running…"),
    "done": QT_TRANSLATE_NOOP("ChatView", "Done"),
    "declined": QT_TRANSLATE_NOOP("ChatView", "Declined"),
    "failed": QT_TRANSLATE_NOOP("ChatView", "Failed"),
    "stopped": QT_TRANSLATE_NOOP("ChatView", "Stopped"),
}

#: How a run ended, read from the last note the engine adds to its output.
_STOPPED_NOTE = re.compile(r"^\s*\[Stopped")
_FAILED_NOTE = re.compile(r"^\s*(exit code \d+|killed by \S+|it stopped without an exit status|.*restarted.*"
                          r"|.*variables are gone.*|.*waited for input.*)\s*$", re.IGNORECASE | re.DOTALL)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*$", re.MULTILINE)


def _named(widget: Any, name: str, accessible: str = "") -> Any:
    widget.setObjectName(name)
    if accessible:
        widget.setAccessibleName(accessible)
    return widget


class _Block(QWidget):
    """One piece of the conversation (a row of the column)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"block-{kind}")
        self.kind = kind
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)


class TextBlock(_Block):
    """A user turn (a bubble on the right), the assistant's reply (markdown on the left),
    a notice (a small centred line) or an error (a tinted box)."""

    def __init__(self, kind: str, text: str = "", *, markdown: bool = False) -> None:
        super().__init__(kind)
        self.text = text
        names = {"user": "bubble", "assistant": "reply", "error": "error"}
        self.label = _named(QLabel(), names.get(kind, "notice"))
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                           | Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.label.setOpenExternalLinks(True)
        self.label.setTextFormat(Qt.TextFormat.MarkdownText if markdown else Qt.TextFormat.PlainText)
        names = {"user": translate("ChatView", "You said"), "assistant": translate("ChatView", "Assistant"),
                 "error": translate("ChatView", "Error")}
        self.label.setAccessibleName(names.get(kind, translate("ChatView", "Notice")))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if kind == "user":
            # The user's side: pushed right, never wider than most of the row.
            row.addStretch(1)
            self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            row.addWidget(self.label, 0, Qt.AlignmentFlag.AlignRight)
        elif kind == "notice":
            self.label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            row.addWidget(self.label, 1)
        else:
            row.addWidget(self.label, 1)
        self.layout_.addLayout(row)
        self.label.setText(text)

    def append(self, text: str) -> None:
        """Add streamed text."""
        self.text += text
        self.label.setText(self.text)

    def resizeEvent(self, event: Any) -> None:
        """A bubble is as wide as its longest line, up to three quarters of the row (as chat apps do)."""
        if self.kind == "user":
            most = max(160, int(self.width() * 0.75))
            metrics = self.label.fontMetrics()
            widest = max((metrics.horizontalAdvance(line) for line in self.text.splitlines() or [""]), default=0)
            margins = self.label.contentsMargins()
            wanted = widest + margins.left() + margins.right() + 30  # the style sheet's padding, and a little air
            self.label.setFixedWidth(min(most, wanted))
        super().resizeEvent(event)


class OutputBlock(_Block):
    """A run's output: collapsible, showing the first :data:`SHOWN` characters until asked."""

    def __init__(self) -> None:
        super().__init__("output")
        self.toggle = _named(QToolButton(), "toggle", translate("ChatView", "Output: show or hide"))
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setText(translate("ChatView", "Output"))
        self.toggle.toggled.connect(self._expand)
        header = QHBoxLayout()
        header.setContentsMargins(8, 2, 8, 0)
        header.addWidget(self.toggle)
        header.addStretch(1)
        self.layout_.addLayout(header)
        self.view = _named(QPlainTextEdit(), "output", translate("ChatView", "Output"))
        self.view.setReadOnly(True)
        self.view.setFont(theme.monospace())
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setTabChangesFocus(True)
        self.layout_.addWidget(self.view)
        self.show_all = _named(QPushButton(translate("ChatView", "Show all")), "show-all",
                               translate("ChatView", "Show all output"))
        self.show_all.clicked.connect(self.reveal)
        self.show_all.hide()
        row = QHBoxLayout()
        row.setContentsMargins(8, 0, 8, 6)
        row.addWidget(self.show_all)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self._parts: list[str] = []
        self._kept = 0
        #: Characters received (including any beyond what is kept).
        self.received = 0
        self.revealed = False
        #: The last piece received (the engine's note on how the run ended, if any).
        self.last = ""

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
        self.last = text
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
            self.show_all.setText(translate("ChatView", "Show all (%1 characters)").replace("%1", f"{self.received:,}"))
            self.show_all.setVisible(self.expanded)

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
        document = self.view.document()
        count = document.blockCount() - (1 if document.lastBlock().text() == "" else 0)  # a final newline
        lines = max(1, min(count, most))
        self.view.setFixedHeight(_text_height(self.view, lines))
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if count > most
                                             else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def reveal(self) -> None:
        """Show everything kept ("Show all")."""
        self.revealed = True
        text = self.text
        if self.received > self._kept:
            text += "\n… " + translate("ChatView", "%1 more characters were not kept").replace(
                "%1", f"{self.received - self._kept:,}")
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
        super().__init__("image")
        self.pixmap = QPixmap()
        self.pixmap.loadFromData(QByteArray(data))
        self.label = _named(QLabel(), "image", translate("ChatView", "Image the code drew"))
        if self.pixmap.isNull():
            self.label.setText("(an image that could not be decoded)")
        else:
            shown = self.pixmap
            if shown.width() > IMAGE_WIDTH:
                shown = shown.scaledToWidth(IMAGE_WIDTH, Qt.TransformationMode.SmoothTransformation)
            self.label.setPixmap(shown)
        self.layout_.addWidget(self.label)


class CodeBlock(_Block):
    """A card for one piece of code: header, highlighted code, approval, output folded under it."""

    #: (request id, Decision): Run / Edit / Decline was clicked in the card.
    decided = Signal(str, object)

    def __init__(self, language: str) -> None:
        super().__init__("code")
        self.language = language
        self.state = "writing"
        #: The 1-based line that is running, or None.
        self.active_line: int | None = None
        #: The approval request this card shows (its id), while one is open.
        self.request_id: str | None = None
        self.proposed = ""
        self.output: OutputBlock | None = None
        self.card = _named(QFrame(), "card")
        self.card.setAccessibleName(translate("ChatView", "%1 code").replace("%1", language or "Code"))
        self.layout_.addWidget(self.card)
        inner = QVBoxLayout(self.card)
        inner.setContentsMargins(1, 1, 1, 1)
        inner.setSpacing(0)

        header = QHBoxLayout()
        header.setContentsMargins(12, 7, 8, 7)
        header.setSpacing(8)
        self.title = _named(QLabel((language or translate("ChatView", "code")).upper()), "language")
        self.chip = _named(QLabel(), "chip", translate("ChatView", "Run state"))
        self.copy_button = _named(QToolButton(), "copy", translate("ChatView", "Copy the code"))
        self.copy_button.setText(translate("ChatView", "Copy"))
        self.copy_button.setToolTip(translate("ChatView", "Copy the code to the clipboard"))
        self.copy_button.clicked.connect(self.copy)
        # A child timer: it dies with the card, so it never touches a deleted button.
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(1500)
        self._copied.timeout.connect(lambda: self.copy_button.setText(translate("ChatView", "Copy")))
        header.addWidget(self.title)
        header.addWidget(self.chip)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        inner.addLayout(header)
        inner.addWidget(self._rule())

        self.editor = _named(QPlainTextEdit(), "code",
                             translate("ChatView", "%1 code").replace("%1", language or "The"))
        self.editor.setReadOnly(True)
        self.editor.setFont(theme.monospace())
        self.editor.setFrameShape(QFrame.Shape.NoFrame)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.editor.setTabChangesFocus(True)
        self.highlighter = CodeHighlighter(self.editor.document(), language)
        self.retheme(theme.current().name)
        inner.addWidget(self.editor)

        self.approval = _named(QWidget(), "approval")
        row = QHBoxLayout(self.approval)
        row.setContentsMargins(12, 8, 10, 10)
        row.setSpacing(8)
        self.risk_label = _named(QLabel(), "risk", translate("ChatView", "Risk"))
        self.risk_label.setWordWrap(True)
        self.reason = _named(QLineEdit(), "card-reason", translate("ChatView", "Reason for declining"))
        self.reason.setPlaceholderText(translate("ChatView", "Reason to decline (optional)"))
        self.reason.setMaximumWidth(220)
        self.decline_button = _named(QPushButton(translate("ChatView", "Decline")), "card-decline",
                                     translate("ChatView", "Decline: do not run the code"))
        self.edit_button = _named(QPushButton(translate("ChatView", "Edit")), "card-edit",
                                  translate("ChatView", "Edit the code before running it"))
        self.edit_button.setCheckable(True)
        self.run_button = _named(QPushButton(translate("ChatView", "Run")), "card-run",
                                 translate("ChatView", "Run the code"))
        self.run_button.setProperty("primary", True)
        row.addWidget(self.risk_label, 1)
        for widget in (self.reason, self.decline_button, self.edit_button, self.run_button):
            row.addWidget(widget)
        self.run_button.clicked.connect(self.run)
        self.decline_button.clicked.connect(self.decline)
        self.edit_button.toggled.connect(self._edit)
        self.reason.returnPressed.connect(self.decline)
        self.approval_rule = self._rule()
        inner.addWidget(self.approval_rule)
        inner.addWidget(self.approval)
        self.approval_rule.hide()
        self.approval.hide()

        self.output_rule = self._rule()
        self.output_rule.hide()
        inner.addWidget(self.output_rule)
        self.below = QVBoxLayout()
        self.below.setContentsMargins(0, 0, 0, 0)
        self.below.setSpacing(0)
        inner.addLayout(self.below)
        self.set_state("writing")
        self._fit()

    @staticmethod
    def _rule() -> QFrame:
        line = QFrame()
        line.setObjectName("card-rule")
        line.setFrameShape(QFrame.Shape.NoFrame)
        line.setFixedHeight(1)
        return line

    # -- the code -------------------------------------------------------------------------

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
        count = self.editor.document().blockCount()
        lines = max(1, min(count, CODE_LINES))
        self.editor.setFixedHeight(_text_height(self.editor, lines))
        self.editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if count > CODE_LINES
                                               else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def retranslate(self) -> None:
        """The card's buttons and chip in the app's language."""
        self.copy_button.setText(translate("ChatView", "Copy"))
        self.copy_button.setToolTip(translate("ChatView", "Copy the code to the clipboard"))
        self.reason.setPlaceholderText(translate("ChatView", "Reason to decline (optional)"))
        for button, words in ((self.decline_button, translate("ChatView", "Decline")),
                              (self.edit_button, translate("ChatView", "Edit")),
                              (self.run_button, translate("ChatView", "Run"))):
            button.setText(words)
        self.set_state(self.state)

    def copy(self) -> None:
        """Put the code on the clipboard."""
        QGuiApplication.clipboard().setText(self.code)
        self.copy_button.setText(translate("ChatView", "Copied"))
        self._copied.start()

    def set_active_line(self, line: int | None) -> None:
        """Mark ``line`` (1-based) as running; None clears the mark."""
        self.active_line = line
        selections = []
        if line is not None and 1 <= line <= self.editor.document().blockCount():
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(QColor(theme.current().active_line))
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(self.editor.document().findBlockByNumber(line - 1))
            selection.cursor = cursor
            selections.append(selection)
        self.editor.setExtraSelections(selections)

    def retheme(self, name: str) -> None:
        """Colour the code for the ``light`` or ``dark`` look (where the highlighter has looks)."""
        set_theme = getattr(self.highlighter, "set_theme", None)
        if callable(set_theme):
            set_theme(name)
        self.set_active_line(self.active_line)

    # -- the run's state ------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        """Show run state ``state`` (a key of :data:`STATE_WORDS`) in the chip."""
        self.state = state
        words = translate("ChatView", STATE_WORDS[state]) if state in STATE_WORDS else state
        self.chip.setText(words)
        self.chip.setProperty("state", state)
        self.chip.setAccessibleDescription(words)
        theme.repolish(self.chip)

    # -- the approval ---------------------------------------------------------------------

    def ask(self, request: dict[str, Any]) -> None:
        """Show the approval for ``request`` (a confirmation chunk's content) in the card."""
        from oi_voice.ui.approval import risk_words

        self.request_id = str(request.get("id"))
        self.proposed = str(request.get("content") or self.code)
        risk = dict(request.get("risk") or {})
        level = str(risk.get("level") or "low")
        self.risk_label.setText(risk_words(risk))
        self.risk_label.setProperty("level", level)
        theme.repolish(self.risk_label)
        self.set_state("waiting")
        self.approval_rule.show()
        self.approval.show()

    @property
    def asking(self) -> bool:
        """Whether the card's Run / Edit / Decline are showing."""
        return self.request_id is not None and not self.approval.isHidden()

    def run(self) -> None:
        """Run (the edited code, when it was edited)."""
        edited = self.code if self.code != self.proposed else None
        self._decide(Decision.run(edited, source="click"))

    def decline(self) -> None:
        """Decline, with the reason typed (if any)."""
        reason = self.reason.text().strip() or "declined in the chat window"
        self._decide(Decision.decline(reason, source="click"))

    def _decide(self, decision: Decision) -> None:
        if self.request_id is None:
            return
        self.decided.emit(self.request_id, decision)

    def answered(self, action: str, how: str = "") -> None:
        """The request was answered (here, in the dialog or by voice): the buttons go."""
        self.request_id = None
        self.approval.hide()
        self.approval_rule.hide()
        self._edit_mode(False)
        self.set_state("ready" if action == "run" else "declined")
        if how:
            self.chip.setToolTip(how)

    def _edit(self, on: bool) -> None:
        self._edit_mode(on)
        if on:
            self.editor.setFocus()

    def _edit_mode(self, on: bool) -> None:
        self.editor.setReadOnly(not on)
        self.editor.setProperty("editing", on)
        theme.repolish(self.editor)
        if self.edit_button.isChecked() != on:
            self.edit_button.blockSignals(True)
            self.edit_button.setChecked(on)
            self.edit_button.blockSignals(False)

    # -- what the run produced ------------------------------------------------------------

    def add_below(self, block: _Block) -> None:
        """Fold ``block`` (output, an image) under the code."""
        self.output_rule.show()
        self.below.addWidget(block)


class ChatView(QScrollArea):
    """The conversation, rendered from the engine's stream."""

    #: A block was added (for the app's log and the end-to-end test).
    block_added = Signal(object)
    #: A run's output ended (the OutputBlock).
    output_finished = Signal(object)
    #: (request id, Decision): Run / Edit / Decline clicked in a code card.
    decided = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat")
        self.setAccessibleName(translate("ChatView", "Conversation"))
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("chat-body")
        self.column = QVBoxLayout(body)
        self.column.setContentsMargins(14, 12, 14, 12)
        self.column.setSpacing(12)
        self.column.addStretch(1)
        # What an empty conversation says: how to start, and that nothing runs unasked.
        self.push_to_talk = "F9"
        self.hint = _named(QLabel(), "notice", translate("ChatView", "How to start"))
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.column.insertWidget(0, self.hint)
        self.column.insertStretch(0, 1)
        self.setWidget(body)
        self.retranslate()
        self.blocks: list[_Block] = []
        self.cards: dict[str, CodeBlock] = {}
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

    def set_push_to_talk(self, key: str) -> None:
        """Name the push-to-talk key in the empty conversation's hint."""
        self.push_to_talk = key
        self.retranslate()

    def retranslate(self) -> None:
        """The hint and names in the app's language; the cards follow (the conversation keeps its words)."""
        self.setAccessibleName(translate("ChatView", "Conversation"))
        self.hint.setText(translate("ChatView", EMPTY_HINT).format(key=self.push_to_talk))
        for card in getattr(self, "cards", {}).values():
            card.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        """Follow a language switch."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _show_hint(self, on: bool) -> None:
        # The stretch above the hint centres it; with a conversation, blocks start at the top.
        self.hint.setVisible(on)
        self.column.setStretch(0, 1 if on else 0)

    def _add(self, block: _Block, under: CodeBlock | None = None) -> None:
        self._show_hint(False)
        if under is not None:
            under.add_below(block)
        else:
            block.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            self.column.insertWidget(self.column.count() - 1, block)
        self.blocks.append(block)
        self.block_added.emit(block)

    # -- blocks the window adds ------------------------------------------------------------

    def add_user(self, text: str) -> TextBlock:
        """A user turn (typed, or a transcript)."""
        self._message = self._code = self._output = None
        block = TextBlock("user", text)
        self._add(block)
        self._stick = True
        QTimer.singleShot(0, self.scroll_to_end)
        return block

    def add_notice(self, text: str, kind: str = "notice") -> TextBlock:
        """A line from the app (a decision, a problem); ``kind`` "error" shows it as one."""
        block = TextBlock("error" if kind == "error" else "notice", text)
        self._add(block)
        return block

    def clear(self) -> None:
        """Forget every block (a new conversation)."""
        for block in self.blocks:
            block.deleteLater()
        self.blocks.clear()
        self.cards.clear()
        self._show_hint(True)
        self._message = self._code = self._output = None

    def retheme(self, colours: theme.Colours) -> None:
        """The app's look changed: recolour what is painted by hand (code, the running line)."""
        for block in self.blocks:
            if isinstance(block, CodeBlock):
                block.retheme(colours.name)

    def scroll_to_end(self) -> None:
        """Show the newest block."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- the stream's vocabulary -----------------------------------------------------------

    def start_message(self) -> TextBlock:
        """The assistant starts a message."""
        self._message = TextBlock("assistant", markdown=True)
        self._add(self._message)
        return self._message

    def message_text(self, text: str) -> None:
        """A piece of the assistant's message."""
        if self._message is None:
            self.start_message()
        assert self._message is not None
        self._message.append(text)

    def end_message(self) -> None:
        """The assistant's message is complete."""
        self._message = None

    def start_code(self, language: str) -> CodeBlock:
        """The assistant starts writing code: a new card."""
        self._message = None
        self._code = CodeBlock(language)
        self._code.decided.connect(self.decided)
        self._output = None
        self._add(self._code)
        return self._code

    def code_text(self, text: str, language: str = "") -> None:
        """A piece of the code being written."""
        if self._code is None:
            self.start_code(language)
        assert self._code is not None
        self._code.append(text)

    def end_code(self) -> None:
        """The code is complete (it now waits for approval, or runs)."""
        if self._code is not None and self._code.state == "writing":
            self._code.set_state("ready")

    def confirmation(self, request: dict[str, Any]) -> None:
        """A run waits for approval: remember which card it belongs to."""
        card = self._code
        if card is not None and request.get("id") is not None:
            self.cards[str(request["id"])] = card
            card.set_state("waiting")

    def ask(self, request: dict[str, Any]) -> CodeBlock | None:
        """Show Run / Edit / Decline in the card of ``request`` (the window calls this when it is open)."""
        card = self.cards.get(str(request.get("id")))
        if card is None:
            self.confirmation(request)
            card = self.cards.get(str(request.get("id")))
        if card is not None:
            card.ask(request)
        return card

    def answered(self, id_: str, action: str, how: str = "") -> None:
        """Request ``id_`` was answered: its card stops asking."""
        card = self.cards.get(id_)
        if card is not None:
            card.answered(action, how)

    def console_start(self) -> OutputBlock:
        """A run starts: its output pane opens under the card."""
        if self._code is not None:
            self._code.set_state("running")
        self._output = OutputBlock()
        self._add(self._output, under=self._code)
        return self._output

    def active_line(self, line: int | None) -> None:
        """The run is on ``line`` (None: between lines)."""
        if self._code is not None:
            self._code.set_active_line(line)

    def output(self, text: str) -> None:
        """Output of the run (or a note about a run that did not happen)."""
        if not text:
            return
        if self._output is None:  # a note without a run (declined, not run): it folds under the card too
            note = OutputBlock()
            self._add(note, under=self._code)
            note.append(text)
            if self._code is not None and self._code.state in ("ready", "waiting"):
                self._code.answered("decline")
            return
        self._output.append(text)

    def console_end(self) -> None:
        """The run is over: mark how it ended."""
        if self._code is not None:
            self._code.set_active_line(None)
        output = self._output
        if output is not None:
            if not output.received:
                output.append("(no output)")
            if self._code is not None:
                self._code.set_state(_ending(output))
            self.output_finished.emit(output)
        self._output = None

    def image(self, data: bytes) -> None:
        """An image the run drew (a plot): under its card."""
        self._add(ImageBlock(data), under=self._code)

    def error(self, text: str) -> None:
        """The turn failed (the model, a loop guard)."""
        self.add_notice(text or "error", "error")

    # -- the event stream ------------------------------------------------------------------

    def feed(self, event: ev.EngineEvent) -> None:
        """Render one engine event."""
        if isinstance(event, ev.MessageStart):
            self.start_message()
        elif isinstance(event, ev.MessageDelta):
            self.message_text(event.text)
        elif isinstance(event, ev.MessageEnd):
            self.end_message()
        elif isinstance(event, ev.CodeStart):
            self.start_code(event.language)
        elif isinstance(event, ev.CodeDelta):
            self.code_text(event.text, event.language)
        elif isinstance(event, ev.CodeEnd):
            self.end_code()
        elif isinstance(event, ev.ConfirmationRequest):
            self.confirmation(event.content)
        elif isinstance(event, ev.ConsoleStart):
            self.console_start()
        elif isinstance(event, ev.ActiveLine):
            self.active_line(event.line)
        elif isinstance(event, ev.ConsoleOutput):
            self.output(event.text)
        elif isinstance(event, ev.ConsoleEnd):
            self.console_end()
        elif isinstance(event, ev.ImageOutput):
            self._image(event.format, event.data)
        elif isinstance(event, ev.ErrorEvent):
            self.error(event.message)
        elif isinstance(event, ev.Progress):
            self.progress(event.kind, event.text)

    def progress(self, kind: str, text: str) -> None:
        """A run waits for something slow (Python being set up): a notice in the app's language."""
        if kind == "python_setup":
            text = translate("ChatView", "Setting up Python for code runs… (the first time only; a minute or so)")
        self.add_notice(text)

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
            self.add_notice(translate("ChatView", "An image could not be shown: %1").replace("%1", str(exc)), "error")
            return
        self.image(data)


def _text_height(edit: QPlainTextEdit, lines: int) -> int:
    """Pixels for ``lines`` lines of ``edit``: its text, its document margin and its padding."""
    margin = int(edit.document().documentMargin() * 2)
    padding = edit.contentsMargins().top() + edit.contentsMargins().bottom()
    return edit.fontMetrics().lineSpacing() * lines + margin + padding + 10


def _ending(output: OutputBlock) -> str:
    """The card's final state, from the engine's closing note (or a traceback) in the output."""
    if _STOPPED_NOTE.match(output.last):
        return "stopped"
    if _FAILED_NOTE.match(output.last) or _TRACEBACK.search(output.text[-4000:]):
        return "failed"
    return "done"
