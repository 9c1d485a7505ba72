"""The desktop app's settings: read from and saved into the user's copy of a profile.

The settings dialog edits an :class:`AppSettings`; :func:`save_app_settings` writes the
keys it covers into ``<config>/profiles/<profile>.yaml``, changing only those keys (the
rest of the file, comments included, stays as the user wrote it), atomically.

The API key never goes into the YAML. It is kept by :class:`SecretStore`:

- in the OS keyring (service ``oi-voice``, user name = the profile) when the ``keyring``
  package has a working backend (Secret Service, KWallet, macOS Keychain, Windows
  Credential Locker): a probe stores, reads and deletes a throw-away entry first;
- otherwise in ``<config>/secrets.json``, created with mode 0600 (readable only by you).

A key written in a profile's YAML (``llm.api_key``) still works as before; a stored key
wins over it. :func:`key_store_description` says in words where keys go, for the dialog.

This module imports no Qt: the app, its tests and scripts can use it without PySide6.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oi_voice.profiles import (
    ProfileError,
    bundled_dir,
    config_dir,
    current_value,
    ensure_user_profiles,
    load_profile,
    parse_profile,
    profiles_dir,
    update_profile_text,
    write_profile_text,
)

log = logging.getLogger("oi_voice.app_settings")

#: The keyring service name; the user name is the profile's name.
SERVICE = "oi-voice"
#: The fallback secrets file's name in the config folder.
SECRETS_FILE = "secrets.json"

#: AppSettings field -> the profile key it is saved as (api_key and profile are not YAML keys).
PROFILE_KEYS: dict[str, str] = {
    "model": "llm.model",
    "api_base": "llm.api_base",
    "stt_model": "voice.stt_model",
    "language": "voice.language",
    "tts_voice": "voice.tts_voice",
    "tts_rate": "voice.tts_rate",
    "input_device": "voice.input_device",
    "output_device": "voice.output_device",
    "push_to_talk": "voice.push_to_talk",
    "confirm_by_voice": "voice.confirm_by_voice",
    "auto_run": "auto_run",
    "review_transcripts": "voice.review_transcripts",
}

#: Model names whose provider needs no API key (served locally or by the user's own server).
_KEYLESS_PREFIXES = ("local", "ollama", "ollama_chat/", "lm_studio/", "hosted_vllm/", "llamafile/", "vllm/")
#: Provider prefix -> the environment variables litellm reads its key from.
_PROVIDER_ENV = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "together_ai": ("TOGETHERAI_API_KEY", "TOGETHER_API_KEY"),
}


@dataclass
class AppSettings:
    """What the settings dialog edits. ``None`` means "not set: use the default"."""

    #: The profile the app uses (and these settings are saved into).
    profile: str = "voice"
    #: ``llm.model``; empty: none chosen yet (the app shows its first-run screen).
    model: str = ""
    #: ``llm.api_base``: an OpenAI-compatible server.
    api_base: str | None = None
    #: Kept by :class:`SecretStore`, never in the YAML. ``None``: leave the stored key as it
    #: is; ``""``: remove it (the dialog's cleared key field).
    api_key: str | None = None
    #: ``voice.stt_model``: a faster-whisper size name or a model folder; None: follows the language.
    stt_model: str | None = None
    #: ``voice.language``: en, zh, ko or auto; None: the system locale's.
    language: str | None = None
    #: ``voice.tts_voice``; None: the system's default voice.
    tts_voice: str | None = None
    #: ``voice.tts_rate`` in words per minute; None: the voice's default.
    tts_rate: int | None = None
    #: ``voice.input_device``; None: the system default microphone.
    input_device: str | None = None
    #: ``voice.output_device``; None: the system default speaker.
    output_device: str | None = None
    #: ``voice.push_to_talk``: a key name Qt understands ("F9", "Pause").
    push_to_talk: str = "F9"
    #: ``voice.confirm_by_voice``: say what will run and listen for yes/no.
    confirm_by_voice: bool = True
    #: ``auto_run``: run code without asking.
    auto_run: bool = False
    #: ``voice.review_transcripts``: edit a transcript before it is sent.
    review_transcripts: bool = False


_DEFAULTS = AppSettings()


def load_app_settings(profile: str = "voice") -> AppSettings:
    """The settings of ``profile`` (the user's copy, else the bundled one), plus its stored API key.

    Keys the profile does not set get :class:`AppSettings`' defaults. A broken profile is a
    :class:`~oi_voice.profiles.ProfileError` naming the file, line and key. The key comes
    from :func:`default_store` (which may ask the OS keyring), else from the YAML.
    """
    settings = read_profile_settings(profile)
    stored = default_store().get(settings.profile)
    if stored:
        settings.api_key = stored
    return settings


def read_profile_settings(profile: str) -> AppSettings:
    """The settings the YAML of ``profile`` gives, without asking the key store (quick: no keyring).

    ``api_key`` is the key written in the YAML, else None ("leave the stored key as it is").
    """
    ensure_user_profiles()
    loaded = load_profile(profile)
    values: dict[str, Any] = {"profile": loaded.name}
    for name, key in PROFILE_KEYS.items():
        value = current_value(loaded, key)
        values[name] = getattr(_DEFAULTS, name) if value is None and not _set_in(loaded, key) else value
    if values["model"] is None:
        values["model"] = ""
    values["api_key"] = loaded.settings.get("llm.api_key") or None
    return AppSettings(**values)


def save_app_settings(settings: AppSettings) -> Path:
    """Write ``settings`` into ``<config>/profiles/<profile>.yaml``; returns that path.

    Only the keys that changed are written (existing ones in place, new ones in their
    section), atomically; the rest of the file is kept. A new profile name makes a new
    file. The API key goes to :func:`default_store` (see :func:`key_store_description`);
    ``api_key=""`` removes it there and nulls a key written in the YAML.
    """
    name = settings.profile.strip()
    if not name or "/" in name or os.sep in name or name.startswith("."):
        raise ProfileError(f"{settings.profile!r} is not a profile name (use letters, digits, - or _)")
    ensure_user_profiles()
    path = profiles_dir() / f"{name}.yaml"
    if not path.exists() and (profiles_dir() / f"{name}.yml").exists():
        path = profiles_dir() / f"{name}.yml"
    text = _source_text(name, path)
    loaded = parse_profile(text, path, name=name)
    values: dict[str, Any] = {}
    for field_name, key in PROFILE_KEYS.items():
        value = getattr(settings, field_name)
        if field_name == "model":
            value = value.strip()
        if not _set_in(loaded, key) and value == getattr(_DEFAULTS, field_name):
            continue  # not in the file and still the default: keep the file short
        if _set_in(loaded, key) and current_value(loaded, key) == value:
            continue
        values[key] = value
    yaml_key = loaded.settings.get("llm.api_key")
    if settings.api_key == "" and yaml_key:
        values["llm.api_key"] = None  # the user cleared the key: the YAML's must go too
    if values or not path.exists():
        write_profile_text(path, update_profile_text(text, values, path))
    store = default_store()
    if settings.api_key == "":
        store.delete(name)
    elif settings.api_key is not None and (settings.api_key != yaml_key or store.get(name) is not None):
        store.set(name, settings.api_key)
    return path


def model_configured(settings: AppSettings) -> bool:
    """Whether the app can talk to a model with ``settings`` (else it shows its first-run screen).

    False when no model is set, or when a hosted provider's model (``gpt-4o-mini``,
    ``anthropic/...``) has no API key from anywhere: the settings, ``OI_VOICE_API_KEY`` or
    the provider's own variable (``OPENAI_API_KEY`` ...). Local models, an ``api_base`` and
    providers this does not know count as configured.
    """
    model = settings.model.strip()
    if not model:
        return False
    if settings.api_base or settings.api_key or os.environ.get("OI_VOICE_API_KEY"):
        return True
    if model.startswith(_KEYLESS_PREFIXES):
        return True
    provider = model.split("/", 1)[0] if "/" in model else _bare_provider(model)
    names = _PROVIDER_ENV.get(provider)
    if names is None:
        return True  # a provider we do not know may read its key from anywhere
    return any(os.environ.get(n) for n in names)


def key_store_description() -> str:
    """Where API keys are kept, in words for the dialog ("the system keyring (SecretService)" ...)."""
    return default_store().description()


def _bare_provider(model: str) -> str:
    if model.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-")):
        return "openai"
    if model.startswith("claude"):
        return "anthropic"
    if model.startswith("gemini"):
        return "gemini"
    return ""


def _set_in(profile: Any, key: str) -> bool:
    """Whether the profile file writes ``key`` at all (null included)."""
    return key in profile.lines


def _source_text(name: str, path: Path) -> str:
    """The text to edit: the user's file, else the bundled profile's, else a new profile's header."""
    for candidate in (path, bundled_dir() / f"{name}.yaml"):
        try:
            return candidate.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue  # a read-only home has no user copy: start from the bundled one
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read it: {exc}", candidate) from exc
    return f"# The {name} profile, written by oi-voice's settings dialog.\n"


