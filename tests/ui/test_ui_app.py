"""The whole app in-process (offscreen): first run, settings, menus, auto-run, quit.

``DesktopApp`` is built exactly as ``oi-voice`` builds it, on the test's QApplication,
against the scripted model server and a private config folder. Modal dialogs are
answered from inside their own event loop; everything else waits on signals.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from scripted_llm import ScriptedLLM, text

from oi_voice.ui.app import DesktopApp, build_parser
from oi_voice.voice import events as ev

READY = 120_000


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config folder, no OS keyring and no API key in the environment: a first run."""
    folder = tmp_path / "config"
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in ("OPENAI_API_KEY", "OI_VOICE_API_KEY", "OI_VOICE_MODEL", "OI_VOICE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def make(qtbot: QtBot, qapp: QApplication) -> Iterator[Callable[..., DesktopApp]]:
    made: list[DesktopApp] = []

    def build(*argv: str) -> DesktopApp:
        app = DesktopApp(build_parser().parse_args(["--no-tray", "--no-global-hotkey", *argv]), qapp)
        qtbot.addWidget(app.window)
        app.show()
        made.append(app)
        return app

    yield build
    for app in made:
        app.bridge.close(timeout=30)


def answer_modal(kind: type, answer: Callable[[QWidget], None]) -> list[QWidget]:
    """Answer the next modal ``kind`` from inside its own event loop (queued before it opens)."""
    seen: list[QWidget] = []

    def attempt(tries: int = 0) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, kind) and modal.isVisible():
            seen.append(modal)
            answer(modal)
        elif tries < 1000:  # not up yet: look again on the loop's next pass
            QTimer.singleShot(0, lambda: attempt(tries + 1))

    QTimer.singleShot(0, attempt)
    return seen


def test_first_run_then_settings_start_the_engine_and_are_saved(
        make: Callable[..., DesktopApp], qtbot: QtBot, config: Path, llm_server: ScriptedLLM) -> None:
    app = make()
    qtbot.waitUntil(lambda: not app.window.first_run.isHidden(), timeout=30_000)
    assert app.bridge.session is None  # nothing starts without a usable model
    assert "local model" in app.window.use_local.text()
    app.window.settings_action.trigger()
    qtbot.waitUntil(lambda: app.window.findChild(QDialog, "settings_dialog") is not None, timeout=30_000)
    dialog = app.window.findChild(QDialog, "settings_dialog")
    assert dialog is not None
    model = dialog.findChild(QWidget, "model")
    api_base = dialog.findChild(QLineEdit, "api_base")
    api_key = dialog.findChild(QLineEdit, "api_key")
    assert model is not None and api_base is not None and api_key is not None
    model.lineEdit().setText("scripted-model")  # type: ignore[attr-defined]
    api_base.setText(llm_server.url)
    api_key.setText("sk-from-the-dialog")
    with qtbot.waitSignal(app.bridge.ready, timeout=READY):
        dialog.accept()
    saved = yaml.safe_load((config / "profiles" / "voice.yaml").read_text())
    assert saved["llm"]["model"] == "scripted-model" and saved["llm"]["api_base"] == llm_server.url
    assert "sk-from-the-dialog" not in (config / "profiles" / "voice.yaml").read_text()
    assert "sk-from-the-dialog" in (config / "secrets.json").read_text()
    assert app.window.first_run.isHidden()
    interpreter = app.bridge.interpreter
    assert interpreter is not None and interpreter.llm.api_key == "sk-from-the-dialog"
    llm_server.add(text("Configured and talking."))
    finished: list[ev.TurnFinished] = []
    app.bridge.voice_event.connect(lambda e: finished.append(e) if isinstance(e, ev.TurnFinished) else None)
    app.window.send("hello")
    qtbot.waitUntil(lambda: bool(finished), timeout=READY)
    assert finished[0].reply == "Configured and talking."
    assert llm_server.headers[0]["authorization"] == "Bearer sk-from-the-dialog"


