"""Spoken turns end to end: microphone -> transcript -> scripted model -> approval -> run -> speaker.

Real parts throughout: a private PulseAudio (microphone and speaker), espeak-ng speech
played into the microphone, faster-whisper, pyttsx3, the scripted model server over
HTTP, a real Interpreter with its kernel. The only stand-in is ``WavFileSpeaker``, our
own recording implementation of the Speaker protocol. Tests wait on the session's
events (with generous timeouts), never on sleeps, and assert no timings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from scripted_llm import ScriptedLLM, endless, text, tool_call
from voice_env import Pulse, Utterances, pulse, stt, utterance, words

from oi_voice import Interpreter
from oi_voice.errors import AudioDeviceError
from oi_voice.voice.events import (
    ConfirmationAnswered,
    ConfirmationAsked,
    ConfirmationHeard,
    Interrupted,
    ListeningStarted,
    NothingHeard,
    SpeakingStarted,
    TranscriptReady,
    TurnFinished,
    VoiceError,
    VoiceEvent,
)
from oi_voice.voice.pipeline import VoiceConfig, VoiceSession
from oi_voice.voice.playback import WavFileSpeaker
from oi_voice.voice.stt import SpeechToText

__all__ = ["pulse", "stt", "utterance"]  # fixtures used by name

E = TypeVar("E", bound=VoiceEvent)


class Events:
    """Collects a session's events; tests wait for the one they need."""

    def __init__(self) -> None:
        self.items: list[VoiceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: VoiceEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E]) -> list[E]:
        with self._cond:
            return [e for e in self.items if isinstance(e, kind)]

    def wait_for(self, kind: type[E], timeout: float = 60.0, where: Callable[[E], bool] = lambda e: True) -> E:
        with self._cond:
            found = self._cond.wait_for(
                lambda: next((e for e in self.items if isinstance(e, kind) and where(e)), None), timeout)
        assert found is not None, f"no {kind.__name__} in {timeout} s; saw {[type(e).__name__ for e in self.items]}"
        return found


@pytest.fixture(scope="module")
def interp() -> Iterator[Interpreter]:
    """One interpreter (one kernel) for the module."""
    owner = Interpreter()
    yield owner
    owner.close()


@pytest.fixture(scope="module")
def session(pulse: Pulse, interp: Interpreter) -> Iterator[VoiceSession]:
    """One voice session on the default microphone and speaker, for the module."""
    voice = VoiceSession(interp, VoiceConfig(vad_silence=0.6, answer_timeout=20))
    voice.start()
    voice.wait_ready(120)
    assert voice.capture is not None, voice.microphone_error
    assert voice.capture.first_block.wait(30), "the microphone delivered nothing"
    assert voice.speech is not None, voice.speaker_error
    yield voice
    voice.close()


@pytest.fixture
def events(session: VoiceSession, interp: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Events]:
    """A fresh conversation pointed at this test's model server; the session's events."""
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    assert session.wait_idle(60)
    interp.reset()
    interp.llm.model = "scripted-model"
    interp.llm.api_base = llm_server.url
    interp.llm.api_key = "sk-test"
    interp.llm.supports_functions = True
    interp.auto_run = False
    interp.gate.always = False
    session.config.confirm_by_voice = True
    session.fallback = None
    collected = Events()
    unsubscribe = session.subscribe(collected)
    yield collected
    unsubscribe()
    session.interrupt("test over", quiet=True)
    assert session.wait_idle(60)


def push_to_talk(pulse: Pulse, session: VoiceSession, wav: Path) -> threading.Thread:
    """Hold push-to-talk while ``wav`` is said into the microphone; the turn's thread."""
    session.press()
    pulse.say_into_mic(wav)
    return session.release()


def test_spoken_question_spoken_yes_runs_and_the_reply_is_heard(
        pulse: Pulse, session: VoiceSession, events: Events, llm_server: ScriptedLLM, utterance: Utterances,
        stt: SpeechToText) -> None:
    llm_server.add(tool_call("python", "print(2+2)"), text("Two plus two is four."))
    recording = pulse.record_speaker()
    try:
        turn = push_to_talk(pulse, session, utterance("compute two plus two in python"))
        events.wait_for(ListeningStarted, where=lambda e: e.mode == "answer")
        pulse.say_into_mic(utterance("yes"))
        finished = events.wait_for(TurnFinished, timeout=120)
        turn.join(30)
    finally:
        audio = recording.stop()
    heard_question = words(events.wait_for(TranscriptReady).text)
    assert "two plus two" in heard_question and "python" in heard_question, heard_question
    asked = events.wait_for(ConfirmationAsked)
    assert asked.spoken and asked.summary == "Run one line of Python?" and asked.risk == "low"
    assert events.wait_for(ConfirmationHeard).meaning == "run"
    assert events.wait_for(ConfirmationAnswered).action == "run"
    assert "4" in "".join(m["content"] for m in session.interpreter.messages if m["type"] == "console")
    assert finished.reply == "Two plus two is four." and not finished.cancelled and finished.error is None
    latency = finished.latency.as_dict()
    assert all(value is not None and value >= 0 for value in latency.values()), latency
    said = words(stt.transcribe(audio).text)
    # The question, then the answer (keywords: tiny.en is a small model).
    assert all(w in said for w in ("run", "line", "python", "four")), said
    assert said.index("python") < said.index("four"), said


