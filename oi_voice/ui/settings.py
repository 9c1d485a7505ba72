"""The settings dialog: model, API key, profile, speech in and out, keys and behaviour.

The dialog edits an :class:`~oi_voice.app_settings.AppSettings` and returns the edited copy
from :meth:`SettingsDialog.settings`; the caller saves it. It never lists audio devices,
voices or asks the keyring: the caller gathers those off the Qt thread and passes them in.
Picking another profile shows that profile's saved settings (read from its YAML file).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from oi_voice.app_settings import AppSettings, read_profile_settings
from oi_voice.errors import OIVoiceError

log = logging.getLogger("oi_voice.ui")

#: Models offered in the model box (any litellm model name can be typed).
MODEL_SUGGESTIONS = ("local", "gpt-4o-mini", "gpt-4o", "ollama/llama3.1", "anthropic/claude-3-5-haiku-latest")
#: Speech models offered (a model folder can be browsed for): the first means "follows the
#: language" (tiny.en for English, the packaged multilingual base otherwise).
STT_SUGGESTIONS = ("(follows the language)", "tiny.en", "base", "base.en", "small.en")
#: Spoken languages offered (any Whisper language code can be typed); auto detects among en, zh, ko.
LANGUAGES = ("en", "zh", "ko", "auto", "de", "es", "fr", "it", "nl", "pt", "pl", "ja")
#: The API base shown as an example.
API_BASE_EXAMPLE = "http://localhost:11434/v1"
#: The entry that means "no setting" in the device, voice and language boxes.
SYSTEM_DEFAULT = "(system default)"
DEFAULT = "(default)"
#: The language box's entry for "unset": the system locale's language.
SYSTEM_LANGUAGE = "(system language)"
#: The speech rate box's range; one below the minimum shows DEFAULT and means None.
RATE_MIN, RATE_MAX = 80, 400

AUTO_RUN_WARNING = ("Code will run without asking: whatever the model writes runs on this computer at once, "
                    "with your permissions.\n\nTurn on auto-run?")


def api_base_problem(text: str) -> str | None:
    """Why ``text`` is not a usable server address (None: it is, or it is empty)."""
    text = text.strip()
    if not text:
        return None
    url = QUrl(text, QUrl.ParsingMode.StrictMode)
    if url.scheme() not in ("http", "https") or not url.host() or not url.isValid():
        return f"The server address must start with http:// or https://, for example {API_BASE_EXAMPLE}"
    return None


def push_to_talk_problem(sequence: QKeySequence) -> str | None:
    """Why ``sequence`` cannot be the push-to-talk key (None: it can)."""
    if sequence.isEmpty():
        return "Press the key to hold while you talk."
    combined = sequence[0]  # type: ignore[index]  # the stubs miss QKeySequence.__getitem__
    if combined.keyboardModifiers().value:
        return "Choose one key without Ctrl, Alt, Shift or Meta: it is held down while you talk."
    return None


class SettingsDialog(QDialog):
    """Edit :class:`AppSettings`; :meth:`settings` gives the result once accepted."""

    #: Emitted after the user confirmed (True) or refused (False) turning auto-run on.
    auto_run_confirmed = Signal(bool)

    def __init__(self, settings: AppSettings, *, profiles: list[str], input_devices: list[str],
                 output_devices: list[str], voices: list[str], key_store: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("oi-voice settings")
        self.setObjectName("settings_dialog")
        self._original = settings
        #: The profile whose key the key field shows (another profile's key is not read here).
        self._key_profile = settings.profile
        self._profile_broken = False
        self._filled = settings
        self._voices, self._inputs, self._outputs = list(voices), list(input_devices), list(output_devices)

        # -- Profile --
        self.profile = _named(QComboBox(), "profile")
        self.profile.addItems(sorted(set(profiles) | {settings.profile}))
        self.profile.setToolTip("Settings are saved into this profile, and the app uses it.")
        self.profile_error = self._error_label("profile_error")

        # -- Model --
        self.model = _named(QComboBox(), "model")
        self.model.setEditable(True)
        self.model.addItems(MODEL_SUGGESTIONS)
        self.model.setToolTip('A litellm model name; "local" runs the bundled model on this computer.')
        self.api_base = _named(QLineEdit(), "api_base")
        self.api_base.setPlaceholderText(API_BASE_EXAMPLE)
        self.api_base.setToolTip("An OpenAI-compatible server (Ollama, LM Studio, llama.cpp); empty: the provider's.")
        self.api_base_error = self._error_label("api_base_error")
        self.api_key = _named(QLineEdit(), "api_key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_key = _named(QToolButton(), "show_key")
        self.show_key.setText("Show")
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(self._show_key)
        self.key_store = _named(QLabel(f"Kept in {key_store}, never in the profile file."), "key_store")
        self.key_store.setWordWrap(True)
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.show_key)

        # -- Voice --
        self.stt_model = _named(QComboBox(), "stt_model")
        self.stt_model.setEditable(True)
        self.stt_model.addItems(STT_SUGGESTIONS)
        self.stt_model.setToolTip("A faster-whisper size, or a folder holding a CTranslate2 Whisper model.")
        self.stt_browse = _named(QPushButton("Browse…"), "stt_browse")
        self.stt_browse.clicked.connect(self.browse_stt_model)
        stt_row = QHBoxLayout()
        stt_row.addWidget(self.stt_model, 1)
        stt_row.addWidget(self.stt_browse)
        self.language = _named(QComboBox(), "language")
        self.language.setEditable(True)
        self.language.addItems((SYSTEM_LANGUAGE, *LANGUAGES))
        self.tts_voice = _named(QComboBox(), "tts_voice")
        self.tts_rate = _named(QSpinBox(), "tts_rate")
        self.tts_rate.setRange(RATE_MIN - 1, RATE_MAX)
        self.tts_rate.setSpecialValueText(DEFAULT)
        self.tts_rate.setSuffix(" words/min")
        self.input_device = _named(QComboBox(), "input_device")
        self.output_device = _named(QComboBox(), "output_device")

        # -- Behaviour --
        self.push_to_talk = _named(QKeySequenceEdit(), "push_to_talk")
        self.push_to_talk.setMaximumSequenceLength(1)
        self.push_to_talk.setClearButtonEnabled(True)
        self.push_to_talk_error = self._error_label("push_to_talk_error")
        self.confirm_by_voice = _named(QCheckBox("Say what will run and listen for yes or no"), "confirm_by_voice")
        self.review_transcripts = _named(QCheckBox("Let me edit what I said before it is sent"),
                                         "review_transcripts")
        self.auto_run = _named(QCheckBox("Run code without asking"), "auto_run")

        buttons = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        self.buttons = _named(QDialogButtonBox(buttons), "buttons")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("ok")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setObjectName("cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("&Profile:", self.profile)
        top.addRow("", self.profile_error)
        layout.addLayout(top)
        model_box = _named(QGroupBox("Model"), "model_group")
        form = QFormLayout(model_box)
        form.addRow("&Model:", self.model)
        form.addRow("API &base:", self.api_base)
        form.addRow("", self.api_base_error)
        key_label = QLabel("API &key:")
        key_label.setBuddy(self.api_key)
        form.addRow(key_label, key_row)
        form.addRow("", self.key_store)
        layout.addWidget(model_box)
        voice_box = _named(QGroupBox("Voice"), "voice_group")
        form = QFormLayout(voice_box)
        stt_label = QLabel("&Speech model:")
        stt_label.setBuddy(self.stt_model)
        form.addRow(stt_label, stt_row)
        form.addRow("&Language:", self.language)
        form.addRow("&Voice:", self.tts_voice)
        form.addRow("&Rate:", self.tts_rate)
        form.addRow("&Microphone:", self.input_device)
        form.addRow("Spea&ker:", self.output_device)
        layout.addWidget(voice_box)
        behaviour_box = _named(QGroupBox("Behaviour"), "behaviour_group")
        form = QFormLayout(behaviour_box)
        form.addRow("Push to &talk:", self.push_to_talk)
        form.addRow("", self.push_to_talk_error)
        form.addRow("", self.confirm_by_voice)
        form.addRow("", self.review_transcripts)
        form.addRow("", self.auto_run)
        layout.addWidget(behaviour_box)
        layout.addWidget(self.buttons)

        self._fill(settings)
        self.api_key.setText(settings.api_key or "")
        self.profile.setCurrentText(settings.profile)
        # Connected after filling: showing saved values must not ask or warn.
        self.profile.currentTextChanged.connect(self._profile_changed)
        self.api_base.textChanged.connect(self._validate)
        self.push_to_talk.keySequenceChanged.connect(self._validate)
        self.auto_run.clicked.connect(self._auto_run_clicked)
        self._validate()

    # -- public --

    def settings(self) -> AppSettings:
        """The settings as edited (``api_key``: None keeps the stored key, "" removes it)."""
        profile = self.profile.currentText()
        key = self.api_key.text().strip()
        api_key: str | None
        if key:
            api_key = key
        elif profile == self._key_profile and self._original.api_key and profile == self._original.profile:
            api_key = ""  # the user cleared the key that was shown
        else:
            api_key = None  # nothing was shown, or another profile's key was never read: keep it
        stt = self.stt_model.currentText().strip()
        language = self.language.currentText().strip()
        rate = self.tts_rate.value()
        return AppSettings(
            profile=profile,
            model=self.model.currentText().strip(),
            api_base=self.api_base.text().strip() or None,
            api_key=api_key,
            stt_model=None if stt in ("", STT_SUGGESTIONS[0]) else stt,
            language=None if language in ("", SYSTEM_LANGUAGE) else language,
            tts_voice=_choice(self.tts_voice, DEFAULT),
            tts_rate=None if rate < RATE_MIN else rate,
            input_device=_choice(self.input_device, SYSTEM_DEFAULT),
            output_device=_choice(self.output_device, SYSTEM_DEFAULT),
            push_to_talk=self.push_to_talk.keySequence().toString(QKeySequence.SequenceFormat.PortableText),
            confirm_by_voice=self.confirm_by_voice.isChecked(),
            auto_run=self.auto_run.isChecked(),
            review_transcripts=self.review_transcripts.isChecked(),
        )

    def confirm_auto_run(self) -> bool:
        """Warn that code will run without asking; True when the user turns auto-run on anyway."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Turn on auto-run?", AUTO_RUN_WARNING,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("auto_run_warning")
        box.button(QMessageBox.StandardButton.Yes).setText("Run without asking")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def browse_stt_model(self) -> None:
        """Pick a folder holding a faster-whisper (CTranslate2) model."""
        current = Path(self.stt_model.currentText().strip()).expanduser()
        # A size name such as "tiny.en" is no folder: starting there would offer it as the answer.
        start = str(current) if current.is_absolute() and current.is_dir() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Speech model folder", start,
                                                  QFileDialog.Option.DontUseNativeDialog
                                                  | QFileDialog.Option.ShowDirsOnly)
        if folder:
            self.stt_model.setEditText(folder)

    # -- internals --

    def _fill(self, settings: AppSettings) -> None:
        """Show ``settings`` in the widgets (not the key: see :meth:`_profile_changed`)."""
        self._filled = settings
        self.model.setEditText(settings.model)
        self.api_base.setText(settings.api_base or "")
        self.stt_model.setEditText(settings.stt_model or STT_SUGGESTIONS[0])
        self.language.setEditText(settings.language or SYSTEM_LANGUAGE)
        _set_choices(self.tts_voice, DEFAULT, self._voices, settings.tts_voice)
        rate = settings.tts_rate
        if rate is not None and not RATE_MIN <= rate <= RATE_MAX:  # a hand-written profile may go further
            self.tts_rate.setRange(min(RATE_MIN, rate) - 1, max(RATE_MAX, rate))
        self.tts_rate.setValue(self.tts_rate.minimum() if rate is None else rate)
        _set_choices(self.input_device, SYSTEM_DEFAULT, self._inputs, settings.input_device)
        _set_choices(self.output_device, SYSTEM_DEFAULT, self._outputs, settings.output_device)
        self.push_to_talk.setKeySequence(QKeySequence(settings.push_to_talk))
        self.confirm_by_voice.setChecked(settings.confirm_by_voice)
        self.review_transcripts.setChecked(settings.review_transcripts)
        self.auto_run.setChecked(settings.auto_run)

    def _profile_changed(self, name: str) -> None:
        """Show the saved settings of the profile picked (its YAML: quick, no keyring)."""
        self._profile_broken = False
        self.profile_error.hide()
        if name == self._original.profile:
            self._fill(self._original)
            self._key_profile = name
            self.api_key.setText(self._original.api_key or "")
            self.api_key.setPlaceholderText("")
        else:
            try:
                self._fill(read_profile_settings(name))
            except (OIVoiceError, OSError) as exc:
                self._profile_broken = True  # saving into a profile that does not load would fail
                self.profile_error.setText(str(exc))
                self.profile_error.show()
            self._key_profile = name
            self.api_key.clear()
            self.api_key.setPlaceholderText(f"Leave empty to keep the key stored for {name}")
        self._validate()

    def _auto_run_clicked(self, checked: bool) -> None:
        if not checked:
            return
        accepted = self.confirm_auto_run()
        if not accepted:
            self.auto_run.setChecked(False)
        self.auto_run_confirmed.emit(accepted)

    def _show_key(self, shown: bool) -> None:
        self.api_key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setText("Hide" if shown else "Show")

    def _validate(self) -> None:
        """Show what is wrong next to its field; OK only when nothing is."""
        problems = {self.api_base_error: api_base_problem(self.api_base.text()),
                    self.push_to_talk_error: push_to_talk_problem(self.push_to_talk.keySequence())}
        for label, problem in problems.items():
            label.setText(problem or "")
            label.setVisible(problem is not None)
        broken = any(problems.values()) or self._profile_broken
        self.ok_button.setEnabled(not broken)

    def _error_label(self, name: str) -> QLabel:
        label = _named(QLabel(), name)
        label.setWordWrap(True)
        label.setStyleSheet("color: #c62828;")
        label.hide()
        return label


W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    """``widget`` with its objectName set (tests and the end-to-end run find widgets by name)."""
    widget.setObjectName(name)
    return widget


def _set_choices(box: QComboBox, none_text: str, names: list[str], current: str | None) -> None:
    """Fill ``box`` with ``none_text`` (meaning None) and ``names``, and select ``current``."""
    box.clear()
    box.addItem(none_text)
    items = list(names)
    if current and current not in items:
        items.append(current)  # a saved choice that is not there now (unplugged) must not be lost
    box.addItems(items)
    box.setCurrentIndex(0 if not current else items.index(current) + 1)


def _choice(box: QComboBox, none_text: str) -> str | None:
    text = box.currentText()
    return None if box.currentIndex() <= 0 or text == none_text else text

