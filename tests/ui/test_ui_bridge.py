"""The window and the bridge against a real engine: typed and spoken turns, approvals, Stop.

Real parts: the Interpreter with its kernel, the scripted model server over HTTP,
faster-whisper, pyttsx3. Stand-ins are our own protocol implementations only: a WAV
file as the microphone (``WavSource``), a recording speaker (``WavFileSpeaker``) and
listeners for spoken answers. The Qt side is offscreen; tests wait on signals and
conditions, never on sleeps, and assert no timings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from helpers import point_at
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot
from scripted_llm import ScriptedLLM, cut, text, tool_call
from voice_env import Utterances, utterance

from oi_voice import Interpreter
from oi_voice.core.approval import Decision
from oi_voice.ui.approval import ApprovalDialog
from oi_voice.ui.bridge import Bridge
from oi_voice.ui.chatview import OutputBlock, TextBlock
from oi_voice.ui.state import AppState
from oi_voice.ui.window import MainWindow
from oi_voice.voice import events as ev
from oi_voice.voice.capture import FileAnswers, Utterance, WavSource
from oi_voice.voice.pipeline import VoiceConfig, VoiceSession
from oi_voice.voice.playback import WavFileSpeaker

__all__ = ["utterance"]  # a fixture used by name

E = TypeVar("E", bound=ev.VoiceEvent)
TURN = 90_000  # ms: a turn with a kernel start on a loaded 2-core machine


@pytest.fixture(scope="module")
def interp() -> Iterator[Interpreter]:
    owner = Interpreter()
    yield owner
    owner.close()


@pytest.fixture
def engine(interp: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    """The module's interpreter, on a fresh conversation pointed at this test's model server."""
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return point_at(interp, llm_server.url)


class App:
    """A window and bridge around one voice session, with a record of the events it rendered."""

    def __init__(self, qtbot: QtBot, session: VoiceSession) -> None:
        self.qtbot = qtbot
        self.session = session
        self.bridge = Bridge()
        self.window = MainWindow(self.bridge)
        qtbot.addWidget(self.window)
        self.window.show()
        self.events: list[ev.VoiceEvent] = []
        self.bridge.voice_event.connect(self.events.append)  # recorded on the Qt thread
        with qtbot.waitSignal(self.bridge.ready, timeout=120_000):
            self.bridge.start(lambda _report: session)

    def wait_for(self, kind: type[E], where: Callable[[E], bool] = lambda e: True, timeout: int = TURN) -> E:
        def found() -> E | None:
            return next((e for e in self.events if isinstance(e, kind) and where(e)), None)

        self.qtbot.waitUntil(lambda: found() is not None, timeout=timeout)
        event = found()
        assert event is not None
        return event

    def dialog(self) -> ApprovalDialog:
        self.qtbot.waitUntil(lambda: bool(self.window.dialogs), timeout=TURN)
        return next(iter(self.window.dialogs.values()))

    def type(self, message: str) -> None:
        self.qtbot.keyClicks(self.window.input, message)
        self.qtbot.keyClick(self.window.input, Qt.Key.Key_Return)

    def blocks(self, kind: type[object]) -> list[object]:
        return [b for b in self.window.chat.blocks if isinstance(b, kind)]

    def close(self) -> None:
        self.bridge.stop()
        assert self.session.wait_idle(60)
        self.bridge.detach()


@pytest.fixture
def make_app(qtbot: QtBot, engine: Interpreter, tmp_path: Path) -> Iterator[Callable[..., App]]:
    made: list[App] = []
    sessions: list[VoiceSession] = []

    def make(**options: object) -> App:
        config = VoiceConfig(confirm_by_voice=bool(options.pop("confirm_by_voice", False)),
                             review_transcripts=bool(options.pop("review_transcripts", False)),
                             answer_timeout=float(options.pop("answer_timeout", 30.0)))  # type: ignore[arg-type]
        session = VoiceSession(engine, config, speaker=WavFileSpeaker(tmp_path / "said.wav"),
                               microphone=False, **options)  # type: ignore[arg-type]
        sessions.append(session)
        app = App(qtbot, session)
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()
    for session in sessions:
        session.close()


def test_typed_message_dialog_run_and_the_output_in_the_window(make_app: Callable[..., App],
                                                                llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print(6 * 7)"), text("It is **42**."))
    app = make_app()
    app.type("what is six times seven")
    dialog = app.dialog()
    assert dialog.code == "print(6 * 7)" and dialog.language == "python"
    assert app.bridge.state is AppState.APPROVAL
    app.qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    finished = app.wait_for(ev.TurnFinished)
    assert not finished.cancelled and finished.error is None
    user = app.blocks(TextBlock)[0]
    assert isinstance(user, TextBlock) and user.text == "what is six times seven"
    outputs = app.blocks(OutputBlock)
    assert len(outputs) == 1 and isinstance(outputs[0], OutputBlock) and outputs[0].text == "42\n"
    replies = [b for b in app.blocks(TextBlock) if isinstance(b, TextBlock) and b.kind == "assistant"]
    assert [b.text for b in replies] == ["It is **42**."]  # type: ignore[attr-defined]
    assert app.window.input.toPlainText() == ""
    assert app.window.dialogs == {}
    assert app.window.latency_label.text() == ""  # a typed turn has no speech to measure from (issue 17)
    assert app.bridge.state is AppState.IDLE and app.window.state_label.text() == "Ready"


def test_run_in_the_card_wins_over_the_dialog(make_app: Callable[..., App], llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print(6 * 7)"), text("It is 42."))
    app = make_app()
    app.type("what is six times seven")
    dialog = app.dialog()
    card = app.window.chat.cards[dialog.id]
    assert card.asking and card.code == "print(6 * 7)"
    app.qtbot.mouseClick(card.run_button, Qt.MouseButton.LeftButton)  # the card first: the dialog goes
    app.qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert app.window.dialogs == {} and not card.asking
    finished = app.wait_for(ev.TurnFinished)
    assert finished.error is None and card.state == "done"
    outputs = app.blocks(OutputBlock)
    assert [o.text for o in outputs] == ["42\n"]  # type: ignore[attr-defined]
    assert not app.bridge.answer(dialog.id, Decision.decline("late"))  # the dialog's answer would come too late


def test_decline_with_a_reason_is_told_to_the_model(make_app: Callable[..., App], llm_server: ScriptedLLM,
                                                    tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("Fine, I did not touch it."))
    app = make_app()
    app.type("touch the marker")
    dialog = app.dialog()
    app.qtbot.keyClicks(dialog.reason, "not today")
    app.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    app.wait_for(ev.TurnFinished)
    assert not marker.exists()
    told = next(m["content"] for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert told.startswith("The user declined to run this code") and "not today" in told


def test_stop_ends_a_long_run_the_loop_ticks_throughout_and_the_next_message_works(
        make_app: Callable[..., App], llm_server: ScriptedLLM) -> None:
    code = "import time\nprint('started', flush=True)\nfor _ in range(3000):\n    time.sleep(0.1)\n"
    llm_server.add(tool_call("python", code))
    app = make_app()
    ticks = [0]
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(10)
    app.type("wait a long time")
    app.qtbot.mouseClick(app.dialog().run_button, Qt.MouseButton.LeftButton)
    app.qtbot.waitUntil(lambda: any(isinstance(b, OutputBlock) and "started" in b.text
                                    for b in app.window.chat.blocks), timeout=TURN)
    assert app.bridge.state is AppState.RUNNING
    at_start = ticks[0]
    # The GUI thread keeps running its timers while the code runs.
    app.qtbot.waitUntil(lambda: ticks[0] >= at_start + 20, timeout=30_000)
    assert app.bridge.state is AppState.RUNNING
    app.qtbot.mouseClick(app.window.stop_button, Qt.MouseButton.LeftButton)
    finished = app.wait_for(ev.TurnFinished)
    assert finished.cancelled
    assert app.session.wait_idle(60)
    assert any(isinstance(b, TextBlock) and b.text == "Stopped." for b in app.window.chat.blocks)
    timer.stop()
    app.events.clear()
    llm_server.add(tool_call("python", "print('second run')"), text("Done again."))
    app.type("again")
    app.qtbot.mouseClick(app.dialog().run_button, Qt.MouseButton.LeftButton)
    again = app.wait_for(ev.TurnFinished)
    assert not again.cancelled and again.reply == "Done again."
    last = app.blocks(OutputBlock)[-1]
    assert isinstance(last, OutputBlock) and last.text == "second run\n"  # only its own output


def test_spoken_yes_wins_and_the_dialog_closes(make_app: Callable[..., App], llm_server: ScriptedLLM,
                                               utterance: Utterances) -> None:
    from oi_voice.voice.audio import load_audio_file

    llm_server.add(tool_call("python", "print('by voice')"), text("Ran it."))
    app = make_app(confirm_by_voice=True, answers=FileAnswers([load_audio_file(utterance("yes"))]))
    app.type("run something")
    answered = app.wait_for(ev.ConfirmationAnswered)
    assert answered.action == "run"
    app.wait_for(ev.TurnFinished)
    assert app.window.dialogs == {}
    assert not any(isinstance(w, ApprovalDialog) and w.isVisible() for w in app.window.findChildren(ApprovalDialog))
    output = app.blocks(OutputBlock)[0]
    assert isinstance(output, OutputBlock) and output.text == "by voice\n"
    assert any(isinstance(b, TextBlock) and b.text.startswith("Approved by voice") for b in app.window.chat.blocks)


class WaitingListener:
    """Hears nothing: waits until told to stop (like the microphone when nobody speaks)."""

    def __init__(self) -> None:
        self.stopped_by_cancel = threading.Event()

    def listen(self, timeout: float, cancel: threading.Event | None = None) -> Utterance | None:
        done = threading.Event()
        while not done.wait(0.02):  # the capture polls its cancel event the same way
            if cancel is not None and cancel.is_set():
                self.stopped_by_cancel.set()
                return None
        return None


def test_a_click_wins_over_a_spoken_answer_and_listening_stops(make_app: Callable[..., App],
                                                               llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print('by click')"), text("Clicked."))
    listener = WaitingListener()
    app = make_app(confirm_by_voice=True, answers=listener, answer_timeout=3600.0)
    app.type("run something")
    app.wait_for(ev.ListeningStarted, where=lambda e: e.mode == "answer")
    app.qtbot.mouseClick(app.dialog().run_button, Qt.MouseButton.LeftButton)
    finished = app.wait_for(ev.TurnFinished)
    assert listener.stopped_by_cancel.is_set()
    assert finished.reply == "Clicked." and not finished.cancelled
    output = app.blocks(OutputBlock)[0]
    assert isinstance(output, OutputBlock) and output.text == "by click\n"


def test_push_to_talk_transcribes_off_the_gui_thread_and_review_holds_the_transcript(
        make_app: Callable[..., App], llm_server: ScriptedLLM, utterance: Utterances) -> None:
    source = WavSource(utterance.piper("List the files in this folder."), lead=0.3, tail=30.0, hold=True)
    app = make_app(source=source, review_transcripts=True)
    ticks = [0]
    seen_during: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start(5)
    app.bridge.voice_event.connect(lambda e: seen_during.append(ticks[0])
                                   if isinstance(e, (ev.SpeechEnded, ev.TranscriptReady)) else None)
    app.bridge.press()
    assert app.bridge.state is AppState.LISTENING or app.wait_for(ev.ListeningStarted)
    source.play()  # the user talks once the key is down (however long the start-up took)
    app.qtbot.waitUntil(source.finished.is_set, timeout=30_000)
    app.bridge.release()
    app.wait_for(ev.TranscriptHeld)
    timer.stop()
    ended, transcribed = seen_during
    assert transcribed > ended  # the timer fired while Whisper worked
    held = app.window.input.toPlainText().lower()
    assert "file" in held and "folder" in held, held
    assert not [e for e in app.events if isinstance(e, ev.TurnStarted)]  # nothing was sent yet
    llm_server.add(text("Here they are."))
    app.window.input.selectAll()
    app.qtbot.keyClicks(app.window.input, "list the files here")
    app.qtbot.keyClick(app.window.input, Qt.Key.Key_Return)
    started = app.wait_for(ev.TurnStarted)
    assert started.text == "list the files here"
    app.wait_for(ev.TurnFinished)


def test_without_a_microphone_push_to_talk_says_so_and_typing_works(make_app: Callable[..., App],
                                                                     llm_server: ScriptedLLM) -> None:
    llm_server.add(text("Typed chat works."))
    app = make_app()
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    app.bridge.press()
    assert notices and "microphone" in notices[0]
    app.type("hello")
    finished = app.wait_for(ev.TurnFinished)
    assert finished.reply == "Typed chat works."


class GatedSource:
    """A microphone that hears silence until ``gate`` is set, then the given speech."""

    def __init__(self, speech: Path) -> None:
        import numpy as np

        self.speech = speech
        self.gate = threading.Event()
        self._silence = WavSource(np.zeros(16000 * 600, dtype=np.float32), tail=0.0)
        self._inner: WavSource | None = None
        self.name = "gated test microphone"

    def start(self) -> None:
        self._silence.start()

    def read(self, timeout: float) -> object:
        if self.gate.is_set():
            if self._inner is None:
                self._inner = WavSource(self.speech, tail=600.0)
                self._inner.start()
            return self._inner.read(timeout)
        return self._silence.read(timeout)

    def stop(self) -> None:
        self._silence.stop()
        if self._inner is not None:
            self._inner.stop()


def test_a_click_on_the_mic_turns_hands_free_on_and_off(make_app: Callable[..., App], llm_server: ScriptedLLM,
                                                        utterance: Utterances) -> None:
    source = GatedSource(utterance("what is the weather like"))
    llm_server.add(text("I cannot look outside."))
    app = make_app(source=source)
    app.bridge.voice_event.connect(
        lambda e: source.gate.set() if isinstance(e, ev.ListeningStarted) and e.mode == "hands-free" else None)
    with app.qtbot.waitSignal(app.bridge.hands_free_changed, timeout=5000) as on:
        app.qtbot.mouseClick(app.window.mic, Qt.MouseButton.LeftButton)
    assert on.args == [True] and app.bridge.hands_free
    assert app.window.mic.text().startswith("Listening")
    started = app.wait_for(ev.TurnStarted)
    assert "weather" in started.text.lower()
    finished = app.wait_for(ev.TurnFinished)
    assert finished.reply == "I cannot look outside."
    with app.qtbot.waitSignal(app.bridge.hands_free_changed, timeout=5000) as off:
        app.qtbot.mouseClick(app.window.mic, Qt.MouseButton.LeftButton)
    assert off.args == [False] and not app.bridge.hands_free
    assert app.window.mic.text() == "Hold to talk"


def test_new_conversation_forgets_and_clears(make_app: Callable[..., App], llm_server: ScriptedLLM) -> None:
    llm_server.add(text("First answer."), text("Fresh start."))
    app = make_app()
    app.type("remember the number 7")
    app.wait_for(ev.TurnFinished)
    assert app.window.chat.blocks and app.session.interpreter.messages
    app.window.new_action.trigger()
    assert app.window.chat.blocks == [] and app.session.interpreter.messages == []
    app.events.clear()
    app.type("what number?")
    app.wait_for(ev.TurnFinished)
    sent = [m["content"] for m in llm_server.requests[1]["messages"] if m["role"] == "user"]
    assert sent == ["what number?"]


def test_undo_the_last_run_puts_deleted_files_back(make_app: Callable[..., App], llm_server: ScriptedLLM,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("precious\n")
    monkeypatch.chdir(work)  # the working folder the snapshot is of
    llm_server.add(tool_call("shell", f"rm {work / 'notes.txt'}"), text("Deleted."))
    app = make_app()
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    app.type("delete my notes")
    dialog = app.dialog()
    assert "deletes files" in dialog.risk_label.text() and not dialog.always.isEnabled()
    app.qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    app.wait_for(ev.TurnFinished)
    assert not (work / "notes.txt").exists()
    assert app.window.undo_run_action in app.window.menu_actions()
    app.window.undo_run_action.trigger()
    app.qtbot.waitUntil(lambda: any("put back" in n for n in notices), timeout=TURN)
    assert (work / "notes.txt").read_text() == "precious\n"


def test_a_model_that_drops_the_connection_shows_an_error_and_the_next_turn_works(
        make_app: Callable[..., App], llm_server: ScriptedLLM) -> None:
    app = make_app()
    app.session.interpreter.llm.max_retries = 1
    llm_server.add(cut(2, text("This answer never arrives whole.", chunks=6)))
    app.type("first")
    failed = app.wait_for(ev.TurnFinished)
    assert failed.error
    errors = [b for b in app.window.chat.blocks if isinstance(b, TextBlock) and b.kind == "error"]
    assert errors, [b.text for b in app.window.chat.blocks if isinstance(b, TextBlock)]
    assert "failed" in errors[0].text.lower() or "connection" in errors[0].text.lower(), errors[0].text
    assert app.bridge.state is AppState.ERROR and app.window.state_label.text().startswith("Error")
    app.events.clear()
    llm_server.add(text("Back again."))
    app.type("second")
    again = app.wait_for(ev.TurnFinished)
    assert again.reply == "Back again." and again.error is None
    assert app.bridge.state is AppState.IDLE
