"""YAML profiles: named bundles of settings, Open Interpreter style.

A profile is a YAML file whose keys are attribute paths of the Interpreter, written
nested or dotted (both mean ``llm.model``)::

    llm:
      model: gpt-4o-mini
      temperature: 0
    auto_run: false
    custom_instructions: Be concise.
    computer.languages: [python, shell]
    voice:
      stt_model: tiny.en

The bundled profiles live in ``oi_voice/profiles_data/`` (package data, so a source
checkout and an installed package find them the same way) and are copied into the
user's config dir (``<config>/profiles/``) on first use; the user's copy wins.

Keys are validated when a profile is loaded: an unknown key, a wrong type or broken
YAML is a :class:`ProfileError` naming the file, the line and the key. ``voice.*`` and
terminal keys are validated too but kept on the :class:`Profile` (``profile.voice``,
``profile.terminal``) for the front end that uses them; :func:`apply` sets only the
Interpreter's settings.

Precedence, lowest first: built-in defaults < profile < environment < flags. The
desktop app and the CLI both call :func:`apply` then :func:`apply_environment`.

This module imports neither the engine nor litellm: the app can read profiles before
the engine exists.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from oi_voice.errors import ConfigError

Kind = Literal["str", "int", "float", "bool", "list[str]", "dict", "choice", "any"]
Target = Literal["interpreter", "terminal", "voice", "ignored"]

#: The profile used when none is named.
DEFAULT_PROFILE = "default"
#: The profiles shipped with oi_voice.
BUNDLED = ("default", "fast", "local", "voice")


@dataclass(frozen=True, slots=True)
class Spec:
    """What one profile key accepts, and who consumes it."""

    kind: Kind
    optional: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    target: Target = "interpreter"
    help: str = ""


def _s(kind: Kind, help: str = "", **kw: Any) -> Spec:
    return Spec(kind, help=help, **kw)


#: Every key a profile may set. Paths are the Interpreter's attribute paths, except for
#: ``terminal`` keys (read by ``oi``) and ``voice.*`` keys (read by the voice layer).
SETTINGS: dict[str, Spec] = {
    "llm.model": _s("str", "language model to use"),
    "llm.api_base": _s("str", "OpenAI-compatible server URL", optional=True),
    "llm.api_key": _s("str", "API key", optional=True),
    "llm.api_version": _s("str", "API version (Azure)", optional=True),
    "llm.temperature": _s("float", "sampling temperature", minimum=0),
    "llm.context_window": _s("int", "context window in tokens", optional=True, minimum=1),
    "llm.max_tokens": _s("int", "maximum tokens of one reply", optional=True, minimum=1),
    "llm.supports_functions": _s("bool", "native tool calls (null: from the model catalog)", optional=True),
    "llm.supports_vision": _s("bool", "the model sees images (null: from the model catalog)", optional=True),
    "llm.transport": _s("choice", "how to reach the model", choices=("auto", "openai", "litellm")),
    "llm.timeout": _s("float", "seconds without data before giving up", minimum=0),
    "llm.max_retries": _s("int", "attempts for transient failures", minimum=0),
    "llm.extra": _s("dict", "extra request parameters"),
    "llm.local_model": _s("str", "with model local: a GGUF file to serve instead of the bundled one",
                          optional=True),
    "system_message": _s("str", "base prompt"),
    "custom_instructions": _s("str", "appended to the system message"),
    "auto_run": _s("bool", "run code without asking"),
    "offline": _s("bool", "turn off online features other than the model"),
    "verbose": _s("bool", "print detailed logs"),
    "max_output": _s("int", "characters of output the model sees", minimum=200),
    "max_steps": _s("int", "model calls in one turn", minimum=1),
    "safe_mode": _s("choice", "off | ask | auto: high-risk code always asks", choices=("off", "ask", "auto")),
    "conversation_history": _s("bool", "save conversations"),
    "computer.languages": _s("list[str]", "languages the model may use"),
    # Read by `oi`.
    "multi_line": _s("bool", "``` starts and ends multi-line input", target="terminal"),
    "plain_text_display": _s("bool", "no colour or cursor movement", target="terminal"),
    # Read by the voice layer (oi_voice.voice, the desktop app).
    "voice.enabled": _s("bool", "talk to oi_voice", target="voice"),
    "voice.stt_model": _s("str", "faster-whisper model name or path (null: follows the language: tiny.en for en, "
                          "the packaged multilingual base otherwise)", optional=True, target="voice"),
    "voice.language": _s("str", "spoken language: en, zh, ko or auto (null: the system locale's)", optional=True,
                         target="voice"),
    "voice.languages": _s("list[str]", "the languages voice.language auto chooses among", target="voice"),
    "voice.push_to_talk": _s("str", "push-to-talk hotkey", target="voice"),
    "voice.vad": _s("bool", "end the utterance when speech stops", target="voice"),
    "voice.speak_replies": _s("bool", "read replies aloud", target="voice"),
    "voice.tts_voice": _s("str", "text-to-speech voice", optional=True, target="voice"),
    "voice.tts_rate": _s("int", "words per minute", optional=True, minimum=1, target="voice"),
    "voice.confirm_by_voice": _s("bool", "say what will run and listen for yes/no", target="voice"),
    "voice.barge_in": _s("bool", "push-to-talk while speaking stops the reply", target="voice"),
    "voice.input_device": _s("str", "microphone name (null: the system default)", optional=True, target="voice"),
    "voice.output_device": _s("str", "speaker name (null: the system default)", optional=True, target="voice"),
    "voice.review_transcripts": _s("bool", "edit a transcript before it is sent", target="voice"),
    # Open Interpreter profile keys that mean nothing here; accepted so its profiles load.
    "version": _s("any", "profile format version", target="ignored"),
    "disable_telemetry": _s("bool", "oi_voice sends no telemetry", target="ignored"),
}

#: Environment variables that override profiles (and are overridden by flags).
ENVIRONMENT = {
    "OI_VOICE_MODEL": "llm.model",
    "OI_VOICE_API_BASE": "llm.api_base",
    "OI_VOICE_API_KEY": "llm.api_key",
}

_NAMESPACES = {path.rsplit(".", 1)[0] for path in SETTINGS if "." in path}


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
    #: Line of each key in the file (for error messages).
    lines: dict[str, int] = field(default_factory=dict)

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
    """The profiles shipped in the package."""
    return Path(__file__).resolve().parent / "profiles_data"


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


def load_profile(name_or_path: str | Path) -> Profile:
    """Find, read and validate a profile (a name in the profiles folder, or a path)."""
    path = find_profile(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read it: {exc}", path) from exc
    return parse_profile(text, path, name=path.stem)


def parse_profile(text: str, path: Path | None = None, name: str = "profile") -> Profile:
    """Validate profile YAML text."""
    import yaml

    profile = Profile(name=name, path=path)
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
        for key, node in _walk(root, "", path):
            spec = SETTINGS[key]
            line = node.start_mark.line + 1
            try:
                value = loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise ProfileError(f"invalid value: {exc}", path, line, key) from None
            value = _validate(key, spec, value, path, line)
            if key in profile.lines:
                raise ProfileError(f"set twice (first on line {profile.lines[key]})", path, line, key)
            profile.lines[key] = line
            if spec.target == "interpreter":
                profile.settings[key] = value
            elif spec.target == "terminal":
                profile.terminal[key] = value
            elif spec.target == "voice":
                profile.voice[key.split(".", 1)[1]] = value
    finally:
        loader.dispose()
    return profile


def _walk(mapping: Any, prefix: str, path: Path | None) -> Iterator[tuple[str, Any]]:
    """(attribute path, value node) for every setting in a mapping node, nested or dotted."""
    import yaml

    for key_node, value_node in mapping.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise ProfileError("keys must be plain names", path, line)
        key = prefix + str(key_node.value)
        if key in SETTINGS:
            yield key, value_node
        elif key in _NAMESPACES:
            if not isinstance(value_node, yaml.MappingNode):
                raise ProfileError("must be a mapping of settings (for example `model: gpt-4o` under it)",
                                   path, line, key)
            yield from _walk(value_node, key + ".", path)
        else:
            close = difflib.get_close_matches(key, list(SETTINGS) + sorted(_NAMESPACES), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ProfileError(f"unknown setting{hint}", path, line, key)


_KIND_NAMES = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
               "list[str]": "a list of strings", "dict": "a mapping", "any": "a value"}


def _validate(key: str, spec: Spec, value: Any, path: Path | None, line: int) -> Any:
    """``value`` converted to the setting's type, or a ProfileError."""
    def wrong(expected: str) -> ProfileError:
        return ProfileError(f"must be {expected}, not {value!r}", path, line, key)

    if value is None:
        if spec.optional or spec.kind == "any":
            return None
        raise wrong(_KIND_NAMES.get(spec.kind, "set"))
    kind = spec.kind
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
        if value not in spec.choices:
            raise wrong("one of " + ", ".join(spec.choices))
    elif kind == "list[str]":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
    elif kind == "dict" and not isinstance(value, dict):
        raise wrong("a mapping")
    if spec.minimum is not None and isinstance(value, (int, float)) and value < spec.minimum:
        raise ProfileError(f"must be at least {spec.minimum:g}, not {value!r}", path, line, key)
    return value


