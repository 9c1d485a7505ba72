"""The settings dialog: model, API key, profile, speech in and out, keys and behaviour.

The form is derived from the settings schema: every setting with a
:class:`~oi_voice.settings.DialogField` gets a widget named after its
:class:`~oi_voice.app_settings.AppSettings` field, in its group, chosen by its kind (a
check box for a bool, a spin box for a number, a drop-down for suggestions or names
gathered at run time, a key field, a text field). Only the profile picker and the API
key (kept by the key store, not in the profile) are built by hand.

The dialog edits an :class:`~oi_voice.app_settings.AppSettings` and returns the edited copy
from :meth:`SettingsDialog.settings`; the caller saves it. It never lists audio devices,
voices or asks the keyring: the caller gathers those off the Qt thread and passes them in.
Picking another profile shows that profile's saved settings (read from its YAML file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
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
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from oi_voice.app_settings import AppSettings, read_profile_settings
from oi_voice.errors import OIVoiceError
from oi_voice.frontend.approval import auto_run_warning
from oi_voice.frontend.messages import language_of
from oi_voice.settings import (
    API_BASE_EXAMPLE,
    LANGUAGES,
    MODEL_SUGGESTIONS,
    QT_TRANSLATE_NOOP,
    STT_SUGGESTIONS,
    DialogField,
    Setting,
)
from oi_voice.ui.i18n import current, translate

__all__ = ["API_BASE_EXAMPLE", "LANGUAGES", "MODEL_SUGGESTIONS", "STT_SUGGESTIONS", "SettingsDialog",
           "api_base_problem", "push_to_talk_problem"]

log = logging.getLogger("oi_voice.ui")

#: The dialog's group boxes (the schema's DialogField.group), marked for translation.
GROUPS = (QT_TRANSLATE_NOOP("settings", "Model"), QT_TRANSLATE_NOOP("settings", "Voice"),
          QT_TRANSLATE_NOOP("settings", "Behaviour"))


def translated(field: DialogField) -> DialogField:
    """``field`` with its words in the app's language (the schema keeps the English)."""

    def words(text: str) -> str:
        return translate("settings", text) if text else text

    return replace(field, label=words(field.label), tooltip=words(field.tooltip), none_text=words(field.none_text),
                   placeholder=words(field.placeholder), suffix=words(field.suffix),
                   labels=tuple(words(label) for label in field.labels))


def api_base_problem(text: str) -> str | None:
    """Why ``text`` is not a usable server address (None: it is, or it is empty)."""
    text = text.strip()
    if not text:
        return None
    url = QUrl(text, QUrl.ParsingMode.StrictMode)
    if url.scheme() not in ("http", "https") or not url.host() or not url.isValid():
        return translate("SettingsDialog", "The server address must start with http:// or https://, for example "
                                           "%1").replace("%1", API_BASE_EXAMPLE)
    return None


def push_to_talk_problem(sequence: QKeySequence) -> str | None:
    """Why ``sequence`` cannot be the push-to-talk key (None: it can)."""
    if sequence.isEmpty():
        return translate("SettingsDialog", "Press the key to hold while you talk.")
    combined = sequence[0]  # type: ignore[index]  # the stubs miss QKeySequence.__getitem__
    if combined.keyboardModifiers().value:
        return translate("SettingsDialog", "Choose one key without Ctrl, Alt, Shift or Meta: it is held down while "
                                           "you talk.")
    return None


class FieldEditor:
    """One setting's widget: shows a value, gives back the edited one."""

    def __init__(self, setting: Setting, widget: QWidget, row: QWidget | QLayout,
                 show: Callable[[Any], None], read: Callable[[], Any]) -> None:
        self.setting, self.widget, self.row = setting, widget, row
        self.show, self.read = show, read


