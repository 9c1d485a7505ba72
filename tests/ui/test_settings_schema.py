"""One entry in the settings schema is a setting everywhere: an ``oi`` flag, a validated
profile key, an environment variable, a precedence rule and a field of the settings dialog.

The test extends the schema with :meth:`Schema.extended` and hands the extended schema to
each derivation (they all take it as a parameter): the global schema is never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from oi_voice import Interpreter
from oi_voice.app_settings import load_app_settings, save_app_settings
from oi_voice.cli.flags import build_parser, flag_settings
from oi_voice.frontend.config import configure
from oi_voice.frontend.headless import build_parser as headless_parser
from oi_voice.profiles import ProfileError, environment_settings, load_profile, parse_profile
from oi_voice.settings import SCHEMA, DialogField, Setting
from oi_voice.ui.settings import SettingsDialog
from oi_voice.voice.pipeline import VoiceConfig

#: The setting the test adds: read by `oi` (terminal), with a flag, a variable and a dialog field.
ADDED = Setting("test_level", "int", 3, "a setting this test adds", target="terminal", minimum=1,
                flags=("-tl", "--test_level"), metavar="N", env="OI_VOICE_TEST_LEVEL",
                field=DialogField("Test &level:", "Behaviour", minimum=1, maximum=9))
SCHEMA_PLUS = SCHEMA.extended(ADDED)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "config"
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("OI_VOICE_PREWARM", "0")  # no code runs here: no kernel
    monkeypatch.delenv("OI_VOICE_TEST_LEVEL", raising=False)
    yield folder


def test_an_added_setting_is_a_flag_a_profile_key_a_variable_and_a_dialog_field(
        qtbot: QtBot, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "test_level" not in SCHEMA  # only the extended schema has it

    # -- an `oi` flag, short and long, typed --
    parser = build_parser(SCHEMA_PLUS)
    assert "--test_level" in parser.format_help() and "--test_level" not in build_parser().format_help()
    assert flag_settings(parser.parse_intermixed_args(["-tl", "7", "hi"]), SCHEMA_PLUS) == {"test_level": 7}
    with pytest.raises(SystemExit):
        parser.parse_intermixed_args(["--test_level", "loud"])
    assert "--test_level" not in headless_parser(SCHEMA_PLUS).format_help()  # a terminal setting: `oi` only

    # -- a profile key, validated with file, line and key --
    assert parse_profile("test_level: 5\n", schema=SCHEMA_PLUS).terminal == {"test_level": 5}
    for text, words in (("test_level: loud\n", "must be an integer"), ("test_level: 0\n", "at least 1")):
        with pytest.raises(ProfileError) as bad:
            parse_profile(text, Path("/p/t.yaml"), schema=SCHEMA_PLUS)
        assert (bad.value.line, bad.value.key) == (1, "test_level") and words in str(bad.value)
    with pytest.raises(ProfileError, match="unknown setting"):
        parse_profile("test_level: 5\n")  # the global schema does not know it

    # -- an environment variable, converted and checked --
    assert environment_settings({"OI_VOICE_TEST_LEVEL": "4"}, SCHEMA_PLUS) == {"test_level": 4}
    assert environment_settings({"OI_VOICE_TEST_LEVEL": "4"}) == {}

    # -- in configure(): profile < environment < flags, each value with its source --
    profile = config / "mine.yaml"
    config.mkdir(parents=True)
    profile.write_text("test_level: 5\n")
    owner = Interpreter()
    try:
        def level(*argv: str) -> tuple[int, str]:
            args = build_parser(SCHEMA_PLUS).parse_intermixed_args(["-p", str(profile), *argv])
            done = configure(args, "oi", schema=SCHEMA_PLUS, interpreter=owner)
            return done.terminal["test_level"], done.sources["test_level"]

        assert level() == (5, f"profile {profile}")
        monkeypatch.setenv("OI_VOICE_TEST_LEVEL", "6")
        assert level() == (6, "environment")
        assert level("--test_level", "8") == (8, "flag")
    finally:
        owner.close()
    monkeypatch.delenv("OI_VOICE_TEST_LEVEL")

    # -- a field of the settings dialog, edited with the keyboard and saved into the profile --
    settings = load_app_settings("voice", SCHEMA_PLUS)
    assert settings.test_level == 3  # the schema's default: the profile does not set it
    dialog = SettingsDialog(settings, profiles=["voice"], input_devices=[], output_devices=[], voices=[],
                            key_store="a test file")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    spin = dialog.findChild(QSpinBox, "test_level")
    assert isinstance(spin, QSpinBox) and spin.value() == 3 and (spin.minimum(), spin.maximum()) == (1, 9)
    group = spin.parentWidget()
    assert isinstance(group, QGroupBox) and group.title() == "Behaviour"
    line = spin.findChild(QLineEdit)
    assert isinstance(line, QLineEdit)
    line.setFocus()
    qtbot.keyClick(line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(line, "6")
    edited = dialog.settings()
    assert edited.test_level == 6 and edited.model == settings.model
    path = save_app_settings(edited)
    assert "test_level: 6\n" in path.read_text()
    assert load_profile(path, SCHEMA_PLUS).terminal["test_level"] == 6
    assert load_app_settings("voice", SCHEMA_PLUS) == edited


def test_an_added_voice_setting_reaches_oi_voice_and_voice_config() -> None:
    added = Setting("voice.test_gain", "float", 1.0, "a voice setting this test adds", target="voice",
                    minimum=0, flags=("--test-gain",), metavar="X")
    schema = SCHEMA.extended(added)
    args = headless_parser(schema).parse_args(["--headless", "--test-gain", "2.5"])
    assert args.test_gain == 2.5
    assert "--test-gain" not in build_parser(schema).format_help()  # a voice setting: `oi-voice` only

    class TestVoiceConfig(VoiceConfig, schema=schema):
        """VoiceConfig with the extended schema's fields."""

    config = TestVoiceConfig.from_settings(parse_profile("voice:\n  test_gain: 0.5\n", schema=schema).voice)
    assert config.test_gain == 0.5 and config.language == VoiceConfig().language
    assert TestVoiceConfig().test_gain == 1.0
