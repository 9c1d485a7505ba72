"""From the command line, a profile and the environment to a configured Interpreter.

The flags of ``oi`` and ``oi-voice`` are derived from :data:`oi_voice.settings.SCHEMA`
(:func:`add_setting_flags`); :func:`configure` picks the profile (:func:`pick_profile`),
then applies, lowest first: defaults < profile < environment < flags, and says where
each value came from. ``oi``, ``oi-voice --headless`` and the desktop app all use it.

Only ``argparse`` and :mod:`oi_voice.settings` are imported at module level: ``oi --help``
must not pay for the engine.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from oi_voice.settings import SCHEMA, Program, Schema, Setting

if TYPE_CHECKING:
    from oi_voice.core.interpreter import Interpreter
    from oi_voice.profiles import Profile

#: The profile used when none is named (``oi``, ``oi-voice --headless``).
DEFAULT_PROFILE = "default"

#: The flags that pick the profile, on ``oi`` and ``oi-voice`` alike: (names, dest, help, metavar).
PROFILE_FLAGS: tuple[tuple[tuple[str, ...], str, str, str | None], ...] = (
    (("-p", "--profile"), "profile", "profile to use: a name in the profiles folder or a path (default: default)",
     "NAME|PATH"),
    (("-l", "--local"), "local", "use the embedded local model (shortcut for --profile local)", None),
    (("-f", "--fast"), "fast", "use a small, quick model (shortcut for --profile fast)", None),
)


class Parser(argparse.ArgumentParser):
    """argparse with a suggestion for a mistyped flag."""

    def error(self, message: str) -> NoReturn:
        """Print usage and the error (with "did you mean" for unknown flags) and exit 2."""
        if message.startswith("unrecognized arguments:"):
            import difflib

            known = [s for action in self._actions for s in action.option_strings]
            hints = []
            for word in message.split(":", 1)[1].split():
                if word.startswith("-"):
                    close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
                    if close:
                        hints.append(f"did you mean {close[0]} (for {word})?")
            if hints:
                message += "; " + "; ".join(hints)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


_TYPES: dict[str, type] = {"int": int, "float": float}


def add_setting_flag(parser: Any, setting: Setting) -> None:
    """Add ``setting``'s flag to ``parser`` (or an argument group); not given, it is None."""
    kwargs: dict[str, Any] = {"dest": setting.flag_dest, "help": setting.flag_help or setting.help,
                              "default": None}
    style = setting.style
    if style == "switch":
        kwargs["action"] = "store_true"
    elif style == "negatable":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif style == "off":
        kwargs["action"] = "store_false"
    else:
        kwargs.update(type=_TYPES.get(setting.kind, str), metavar=setting.metavar,
                      choices=setting.choices or None)
    parser.add_argument(*setting.flags, **kwargs)


def add_setting_flags(parser: Any, program: Program, schema: Schema = SCHEMA,
                      targets: tuple[str, ...] = ("interpreter", "terminal", "voice", "ignored")) -> None:
    """Add the flag of every setting ``program`` offers (of ``targets``), in schema order."""
    for setting in schema.for_program(program):
        if setting.target in targets:
            add_setting_flag(parser, setting)


def add_profile_flags(parser: Any) -> None:
    """Add ``-p/--profile``, ``-l/--local`` and ``-f/--fast``."""
    for names, dest, help_, metavar in PROFILE_FLAGS:
        if metavar is None:
            parser.add_argument(*names, dest=dest, help=help_, action="store_true", default=None)
        else:
            parser.add_argument(*names, dest=dest, help=help_, type=str, metavar=metavar, default=None)


def flag_settings(args: argparse.Namespace, program: Program, schema: Schema = SCHEMA) -> dict[str, Any]:
    """The settings the given flags set, by key, in schema order."""
    values = {}
    for setting in schema.for_program(program):
        value = getattr(args, setting.flag_dest, None)
        if value is not None:
            values[setting.key] = value
    return values


def pick_profile(args: argparse.Namespace, default: str = DEFAULT_PROFILE) -> str:
    """The profile the flags name: ``-l`` local, ``-f`` fast, ``-p NAME``, else ``default``."""
    if getattr(args, "local", None):
        return "local"
    if getattr(args, "fast", None):
        return "fast"
    return getattr(args, "profile", None) or default


@dataclass
class Configuration:
    """An Interpreter with its settings applied, the settings of the other consumers, and their sources."""

    interpreter: Interpreter
    profile: Profile
    schema: Schema = SCHEMA
    #: ``voice.*`` settings without the prefix (for VoiceConfig.from_settings).
    voice: dict[str, Any] = field(default_factory=dict)
    #: Terminal settings by key (``multi_line``, ``plain_text_display``).
    terminal: dict[str, Any] = field(default_factory=dict)
    #: Key -> where its value came from: ``profile PATH``, ``environment``, ``flag`` or ``flag -l``.
    sources: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        """The value in force for ``key``."""
        setting = self.schema[key]
        if setting.target == "voice":
            return self.voice[setting.voice_name] if setting.voice_name in self.voice else setting.fresh_default()
        if setting.target == "terminal":
            return self.terminal[key] if key in self.terminal else setting.fresh_default()
        target: Any = self.interpreter
        for part in key.split("."):
            target = getattr(target, part)
        return target

    def describe(self) -> list[str]:
        """``key = value (source)`` for every value a profile, the environment or a flag set (secrets as ``***``)."""
        lines = []
        for key, source in self.sources.items():
            value = self.value(key)
            if self.schema[key].secret and value:
                value = "***"
            lines.append(f"{key} = {value!r} ({source})")
        return lines

    def _put(self, key: str, value: Any, source: str) -> None:
        setting = self.schema[key]
        if setting.target == "interpreter":
            self.interpreter.set(key, value)
        elif setting.target == "voice":
            self.voice[setting.voice_name] = value
        elif setting.target == "terminal":
            self.terminal[key] = value
        else:
            return
        self.sources[key] = source


def configure(args: argparse.Namespace, program: Program = "oi", *, default_profile: str = DEFAULT_PROFILE,
              schema: Schema = SCHEMA, interpreter: Interpreter | None = None) -> Configuration:
    """Load the profile ``args`` picks and apply defaults < profile < environment < flags.

    ``interpreter``: the one to configure (default: a new one). Raises
    :class:`~oi_voice.profiles.ProfileError` for a profile that does not load or whose value
    the engine refuses (naming the file and line), :class:`~oi_voice.errors.ConfigError`
    for a bad environment variable or flag value.
    """
    from oi_voice.profiles import apply, ensure_user_profiles, environment_settings, load_profile

    ensure_user_profiles()
    profile = load_profile(pick_profile(args, default_profile), schema)
    if interpreter is None:
        import oi_voice  # the composition root: it wires the terminal display and the server in

        interpreter = oi_voice.Interpreter()
    config = Configuration(interpreter, profile, schema)
    apply(profile, interpreter)  # a value the engine refuses is an error at its line
    source = f"profile {profile.path}"
    for key, value in profile.values().items():
        if schema[key].target == "interpreter":
            config.sources[key] = source
        else:
            config._put(key, value, source)
    for key, value in environment_settings(schema=schema).items():
        config._put(key, value, "environment")
    if getattr(args, "local", None):
        # -l outranks the environment like any flag: it means "the local model".
        config._put("llm.model", profile.settings.get("llm.model", "local"), "flag -l")
    for key, value in flag_settings(args, program, schema).items():
        config._put(key, value, "flag")
    return config

