"""Small helpers shared by the tests: reading run events, waiting on other processes,
and pointing an Interpreter at a scripted model server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from oi_voice import Interpreter
from oi_voice.computer import Output, RunEvent, RunFinished


def finished(events: list[RunEvent]) -> RunFinished:
    """The run's one RunFinished, checking it is last and alone."""
    assert isinstance(events[-1], RunFinished), events
    assert sum(isinstance(e, RunFinished) for e in events) == 1, events
    return events[-1]


def text(events: list[RunEvent], stream: str | None = None) -> str:
    """All output text of a run (of one stream, if given)."""
    return "".join(e.text for e in events if isinstance(e, Output) and stream in (None, e.stream))


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie is dead; reaping it is its parent's business)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in (b"Z", b"X")


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait for a condition that another process or thread makes true; False on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def point_at(interp: Interpreter, server_url: str, **settings: Any) -> Interpreter:
    """Reset ``interp`` to a fresh conversation with default settings, talking to ``server_url``.

    ``settings`` are Interpreter setting paths with dots as double underscores
    (``llm__transport="openai"``, ``auto_run=True``).
    """
    interp.reset()
    defaults: dict[str, Any] = {
        "llm.model": "scripted-model", "llm.api_base": server_url, "llm.api_key": "sk-test",
        "llm.supports_functions": True, "llm.transport": "auto", "llm.context_window": None,
        "llm.max_tokens": None, "llm.max_retries": 3, "auto_run": False, "max_steps": 20,
        "max_output": 2800, "custom_instructions": "",
    }
    defaults.update({k.replace("__", "."): v for k, v in settings.items()})
    for path, value in defaults.items():
        interp.set(path, value)
    interp.approver = None
    interp.gate.always = False
    return interp


#: The name of the tiny wheel the tests build (fixture ``tiny_wheels``) and pip-install in a run.
TINY = "oi-tiny-pkg"
