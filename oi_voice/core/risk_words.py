"""Phrasing of a risk rating for speech and the screen: the one-line question a voice
asks before a run ("Run two lines of shell that delete files?").

Kept apart from the rater (:mod:`oi_voice.core.risk`): the rater says what code does,
this module says it in a sentence.
"""

from __future__ import annotations

from typing import Final

from oi_voice.core.risk import Risk, language_name

__all__ = ["describe"]

_NUMBERS: Final = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                   "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                   "nineteen", "twenty")


def _number(n: int) -> str:
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def _verb_plural(verb: str) -> str:
    if verb == "is":
        return "are"
    if verb == "has":
        return "have"
    if verb in ("may", "can", "will"):
        return verb
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes", "zes")):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") else verb


def _plural_verb(reason: str) -> str:
    """ "deletes files" -> "delete files", "formats or repartitions" -> "format or repartition".

    Reasons start with a verb in the third person singular.
    """
    words = reason.split(" ")
    for k, word in enumerate(words):
        if k == 0 or words[k - 1] in ("or", "and"):
            words[k] = _verb_plural(word)
    return " ".join(words)


def describe(language: str, code: str, risk: Risk) -> str:
    """A one-line spoken question, e.g. "Run two lines of shell that delete files?"."""
    name = language_name(language)
    lines = sum(1 for line in code.splitlines() if line.strip())
    if lines == 0:
        return f"Run an empty block of {name}?"
    count = f"{_number(lines)} line{'s' if lines != 1 else ''}"
    reasons = list(risk.reasons[:2])
    if lines != 1:
        reasons = [_plural_verb(r) for r in reasons]
    clause = f" that {' and '.join(reasons)}" if reasons else ""
    return f"Run {count} of {name}{clause}?"
