"""A private X display for end-to-end tests and benchmarks: Xvfb, xdotool, screenshots.

``xvfb()`` starts an Xvfb that picks its own display number (``-displayfd``) and
stops it afterwards; the ``display`` fixture gives one per test module. ``xdotool``
runs one xdotool command and fails the test with its error output.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
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
