"""YAML profiles: named bundles of settings, Open Interpreter style.

A profile is a YAML file whose keys are the keys of :data:`oi_voice.settings.SCHEMA`
(attribute paths of the Interpreter, terminal and voice keys), written nested or
dotted (both mean ``llm.model``)::

    llm:
      model: gpt-4o-mini
      temperature: 0
    auto_run: false
    custom_instructions: Be concise.
    computer.languages: [python, shell]
    voice:
      stt_model: tiny.en

The bundled profiles live in the project's top-level ``profiles/`` (installed as package
data, see ``oi_voice._data``) and are copied into the
user's config dir (``<config>/profiles/``) on first use; the user's copy wins.

Keys are validated when a profile is loaded: an unknown key, a wrong type or broken
YAML is a :class:`ProfileError` naming the file, the line and the key. ``voice.*`` and
terminal keys are validated too but kept on the :class:`Profile` (``profile.voice``,
``profile.terminal``) for the front end that uses them; :func:`apply` sets only the
Interpreter's settings. Precedence (profile < environment < flags) is applied by
:func:`oi_voice.frontend.config.configure`; :mod:`oi_voice.profile_editor` changes keys
of a profile file, keeping the rest as the user wrote it.

This module imports neither the engine nor litellm: the app can read profiles before
the engine exists.
"""

from __future__ import annotations

import difflib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from oi_voice.errors import ConfigError
from oi_voice.settings import SCHEMA, Schema, Setting
from oi_voice.settings import environment_settings as _environment_settings

#: The profile used when none is named.
DEFAULT_PROFILE = "default"
#: The profiles shipped with oi_voice.
BUNDLED = ("default", "fast", "local", "voice")

#: Every key a profile may set (key -> its :class:`~oi_voice.settings.Setting`).
SETTINGS: dict[str, Setting] = SCHEMA.as_dict()