# --- applying ---------------------------------------------------------------------------------


def apply(profile: Profile, interpreter: Settable) -> None:
    """Set the profile's Interpreter settings on ``interpreter`` (voice/terminal keys are not)."""
    for key, value in profile.settings.items():
        try:
            interpreter.set(key, value)
        except (ConfigError, ValueError, TypeError) as exc:
            raise profile.error(key, str(exc)) from exc


def environment_settings(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The settings the environment gives (``OI_VOICE_MODEL`` ...), by attribute path."""
    env = os.environ if environ is None else environ
    return {path: env[name] for name, path in ENVIRONMENT.items() if env.get(name)}


def apply_environment(interpreter: Settable) -> dict[str, str]:
    """Apply :func:`environment_settings` (they outrank profiles); returns what was set."""
    settings = environment_settings()
    for path, value in settings.items():
        interpreter.set(path, value)
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


# --- saving ------------------------------------------------------------------------------------


def update_profile_text(text: str, values: dict[str, Any], path: Path | None = None) -> str:
    """``text`` with the settings in ``values`` (attribute path -> value) set, the rest kept as written.

    A key already in the file has just its value replaced (its comments, quoting of other
    keys and the order stay); a missing key is added to its section (``voice:`` ...), or as
    a new section at the end. The result is checked to load back with these values; a file
    that does not load now, or an edit that would not load, is a :class:`ProfileError`.
    """
    import yaml

    current = parse_profile(text, path)  # refuse to edit a file that is already broken
    for key, value in values.items():
        if key not in SETTINGS:
            raise ProfileError("unknown setting", path, key=key)
        _validate(key, SETTINGS[key], value, path, 0)
    found: dict[str, tuple[Any, Any]] = {}  # key -> (key node, value node)
    sections: dict[str, Any] = {}  # namespace -> its block mapping node at the top level
    dotted: set[str] = set()  # namespaces the file writes as `voice.x:` at the top level
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        for key_node, value_node in root.value:
            name = str(key_node.value)
            if name in SETTINGS:
                found[name] = (key_node, value_node)
                if "." in name:
                    dotted.add(name.split(".", 1)[0])
            elif name in _NAMESPACES and isinstance(value_node, yaml.MappingNode):
                if getattr(value_node, "flow_style", False):
                    dotted.add(name)  # `voice: {a: 1}`: new keys go in dotted, not into the braces
                else:
                    sections[name] = value_node
                for sub_key, sub_value in value_node.value:
                    found[f"{name}.{sub_key.value}"] = (sub_key, sub_value)
        if getattr(root, "flow_style", False) and any(k not in found for k in values):
            raise ProfileError("written as one {...} mapping; add the settings by hand", path)
    edits: dict[int, str] = {}  # position in text -> replacement/insertion, applied back to front
    spans: dict[int, int] = {}  # position -> end of the replaced span
    missing_top: list[str] = []
    missing_in: dict[str, list[str]] = {}
    for key, value in values.items():
        if key in found:
            if current_value(current, key) == value:
                continue  # unchanged: keep the file's own spelling of it
            key_node, node = found[key]
            start, end = node.start_mark.index, node.end_mark.index
            if start < key_node.end_mark.index or not isinstance(node, yaml.ScalarNode):
                raise ProfileError("written in a way this editor cannot change (an alias or a nested value); "
                                   "edit it by hand", path, key_node.start_mark.line + 1, key)
            old = text[start:end]
            new = _yaml_scalar(value)
            if start == end:
                new = " " + new  # `key:` with nothing after the colon
            new += "\n" * (len(old) - len(old.rstrip("\n")))  # a block scalar owns its line breaks
            edits[start], spans[start] = new, end
        elif "." in key and key.split(".", 1)[0] in sections:
            missing_in.setdefault(key.split(".", 1)[0], []).append(key)
        else:
            missing_top.append(key)
    for namespace, keys in missing_in.items():
        mapping = sections[namespace]
        indent = " " * mapping.value[0][0].start_mark.column
        lines = "".join(f"\n{indent}{k.split('.', 1)[1]}: {_yaml_scalar(values[k])}" for k in keys)
        at = _line_end(text, _content_end(mapping))
        edits[at], spans[at] = edits.get(at, "") + lines, spans.get(at, at)
    if missing_top:
        indent = " " * (root.value[0][0].start_mark.column if root is not None and root.value else 0)
        lines = ""
        new_sections: dict[str, list[str]] = {}
        for key in missing_top:
            namespace = key.split(".", 1)[0] if "." in key else ""
            if namespace and namespace not in dotted:
                new_sections.setdefault(namespace, []).append(key)
            else:
                lines += f"\n{indent}{key}: {_yaml_scalar(values[key])}"
        for namespace, keys in new_sections.items():
            lines += f"\n{indent}{namespace}:"
            lines += "".join(f"\n{indent}  {k.split('.', 1)[1]}: {_yaml_scalar(values[k])}" for k in keys)
        if root is not None and root.value:
            at = _line_end(text, _content_end(root))
            edits[at], spans[at] = edits.get(at, "") + lines, spans.get(at, at)
        else:  # an empty file (comments only): add after what is there
            at = len(text)
            prefix = "" if not text or text.endswith("\n") else "\n"
            edits[at], spans[at] = edits.get(at, "") + prefix + lines.lstrip("\n") + "\n", at
    result = text
    for at in sorted(edits, reverse=True):
        result = result[:at] + edits[at] + result[spans[at]:]
    updated = parse_profile(result, path)
    for key, value in values.items():
        if current_value(updated, key) != value:  # a safety net: never write what does not load back
            raise ProfileError(f"could not be updated to {value!r}; edit it by hand", path, key=key)
    return result


def current_value(profile: Profile, key: str) -> Any:
    """The value ``profile`` sets for attribute path ``key`` (None when it does not set it)."""
    spec = SETTINGS[key]
    if spec.target == "voice":
        return profile.voice.get(key.split(".", 1)[1])
    if spec.target == "terminal":
        return profile.terminal.get(key)
    return profile.settings.get(key)


def _yaml_scalar(value: Any) -> str:
    """``value`` as one line of YAML (a flow scalar)."""
    import yaml

    style = '"' if isinstance(value, str) and ("\n" in value or "\r" in value) else None
    dumped = yaml.safe_dump(value, default_flow_style=True, default_style=style, allow_unicode=True,
                            width=2**31 - 1)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _content_end(node: Any) -> int:
    """Where the last value inside ``node`` ends.

    A block collection's own end mark lies at the next token, past any comments that
    follow it; those belong to what comes next, so new keys go before them.
    """
    import yaml

    while not getattr(node, "flow_style", False) and node.value and isinstance(
            node, (yaml.MappingNode, yaml.SequenceNode)):
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    return int(node.end_mark.index)


def _line_end(text: str, index: int) -> int:
    """Where the line holding ``index`` ends (a value that ends with its line break ends the line before)."""
    if index > 0 and text[index - 1] == "\n":
        return index - 1
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def write_profile_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temp file in the same folder, then os.replace)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o777  # keep a profile the user made private private
    except FileNotFoundError:
        mode = None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644 if mode is None else mode)  # mkstemp makes 0600; a profile holds no secret
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
