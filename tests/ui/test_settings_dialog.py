"""The settings dialog, offscreen with pytest-qt: edited with key presses and clicks, saved, reopened.

Message and file dialogs are answered from a zero-delay timer that runs inside their own
event loop (``answer_modal``): no sleeps, no patched methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from oi_voice.app_settings import AppSettings, key_store_description, load_app_settings, save_app_settings
from oi_voice.profiles import list_profiles
from oi_voice.ui.settings import SettingsDialog

INPUTS = ["Built-in Microphone", "USB Headset Mic"]
OUTPUTS = ["Built-in Speakers", "USB Headset"]
VOICES = ["English (America)", "German"]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private config folder; keys go to its 0600 file (no OS keyring)."""
    folder = tmp_path / "config"
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    yield folder


def open_dialog(qtbot: QtBot, settings: AppSettings) -> SettingsDialog:
    dialog = SettingsDialog(settings, profiles=list_profiles(), input_devices=INPUTS, output_devices=OUTPUTS,
                            voices=VOICES, key_store=key_store_description())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def child(dialog: QWidget, kind: type, name: str) -> object:
    found = dialog.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} named {name!r}"
    return found


def replace_text(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def pick(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Choose ``text`` in a drop-down with the keyboard (Home, then Down to it)."""
    index = combo.findText(text)
    assert index >= 0, f"{text!r} is not offered"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(index):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == text


def answer_modal(kind: type, answer: Callable[[QWidget], None], seen: list[QWidget]) -> None:
    """Answer the next modal ``kind`` dialog from inside its event loop (queued before it opens)."""
    def attempt(tries: int = 0) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, kind) and modal.isVisible():
            seen.append(modal)
            answer(modal)
        elif isinstance(modal, QDialog) and modal.isVisible() and modal not in seen:
            seen.append(modal)  # an unexpected dialog: close it so the test fails instead of hanging
            modal.reject()
        elif tries < 1000:  # the dialog is not up yet: look again on the next pass of the loop
            QTimer.singleShot(0, lambda: attempt(tries + 1))

    QTimer.singleShot(0, attempt)


def test_round_trip_through_the_widgets(qtbot: QtBot, config: Path) -> None:
    dialog = open_dialog(qtbot, load_app_settings("voice"))
    model = child(dialog, QComboBox, "model")
    assert isinstance(model, QComboBox) and model.currentText() == "gpt-4o-mini"
    for suggestion in ("local", "gpt-4o-mini", "ollama/llama3.1"):
        assert model.findText(suggestion) >= 0
    line = model.lineEdit()
    assert line is not None
    replace_text(qtbot, line, "ollama/llama3.1")
    api_base = child(dialog, QLineEdit, "api_base")
    assert isinstance(api_base, QLineEdit) and api_base.placeholderText() == "http://localhost:11434/v1"
    qtbot.keyClicks(api_base, "http://localhost:11434/v1")
    api_key = child(dialog, QLineEdit, "api_key")
    assert isinstance(api_key, QLineEdit) and api_key.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(api_key, "sk-typed")
    show = child(dialog, QToolButton, "show_key")
    assert isinstance(show, QToolButton)
    qtbot.mouseClick(show, Qt.MouseButton.LeftButton)
    assert api_key.echoMode() == QLineEdit.EchoMode.Normal
    store = child(dialog, QLabel, "key_store")
    assert isinstance(store, QLabel) and "secrets.json" in store.text()

    stt = child(dialog, QComboBox, "stt_model")
    assert isinstance(stt, QComboBox) and stt.currentText() == "(follows the language)"
    stt_line = stt.lineEdit()
    assert stt_line is not None
    replace_text(qtbot, stt_line, "base.en")
    language = child(dialog, QComboBox, "language")
    assert isinstance(language, QComboBox) and language.lineEdit() is not None
    replace_text(qtbot, language.lineEdit(), "de")
    voice = child(dialog, QComboBox, "tts_voice")
    assert isinstance(voice, QComboBox) and voice.currentText() == "(default)"
    pick(qtbot, voice, "German")
    rate = child(dialog, QSpinBox, "tts_rate")
    assert isinstance(rate, QSpinBox) and rate.text() == "(default)"
    rate_line = rate.findChild(QLineEdit)
    assert isinstance(rate_line, QLineEdit)
    replace_text(qtbot, rate_line, "180")
    microphone = child(dialog, QComboBox, "input_device")
    speaker = child(dialog, QComboBox, "output_device")
    assert isinstance(microphone, QComboBox) and isinstance(speaker, QComboBox)
    assert microphone.currentText() == speaker.currentText() == "(system default)"
    pick(qtbot, microphone, "USB Headset Mic")
    pick(qtbot, speaker, "USB Headset")

    hotkey = child(dialog, QKeySequenceEdit, "push_to_talk")
    assert isinstance(hotkey, QKeySequenceEdit) and hotkey.keySequence().toString() == "F9"
    hotkey.clear()
    qtbot.keyClick(hotkey, Qt.Key.Key_F8)
    for name in ("confirm_by_voice", "review_transcripts"):
        box = child(dialog, QCheckBox, name)
        assert isinstance(box, QCheckBox)
        qtbot.keyClick(box, Qt.Key.Key_Space)

    ok = child(dialog, QPushButton, "ok")
    assert isinstance(ok, QPushButton) and ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    expected = AppSettings(profile="voice", model="ollama/llama3.1", api_base="http://localhost:11434/v1",
                           api_key="sk-typed", stt_model="base.en", language="de", tts_voice="German", tts_rate=180,
                           input_device="USB Headset Mic", output_device="USB Headset", push_to_talk="F8",
                           confirm_by_voice=False, auto_run=False, review_transcripts=True)
    assert dialog.settings() == expected

    save_app_settings(dialog.settings())
    reloaded = load_app_settings("voice")
    assert reloaded == expected
    again = open_dialog(qtbot, reloaded)
    assert (again.model.currentText(), again.api_base.text(), again.api_key.text()) == \
        ("ollama/llama3.1", "http://localhost:11434/v1", "sk-typed")
    assert (again.stt_model.currentText(), again.language.currentText(), again.tts_voice.currentText()) == \
        ("base.en", "de", "German")
    assert (again.tts_rate.value(), again.input_device.currentText(), again.output_device.currentText()) == \
        (180, "USB Headset Mic", "USB Headset")
    assert again.push_to_talk.keySequence().toString() == "F8"
    assert not again.confirm_by_voice.isChecked() and again.review_transcripts.isChecked()
    assert again.settings() == expected


def test_defaults_show_as_defaults_and_come_back_as_none(qtbot: QtBot, config: Path) -> None:
    settings = AppSettings(model="local", stt_model=None, language=None, tts_voice=None, tts_rate=None,
                           input_device="A mic that was unplugged")
    dialog = open_dialog(qtbot, settings)
    assert dialog.language.currentText() == "(system language)"
    assert dialog.stt_model.currentText() == "(follows the language)"
    assert dialog.input_device.currentText() == "A mic that was unplugged"  # kept, not lost
    assert dialog.settings() == settings


def test_auto_run_needs_confirming(qtbot: QtBot, config: Path) -> None:
    dialog = open_dialog(qtbot, AppSettings(model="local"))
    box = dialog.auto_run
    answers: list[bool] = []
    dialog.auto_run_confirmed.connect(answers.append)
    seen: list[QWidget] = []

    def refuse(modal: QWidget) -> None:
        assert isinstance(modal, QMessageBox)
        modal.button(QMessageBox.StandardButton.Cancel).click()

    answer_modal(QMessageBox, refuse, seen)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert len(seen) == 1 and isinstance(seen[0], QMessageBox)
    assert seen[0].text().startswith("Code will run without asking")
    assert not box.isChecked() and answers == [False]
    assert dialog.settings().auto_run is False

    def accept(modal: QWidget) -> None:
        assert isinstance(modal, QMessageBox)
        modal.button(QMessageBox.StandardButton.Yes).click()

    answer_modal(QMessageBox, accept, seen)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert len(seen) == 2 and box.isChecked() and answers == [False, True]
    assert dialog.settings().auto_run is True

    qtbot.keyClick(box, Qt.Key.Key_Space)  # turning it off asks nothing
    assert not box.isChecked() and answers == [False, True]


def test_saved_auto_run_is_shown_without_a_warning(qtbot: QtBot, config: Path) -> None:
    dialog = open_dialog(qtbot, AppSettings(model="local", auto_run=True))
    assert dialog.auto_run.isChecked() and dialog.findChild(QMessageBox) is None
    assert dialog.settings().auto_run is True


def test_a_bad_api_base_keeps_ok_disabled(qtbot: QtBot, config: Path) -> None:
    dialog = open_dialog(qtbot, AppSettings(model="llama3"))
    error = child(dialog, QLabel, "api_base_error")
    assert isinstance(error, QLabel) and not error.isVisible() and dialog.ok_button.isEnabled()
    for bad in ("localhost:11434/v1", "ftp://example.com", "http://"):
        replace_text(qtbot, dialog.api_base, bad)
        assert not dialog.ok_button.isEnabled(), bad
        assert error.isVisible() and "http://" in error.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # a disabled OK does nothing
    replace_text(qtbot, dialog.api_base, "https://api.example.com/v1")
    assert dialog.ok_button.isEnabled() and not error.isVisible()
    replace_text(qtbot, dialog.api_base, "")
    assert dialog.ok_button.isEnabled() and dialog.settings().api_base is None


def test_push_to_talk_takes_one_plain_key(qtbot: QtBot, config: Path) -> None:
    dialog = open_dialog(qtbot, AppSettings(model="local"))
    hotkey = dialog.push_to_talk
    hotkey.clear()
    assert not dialog.ok_button.isEnabled()  # no key at all
    qtbot.keyClick(hotkey, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.ok_button.isEnabled() and "without Ctrl" in dialog.push_to_talk_error.text()
    hotkey.clear()
    qtbot.keyClick(hotkey, Qt.Key.Key_Pause)
    assert dialog.ok_button.isEnabled() and dialog.settings().push_to_talk == "Pause"


def test_clearing_the_key_field_removes_the_stored_key(qtbot: QtBot, config: Path) -> None:
    save_app_settings(replace(load_app_settings("voice"), api_key="sk-old"))
    dialog = open_dialog(qtbot, load_app_settings("voice"))
    assert dialog.api_key.text() == "sk-old"
    replace_text(qtbot, dialog.api_key, "")
    assert dialog.settings().api_key == ""
    save_app_settings(dialog.settings())
    assert load_app_settings("voice").api_key is None


def test_picking_a_profile_shows_its_settings(qtbot: QtBot, config: Path) -> None:
    save_app_settings(AppSettings(profile="work", model="gpt-4o", language="fr", api_key="sk-work"))
    dialog = open_dialog(qtbot, load_app_settings("voice"))
    pick(qtbot, dialog.profile, "work")
    assert dialog.model.currentText() == "gpt-4o" and dialog.language.currentText() == "fr"
    assert dialog.api_key.text() == "" and "keep the key stored for work" in dialog.api_key.placeholderText()
    edited = dialog.settings()
    assert edited.profile == "work" and edited.api_key is None  # None: the stored key stays
    save_app_settings(edited)
    assert load_app_settings("work").api_key == "sk-work"


def test_a_broken_profile_is_named_and_blocks_ok(qtbot: QtBot, config: Path) -> None:
    load_app_settings("voice")
    (config / "profiles" / "broken.yaml").write_text("voice:\n  tts_rate: fast\n")
    dialog = open_dialog(qtbot, load_app_settings("voice"))
    pick(qtbot, dialog.profile, "broken")
    assert dialog.profile_error.isVisible() and "broken.yaml" in dialog.profile_error.text()
    assert not dialog.ok_button.isEnabled()
    pick(qtbot, dialog.profile, "voice")
    assert dialog.ok_button.isEnabled() and not dialog.profile_error.isVisible()


def test_browse_for_a_speech_model_folder(qtbot: QtBot, config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "whisper-model"
    folder.mkdir()
    dialog = open_dialog(qtbot, AppSettings(model="local"))
    seen: list[QWidget] = []

    def choose(modal: QWidget) -> None:
        assert isinstance(modal, QFileDialog)
        assert modal.directory().absolutePath() == str(Path.home())  # not the size name "tiny.en"
        modal.setDirectory(str(folder))
        modal.accept()

    answer_modal(QFileDialog, choose, seen)
    qtbot.mouseClick(dialog.stt_browse, Qt.MouseButton.LeftButton)
    assert len(seen) == 1
    assert Path(dialog.stt_model.currentText()) == folder
    assert dialog.settings().stt_model == str(folder)


def test_always_also_runs_the_medium_kinds_ticked_and_says_what_that_means(qtbot: QtBot, config: Path) -> None:
    from PySide6.QtWidgets import QListWidget

    from oi_voice.core.risk import KINDS

    dialog = open_dialog(qtbot, load_app_settings("voice"))
    kinds = child(dialog, QListWidget, "always_medium")
    assert isinstance(kinds, QListWidget) and kinds.count() == len(KINDS)
    warning = child(dialog, QLabel, "always_medium_warning")
    assert isinstance(warning, QLabel) and "High-risk code" in warning.text() and "always asks" in warning.text()
    assert dialog.settings().always_medium == []  # nothing ticked by default
    for row in range(kinds.count()):
        item = kinds.item(row)
        if item.data(Qt.ItemDataRole.UserRole) in ("writes_files", "network"):
            kinds.setFocus()
            kinds.setCurrentItem(item)
            qtbot.keyClick(kinds.viewport(), Qt.Key.Key_Space)  # ticks the focused row
            assert item.checkState() == Qt.CheckState.Checked
    chosen = dialog.settings()
    assert sorted(chosen.always_medium) == ["network", "writes_files"]
    save_app_settings(chosen)
    assert sorted(load_app_settings("voice").always_medium) == ["network", "writes_files"]
    again = open_dialog(qtbot, load_app_settings("voice"))
    assert sorted(again.settings().always_medium) == ["network", "writes_files"]


def test_speech_engine_and_a_piper_voice_per_language(qtbot: QtBot, config: Path, tmp_path: Path) -> None:
    voice = tmp_path / "de_DE-thorsten-medium.onnx"
    saved = AppSettings(model="local", language="de", piper_voices={"ko": "/voices/ko"})
    dialog = open_dialog(qtbot, saved)
    engine = child(dialog, QComboBox, "tts_engine")
    assert isinstance(engine, QComboBox) and engine.currentData() == "auto"
    pick(qtbot, engine, "Piper")
    piper = child(dialog, QLineEdit, "piper_voice")
    assert isinstance(piper, QLineEdit) and piper.text() == ""  # no voice set for German yet
    qtbot.keyClicks(piper, str(voice))
    edited = dialog.settings()
    # The voice is for the spoken language; another language's voice is kept.
    assert (edited.tts_engine, edited.piper_voices) == ("piper", {"ko": "/voices/ko", "de": str(voice)})
    save_app_settings(edited)
    again = load_app_settings("voice")
    assert (again.tts_engine, again.piper_voices) == ("piper", {"ko": "/voices/ko", "de": str(voice)})
    shown = open_dialog(qtbot, again)
    assert shown.piper_voice.text() == str(voice) and shown.tts_engine.currentText() == "Piper"
    replace_text(qtbot, shown.piper_voice, "")
    assert shown.settings().piper_voices == {"ko": "/voices/ko"}  # cleared: German falls back to pyttsx3


def test_python_for_code_takes_a_folder_and_reset_asks_the_caller(qtbot: QtBot, config: Path,
                                                                   tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, load_app_settings("voice"))
    box = child(dialog, QComboBox, "python_env")
    assert isinstance(box, QComboBox) and box.isEditable()
    assert box.currentText() == "auto"
    assert [box.itemText(i) for i in range(box.count())] == ["auto", "app", "user"]
    reset = child(dialog, QPushButton, "python_env_action")
    assert isinstance(reset, QPushButton) and reset.text() == "Reset…"
    with qtbot.waitSignal(dialog.action_requested, timeout=5_000) as clicked:
        qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    assert clicked.args == ["computer.python_env"]
    box.setEditText(str(tmp_path / "env"))
    dialog.accept()
    assert dialog.settings().python_env == str(tmp_path / "env")
    save_app_settings(dialog.settings())
    assert load_app_settings(dialog.settings().profile).python_env == str(tmp_path / "env")


def test_reset_without_an_environment_of_its_own_says_why(qtbot: QtBot) -> None:
    from oi_voice.ui.bridge import Bridge

    bridge = Bridge()
    notices: list[str] = []
    bridge.notice.connect(notices.append)
    worker = bridge.reset_python("app")  # this program's Python: nothing to reset, nothing removed
    assert worker is not None
    qtbot.waitUntil(lambda: len(notices) == 2, timeout=10_000)
    assert notices[0].startswith("Resetting the Python environment")
    assert "could not be reset" in notices[1] and "own Python" in notices[1]
