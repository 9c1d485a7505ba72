"""Spoken confirmation: say what will run, listen for a short yes or no.

"Run two lines of shell that delete files?" -- then yes / yeah / run it / go ahead
runs it, no / cancel / stop / skip declines it, and anything else gets one more
question before the decision is left to the dialog or the keyboard. In Chinese and
Korean the question is asked in the language ("运行一行 Python 吗？") and 是/好的/运行,
네/실행해 줘 run, 不/取消, 아니요/취소 decline (voice/lang.py holds the words). High-risk code
(the engine's rating) is never approved by voice alone: the gate refuses a spoken yes,
and the voice says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from oi_voice.core.approval import ApprovalGate, Decision
from oi_voice.voice.capture import Listener
from oi_voice.voice.events import (
    ConfirmationAnswered,
    ConfirmationAsked,
    ConfirmationHeard,
    ListeningStarted,
    VoiceEvent,
)
from oi_voice.voice.lang import Meaning, classify, phrases
from oi_voice.voice.stt import SpeechToText

__all__ = ["Meaning", "SpokenConfirmation", "classify"]


@dataclass
class SpokenConfirmation:
    """Asks one pending run by voice and answers the gate with what it heard.

    ``say(text) -> bool`` speaks and returns once the words were heard (False when it
    was interrupted); ``listener`` hears one short answer; ``stt`` turns it into words.
    """

    gate: ApprovalGate
    say: Callable[[str], bool]
    listener: Listener
    stt: SpeechToText
    emit: Callable[[VoiceEvent], None] = lambda _e: None
    #: Seconds to wait for an answer to start.
    answer_timeout: float = 6.0
    #: Questions asked in all (the first one, then "please say yes or no").
    attempts: int = 2
    #: The language to ask in: "en", "zh" or "ko" (answers are understood in all three).
    language: str = "en"

    def ask(self, content: dict[str, Any], cancel: threading.Event | None = None) -> Meaning | None:
        """Ask about the confirmation chunk's ``content``; returns what was decided by voice.

        None: nothing was decided by voice (not understood twice, a refused spoken yes
        on high-risk code, cancelled); the request is then still open for the dialog or
        the keyboard.
        """
        id_ = str(content.get("id"))
        risk = str((content.get("risk") or {}).get("level", "low"))
        said = phrases(self.language)
        summary = said.summary(content)
        question = f"{summary} {said.high_risk_note}" if risk == "high" else summary
        self.emit(ConfirmationAsked(id_, summary, risk, spoken=True))
        for attempt in range(self.attempts):
            if self._stopped(id_, cancel):
                return self._left(id_, "cancelled")
            if not self.say(question if attempt == 0 else said.ask_again):
                return self._left(id_, "interrupted")
            if self._stopped(id_, cancel):
                return self._left(id_, "cancelled")
            self.emit(ListeningStarted("answer"))
            utterance = self.listener.listen(self.answer_timeout, _AnsweredOrCancelled(self.gate, id_, cancel))
            if utterance is None:
                if self._stopped(id_, cancel):
                    return self._left(id_, "cancelled")
                self.emit(ConfirmationHeard(id_, "", None))
                continue
            heard = self.stt.transcribe(utterance.audio, cancel=cancel).text
            meaning = classify(heard)
            self.emit(ConfirmationHeard(id_, heard, meaning))
            if meaning is None:
                continue
            if meaning == "decline":
                reason = f'the user said "{heard.strip()}"' if heard.strip() else "declined by voice"
                if self.gate.answer(id_, Decision.decline(reason, source="voice")):
                    self.emit(ConfirmationAnswered(id_, "decline", reason))
                    return "decline"
                return self._left(id_, "no longer pending")
            if self.gate.answer(id_, Decision.run(source="voice")):
                self.emit(ConfirmationAnswered(id_, "run"))
                return "run"
            if self.gate.is_pending(id_):
                # The gate refused: high-risk code needs a click or a key.
                self.say(said.refused_high_risk)
                return self._left(id_, "a spoken yes cannot approve high-risk code")
            return self._left(id_, "no longer pending")
        if not self._stopped(id_, cancel):
            self.say(said.left_to_user)
        return self._left(id_, "not understood")

    def _stopped(self, id_: str, cancel: threading.Event | None) -> bool:
        # Answered elsewhere (a click in the dialog) or the turn was cancelled.
        return (cancel is not None and cancel.is_set()) or not self.gate.is_pending(id_)

    def _left(self, id_: str, reason: str) -> Meaning | None:
        self.emit(ConfirmationAnswered(id_, None, reason))
        return None


class _AnsweredOrCancelled(threading.Event):
    """Set once the turn is cancelled or the request was answered elsewhere.

    Listeners poll ``is_set()``: a click in the dialog then ends the listening at once
    instead of after the answer timeout.
    """

    def __init__(self, gate: ApprovalGate, id_: str, cancel: threading.Event | None) -> None:
        super().__init__()
        self._gate, self._id, self._cancel = gate, id_, cancel

    def is_set(self) -> bool:
        """Whether to stop listening."""
        return (super().is_set() or (self._cancel is not None and self._cancel.is_set())
                or not self._gate.is_pending(self._id))
