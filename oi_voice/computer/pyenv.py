"""The per-user Python environment code runs in: a venv the model can ``pip install`` into.

The frozen app (packaging/) carries a Python without pip, and a Python nobody may install
into is of little use to a model that gets most data work done with pandas and friends.
So code runs in a virtual environment of its own, made on first use from the system's
``python3`` (``python -m venv``, pip included) at the user's data folder
(``~/.local/share/oi-voice/python``, ``~/Library/Application Support/oi-voice/python``,
``%LOCALAPPDATA%\\oi-voice\\python``), holding :data:`PACKAGES`.

- **Offline first.** The packages come from a wheelhouse when there is one:
  ``$OI_VOICE_WHEELHOUSE``, else ``wheels/`` beside the frozen executable (the .deb ships
  ``/opt/oi-voice/wheels``): ``pip install --no-index --find-links WHEELHOUSE``. Without one,
  or when its wheels do not fit the system's Python (another version), pip asks the package
  index (and, offline, fails with its own message, which is passed on).
  The environment's ``pip.conf`` keeps the wheelhouse as a find-links source, so later
  installs of shipped wheels work offline too.
- **Made whole or not at all.** The marker file :data:`MARKER` is written last; an
  environment without it (a crash, a cancel, a timeout half-way), or whose Python is gone
  (the system's python3 was upgraded), is removed and made again.
- **Off the loop, cancellable, bounded.** Every step is a subprocess awaited with asyncio;
  cancelling :meth:`PythonEnvironment.ensure` kills it, and the whole build has a timeout.
  Two processes (``oi`` and ``oi-voice``) never build one environment at once: a lock file
  beside it serialises them.
- **In use.** ``bin/`` (``Scripts\\`` on Windows) goes first on PATH of the kernel and of shell
  runs, so ``pip``, ``%pip`` and ``!pip`` all install into it, and the packages persist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import shutil
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from oi_voice.computer._procs import kill_tree
from oi_voice.errors import ComputerError

__all__ = [
    "MARKER",
    "PACKAGES",
    "SETUP_MESSAGE",
    "WHEELHOUSE_ENV",
    "PythonEnvironment",
    "bundled_wheelhouse",
    "system_python",
]

log = logging.getLogger(__name__)

#: What every environment holds: the kernel and the usual data tools.
PACKAGES: tuple[str, ...] = ("ipykernel", "numpy", "pandas", "matplotlib")
#: Written last: an environment without it is unfinished.
MARKER = ".oi-voice-ready"
#: Where the wheels of :data:`PACKAGES` are (a folder), above the bundle's own ``wheels/``.
WHEELHOUSE_ENV = "OI_VOICE_WHEELHOUSE"
#: What the user is told while the environment is being made (front ends translate it by kind).
SETUP_MESSAGE = "Setting up Python for code runs…"
#: How long making an environment may take, all steps together (the online index can be slow).
BUILD_TIMEOUT = 900.0
_LOCK_POLL = 0.2
_LOG_TAIL = 20  # lines of pip's output an error quotes


def bundled_wheelhouse(executable: str | None = None, frozen: bool | None = None) -> Path | None:
    """The wheelhouse: ``$OI_VOICE_WHEELHOUSE``, else ``wheels/`` beside the frozen app; None if neither.

    ``executable`` and ``frozen`` default to this process's (``sys.executable``, ``sys.frozen``).
    """
    override = os.environ.get(WHEELHOUSE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if not (getattr(sys, "frozen", False) if frozen is None else frozen):
        return None
    here = Path(executable or sys.executable).resolve().parent
    # Linux and Windows: beside the executable; macOS: the .app's Contents/Resources.
    for candidate in (here / "wheels", here.parent / "Resources" / "wheels"):
        if candidate.is_dir():
            return candidate
    return None


def system_python() -> list[str] | None:
    """The command of the system's Python 3 that environments are made from, or None.

    Never the frozen app itself. Windows: the ``py -3`` launcher, else a ``python`` that is not
    the Microsoft Store's placeholder (which opens the Store instead of running).
    """
    if platform.system() == "Windows":
        launcher = shutil.which("py")
        if launcher:
            return [launcher, "-3"]
        names: tuple[str, ...] = ("python3", "python")
    else:
        names = ("python3",)
    for name in names:
        found = shutil.which(name)
        if found and "WindowsApps" not in found and Path(found).resolve() != Path(sys.executable).resolve():
            return [found]
    if not getattr(sys, "frozen", False):
        return [sys.executable]  # a checkout's venv: its base interpreter makes the environment
    return None


class PythonEnvironment:
    """One virtual environment for code runs, made when first needed."""

    def __init__(self, path: str | os.PathLike[str], *, base_python: Sequence[str] | None = None,
                 wheelhouse: str | os.PathLike[str] | None = None, packages: Sequence[str] = PACKAGES,
                 system_site_packages: bool = False, timeout: float = BUILD_TIMEOUT) -> None:
        """``path``: the environment's folder; ``base_python``: the command that makes it (default:
        :func:`system_python`); ``wheelhouse``: where the packages come from (default:
        :func:`bundled_wheelhouse`; a missing folder means the package index); ``packages``: what it
        holds; ``timeout``: seconds the whole build may take."""
        self.path = Path(path).expanduser().absolute()
        self._base = list(base_python) if base_python else None
        self.wheelhouse = Path(wheelhouse) if wheelhouse is not None else bundled_wheelhouse()
        self.packages = tuple(packages)
        self.system_site_packages = system_site_packages
        self.timeout = timeout
        #: The build's log (pip's output), beside the environment.
        self.log_path = self.path.with_name(self.path.name + "-setup.log")
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"PythonEnvironment({str(self.path)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PythonEnvironment) and (other.path, other.wheelhouse, other.packages) == (
            self.path, self.wheelhouse, self.packages)

    def __hash__(self) -> int:
        return hash(self.path)

    # --- where things are ---------------------------------------------------------------------

    @property
    def bin_dir(self) -> Path:
        """The folder of its executables (``python``, ``pip``): first on PATH of runs."""
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        """Its Python interpreter."""
        return self.bin_dir / ("python.exe" if os.name == "nt" else "python")

    def is_ready(self) -> bool:
        """Whether it was made completely and its Python still works (a cheap check of files)."""
        # exists() follows the venv's symlink: a removed or upgraded system Python breaks it.
        return (self.path / MARKER).is_file() and self.python.exists()

    def version(self) -> str:
        """Its Python's version, as the marker recorded it ("" if unknown)."""
        try:
            return str(json.loads((self.path / MARKER).read_text(encoding="utf-8")).get("python", ""))
        except (OSError, ValueError, AttributeError):
            return ""

    def activate(self, environ: Mapping[str, str]) -> dict[str, str]:
        """``environ`` for a process that should use this environment (its bin first on PATH)."""
        env = dict(environ)
        path = env.get("PATH", os.defpath)
        bin_dir = str(self.bin_dir)
        parts = [p for p in path.split(os.pathsep) if p and p != bin_dir]
        env["PATH"] = os.pathsep.join([bin_dir, *parts])
        env["VIRTUAL_ENV"] = str(self.path)
        env.pop("PYTHONHOME", None)  # would point the venv's Python at another installation
        return env

    # --- making it ------------------------------------------------------------------------------

    async def ensure(self) -> bool:
        """Make the environment unless it is ready; True if it was made now.

        Raises ComputerError (with pip's own words) when it cannot be made; cancelling
        stops the build and leaves nothing that counts as ready.
        """
        if self.is_ready():
            return False
        async with self._locked():
            if self.is_ready():  # another process made it while we waited
                return False
            try:
                await asyncio.wait_for(self._build(), self.timeout)
            except asyncio.TimeoutError:
                raise ComputerError(
                    f"Setting up Python for code runs took more than {self.timeout:.0f} s and was stopped; "
                    f"it is tried again at the next run (log: {self.log_path})") from None
        return True

    async def reset(self) -> None:
        """Remove the environment (and what was installed into it) and make it again."""
        async with self._locked():
            await asyncio.to_thread(self._remove)
        await self.ensure()

    async def _build(self) -> None:
        started = time.monotonic()
        await asyncio.to_thread(self._remove)  # a half-made one (no marker) starts over
        self.path.parent.mkdir(parents=True, exist_ok=True)
        base = self._base or system_python()
        if base is None:
            raise ComputerError("Python 3 was not found on this computer: install it (python.org, or your "
                                "system's python3 package) to run Python code with packages of your own.")
        with open(self.log_path, "wb") as log_file:
            venv = [*base, "-m", "venv", *(["--system-site-packages"] if self.system_site_packages else []),
                    str(self.path)]
            await self._step(venv, log_file.fileno(), "Making the Python environment failed")
            if self.packages:
                await self._install(log_file.fileno())
        version = await self._python_version()
        info = {"python": version, "packages": list(self.packages), "wheelhouse": str(self.wheelhouse or ""),
                "made": time.time()}
        (self.path / MARKER).write_text(json.dumps(info), encoding="utf-8")
        log.info("Python environment %s made in %.1f s", self.path, time.monotonic() - started)

    async def _install(self, fileno: int) -> None:
        """pip install the packages: from the wheelhouse alone, else (none, or its wheels do not fit this
        Python) from the package index, the wheelhouse still a source."""
        # --no-compile: byte-compiling pandas, numpy and matplotlib took half the set-up (17 s -> 9 s);
        # Python writes the .pyc of what is imported, when it is first imported.
        install = [str(self.python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                   "--no-compile"]
        failure = "Installing " + ", ".join(self.packages) + " failed"
        if self.wheelhouse is not None and self.wheelhouse.is_dir():
            self._write_pip_config()
            try:
                await self._step([*install, "--no-index", "--find-links", str(self.wheelhouse), *self.packages],
                                 fileno, failure)
                return
            except ComputerError as exc:
                log.warning("the wheelhouse %s did not do; asking the package index: %s", self.wheelhouse, exc)
        await self._step([*install, *self.packages], fileno, failure)

    def _write_pip_config(self) -> None:
        # pip reads the environment's own config file: find-links stays, the index stays too.
        assert self.wheelhouse is not None
        name = "pip.ini" if os.name == "nt" else "pip.conf"
        (self.path / name).write_text(f"[global]\nfind-links = {self.wheelhouse}\n", encoding="utf-8")

    async def _step(self, argv: list[str], fileno: int, failure: str) -> None:
        """Run one step, its output appended to the log; ComputerError with its last lines if it fails."""
        os.write(fileno, ("$ " + " ".join(argv) + "\n").encode())
        start = self.log_path.stat().st_size
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONIOENCODING="utf-8")
        env.pop("PYTHONHOME", None)
        env.pop("VIRTUAL_ENV", None)
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=fileno, stderr=fileno, env=env)
        except OSError as exc:
            raise ComputerError(f"{failure}: {exc}") from exc
        try:
            code = await process.wait()
        except BaseException:  # cancelled or timed out: nothing of it may go on
            kill_tree(process.pid)
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
            raise
        if code != 0:
            raise ComputerError(f"{failure} (exit code {code}):\n{self._log_tail(start)}")

    def _log_tail(self, start: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-_LOG_TAIL:])

    async def _python_version(self) -> str:
        process = await asyncio.create_subprocess_exec(
            str(self.python), "-c", "import platform; print(platform.python_version())",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await process.communicate()
        return out.decode().strip()

    def _remove(self) -> None:
        # The marker goes first: a removal cut short leaves something that is not "ready".
        with contextlib.suppress(FileNotFoundError):
            (self.path / MARKER).unlink()
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """Hold the lock file beside the environment (other processes wait; the loop does not block)."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while not _try_lock(fd):
                await asyncio.sleep(_LOCK_POLL)  # another process builds; polling a file lock has no event
            yield
        finally:
            _unlock(fd)
            os.close(fd)


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False if another holder has it."""
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
