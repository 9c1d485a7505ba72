"""The window's look and reach, offscreen: code cards, the voice HUD, themes, the status bar,
and a keyboard walk over every control (issue 17)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from oi_voice.core import events as ee
from oi_voice.core.approval import ApprovalRequest, Decision
from oi_voice.core.risk import Risk
from oi_voice.ui.bridge import Bridge
from oi_voice.ui.chatview import ChatView, CodeBlock, ImageBlock, OutputBlock, TextBlock
from oi_voice.ui.hud import VoiceHud
from oi_voice.ui.qtfix import leaks_none
from oi_voice.ui.state import AppState
from oi_voice.ui.theme import DARK, LIGHT, ThemeManager
from oi_voice.ui.window import MainWindow
from oi_voice.voice import events as ev


def confirmation(code: str, id_: str = "c1", level: str = "low") -> ee.ConfirmationRequest:
    request = ApprovalRequest(id=id_, language="python", code=code, risk=Risk(level),  # type: ignore[arg-type]
                              summary="Run one line of Python?")
    return ee.ConfirmationRequest(request)


def proposed(view: ChatView, code: str = "print(6 * 7)", id_: str = "c1") -> CodeBlock:
    for event in (ee.MessageStart(), ee.MessageDelta("Let me run it."), ee.MessageEnd(), ee.CodeStart("python"),
                  ee.CodeDelta("python", code), ee.CodeEnd("python"), confirmation(code, id_)):
        view.feed(event)
    card = view.cards[id_]
    assert isinstance(card, CodeBlock)
    return card


# --- code cards ------------------------------------------------------------------------------


def test_the_card_asks_and_its_answer_is_sent(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.add_user("what is six times seven")
    card = proposed(view)
    assert card.state == "waiting" and card.chip.text() == "Waiting for approval"
    assert card.title.text() == "PYTHON" and not card.asking  # the window decides whether it still asks
    view.ask(confirmation("print(6 * 7)").content)
    assert card.asking and not card.approval.isHidden() and "Low risk" in card.risk_label.text()
    with qtbot.waitSignal(view.decided) as answered:
        qtbot.mouseClick(card.run_button, Qt.MouseButton.LeftButton)
    id_, decision = answered.args
    assert id_ == "c1" and isinstance(decision, Decision) and decision.action == "run" and decision.code is None
    view.answered("c1", "run", "Approved in the chat")
    assert not card.asking and card.approval.isHidden() and card.state == "ready"
    for event in (ee.ConsoleStart(), ee.ActiveLine(1), ee.ConsoleOutput("42\n")):
        view.feed(event)
    assert card.state == "running" and card.chip.text() == "Running…" and card.active_line == 1
    view.feed(ee.ConsoleEnd())
    assert card.state == "done" and card.active_line is None
    output = next(b for b in view.blocks if isinstance(b, OutputBlock))
    assert output.parent() is not None and card.isAncestorOf(output)  # folded under its code
    user, reply = (b for b in view.blocks if isinstance(b, TextBlock))
    assert user.label.objectName() == "bubble" and reply.label.objectName() == "reply"


def test_edit_in_the_card_runs_the_edited_code(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view, "print(1)")
    view.ask(confirmation("print(1)").content)
    qtbot.mouseClick(card.edit_button, Qt.MouseButton.LeftButton)
    assert not card.editor.isReadOnly()
    card.editor.selectAll()
    qtbot.keyClicks(card.editor, "print(2)")
    with qtbot.waitSignal(view.decided) as answered:
        qtbot.mouseClick(card.run_button, Qt.MouseButton.LeftButton)
    assert answered.args[1].code == "print(2)"


def test_decline_in_the_card_sends_the_reason(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view)
    view.ask(confirmation("print(6 * 7)").content)
    qtbot.keyClicks(card.reason, "not now")
    with qtbot.waitSignal(view.decided) as answered:
        qtbot.keyClick(card.reason, Qt.Key.Key_Return)
    assert answered.args[1].action == "decline" and answered.args[1].reason == "not now"
    view.answered("c1", "decline")
    view.feed(ee.ConsoleOutput("The user declined to run this code: not now"))
    assert card.state == "declined"
    note = view.blocks[-1]
    assert isinstance(note, OutputBlock) and card.isAncestorOf(note)


@pytest.mark.parametrize(("output", "state"), [
    ("Traceback (most recent call last):\n  File ...\nZeroDivisionError: division by zero\n", "failed"),
    ("\nexit code 2", "failed"),
    ("\n[Stopped by the user.]", "stopped"),
    ("fine\n", "done"),
])
def test_how_a_run_ended_shows_in_the_chip(qtbot: QtBot, output: str, state: str) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view)
    for event in (ee.ConsoleStart(), ee.ConsoleOutput(output), ee.ConsoleEnd()):
        view.feed(event)
    assert card.state == state


def test_copy_puts_the_code_on_the_clipboard(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view, "print('copied')")
    qtbot.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "print('copied')"
    assert card.copy_button.text() == "Copied"


def test_images_of_a_run_fold_under_its_card(qtbot: QtBot) -> None:
    from test_ui_widgets import png

    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view)
    view.feed(ee.ConsoleStart())
    view.feed(ee.ImageOutput("base64.png", png(100, 50)))
    image = view.blocks[-1]
    assert isinstance(image, ImageBlock) and card.isAncestorOf(image)


# --- the voice HUD ---------------------------------------------------------------------------


def test_the_hud_follows_a_spoken_turn_without_taking_focus(qtbot: QtBot) -> None:
    bridge = Bridge()
    hud = VoiceHud("F9")
    qtbot.addWidget(hud)
    hud.attach(bridge.voice_event, bridge.state_changed)
    flags = hud.windowFlags()
    for flag in (Qt.WindowType.Tool, Qt.WindowType.FramelessWindowHint, Qt.WindowType.WindowStaysOnTopHint,
                 Qt.WindowType.WindowDoesNotAcceptFocus):
        assert flags & flag, flag
    assert hud.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert not hud.isVisible()
    bridge.voice_event.emit(ev.ListeningStarted("push-to-talk"))  # what the session emits on the hotkey
    assert hud.isVisible() and hud.state_label.text() == "Listening…"
    assert "Release F9" in hud.words.text()
    bridge.voice_event.emit(ev.LevelChanged(0.64))
    assert hud.meter.level == pytest.approx(0.64)
    bridge.voice_event.emit(ev.SpeechEnded(0.0, 1.2, "release"))
    bridge.voice_event.emit(ev.TranscriptReady("what is six times seven", 1.2, 0.3))
    assert hud.words.text() == "“what is six times seven”"  # the words as they were recognised
    bridge.voice_event.emit(ev.SpeakingStarted("The answer is 42.", 0.0))
    assert hud.state_label.text() == "Speaking…" and hud.words.text() == "The answer is 42."
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert abs(hud.geometry().center().x() - screen.center().x()) <= 2  # bottom centre
    assert screen.bottom() - 200 < hud.geometry().bottom() <= screen.bottom()
    bridge.voice_event.emit(ev.TurnFinished("what is six times seven", "The answer is 42.", ev.Latency()))
    qtbot.waitUntil(lambda: not hud.isVisible(), timeout=5000)  # a moment after the app is idle again


def test_the_hud_stop_button_stops(qtbot: QtBot) -> None:
    bridge = Bridge()
    hud = VoiceHud()
    qtbot.addWidget(hud)
    hud.attach(bridge.voice_event, bridge.state_changed)
    bridge.voice_event.emit(ev.ListeningStarted("hands-free"))
    with qtbot.waitSignal(hud.stop_requested):
        qtbot.mouseClick(hud.stop_button, Qt.MouseButton.LeftButton)
    assert not hud.isVisible()


def test_a_typed_turn_shows_no_hud_while_the_window_is_active(qtbot: QtBot) -> None:
    bridge = Bridge()
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    hud = VoiceHud()
    qtbot.addWidget(hud)
    hud.main_window = window
    hud.attach(bridge.voice_event, bridge.state_changed)
    bridge.voice_event.emit(ev.TurnStarted("typed"))
    bridge.voice_event.emit(ev.SpeakingStarted("Spoken while you look at the window.", 0.0))
    assert not hud.isVisible()
    assert window.isActiveWindow()


# --- the window --------------------------------------------------------------------------------


def test_tab_reaches_every_control_and_each_has_a_name(qtbot: QtBot) -> None:
    bridge = Bridge()
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    card = proposed(window.chat)
    window.chat.ask(confirmation("print(6 * 7)").content)
    for event in (ee.ConsoleStart(), ee.ConsoleOutput("x\n" * 3000), ee.ConsoleEnd()):
        window.chat.feed(event)  # a second card would repeat the first: this one grows output
    window._ready()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.input, timeout=2000)
    seen: list[QWidget] = []
    for _ in range(60):
        widget = QApplication.focusWidget()
        assert widget is not None
        if widget in seen:
            break
        seen.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    unnamed = [f"{type(w).__name__}#{w.objectName()}" for w in seen if not w.accessibleName().strip()]
    assert unnamed == []
    expected = [window.input, window.mic, window.stop_button, window.send_button, card.copy_button, card.editor,
                card.reason, card.decline_button, card.edit_button, card.run_button]
    missing = [w.objectName() for w in expected if w not in seen]
    assert missing == []
    output = next(b for b in window.chat.blocks if isinstance(b, OutputBlock))
    assert output.toggle in seen and output.show_all in seen


def test_the_status_bar_says_what_it_shows(qtbot: QtBot) -> None:
    window = MainWindow(Bridge())
    qtbot.addWidget(window)
    assert window.level_label.text() == "Mic" and window.level_label.buddy() is window.level
    assert window.level.accessibleName() == "Microphone level"
    window.on_event(ev.TurnStarted("typed"))
    window.on_event(ev.TurnFinished("typed", "ok", ev.Latency(speech_end=1.0, transcript=1.0, first_token=1.2)))
    assert window.latency_label.text() == ""  # typed: nothing to measure from
    window.on_event(ev.ListeningStarted("push-to-talk"))
    window.on_event(ev.SpeechEnded(10.0, 1.5, "release"))
    window.on_event(ev.TurnFinished("said", "ok", ev.Latency(speech_end=10.0, transcript=10.4, first_token=10.9)))
    assert window.latency_label.text() == "After you spoke: transcript 0.40 s · first token 0.90 s"


# --- themes --------------------------------------------------------------------------------------


def window_colour() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Window)


def test_themes_light_dark_and_following_the_system(qtbot: QtBot, qapp: QApplication) -> None:
    manager = ThemeManager(qapp, "dark")
    try:
        assert manager.colours is DARK and window_colour() == QColor(DARK.window)
        assert "QLabel#bubble" in qapp.styleSheet()
        manager.set_setting("light")
        assert window_colour() == QColor(LIGHT.window)
        manager.set_setting("system")  # as Qt's colour scheme says (offscreen: unknown, which is light)
        system_dark = QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
        assert manager.colours is (DARK if system_dark else LIGHT)
        manager.set_setting("nonsense")
        assert manager.setting == "system"
    finally:
        manager.set_setting("light")
        manager.deleteLater()


def test_the_none_guard_holds_through_many_void_calls(qtbot: QtBot) -> None:
    # Without the guard (ui/qtfix.py) Python 3.11 aborts here with "none_dealloc".
    block = TextBlock("notice", "x")
    qtbot.addWidget(block)
    label = block.label
    for n in range(200_000):
        label.setText(str(n & 7))
    if sys.version_info < (3, 12):
        assert leaks_none() in (True, False) and sys.getrefcount(None) > 200_000
    assert label.text() == str(199_999 & 7)


def test_state_words_are_shown(qtbot: QtBot) -> None:
    window = MainWindow(Bridge())
    qtbot.addWidget(window)
    window.show_state(AppState.SPEAKING)
    assert window.state_label.text() == "Speaking…"


def test_a_new_look_recolours_the_running_line(qtbot: QtBot, qapp: QApplication) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    card = proposed(view)
    view.feed(ee.ConsoleStart())
    view.feed(ee.ActiveLine(1))
    manager = ThemeManager(qapp, "light")
    manager.changed.connect(view.retheme)
    try:
        assert card.editor.extraSelections()[0].format.background().color() == QColor(LIGHT.active_line)
        manager.set_setting("dark")
        assert card.editor.extraSelections()[0].format.background().color() == QColor(DARK.active_line)
    finally:
        manager.set_setting("light")
        manager.deleteLater()


def test_an_empty_conversation_says_how_to_start(qtbot: QtBot) -> None:
    window = MainWindow(Bridge(), push_to_talk="F8")
    qtbot.addWidget(window)
    window.show()
    assert window.chat.hint.isVisible() and "hold F8" in window.chat.hint.text()
    window.chat.add_user("hello")
    assert not window.chat.hint.isVisible()
    window.chat.clear()
    assert window.chat.hint.isVisible()
    window.chat.add_user("again")
    qtbot.waitUntil(lambda: window.chat.blocks[-1].isVisible(), timeout=2000)
    assert window.chat.blocks[-1].y() < 40  # a short conversation starts at the top, not the middle
