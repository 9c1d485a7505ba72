"""``oi-voice``: the desktop app — the composition of window, tray, keys, dialogs and bridge.

Start-up order matters for how fast the app feels: Qt and the window come first and
are painted before anything heavy is imported; then the bridge builds the engine
(kernel starting in the background), opens the microphone and speaker and loads the
speech model on a worker thread, showing its progress in the window's banner.

The model, profile and voice flags are those of ``oi-voice --headless`` (derived from the
settings schema, like ``oi``'s); the settings dialog saves into the user's copy of the profile.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog

from oi_voice.app_settings import (
    AppSettings,
    default_store,
    key_store_description,
    load_app_settings,
    model_configured,
    read_profile_settings,
    save_app_settings,
)
from oi_voice.errors import OIVoiceError
from oi_voice.ui.bridge import Bridge
from oi_voice.ui.hotkey import GlobalHotkey, PushToTalkKeys
from oi_voice.ui.hud import VoiceHud
from oi_voice.ui.i18n import Language, translate
from oi_voice.ui.qtfix import keep_none_alive
from oi_voice.ui.state import AppState
from oi_voice.ui.theme import ThemeManager
from oi_voice.ui.tray import Tray
from oi_voice.ui.window import MainWindow

if TYPE_CHECKING:
    from oi_voice.voice.pipeline import VoiceSession

log = logging.getLogger("oi_voice.ui")

#: The profile the app uses when none is named.
APP_PROFILE = "voice"


def build_parser() -> argparse.ArgumentParser:
    """``oi-voice``'s parser (shared with the headless runner, so ``--help`` needs no Qt)."""
    from oi_voice.frontend.headless import build_parser as voice_parser

    return voice_parser()


def process_age() -> float | None:
    """Seconds since this process started (psutil: any system), for the start-up figure; None if unknown."""
    import psutil

    try:
        return max(0.0, time.time() - psutil.Process().create_time())
    except (psutil.Error, OSError):
        return None


class _FirstPaint(QObject):
    """Logs when the window is first painted: "process start -> window visible"."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Watch for the first paint, then stop watching."""
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            age = process_age()
            log.info("window visible %s after process start", f"{age:.3f} s" if age is not None else "")
        return False


