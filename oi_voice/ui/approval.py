"""The dialog that asks before code runs.

One dialog per run: the language, the code (editable after "Edit"), the risk rating in
words, and Run / Edit / Decline (with an optional reason) / "Always for this session".
Enter runs, Esc declines. The dialog is not modal to the application: the window keeps
streaming while it is open, and a spoken answer that comes first closes it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from oi_voice.core.approval import Decision
from oi_voice.settings import QT_TRANSLATE_NOOP
from oi_voice.ui.highlight import CodeHighlighter
from oi_voice.ui.i18n import translate
from oi_voice.ui.theme import monospace

_RISK_WORDS = {
    "low": QT_TRANSLATE_NOOP("ApprovalDialog", "Low risk: it reads, computes or makes new files; nothing known to "
                             "be destructive."),
    "medium": QT_TRANSLATE_NOOP("ApprovalDialog", "Medium risk: it changes files, installs software, uses the "
                                "network, or does something the rater cannot check."),
    "high": QT_TRANSLATE_NOOP("ApprovalDialog", "High risk: it can destroy data or change the system. Read it "
                              "before you run it."),
}
_RISK_COLOURS = {"low": "#2e7d32", "medium": "#ef6c00", "high": "#b71c1c"}


def risk_words(risk: dict[str, Any]) -> str:
    """The risk rating of a confirmation chunk in words, with its reasons."""
    level = str(risk.get("level") or "low")
    text = (translate("ApprovalDialog", _RISK_WORDS[level]) if level in _RISK_WORDS
            else translate("ApprovalDialog", "Risk: %1").replace("%1", level))
    reasons = [translate("risk", str(r)) for r in risk.get("reasons") or []]  # the marked ones are translated
    if reasons:
        text += " (" + "; ".join(reasons) + ")"
    return text


class ApprovalDialog(QDialog):
    """Asks whether one proposed run may go ahead; emits ``decided`` once."""

    #: (request id, Decision): the user's answer.
    decided = Signal(str, object)

    def __init__(self, content: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("approval")
        self.id = str(content.get("id"))
        self.language = str(content.get("format") or "")
        self.proposed = str(content.get("content") or "")
        self.risk = dict(content.get("risk") or {})
        self.answered = False
        self.setWindowTitle(self.tr("oi-voice: run this code?"))
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setModal(False)
        self.resize(640, 420)

        layout = QVBoxLayout(self)
        summary = str(content.get("summary") or self.tr("Run this %1 code?").replace("%1", self.language))
        heading = QLabel(f"<b>{_escape(summary)}</b>")
        heading.setObjectName("summary")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        level = str(self.risk.get("level") or "low")
        self.risk_label = QLabel(risk_words(self.risk))
        self.risk_label.setObjectName("risk")
        self.risk_label.setWordWrap(True)
        self.risk_label.setStyleSheet(f"color: {_RISK_COLOURS.get(level, '#333')};")
        layout.addWidget(self.risk_label)
        self.editor = QPlainTextEdit(self.proposed)
        self.editor.setObjectName("code")
        self.editor.setFont(monospace())
        self.editor.setReadOnly(True)
        self.highlighter = CodeHighlighter(self.editor.document(), self.language)
        layout.addWidget(QLabel(self.language or self.tr("code")))
        layout.addWidget(self.editor, 1)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setPlaceholderText(self.tr("Reason for declining (optional; the model is told)"))
        layout.addWidget(self.reason)
        # What "Always" covers is decided by the engine (ApprovalGate.covers): low risk, and
        # medium only for the kinds allowed in Settings; high-risk code always asks.
        self.always = QCheckBox(self.tr("Always for this session (low risk; high risk always asks)"))
        self.always.setObjectName("always")
        self.always.setEnabled(level != "high")
        layout.addWidget(self.always)

        buttons = QHBoxLayout()
        self.run_button = QPushButton(self.tr("&Run"))
        self.run_button.setObjectName("run")
        self.run_button.setDefault(True)
        self.edit_button = QPushButton(self.tr("&Edit"))
        self.edit_button.setObjectName("edit")
        self.edit_button.setCheckable(True)
        self.decline_button = QPushButton(self.tr("&Decline"))
        self.decline_button.setObjectName("decline")
        buttons.addStretch(1)
        for button in (self.edit_button, self.decline_button, self.run_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.run_button.clicked.connect(self.run)
        self.decline_button.clicked.connect(self.decline)
        self.edit_button.toggled.connect(self._edit)
        self.run_button.setFocus()

    def _edit(self, on: bool) -> None:
        self.editor.setReadOnly(not on)
        if on:
            self.editor.setFocus()

    @property
    def code(self) -> str:
        """The code as it is now (edited or not)."""
        return self.editor.toPlainText()

    def run(self) -> None:
        """Run the code as shown (edited code runs instead of the proposal)."""
        edited = self.code if self.code != self.proposed else None
        self._finish(Decision.run(edited, always=self.always.isChecked() and self.always.isEnabled(),
                                  source="click"))

    def decline(self) -> None:
        """Decline, with the reason typed (if any)."""
        reason = self.reason.text().strip() or "declined in the approval dialog"
        self._finish(Decision.decline(reason, source="click"))

    def _finish(self, decision: Decision) -> None:
        if self.answered:
            return
        self.answered = True
        self.decided.emit(self.id, decision)
        self.done(QDialog.DialogCode.Accepted if decision.action == "run" else QDialog.DialogCode.Rejected)

    def dismiss(self) -> None:
        """Close without answering: it was answered elsewhere (by voice) or the turn ended."""
        self.answered = True
        self.done(QDialog.DialogCode.Rejected)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter runs (Ctrl+Enter while editing), Esc declines."""
        key = event.key()
        editing = not self.editor.isReadOnly() and self.editor.hasFocus()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                not editing or event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.run()
            return
        if key == Qt.Key.Key_Escape:
            self.decline()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        """The window manager's close button and Esc mean decline."""
        if not self.answered:
            self.decline()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the dialog without a choice declines."""
        if not self.answered:
            self.decline()
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