def test_hands_free_question_and_spoken_no_declines(
        pulse: Pulse, session: VoiceSession, events: Events, llm_server: ScriptedLLM, utterance: Utterances,
        tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    llm_server.add(tool_call("shell", f"uname -s > {marker}"), text("Okay, I won't check."))
    results: list[object] = []
    turn = threading.Thread(target=lambda: results.append(session.listen_turn(timeout=60)))
    turn.start()
    events.wait_for(ListeningStarted, where=lambda e: e.mode == "hands-free")
    pulse.say_into_mic(utterance("what operating system are we on"))
    events.wait_for(ListeningStarted, where=lambda e: e.mode == "answer")
    pulse.say_into_mic(utterance("no, cancel that"))
    finished = events.wait_for(TurnFinished, timeout=120)
    turn.join(30)
    assert "operating system" in words(finished.transcript), finished.transcript
    assert events.wait_for(ConfirmationHeard).meaning == "decline"
    answered = events.wait_for(ConfirmationAnswered)
    assert answered.action == "decline" and answered.reason.lower().startswith('the user said "no')
    assert not marker.exists()
    told = next(m["content"] for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert told.startswith("The user declined to run this code") and 'the user said "no' in told.lower()
    assert finished.reply == "Okay, I won't check."


def test_spoken_yes_never_runs_high_risk_code(
        pulse: Pulse, session: VoiceSession, interp: Interpreter, events: Events, llm_server: ScriptedLLM,
        utterance: Utterances, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "inner").mkdir(parents=True)
    llm_server.add(tool_call("shell", f"rm -rf {victim}"), text("Understood, I left it alone."))
    turn = threading.Thread(target=lambda: session.send_text("delete the victim folder"))
    turn.start()
    asked = events.wait_for(ConfirmationAsked)
    assert asked.risk == "high"
    events.wait_for(ListeningStarted, where=lambda e: e.mode == "answer")
    pulse.say_into_mic(utterance("yes"))
    assert events.wait_for(ConfirmationHeard).meaning == "run"
    left = events.wait_for(ConfirmationAnswered)
    assert left.action is None and "high-risk" in left.reason
    # The voice left it open: the request still waits for a click or a key, nothing ran.
    assert interp.gate.is_pending(asked.id)
    assert victim.exists()
    assert interp.decline(asked.id, "not by voice")
    finished = events.wait_for(TurnFinished, timeout=120)
    turn.join(30)
    assert victim.exists() and finished.reply == "Understood, I left it alone."


def test_push_to_talk_while_speaking_cuts_speech_and_cancels_the_turn(
        pulse: Pulse, session: VoiceSession, interp: Interpreter, events: Events, llm_server: ScriptedLLM,
        stt: SpeechToText) -> None:
    # A reply that never ends: speech must start before it does, and barge-in must end it.
    llm_server.add(endless("This reply goes on and on without ever reaching its end. "))
    recording = pulse.record_speaker()
    try:
        turn = threading.Thread(target=lambda: session.send_text("tell me a long story"))
        turn.start()
        started = events.wait_for(SpeakingStarted)
        assert session.busy and interp.busy  # the reply is still streaming while the first sentence plays
        assert recording.wait_loud(after=started.at + 0.8, timeout=30) is not None
        pressed = time.monotonic()
        session.press()
        finished = events.wait_for(TurnFinished, timeout=60)
        turn.join(30)
        llm_server.wait_for_disconnects(1, timeout=30)  # the model stream was closed
        said = session.release()  # nothing said after the press: only the pre-roll's silence
        said.join(60)
        events.wait_for(NothingHeard)
        assert session.wait_idle(60)
        idle = time.monotonic()
    finally:
        recording.stop()
    interrupted = events.wait_for(Interrupted)
    assert interrupted.reason == "push-to-talk" and finished.cancelled
    assert not interp.busy
    loud_after = [t for t in recording.loud_times() if t > pressed]
    delay = (max(loud_after) - pressed) if loud_after else 0.0
    print(f"\nbarge-in: the speaker went quiet {delay * 1000:.0f} ms after push-to-talk (spk.monitor)")
    natural = session.speech.synthesizer.synthesize(  # type: ignore[union-attr]
        "This reply goes on and on without ever reaching its end.").seconds
    assert delay < natural / 2  # functional bound: far before the sentence's natural end
    # No sentence of the old turn played after the press.
    assert all(at < pressed for _epoch, _tag, _text, at in session.speech.history)  # type: ignore[union-attr]
    tail = recording.audio(since=pressed + 0.5)
    assert idle < pressed + 0.5 or tail.size == 0 or float(np.sqrt(np.mean(tail * tail))) < 0.01


def test_no_microphone_is_a_clear_error_and_typed_chat_still_works(
        pulse: Pulse, interp: Interpreter, llm_server: ScriptedLLM, stt: SpeechToText, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    interp.reset()
    interp.llm.api_base = llm_server.url
    interp.llm.model = "scripted-model"
    interp.llm.supports_functions = True
    llm_server.add(text("Typed chat works without a microphone."))
    speaker = WavFileSpeaker(tmp_path / "reply.wav")
    voice = VoiceSession(interp, VoiceConfig(input_device="no-such-microphone"), speaker=speaker)
    events = Events()
    voice.subscribe(events)
    try:
        voice.start()
        error = events.wait_for(VoiceError)
        assert "no audio input device named 'no-such-microphone'" in error.message
        assert "typed chat still works" in error.message
        assert voice.capture is None and voice.microphone_error
        with pytest.raises(AudioDeviceError, match="no-such-microphone"):
            voice.press()
        result = voice.send_text("hello")
    finally:
        voice.close()
    assert result.reply == "Typed chat works without a microphone." and result.error is None
    said = words(stt.transcribe(speaker.samples_at(16000)).text)
    assert "microphone" in said, said
