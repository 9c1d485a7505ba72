"""The keyboard approval prompt and the auto-run warning, the same in every front end.

The prompt follows Open Interpreter: ``y`` runs, ``e`` edits first (where an editor is
offered), and anything else — ``n``, or an empty line — declines. A declined run asks
for an optional reason, which the model is told. The words follow the system locale
(:mod:`oi_voice.frontend.messages`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oi_voice.frontend.messages import message

if TYPE_CHECKING:
    from oi_voice.core.approval import Decision
    from oi_voice.core.language import Language

#: Asked before each run in English (Open Interpreter's words; ``e`` only where code can be edited).
QUESTION = message("question", "en")
QUESTION_NO_EDIT = message("question_no_edit", "en")
REASON = message("reason", "en")


def ask_approval(read: Callable[[str], str | None], say: Callable[[str], None], request: dict[str, Any],
                 edit: Callable[[dict[str, Any]], str | None] | None = None,
                 language: Language | None = None) -> Decision:
    """Ask on a keyboard whether to run ``request`` (a confirmation chunk's content).

    ``read(prompt)`` returns a line, or None at end of input (a decline); ``say(text)``
    shows a line; ``edit(request)`` returns the edited code, or None when the editor failed.
    ``language``: the words' language (default: the system locale's); the answers are y/n/e in all.
    """
    from oi_voice.core.approval import Decision

    while True:
        answer = read(message("question" if edit is not None else "question_no_edit", language))
        if answer is None:
            say(message("end_of_input", language))
            return Decision.decline("no answer (end of input)", source="keyboard")
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return Decision.run(source="keyboard")
        if answer in ("e", "edit") and edit is not None:
            edited = edit(request)
            if edited is None:
                say(message("editor_failed", language))
                continue
            say(message("running_edited", language))
            say(edited)
            return Decision.run(edited, source="keyboard")
        if answer in ("", "n", "no"):
            reason = read(message("reason", language)) if answer else ""
            return Decision.decline((reason or "").strip(), source="keyboard")
        say(message("answer_hint_edit" if edit is not None else "answer_hint", language))


def auto_run_warning(safe_mode: str = "off", *, question: bool = False, language: Language | None = None) -> str:
    """What every front end says when code will run without asking.

    ``question``: the form a dialog asks before turning auto-run on. ``language``: default
    the system locale's.
    """
    extra = "" if safe_mode == "off" else message("safe_mode", language, mode=safe_mode)
    return message("auto_run_question" if question else "auto_run", language, extra=extra)
