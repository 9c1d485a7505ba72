"""Every setting of oi_voice, declared once.

One :class:`Setting` per setting: its key (the profile key and, for the engine's
settings, the Interpreter's attribute path), type, default, help, and optionally its
command-line flags, environment variable and settings-dialog field. Everything else is
derived from :data:`SCHEMA`:

- ``oi``'s flags and ``oi-voice --headless``'s (:mod:`oi_voice.frontend.config`);
- the keys a profile may set and their validation (:mod:`oi_voice.profiles`);
- the environment variables (:func:`environment_settings`);
- the Interpreter's and ``interpreter.llm``'s defaults (:func:`apply_defaults`);
- :class:`~oi_voice.voice.pipeline.VoiceConfig` (``voice.*`` settings) and the settings
  dialog's :class:`~oi_voice.app_settings.AppSettings` and form (settings with a
  :class:`DialogField`), both :class:`Record` classes.

Adding a setting is adding one entry to :data:`SCHEMA`, for example::

    _s("voice.language", "choice", "en", "spoken language", choices=("en", "zh", "ko", "auto"),
       default_factory=locale_language, flags=("--language",), env="OI_VOICE_LANGUAGE",
       field=DialogField("&Language:", "Voice", suggestions=("en", "zh", "ko", "auto")), target="voice")

gives ``oi-voice --language``, the profile key ``voice.language`` (checked against the
choices), ``OI_VOICE_LANGUAGE``, ``VoiceConfig.language`` and a drop-down in the dialog;
the code that uses the value is the only other place to write. The derivations take a
schema as a parameter (default :data:`SCHEMA`), so a test can add a setting with
:meth:`Schema.extended` without touching the global one.

This module imports only the standard library: ``oi --help`` loads it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

Kind = Literal["str", "int", "float", "bool", "list[str]", "dict", "choice", "any"]
#: Who reads a setting: the Interpreter (by attribute path), ``oi`` (terminal), the voice
#: layer (``voice.*``: VoiceConfig), the desktop app alone (``app``: through AppSettings), or
#: nobody (Open Interpreter keys accepted so its profiles load).
Target = Literal["interpreter", "terminal", "voice", "app", "ignored"]
#: How a flag sets a value: ``value`` takes an argument; ``switch`` turns a bool on;
#: ``negatable`` also has a ``--no-`` form; ``off`` turns a bool off.
FlagStyle = Literal["value", "switch", "negatable", "off"]
#: Which front ends offer a setting's flags.
Program = Literal["oi", "oi-voice"]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name pyside6-lupdate looks for
    """Mark ``text`` for translation in ``context`` and return it unchanged.

    pyside6-lupdate extracts the marked strings into ``assets/translations/*.ts``; the
    desktop app translates them where it shows them (``QCoreApplication.translate``).
    The schema's dialog texts use the context ``"settings"``.
    """
    del context
    return text


class _EngineDefault:
    """The default is the engine's own (a long prompt, "every installed language")."""

    def __repr__(self) -> str:
        return "ENGINE_DEFAULT"


#: A :attr:`Setting.default` that leaves the value to the engine.
ENGINE_DEFAULT: Any = _EngineDefault()


@dataclass(frozen=True, slots=True)
class DialogField:
    """How the settings dialog shows a setting (the widget follows the setting's kind)."""

    #: The label, or a check box's text; ``&`` marks the keyboard shortcut.
    label: str
    #: The group box it goes into: "Model", "Voice" or "Behaviour".
    group: str
    #: The :class:`~oi_voice.app_settings.AppSettings` field (default: the key's last part).
    name: str = ""
    tooltip: str = ""
    #: An editable drop-down offering these (any text may be typed).
    suggestions: tuple[str, ...] = ()
    #: For a ``choice`` setting: the words shown for each of its choices, in order.
    labels: tuple[str, ...] = ()
    #: A drop-down of names the caller gathers at run time ("voices", "input_devices", "output_devices").
    options: str = ""
    #: The entry that means "not set" (None).
    none_text: str = ""
    #: A number's range; one below ``minimum`` shows ``none_text`` and means None.
    minimum: int | None = None
    maximum: int | None = None
    suffix: str = ""
    placeholder: str = ""
    #: ``key``: one key to hold (push-to-talk); ``folder``: a drop-down with a Browse button.
    #: ``checklist``: a list of ticks, one per entry of ``options`` (a ``list[str]`` setting).
    #: ``language_file``: a file for the spoken language, kept in a ``dict`` setting by language code.
    widget: Literal["auto", "key", "folder", "checklist", "language_file"] = "auto"
    #: What the dialog shows when the profile does not set the key (default: the setting's default).
    unset: Any = ENGINE_DEFAULT
    #: Place in its group: fields go by (order, declaration order).
    order: int = 0
    #: A button beside the field with this text; the dialog emits ``action_requested(key)`` when clicked.
    action: str = ""


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting; see the module docstring for what is derived from it."""

    #: The profile key: an attribute path of the Interpreter (``llm.model``), a terminal
    #: key (``multi_line``) or a voice key (``voice.language``).
    key: str
    kind: Kind
    default: Any
    help: str
    target: Target = "interpreter"
    #: None (YAML null) is allowed.
    optional: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    #: Command-line flag names, short first (Open Interpreter's names for ``oi``).
    flags: tuple[str, ...] = ()
    #: The flag's help when it differs from :attr:`help`.
    flag_help: str = ""
    flag_style: FlagStyle | None = None
    #: The argparse ``dest`` (default: the long flag without dashes).
    dest: str = ""
    metavar: str | None = None
    #: An environment variable that sets it (above profiles, below flags).
    env: str | None = None
    #: Shown as ``***`` when settings are described.
    secret: bool = False
    field: DialogField | None = None
    #: Computes the default when it depends on the machine (the system locale ...); wins over ``default``.
    default_factory: Callable[[], Any] | None = None

    @property
    def name(self) -> str:
        """The key's last part (``llm.model`` -> ``model``)."""
        return self.key.rsplit(".", 1)[-1]

    @property
    def voice_name(self) -> str:
        """The VoiceConfig field of a ``voice.*`` setting (the key without ``voice.``)."""
        return self.key.split(".", 1)[1]

    @property
    def field_name(self) -> str:
        """The AppSettings field of a setting shown in the dialog."""
        return (self.field.name if self.field else "") or self.name

    @property
    def style(self) -> FlagStyle:
        """How its flag sets it."""
        if self.flag_style is not None:
            return self.flag_style
        return "switch" if self.kind == "bool" else "value"

    @property
    def flag_dest(self) -> str:
        """The attribute of the parsed arguments that holds the flag's value."""
        if self.dest:
            return self.dest
        long = next((f for f in self.flags if f.startswith("--")), self.flags[0] if self.flags else self.key)
        return long.lstrip("-").replace("-", "_").replace(".", "_")

    @property
    def programs(self) -> tuple[Program, ...]:
        """The front ends whose command line offers this setting's flags."""
        if not self.flags:
            return ()
        # An ignored key with a flag is an Open Interpreter flag accepted for compatibility (-o).
        return {"interpreter": ("oi", "oi-voice"), "terminal": ("oi",), "voice": ("oi-voice",),
                "ignored": ("oi", "oi-voice")}.get(
            self.target, ())  # type: ignore[return-value]

    def fresh_default(self) -> Any:
        """The default, computed or copied (lists and dicts are never shared between owners)."""
        if self.default_factory is not None:
            return self.default_factory()
        return copy.deepcopy(self.default)

    def check(self, value: Any) -> Any:
        """``value`` converted to this setting's type; ValueError says what is wrong, in words."""
        def wrong(expected: str) -> ValueError:
            return ValueError(f"must be {expected}, not {value!r}")

        if value is None:
            if self.optional or self.kind == "any":
                return None
            raise wrong(_KIND_NAMES.get(self.kind, "set"))
        kind = self.kind
        if kind == "any":
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise wrong("true or false")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise wrong("an integer")
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise wrong("a number")
            value = float(value)
        elif kind == "str":
            if not isinstance(value, str):
                raise wrong("a string (quote it)")
        elif kind == "choice":
            if value not in self.choices:
                raise wrong("one of " + ", ".join(self.choices))
        elif kind == "list[str]":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise wrong("a list of strings")
        elif kind == "dict" and not isinstance(value, dict):
            raise wrong("a mapping")
        if self.minimum is not None and isinstance(value, (int, float)) and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}, not {value!r}")
        return value

    def parse(self, text: str) -> Any:
        """A value from text (an environment variable), checked."""
        value: Any = text
        if self.kind == "int":
            value = _number(text, int)
        elif self.kind == "float":
            value = _number(text, float)
        elif self.kind == "bool":
            lowered = text.strip().lower()
            value = True if lowered in ("1", "true", "yes", "on") else False if lowered in (
                "0", "false", "no", "off") else text
        elif self.kind == "list[str]":
            value = [part.strip() for part in text.split(",") if part.strip()]
        return self.check(value)


_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
               "list[str]": "a list of strings", "dict": "a mapping", "any": "a value"}


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        return text  # check() names the problem


class Schema:
    """An ordered set of settings, by key."""

    def __init__(self, settings: Iterable[Setting]) -> None:
        self._settings: dict[str, Setting] = {}
        for setting in settings:
            if setting.key in self._settings:
                raise ValueError(f"setting {setting.key!r} is declared twice")
            self._settings[setting.key] = setting
        #: Dotted prefixes (``llm``, ``voice``, ``computer``): a profile may nest keys under them.
        self.namespaces = frozenset(key.rsplit(".", 1)[0] for key in self._settings if "." in key)

    def __iter__(self) -> Iterator[Setting]:
        return iter(self._settings.values())

    def __len__(self) -> int:
        return len(self._settings)

    def __contains__(self, key: object) -> bool:
        return key in self._settings

    def __getitem__(self, key: str) -> Setting:
        return self._settings[key]

    def get(self, key: str) -> Setting | None:
        """The setting ``key``, or None."""
        return self._settings.get(key)

    def keys(self) -> list[str]:
        """Every key, in declaration order."""
        return list(self._settings)

    def as_dict(self) -> dict[str, Setting]:
        """Key -> setting (a copy)."""
        return dict(self._settings)

    def extended(self, *settings: Setting) -> Schema:
        """A new schema: this one plus ``settings``."""
        return Schema([*self._settings.values(), *settings])

    def targeting(self, target: Target) -> list[Setting]:
        """The settings one consumer reads."""
        return [s for s in self if s.target == target]

    def for_program(self, program: Program) -> list[Setting]:
        """The settings with a flag on ``program``'s command line."""
        return [s for s in self if program in s.programs]

    def dialog(self) -> list[Setting]:
        """The settings the settings dialog shows: by group (:data:`DIALOG_GROUPS`), then order."""
        shown = [s for s in self if s.field is not None]

        def place(setting: Setting) -> tuple[int, int]:
            assert setting.field is not None
            group = setting.field.group
            rank = DIALOG_GROUPS.index(group) if group in DIALOG_GROUPS else len(DIALOG_GROUPS)
            return rank, setting.field.order

        return sorted(shown, key=place)


def _s(key: str, kind: Kind, default: Any, help: str, **options: Any) -> Setting:
    return Setting(key, kind, default, help, **options)


_V: dict[str, Any] = {"target": "voice"}
_T: dict[str, Any] = {"target": "terminal"}

#: The settings dialog's groups, top to bottom (a group not listed comes last).
DIALOG_GROUPS = ("Model", "Voice", "Behaviour")
#: Models offered in the dialog's model box (any litellm model name can be typed).
MODEL_SUGGESTIONS = ("local", "gpt-4o-mini", "gpt-4o", "ollama/llama3.1", "anthropic/claude-3-5-haiku-latest")
#: faster-whisper models offered (a model folder can be browsed for); unset follows the language.
STT_SUGGESTIONS = ("tiny.en", "base", "base.en", "small.en")
#: What the dialog says beside the "Always also runs" ticks.
ALWAYS_MEDIUM_WARNING = QT_TRANSLATE_NOOP(
    "settings", "\"Always for this session\" runs low-risk code without asking. Code of medium risk whose every "
    "effect is ticked here runs without asking too: it can change your files. High-risk code (deleting files, "
    "rewriting history ...) always asks.")
#: Spoken languages offered (any Whisper language code can be typed); auto detects among voice.languages.
LANGUAGES = ("en", "zh", "ko", "auto", "de", "es", "fr", "it", "nl", "pt", "pl", "ja")
#: The places Python code may run in (computer.python_env), besides a folder.
PYTHON_ENVS = ("auto", "app", "user")
#: The API base shown as an example.
API_BASE_EXAMPLE = "http://localhost:11434/v1"

#: Every setting. Open Interpreter's flag names and profile keys must not change.
SCHEMA = Schema([
    # -- the model (interpreter.llm) --
    _s("llm.model", "str", "gpt-4o", "language model to use", flags=("-m", "--model"), metavar="MODEL",
       env="OI_VOICE_MODEL",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Model:"), "Model", suggestions=MODEL_SUGGESTIONS,
                         unset="",
                         tooltip=QT_TRANSLATE_NOOP("settings", 'A litellm model name; "local" runs the bundled '
                                                   "model on this computer."))),
    _s("llm.api_base", "str", None, "OpenAI-compatible server URL", optional=True, flags=("-ab", "--api_base"),
       flag_help="API base URL of an OpenAI-compatible server (Ollama, LM Studio, llama.cpp ...); overrides "
       "the environment", metavar="URL", env="OI_VOICE_API_BASE",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "API &base:"), "Model", placeholder=API_BASE_EXAMPLE,
                         tooltip=QT_TRANSLATE_NOOP("settings", "An OpenAI-compatible server (Ollama, LM Studio, "
                                                   "llama.cpp); empty: the provider's."))),
    _s("llm.api_key", "str", None, "API key", optional=True, flags=("-ak", "--api_key"),
       flag_help="API key for the model (overrides the environment)", metavar="KEY", env="OI_VOICE_API_KEY",
       secret=True),
    _s("llm.api_version", "str", None, "API version (Azure)", optional=True, flags=("-av", "--api_version"),
       flag_help="API version for the model (Azure)", metavar="VERSION"),
    _s("llm.temperature", "float", 0.0, "sampling temperature", minimum=0, flags=("-t", "--temperature"),
       metavar="T"),
    _s("llm.context_window", "int", None, "context window in tokens", optional=True, minimum=1,
       flags=("-cw", "--context_window"), flag_help="context window of the model, in tokens", metavar="TOKENS"),
    _s("llm.max_tokens", "int", None, "maximum tokens of one reply", optional=True, minimum=1,
       flags=("-x", "--max_tokens"), metavar="TOKENS"),
    _s("llm.supports_functions", "bool", None, "native tool calls (null: from the model catalog)", optional=True,
       flags=("-lsf", "--llm_supports_functions"), flag_style="negatable",
       flag_help="the model supports OpenAI-style function calls (--no-llm_supports_functions: use markdown "
       "code blocks)"),
    _s("llm.supports_vision", "bool", None, "the model sees images (null: from the model catalog)", optional=True,
       flags=("-lsv", "--llm_supports_vision"), flag_style="negatable", flag_help="the model can see images"),
    _s("llm.transport", "choice", "auto", "how to reach the model", choices=("auto", "openai", "litellm")),
    _s("llm.timeout", "float", 60.0, "seconds without data before giving up", minimum=0),
    _s("llm.max_retries", "int", 3, "attempts for transient failures", minimum=0),
    _s("llm.extra", "dict", {}, "extra request parameters"),
    _s("llm.local_model", "str", None, "with model local: a GGUF file to serve instead of the bundled one",
       optional=True, flags=("-lm", "--local-model"), metavar="PATH",
       flag_help="with --local: serve this GGUF file instead of the bundled coder model"),
    # -- the Interpreter --
    _s("system_message", "str", ENGINE_DEFAULT, "base prompt", flags=("-sm", "--system_message"),
       flag_help="(we don't recommend changing this) base prompt for the language model", metavar="TEXT"),
    _s("custom_instructions", "str", "", "appended to the system message", flags=("-ci", "--custom_instructions"),
       flag_help="custom instructions, appended to the system message", metavar="TEXT"),
    _s("auto_run", "bool", False, "run code without asking", flags=("-y", "--auto_run"),
       flag_help="run generated code without asking (prints a warning)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Run code without asking"), "Behaviour", order=1)),
    _s("verbose", "bool", False, "print detailed logs", flags=("-v", "--verbose")),
    _s("max_output", "int", 2800, "characters of output the model sees", minimum=200, flags=("-xo", "--max_output"),
       flag_help="maximum characters of code output the model sees", metavar="CHARS"),
    _s("max_steps", "int", 20, "model calls in one turn", minimum=1),
    _s("safe_mode", "choice", "off", "off | ask | auto: high-risk code always asks", choices=("off", "ask", "auto"),
       flags=("-safe", "--safe_mode"),
       flag_help="off, ask or auto: with auto_run, high-risk code still asks unless this is off"),
    _s("conversation_history", "bool", True, "save conversations"),
    _s("approval.always_medium", "list[str]", [], "kinds of medium-risk code that \"Always for this session\" "
       "also runs: writes_files, network, installs, permissions, git, ... (high risk always asks)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "\"Always\" also runs:"), "Behaviour",
                         widget="checklist", options="risk_kinds", tooltip=ALWAYS_MEDIUM_WARNING, order=2)),
    _s("computer.languages", "list[str]", ENGINE_DEFAULT, "languages the model may use"),
    _s("computer.python_env", "str", "auto", "where Python code runs: auto (the installed app: an environment of "
       "its own, made at first use, that pip installs into; a checkout: this Python), app (this program's Python), "
       "user (that environment in the user's data folder) or a folder for one", flags=("--python-env",),
       metavar="auto|app|user|FOLDER", env="OI_VOICE_PYTHON_ENV",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "P&ython for code:"), "Behaviour", suggestions=PYTHON_ENVS,
                         widget="folder", action=QT_TRANSLATE_NOOP("settings", "Reset…"), order=5,
                         tooltip=QT_TRANSLATE_NOOP("settings", "auto: the installed app runs code in a Python "
                                                   "environment of its own, where pip installs packages that stay; "
                                                   "app: this program's Python; user: that environment; or a "
                                                   "folder for it. Reset removes what was installed there."))),
    # -- read by `oi` --
    _s("multi_line", "bool", False, "``` starts and ends multi-line input", flags=("-ml", "--multi_line"),
       flag_help="multi-line messages between lines of ```", **_T),
    _s("plain_text_display", "bool", False, "no colour or cursor movement", flags=("-pl", "--plain"),
       flag_help="plain text output: no colour, no cursor movement", **_T),
    # -- read by the voice layer (VoiceConfig) and the desktop app --
    _s("voice.enabled", "bool", True, "talk to oi_voice", **_V),
    _s("voice.stt_model", "str", None, "faster-whisper model name or path (null: follows the language: tiny.en "
       "for en, the packaged multilingual base otherwise)",
       optional=True, flags=("--stt-model",), metavar="NAME|PATH",
       flag_help="faster-whisper model: a size name or a CTranslate2 folder (default: follows --language)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Speech model:"), "Voice", suggestions=STT_SUGGESTIONS,
                         widget="folder", none_text=QT_TRANSLATE_NOOP("settings", "(follows the language)"),
                         tooltip=QT_TRANSLATE_NOOP("settings", "A faster-whisper size, or a folder holding a "
                                                   "CTranslate2 Whisper model.")), **_V),
    _s("voice.language", "str", None, "spoken language: en, zh, ko or auto (null: the system locale's)",
       optional=True, flags=("--language",), metavar="CODE",
       flag_help="spoken language: en, zh, ko or auto (default: the system locale's)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Language:"), "Voice", suggestions=LANGUAGES,
                         none_text=QT_TRANSLATE_NOOP("settings", "(system language)")), **_V),
    _s("voice.languages", "list[str]", ["en", "zh", "ko"], "the languages voice.language auto chooses among",
       **_V),
    _s("voice.push_to_talk", "str", "F9", "push-to-talk hotkey",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Push to &talk:"), "Behaviour", widget="key"), **_V),
    _s("voice.vad", "bool", True, "end the utterance when speech stops", **_V),
    _s("voice.vad_silence", "float", 0.7, "seconds of silence that end a hands-free utterance", minimum=0,
       flags=("--vad-silence",), metavar="SECONDS",
       flag_help="silence that ends a hands-free utterance (default 0.7)", **_V),
    _s("voice.preroll", "float", 1.0, "seconds of audio kept from before push-to-talk was pressed", minimum=0, **_V),
    _s("voice.speak_replies", "bool", True, "read replies aloud", **_V),
    _s("voice.tts_engine", "choice", "auto", "text-to-speech engine: auto (Piper where it has a voice for the "
       "language, else the system's voices through pyttsx3), piper or pyttsx3", choices=("auto", "piper", "pyttsx3"),
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Speech &engine:"), "Voice",
                         labels=(QT_TRANSLATE_NOOP("settings", "Automatic (Piper where it has a voice)"),
                                 QT_TRANSLATE_NOOP("settings", "Piper"),
                                 QT_TRANSLATE_NOOP("settings", "System voice (pyttsx3)"))), **_V),
    _s("voice.piper_voices", "dict", {}, "Piper voice per language code: a .onnx (its .onnx.json beside it) or a "
       "folder holding one; English has a bundled voice",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Piper voice:"), "Voice", widget="language_file",
                         placeholder=QT_TRANSLATE_NOOP("settings", "built in for English; else a .onnx voice or its "
                                                       "folder"),
                         tooltip=QT_TRANSLATE_NOOP("settings", "A Piper voice (.onnx with its .onnx.json) for the "
                                                   "spoken language.")), **_V),
    _s("voice.tts_voice", "str", None, "text-to-speech voice", optional=True, flags=("--voice",), dest="tts_voice",
       metavar="VOICE", flag_help="text-to-speech voice: id, name or language",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "System &voice:"), "Voice", options="voices",
                         none_text=QT_TRANSLATE_NOOP("settings", "(default)")), **_V),
    _s("voice.tts_rate", "int", None, "words per minute", optional=True, minimum=1, flags=("--rate",),
       dest="tts_rate", metavar="WPM", flag_help="speech rate in words per minute",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Rate:"), "Voice",
                         none_text=QT_TRANSLATE_NOOP("settings", "(default)"), minimum=80, maximum=400,
                         suffix=QT_TRANSLATE_NOOP("settings", " words/min")),
       **_V),
    _s("voice.confirm_by_voice", "bool", True, "say what will run and listen for yes/no",
       flags=("--no-voice-confirm",), flag_style="off", dest="confirm_by_voice",
       flag_help="do not ask for spoken yes/no before running code (use the keyboard)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Say what will run and listen for yes or no"),
                         "Behaviour"), **_V),
    _s("voice.barge_in", "bool", True, "push-to-talk while speaking stops the reply", **_V),
    _s("voice.echo_cancellation", "choice", "auto", "remove the app's own voice from the microphone: auto (on "
       "unless the output is headphones), on or off", choices=("auto", "on", "off"),
       flags=("--echo-cancellation",), metavar="auto|on|off", env="OI_VOICE_ECHO_CANCELLATION",
       flag_help="echo cancellation on the microphone (default auto: on unless the output is headphones)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Echo cancellation:"), "Voice",
                         labels=(QT_TRANSLATE_NOOP("settings", "Automatic (on unless you use headphones)"),
                                 QT_TRANSLATE_NOOP("settings", "On"), QT_TRANSLATE_NOOP("settings", "Off")),
                         tooltip=QT_TRANSLATE_NOOP("settings", "Removes the app's own voice from the microphone, "
                                                   "so that hands-free works on loudspeakers and you can "
                                                   "interrupt it by speaking.")), **_V),
    _s("voice.answer_timeout", "float", 6.0, "seconds to wait for a spoken answer to start", minimum=0, **_V),
    _s("voice.no_speech_threshold", "float", 0.6, "segments at least this likely to be silence are dropped",
       minimum=0, **_V),
    _s("voice.turn_timeout", "float", 600.0, "seconds before a turn (model and code) gives up", minimum=0, **_V),
    _s("voice.input_device", "str", None, "microphone name (null: the system default)", optional=True,
       flags=("--input-device",), metavar="NAME|INDEX", flag_help="microphone (see --list-devices)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Microphone:"), "Voice", options="input_devices",
                         none_text=QT_TRANSLATE_NOOP("settings", "(system default)")), **_V),
    _s("voice.output_device", "str", None, "speaker name (null: the system default)", optional=True,
       flags=("--output-device",), metavar="NAME|INDEX", flag_help="speaker (see --list-devices)",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Spea&ker:"), "Voice", options="output_devices",
                         none_text=QT_TRANSLATE_NOOP("settings", "(system default)")), **_V),
    _s("voice.review_transcripts", "bool", False, "edit a transcript before it is sent",
       field=DialogField(QT_TRANSLATE_NOOP("settings", "Let me edit what I said before it is sent"),
                         "Behaviour"), **_V),
    # -- read by the desktop app only (through AppSettings) --
    _s("ui.theme", "choice", "system", "system | light | dark: the desktop app's look", target="app",
       choices=("system", "light", "dark"),
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Appearance:"), "Behaviour",
                         labels=(QT_TRANSLATE_NOOP("settings", "Follow the system"),
                                 QT_TRANSLATE_NOOP("settings", "Light"), QT_TRANSLATE_NOOP("settings", "Dark")),
                         order=3,
                         tooltip=QT_TRANSLATE_NOOP("settings", "The window's colours: as the desktop's, or always "
                                                   "light or dark."))),
    _s("ui.language", "choice", "system", "system | en | zh_CN | ko_KR: the desktop app's language (system: the "
       "locale's)", target="app", choices=("system", "en", "zh_CN", "ko_KR"),
       field=DialogField(QT_TRANSLATE_NOOP("settings", "&Display language:"), "Behaviour", name="display_language",
                         labels=(QT_TRANSLATE_NOOP("settings", "Follow the system"), "English", "简体中文", "한국어"),
                         order=4, tooltip=QT_TRANSLATE_NOOP("settings", "The language of the window, the dialogs "
                                                            "and the tray menu; it changes at once."))),
    # -- Open Interpreter profile keys that mean nothing here; accepted so its profiles load --
    _s("version", "any", None, "profile format version", target="ignored"),
    _s("disable_telemetry", "bool", False, "oi_voice sends no telemetry", target="ignored"),
    # Open Interpreter's switch for its update check and telemetry: oi_voice has neither (nor any online
    # feature besides the model), so the flag and key are accepted and change nothing.
    _s("offline", "bool", False, "oi_voice has no online features besides the model to turn off", target="ignored",
       flags=("-o", "--offline"),
       flag_help="accepted for Open Interpreter compatibility: nothing but the model goes online anyway"),
])


# --- the environment ----------------------------------------------------------------------------


def environment_settings(environ: Mapping[str, str] | None = None, schema: Schema = SCHEMA) -> dict[str, Any]:
    """The settings the environment gives (``OI_VOICE_MODEL`` ...), by key, checked.

    An empty variable counts as unset. A value of the wrong type is a ValueError naming
    the variable.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in schema:
        text = env.get(setting.env) if setting.env else None
        if text:
            try:
                values[setting.key] = setting.parse(text)
            except ValueError as exc:
                raise ValueError(f"environment variable {setting.env}: {exc}") from None
    return values


# --- the engine's defaults ------------------------------------------------------------------------


def apply_defaults(owner: object, prefix: str = "", schema: Schema = SCHEMA) -> None:
    """Give ``owner`` the default of every Interpreter setting directly under ``prefix``.

    ``apply_defaults(interpreter)`` sets ``auto_run``, ``max_output`` ...;
    ``apply_defaults(llm, "llm")`` sets ``model``, ``temperature`` ... Settings whose
    default is :data:`ENGINE_DEFAULT` are left to the owner.
    """
    start = f"{prefix}." if prefix else ""
    for setting in schema.targeting("interpreter"):
        rest = setting.key[len(start):] if setting.key.startswith(start) else None
        if rest and "." not in rest and setting.default is not ENGINE_DEFAULT:
            setattr(owner, rest, setting.fresh_default())


# --- records: VoiceConfig and AppSettings ------------------------------------------------------


def _annotation(setting: Setting) -> str:
    base = {"str": "str", "int": "int", "float": "float", "bool": "bool", "list[str]": "list[str]",
            "dict": "dict[str, Any]", "choice": "str", "any": "Any"}[setting.kind]
    return f"{base} | None" if setting.optional and setting.kind != "any" else base


_R = TypeVar("_R", bound="Record")


class Record:
    """A dataclass whose fields are derived from the schema.

    A subclass names its view: ``class VoiceConfig(Record, view="voice")`` gets a field
    per ``voice.*`` setting (named without the prefix); ``view="dialog"`` one per setting
    with a :class:`DialogField`. Fields the subclass declares itself come first. A
    subclass of a record may pass ``schema=`` to add the fields of another schema.
    """

    if TYPE_CHECKING:  # the fields are made at run time; type checkers see keyword arguments
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

        def __init__(self, **values: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    #: The schema the fields were derived from.
    schema: ClassVar[Schema]
    #: Field name -> the setting it holds.
    settings: ClassVar[dict[str, Setting]]

    def __init_subclass__(cls, *, view: Literal["voice", "dialog"] | None = None, schema: Schema | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        view = view or getattr(cls, "_view", None)
        if view is None:
            return
        cls._view = view  # type: ignore[attr-defined]
        cls.schema = schema if schema is not None else getattr(cls, "schema", SCHEMA)
        chosen = [s for s in cls.schema if s.target == "voice"] if view == "voice" else cls.schema.dialog()
        names = {s.voice_name if view == "voice" else s.field_name: s for s in chosen}
        cls.settings = names
        annotations = dict(inspect.get_annotations(cls))  # the class's own, not a base's
        cls.__annotations__ = annotations
        inherited = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        for name, setting in names.items():
            if name in annotations or name in inherited:
                continue
            annotations[name] = _annotation(setting)
            factory: Callable[[], Any] = setting.fresh_default
            if view == "dialog" and setting.field is not None and setting.field.unset is not ENGINE_DEFAULT:
                factory = functools.partial(copy.deepcopy, setting.field.unset)
            setattr(cls, name, dataclasses.field(default_factory=factory))
        dataclasses.dataclass(cls)

    @classmethod
    def from_settings(cls: type[_R], settings: Mapping[str, Any], **overrides: Any) -> _R:
        """From a mapping of field values (unknown names ignored), then ``overrides`` (None skipped)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in settings.items() if k in names}
        values.update({k: v for k, v in overrides.items() if v is not None and k in names})
        return cls(**values)
