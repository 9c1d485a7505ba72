"""The harness the ``oi`` tests share: run ``oi`` as a user would, against the scripted model.

``oi`` runs as ``python -m oi_voice.cli`` (the console script's module) in a pseudo-
terminal (pexpect) or with pipes, with its own data and config folders, HOME, and the
scripted server's address in the environment. The tests below check the harness itself.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest
from scripted_llm import ScriptedLLM

ROOT = Path(__file__).resolve().parents[1]
OI = [sys.executable, "-m", "oi_voice.cli"]
PROMPT = "\r\n> |^> "


@dataclass
class OIRunner:
    """Runs ``oi`` for one test."""

    server: ScriptedLLM
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    children: list[pexpect.spawn] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        """``OI_VOICE_DATA_DIR`` of the runs."""
        return self.tmp / "data"

    @property
    def profiles_dir(self) -> Path:
        """The user's profiles folder of the runs."""
        return self.tmp / "config" / "profiles"

    def environment(self, extra: dict[str, str | None] | None = None) -> dict[str, str]:
        """The run's environment, with ``extra`` applied (None removes a variable)."""
        env = dict(self.env)
        for key, value in (extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def spawn(self, *args: str, plain: bool = True, lsf: bool = True, env: dict[str, str | None] | None = None,
              timeout: float = 30, cwd: Path | None = None) -> pexpect.spawn:
        """``oi`` in a pseudo-terminal; ``-pl`` and ``-lsf`` unless told otherwise."""
        argv = [*OI[1:], *(["-pl"] if plain else []), *(["-lsf"] if lsf else []), *args]
        child = pexpect.spawn(OI[0], argv, env=self.environment(env), encoding="utf-8", timeout=timeout,
                              dimensions=(50, 160), cwd=str(cwd or self.tmp))
        child.logfile_read = io.StringIO()  # everything the terminal showed, for assertions
        self.children.append(child)
        return child

    def run(self, *args: str, input: str | None = None, lsf: bool = True,
            env: dict[str, str | None] | None = None, timeout: float = 60,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``oi`` with pipes (not a terminal), in its own session: no controlling terminal."""
        return subprocess.run([*OI, *(["-lsf"] if lsf else []), *args], input=input, capture_output=True,
                              text=True, env=self.environment(env), timeout=timeout, cwd=str(cwd or self.tmp),
                              start_new_session=True, stdin=None if input is not None else subprocess.DEVNULL)

    def close(self) -> None:
        """Stop every child still running (and print what each showed: pytest reports it on failure)."""
        for child in self.children:
            words = [a.decode() if isinstance(a, bytes) else str(a) for a in child.args[2:]]
            print(f"--- {' '.join(words)}:\n{screen(child)}")
            if child.isalive():
                child.terminate(force=True)
            child.close()


def screen(child: pexpect.spawn) -> str:
    """All the output ``child`` showed so far."""
    log = child.logfile_read
    assert isinstance(log, io.StringIO)
    return log.getvalue()


def finish(child: pexpect.spawn, timeout: float = 30) -> int:
    """Wait for ``child`` to exit; its exit status."""
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    assert child.exitstatus is not None, f"killed by signal {child.signalstatus}"
    return child.exitstatus


def quit_chat(child: pexpect.spawn, timeout: float = 30) -> int:
    """Wait for the chat prompt, press Ctrl-D, and return the exit status.

    Ctrl-D must come once readline reads the terminal: typed ahead in canonical mode, the
    terminal turns it into an end-of-file marker that readline never sees.
    """
    child.expect("> ", timeout=timeout)
    child.sendeof()
    return finish(child, timeout)


@pytest.fixture(name="oi")
def oi_fixture(llm_server: ScriptedLLM, tmp_path: Path) -> Iterator[OIRunner]:
    """An ``oi`` runner pointed at the scripted server, with private folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OI_VOICE_", "OPENAI_", "ANTHROPIC_", "LITELLM_")) and k not in ("EDITOR", "VISUAL")}
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    env.update({
        "OI_VOICE_API_BASE": llm_server.url, "OI_VOICE_API_KEY": "sk-test", "OI_VOICE_MODEL": "scripted-model",
        "OI_VOICE_DATA_DIR": str(tmp_path / "data"), "OI_VOICE_CONFIG_DIR": str(tmp_path / "config"),
        "OI_VOICE_PREWARM": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"), "PYTHONPATH": str(ROOT), "TERM": "xterm-256color",
        "INPUTRC": "/dev/null",
    })
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    runner = OIRunner(llm_server, tmp_path, env)
    yield runner
    runner.close()


def test_the_harness_isolates_oi(oi: OIRunner) -> None:
    result = oi.run("--profiles")
    assert result.returncode == 0
    assert result.stdout.strip() == str(oi.profiles_dir)
    assert sorted(p.name for p in oi.profiles_dir.iterdir()) == [
        "default.yaml", "fast.yaml", "local.yaml", "voice.yaml"]
