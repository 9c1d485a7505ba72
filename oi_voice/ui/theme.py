"""Light and dark looks for the app, following the system unless the user chose one.

The setting ``ui.theme`` is ``system`` (the default), ``light`` or ``dark``. With
``system`` the app follows Qt's colour scheme (``QStyleHints.colorScheme()``, Qt 6.5+),
live: when the desktop switches, so does the app. One :class:`Colours` per look feeds
the application palette (so dialogs and menus follow too) and one style sheet that
gives the chat its shapes (bubbles, cards, chips) by object name and property.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

#: The values ``ui.theme`` takes.
THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colours:
    """Every colour the app paints with, for one look."""

    name: str
    window: str
    surface: str
    surface_alt: str
    border: str
    text: str
    muted: str
    accent: str
    accent_hover: str
    on_accent: str
    user_bubble: str
    on_user_bubble: str
    code: str
    output: str
    active_line: str
    error_bg: str
    error_text: str
    #: Run states: (text, background) of the card's chip.
    chips: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Risk levels: the colour of the risk line.
    risks: dict[str, str] = field(default_factory=dict)


LIGHT = Colours(
    name="light", window="#f5f6f8", surface="#ffffff", surface_alt="#eef1f5", border="#dfe3e8",
    text="#1f2328", muted="#65707d", accent="#2f6feb", accent_hover="#2459c9", on_accent="#ffffff",
    user_bubble="#2f6feb", on_user_bubble="#ffffff", code="#f6f8fa", output="#fbfbfc",
    active_line="#fff3b0", error_bg="#ffebe9", error_text="#b42318",
    chips={"writing": ("#65707d", "#eef1f5"), "waiting": ("#8a5a00", "#fff4d6"),
           "running": ("#0b5cd5", "#dcebff"), "done": ("#1a7f37", "#dcf5e3"),
           "declined": ("#57606a", "#eaeef2"), "failed": ("#b42318", "#ffebe9"),
           "stopped": ("#8a5a00", "#fff4d6")},
    risks={"low": "#1a7f37", "medium": "#b35900", "high": "#b42318"},
)

DARK = Colours(
    name="dark", window="#16181c", surface="#1f2227", surface_alt="#262a30", border="#33383f",
    text="#e6e9ee", muted="#9aa3ad", accent="#4c8dff", accent_hover="#6aa1ff", on_accent="#ffffff",
    user_bubble="#2f6feb", on_user_bubble="#ffffff", code="#171a1f", output="#1a1d22",
    active_line="#4a3f12", error_bg="#3d1a1a", error_text="#ff8a80",
    chips={"writing": ("#9aa3ad", "#2a2f36"), "waiting": ("#f2c55c", "#3b2f0c"),
           "running": ("#7cb0ff", "#10284f"), "done": ("#5ad07a", "#12351f"),
           "declined": ("#9aa3ad", "#2a2f36"), "failed": ("#ff8a80", "#4a1717"),
           "stopped": ("#f2c55c", "#3b2f0c")},
    risks={"low": "#5ad07a", "medium": "#f2a34a", "high": "#ff8a80"},
)

_current: Colours = LIGHT


def current() -> Colours:
    """The look in use (for widgets that paint colours themselves)."""
    return _current


def system_is_dark() -> bool:
    """Whether the desktop asks for dark (Qt's colour scheme; Unknown counts as light)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def resolve(setting: str | None) -> Colours:
    """The look for ``ui.theme`` = ``setting`` (system, light or dark; None: system)."""
    if setting == "dark":
        return DARK
    if setting == "light":
        return LIGHT
    return DARK if system_is_dark() else LIGHT


def palette(c: Colours) -> QPalette:
    """The application palette of a look (standard widgets, dialogs and menus use it)."""
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for r, colour in ((role.Window, c.window), (role.WindowText, c.text), (role.Base, c.surface),
                      (role.AlternateBase, c.surface_alt), (role.Text, c.text), (role.Button, c.surface),
                      (role.ButtonText, c.text), (role.Highlight, c.accent), (role.HighlightedText, c.on_accent),
                      (role.ToolTipBase, c.surface_alt), (role.ToolTipText, c.text), (role.Link, c.accent),
                      (role.PlaceholderText, c.muted), (role.Mid, c.border), (role.Midlight, c.surface_alt),
                      (role.Dark, c.border), (role.Light, c.surface), (role.Shadow, "#000000"),
                      (role.BrightText, c.error_text)):
        p.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor(c.muted))
    return p


