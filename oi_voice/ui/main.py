"""``oi-voice``: the desktop app's entry point, and its window-less modes.

``--headless`` and ``--list-devices`` (and ``--help``) are handled by
:mod:`oi_voice.frontend.headless` without importing PySide6, so they work on machines
with no display and no Qt. Everything else starts the desktop app, ``oi_voice.ui.app``.
"""

from __future__ import annotations

import importlib
import sys

#: Arguments that never need the desktop app.
_HEADLESS = ("--headless", "--list-devices", "-h", "--help")
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Run ``oi-voice`` with ``argv`` (default: the command line); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in _HEADLESS for a in args):
        from oi_voice.frontend.headless import main as headless_main

        return headless_main(args)
    try:
        app = importlib.import_module("oi_voice.ui.app")
    except ImportError as exc:
        # The ui extra (PySide6) is optional: say what to install instead of a traceback.
        print(f"oi-voice: the desktop app cannot start ({exc}); install it with "
              "`pip install 'oi-voice[ui]'`, or use `oi-voice --headless` or the terminal chat `oi`",
              file=sys.stderr)
        return EXIT_USAGE
    return int(app.main(args) or 0)

if __name__ == "__main__":
    raise SystemExit(main())
