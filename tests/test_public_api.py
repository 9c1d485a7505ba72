"""The public surface: __all__, the README's Python examples, and what importing costs."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from scripted_llm import ScriptedLLM, text, tool_call

import oi_voice
from oi_voice import errors

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete() -> None:
    assert oi_voice.__all__ == sorted(oi_voice.__all__)
    error_names = {n for n, v in vars(errors).items() if inspect.isclass(v) and issubclass(v, Exception)}
    public = {n for n in oi_voice.__all__ if n not in ("interpreter", "__version__")}
    assert error_names <= public | {"OIVoiceError"}
    for name in oi_voice.__all__:
        assert name == "interpreter" or hasattr(oi_voice, name), name
    assert isinstance(oi_voice.interpreter, oi_voice.Interpreter)


def _python_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", readme, flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(_python_examples()) >= 4


@pytest.mark.parametrize("index", range(len(_python_examples())))
def test_readme_example_runs(index: int, llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """Each README example, as written, against the scripted server (via the environment)."""
    code = _python_examples()[index]
    for _ in range(3):
        llm_server.add(tool_call("python", "print(6 * 7)"), text("The answer is 42."))
    env = {**os.environ, "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_API_KEY": "sk-test",
           "OI_VOICE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    if "chat(" in code:
        assert llm_server.requests, "the example never reached the model"


def test_import_stays_light() -> None:
    """`from oi_voice import interpreter` must not pull in litellm, jupyter_client or rich."""
    probe = ("import sys, json; from oi_voice import interpreter; "
             "print(json.dumps(sorted(m for m in ('litellm', 'jupyter_client', 'rich', 'httpx', 'PySide6') "
             "if m in sys.modules)))")
    env = {**os.environ, "OI_VOICE_PREWARM": "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


def test_core_imports_no_front_end() -> None:
    """Imports run one way: core never imports cli, server, ui, voice, Qt or audio."""
    forbidden = re.compile(r"^\s*(from|import)\s+(oi_voice\.(cli|server|ui|voice)|PySide6|sounddevice|pyttsx3)",
                           re.M)
    for path in (ROOT / "oi_voice" / "core").glob("*.py"):
        assert not forbidden.search(path.read_text()), path
    lower = re.compile(r"^\s*(from|import)\s+oi_voice\.(core|cli|server|ui|voice)", re.M)
    for package in ("llm", "computer"):
        for path in (ROOT / "oi_voice" / package).rglob("*.py"):
            assert not lower.search(path.read_text()), path
