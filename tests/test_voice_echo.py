"""Hands-free on loudspeakers: the app does not hear itself, and speech over a reply stops it.

The rig (tests/echo_room.py) couples the private PulseAudio's speaker into its
microphone the way a laptop does: attenuated, delayed, with sox's room reverberation.
A hands-free loop listens the whole time (``listen_turn`` over and over, as the app's
mic button runs it) while typed messages make the app speak. Real parts throughout:
the scripted model server, Piper, faster-whisper, silero, WebRTC's AEC3. Nothing here
asserts a timing (tests/bench/bench_echo.py measures them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from echo_room import HandsFree, Room, echo_room
from scripted_llm import ScriptedLLM, endless, text
from voice_env import Pulse, Utterances, pulse, utterance, words

from oi_voice import Interpreter
from oi_voice.voice.echo import WebRtcEchoCanceller, echo_wanted, sink_is_headphones
from oi_voice.voice.events import SpeakingStarted, VoiceEvent
from oi_voice.voice.pipeline import VoiceConfig, VoiceSession

__all__ = ["echo_room", "pulse", "utterance"]  # fixtures used by name

#: Short replies: twenty of them keep the test under a minute.
REPLY = "All right, that is done."


@pytest.fixture(scope="module")
def interp() -> Iterator[Interpreter]:
    """One interpreter for the module (no code runs: no kernel starts)."""
    owner = Interpreter()
    yield owner
    owner.close()


def start_session(interp: Interpreter, server: ScriptedLLM, tmp_path: Path, echo: str) -> VoiceSession:
    """A session on the rig's microphone and speaker, talking to ``server``."""
    interp.reset()
    interp.llm.model = "scripted-model"
    interp.llm.api_base = server.url
    interp.llm.api_key = "sk-test"
    interp.llm.supports_functions = True
    session = VoiceSession(interp, VoiceConfig(echo_cancellation=echo, vad_silence=0.6))
    session.start()
    session.wait_ready(120)
    assert session.capture is not None, session.microphone_error
    assert session.speech is not None, session.speaker_error
    return session


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own conversation journal."""
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.mark.slow
def test_twenty_replies_on_loudspeakers_start_no_turn(
        pulse: Pulse, echo_room: Room, interp: Interpreter, llm_server: ScriptedLLM, data_dir: Path) -> None:
    llm_server.add(*[text(REPLY) for _ in range(20)])
    session = start_session(interp, llm_server, data_dir, "on")
    loop = HandsFree(session)
    try:
        results = loop.typed_replies([f"do task {i}" for i in range(20)])
    finally:
        loop.close()
        session.close()
    echo = session.turn_taking.echo
    assert isinstance(echo, WebRtcEchoCanceller)
    assert echo.erle_db() is not None  # the microphone did hear the replies (the rig works)
    print(f"\nERLE {echo.erle_db():.1f} dB; heard {loop.heard}; barge-ins {loop.barge_ins}")
    assert [(r.reply, r.cancelled, r.error) for r in results] == [(REPLY, False, None)] * 20
    assert loop.heard == [] and loop.barge_ins == []  # not one turn started by its own voice
    assert loop.started == [f"do task {i}" for i in range(20)]


@pytest.mark.slow
def test_without_cancellation_the_app_hears_itself(
        pulse: Pulse, echo_room: Room, interp: Interpreter, llm_server: ScriptedLLM, data_dir: Path) -> None:
    # The failure the rig exists to catch: with the canceller off, a reply becomes a request.
    llm_server.add(*[text("Here is a longer answer, so that the microphone hears a whole sentence of it.")
                     for _ in range(12)])
    session = start_session(interp, llm_server, data_dir, "off")
    assert session.turn_taking.echo is None
    loop = HandsFree(session)
    try:
        loop.typed_replies([f"do task {i}" for i in range(5)], stop_when_heard=True)
        loop.wait(lambda h: bool(h.heard), timeout=30)
    finally:
        loop.close()
        session.close()
    assert loop.barge_ins or loop.heard, "the rig did not couple the speaker into the microphone"
    heard = " ".join(words(t) for t in loop.heard)
    assert any(w in heard for w in ("answer", "microphone", "sentence", "longer")), loop.heard


@pytest.mark.slow
def test_speech_over_a_reply_stops_it_and_becomes_the_next_request(
        pulse: Pulse, echo_room: Room, interp: Interpreter, llm_server: ScriptedLLM, utterance: Utterances,
        data_dir: Path) -> None:
    llm_server.add(endless("The folder holds many files, and I will describe each of them to you in turn. "),
                   text("Opening the other folder."))
    request = utterance.piper("What is in this folder?")
    barge = utterance.piper("Stop. Open the other folder instead.")
    session = start_session(interp, llm_server, data_dir, "on")
    sentences: list[float] = []
    speaking = threading.Event()

    def on_event(event: VoiceEvent) -> None:
        if isinstance(event, SpeakingStarted):
            sentences.append(event.at)
            if len(sentences) >= 2:
                speaking.set()  # the canceller has had a whole sentence to converge

    session.subscribe(on_event)
    loop = HandsFree(session)
    try:
        pulse.say_into_mic(request)
        assert speaking.wait(60), "the reply did not start"
        pulse.say_into_mic(barge)
        assert loop.wait(lambda h: len(h.finished) >= 2, timeout=120), (loop.heard, loop.started)
    finally:
        loop.close()
        session.close()
    assert len(loop.barge_ins) == 1
    first, second = loop.finished[:2]
    assert "folder" in words(first.transcript) and first.cancelled  # the endless reply was cut
    assert "other folder" in words(second.transcript), second.transcript
    assert second.reply == "Opening the other folder." and not second.cancelled
    # Nothing of the first reply was said after the barge-in.
    assert session.speech is not None
    cut = loop.barge_ins[0]
    assert all(text_ != first.reply or at < cut for _e, _t, text_, at in session.speech.history)
    assert len(loop.heard) == 2  # the request and the barge-in: the reply itself was never heard


def test_echo_cancellation_follows_the_output() -> None:
    listing = (
        "Sink #0\n\tName: alsa_output.pci.analog-stereo\n\tActive Port: analog-output-speaker\n"
        "\tProperties:\n\t\tdevice.form_factor = \"internal\"\n"
        "Sink #1\n\tName: alsa_output.usb-headset\n\tActive Port: analog-output\n"
        "\tProperties:\n\t\tdevice.form_factor = \"headset\"\n"
        "Sink #2\n\tName: alsa_output.pci.analog-stereo.2\n\tActive Port: analog-output-headphones\n")
    assert sink_is_headphones(listing, "alsa_output.pci.analog-stereo") is False
    assert sink_is_headphones(listing, "alsa_output.usb-headset") is True
    assert sink_is_headphones(listing, "alsa_output.pci.analog-stereo.2") is True
    assert sink_is_headphones(listing, "nothing") is None
    assert echo_wanted("auto", headphones=False) and echo_wanted("auto", headphones=None)
    assert not echo_wanted("auto", headphones=True)
    assert echo_wanted("on", headphones=True) and not echo_wanted("off", headphones=False)
