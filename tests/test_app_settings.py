"""The desktop app's settings: saved into the user's profile, the API key kept out of it.

Every test gets its own config folder (OI_VOICE_CONFIG_DIR). Keys go to the 0600 file
unless a test picks a keyring backend with PYTHON_KEYRING_BACKEND, keyring's own switch;
``MemoryKeyring`` below is a real keyring backend (keyring's plugin interface), kept in memory.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError, PasswordSetError

from oi_voice.app_settings import (
    SERVICE,
    AppSettings,
    key_store_description,
    load_app_settings,
    model_configured,
    save_app_settings,
)
from oi_voice.profiles import ProfileError, load_profile
from oi_voice.voice.pipeline import VoiceConfig


class MemoryKeyring(KeyringBackend):
    """A keyring backend holding passwords in this process."""

    priority = 1  # type: ignore[assignment]
    passwords: ClassVar[dict[tuple[str, str], str]] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class LockedKeyring(KeyringBackend):
    """A keyring backend that refuses to store anything (a locked collection)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError(username)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private config folder; no OS keyring (keys go to the 0600 file)."""
    folder = tmp_path / "config"
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in ("OI_VOICE_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    MemoryKeyring.passwords.clear()
    yield folder
    MemoryKeyring.passwords.clear()


EDITED = dict(model="ollama/llama3.1", api_base="http://localhost:11434/v1", stt_model="base.en", language="de",
              tts_voice="German", tts_rate=180, input_device="USB Mic", output_device="Headphones",
              push_to_talk="F8", confirm_by_voice=False, auto_run=True, review_transcripts=True)


def test_defaults_come_from_the_bundled_voice_profile(config: Path) -> None:
    settings = load_app_settings("voice")
    assert settings.profile == "voice"
    assert settings.model == "gpt-4o-mini"
    # Unset: the language follows the system locale, the speech model follows the language.
    assert (settings.stt_model, settings.language, settings.push_to_talk) == (None, None, "F9")
    assert settings.api_key is None and settings.auto_run is False and settings.review_transcripts is False
    assert (config / "profiles" / "voice.yaml").is_file()  # the user's copy was made


def test_round_trip_through_the_users_profile(config: Path) -> None:
    edited = replace(load_app_settings("voice"), api_key="sk-test-1", **EDITED)  # type: ignore[arg-type]
    path = save_app_settings(edited)
    assert path == config / "profiles" / "voice.yaml"
    assert load_app_settings("voice") == edited
    # The file is an ordinary profile: oi and the voice layer read the same values.
    profile = load_profile(path)
    assert profile.settings["llm.model"] == "ollama/llama3.1" and profile.settings["auto_run"] is True
    voice = VoiceConfig.from_settings(profile.voice)
    assert (voice.input_device, voice.output_device, voice.review_transcripts) == ("USB Mic", "Headphones", True)
    assert (voice.tts_voice, voice.tts_rate, voice.push_to_talk, voice.confirm_by_voice) == ("German", 180, "F8", False)
    assert "sk-test-1" not in path.read_text()  # the key never lands in the YAML


def test_saving_keeps_comments_and_other_keys(config: Path) -> None:
    folder = config / "profiles"
    folder.mkdir(parents=True)
    original = (
        "# My profile.\n"
        "llm:\n"
        "  model: gpt-4o   # the big one\n"
        "  temperature: 0.2\n"
        "  # api_base: http://example\n"
        "custom_instructions: Be brief.\n"
        "voice.language: en\n"
        "voice:\n"
        "  speak_replies: false  # quiet\n"
        "# trailing comment\n"
    )
    (folder / "mine.yaml").write_text(original)
    settings = replace(load_app_settings("mine"), model="gpt-4o-mini", api_base="https://api.example.com/v1",
                       language="fr", input_device="Mic", auto_run=True)
    save_app_settings(settings)
    assert (folder / "mine.yaml").read_text() == (
        "# My profile.\n"
        "llm:\n"
        "  model: gpt-4o-mini   # the big one\n"
        "  temperature: 0.2\n"
        "  api_base: https://api.example.com/v1\n"
        "  # api_base: http://example\n"
        "custom_instructions: Be brief.\n"
        "voice.language: fr\n"
        "voice:\n"
        "  speak_replies: false  # quiet\n"
        "  input_device: Mic\n"
        "auto_run: true\n"
        "# trailing comment\n"
    )
    profile = load_profile("mine")
    assert profile.settings["llm.temperature"] == 0.2 and profile.voice["speak_replies"] is False
    assert load_app_settings("mine") == settings


def test_unchanged_settings_leave_the_file_alone(config: Path) -> None:
    path = config / "profiles" / "voice.yaml"
    settings = load_app_settings("voice")
    before = path.read_text()
    inode = path.stat().st_ino
    assert save_app_settings(settings) == path
    assert path.read_text() == before and path.stat().st_ino == inode


def test_a_new_profile_name_makes_a_new_file(config: Path) -> None:
    settings = AppSettings(profile="work", model="local", stt_model="small.en")
    path = save_app_settings(settings)
    assert path == config / "profiles" / "work.yaml"
    assert load_app_settings("work") == settings
    with pytest.raises(ProfileError, match="not a profile name"):
        save_app_settings(AppSettings(profile="../evil", model="local"))


def test_the_write_is_atomic(config: Path) -> None:
    path = config / "profiles" / "voice.yaml"
    load_app_settings("voice")
    old_text = path.read_text()
    witness = path.with_name("witness.lnk")
    os.link(path, witness)  # a second name for the old file: an in-place write would change it too
    save_app_settings(replace(load_app_settings("voice"), model="gpt-4o"))
    assert witness.read_text() == old_text  # the old file was replaced whole, not rewritten
    assert "model: gpt-4o\n" in path.read_text()
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []  # no temp files left


def test_the_api_key_goes_to_a_file_only_the_user_can_read(config: Path) -> None:
    assert "secrets.json" in key_store_description() and "readable only by you" in key_store_description()
    save_app_settings(replace(load_app_settings("voice"), api_key="sk-secret"))
    secrets_file = config / "secrets.json"
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    assert json.loads(secrets_file.read_text())["api_keys"] == {"voice": "sk-secret"}
    assert "sk-secret" not in (config / "profiles" / "voice.yaml").read_text()
    assert load_app_settings("voice").api_key == "sk-secret"
    assert load_app_settings("default").api_key is None  # keys are per profile


def test_clearing_the_key_removes_it_and_none_keeps_it(config: Path) -> None:
    save_app_settings(replace(load_app_settings("voice"), api_key="sk-secret"))
    save_app_settings(replace(load_app_settings("voice"), api_key=None, model="gpt-4o"))
    assert load_app_settings("voice").api_key == "sk-secret"  # None: leave the stored key alone
    save_app_settings(replace(load_app_settings("voice"), api_key=""))
    assert load_app_settings("voice").api_key is None
    assert json.loads((config / "secrets.json").read_text())["api_keys"] == {}
    assert stat.S_IMODE(os.stat(config / "secrets.json").st_mode) == 0o600


def test_a_key_written_in_the_yaml_still_works_and_the_stored_one_wins(config: Path) -> None:
    folder = config / "profiles"
    folder.mkdir(parents=True)
    (folder / "keyed.yaml").write_text("llm:\n  model: gpt-4o\n  api_key: sk-from-yaml\n")
    assert load_app_settings("keyed").api_key == "sk-from-yaml"
    save_app_settings(replace(load_app_settings("keyed"), api_key="sk-stored"))
    assert load_app_settings("keyed").api_key == "sk-stored"
    assert "sk-from-yaml" in (folder / "keyed.yaml").read_text()  # the user's own line is left alone
    save_app_settings(replace(load_app_settings("keyed"), api_key=""))  # cleared: from both places
    assert load_app_settings("keyed").api_key is None
    assert "sk-from-yaml" not in (folder / "keyed.yaml").read_text()
    assert load_profile("keyed").settings["llm.api_key"] is None


def test_the_key_goes_to_a_working_keyring(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{__name__}.MemoryKeyring")
    assert key_store_description().startswith("the system keyring")
    save_app_settings(replace(load_app_settings("voice"), api_key="sk-ring"))
    assert MemoryKeyring.passwords == {(SERVICE, "voice"): "sk-ring"}  # the probe entry is gone too
    assert not (config / "secrets.json").exists()
    assert load_app_settings("voice").api_key == "sk-ring"
    save_app_settings(replace(load_app_settings("voice"), api_key=""))
    assert MemoryKeyring.passwords == {}


def test_a_keyring_that_cannot_store_falls_back_to_the_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{__name__}.LockedKeyring")
    assert "secrets.json" in key_store_description()
    save_app_settings(replace(load_app_settings("voice"), api_key="sk-file"))
    assert json.loads((config / "secrets.json").read_text())["api_keys"] == {"voice": "sk-file"}


def test_a_broken_profile_is_a_clear_error_and_is_not_overwritten(config: Path) -> None:
    folder = config / "profiles"
    folder.mkdir(parents=True)
    broken = "llm:\n  model: gpt-4o\nvoice:\n  tts_rate: fast\n"
    (folder / "broken.yaml").write_text(broken)
    with pytest.raises(ProfileError) as caught:
        load_app_settings("broken")
    assert caught.value.key == "voice.tts_rate" and caught.value.line == 4
    assert "broken.yaml" in str(caught.value) and "integer" in str(caught.value)
    with pytest.raises(ProfileError):
        save_app_settings(AppSettings(profile="broken", model="gpt-4o-mini"))
    assert (folder / "broken.yaml").read_text() == broken
    (folder / "unclosed.yaml").write_text("llm: [model\n")
    with pytest.raises(ProfileError, match="invalid YAML"):
        load_app_settings("unclosed")


def test_model_configured(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not model_configured(AppSettings(model=""))
    assert not model_configured(AppSettings(model="  "))
    assert model_configured(AppSettings(model="local"))
    assert model_configured(AppSettings(model="ollama/llama3.1"))
    assert not model_configured(AppSettings(model="gpt-4o-mini"))  # hosted, and no key anywhere
    assert model_configured(AppSettings(model="gpt-4o-mini", api_key="sk-x"))
    assert model_configured(AppSettings(model="llama3", api_base="http://localhost:11434/v1"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert model_configured(AppSettings(model="gpt-4o-mini"))
    assert not model_configured(AppSettings(model="anthropic/claude-3-5-haiku-latest"))
