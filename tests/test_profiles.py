"""Profiles: loading, validation with file/line/key errors, first-run copies, applying,
and precedence (defaults < profile < environment < flags) as ``oi`` applies it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_llm import ScriptedLLM, text, tool_call
from test_cli_harness import OIRunner, finish, oi_fixture  # noqa: F401  (the oi fixture)

from oi_voice import Interpreter
from oi_voice.profiles import (
    BUNDLED,
    SETTINGS,
    Profile,
    ProfileError,
    apply,
    apply_environment,
    bundled_dir,
    ensure_user_profiles,
    environment_settings,
    list_profiles,
    load_profile,
    parse_profile,
    profiles_dir,
    reset_profile,
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OI_VOICE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OI_VOICE_PREWARM", "0")
    return tmp_path / "config"


@pytest.fixture(scope="module")
def interp() -> Iterator[Interpreter]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OI_VOICE_PREWARM", "0")  # no code runs here: no kernel
        owner = Interpreter()
    yield owner
    owner.close()


def parse(text: str) -> Profile:
    return parse_profile(text, Path("/p/test.yaml"), name="test")


def error_of(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        parse(text)
    return info.value


def test_bundled_profiles_are_valid_and_apply(interp: Interpreter) -> None:
    assert sorted(p.stem for p in bundled_dir().glob("*.yaml")) == sorted(BUNDLED)
    for name in BUNDLED:
        profile = load_profile(bundled_dir() / f"{name}.yaml")
        assert profile.settings, name
    voice = load_profile(bundled_dir() / "voice.yaml")
    # No stt_model or language: they follow the system locale (voice/lang.py).
    assert "stt_model" not in voice.voice and voice.voice["confirm_by_voice"] is True
    assert not any(key.startswith("voice.") for key in voice.settings)  # stored, never set on the engine
    fast = load_profile(bundled_dir() / "fast.yaml")
    apply(fast, interp)
    assert interp.llm.model == "gpt-4o-mini" and "concise" in interp.custom_instructions
    assert load_profile(bundled_dir() / "local.yaml").settings["llm.model"] == "local"


def test_nested_and_dotted_keys_mean_the_same() -> None:
    nested = parse("llm:\n  model: m1\n  temperature: 1\ncomputer:\n  languages: [python]\nauto_run: true\n")
    dotted = parse("llm.model: m1\nllm.temperature: 1\ncomputer.languages: [python]\nauto_run: true\n")
    assert nested.settings == dotted.settings == {
        "llm.model": "m1", "llm.temperature": 1.0, "computer.languages": ["python"], "auto_run": True}
    assert nested.lines == {"llm.model": 2, "llm.temperature": 3, "computer.languages": 5, "auto_run": 6}
    terminal = parse("multi_line: true\nplain_text_display: false\nversion: 0.2.5\ndisable_telemetry: true\n"
                     "offline: true\n")  # Open Interpreter keys with nothing to do here
    assert terminal.terminal == {"multi_line": True, "plain_text_display": False} and terminal.settings == {}


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("llm:\n  model: [unclosed\n", 3, None, "invalid YAML"),
    ("llm:\n\tmodel: x\n", 2, None, "invalid YAML"),
    ("llm:\n  modle: gpt-4o\n", 2, "llm.modle", "did you mean 'llm.model'"),
    ("auto_run: true\nautorun: true\n", 2, "autorun", "did you mean 'auto_run'"),
    ("llm:\n  temperature: hot\n", 2, "llm.temperature", "must be a number"),
    ("auto_run: yes please\n", 1, "auto_run", "true or false"),
    ("max_output: 12.5\n", 1, "max_output", "an integer"),
    ("max_output: 10\n", 1, "max_output", "at least 200"),
    ("safe_mode: sometimes\n", 1, "safe_mode", "one of off, ask, auto"),
    ("computer.languages: [python, 3]\n", 1, "computer.languages", "a list of strings"),
    ("llm.model: null\n", 1, "llm.model", "must be a string"),
    ("llm: gpt-4o\n", 1, "llm", "must be a mapping"),
    ("voice:\n  speak_replies: loud\n", 2, "voice.speak_replies", "true or false"),
    ("llm.model: a\nllm:\n  model: b\n", 3, "llm.model", "set twice (first on line 1)"),
    ("- just\n- a list\n", 1, None, "must be a mapping"),
])
def test_broken_profiles_name_file_line_and_key(text: str, line: int, key: str | None, words: str) -> None:
    error = error_of(text)
    assert error.path == Path("/p/test.yaml") and error.line == line and error.key == key
    assert words in str(error)
    assert str(error).startswith(f"/p/test.yaml, line {line}: " + (f"{key}: " if key else ""))


def test_an_empty_profile_is_fine() -> None:
    assert parse("").settings == {} and parse("# only comments\n").settings == {}


def test_apply_reports_values_the_engine_refuses_with_their_line(interp: Interpreter) -> None:
    profile = parse("llm.model: fine\ncomputer.languages: [python, cobol]\n")
    with pytest.raises(ProfileError) as info:
        apply(profile, interp)
    assert info.value.line == 2 and info.value.key == "computer.languages" and "cobol" in str(info.value)


def test_every_interpreter_key_is_a_real_setting(interp: Interpreter) -> None:
    for key, spec in SETTINGS.items():
        if spec.target != "interpreter":
            continue
        target = interp
        for part in key.split("."):
            assert hasattr(target, part), key
            target = getattr(target, part)


def test_first_run_copies_bundled_profiles_and_keeps_user_edits(config: Path) -> None:
    folder = ensure_user_profiles()
    assert folder == profiles_dir() == config / "profiles"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.yaml" for n in BUNDLED)
    (folder / "fast.yaml").write_text("llm.model: my-own\n")
    (folder / "work.yaml").write_text("llm:\n  model: work-model\n")
    ensure_user_profiles()
    assert load_profile("fast").settings == {"llm.model": "my-own"}  # the user's copy wins
    assert load_profile("work.yaml").settings == {"llm.model": "work-model"}
    assert load_profile(folder / "work.yaml").name == "work"
    assert "work" in list_profiles()
    reset_profile("fast")
    assert load_profile("fast").settings["llm.model"] == "gpt-4o-mini"
    with pytest.raises(ProfileError, match=r"no profile named 'wrok'.*Did you mean 'work'"):
        load_profile("wrok")
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(config / "nope.yaml")


def test_environment_settings(monkeypatch: pytest.MonkeyPatch, interp: Interpreter) -> None:
    monkeypatch.setenv("OI_VOICE_MODEL", "env-model")
    monkeypatch.setenv("OI_VOICE_API_BASE", "http://env.example/v1")
    monkeypatch.delenv("OI_VOICE_API_KEY", raising=False)
    assert environment_settings() == {"llm.model": "env-model", "llm.api_base": "http://env.example/v1"}
    apply(parse("llm.model: profile-model\n"), interp)
    apply_environment(interp)
    assert interp.llm.model == "env-model"


# --- as `oi` applies them ---------------------------------------------------------------------


def write_profile(oi: OIRunner, name: str, body: str) -> Path:
    oi.profiles_dir.mkdir(parents=True, exist_ok=True)
    path = oi.profiles_dir / f"{name}.yaml"
    path.write_text(body)
    return path


def test_precedence_defaults_profile_environment_flags(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    write_profile(oi, "mine", "llm:\n  model: profile-model\n  temperature: 0.5\n  max_tokens: 321\n"
                              "custom_instructions: FROM THE PROFILE.\n")
    llm_server.add(text("a"), text("b"), text("c"))
    # profile over defaults; the environment over the profile (OI_VOICE_MODEL is set by the harness)
    assert oi.run("-p", "mine", "one").returncode == 0
    # the profile alone
    assert oi.run("-p", "mine", "two", env={"OI_VOICE_MODEL": None}).returncode == 0
    # flags over everything
    assert oi.run("-p", "mine", "-m", "flag-model", "-t", "0.9", "three").returncode == 0
    one, two, three = llm_server.requests
    assert (one["model"], one["temperature"], one["max_tokens"]) == ("scripted-model", 0.5, 321)
    assert "FROM THE PROFILE." in one["messages"][0]["content"]
    assert two["model"] == "profile-model"
    assert (three["model"], three["temperature"], three["max_tokens"]) == ("flag-model", 0.9, 321)


def test_default_profile_is_used_and_fast_is_a_shortcut(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("a"), text("b"))
    write_profile(oi, "default", "llm.model: my-default\n")
    assert oi.run("hi", env={"OI_VOICE_MODEL": None}).returncode == 0
    assert oi.run("-f", "hi", env={"OI_VOICE_MODEL": None}).returncode == 0
    assert [r["model"] for r in llm_server.requests] == ["my-default", "gpt-4o-mini"]


def test_profile_auto_run_is_applied_before_the_safety_warning(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    path = write_profile(oi, "yolo", "auto_run: true\n")
    llm_server.add(tool_call("shell", "echo from-profile-auto-run"), text("ok"))
    result = oi.run("--profile", str(path), "go")
    assert result.returncode == 0
    assert "from-profile-auto-run" in result.stdout
    assert "auto_run is on" in result.stderr


def test_broken_profile_stops_oi_with_file_line_and_key(oi: OIRunner) -> None:
    path = write_profile(oi, "broken", "llm:\n  model: fine\n  temprature: 0.2\n")
    result = oi.run("-p", "broken", "hi")
    assert result.returncode == 2
    assert f"{path}, line 3: llm.temprature: unknown setting (did you mean 'llm.temperature'?)" in result.stderr
    assert oi.server.requests == []

    write_profile(oi, "badtype", "max_output: lots\n")
    result = oi.run("-p", "badtype", "hi")
    assert result.returncode == 2 and "line 1: max_output: must be an integer" in result.stderr

    write_profile(oi, "badyaml", "auto_run: true\n  llm: [\n")
    result = oi.run("-p", "badyaml", "hi")
    assert result.returncode == 2 and "badyaml.yaml, line 2" in result.stderr and "invalid YAML" in result.stderr

    missing = oi.run("-p", "nonexistent", "hi")
    assert missing.returncode == 2 and "no profile named 'nonexistent'" in missing.stderr


def test_multi_line_from_a_profile(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    write_profile(oi, "ml", "multi_line: true\n")
    llm_server.add(text("two lines seen"))
    child = oi.spawn("-p", "ml")
    child.expect("> ")
    child.sendline('"""')
    child.sendline("alpha")
    child.sendline('beta"""')
    child.expect("two lines seen")
    child.expect("> ")
    child.sendeof()
    assert finish(child) == 0
    assert llm_server.requests[0]["messages"][-1]["content"] == "alpha\nbeta"
