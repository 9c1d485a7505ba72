"""A private X display for end-to-end tests and benchmarks: Xvfb, xdotool, screenshots.

``xvfb()`` starts an Xvfb that picks its own display number (``-displayfd``) and
stops it afterwards; the ``display`` fixture gives one per test module. ``xdotool``
runs one xdotool command and fails the test with its error output. For the real app as its
own process: ``AppLog`` (its --log-file, waited on), ``push_to_talk`` (hold the talk key while
something is said), ``quit_app`` (Ctrl+Q) and ``stop`` (end a process a failed test left running).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import wait_until

TOOLS = ("Xvfb", "xdotool", "import")


def missing_tools() -> list[str]:
    """The X tools this machine lacks."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@contextlib.contextmanager
def xvfb(size: str = "1280x800x24") -> Iterator[str]:
    """Run a private Xvfb; yields its display name (``:N``)."""
    folder = Path(tempfile.mkdtemp(prefix="oi-voice-xvfb-"))
    number = folder / "display"
    with number.open("w") as out:
        server = subprocess.Popen(["Xvfb", "-displayfd", str(out.fileno()), "-screen", "0", size, "-nolisten", "tcp"],
                                  pass_fds=(out.fileno(),), stderr=subprocess.DEVNULL)
    try:
        # Xvfb writes its number once it accepts clients.
        if not wait_until(lambda: number.read_text().strip() != "" or server.poll() is not None, timeout=30) \
                or server.poll() is not None:
            raise RuntimeError("Xvfb did not start")
        yield ":" + number.read_text().strip()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private X display for the test module."""
    if missing := missing_tools():
        pytest.skip(f"missing X tools: {', '.join(missing)}")
    with xvfb() as name:
        yield name


def xdotool(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """Run ``xdotool args`` on ``env``'s display; its output (the test fails if it fails)."""
    done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"xdotool {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


def screenshot(env: dict[str, str], path: Path) -> Path:
    """The whole screen as a PNG at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["import", "-window", "root", str(path)], env=env, check=True, capture_output=True, timeout=60)
    return path


class AppLog:
    """The app's --log-file, read as it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8", errors="replace") if self.path.exists() else ""

    def wait_for(self, needle: str, app: subprocess.Popen[bytes], timeout: float = 120) -> str:
        """Wait until ``needle`` is logged (the test fails if the app exits first); the whole log."""
        seen = wait_until(lambda: needle in self.text() or app.poll() is not None, timeout=timeout)
        assert app.poll() is None, f"the app exited ({app.returncode}):\n{self.text()[-3000:]}"
        assert seen, f"{needle!r} not logged within {timeout} s:\n{self.text()[-3000:]}"
        return self.text()


def push_to_talk(env: dict[str, str], window: str, log: AppLog, app: subprocess.Popen[bytes],
                 say: Callable[[], None], key: str = "F9") -> None:
    """Hold ``key`` in ``window`` while ``say()`` speaks into the microphone, as a user does."""
    xdotool(env, "windowfocus", "--sync", window)
    xdotool(env, "keydown", key)
    log.wait_for("state: listening", app)
    say()
    xdotool(env, "keyup", key)


def quit_app(env: dict[str, str], window: str, app: subprocess.Popen[bytes]) -> None:
    """Quit the app as a user does (Ctrl+Q in its window); it must exit cleanly."""
    xdotool(env, "windowfocus", "--sync", window)
    xdotool(env, "key", "ctrl+q")
    assert app.wait(60) == 0


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str], first: signal.Signals | None = None) -> None:
    """End ``proc`` (``first``: a signal to try before killing it) and close its pipe."""
    if first is not None and proc.poll() is None:
        proc.send_signal(first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()
