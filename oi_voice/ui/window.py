"""The chat window: the conversation, a text box, the mic and Stop buttons, a status line.

:class:`MainWindow` renders the bridge's events and nothing else: it never polls the
engine. Its actions (push to talk, stop, mute, auto-run, profile, settings, quit) are
shared with the tray menu, so the window alone carries everything where there is no
tray. Approval dialogs are opened here, one per run, and closed when a spoken answer
wins.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from oi_voice.core.approval import Decision
from oi_voice.core.events import ConfirmationRequest
from oi_voice.frontend.approval import auto_run_warning
from oi_voice.frontend.messages import device_message, language_of
from oi_voice.ui.approval import ApprovalDialog
from oi_voice.ui.bridge import Bridge
from oi_voice.ui.chatview import ChatView, OutputBlock, TextBlock
from oi_voice.ui.hud import LevelMeter
from oi_voice.ui.i18n import current, state_label, translate
from oi_voice.ui.state import AppState
from oi_voice.ui.theme import repolish
from oi_voice.ui.tray import state_icon
from oi_voice.voice import events as ev

log = logging.getLogger("oi_voice.ui")

TITLE = "oi-voice"
#: A press of the mic button shorter than this is a click (hands-free on/off), not a hold.
CLICK_SECONDS = 0.35


def latency_words(latency: ev.Latency) -> str:
    """The status bar's line for a spoken turn: seconds after the end of speech, per stage."""
    parts = []
    for name, value in ((translate("MainWindow", "transcript %1 s"), latency.transcript),
                        (translate("MainWindow", "first token %1 s"), latency.first_token),
                        (translate("MainWindow", "first audio %1 s"), latency.first_audio)):
        since = latency.since_speech_end(value)
        if since is not None:
            parts.append(name.replace("%1", f"{since:.2f}"))
    return translate("MainWindow", "After you spoke: %1").replace("%1", " · ".join(parts)) if parts else ""


def auto_run_question() -> str:
    """The warning asked before auto-run goes on, in the app's language."""
    return auto_run_warning(question=True, language=language_of(current()))


class MessageBox(QPlainTextEdit):
    """The text box: Enter sends, Shift+Enter starts a new line."""

    submitted = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Send on Enter."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            text = self.toPlainText()
            if text.strip():
                self.submitted.emit(text)
            return
        super().keyPressEvent(event)