class ProfileError(ConfigError):
    """A profile cannot be used; the message names the file, the line and the key."""

    def __init__(self, problem: str, path: Path | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        where = str(path) if path else "profile"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {key + ': ' if key else ''}{problem}")
        self.path, self.line, self.key, self.problem = path, line, key, problem


@dataclass
class Profile:
    """A loaded, validated profile."""

    name: str
    path: Path | None
    #: Interpreter settings by attribute path, in file order.
    settings: dict[str, Any] = field(default_factory=dict)
    #: Settings for ``oi`` (``multi_line``, ``plain_text_display``).
    terminal: dict[str, Any] = field(default_factory=dict)
    #: ``voice.*`` settings without the prefix, for the voice layer.
    voice: dict[str, Any] = field(default_factory=dict)
    #: Settings only the desktop app reads (``ui.theme``), by key.
    app: dict[str, Any] = field(default_factory=dict)
    #: Line of each key in the file (for error messages).
    lines: dict[str, int] = field(default_factory=dict)
    #: The settings it was validated against.
    schema: Schema = field(default=SCHEMA, repr=False, compare=False)

    def values(self) -> dict[str, Any]:
        """Every setting the profile sets for a consumer, by key, in file order."""
        return {key: current_value(self, key) for key in self.lines if self.schema[key].target != "ignored"}

    def error(self, key: str, problem: str) -> ProfileError:
        """An error about ``key`` of this profile, located in its file."""
        return ProfileError(problem, self.path, self.lines.get(key), key)


class Settable(Protocol):
    """What :func:`apply` needs of an Interpreter."""

    def set(self, path: str, value: Any) -> None:
        """Set a setting by attribute path."""


# --- where profiles live ---------------------------------------------------------------


def config_dir() -> Path:
    """oi_voice's config folder (``OI_VOICE_CONFIG_DIR`` overrides; XDG_CONFIG_HOME is honoured)."""
    override = os.environ.get("OI_VOICE_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("oi-voice", appauthor=False))


def profiles_dir() -> Path:
    """The user's profiles folder."""
    return config_dir() / "profiles"


def bundled_dir() -> Path:
    """The profiles shipped with oi_voice (the project's top-level ``profiles/``)."""
    from oi_voice._data import data_dir

    return data_dir("profiles")


def ensure_user_profiles() -> Path:
    """Copy bundled profiles the user does not have yet into the user's folder; returns it."""
    folder = profiles_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for source in sorted(bundled_dir().glob("*.yaml")):
            target = folder / source.name
            if not target.exists():
                shutil.copyfile(source, target)
    except OSError:
        pass  # a read-only home still works: names fall back to the bundled copies
    return folder


def reset_profile(name: str | None = None) -> list[Path]:
    """Restore one bundled profile (or all of them) in the user's folder; the files written."""
    folder = profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(bundled_dir().glob("*.yaml"))
    if name:
        stem = Path(name).stem
        sources = [s for s in sources if s.stem == stem]
        if not sources:
            raise ProfileError(f"there is no bundled profile named {name!r} (bundled: {', '.join(BUNDLED)})")
    written = []
    for source in sources:
        shutil.copyfile(source, folder / source.name)
        written.append(folder / source.name)
    return written


def list_profiles() -> list[str]:
    """Names of the profiles the user can pick (theirs and the bundled ones)."""
    names = {p.stem for folder in (profiles_dir(), bundled_dir()) if folder.is_dir()
             for p in folder.iterdir() if p.suffix in (".yaml", ".yml")}
    return sorted(names)


def find_profile(name_or_path: str | Path) -> Path:
    """The file a profile name or path refers to."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if os.sep in text or "/" in text or candidate.is_file():
        if candidate.is_file():
            return candidate
        raise ProfileError("no such profile file", candidate)
    stem = text[:-5] if text.endswith(".yaml") else text[:-4] if text.endswith(".yml") else text
    for folder in (profiles_dir(), bundled_dir()):
        for suffix in (".yaml", ".yml"):
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    known = list_profiles()
    close = difflib.get_close_matches(stem, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ProfileError(f"no profile named {text!r} in {profiles_dir()} (available: {', '.join(known) or 'none'})."
                       + hint)


# --- loading -----------------------------------------------------------------------------


def load_profile(name_or_path: str | Path, schema: Schema = SCHEMA) -> Profile:
    """Find, read and validate a profile (a name in the profiles folder, or a path)."""
    path = find_profile(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read it: {exc}", path) from exc
    return parse_profile(text, path, name=path.stem, schema=schema)


def parse_profile(text: str, path: Path | None = None, name: str = "profile", schema: Schema = SCHEMA) -> Profile:
    """Validate profile YAML text against ``schema``."""
    import yaml

    profile = Profile(name=name, path=path, schema=schema)
    loader = yaml.SafeLoader(text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or str(exc)
            raise ProfileError(f"invalid YAML: {problem}", path, line) from None
        except yaml.YAMLError as exc:
            raise ProfileError(f"invalid YAML: {exc}", path) from None
        if root is None:
            return profile
        if not isinstance(root, yaml.MappingNode):
            raise ProfileError("a profile must be a mapping of settings (key: value)", path,
                               root.start_mark.line + 1)
        for key, node in _walk(root, "", path, schema):
            setting = schema[key]
            line = node.start_mark.line + 1
            try:
                value = loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise ProfileError(f"invalid value: {exc}", path, line, key) from None
            value = check_value(setting, value, path, line)
            if key in profile.lines:
                raise ProfileError(f"set twice (first on line {profile.lines[key]})", path, line, key)
            profile.lines[key] = line
            if setting.target == "interpreter":
                profile.settings[key] = value
            elif setting.target == "terminal":
                profile.terminal[key] = value
            elif setting.target == "voice":
                profile.voice[setting.voice_name] = value
            elif setting.target == "app":
                profile.app[key] = value
    finally:
        loader.dispose()
    return profile


def _walk(mapping: Any, prefix: str, path: Path | None, schema: Schema) -> Iterator[tuple[str, Any]]:
    """(key, value node) for every setting in a mapping node, nested or dotted."""
    import yaml

    for key_node, value_node in mapping.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ProfileError("keys must be plain names", path, line)
        key = prefix + str(key_node.value)
        if key in schema:
            yield key, value_node
        elif key in schema.namespaces:
            if not isinstance(value_node, yaml.MappingNode):
                raise ProfileError("must be a mapping of settings (for example `model: gpt-4o` under it)",
                                   path, line, key)
            yield from _walk(value_node, key + ".", path, schema)
        else:
            close = difflib.get_close_matches(key, schema.keys() + sorted(schema.namespaces), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProfileError(f"unknown setting{hint}", path, line, key)


def check_value(setting: Setting, value: Any, path: Path | None = None, line: int | None = None) -> Any:
    """``value`` converted to the setting's type, or a ProfileError naming the file, line and key."""
    try:
        return setting.check(value)
    except ValueError as exc:
        raise ProfileError(str(exc), path, line, setting.key) from None


# --- applying ---------------------------------------------------------------------------------


def apply(profile: Profile, interpreter: Settable) -> None:
    """Set the profile's Interpreter settings on ``interpreter`` (voice/terminal keys are not)."""
    for key, value in profile.settings.items():
        try:
            interpreter.set(key, value)
        except (ConfigError, ValueError, TypeError) as exc:
            raise profile.error(key, str(exc)) from exc


def environment_settings(environ: dict[str, str] | None = None, schema: Schema = SCHEMA) -> dict[str, Any]:
    """The settings the environment gives (``OI_VOICE_MODEL`` ...), by key; a bad value is a ConfigError."""
    try:
        return _environment_settings(environ, schema)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def apply_environment(interpreter: Settable, schema: Schema = SCHEMA) -> dict[str, Any]:
    """Apply the environment's Interpreter settings (they outrank profiles); returns what was set."""
    settings = {k: v for k, v in environment_settings(schema=schema).items() if schema[k].target == "interpreter"}
    for key, value in settings.items():
        interpreter.set(key, value)
    return settings


def open_folder(folder: Path) -> bool:
    """Open ``folder`` in the desktop's file manager; False where there is no opener."""
    import subprocess

    if sys.platform == "win32":
        startfile = getattr(os, "startfile", None)  # exists on Windows only
        if startfile is not None:
            startfile(str(folder))
            return True
        return False
    if sys.platform == "darwin":
        opener = shutil.which("open")
    else:
        # xdg-open without a display would fall back to a text browser in this terminal.
        has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        opener = shutil.which("xdg-open") if has_display else None
    if opener is None:
        return False
    try:
        subprocess.Popen([opener, str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    except OSError:
        return False
    return True


def current_value(profile: Profile, key: str) -> Any:
    """The value ``profile`` sets for ``key`` (None when it does not set it)."""
    setting = profile.schema[key]
    if setting.target == "voice":
        return profile.voice.get(setting.voice_name)
    if setting.target == "terminal":
        return profile.terminal.get(key)
    if setting.target == "app":
        return profile.app.get(key)
    return profile.settings.get(key)
