"""The app in Chinese and Korean: complete translations, and a language switch at run time.

The switch goes the user's way: the Settings dialog's "Display language" changed and
accepted on the real ``DesktopApp`` (offscreen, on the first-run screen: no engine). The
window, the tray's menu and tooltip and an open settings dialog must then show no English
in a list of known widgets, and all of it must come back in English.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QGroupBox, QLabel, QListWidget
from pytestqt.qtbot import QtBot

from oi_voice.app_settings import load_app_settings
from oi_voice.ui.app import DesktopApp, build_parser
from oi_voice.ui.i18n import LANGUAGES, TRANSLATIONS, resolve
from oi_voice.ui.settings import SettingsDialog
from oi_voice.ui.tray import Tray

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: What the .ts files are made from (the Makefile's I18N_SOURCES).
SOURCES = [ROOT / "oi_voice" / "settings.py", ROOT / "oi_voice" / "core" / "effects.py",
           *sorted((ROOT / "oi_voice" / "ui").glob("*.py"))]
#: A letter of each language's script: every translated text shows at least one.
SCRIPT = {"zh_CN": re.compile(r"[\u4e00-\u9fff]"), "ko_KR": re.compile(r"[\uac00-\ud7a3]")}


def tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture(scope="module")
def compiled() -> None:
    """The .qm files `make` builds, built here too when missing or older than their .ts."""
    for language in LANGUAGES:
        ts = TRANSLATIONS / f"oi_voice_{language}.ts"
        qm = ts.with_suffix(".qm")
        if not qm.exists() or qm.stat().st_mtime < ts.stat().st_mtime:
            subprocess.run([tool("pyside6-lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True, timeout=120)


def messages(ts: Path) -> list[tuple[str, str, ET.Element]]:
    """(context, source, translation element) of every message in ``ts``."""
    found = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            found.append((name, message.findtext("source") or "", translation))
    return found


# -- the .ts sources -----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    ts = TRANSLATIONS / f"oi_voice_{language}.ts"
    found = messages(ts)
    assert len(found) > 150
    for context, source, translation in found:
        where = f"{ts.name}: {context}: {source!r}"
        assert translation.get("type") is None, f"{where} is {translation.get('type')}"
        text = translation.text or ""
        assert text.strip(), f"{where} has no translation"
        # Placeholders and keyboard shortcuts survive translation.
        for mark in re.findall(r"%\d|\{\w+\}", source):
            assert mark in text, f"{where}: {mark} lost in {text!r}"
        if re.search(r"&\w", source):
            assert re.search(r"&\w", text), f"{where}: the & shortcut is lost in {text!r}"
        if source.strip() not in ("Piper",):
            assert SCRIPT[language].search(text), f"{where}: {text!r} is not in the language"


@pytest.mark.parametrize("language", LANGUAGES)
def test_lupdate_finds_no_new_string(language: str, tmp_path: Path) -> None:
    """Run lupdate over the sources into a copy: nothing new, nothing unfinished, nothing gone."""
    ts = TRANSLATIONS / f"oi_voice_{language}.ts"
    copy = tmp_path / ts.name
    shutil.copy(ts, copy)
    subprocess.run([tool("pyside6-lupdate"), "-silent", "-locations", "none", "-no-obsolete",
                    *map(str, SOURCES), "-source-language", "en", "-target-language", language, "-ts", str(copy)],
                   check=True, timeout=300, cwd=ROOT)
    before = {(c, s): t.text for c, s, t in messages(ts)}
    after = {(c, s): (t.text, t.get("type")) for c, s, t in messages(copy)}
    new = sorted(key for key, (_text, kind) in after.items() if kind == "unfinished" or key not in before)
    assert not new, f"strings without a translation (run `make translations-update`, then translate): {new}"
    assert set(after) == set(before), f"strings no longer in the code: {sorted(set(before) - set(after))}"


def test_the_system_locale_picks_the_language() -> None:
    from PySide6.QtCore import QLocale

    assert resolve("system", QLocale("zh_CN")) == "zh_CN"
    assert resolve("system", QLocale("zh_SG")) == "zh_CN"
    assert resolve("system", QLocale("ko_KR")) == "ko_KR"
    assert resolve("system", QLocale("de_DE")) == "en"
    assert resolve("system", QLocale("zh_TW")) == "en"  # traditional script: no translation yet
    assert resolve("ko_KR") == "ko_KR" and resolve("en") == "en" and resolve("fr_FR") == "en"


# -- the switch at run time ----------------------------------------------------------------


@pytest.fixture
def app(qtbot: QtBot, qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        compiled: None) -> Iterator[DesktopApp]:
    """The real app on its first-run screen (no model: no engine starts), with a private config."""
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in ("OPENAI_API_KEY", "OI_VOICE_API_KEY", "OI_VOICE_MODEL", "OI_VOICE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    desktop = DesktopApp(build_parser().parse_args(["--no-tray", "--no-global-hotkey"]), qapp)
    qtbot.addWidget(desktop.window)
    desktop.show()
    qtbot.waitUntil(lambda: not desktop.window.first_run.isHidden(), timeout=30_000)
    yield desktop
    desktop.language.set("en")
    desktop.bridge.close(timeout=30)


def shown_texts(desktop: DesktopApp, tray: Tray, dialog: SettingsDialog) -> dict[str, str]:
    """The texts of the known widgets, by a name for the failure message."""
    window = desktop.window
    texts = {f"action {a.objectName()}": a.text() for a in window.menu_actions()
             if a is not None and a not in window.profile_actions}
    texts |= {f"tray menu {i}": a.text() for i, a in enumerate(tray.menu.actions())
              if not a.isSeparator() and a not in window.profile_actions}  # profile names are no words
    texts |= {
        "tray tooltip": tray.toolTip(),
        "profile menu": window.profile_menu.title(),
        "banner": window.banner.text(),
        "status": window.state_label.text(),
        "first run": window.first_run_label.text(),
        "use local": window.use_local.text(),
        "first-run settings": window.first_run_settings.text(),
        "mic": window.mic.text(),
        "stop": window.stop_button.text(),
        "send": window.send_button.text(),
        "input placeholder": window.input.placeholderText(),
        "chat hint": window.chat.hint.text(),
        "level label": window.level_label.text(),
        "dialog title": dialog.windowTitle(),
        "dialog profile": dialog.profile_label.text(),
        "dialog key": dialog.key_label.text(),
        "dialog key store": dialog.key_store.text(),
        "dialog show key": dialog.show_key.text(),
    }
    texts |= {f"dialog group {g}": box.title() for g, box in dialog.groups.items()}
    texts |= {f"dialog label {n}": label.text() for n, label in dialog.labels.items()}
    for name, editor in dialog.fields.items():
        if isinstance(editor.widget, QCheckBox):
            texts[f"dialog check {name}"] = editor.widget.text()
    ticks = dialog.fields["always_medium"].widget
    assert isinstance(ticks, QListWidget)
    texts |= {f"always tick {i}": ticks.item(i).text() for i in range(ticks.count())}
    texts["always warning"] = dialog.always_medium_warning.text()
    theme = dialog.fields["theme"].widget
    assert isinstance(theme, QComboBox)
    texts |= {f"theme choice {i}": theme.itemText(i) for i in range(theme.count())}
    return texts


def english_left(text: str) -> list[str]:
    """English words in a translated text (names and keys are no English)."""
    allowed = {"oi", "voice", "API", "Ctrl", "Enter", "Shift", "Esc", "the", "test", "store", "Piper", "pyttsx3", "git",
               "Python"}
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed]


def choose_language(desktop: DesktopApp, qtbot: QtBot, language: str) -> None:
    """Pick ``language`` in a Settings dialog and press OK, as the user does."""
    dialog = SettingsDialog(desktop.settings, profiles=["voice"], input_devices=[], output_devices=[], voices=[],
                            key_store="the test store", parent=desktop.window)
    dialog.finished.connect(lambda code: desktop._settings_done(dialog, code))
    box = dialog.fields["display_language"].widget
    assert isinstance(box, QComboBox)
    box.setCurrentIndex(box.findData(language))
    dialog.open()
    dialog.accept()
    qtbot.waitUntil(lambda: desktop.language.current == language, timeout=10_000)


def test_switching_the_display_language_at_run_time(app: DesktopApp, qtbot: QtBot) -> None:
    tray = Tray(app.window.menu_actions(), app.window)
    # A dialog left open across the switch follows it too.
    dialog = SettingsDialog(app.settings, profiles=["voice"], input_devices=[], output_devices=[], voices=[],
                            key_store="the test store", parent=app.window)
    qtbot.addWidget(dialog)
    english = shown_texts(app, tray, dialog)
    assert english["use local"] == "Use the local model" and english["dialog group Voice"] == "Voice"

    for language in LANGUAGES:
        choose_language(app, qtbot, language)
        QCoreApplication.processEvents()
        texts = shown_texts(app, tray, dialog)
        for name, text in texts.items():
            if english[name] in ("Piper",) or not english_left(english[name]):
                continue  # nothing to translate ("oi-voice", a key name)
            assert SCRIPT[language].search(text), f"{language}: {name} is {text!r}"
            assert not english_left(text), f"{language}: {name} still says {text!r}"
        # A dialog opened now is built in the language from the start.
        fresh = SettingsDialog(app.settings, profiles=["voice"], input_devices=[], output_devices=[], voices=[],
                               key_store="x", parent=app.window)
        qtbot.addWidget(fresh)
        assert SCRIPT[language].search(fresh.windowTitle())
        assert all(SCRIPT[language].search(box.title()) for box in fresh.findChildren(QGroupBox))
        assert SCRIPT[language].search(fresh.labels["model"].text())
        fresh.close()
        assert load_app_settings("voice").display_language == language  # saved like any setting

    choose_language(app, qtbot, "en")
    QCoreApplication.processEvents()
    assert shown_texts(app, tray, dialog) == english
    assert all(not SCRIPT["zh_CN"].search(label.text()) for label in app.window.findChildren(QLabel))


def test_the_no_good_voice_notice_is_shown_in_the_window(app: DesktopApp) -> None:
    from oi_voice.ui.chatview import TextBlock
    from oi_voice.voice import events as ev

    app.window.on_event(ev.VoiceNotice("No good Chinese voice is installed here."))
    shown = [b.text for b in app.window.chat.blocks if isinstance(b, TextBlock)]
    assert "No good Chinese voice is installed here." in shown
