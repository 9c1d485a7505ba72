"""The profile editor (ruamel.yaml round-trip): the user's layout survives an edit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oi_voice.profile_editor import update_profile_text
from oi_voice.profiles import ProfileError, bundled_dir, load_profile, parse_profile


@pytest.mark.parametrize(("before", "values", "after"), [
    # a comments-only file: new keys after the comments, in sections
    ("# only comments\n", {"voice.stt_model": "base.en", "voice.language": "de", "auto_run": True},
     "# only comments\nvoice:\n  stt_model: base.en\n  language: de\nauto_run: true\n"),
    ("", {"llm.model": "x"}, "llm:\n  model: x\n"),
    # a flow mapping stays one
    ("voice: {language: en}\n", {"voice.tts_rate": 100}, "voice: {language: en, tts_rate: 100}\n"),
    # four-space indentation is kept; a namespace written dotted gets dotted keys
    ("voice.language: en\nllm:\n    model: a\n    temperature: 0\n",
     {"voice.tts_rate": 100, "llm.api_base": "http://x"},
     "voice.language: en\nllm:\n    model: a\n    temperature: 0\n    api_base: http://x\nvoice.tts_rate: 100\n"),
    # quoting and an end-of-line comment's distance are kept
    ("llm.model: 'quoted'    # mine\n", {"llm.model": "other-model"}, "llm.model: 'other-model'    # mine\n"),
    # a replaced list keeps its style and the comment lines after it
    ("computer:\n  languages:\n    - python\n    - shell\n# end\n",
     {"computer.languages": ["python"], "auto_run": True},
     "computer:\n  languages:\n    - python\nauto_run: true\n# end\n"),
    ("computer.languages: [python, shell]  # two\n", {"computer.languages": ["shell"]},
     "computer.languages: [shell]  # two\n"),
    # clearing an optional key
    ("llm:\n  model: gpt-4o\n  api_key: sk-x\n", {"llm.api_key": None}, "llm:\n  model: gpt-4o\n  api_key:\n"),
])
def test_edits_keep_the_layout(before: str, values: dict[str, Any], after: str) -> None:
    assert update_profile_text(before, values) == after


def test_unchanged_values_and_bundled_profiles() -> None:
    for path in bundled_dir().glob("*.yaml"):
        text = path.read_text()
        current = load_profile(path).values()
        assert update_profile_text(text, current) == text  # nothing changed: not one byte
        edited = update_profile_text(text, {"llm.model": "other", "voice.input_device": "Mic"})
        assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == \
            [line for line in edited.splitlines() if line.lstrip().startswith("#")]  # every comment, in order
        profile = parse_profile(edited)
        assert profile.settings["llm.model"] == "other" and profile.voice["input_device"] == "Mic"


def test_bad_edits_are_refused() -> None:
    with pytest.raises(ProfileError, match="unknown setting"):
        update_profile_text("auto_run: false\n", {"autorun": True})
    with pytest.raises(ProfileError, match="must be an integer"):
        update_profile_text("auto_run: false\n", {"max_output": "lots"})
    with pytest.raises(ProfileError, match="line 2"):
        update_profile_text("llm:\n  temprature: 1\n", {"auto_run": True}, Path("/p/x.yaml"))