class MicButton(QPushButton):
    """Hold to talk; a click switches hands-free listening on or off."""

    hold_started = Signal()
    hold_ended = Signal()
    clicked_short = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mic")
        #: Hands-free listening is on (the text says how to stop it).
        self.hands_free = False
        self.retranslate()
        self.setIcon(state_icon(AppState.IDLE))
        self._down_at: float | None = None
        self.pressed.connect(self._pressed)
        self.released.connect(self._released)

    def retranslate(self) -> None:
        """Set the texts in the app's language."""
        self.setText(self.tr("Listening (click to stop)") if self.hands_free else self.tr("Hold to talk"))
        self.setAccessibleName(self.tr("Hold to talk; click for hands-free"))

    def set_hands_free(self, on: bool) -> None:
        """Show whether hands-free listening is on."""
        self.hands_free = on
        self.retranslate()
        self.setDown(on)

    def changeEvent(self, event: QEvent) -> None:
        """Follow a language switch."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _pressed(self) -> None:
        self._down_at = time.monotonic()
        self.hold_started.emit()  # record at once: the start of the sentence must not be lost

    def _released(self) -> None:
        held = time.monotonic() - self._down_at if self._down_at is not None else 0.0
        self._down_at = None
        if held < CLICK_SECONDS:
            self.clicked_short.emit()
        else:
            self.hold_ended.emit()


class MainWindow(QMainWindow):
    """The app's window."""

    #: The user asked for the settings dialog.
    settings_requested = Signal()
    #: The user picked another profile.
    profile_requested = Signal(str)
    #: The first-run screen's "use the local model".
    local_model_requested = Signal()
    #: Quit was chosen (the app shuts the engine down, then exits).
    quit_requested = Signal()
    #: Esc in the window (the app stops the voice with it while the HUD shows).
    escape_pressed = Signal()

    def __init__(self, bridge: Bridge, *, profiles: list[str] | None = None, profile: str = "",
                 push_to_talk: str = "F9") -> None:
        super().__init__()
        self.bridge = bridge
        self.setWindowTitle(TITLE)
        self.setObjectName("main-window")
        self.setWindowIcon(state_icon(AppState.IDLE))
        self.resize(820, 720)
        self.dialogs: dict[str, ApprovalDialog] = {}
        self.quitting = False
        #: Hide to the tray on close instead of quitting (set when a tray is shown).
        self.hide_on_close = False
        self.push_to_talk = push_to_talk
        #: What the banner and the status line say, recomputed when the language changes.
        self._banner_text: Callable[[], str] = lambda: self.tr("Starting…")
        self._status_text: Callable[[], str] = self._banner_text
        # With no model set up: how to install the local model when it is not (None: it is).
        self.local_install_hint: str | None = None
        self._build_actions(profiles or [], profile)
        self._build_body(push_to_talk)
        self._connect()
        self.retranslate()

    # -- construction --------------------------------------------------------------------

    def _action(self, slot: Callable[..., object], *, name: str, checkable: bool = False,
                shortcut: str | None = None) -> QAction:
        action = QAction(self)
        action.setObjectName(name)
        action.setCheckable(checkable)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_actions(self, profiles: list[str], profile: str) -> None:
        self.show_action = self._action(self.bring_to_front, name="show")
        self.talk_action = self._action(self._toggle_talk, name="talk")
        self.stop_action = self._action(self.bridge.stop, name="stop", shortcut="Ctrl+.")
        self.new_action = self._action(self.new_conversation, name="new", shortcut="Ctrl+N")
        self.undo_run_action = self._action(self.bridge.undo_run, name="undo-run")
        self.mute_action = self._action(self.bridge.set_muted, name="mute", checkable=True)
        self.auto_run_action = self._action(self._auto_run, name="auto-run", checkable=True)
        self.settings_action = self._action(self.settings_requested.emit, name="settings", shortcut="Ctrl+,")
        self.quit_action = self._action(self.request_quit, name="quit", shortcut="Ctrl+Q")
        self.profile_menu_group = QActionGroup(self)
        self.profile_actions: list[QAction] = []
        for name in profiles:
            action = QAction(name, self, checkable=True)
            action.setChecked(name == profile)
            action.triggered.connect(lambda _checked=False, n=name: self.profile_requested.emit(n))
            self.profile_menu_group.addAction(action)
            self.profile_actions.append(action)
        self.app_menu = menu = self.menuBar().addMenu("&oi-voice")
        for entry in self.menu_actions():
            if entry is None:
                menu.addSeparator()
            elif entry is not self.show_action:
                menu.addAction(entry)
        self.profile_menu = self.menuBar().addMenu("")
        for action in self.profile_actions:
            self.profile_menu.addAction(action)

    def menu_actions(self) -> list[QAction | None]:
        """The actions of the tray menu (None: a separator)."""
        return [self.show_action, self.talk_action, self.stop_action, self.new_action, self.undo_run_action, None,
                self.mute_action,
                self.auto_run_action, *self.profile_actions, None, self.settings_action, self.quit_action]

    def _build_body(self, push_to_talk: str) -> None:
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(12, 8, 12, 10)
        column.setSpacing(8)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        column.addWidget(self.banner)
        self.first_run = QWidget()
        self.first_run.setObjectName("first-run")
        first = QHBoxLayout(self.first_run)
        self.first_run_label = QLabel()
        self.first_run_label.setWordWrap(True)
        first.addWidget(self.first_run_label, 1)
        self.use_local = QPushButton()
        self.use_local.setObjectName("use-local")
        self.use_local.setProperty("primary", True)
        self.use_local.clicked.connect(self.local_model_requested.emit)
        self.first_run_settings = QPushButton()
        self.first_run_settings.setObjectName("first-run-settings")
        self.first_run_settings.clicked.connect(self.settings_requested.emit)
        for button in (self.use_local, self.first_run_settings):
            button.setAutoDefault(True)  # Enter on the focused button clicks it, as Space does
            first.addWidget(button)
        self.first_run.hide()
        column.addWidget(self.first_run)
        self.chat = ChatView()
        self.chat.set_push_to_talk(push_to_talk)
        column.addWidget(self.chat, 1)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.input = MessageBox()
        self.input.setObjectName("input")
        self.input.setFixedHeight(58)
        self.input.setTabChangesFocus(True)  # Tab walks on to the buttons: the box is one line of thought
        row.addWidget(self.input, 1)
        self.mic = MicButton()
        self.stop_button = QPushButton()
        self.stop_button.setObjectName("stop-button")
        self.send_button = QPushButton()
        self.send_button.setObjectName("send")
        self.send_button.setProperty("primary", True)
        for button in (self.mic, self.stop_button, self.send_button):
            button.setMinimumHeight(34)
            row.addWidget(button)
        column.addLayout(row)
        self.setCentralWidget(body)
        self.state_label = QLabel()
        self.state_label.setObjectName("state")
        # Only after a spoken turn: where the time went between the end of speech and the answer.
        self.latency_label = QLabel("")
        self.latency_label.setObjectName("latency")
        self.level_label = QLabel()
        self.level_label.setObjectName("level-label")
        self.level = LevelMeter(12)
        self.level.setFixedSize(12 * 4 + 11 * 2, 14)
        self.level_label.setBuddy(self.level)
        self.statusBar().addWidget(self.state_label)
        self.set_starting()
        self.statusBar().addPermanentWidget(self.latency_label)
        self.statusBar().addPermanentWidget(self.level_label)
        self.statusBar().addPermanentWidget(self.level)
        self._spoken_turn = False

    def retranslate(self) -> None:
        """Set every text in the app's language (at start and on a language switch)."""
        self.show_action.setText(self.tr("Show window"))
        self.talk_action.setText(self.tr("Push to talk (%1)").replace("%1", self.push_to_talk))
        self.stop_action.setText(self.tr("Stop"))
        self.new_action.setText(self.tr("New conversation"))
        self.undo_run_action.setText(self.tr("Undo the last run"))
        self.mute_action.setText(self.tr("Mute voice"))
        self.auto_run_action.setText(self.tr("Auto-run"))
        self.settings_action.setText(self.tr("Settings…"))
        self.quit_action.setText(self.tr("Quit"))
        self.profile_menu.setTitle(self.tr("&Profile"))
        self.banner.setAccessibleName(self.tr("Notice"))
        self.first_run_label.setText(self._first_run_text())
        self.use_local.setText(self.tr("Use the local model"))
        self.first_run_settings.setText(self.tr("Settings…"))
        self.input.setAccessibleName(self.tr("Message"))
        self.input.setPlaceholderText(self.tr("Ask something, or hold the talk key… (Enter sends, Shift+Enter: "
                                              "new line)"))
        self.stop_button.setText(self.tr("Stop"))
        self.stop_button.setAccessibleName(self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("Stop speaking, the reply and the running code (Ctrl+.)"))
        self.send_button.setText(self.tr("Send"))
        self.send_button.setAccessibleName(self.tr("Send"))
        self.state_label.setAccessibleName(self.tr("Status"))
        self.latency_label.setAccessibleName(self.tr("Voice latency"))
        self.latency_label.setToolTip(self.tr("Seconds from the end of your speech to the transcript, the model's "
                                              "first token and the first spoken audio"))
        self.level_label.setText(self.tr("Mic"))
        self.level.setToolTip(self.tr("Microphone level"))
        self.banner.setText(self._banner_text())
        self.state_label.setText(self._status_text())

    def _first_run_text(self) -> str:
        if self.local_install_hint is None:
            return self.tr("No language model is set up yet. The local model runs on this computer, with no "
                           "account and no network.")
        # One sentence: what to install (a command, never translated), or the settings for a hosted model.
        return self.tr("No language model is set up yet: to run one on this computer with no account, install "
                       "the local model (%1), or choose a hosted model in Settings.").replace(
                           "%1", self.local_install_hint)

    def changeEvent(self, event: QEvent) -> None:
        """Follow a language switch."""
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _set_banner(self, text: Callable[[], str]) -> None:
        self._banner_text = text
        self.banner.setText(text())

    def _set_status(self, text: Callable[[], str]) -> None:
        self._status_text = text
        self.state_label.setText(text())

    def _connect(self) -> None:
        bridge = self.bridge
        bridge.voice_event.connect(self.on_event)
        bridge.state_changed.connect(self.show_state)
        bridge.progress.connect(lambda text: self._set_banner(lambda: text))
        bridge.ready.connect(self._ready)
        bridge.failed.connect(self._failed)
        bridge.notice.connect(lambda text: self.chat.add_notice(text, "notice"))
        bridge.hands_free_changed.connect(self._hands_free_changed)
        self.input.submitted.connect(self.send)
        self.send_button.clicked.connect(lambda: self.send(self.input.toPlainText()))
        self.stop_button.clicked.connect(bridge.stop)
        self.mic.hold_started.connect(bridge.press)
        self.mic.hold_ended.connect(bridge.release)
        self.mic.clicked_short.connect(self._mic_clicked)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WindowShortcut)
        escape.activated.connect(self.escape_pressed.emit)
        self.chat.decided.connect(self._decided)
        self.chat.block_added.connect(self._log_block)
        self.chat.output_finished.connect(self._log_output)

    # -- start-up ------------------------------------------------------------------------

    def set_starting(self, text: str = "") -> None:
        """The engine is (re)starting: show it (``text``, else "Starting…"), and hold the buttons that need it."""
        for widget in (self.send_button, self.mic):
            widget.setEnabled(False)
        words: Callable[[], str] = (lambda: text) if text else (lambda: self.tr("Starting…"))
        self._set_status(words)
        self._set_banner(words)
        self.banner.setProperty("kind", "")
        repolish(self.banner)
        self.banner.show()

    def show_first_run(self, local_install_hint: str | None = None) -> None:
        """No model is configured: offer the local model, or, when it is not installed
        (``local_install_hint``: how to install it), say how to get it."""
        self.local_install_hint = local_install_hint
        self.first_run_label.setText(self._first_run_text())
        self.use_local.setVisible(local_install_hint is None)
        self._set_banner(lambda: self.tr("Welcome to oi-voice."))
        self._set_status(lambda: self.tr("No model set up yet"))
        self.first_run.show()
        log.info("first run: %s", "the local model is offered" if local_install_hint is None
                 else f"the local model is not installed ({local_install_hint})")
        # The offer takes the keyboard: Enter or Space accepts it.
        (self.use_local if local_install_hint is None else self.first_run_settings).setFocus()

    def _ready(self) -> None:
        self.first_run.hide()
        self.banner.hide()
        for widget in (self.send_button, self.mic):
            widget.setEnabled(True)
        self.show_state(self.bridge.state)
        self.input.setFocus()  # ready to type at once
        log.info("ready")

    def _failed(self, message: str) -> None:
        self._set_banner(lambda: self.tr("Could not start: %1. Check the settings (Ctrl+,).").replace("%1", message))
        self.banner.setProperty("kind", "error")
        repolish(self.banner)
        self.banner.show()
        self.show_state(AppState.ERROR)
        log.warning("start-up failed: %s", message)

    # -- what the user does --------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send the text box's message."""
        if self.bridge.send_text(text):
            self.input.clear()

    def new_conversation(self) -> None:
        """Start over: the model forgets the conversation and the window clears."""
        if self.bridge.new_conversation():
            self.chat.clear()
            self.latency_label.clear()

    def _mic_clicked(self) -> None:
        self.bridge.cancel_recording()
        self.bridge.set_hands_free(not self.bridge.hands_free)

    def _hands_free_changed(self, on: bool) -> None:
        self.mic.set_hands_free(on)

    def _toggle_talk(self) -> None:
        # From a menu there is no key to hold: the first choice starts, the second sends.
        session = self.bridge.session
        if session is not None and session.recording:
            self.bridge.release()
        else:
            self.bridge.press()

    def _auto_run(self, on: bool) -> None:
        if on and not self.confirm_auto_run():
            self.auto_run_action.blockSignals(True)
            self.auto_run_action.setChecked(False)
            self.auto_run_action.blockSignals(False)
            return
        self.bridge.set_auto_run(on)

    def confirm_auto_run(self) -> bool:
        """Warn before auto-run goes on; True when the user agreed."""
        answer = QMessageBox.warning(self, self.tr("Auto-run"), auto_run_question(),
                                     QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                     QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def bring_to_front(self) -> None:
        """Show and raise the window (tray "Show window")."""
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def request_quit(self) -> None:
        """Quit the app."""
        self.quitting = True
        self.quit_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        """With a tray, closing the window hides it; without one, it quits."""
        if self.hide_on_close and not self.quitting:
            self.hide()
            event.ignore()
            return
        if not self.quitting:
            self.request_quit()
        event.accept()

    # -- rendering the events ------------------------------------------------------------

    def on_event(self, event: ev.VoiceEvent) -> None:
        """Render one voice event (on the Qt thread)."""
        if isinstance(event, ev.TurnEvent):
            self.chat.feed(event.event)
            if isinstance(event.event, ConfirmationRequest):
                self._ask(event.event.content)
        elif isinstance(event, ev.TurnStarted):
            self.chat.add_user(event.text)
        elif isinstance(event, ev.TranscriptHeld):
            self._spoken_turn = False  # what is sent will be typed text
            self.input.setPlainText(event.text)
            self.input.setFocus()
            self.chat.add_notice(self.tr("Edit what you said, then press Enter to send it."))
        elif isinstance(event, ev.ConfirmationAnswered):
            self._answered_elsewhere(event)
        elif isinstance(event, ev.LevelChanged):
            self.level.set_level(event.level)
        elif isinstance(event, ev.SpeechEnded):
            self._spoken_turn = True
            self.level.clear()
        elif isinstance(event, ev.NothingHeard):
            if event.reason != "recording discarded":
                self.chat.add_notice(self.tr("Nothing heard (%1).").replace("%1", event.reason))
        elif isinstance(event, ev.VoiceError):
            self.chat.add_notice(event.message, "error")
        elif isinstance(event, ev.VoiceNotice):
            self.chat.add_notice(event.message)
        elif isinstance(event, ev.DeviceLost | ev.DeviceBack):
            self._device_changed(event)
        elif isinstance(event, ev.TurnFinished):
            self._finished(event)

    def _device_changed(self, event: ev.DeviceLost | ev.DeviceBack) -> None:
        """A device went away or came back: say so, and show it on the mic button."""
        language = language_of(current())
        lost = isinstance(event, ev.DeviceLost)
        if isinstance(event, ev.DeviceLost):
            line = device_message(event.kind, event.reason, event.detail, language)
            self.chat.add_notice(line, "error")
        else:
            line = ""
            self.chat.add_notice(device_message(event.kind, language=language))
        if event.kind == "input":
            self.mic.setEnabled(not lost)
            self.mic.setToolTip(line)
        log.info("device %s: %s", event.kind, "lost" if isinstance(event, ev.DeviceLost) else "back")

    def _ask(self, content: dict[str, object]) -> None:
        id_ = str(content.get("id"))
        if not self.bridge.is_pending(id_) or id_ in self.dialogs:
            return  # auto-run, "always", or already answered by voice
        # Asked twice, in the card and in the dialog: the first answer wins (the gate takes one).
        self.chat.ask(dict(content))
        dialog = ApprovalDialog(dict(content), self)
        dialog.run_button.setProperty("primary", True)
        dialog.decided.connect(self._decided)
        dialog.finished.connect(lambda _code, i=id_: self.dialogs.pop(i, None))
        self.dialogs[id_] = dialog
        dialog.open()
        dialog.raise_()
        dialog.activateWindow()
        log.info("approval dialog shown: %s %s", id_, content.get("format"))

    def _decided(self, id_: str, decision: Decision) -> None:
        # From the dialog or the card, whichever was first: the other one goes away.
        in_card = self.sender() is self.chat
        if self.bridge.answer(id_, decision):
            if decision.action == "run":
                words = self.tr("Approved in the chat") if in_card else self.tr("Approved in the dialog")
            else:
                words = (self.tr("Declined in the chat (%1)") if in_card
                         else self.tr("Declined in the dialog (%1)")).replace("%1", decision.reason)
            where = "in the chat" if in_card else "in the dialog"
            self.chat.answered(id_, decision.action, words)
            dialog = self.dialogs.pop(id_, None)
            if dialog is not None and in_card:
                dialog.dismiss()
            log.info("approval %s: %s (%s)", id_, decision.action, where)
        else:
            self.chat.answered(id_, "decline")
            self.chat.add_notice(self.tr("That request was no longer open."))

    def _answered_elsewhere(self, event: ev.ConfirmationAnswered) -> None:
        if event.action is None:
            return  # the voice left it to the dialog
        dialog = self.dialogs.pop(event.id, None)
        if dialog is not None:
            dialog.dismiss()
        words = self.tr("Approved by voice") if event.action == "run" else self.tr("Declined by voice")
        self.chat.answered(event.id, event.action, words)
        self.chat.add_notice(words + (f" ({event.reason})." if event.reason else "."))

    def _finished(self, event: ev.TurnFinished) -> None:
        for id_, dialog in list(self.dialogs.items()):
            if not self.bridge.is_pending(id_):
                self.dialogs.pop(id_, None)
                dialog.dismiss()
        for id_, card in list(self.chat.cards.items()):
            if card.asking and not self.bridge.is_pending(id_):
                card.answered("decline", self.tr("The turn ended before an answer"))
        line = event.latency.line()
        self.latency_label.setText(latency_words(event.latency) if self._spoken_turn else "")
        self._spoken_turn = False
        if event.cancelled:
            self.chat.add_notice(self.tr("Stopped."))
        log.info("turn finished: %s | reply: %s", line, event.reply.strip().replace("\n", " ")[:500])

    def show_state(self, state: AppState) -> None:
        """Show ``state`` in the status line and the mic button."""
        detail = self.bridge.tracker.error if state is AppState.ERROR else ""
        self._set_status(lambda: state_label(state) + (f": {detail}" if detail else ""))
        self.mic.setIcon(state_icon(state))
        self.setWindowIcon(state_icon(state))

    def _log_block(self, block: object) -> None:
        if isinstance(block, TextBlock) and block.kind in ("user", "error"):
            log.info("%s: %s", block.kind, block.text[:500])

    def _log_output(self, block: OutputBlock) -> None:
        log.info("output: %s", block.text[:2000].replace("\n", "\\n"))

