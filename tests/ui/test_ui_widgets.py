"""The chat view, the approval dialog and the state tracker, offscreen with pytest-qt.

The chat view is fed the engine's typed events exactly as the engine streams them; the approval
dialog is driven with real key presses and clicks.
"""

from __future__ import annotations

import base64

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from oi_voice.core import events as ee
from oi_voice.core.approval import Decision
from oi_voice.ui.approval import ApprovalDialog, risk_words
from oi_voice.ui.chatview import SHOWN, ChatView, CodeBlock, ImageBlock, OutputBlock, TextBlock
from oi_voice.ui.state import AppState, StateTracker
from oi_voice.voice import events as ev


def stream(view: ChatView, events: list[ee.EngineEvent]) -> None:
    for event in events:
        view.feed(event)


def png(width: int, height: int) -> str:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return base64.b64encode(bytes(data.data())).decode()


# --- the chat view ---------------------------------------------------------------------------


def test_a_turn_renders_as_it_streams(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.add_user("what is 6 times 7")
    stream(view, [
        ee.MessageStart(), ee.MessageDelta("Let me **compute** "), ee.MessageDelta("that."), ee.MessageEnd(),
        ee.CodeStart("python"), ee.CodeDelta("python", "x = 6\n"),
        ee.CodeDelta("python", "print(x * 7)"), ee.CodeEnd("python"),
        ee.ConsoleStart(), ee.ActiveLine(1),
    ])
    user, reply, code, output = view.blocks
    assert isinstance(user, TextBlock) and user.text == "what is 6 times 7"
    assert isinstance(reply, TextBlock) and reply.text == "Let me **compute** that."
    assert reply.label.textFormat() == Qt.TextFormat.MarkdownText
    assert isinstance(code, CodeBlock) and code.code == "x = 6\nprint(x * 7)" and code.language == "python"
    assert code.active_line == 1
    assert len(code.editor.extraSelections()) == 1  # the running line is marked
    stream(view, [ee.ActiveLine(2), ee.ConsoleOutput("42\n"), ee.ActiveLine(None), ee.ConsoleEnd()])
    assert code.active_line is None and code.editor.extraSelections() == []
    assert isinstance(output, OutputBlock) and output.shown == "42\n" and output.expanded


def test_keywords_are_coloured(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    stream(view, [ee.CodeStart("python"), ee.CodeDelta("python", "import os  # a comment")])
    block = view.blocks[0]
    assert isinstance(block, CodeBlock)
    formats = block.editor.document().firstBlock().layout().formats()
    coloured = {(f.start, f.length) for f in formats}
    assert (0, 6) in coloured  # "import"
    assert any(start == 11 for start, _ in coloured)  # the comment


def test_long_output_is_truncated_until_show_all(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show()
    line = "x" * 99 + "\n"
    stream(view, [ee.ConsoleStart()] + [ee.ConsoleOutput(line)] * 1000)
    output = view.blocks[0]
    assert isinstance(output, OutputBlock)
    assert len(output.shown) == SHOWN
    assert output.received == 100_000 and len(output.text) == 100_000
    assert not output.show_all.isHidden() and "100,000" in output.show_all.text()
    qtbot.mouseClick(output.show_all, Qt.MouseButton.LeftButton)
    assert output.shown == line * 1000 and output.show_all.isHidden()
    output.toggle.click()  # collapse
    assert not output.expanded and output.view.isHidden()


def test_a_note_without_a_run_and_errors_are_shown(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    stream(view, [ee.ConsoleOutput("The user declined to run this code: not now"),
                  ee.ErrorEvent("llm", "the model server refused the connection")])
    note, error = view.blocks
    assert isinstance(note, OutputBlock) and "declined" in note.shown
    assert isinstance(error, TextBlock) and error.kind == "error" and "refused" in error.text


def test_images_are_drawn_inline_and_scaled(qtbot: QtBot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    stream(view, [ee.ImageOutput("base64.png", png(1200, 300)), ee.ImageOutput("base64.png", "bm90IGFuIGltYWdl")])
    big, broken = view.blocks
    assert isinstance(big, ImageBlock) and big.pixmap.width() == 1200
    shown = big.label.pixmap()
    assert shown.width() == 560 and shown.height() == 140
    assert isinstance(broken, ImageBlock) and "could not be decoded" in broken.label.text()


# --- the approval dialog ---------------------------------------------------------------------


def request(level: str = "low", code: str = "print(1)") -> dict[str, object]:
    return {"type": "code", "format": "python", "content": code, "id": "c7",
            "risk": {"level": level, "reasons": ["deletes files"] if level == "high" else []},
            "summary": "Run one line of Python?"}


def decided(qtbot: QtBot, dialog: ApprovalDialog, act: object) -> Decision:
    with qtbot.waitSignal(dialog.decided, timeout=5000) as blocker:
        act() if callable(act) else None
    assert blocker.args is not None and blocker.args[0] == "c7"
    decision = blocker.args[1]
    assert isinstance(decision, Decision)
    return decision


def test_enter_runs_the_code(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request())
    qtbot.addWidget(dialog)
    dialog.show()
    decision = decided(qtbot, dialog, lambda: qtbot.keyClick(dialog, Qt.Key.Key_Return))
    assert decision == Decision.run(None, source="click")
    assert "Low risk" in dialog.risk_label.text()


def test_escape_declines_with_the_reason(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.reason, "use pathlib instead")
    decision = decided(qtbot, dialog, lambda: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    assert decision.action == "decline" and decision.reason == "use pathlib instead" and decision.source == "click"


def test_edit_then_run_sends_the_edited_code(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request())
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.editor.isReadOnly()
    qtbot.mouseClick(dialog.edit_button, Qt.MouseButton.LeftButton)
    assert not dialog.editor.isReadOnly()
    dialog.editor.selectAll()
    qtbot.keyClicks(dialog.editor, "print(2)")
    qtbot.keyClick(dialog.editor, Qt.Key.Key_Return)  # a new line while editing, not "run"
    assert dialog.code == "print(2)\n"
    decision = decided(qtbot, dialog, lambda: qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton))
    assert decision.action == "run" and decision.code == "print(2)\n"


def test_always_for_this_session(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request("medium"))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.always.setChecked(True)
    decision = decided(qtbot, dialog, dialog.run)
    assert decision.always and decision.action == "run"


def test_high_risk_cannot_be_always_and_says_why(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request("high", "rm -rf /tmp/x"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.always.isEnabled()
    assert "High risk" in dialog.risk_label.text() and "deletes files" in dialog.risk_label.text()
    assert risk_words({"level": "medium"}).startswith("Medium risk")


def test_closing_declines_and_dismiss_says_nothing(qtbot: QtBot) -> None:
    dialog = ApprovalDialog(request())
    qtbot.addWidget(dialog)
    dialog.show()
    decision = decided(qtbot, dialog, dialog.close)
    assert decision.action == "decline"
    other = ApprovalDialog(request())
    qtbot.addWidget(other)
    other.show()
    with qtbot.assertNotEmitted(other.decided):
        other.dismiss()
    assert not other.isVisible()


# --- the state tracker -----------------------------------------------------------------------


def test_states_follow_a_spoken_turn() -> None:
    tracker = StateTracker()
    seen = []
    for event in [
        ev.ListeningStarted("push-to-talk"), ev.SpeechEnded(1.0, 2.0, "release"), ev.TranscriptReady("hi", 2.0, 0.3),
        ev.TurnStarted("hi"), ev.ConfirmationAsked("c1", "Run it?", "low", spoken=True),
        ev.ConfirmationAnswered("c1", "run"), ev.TurnEvent(ee.ConsoleStart()),
        ev.SpeakingStarted("Done.", 3.0), ev.TurnEvent(ee.ConsoleEnd()),
        ev.SpeakingStarted("Done.", 3.1), ev.TurnFinished("hi", "Done.", ev.Latency()),
    ]:
        new = tracker.feed(event)
        if new is not None:
            seen.append(new)
    assert seen == [AppState.LISTENING, AppState.TRANSCRIBING, AppState.THINKING, AppState.APPROVAL,
                    AppState.RUNNING, AppState.THINKING, AppState.SPEAKING, AppState.IDLE]


def test_errors_show_until_the_next_turn() -> None:
    tracker = StateTracker()
    assert tracker.feed(ev.TurnStarted("x")) is AppState.THINKING
    assert tracker.feed(ev.TurnFinished("x", "", ev.Latency(), error="model down")) is AppState.ERROR
    assert tracker.error == "model down"
    assert tracker.feed(ev.NothingHeard("silence")) is AppState.IDLE
    assert tracker.feed(ev.VoiceError("no microphone")) is AppState.ERROR
    assert tracker.feed(ev.TurnStarted("y")) is AppState.THINKING and tracker.error == ""


# --- push-to-talk keys -------------------------------------------------------------------------


def test_a_held_key_with_x_style_repeats_is_one_press_and_one_release(qtbot: QtBot, qapp: object) -> None:
    from PySide6.QtWidgets import QApplication, QDialog, QLineEdit

    from oi_voice.ui.hotkey import PushToTalkKeys

    assert isinstance(qapp, QApplication)
    keys = PushToTalkKeys("F9")
    qapp.installEventFilter(keys)
    seen: list[str] = []
    keys.pressed.connect(lambda: seen.append("down"))
    keys.released.connect(lambda: seen.append("up"))
    field = QLineEdit()
    qtbot.addWidget(field)
    field.show()
    try:
        qtbot.keyPress(field, Qt.Key.Key_F9)
        for _ in range(5):  # what an X server sends while the key stays down
            qtbot.keyRelease(field, Qt.Key.Key_F9)
            qtbot.keyPress(field, Qt.Key.Key_F9)
        assert seen == ["down"]
        with qtbot.waitSignal(keys.released, timeout=2000):
            qtbot.keyRelease(field, Qt.Key.Key_F9)
        assert seen == ["down", "up"]
        # A modal dialog (the settings' key field) gets the key instead.
        dialog = QDialog()
        qtbot.addWidget(dialog)
        dialog.setModal(True)
        dialog.show()
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() is dialog, timeout=2000)
        qtbot.keyClick(dialog, Qt.Key.Key_F9)
        assert seen == ["down", "up"]
    finally:
        qapp.removeEventFilter(keys)


def test_every_state_has_its_own_tray_icon_and_words(qtbot: QtBot) -> None:
    from PySide6.QtGui import QAction

    from oi_voice.ui.tray import Tray, state_icon

    images = set()
    for state in AppState:
        icon = state_icon(state)
        assert not icon.isNull(), state
        images.add(icon.pixmap(32, 32).toImage().bits().tobytes())
    assert len(images) == len(AppState)  # no two states look the same
    quit_action = QAction("Quit")
    tray = Tray([quit_action, None])
    tray.show_state(AppState.ERROR, "the model server refused the connection")
    assert tray.toolTip() == "oi-voice: Error\nthe model server refused the connection"
    assert [a.text() for a in tray.menu.actions() if not a.isSeparator()] == ["Quit"]