def test_menus_auto_run_warning_mute_and_quit(make: Callable[..., DesktopApp], qtbot: QtBot, config: Path,
                                              llm_server: ScriptedLLM) -> None:
    app = make("-m", "scripted-model", "-ab", llm_server.url, "-ak", "sk-test")
    with qtbot.waitSignal(app.bridge.ready, timeout=READY):
        pass
    names = [a.objectName() for a in app.window.menu_actions() if a is not None]
    for wanted in ("show", "talk", "stop", "mute", "auto-run", "settings", "quit"):
        assert wanted in names
    assert {a.text() for a in app.window.profile_actions} >= {"default", "voice", "local", "fast"}
    interpreter = app.bridge.interpreter
    assert interpreter is not None and not interpreter.auto_run

    def refuse(box: QWidget) -> None:
        assert isinstance(box, QMessageBox) and "without asking" in box.text()
        box.button(QMessageBox.StandardButton.No).click()

    seen = answer_modal(QMessageBox, refuse)
    app.window.auto_run_action.trigger()
    assert seen and not app.window.auto_run_action.isChecked() and not interpreter.auto_run

    seen = answer_modal(QMessageBox, lambda box: box.button(QMessageBox.StandardButton.Yes).click())  # type: ignore[attr-defined]
    app.window.auto_run_action.trigger()
    assert seen and app.window.auto_run_action.isChecked() and interpreter.auto_run
    app.window.auto_run_action.trigger()  # off: no question
    assert not interpreter.auto_run

    session = app.bridge.session
    assert session is not None and session.config.speak_replies
    app.window.mute_action.trigger()
    assert not session.config.speak_replies
    app.window.mute_action.trigger()
    assert session.config.speak_replies

    with qtbot.waitSignal(app.window.quit_requested, timeout=5000):
        app.window.quit_action.trigger()
    assert app.bridge.session is None and not app.window.isVisible()


@pytest.fixture
def no_local_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This Python as the app's package is without the model's: the six model packages are
    unimportable (None in sys.modules), no system model folder, an empty cache."""
    from oi_voice.llm import local

    for name in local.PART_PACKAGES:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setenv("OI_VOICE_MODEL_DIRS", "")
    monkeypatch.setenv("OI_VOICE_CACHE_DIR", str(tmp_path / "cache"))


def test_first_run_offers_the_local_model_when_it_is_installed(make: Callable[..., DesktopApp], qtbot: QtBot,
                                                               config: Path) -> None:
    app = make()
    qtbot.waitUntil(lambda: not app.window.first_run.isHidden(), timeout=30_000)
    assert app.window.use_local.isVisibleTo(app.window)
    assert "no account" in app.window.first_run_label.text()
    qtbot.waitUntil(app.window.use_local.hasFocus, timeout=10_000)  # Enter or Space takes the offer


def test_without_the_local_model_the_first_run_says_what_to_install(
        make: Callable[..., DesktopApp], qtbot: QtBot, config: Path, no_local_model: None) -> None:
    app = make()
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    qtbot.waitUntil(lambda: not app.window.first_run.isHidden(), timeout=30_000)
    assert not app.window.use_local.isVisibleTo(app.window)  # nothing is offered that cannot start
    said = app.window.first_run_label.text()
    assert "install the local model (pip install 'oi-voice[local]')" in said
    assert said.count(". ") == 0 and said.endswith(".")  # one sentence
    app.bridge.press()  # the talk key before any model is set up
    assert notices == ["No language model is set up yet: choose one first."]


def test_a_failed_start_is_never_still_starting(make: Callable[..., DesktopApp], qtbot: QtBot, config: Path,
                                                no_local_model: None) -> None:
    app = make("--local")
    notices: list[str] = []
    app.bridge.notice.connect(notices.append)
    with qtbot.waitSignal(app.bridge.failed, timeout=READY) as failed:
        pass
    assert failed.args == ["the local model is not installed: pip install 'oi-voice[local]'"]
    assert "Could not start: the local model is not installed" in app.window.banner.text()
    app.bridge.press()
    app.window.send("hello")
    assert notices and all(n.startswith("Not started: the local model is not installed") for n in notices), notices
    assert not any("Still starting" in n for n in notices)
