"""The embedded local model: real llama.cpp (xllamacpp) on the packaged Qwen2.5-Coder GGUF."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oi_voice import Interpreter
from oi_voice.llm import local

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private cache folder, so the user's assembled model is never touched, and no system
    model folder (an installed oi-voice-local-model would be found first)."""
    folder = tmp_path_factory.mktemp("cache")
    old = {name: os.environ.get(name) for name in ("OI_VOICE_CACHE_DIR", "OI_VOICE_MODEL_DIRS")}
    os.environ["OI_VOICE_CACHE_DIR"] = str(folder)
    os.environ["OI_VOICE_MODEL_DIRS"] = ""
    yield folder
    local.stop()
    for name, value in old.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def test_corrupted_model_is_refused_and_rebuilt(cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = local.default_model_path()
    assert path.stat().st_size == local.MODEL_SIZE and sha256(path) == local.MODEL_SHA256
    with open(path, "r+b") as f:  # flip bytes in the middle: same size, wrong content
        f.seek(local.MODEL_SIZE // 2)
        f.write(b"\x00corrupt\x00")
    with caplog.at_level(logging.WARNING, logger="oi_voice.local"):
        rebuilt = local.default_model_path()
    assert "does not match" in caplog.text
    assert rebuilt == path and sha256(rebuilt) == local.MODEL_SHA256


def test_a_system_installed_model_is_found_first_and_a_damaged_one_passed_over(
        cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    assembled = local.default_model_path()  # from the pip packages, in the private cache
    assert assembled.parent == cache / "models"
    # Where oi-voice-local-model installs it (/usr/share/oi-voice/models/), here under a private
    # XDG data folder: found there, no copy in the cache needed.
    data = tmp_path / "share"
    (data / "oi-voice" / "models").mkdir(parents=True)
    (data / "oi-voice" / "models" / local.MODEL_NAME).symlink_to(assembled)
    monkeypatch.delenv("OI_VOICE_MODEL_DIRS")
    monkeypatch.setenv("XDG_DATA_DIRS", f"{tmp_path / 'empty'}:{data}")
    dirs = local.system_model_dirs()
    assert dirs[:2] == [tmp_path / "empty" / "oi-voice" / "models", data / "oi-voice" / "models"]
    assert Path("/usr/share/oi-voice/models") in dirs
    monkeypatch.setenv("OI_VOICE_MODEL_DIRS", str(data / "oi-voice" / "models"))
    assert local.default_model_path() == data / "oi-voice" / "models" / local.MODEL_NAME
    assert local.what_to_install() is None
    # A damaged system file (right size, wrong bytes) is passed over, never loaded.
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    with open(damaged / local.MODEL_NAME, "wb") as f:
        f.truncate(local.MODEL_SIZE)
    monkeypatch.setenv("OI_VOICE_MODEL_DIRS", f"{damaged}:{data / 'oi-voice' / 'models'}")
    with caplog.at_level(logging.WARNING, logger="oi_voice.local"):
        assert local.default_model_path() == data / "oi-voice" / "models" / local.MODEL_NAME
    assert f"passing over {damaged / local.MODEL_NAME}" in caplog.text
    monkeypatch.setenv("OI_VOICE_MODEL_DIRS", str(damaged))
    assert local.default_model_path() == assembled  # the pip packages' copy, still there


def test_without_the_model_the_hint_names_what_to_install(tmp_path: Path) -> None:
    # A child whose Python lacks the six model packages (None in sys.modules: Python's own way to
    # make a module unimportable), as the app's package without the model's package is.
    child = (
        "import sys\n"
        "from oi_voice.llm import local\n"
        "from oi_voice.errors import ConfigError\n"
        "sys.modules.update(dict.fromkeys(local.PART_PACKAGES))\n"
        "print('INSTALL', local.what_to_install())\n"
        "try:\n    local.default_model_path()\nexcept ConfigError as exc:\n    print('ERROR', exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OI_VOICE_CACHE_DIR": str(tmp_path / "cache"),
           "OI_VOICE_MODEL_DIRS": ""}
    done = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "INSTALL pip install 'oi-voice[local]'" in done.stdout, done.stdout  # a checkout: the pip extra
    assert "ERROR the local model is not installed: pip install 'oi-voice[local]'\n" in done.stdout, done.stdout


def test_context_length_comes_from_the_gguf_metadata(cache: Path) -> None:
    assert local.context_length(local.default_model_path()) == 32768
    assert local.context_length(ROOT / "README.md") is None


STANDALONE = """
import os, sys, httpx
from oi_voice.llm import local
tasks = lambda: len(os.listdir(f"/proc/{os.getpid()}/task"))
before = tasks()
endpoint = local.start()
r = httpx.get(endpoint.api_base + "/models", timeout=30)
assert r.status_code == 200, r.text
during = tasks()
local.stop()
try:
    httpx.get(endpoint.api_base + "/models", timeout=5)
    print("STILL-LISTENING")
except httpx.ConnectError:
    print("STOPPED")
print("THREADS", before, during, tasks())
"""


def test_server_starts_serves_and_stops_without_leftovers(cache: Path) -> None:
    local.default_model_path()  # assembled outside the timed child
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", STANDALONE], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "STOPPED" in result.stdout
    before, during, after = (int(n) for n in result.stdout.split("THREADS")[1].split())
    assert during > before  # it really ran threads (HTTP, inference) ...
    assert after <= before + 1  # ... and stopping it ended them


def test_one_real_chat_runs_a_tool_call(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    interp = Interpreter()
    try:
        interp.llm.model = "local"
        interp.auto_run = True
        interp.max_steps = 3
        interp.chat("what is 1234 times 5678", display=False)
        codes = [m for m in interp.messages if m["type"] == "code"]
        outputs = [m["content"] for m in interp.messages if m["type"] == "console"]
        assert codes, interp.messages  # a native or recovered tool call ...
        assert any("7006652" in out for out in outputs), interp.messages  # ... that ran
        endpoint = local.running()
        assert endpoint is not None and endpoint.context_window == local.MAX_CONTEXT
        assert httpx.get(endpoint.api_base + "/models", timeout=10).status_code == 200
    finally:
        interp.close()


def test_prefill_leaves_the_system_message_read(cache: Path) -> None:
    local.start()
    # A system message no earlier request sent (the nonce comes first), so only the prefill can have cached it.
    interp = Interpreter()
    try:
        system = f"Session {os.urandom(8).hex()}.\n\n" + interp.system_prompt(False)
    finally:
        interp.close()
    assert local.prefill(system)
    endpoint = local.running()
    assert endpoint is not None
    answer = httpx.post(endpoint.api_base + "/chat/completions", timeout=120, json={
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": "What is 2 + 2?"}],
        "max_tokens": 8})
    usage = answer.json()["usage"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert cached >= usage["prompt_tokens"] - 20, usage  # all but the user's turn was read already
