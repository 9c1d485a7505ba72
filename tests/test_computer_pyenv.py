"""The per-user Python environment: made on first use from a wheelhouse, pip installs into it
and what it installs stays, pip's own error offline, half-made environments rebuilt, reset,
cancel and timeout. Real venvs, real pip, real kernels.

The wheelhouse (conftest's ``wheelhouse``) is downloaded once per session from the package index;
one environment is built from it for the whole module (~20 s).
The other environments hold only a tiny package built here (``pip wheel``), a few seconds each.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from helpers import TINY, finished, text

from oi_voice.computer import Computer, Progress, RunEvent
from oi_voice.computer.pyenv import MARKER, WHEELHOUSE_ENV, PythonEnvironment, bundled_wheelhouse
from oi_voice.core.interpreter import Interpreter
from oi_voice.errors import ComputerError

pytestmark = pytest.mark.timeout(300)

_DEAD_INDEX = "http://127.0.0.1:9/simple"  # the discard port: nothing listens, the connection is refused


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=600)


def run(computer: Computer, language: str, code: str) -> list[RunEvent]:
    async def go() -> list[RunEvent]:
        return [event async for event in computer.run(language, code)]

    return asyncio.run(go())


def close(computer: Computer) -> None:
    asyncio.run(computer.close())


class Built:
    """The module's environment and what its first run showed."""

    def __init__(self, environment: PythonEnvironment, first_run: list[RunEvent]) -> None:
        self.environment, self.first_run = environment, first_run


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Iterator[Built]:
    """An environment made by the first Python run that needed it (from the wheelhouse, offline)."""
    environment = PythonEnvironment(tmp_path_factory.mktemp("data") / "python", base_python=[sys.executable],
                                    wheelhouse=wheelhouse)
    assert not environment.is_ready()
    computer = Computer(python_env=environment)
    try:
        events = run(computer, "python", "import sys, pandas, numpy, matplotlib\nprint(sys.prefix)\n"
                                         "print(pandas.DataFrame({'a': [1, 2]}).a.sum())")
    finally:
        close(computer)
    yield Built(environment, events)


# --- made on first use -----------------------------------------------------------------------


def test_first_run_makes_the_environment_says_so_and_pandas_imports(built: Built) -> None:
    events, environment = built.first_run, built.environment
    assert isinstance(events[0], Progress) and events[0].kind == "python_setup", events[:2]
    assert "Setting up Python" in events[0].text
    assert finished(events).status == "ok", text(events)
    prefix, total = text(events).split()
    assert Path(prefix) == environment.path and total == "3"
    assert environment.is_ready() and (environment.path / MARKER).is_file()
    # The wheelhouse stays a source for later installs (offline installs of shipped wheels).
    assert str(environment.wheelhouse) in (environment.path / "pip.conf").read_text()


def test_ready_environment_starts_without_progress(built: Built) -> None:
    computer = Computer(python_env=built.environment)
    try:
        events = run(computer, "python", "import sys; print(sys.executable)")
    finally:
        close(computer)
    assert not any(isinstance(e, Progress) for e in events)
    assert text(events).strip() == str(built.environment.python)


def test_pip_install_in_a_run_installs_into_the_environment_and_stays(built: Built, tiny_wheels: Path) -> None:
    computer = Computer(python_env=built.environment)
    try:
        events = run(computer, "python", f"%pip install --no-index --find-links {tiny_wheels} {TINY}")
        assert finished(events).status == "ok", text(events)
        assert f"Successfully installed {TINY}-1.0" in text(events)
        events = run(computer, "python", "import oi_tiny_pkg; print(oi_tiny_pkg.VALUE, oi_tiny_pkg.__file__)")
        assert finished(events).status == "ok", text(events)
        value, where = text(events).split()
        assert value == "4321" and Path(where).is_relative_to(built.environment.path)
        # IPython's !pip (a shell of the kernel) finds the environment's pip too.
        events = run(computer, "python", "!pip --version")
        assert str(built.environment.path) in text(events), text(events)
        # The shell finds the environment's pip and python first.
        events = run(computer, "shell", "command -v pip python; python -c 'import oi_tiny_pkg'")
        assert finished(events).status == "ok", text(events)
        assert text(events).split() == [str(built.environment.bin_dir / "pip"), str(built.environment.python)]
    finally:
        close(computer)
    # A new session (the next start of the app) still has it.
    computer = Computer(python_env=built.environment)
    try:
        events = run(computer, "python", "import oi_tiny_pkg; print(oi_tiny_pkg.VALUE)")
    finally:
        close(computer)
    assert text(events).strip() == "4321"


def test_pip_install_offline_shows_pips_own_error(built: Built) -> None:
    computer = Computer(python_env=built.environment)
    try:
        events = run(computer, "shell", f"pip install --index-url {_DEAD_INDEX} --retries 0 --timeout 2 "
                                        "oi-no-such-package")
    finally:
        close(computer)
    assert finished(events).status == "error"
    output = text(events)
    assert "ERROR: Could not find a version that satisfies the requirement oi-no-such-package" in output, output


# --- made whole, or made again ----------------------------------------------------------------


def small(tmp_path: Path, tiny_wheels: Path, **options: object) -> PythonEnvironment:
    """An environment holding only the tiny package (a few seconds to make)."""
    return PythonEnvironment(tmp_path / "python", base_python=[sys.executable], wheelhouse=tiny_wheels,
                             packages=(TINY,), **options)  # type: ignore[arg-type]


def imports_tiny(environment: PythonEnvironment) -> bool:
    return subprocess.run([str(environment.python), "-c", "import oi_tiny_pkg"], timeout=60).returncode == 0