def stylesheet(c: Colours) -> str:
    """The app's style sheet for a look: shapes by object name and property."""
    chips = "".join(
        f'QLabel#chip[state="{state}"] {{ color: {fg}; background: {bg}; }}' for state, (fg, bg) in c.chips.items())
    risks = "".join(f'QLabel#risk[level="{level}"] {{ color: {colour}; }}' for level, colour in c.risks.items())
    return f"""
QMainWindow, QDialog {{ background: {c.window}; }}
QScrollArea#chat, QWidget#chat-body {{ background: {c.window}; border: none; }}
QLabel#banner {{ background: {c.surface_alt}; color: {c.text}; padding: 8px 12px; border-radius: 8px; }}
QLabel#banner[kind="error"] {{ background: {c.error_bg}; color: {c.error_text}; }}
QLabel#bubble {{ background: {c.user_bubble}; color: {c.on_user_bubble}; padding: 8px 13px;
    border-radius: 14px; }}
QLabel#reply {{ color: {c.text}; padding: 2px 2px; }}
QLabel#notice {{ color: {c.muted}; }}
QLabel#error {{ background: {c.error_bg}; color: {c.error_text}; padding: 8px 12px; border-radius: 10px; }}
QFrame#card {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 12px; }}
QFrame#card QLabel {{ background: transparent; }}
QFrame#card-rule {{ background: {c.border}; border: none; max-height: 1px; min-height: 1px; }}
QLabel#language {{ color: {c.muted}; font-weight: 600; letter-spacing: 0.5px; }}
QLabel#chip {{ border-radius: 9px; padding: 1px 9px; font-weight: 600; }}
{chips}
{risks}
QPlainTextEdit#code {{ background: {c.code}; color: {c.text}; border: none; padding: 4px 6px; }}
QPlainTextEdit#code[editing="true"] {{ border: 1px solid {c.accent}; }}
QPlainTextEdit#output {{ background: {c.output}; color: {c.text}; border: none; padding: 2px 6px; }}
QLabel#image {{ background: transparent; padding: 6px; }}
QPlainTextEdit#input {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border};
    border-radius: 12px; padding: 6px 8px; }}
QPlainTextEdit#input:focus {{ border: 1px solid {c.accent}; }}
QLineEdit {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border}; border-radius: 6px;
    padding: 4px 6px; }}
QLineEdit:focus {{ border: 1px solid {c.accent}; }}
QPushButton {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border}; border-radius: 8px;
    padding: 5px 14px; }}
QPushButton:hover {{ background: {c.surface_alt}; }}
QPushButton:focus {{ border: 1px solid {c.accent}; }}
QPushButton:disabled {{ color: {c.muted}; }}
QPushButton[primary="true"] {{ background: {c.accent}; color: {c.on_accent}; border: 1px solid {c.accent}; }}
QPushButton[primary="true"]:hover {{ background: {c.accent_hover}; }}
QPushButton[primary="true"]:focus {{ border: 2px solid {c.text}; }}
QPushButton#mic:checked, QPushButton#mic:pressed {{ background: {c.error_bg}; color: {c.error_text}; }}
QToolButton {{ background: transparent; color: {c.muted}; border: 1px solid transparent; border-radius: 6px;
    padding: 2px 8px; }}
QToolButton:hover {{ background: {c.surface_alt}; color: {c.text}; }}
QToolButton:focus {{ border: 1px solid {c.accent}; }}
QStatusBar {{ background: {c.window}; color: {c.muted}; border-top: 1px solid {c.border}; }}
QStatusBar QLabel {{ color: {c.muted}; }}
QStatusBar::item {{ border: none; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {c.border}; border-radius: 3px; min-height: 28px; }}
QScrollBar::handle:vertical:hover {{ background: {c.muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle:horizontal {{ background: {c.border}; border-radius: 3px; min-width: 28px; }}
"""


def repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a property it selects on changed (``state``, ``kind``)."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


class ThemeManager(QObject):
    """Applies ``ui.theme`` to the application, and re-applies it when the system switches."""

    #: The look changed (a :class:`Colours`).
    changed = Signal(object)

    def __init__(self, app: QApplication, setting: str = "system") -> None:
        super().__init__(app)
        self.app = app
        self.setting = setting if setting in THEMES else "system"
        self.colours = LIGHT
        # Fusion draws every widget from the palette, so a dark palette makes a dark app
        # on every platform (native styles ignore parts of it).
        style = QStyleFactory.create("Fusion")
        if style is not None:
            app.setStyle(style)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply()

    def set_setting(self, setting: str | None) -> None:
        """Use ``ui.theme`` = ``setting`` from now on."""
        self.setting = setting if setting in THEMES else "system"
        self.apply()

    def apply(self) -> None:
        """Paint the app in the look the setting (and the system) asks for."""
        global _current
        colours = resolve(self.setting)
        _current = self.colours = colours
        self.app.setPalette(palette(colours))
        self.app.setStyleSheet(stylesheet(colours))
        self.changed.emit(colours)

    def _system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.setting == "system":
            self.apply()


def monospace() -> QFont:
    """The system's fixed-width font (code and output)."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
