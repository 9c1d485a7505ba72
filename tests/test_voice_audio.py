"""Speech in and out through a real (private) PulseAudio: microphone, VAD, speaker, cutting.

espeak-ng utterances are played into the microphone; what the app says is recorded from
the speaker's monitor and transcribed back. Nothing here waits with a sleep: tests wait
on the session's events, on processes, or on conditions with generous timeouts.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import pytest
from voice_env import Pulse, Utterances, pulse, stt, utterance, words

from oi_voice.errors import AudioDeviceError
from oi_voice.voice.capture import Capture, Microphone, Utterance, list_devices, resolve_device
from oi_voice.voice.events import LevelChanged, SpeakingStarted, SpeechEnded, SpeechStarted, VoiceEvent
from oi_voice.voice.playback import SoundDeviceSpeaker
from oi_voice.voice.speech_queue import SpeechQueue
from oi_voice.voice.stt import SpeechToText
from oi_voice.voice.tts import Synthesizer

__all__ = ["pulse", "stt", "utterance"]  # fixtures used by name

E = TypeVar("E", bound=VoiceEvent)


class Events:
    """Collects events and lets a test wait for one."""

    def __init__(self) -> None:
        self.items: list[VoiceEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: VoiceEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: type[E], timeout: float = 30.0, where: Callable[[E], bool] = lambda e: True) -> E:
        with self._cond:
            found = self._cond.wait_for(
                lambda: next((e for e in self.items if isinstance(e, kind) and where(e)), None), timeout)
        assert found is not None, f"no {kind.__name__} within {timeout} s; got {[type(e).__name__ for e in self.items]}"
        return found

    def wait_count(self, kind: type[E], count: int, timeout: float = 30.0,
                   where: Callable[[E], bool] = lambda e: True) -> None:
        """Wait for ``count`` more events of ``kind`` (matching ``where``) than there are now."""
        def matching() -> int:
            return sum(1 for e in self.items if isinstance(e, kind) and where(e))

        with self._cond:
            wanted = matching() + count
            assert self._cond.wait_for(lambda: matching() >= wanted, timeout), f"fewer than {count} {kind.__name__}"


@pytest.fixture
def mic_capture(pulse: Pulse) -> Iterator[tuple[Capture, Events]]:
    events = Events()
    capture = Capture(Microphone(), on_event=events, vad_silence=0.6)
    capture.start(vad=True)
    # The first stream after the server starts can take seconds to open: wait for real audio.
    assert capture.first_block.wait(30), "the microphone delivered nothing"
    yield capture, events
    capture.close()


def test_devices_are_listed_and_chosen_by_name_or_index(pulse: Pulse) -> None:
    devices = list_devices()
    names = [d.name for d in devices]
    assert "pulse" in names
    pulse_dev = next(d for d in devices if d.name == "pulse")
    assert resolve_device("pulse", "input") == pulse_dev.index
    assert resolve_device(str(pulse_dev.index), "output") == pulse_dev.index
    assert resolve_device(None, "input") is None
    with pytest.raises(AudioDeviceError, match=r"no audio input device named 'no-such-mic'; input devices: .*pulse"):
        resolve_device("no-such-mic", "input")
    with pytest.raises(AudioDeviceError, match="index 99"):
        Microphone(99).start()


def test_push_to_talk_keeps_the_first_word_with_pre_roll(pulse: Pulse, utterance: Utterances,
                                                         mic_capture: tuple[Capture, Events],
                                                         stt: SpeechToText) -> None:
    capture, events = mic_capture
    events.items.clear()
    speaking = pulse.play_into_mic(utterance("what operating system are we on"))
    # Press only once the voice is already coming in: the first word precedes the press.
    events.wait_for(LevelChanged, where=lambda e: e.level > 0.5)
    capture.press()
    assert speaking.wait(30) == 0
    said = capture.release()
    assert said.reason == "release"
    heard = words(stt.transcribe(said.audio).text)
    assert "what" in heard.split()[:2], heard
    assert "operating system" in heard


def test_hands_free_utterance_ends_when_speech_stops(pulse: Pulse, utterance: Utterances,
                                                    mic_capture: tuple[Capture, Events],
                                                    stt: SpeechToText) -> None:
    capture, events = mic_capture
    events.items.clear()
    result: list[Utterance | None] = []
    listener = threading.Thread(target=lambda: result.append(capture.listen(timeout=30)))
    listener.start()
    speaking = pulse.play_into_mic(utterance("compute two plus two in python"))
    listener.join(60)
    assert speaking.wait(30) == 0
    said = result[0]
    assert said is not None and said.reason == "vad"
    started = events.wait_for(SpeechStarted)
    ended = events.wait_for(SpeechEnded)
    assert started.at < ended.at
    heard = words(stt.transcribe(said.audio).text)
    assert "two plus two" in heard and "python" in heard, heard


def test_hands_free_keeps_the_first_word_when_listening_starts_late(pulse: Pulse, utterance: Utterances,
                                                                   mic_capture: tuple[Capture, Events],
                                                                   stt: SpeechToText) -> None:
    # A front end says "listening", and on a busy machine gets to listen() late: the user
    # is already talking. The recent audio is searched, so the utterance keeps its start.
    capture, events = mic_capture
    events.items.clear()
    speaking = pulse.play_into_mic(utterance.piper("What operating system are we on?"))
    events.wait_for(LevelChanged, where=lambda e: e.level > 0.5)
    events.wait_count(LevelChanged, 12)  # ~0.8 s of speech (at most ~15 levels a second) before listen()
    said = capture.listen(timeout=30)
    assert speaking.wait(30) == 0
    assert said is not None and said.reason == "vad"
    heard = words(stt.transcribe(said.audio).text)
    assert heard.split()[:3] == ["what", "operating", "system"], heard


def test_an_utterance_that_ended_before_listening_is_not_heard(pulse: Pulse, utterance: Utterances,
                                                               mic_capture: tuple[Capture, Events]) -> None:
    capture, events = mic_capture
    events.items.clear()
    pulse.say_into_mic(utterance.piper("Yes."))
    events.wait_for(LevelChanged, where=lambda e: e.level > 0.5)
    events.wait_count(LevelChanged, 20, where=lambda e: e.level < 0.1)  # the answer is over: silence
    assert capture.listen(timeout=1.5) is None  # an old "yes" must not answer a new question


def test_silence_is_not_an_utterance(pulse: Pulse, mic_capture: tuple[Capture, Events],
                                     stt: SpeechToText) -> None:
    capture, _events = mic_capture
    assert capture.listen(timeout=1.0) is None  # nobody spoke
    capture.press()  # released at once: the pre-roll alone is a second of silence
    said = capture.release()
    assert said.seconds > 0.5  # the pre-roll's length of audio, not a timing
    text = stt.transcribe(said.audio).text
    assert text == "", text


@pytest.fixture(params=["piper", "pyttsx3"])
def speech(pulse: Pulse, request: pytest.FixtureRequest) -> Iterator[tuple[SpeechQueue, Events]]:
    """A sentence queue on the default speaker, once with each engine."""
    events = Events()
    queue = SpeechQueue(Synthesizer(engine=request.param), SoundDeviceSpeaker(), events)
    queue.start()
    queue.synthesizer.wait_ready(30)
    yield queue, events
    queue.close()


def test_sentences_are_spoken_in_order_on_the_speaker(pulse: Pulse, speech: tuple[SpeechQueue, Events],
                                                     stt: SpeechToText) -> None:
    queue, _events = speech
    recording = pulse.record_speaker()
    try:
        assert queue.say("The capital of France is Paris.", tag="t")
        assert queue.say("My favourite colour is green.", tag="t")
        assert queue.wait_idle(60)
    finally:
        audio = recording.stop()
    heard = words(stt.transcribe(audio).text)
    assert "paris" in heard and "green" in heard, heard
    assert heard.index("paris") < heard.index("green")
    assert [text for _e, _t, text, _at in queue.history] == [
        "The capital of France is Paris.", "My favourite colour is green."]
    assert queue.first_audio("t") is not None


def test_stop_cuts_speech_at_once_and_nothing_queued_plays_later(pulse: Pulse, speech: tuple[SpeechQueue, Events],
                                                                 stt: SpeechToText) -> None:
    queue, events = speech
    long_sentence = ("This sentence is deliberately long so that there is plenty of time to interrupt it "
                     "before it reaches its natural end, which takes several seconds to say aloud.")
    natural = queue.synthesizer.synthesize(long_sentence).seconds
    recording = pulse.record_speaker()
    try:
        queue.say(long_sentence)
        queue.say("This later sentence must never be heard.")
        started = events.wait_for(SpeakingStarted, timeout=30)
        # Interrupt once the voice is audible on the speaker, about a second in.
        assert recording.wait_loud(after=started.at + 1.0, timeout=30) is not None, "no speech was recorded"
        cut_at = time.monotonic()
        queue.stop()
        # Idle means every queued sentence was either played (it would be in the history)
        # or dropped as stale.
        assert queue.wait_idle(30)
        idle_at = time.monotonic()
    finally:
        recording.stop()
    after = [t for t in recording.loud_times() if t > cut_at]
    last_loud = max(after) if after else cut_at
    delay = last_loud - cut_at
    print(f"\nbarge-in: speech silenced {delay * 1000:.0f} ms after stop() (recorded on spk.monitor)")
    # Functional bound, not a timing assertion: far from the sentence's natural end.
    assert delay < natural / 2
    assert [text for *_x, text, _at in queue.history] == [long_sentence]
    tail = recording.audio(since=cut_at + 0.5)
    assert idle_at < cut_at + 0.5 or tail.size == 0 or float(np.sqrt(np.mean(tail * tail))) < 0.01
    assert "later" not in words(stt.transcribe(recording.audio()).text)


def test_loading_portaudio_leaves_the_threads_signal_mask_as_it_was(pulse: Pulse) -> None:
    # PortAudio's initialisation (ALSA's PulseAudio plugin) blocks SIGPIPE in its thread; every
    # thread started later, and every program they start, would inherit it.
    probe = ("import signal\n"
             "signal.pthread_sigmask(signal.SIG_SETMASK, set())\n"  # not the test process's (sounddevice is loaded)
             "from oi_voice.voice import capture, devices\n"
             "sd = capture.sounddevice()\n"
             "print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())))\n"
             "devices.refresh_devices(sd)\n"
             "print(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())))\n")
    done = subprocess.run([sys.executable, "-c", probe], env=pulse.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "[]"], done.stdout
