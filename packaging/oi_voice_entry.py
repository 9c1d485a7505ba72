"""Entry point of the frozen (PyInstaller) ``oi-voice``.

The bundle has one executable, so it plays three parts:

- ``oi-voice --oi-kernel -f CONNECTION_FILE``: the Python kernel. ``oi_voice.computer.jupyter``
  starts the kernel this way when ``sys.frozen`` is set (a frozen app has no
  ``python -m ipykernel_launcher``). Dispatched before oi_voice is imported.
- ``oi-voice --oi-cli ARGS`` (what the installed ``oi`` launcher runs), or the executable
  started under the name ``oi`` (a link): ``oi_voice.cli.main.main``, the terminal chat with
  every flag of the pip-installed ``oi``. One executable rather than a second PyInstaller
  EXE: each EXE carries its own copy of the Python archive.
- anything else: ``oi_voice.ui.main.main`` (the desktop app, ``--headless``, ``--list-devices``).

PyInstaller's bootloader points ``LD_LIBRARY_PATH`` at the bundle (the original value is
kept in ``LD_LIBRARY_PATH_ORIG``). Programs the user's code runs (bash, node, ruby, a system
python) must not load the bundle's libraries, so the original is restored for children:
the dynamic linker of this process read it at start and is unaffected.
"""

from __future__ import annotations

import os
import sys


def _restore_library_path() -> None:
    for name in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"):
        original = os.environ.pop(name + "_ORIG", None)
        if original is not None:
            os.environ[name] = original
        elif getattr(sys, "frozen", False):
            os.environ.pop(name, None)


def _run_kernel(args: list[str]) -> int:
    """What ``python -m ipykernel_launcher ARGS`` does."""
    sys.argv = [sys.argv[0], *args]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
    return 0


def _run_cli(args: list[str]) -> int:
    """What the pip-installed ``oi ARGS`` does (``--help`` and errors say ``oi``)."""
    sys.argv = ["oi", *args]
    from oi_voice.cli.main import main as cli_main

    return int(cli_main(args) or 0)


def main() -> int:
    _restore_library_path()  # also in the kernel: user code there starts programs too
    args = sys.argv[1:]
    if args[:1] == ["--oi-kernel"]:
        return _run_kernel(args[1:])
    if args[:1] == ["--oi-cli"]:
        return _run_cli(args[1:])
    if os.path.splitext(os.path.basename(sys.argv[0]))[0] == "oi":
        return _run_cli(args)
    from oi_voice.ui.main import main as app_main

    return int(app_main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
