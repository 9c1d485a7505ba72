"""Drives a real Interpreter through scripted turns for test_persistence.py.

``python journal_driver.py TURNS`` chats TURNS times with the model at
``$OI_VOICE_API_BASE`` (auto_run on) and writes every message to stdout, one JSON line
each, as soon as it is in ``interpreter.messages``: what the test reads before it kills
this process is what was complete before the kill. Prints ``DONE`` at the end.
"""

from __future__ import annotations

import json
import os
import sys

from oi_voice import Interpreter


def main(turns: int) -> None:
    """Run the turns, reporting messages as they complete."""
    interp = Interpreter(auto_run=True)
    interp.llm.model = "scripted-model"
    interp.llm.supports_functions = True
    interp.llm.transport = "openai"
    seen = 0

    def report() -> None:
        nonlocal seen
        messages = interp.messages
        while seen < len(messages):
            # os.write: unbuffered, so the line is out before anything else happens.
            os.write(1, (json.dumps(messages[seen]) + "\n").encode())
            seen += 1

    for i in range(turns):
        for _chunk in interp.chat(f"turn {i}", display=False, stream=True):
            report()
        report()
    interp.flush()
    os.write(1, b"DONE\n")


if __name__ == "__main__":
    main(int(sys.argv[1]))
