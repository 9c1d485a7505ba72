"""The desktop app's language: Qt translators for oi_voice's strings and Qt's own.

The window, the dialogs and the tray write their texts in English through ``self.tr`` or
:func:`translate`; ``assets/translations/oi_voice_<locale>.ts`` hold the Chinese and Korean
(``make`` compiles them to ``.qm`` with pyside6-lrelease). :class:`Language` installs the
translators for the ``ui.language`` setting (``system`` follows the locale) and swaps them
at run time: Qt then sends every widget a ``LanguageChange`` event, and each widget class
sets its texts again in its ``retranslate()``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from oi_voice._data import data_dir
from oi_voice.settings import QT_TRANSLATE_NOOP
from oi_voice.ui.state import AppState

__all__ = ["LANGUAGES", "QT_TRANSLATE_NOOP", "TRANSLATIONS", "Language", "current", "resolve", "state_label",
           "translate"]

log = logging.getLogger("oi_voice.ui")

#: Where the ``.ts`` sources and the compiled ``.qm`` files are.
TRANSLATIONS = data_dir("assets") / "translations"
#: The languages the app's strings are translated into (English is the source).
LANGUAGES = ("zh_CN", "ko_KR")
#: The language the app shows now ("en" or one of LANGUAGES); :meth:`Language.set` changes it.
_current = "en"


def translate(context: str, text: str) -> str:
    """``text`` in the app's language (``context``: the class or ``"settings"``, as lupdate saw it)."""
    return QCoreApplication.translate(context, text)


def current() -> str:
    """The language the app shows now: ``en``, ``zh_CN`` or ``ko_KR``."""
    return _current


def state_label(state: AppState) -> str:
    """The words for ``state`` in the app's language (the status line, the tray tooltip)."""
    return translate("AppState", state.label)


def resolve(setting: str, locale: QLocale | None = None) -> str:
    """The language the ``ui.language`` value ``setting`` means: ``en`` or one of :data:`LANGUAGES`.

    ``system`` follows the locale (any Chinese but Taiwan's and Hong Kong's traditional script
    gets simplified Chinese; any Korean gets Korean; everything else English).
    """
    if setting != "system":
        return setting if setting in LANGUAGES else "en"
    locale = locale or QLocale.system()
    language = locale.language()
    if language == QLocale.Language.Chinese and locale.script() != QLocale.Script.TraditionalChineseScript:
        return "zh_CN"
    if language == QLocale.Language.Korean:
        return "ko_KR"
    return "en"


class Language:
    """The installed translators; :meth:`set` switches language (widgets follow at once)."""

    def __init__(self, app: QCoreApplication, translations: Path = TRANSLATIONS) -> None:
        self.app = app
        self.translations = translations
        self.current = "en"
        self._installed: list[QTranslator] = []

    def set(self, setting: str) -> str:
        """Use the language ``setting`` means (see :func:`resolve`); returns the one now in use."""
        language = resolve(setting)
        if language == self.current and (self._installed or language == "en"):
            return language
        for translator in self._installed:
            self.app.removeTranslator(translator)
        self._installed = []
        if language != "en":
            self._load(f"oi_voice_{language}", str(self.translations))
            # Qt's own dialogs and buttons (OK, Cancel, Yes ...), when PySide6 ships them.
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if not self._load(f"qtbase_{language}", qt_dir):
                self._load(f"qtbase_{language.split('_')[0]}", qt_dir)
        global _current
        self.current = _current = language
        log.info("display language: %s", language)
        return language

    def _load(self, name: str, folder: str) -> bool:
        translator = QTranslator(self.app)
        if not translator.load(name, folder):
            if name.startswith("oi_voice"):
                log.warning("no translation %s.qm in %s (run `make`)", name, folder)
            return False
        self.app.installTranslator(translator)
        self._installed.append(translator)
        return True