def test_half_made_environment_is_made_again(tmp_path: Path, tiny_wheels: Path) -> None:
    environment = small(tmp_path, tiny_wheels)
    (environment.bin_dir).mkdir(parents=True)
    (environment.path / "left-over").write_text("from a build that was cut short")
    assert not environment.is_ready()
    assert asyncio.run(environment.ensure()) is True
    assert environment.is_ready() and imports_tiny(environment)
    assert not (environment.path / "left-over").exists()
    assert asyncio.run(environment.ensure()) is False  # ready: nothing is made
    (environment.path / MARKER).unlink()  # as a crash before the marker leaves it
    assert asyncio.run(environment.ensure()) is True and environment.is_ready()


def test_without_a_wheelhouse_offline_the_error_is_pips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", _DEAD_INDEX)
    monkeypatch.setenv("PIP_RETRIES", "0")
    environment = PythonEnvironment(tmp_path / "python", base_python=[sys.executable],
                                    wheelhouse=tmp_path / "no-wheels-here", packages=(TINY,))
    with pytest.raises(ComputerError) as raised:
        asyncio.run(environment.ensure())
    message = str(raised.value)
    assert f"Installing {TINY} failed" in message
    assert f"Could not find a version that satisfies the requirement {TINY}" in message, message
    assert not environment.is_ready()


def test_cancelled_build_kills_its_process_and_leaves_nothing_ready(tmp_path: Path, tiny_wheels: Path) -> None:
    environment = small(tmp_path, tiny_wheels)

    def builders() -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if str(environment.path) in " ".join(process.info["cmdline"] or ()):
                found.append(process)
        return found

    async def go() -> None:
        task = asyncio.create_task(environment.ensure())
        while not builders():  # the venv step is running
            assert not task.done()
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert builders() == []
    assert not environment.is_ready()
    assert asyncio.run(environment.ensure()) is True  # the next use makes it


def test_build_that_takes_too_long_is_stopped(tmp_path: Path, tiny_wheels: Path) -> None:
    environment = small(tmp_path, tiny_wheels, timeout=0.3)
    with pytest.raises(ComputerError, match="took more than"):
        asyncio.run(environment.ensure())
    assert not environment.is_ready()


def test_interrupting_a_run_that_waits_for_the_setup_stops_it(tmp_path: Path, tiny_wheels: Path) -> None:
    environment = small(tmp_path, tiny_wheels)
    computer = Computer(python_env=environment)

    async def go() -> list[RunEvent]:
        events: list[RunEvent] = []
        async for event in computer.run("python", "print('never')"):
            events.append(event)
            if isinstance(event, Progress):
                asyncio.get_running_loop().create_task(computer.interrupt())
        await computer.close()
        return events

    events = asyncio.run(go())
    assert isinstance(events[0], Progress)
    assert finished(events).status == "interrupted"
    assert "never" not in text(events)
    assert not environment.is_ready()


# --- reset ------------------------------------------------------------------------------------


def test_reset_removes_what_was_installed_and_makes_it_again(built: Built, tiny_wheels: Path) -> None:
    environment = built.environment
    computer = Computer(python_env=environment)
    try:
        events = run(computer, "shell", f"pip install -q --no-index --find-links {tiny_wheels} {TINY}")
        assert finished(events).status == "ok", text(events)
        assert imports_tiny(environment)
        assert asyncio.run(computer.reset_python_env()) is environment
        assert environment.is_ready() and not imports_tiny(environment)
        events = run(computer, "python", "import pandas; print('pandas', pandas.__name__)")
        assert text(events).strip() == "pandas pandas"
    finally:
        close(computer)
    with pytest.raises(ComputerError, match="no environment of its own"):
        asyncio.run(Computer().reset_python_env())


# --- where things are, and the setting ---------------------------------------------------------


def test_wheelhouse_from_the_environment_or_beside_the_frozen_app(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WHEELHOUSE_ENV, raising=False)
    app = tmp_path / "opt" / "oi-voice"
    (app / "wheels").mkdir(parents=True)
    (app / "oi-voice").write_text("")
    assert bundled_wheelhouse(str(app / "oi-voice"), frozen=True) == app / "wheels"
    assert bundled_wheelhouse(str(app / "oi-voice"), frozen=False) is None
    (app / "wheels").rmdir()
    assert bundled_wheelhouse(str(app / "oi-voice"), frozen=True) is None
    monkeypatch.setenv(WHEELHOUSE_ENV, str(tmp_path / "elsewhere"))
    assert bundled_wheelhouse(str(app / "oi-voice"), frozen=True) == tmp_path / "elsewhere"


def test_setting_points_python_at_an_environment_and_the_prompt_says_pip_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_PREWARM", "0")
    monkeypatch.setenv("OI_VOICE_PYTHON_ENV", str(tmp_path / "env"))
    interp = Interpreter()
    try:
        assert interp.computer.python_env == str(tmp_path / "env")
        environment = interp.computer.impl.python_env
        assert environment is not None and environment.path == tmp_path / "env"
        prompt = interp.system_prompt()
        assert "pip install" in prompt and str(tmp_path / "env") in prompt and "stay" in prompt
        interp.computer.python_env = "app"  # this program's Python: nothing to say about pip
        assert interp.computer.impl.python_env is None
        assert str(tmp_path / "env") not in interp.system_prompt()
        interp.computer.python_env = "auto"  # from a checkout: this Python
        assert interp.computer.impl.python_env is None
        interp.computer.python_env = "user"
        environment = interp.computer.impl.python_env
        assert environment is not None and environment.path.name == "python"
    finally:
        interp.close()
    assert not (tmp_path / "env").exists()  # nothing is made before code needs it
