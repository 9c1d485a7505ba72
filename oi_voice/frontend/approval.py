"""The keyboard approval prompt and the auto-run warning, the same in every front end.

The prompt follows Open Interpreter: ``y`` runs, ``e`` edits first (where an editor is
offered), and anything else — ``n``, or an empty line — declines. A declined run asks
for an optional reason, which the model is told.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oi_voice.core.approval import Decision

#: Asked before each run (Open Interpreter's words; ``e`` only where code can be edited).
QUESTION = "Would you like to run this code? (y/n/e) "
QUESTION_NO_EDIT = "Would you like to run this code? (y/n) "
REASON = "Reason (optional, Enter to skip): "


def ask_approval(read: Callable[[str], str | None], say: Callable[[str], None], request: dict[str, Any],
                 edit: Callable[[dict[str, Any]], str | None] | None = None) -> Decision:
    """Ask on a keyboard whether to run ``request`` (a confirmation chunk's content).

    ``read(prompt)`` returns a line, or None at end of input (a decline); ``say(text)``
    shows a line; ``edit(request)`` returns the edited code, or None when the editor failed.
    """
    from oi_voice.core.approval import Decision

    while True:
        answer = read(QUESTION if edit is not None else QUESTION_NO_EDIT)
        if answer is None:
            say("\n(no answer: end of input; not run)")
            return Decision.decline("no answer (end of input)", source="keyboard")
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return Decision.run(source="keyboard")
        if answer in ("e", "edit") and edit is not None:
            edited = edit(request)
            if edited is None:
                say("The editor failed; the code is unchanged.")
                continue
            say("Running the edited code:")
            say(edited)
            return Decision.run(edited, source="keyboard")
        if answer in ("", "n", "no"):
            reason = read(REASON) if answer else ""
            return Decision.decline((reason or "").strip(), source="keyboard")
        say("Please answer y (run it), n (don't)" + (" or e (edit it first)." if edit is not None else "."))


def auto_run_warning(safe_mode: str = "off", *, question: bool = False) -> str:
    """What every front end says when code will run without asking.

    ``question``: the form a dialog asks before turning auto-run on.
    """
    extra = "" if safe_mode == "off" else f" (safe_mode {safe_mode}: high-risk code still asks)"
    sentence = f"code will run without asking you first{extra}"
    if question:
        return (f"{sentence[0].upper()}{sentence[1:]}: whatever the model writes runs on this computer at once, "
                "with your permissions.\n\nTurn on auto-run?")
    return f"Warning: auto_run is on: {sentence}. Ctrl-C stops a run."