class SettingsDialog(QDialog):
    """Edit :class:`AppSettings`; :meth:`settings` gives the result once accepted.

    Each field's widget is also an attribute named after the field (``dialog.model``,
    ``dialog.tts_rate`` ...); :attr:`fields` maps field names to their editors.
    """

    #: Emitted after the user confirmed (True) or refused (False) turning auto-run on.
    auto_run_confirmed = Signal(bool)
    #: A field's action button was clicked (the setting's key): the caller does the work, off the Qt thread.
    action_requested = Signal(str)

    def __init__(self, settings: AppSettings, *, profiles: list[str], input_devices: list[str],
                 output_devices: list[str], voices: list[str], key_store: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self._original = settings
        #: The profile whose key the key field shows (another profile's key is not read here).
        self._key_profile = settings.profile
        self._profile_broken = False
        self._filled = settings
        self._options = {"voices": list(voices), "input_devices": list(input_devices),
                         "output_devices": list(output_devices)}
        self._problems: dict[str, tuple[QLabel, Callable[[], str | None]]] = {}

        # -- Profile --
        self.profile = _named(QComboBox(), "profile")
        self.profile.addItems(sorted(set(profiles) | {settings.profile}))
        self.profile_error = self._error_label("profile_error")

        # -- API key: kept by the key store, never in the profile --
        self.api_key = _named(QLineEdit(), "api_key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_key = _named(QToolButton(), "show_key")
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(self._show_key)
        self._key_store_name = key_store
        self.key_store = _named(QLabel(), "key_store")
        self.key_store.setWordWrap(True)
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key, 1)
        key_row.addWidget(self.show_key)

        buttons = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        self.buttons = _named(QDialogButtonBox(buttons), "buttons")
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setObjectName("ok")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setObjectName("cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        top = QFormLayout()
        self.profile_label = QLabel()
        self.profile_label.setBuddy(self.profile)
        top.addRow(self.profile_label, self.profile)
        top.addRow("", self.profile_error)
        layout.addLayout(top)
        #: Field name -> its editor, in the schema's order.
        self.fields: dict[str, FieldEditor] = {}
        forms: dict[str, QFormLayout] = {}
        #: The group boxes by (English) group name, and the field labels by field name.
        self.groups: dict[str, QGroupBox] = {}
        self.labels: dict[str, QLabel] = {}
        for name, setting in type(settings).settings.items():
            assert setting.field is not None
            group = setting.field.group
            if group not in forms:
                box = self.groups[group] = _named(QGroupBox(), f"{group.lower()}_group")
                forms[group] = QFormLayout(box)
                layout.addWidget(box)
            editor = self._editor(name, setting)
            self.fields[name] = editor
            setattr(self, name, editor.widget)
            form = forms[group]
            if isinstance(editor.widget, QCheckBox):
                form.addRow("", editor.row)
            else:
                label = self.labels[name] = QLabel()
                label.setBuddy(editor.widget)
                form.addRow(label, editor.row)
            if name in self._problems:
                form.addRow("", self._problems[name][0])
            if group == "Model" and name == "api_base":
                self.key_label = QLabel()
                self.key_label.setBuddy(self.api_key)
                form.addRow(self.key_label, key_row)
                form.addRow("", self.key_store)
        layout.addWidget(self.buttons)
        self.retranslate()

        self._fill(settings)
        self.api_key.setText(settings.api_key or "")
        self.profile.setCurrentText(settings.profile)
        # Connected after filling: showing saved values must not ask or warn.
        self.profile.currentTextChanged.connect(self._profile_changed)
        # Turning auto-run on asks first (the schema's auto_run, whatever the field is called).
        self._auto_run = next((e for e in self.fields.values() if e.setting.key == "auto_run"), None)
        if self._auto_run is not None and isinstance(self._auto_run.widget, QCheckBox):
            self._auto_run.widget.clicked.connect(self._auto_run_clicked)
        self._validate()

    # -- public --

    def retranslate(self) -> None:
        """Set the texts in the app's language (when built, and on a language switch)."""
        self.setWindowTitle(self.tr("oi-voice settings"))
        self.profile_label.setText(self.tr("&Profile:"))
        self.profile.setToolTip(self.tr("Settings are saved into this profile, and the app uses it."))
        self.show_key.setText(self.tr("Hide") if self.show_key.isChecked() else self.tr("Show"))
        self.key_store.setText(self.tr("Kept in %1, never in the profile file.").replace("%1", self._key_store_name))
        if hasattr(self, "key_label"):
            self.key_label.setText(self.tr("API &key:"))
        for group, box in self.groups.items():
            box.setTitle(translate("settings", group))
        for name, editor in self.fields.items():
            assert editor.setting.field is not None
            field = translated(editor.setting.field)
            if name in self.labels:
                self.labels[name].setText(field.label)
            if field.action:
                getattr(self, f"{name}_action").setText(translate("settings", field.action))
            widget = editor.widget
            if isinstance(widget, QCheckBox):
                widget.setText(field.label)
            if isinstance(widget, QListWidget):
                getattr(self, f"{name}_warning").setText(field.tooltip)
                words = _checklist_options(editor.setting.field.options)
                for row in range(widget.count()):
                    item = widget.item(row)
                    item.setText(words[str(item.data(Qt.ItemDataRole.UserRole))])
            elif field.tooltip:
                widget.setToolTip(field.tooltip)
            if isinstance(widget, QComboBox) and editor.setting.kind == "choice":
                for index, text in enumerate(field.labels[:widget.count()]):
                    widget.setItemText(index, text)
        self._validate()

    def changeEvent(self, event: QEvent) -> None:
        """Follow a language switch."""
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "ok_button"):
            self.retranslate()
        super().changeEvent(event)

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
        values = {name: editor.read() for name, editor in self.fields.items()}
        return type(self._original)(profile=profile, api_key=api_key, **values)

    def confirm_auto_run(self) -> bool:
        """Warn that code will run without asking; True when the user turns auto-run on anyway."""
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Turn on auto-run?"),
                          auto_run_warning(question=True, language=language_of(current())),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("auto_run_warning")
        box.button(QMessageBox.StandardButton.Yes).setText(self.tr("Run without asking"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def browse_folder(self, name: str) -> None:
        """Pick a folder for field ``name`` (a faster-whisper model folder, for the speech model)."""
        box = self.fields[name].widget
        assert isinstance(box, QComboBox)
        current = Path(box.currentText().strip()).expanduser()
        # A size name such as "tiny.en" is no folder: starting there would offer it as the answer.
        start = str(current) if current.is_absolute() and current.is_dir() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a folder"), start,
                                                  QFileDialog.Option.DontUseNativeDialog
                                                  | QFileDialog.Option.ShowDirsOnly)
        if folder:
            box.setEditText(folder)

    # -- the widgets, by kind --

    def _editor(self, name: str, setting: Setting) -> FieldEditor:
        editor = self._value_editor(name, setting)
        assert setting.field is not None
        if not setting.field.action:
            return editor
        # The field's action (Reset… beside "Python for code"): a button that asks the caller.
        button = _named(QPushButton(translate("settings", setting.field.action)), f"{name}_action")
        button.clicked.connect(lambda: self.action_requested.emit(setting.key))
        setattr(self, button.objectName(), button)
        row = QHBoxLayout()
        if isinstance(editor.row, QLayout):
            row.addLayout(editor.row, 1)
        else:
            row.addWidget(editor.row, 1)
        row.addWidget(button)
        editor.row = row
        return editor

    def _value_editor(self, name: str, setting: Setting) -> FieldEditor:
        assert setting.field is not None
        field = translated(setting.field)
        if setting.kind == "bool":
            check = _named(QCheckBox(field.label), name)
            return FieldEditor(setting, check, check, lambda v: check.setChecked(bool(v)), check.isChecked)
        if setting.kind == "int":
            return self._spin_box(name, setting)
        if field.widget == "key":
            keys = _named(QKeySequenceEdit(), name)
            keys.setMaximumSequenceLength(1)
            keys.setClearButtonEnabled(True)
            self._problem(name, lambda: push_to_talk_problem(keys.keySequence()))
            keys.keySequenceChanged.connect(self._validate)
            return FieldEditor(setting, keys, keys, lambda v: keys.setKeySequence(QKeySequence(v or "")),
                               lambda: keys.keySequence().toString(QKeySequence.SequenceFormat.PortableText))
        if setting.kind == "choice":
            return self._choice(name, setting)
        if field.widget == "language_file":
            return self._language_file(name, setting)
        if field.widget == "checklist":
            return self._checklist(name, setting)
        if field.options:
            choices = _named(QComboBox(), name)
            return FieldEditor(setting, choices, choices,
                               lambda v: _set_choices(choices, field.none_text, self._options[field.options], v),
                               lambda: _choice(choices, field.none_text))
        if field.suggestions:
            return self._suggestions(name, setting)
        line = _named(QLineEdit(), name)
        line.setPlaceholderText(field.placeholder)
        line.setToolTip(field.tooltip)
        if setting.key == "llm.api_base":
            self._problem(name, lambda: api_base_problem(line.text()))
            line.textChanged.connect(self._validate)
        return FieldEditor(setting, line, line, lambda v: line.setText(v or ""),
                           lambda: line.text().strip() or (None if setting.optional else ""))

    def _spin_box(self, name: str, setting: Setting) -> FieldEditor:
        assert setting.field is not None
        field = translated(setting.field)
        spin = _named(QSpinBox(), name)
        low = field.minimum if field.minimum is not None else int(setting.minimum or 0)
        high = field.maximum if field.maximum is not None else 1_000_000
        nullable = setting.optional and bool(field.none_text)
        spin.setRange(low - 1 if nullable else low, high)
        if nullable:
            spin.setSpecialValueText(field.none_text)
        spin.setSuffix(field.suffix)

        def show(value: Any) -> None:
            if value is not None and not low <= value <= high:  # a hand-written profile may go further
                spin.setRange(min(low, value) - (1 if nullable else 0), max(high, value))
            spin.setValue(spin.minimum() if value is None else value)

        def read() -> int | None:
            value = spin.value()
            return None if nullable and value < low else value

        return FieldEditor(setting, spin, spin, show, read)

    def _suggestions(self, name: str, setting: Setting) -> FieldEditor:
        """An editable drop-down; an optional setting without a "not set" entry shows None as its first suggestion."""
        assert setting.field is not None
        field = translated(setting.field)
        box = _named(QComboBox(), name)
        box.setEditable(True)
        box.setToolTip(field.tooltip)
        if field.none_text:
            box.addItem(field.none_text)
        box.addItems(field.suggestions)
        stand_in = field.none_text or (field.suggestions[0] if setting.optional else "")

        def read() -> str | None:
            text = box.currentText().strip()
            if not setting.optional:
                return text
            if not text or text == field.none_text:
                return None
            if not field.none_text and text == stand_in and getattr(self._filled, name) is None:
                return None  # the stand-in shown for "not set", left as it was
            return text

        row: QWidget | QLayout = box
        if field.widget == "folder":
            browse = _named(QPushButton(self.tr("Browse…")), "_".join(name.split("_")[:-1] or [name]) + "_browse")
            browse.clicked.connect(lambda: self.browse_folder(name))
            setattr(self, browse.objectName(), browse)
            row = QHBoxLayout()
            row.addWidget(box, 1)
            row.addWidget(browse)
        return FieldEditor(setting, box, row, lambda v: box.setEditText(v or stand_in), read)

    def _choice(self, name: str, setting: Setting) -> FieldEditor:
        """A drop-down of the setting's choices, shown by the field's words for them."""
        assert setting.field is not None
        field = translated(setting.field)
        box = _named(QComboBox(), name)
        box.setToolTip(field.tooltip)
        for index, value in enumerate(setting.choices):
            box.addItem(field.labels[index] if index < len(field.labels) else value, value)

        def show(value: Any) -> None:
            box.setCurrentIndex(max(0, box.findData(value if value is not None else setting.default)))

        return FieldEditor(setting, box, box, show, lambda: box.currentData())

    def _language_file(self, name: str, setting: Setting) -> FieldEditor:
        """A file for the spoken language (the Language field's), kept in a dict by language code.

        Other languages' entries are kept as they were; an empty box removes the spoken language's.
        """
        assert setting.field is not None
        field = translated(setting.field)
        line = _named(QLineEdit(), name.rstrip("s"))
        line.setPlaceholderText(field.placeholder)
        line.setToolTip(field.tooltip)
        setattr(self, line.objectName(), line)
        browse = _named(QPushButton(self.tr("Browse…")), f"{line.objectName().split('_')[0]}_browse")
        browse.clicked.connect(lambda: self.browse_file(line))
        setattr(self, browse.objectName(), browse)
        row = QHBoxLayout()
        row.addWidget(line, 1)
        row.addWidget(browse)
        shown: dict[str, str] = {}

        def show(value: Any) -> None:
            shown.clear()
            shown.update(value or {})
            line.setText(shown.get(self._spoken_language(), ""))

        def read() -> dict[str, str]:
            voices = dict(shown)
            language = self._spoken_language()
            if line.text().strip():
                voices[language] = line.text().strip()
            else:
                voices.pop(language, None)
            return voices

        return FieldEditor(setting, line, row, show, read)

    def _spoken_language(self) -> str:
        """The language code the Language field says (not set or detect: English)."""
        editor = self.fields.get("language")
        language = editor.read() if editor is not None else self._filled.language
        return _language_code(language if isinstance(language, str) else None)

    def browse_file(self, line: QLineEdit) -> None:
        """Pick a Piper voice file (.onnx; its .onnx.json must be beside it) into ``line``."""
        current = Path(line.text().strip()).expanduser()
        start = str(current.parent if current.is_file() else current if current.is_dir() else Path.home())
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Piper voice"), start,
                                                    self.tr("Piper voices (*.onnx)"),
                                                    options=QFileDialog.Option.DontUseNativeDialog)
        if path:
            line.setText(path)

    def _checklist(self, name: str, setting: Setting) -> FieldEditor:
        """A tick per entry of the field's options (value -> words), with the field's tooltip shown as a warning."""
        assert setting.field is not None
        field = translated(setting.field)
        items = _checklist_options(field.options)
        ticks = _named(QListWidget(), name)
        for value, words in items.items():
            item = QListWidgetItem(words)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setCheckState(Qt.CheckState.Unchecked)
            ticks.addItem(item)
        ticks.setMaximumHeight(ticks.sizeHintForRow(0) * max(1, len(items)) + 6)
        warning = _named(QLabel(field.tooltip), f"{name}_warning")
        warning.setWordWrap(True)
        setattr(self, warning.objectName(), warning)
        row = QVBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(ticks)
        row.addWidget(warning)
        all_items = [ticks.item(i) for i in range(ticks.count())]

        def show(value: Any) -> None:
            chosen = set(value or ())
            for item in all_items:
                ticked = item.data(Qt.ItemDataRole.UserRole) in chosen
                item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

        def read() -> list[str]:
            return [str(item.data(Qt.ItemDataRole.UserRole)) for item in all_items
                    if item.checkState() == Qt.CheckState.Checked]

        return FieldEditor(setting, ticks, row, show, read)

    def _problem(self, name: str, check: Callable[[], str | None]) -> None:
        """Show what ``check`` finds wrong with field ``name`` under it; OK stays off meanwhile."""
        label = self._error_label(f"{name}_error")
        setattr(self, f"{name}_error", label)
        self._problems[name] = (label, check)

    # -- internals --

    def _fill(self, settings: AppSettings) -> None:
        """Show ``settings`` in the widgets (not the key: see :meth:`_profile_changed`)."""
        self._filled = settings
        for name, editor in self.fields.items():
            editor.show(getattr(settings, name))

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
                self._fill(read_profile_settings(name, self._original.schema))
            except (OIVoiceError, OSError) as exc:
                self._profile_broken = True  # saving into a profile that does not load would fail
                self.profile_error.setText(str(exc))
                self.profile_error.show()
            self._key_profile = name
            self.api_key.clear()
            self.api_key.setPlaceholderText(self.tr("Leave empty to keep the key stored for %1").replace("%1", name))
        self._validate()

    def _auto_run_clicked(self, checked: bool) -> None:
        if not checked:
            return
        accepted = self.confirm_auto_run()
        if not accepted and self._auto_run is not None:
            self._auto_run.show(False)
        self.auto_run_confirmed.emit(accepted)

    def _show_key(self, shown: bool) -> None:
        self.api_key.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key.setText(self.tr("Hide") if shown else self.tr("Show"))

    def _validate(self) -> None:
        """Show what is wrong next to its field; OK only when nothing is."""
        broken = self._profile_broken
        for label, check in self._problems.values():
            problem = check()
            label.setText(problem or "")
            label.setVisible(problem is not None)
            broken = broken or problem is not None
        self.ok_button.setEnabled(not broken)

    def _error_label(self, name: str) -> QLabel:
        label = _named(QLabel(), name)
        label.setWordWrap(True)
        label.setStyleSheet("color: #c62828;")
        label.hide()
        return label


W = TypeVar("W", bound=QWidget)


def _language_code(language: str | None) -> str:
    """The key of a per-language dict for a spoken language (unset, detect or auto: English)."""
    if not language or language == "auto":
        return "en"
    return language.replace("_", "-").split("-")[0].lower()


def _checklist_options(options: str) -> dict[str, str]:
    """The entries of a checklist field: value -> what the tick says."""
    if options == "risk_kinds":
        from oi_voice.core.risk import KINDS

        return {kind: translate("SettingsDialog", "Code that %1").replace("%1", translate("risk", words))
                for kind, words in KINDS.items()}
    raise ValueError(f"no checklist options called {options!r}")


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