class DesktopApp(QObject):
    """The running app: owns the window, the tray, the keys and the bridge."""

    #: The device and voice lists for the settings dialog, gathered off the Qt thread.
    _choices_ready = Signal(object)
    #: The stored API key (or None), read off the Qt thread: the OS keyring can be slow.
    _key_loaded = Signal(object)

    def __init__(self, args: argparse.Namespace, qapp: QApplication) -> None:
        super().__init__()
        self.args = args
        self.qapp = qapp
        from oi_voice.frontend.config import pick_profile

        self.profile = pick_profile(args, APP_PROFILE)
        # The YAML only: the key store (the OS keyring) is asked after the first paint.
        self.settings = read_profile_settings(self.profile)
        self.theme = ThemeManager(qapp, self.settings.theme)
        # Before any widget exists: each one sets its texts once, in the right language.
        self.language = Language(qapp)
        self.language.set(self.settings.display_language)
        self.bridge = Bridge(self)
        from oi_voice.profiles import list_profiles

        self.window = MainWindow(self.bridge, profiles=list_profiles(), profile=self.profile,
                                 push_to_talk=self.settings.push_to_talk)
        self.window.auto_run_action.blockSignals(True)
        self.window.auto_run_action.setChecked(bool(args.auto_run) or self.settings.auto_run)
        self.window.auto_run_action.blockSignals(False)
        self._first_paint = _FirstPaint(self)
        self.window.installEventFilter(self._first_paint)
        self.tray: Tray | None = None
        self.keys = PushToTalkKeys(self.settings.push_to_talk, self)
        self.keys.pressed.connect(self.bridge.press)
        self.keys.released.connect(self.bridge.release)
        qapp.installEventFilter(self.keys)
        self.hotkey = GlobalHotkey(self.settings.push_to_talk, self)
        self.hotkey.pressed.connect(self.bridge.press)
        self.hotkey.released.connect(self.bridge.release)
        self.theme.changed.connect(self.window.chat.retheme)
        self.hud = VoiceHud(self.settings.push_to_talk)
        self.hud.main_window = self.window
        self.hud.attach(self.bridge.voice_event, self.bridge.state_changed)
        self.hud.stop_requested.connect(self.stop_voice)
        self.hotkey.escape.connect(self._escape)
        self.window.escape_pressed.connect(self._escape)
        self.window.quit_requested.connect(self.quit)
        self.window.settings_requested.connect(self.open_settings)
        self.window.profile_requested.connect(self.switch_profile)
        self.window.local_model_requested.connect(self.use_local_model)
        self.bridge.state_changed.connect(self._state_changed)
        self._choices_ready.connect(self._show_settings)
        self._key_loaded.connect(self._start_or_welcome)

    # -- start-up ------------------------------------------------------------------------

    def show(self) -> None:
        """Show the window (and the tray), then start the heavy work after the first paint."""
        self.window.show()
        if not self.args.no_tray and Tray.available():
            self.tray = Tray(self.window.menu_actions(), self.window)
            self.tray.activated.connect(lambda _reason: self.window.bring_to_front())
            self.tray.show()
            self.window.hide_on_close = True
        QTimer.singleShot(0, self._after_paint)

    def _after_paint(self) -> None:
        if not self.args.no_global_hotkey:
            problem = self.hotkey.start()
            if problem:
                log.info("%s", problem)
                self.window.statusBar().showMessage(problem, 15_000)
        profile = self.settings.profile

        def read_key() -> None:
            try:
                self._key_loaded.emit(default_store().get(profile))
            except (OIVoiceError, OSError) as exc:
                log.warning("the stored API key could not be read: %s", exc)
                self._key_loaded.emit(None)

        threading.Thread(target=read_key, name="oi-voice-key", daemon=True).start()

    def _start_or_welcome(self, key: str | None) -> None:
        if key:
            self.settings = replace(self.settings, api_key=key)
        if self._needs_first_run():
            from oi_voice.llm import local

            self.window.show_first_run(local.what_to_install())
        else:
            self.start_session()

    def _needs_first_run(self) -> bool:
        flags = (self.args.local, self.args.model, self.args.api_base)
        return not any(flags) and not model_configured(self.settings)

    def start_session(self) -> None:
        """Build the engine and the voice session in the background (again, after a change)."""
        self.window.set_starting()
        old = self.bridge.session
        self.bridge.session = None
        args, settings = self.args, self.settings

        def factory(report: Any) -> VoiceSession:
            if old is not None:
                report(translate("DesktopApp", "Restarting with the new settings…"))
                old.close()
                old.interpreter.close()
            return build_session(args, self.profile, settings, report)

        self.bridge.start(factory)

    def use_local_model(self) -> None:
        """First-run choice: the embedded local model."""
        self.settings = replace(self.settings, model="local", api_base=None)
        self._save(self.settings)
        self.window.first_run.hide()
        self.start_session()

    # -- settings and profiles -----------------------------------------------------------

    def open_settings(self) -> None:
        """Gather devices and voices off the Qt thread, then show the settings dialog."""

        def gather() -> None:
            self._choices_ready.emit(settings_choices())

        threading.Thread(target=gather, name="oi-voice-settings", daemon=True).start()

    def _show_settings(self, choices: dict[str, Any]) -> None:
        from oi_voice.profiles import list_profiles
        from oi_voice.ui.settings import SettingsDialog

        dialog = SettingsDialog(self.settings, profiles=list_profiles(), input_devices=choices["inputs"],
                                output_devices=choices["outputs"], voices=choices["voices"],
                                key_store=str(choices["key_store"]), parent=self.window)
        dialog.finished.connect(lambda code: self._settings_done(dialog, code))
        dialog.action_requested.connect(lambda key: self._settings_action(dialog, key))
        dialog.open()

    def _settings_action(self, dialog: Any, key: str) -> None:
        """A field's action button in the settings dialog (Reset… of "Python for code")."""
        if key != "computer.python_env":
            return
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Question, translate("DesktopApp", "Reset the Python environment?"),
                          translate("DesktopApp", "Every package installed into the Python environment that code "
                                                  "runs in is removed, and the environment is made again (about a "
                                                  "minute)."),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, dialog)
        box.setObjectName("reset_python_question")
        box.button(QMessageBox.StandardButton.Yes).setText(translate("DesktopApp", "Reset"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        yes = QMessageBox.StandardButton.Yes
        box.buttonClicked.connect(lambda button: box.standardButton(button) == yes
                                  and self.bridge.reset_python(self.settings.python_env))
        box.open()

    def _settings_done(self, dialog: Any, code: int) -> None:
        if code != QDialog.DialogCode.Accepted:
            return
        new: AppSettings = dialog.settings()
        old, self.settings = self.settings, new
        self._save(new)
        if new.push_to_talk != old.push_to_talk and self.keys.set_key(new.push_to_talk):
            self.hotkey.stop()
            self.hotkey.key_name = new.push_to_talk
            if not self.args.no_global_hotkey:
                self.hotkey.start()
            self.window.push_to_talk = new.push_to_talk
            self.window.retranslate()
            self.hud.push_to_talk = new.push_to_talk
            self.window.chat.set_push_to_talk(new.push_to_talk)
        self.window.auto_run_action.setChecked(new.auto_run)
        session = self.bridge.session
        if new.theme != old.theme:
            self.theme.set_setting(new.theme)
        if new.display_language != old.display_language:
            self.language.set(new.display_language)  # every widget retranslates itself
        live = ("auto_run", "confirm_by_voice", "review_transcripts", "push_to_talk", "theme", "display_language")
        if new.profile != old.profile:
            self.switch_profile(new.profile)
        elif any(getattr(new, f) != getattr(old, f) for f in vars(new) if f not in live):
            self.start_session()
        elif session is not None:
            session.config.confirm_by_voice = new.confirm_by_voice
            session.config.review_transcripts = new.review_transcripts

    def _save(self, settings: AppSettings) -> None:
        try:
            path = save_app_settings(settings)
            self.window.statusBar().showMessage(
                translate("DesktopApp", "Settings saved to %1").replace("%1", str(path)), 8_000)
        except (OIVoiceError, OSError) as exc:
            self.window.chat.add_notice(
                translate("DesktopApp", "The settings could not be saved: %1").replace("%1", str(exc)), "error")

    def switch_profile(self, name: str) -> None:
        """Use profile ``name`` from now on (the engine restarts; the conversation starts anew)."""
        try:
            settings = load_app_settings(name)
        except OIVoiceError as exc:
            self.window.chat.add_notice(translate("DesktopApp", "Profile %1: %2").replace("%1", name)
                                        .replace("%2", str(exc)), "error")
            return
        self.profile, self.settings = name, settings
        self.args.profile, self.args.local, self.args.fast = name, False, False
        self.window.chat.add_notice(translate("DesktopApp", "Switched to the %1 profile.").replace("%1", name))
        self.start_session()

    # -- the voice HUD ---------------------------------------------------------------------

    def _escape(self) -> None:
        # Esc stops the voice only while the HUD shows it; elsewhere Esc is the focused widget's.
        if self.hud.isVisible():
            self.hud.stop()

    def stop_voice(self) -> None:
        """Stop listening (without sending), speaking, the reply and the run."""
        self.bridge.cancel_recording()
        self.bridge.stop()

    # -- state and shutdown ----------------------------------------------------------------

    def _state_changed(self, state: AppState) -> None:
        log.info("state: %s", state.value)
        if self.tray is not None:
            self.tray.show_state(state, self.bridge.tracker.error if state is AppState.ERROR else "")

    def quit(self) -> None:
        """Close the session and the engine (bounded), then leave the event loop."""
        self.window.hide()
        if self.tray is not None:
            self.tray.hide()
        self.hotkey.stop()
        self.hud.hide()
        self.bridge.close(timeout=10.0)
        self.qapp.quit()


def build_session(args: argparse.Namespace, profile: str, settings: AppSettings,
                  report: Any) -> VoiceSession:
    """The Interpreter and voice session for ``args`` (on the start-up thread: it imports and loads)."""
    from oi_voice.frontend.config import configure
    from oi_voice.voice.pipeline import VoiceConfig, VoiceSession

    report(translate("DesktopApp", "Starting the engine…"))
    args = argparse.Namespace(**{**vars(args), "profile": profile})
    configured = configure(args, "oi-voice", default_profile=APP_PROFILE)
    interpreter = configured.interpreter
    if settings.api_key and configured.sources.get("llm.api_key") != "flag":  # the stored key is below a flag only
        interpreter.set("llm.api_key", settings.api_key)
    config = VoiceConfig.from_settings(configured.voice)
    if interpreter.llm.model == "local":
        report(translate("DesktopApp", "Loading the local model…"))
        from oi_voice.llm import local

        local.start(interpreter.llm.local_model)
        # The model reads the system message while the speech model loads and the user speaks.
        system = interpreter.system_prompt(bool(interpreter.llm.supports_functions))
        threading.Thread(target=local.prefill, args=(system,), name="oi-voice-prefill", daemon=True).start()
    return VoiceSession(interpreter, config)


def settings_choices() -> dict[str, Any]:
    """Device names, text-to-speech voices and where keys are kept (blocking: not on the Qt thread)."""
    choices: dict[str, Any] = {"inputs": [], "outputs": [], "voices": [], "key_store": key_store_description()}
    try:
        from oi_voice.voice.capture import list_devices

        devices = list_devices()
        choices["inputs"] = [d.name for d in devices if d.inputs > 0]
        choices["outputs"] = [d.name for d in devices if d.outputs > 0]
    except (OIVoiceError, OSError, ImportError) as exc:
        log.warning("no audio devices listed: %s", exc)
    try:
        from oi_voice.voice.tts_pyttsx3 import Pyttsx3Synthesizer

        synthesizer = Pyttsx3Synthesizer()  # the system voices (Piper voices are files, chosen by path)
        synthesizer.wait_ready(10.0)
        choices["voices"] = sorted({v.name for v in synthesizer.voices()})
    except (OIVoiceError, OSError, ImportError) as exc:
        log.warning("no voices listed: %s", exc)
    return choices


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app; returns its exit code."""
    args = build_parser().parse_args(argv)
    from oi_voice.frontend.runtime import setup_logging

    setup_logging(bool(args.verbose), prefix="oi-voice: ", log_file=args.log_file, propagate=False)
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
            and os.environ.get("QT_QPA_PLATFORM", "") not in ("offscreen", "minimal"):
        print("oi-voice: no display (DISPLAY and WAYLAND_DISPLAY are unset): use `oi` for the terminal chat "
              "or `oi-voice --headless`", file=sys.stderr)
        return 2
    keep_none_alive()
    from oi_voice.voice.memory import trim_freed_memory_early

    trim_freed_memory_early()  # the app idles for hours with the speech models loaded
    qapp = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("oi-voice")
    qapp.setQuitOnLastWindowClosed(False)
    started = time.monotonic()
    try:
        app = DesktopApp(args, qapp)
    except OIVoiceError as exc:
        print(f"oi-voice: {exc}", file=sys.stderr)
        return 2
    app.show()
    log.debug("window built in %.3f s", time.monotonic() - started)
    return int(qapp.exec())

