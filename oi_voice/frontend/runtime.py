"""Exit codes, logging and Ctrl-C: how every front end runs as a process."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator

#: Exit codes of ``oi`` and ``oi-voice``: done; the turn failed; a usage, profile or
#: settings error; stopped with Ctrl-C.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def setup_logging(verbose: bool, *, prefix: str = "", log_file: str | None = None, propagate: bool = True) -> None:
    """oi_voice's log on stderr (warnings; everything with ``verbose``), and INFO and up in ``log_file``.

    Safe to call again (``%verbose``): it replaces the handlers it added before.
    ``propagate=False`` keeps a library's ``basicConfig`` from printing our lines twice.
    """
    log = logging.getLogger("oi_voice")
    for handler in [h for h in log.handlers if getattr(h, "_oi_frontend", False)]:
        log.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter(prefix + ("[%(name)s] %(message)s" if verbose else "%(message)s")))
    handlers: list[logging.Handler] = [console]
    if log_file:
        file = logging.FileHandler(log_file, encoding="utf-8")
        file.setLevel(logging.INFO)
        file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handlers.append(file)
    for handler in handlers:
        handler._oi_frontend = True  # type: ignore[attr-defined]  # marks the handlers this function added
        log.addHandler(handler)
    log.setLevel(logging.DEBUG if verbose else logging.INFO if log_file else logging.WARNING)
    log.propagate = propagate
    # jupyter_client's teardown warns through traitlets' logger with no handler configured,
    # which Python prints as a bare "WARNING:traitlets:..." line after our output.
    logging.getLogger("traitlets").setLevel(logging.ERROR)


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while the engine winds a turn down; a held Ctrl-C is dropped (the turn
    is already stopping). Without this a second Ctrl-C could leave the turn half-closed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda _sig, _frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code_of(run: Callable[[], int]) -> int:
    """``run()``'s exit code; Ctrl-C outside a turn ends the program with 130 and a clean line."""
    try:
        return run()
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