# --- the API key --------------------------------------------------------------------------------


class SecretStore:
    """API keys by profile: the OS keyring when it works, else a 0600 JSON file.

    ``folder`` holds the fallback file (default: :func:`~oi_voice.profiles.config_dir`).
    ``backend`` is a ``keyring`` backend to use; default: the one ``PYTHON_KEYRING_BACKEND``
    names, else ``keyring.get_keyring()``. ``use_keyring=False`` keeps keys in the file.
    """

    def __init__(self, folder: Path | None = None, *, backend: Any = None, use_keyring: bool = True) -> None:
        self.folder = folder if folder is not None else config_dir()
        self.path = self.folder / SECRETS_FILE
        self._backend = backend
        self._use_keyring = use_keyring
        self._probed = False
        self._lock = threading.Lock()

    # -- where keys go --

    @property
    def keyring(self) -> Any:
        """The working keyring backend, or None (keys then go to :attr:`path`)."""
        with self._lock:
            if not self._probed:
                self._probed = True
                self._backend = self._probe() if self._use_keyring else None
            return self._backend

    def description(self) -> str:
        """Where keys are kept, in words."""
        backend = self.keyring
        if backend is not None:
            return f"the system keyring ({_backend_name(backend)})"
        return f"{_home_relative(self.path)} (readable only by you)"

    def _probe(self) -> Any:
        try:
            import keyring
            import keyring.core
            from keyring.backends import chainer, fail, null
        except ImportError:
            return None
        try:
            backend = self._backend or keyring.core.load_env() or keyring.get_keyring()
        except Exception as exc:  # a misnamed PYTHON_KEYRING_BACKEND: fall back, do not crash the app
            log.info("no keyring: %s", exc)
            return None
        if isinstance(backend, (fail.Keyring, null.Keyring)):
            return None
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            return None
        user, token = f"probe-{secrets.token_hex(4)}", secrets.token_hex(8)
        try:
            backend.set_password(SERVICE, user, token)
            works = backend.get_password(SERVICE, user) == token
            backend.delete_password(SERVICE, user)
        except Exception as exc:  # a locked or absent secret service raises backend-specific errors
            log.info("keyring %s is not usable: %s", _backend_name(backend), exc)
            return None
        return backend if works else None

    # -- keys --

    def get(self, profile: str) -> str | None:
        """The key stored for ``profile`` (keyring first, then the file), or None."""
        backend = self.keyring
        if backend is not None:
            try:
                value = backend.get_password(SERVICE, profile)
                if value:
                    return str(value)
            except Exception as exc:  # keyring backends raise their own error types
                log.warning("could not read the API key from the keyring: %s", exc)
        return self._read_file().get(profile) or None

    def set(self, profile: str, key: str) -> str:
        """Store ``key`` for ``profile``; returns where it went (see :meth:`description`)."""
        if not key:
            self.delete(profile)
            return self.description()
        backend = self.keyring
        if backend is not None:
            try:
                backend.set_password(SERVICE, profile, key)
            except Exception as exc:  # e.g. the keyring was locked after the probe
                log.warning("could not store the API key in the keyring (%s); using %s", exc, self.path)
            else:
                self._drop_from_file(profile)  # one place per key: an old file copy would be stale
                return f"the system keyring ({_backend_name(backend)})"
        data = self._read_file()
        data[profile] = key
        self._write_file(data)
        return f"{_home_relative(self.path)} (readable only by you)"

    def delete(self, profile: str) -> None:
        """Forget the key of ``profile`` wherever it is."""
        backend = self.keyring
        if backend is not None:
            try:
                if backend.get_password(SERVICE, profile) is not None:
                    backend.delete_password(SERVICE, profile)
            except Exception as exc:  # keyring backends raise their own error types
                log.warning("could not remove the API key from the keyring: %s", exc)
        self._drop_from_file(profile)

    # -- the file --

    def _drop_from_file(self, profile: str) -> None:
        data = self._read_file()
        if profile in data:
            del data[profile]
            self._write_file(data)

    def _read_file(self) -> dict[str, str]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ProfileError(f"cannot read the stored API keys: {exc}", self.path) from exc
        keys = raw.get("api_keys", {}) if isinstance(raw, dict) else {}
        return {str(k): str(v) for k, v in keys.items() if isinstance(v, str)}

    def _write_file(self, data: dict[str, str]) -> None:
        """Write the file atomically; the temp file is born 0600, so no moment exposes a key."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temp = self.folder / f".{SECRETS_FILE}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "api_keys": data}, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


_stores: dict[tuple[str, str], SecretStore] = {}
_stores_lock = threading.Lock()


def default_store() -> SecretStore:
    """The store for the current config folder and ``PYTHON_KEYRING_BACKEND`` (probed once each)."""
    key = (str(config_dir()), os.environ.get("PYTHON_KEYRING_BACKEND", ""))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SecretStore(Path(key[0]))
        return store


def _backend_name(backend: Any) -> str:
    name = type(backend).__module__.rsplit(".", 1)[-1]
    return "macOS Keychain" if name == "macOS" else "Windows Credential Locker" if name == "Windows" else name


def _home_relative(path: Path) -> str:
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


__all__ = [
    "PROFILE_KEYS",
    "AppSettings",
    "SecretStore",
    "default_store",
    "key_store_description",
    "load_app_settings",
    "model_configured",
    "read_profile_settings",
    "save_app_settings",
]
