"""Hands-free turn-taking: listen while speaking; speech over a reply is a barge-in.

:class:`TurnTaking` sits on the microphone path (``Capture.filter``): every block goes
through the echo canceller (when there is one), then, while a hands-free session is
on and the app speaks or works on a turn, through a VAD of its own. Speech that
survives the canceller for ``min_speech`` seconds is a barge-in: the reply is cut
(the session's ``interrupt``, the same path as push-to-talk), and what the person says
is recorded to its end (``Capture.listen``: its look-back keeps the first words) and
becomes the next hands-free request. The app's own voice never gets that far: the
canceller removed it, and without it the VAD would hear the reply (the rig's tests
show both).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from oi_voice.voice.audio import Samples
from oi_voice.voice.capture import BLOCK, Capture, StreamingVad, Utterance
from oi_voice.voice.echo import EchoCanceller

if TYPE_CHECKING:
    from oi_voice.voice.playback import Speaker

log = logging.getLogger("oi_voice.voice")

#: Seconds of voiced audio (after the canceller) that make a barge-in: long enough that a
#: click, a breath or a residual echo syllable does not cut the reply (on the rig the
#: cleaned reply never reaches two voiced windows in a row; this is four 32 ms windows),
#: short enough that the reply stops within 0.3 s of the first word (five windows measured
#: 0.315 s median on a quiet machine, four 0.28 s).
MIN_BARGE_IN = 0.12
#: Output this much like the reference (normalised correlation) is an echo, not a voice.
ECHO_LIKE = 0.6
#: Seconds after a barge-in before another can be detected: the person is still talking
#: ("stop, open the other folder instead"), and that is one request, not two.
REARM = 4.0


class BargeInDetector:
    """silero over the cleaned microphone: fires once ``min_speech`` s of speech accumulated.

    Voiced windows count across short gaps; ``silence`` s without one start over.
    ``min_windows`` may be raised while the canceller is still learning the room.
    """

    def __init__(self, *, min_speech: float = MIN_BARGE_IN, threshold: float = 0.5, silence: float = 0.3) -> None:
        self.min_windows = max(1, round(min_speech * 16000 / BLOCK))
        self.threshold = threshold
        self.silence_windows = max(1, round(silence * 16000 / BLOCK))
        self._vad: StreamingVad | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self._voiced = 0
        self._quiet = 0

    def reset(self) -> None:
        """Forget what was heard."""
        if self._vad is not None:
            self._vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._voiced = self._quiet = 0

    def feed(self, block: Samples) -> bool:
        """Add one block; True when it completes a barge-in."""
        if self._vad is None:
            self._vad = StreamingVad()
        data = np.concatenate([self._pending, block])
        n = data.size // BLOCK
        self._pending = data[n * BLOCK:]
        for i in range(n):
            prob = self._vad(data[i * BLOCK:(i + 1) * BLOCK])
            if prob >= self.threshold:  # no hysteresis: residual echo hovers just below
                self._voiced += 1
                self._quiet = 0
            elif self._voiced:
                self._quiet += 1
                if self._quiet >= self.silence_windows:
                    self._voiced = self._quiet = 0
            if self._voiced >= self.min_windows:
                self._voiced = self._quiet = 0
                return True
        return False


class TurnTaking:
    """The microphone path of a hands-free session: echo cancellation, then barge-in.

    ``interrupt(reason)`` cuts the reply and cancels the turn; ``busy()`` says whether
    the app is speaking or working on a turn. Install with :meth:`attach`.
    """

    def __init__(self, interrupt: Callable[[str], None], busy: Callable[[], bool], *,
                 echo: EchoCanceller | None = None, min_speech: float = MIN_BARGE_IN,
                 answer_seconds: float = 15.0) -> None:
        self.echo = echo
        self._interrupt = interrupt
        self._busy = busy
        self.detector = BargeInDetector(min_speech=min_speech)
        self.answer_seconds = answer_seconds
        self.capture: Capture | None = None
        self._hands_free = 0  # listen_turn calls in progress
        self._loop_listening = False  # the hands-free loop itself waits in Capture.listen
        self._armed = False
        self._busy_until = 0.0  # when the app was last seen speaking or working on a turn
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._pending: Utterance | None = None
        #: Barge-ins so far, and when each was detected (monotonic).
        self.barge_ins: list[float] = []

    def attach(self, capture: Capture, speaker: Speaker | None) -> None:
        """Filter ``capture``'s blocks, and take ``speaker``'s output as the echo reference."""
        self.capture = capture
        capture.filter = self.process
        if self.echo is not None and speaker is not None and hasattr(speaker, "on_played"):
            speaker.on_played = self.echo.played

    # -- the capture thread ----------------------------------------------------------------

    def process(self, block: Samples) -> Samples:
        """``Capture.filter``: cancel the echo, then look for speech over the reply."""
        if self.echo is not None:
            try:
                block = self.echo.process(block)
            except Exception:  # the microphone must keep working, uncancelled
                log.exception("echo cancellation failed; the microphone continues without it")
                self.echo = None
        if self._watching():
            if not self._armed:
                self._armed = True
                self.detector.reset()
            if block.size and self.detector.feed(block):
                likeness = self.echo.echo_likeness(0.3) if self.echo is not None else 0.0
                if likeness < ECHO_LIKE:
                    self._barge_in()
                else:  # the reply itself, let through by a glitch: not a person
                    log.info("speech over the reply is the reply's echo (%.2f): no barge-in", likeness)
                    self.detector.reset()
        else:
            self._armed = False
        return block

    def _watching(self) -> bool:
        capture = self.capture
        if self._hands_free == 0 or capture is None or self._watcher is not None:
            return False
        if capture.listening and not self._loop_listening:
            return False  # a spoken answer to a confirmation: that listener hears it
        busy = self._busy()
        if busy:
            self._busy_until = time.monotonic()
        if self.echo is not None and not self.echo.warm:
            # The canceller is still learning the room (the first seconds of the first reply):
            # what it lets through cannot be told from a voice.
            return False
        if self.barge_ins and time.monotonic() - self.barge_ins[-1] < REARM:
            return False  # one barge-in per reply: the interrupted turn is still unwinding
        return busy

    def _barge_in(self) -> None:
        at = time.monotonic()
        self.barge_ins.append(at)
        log.info("barge-in: speech over the reply")
        with self._lock:
            if not self._loop_listening:  # else the hands-free loop's own listen hears it
                self._watcher = threading.Thread(target=self._record, name="oi-voice-barge-in", daemon=True)
                self._watcher.start()  # started under the lock: listen() may join it at once
        # Off the capture thread: it must keep reading (and the recorder needs its blocks).
        threading.Thread(target=self._interrupt, args=("barge-in",), name="oi-voice-interrupt", daemon=True).start()

    def _record(self) -> None:
        """Record the barge-in to its end; it is the next request."""
        capture = self.capture
        try:
            if capture is None:
                return
            # A confirmation's listen may still be unwinding (its turn was just cancelled).
            deadline = time.monotonic() + 2.0
            while capture.listening and time.monotonic() < deadline:
                time.sleep(0.01)
            utterance = capture.listen(1.0)
            with self._lock:
                self._pending = utterance
        except Exception:  # a thread has nobody to raise to; the next listen reports a dead microphone
            log.exception("recording the barge-in failed")
        finally:
            with self._lock:
                self._watcher = None

    # -- the hands-free loop -------------------------------------------------------------

    @contextlib.contextmanager
    def hands_free(self) -> Iterator[None]:
        """A ``listen_turn`` call: barge-ins are watched for while it lasts."""
        with self._lock:
            self._hands_free += 1
        try:
            yield
        finally:
            with self._lock:
                self._hands_free -= 1

    def listen(self, capture: Capture, timeout: float, cancel: threading.Event | None) -> Utterance | None:
        """The next hands-free request: a barge-in already heard, else ``capture.listen``."""
        with self._lock:
            watcher = self._watcher
        if watcher is not None:
            watcher.join(self.answer_seconds + capture.max_utterance)
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            return pending
        deadline = time.monotonic() + timeout
        while True:
            self._loop_listening = True
            try:
                utterance = capture.listen(max(0.0, deadline - time.monotonic()), cancel)
            finally:
                self._loop_listening = False
            if utterance is None or not self._unconfirmed(utterance):
                return utterance
            # Heard while the app spoke, and not speech enough to barge in: the reply's residue.
            log.info("dropped %.1f s heard over the reply (no barge-in)", utterance.seconds)

    def _unconfirmed(self, utterance: Utterance) -> bool:
        """Whether ``utterance`` overlapped the app's own speech with no barge-in in it."""
        start = utterance.speech_end - utterance.seconds
        if self._busy_until < start:
            return False
        return not any(start <= at <= utterance.speech_end + 0.5 for at in self.barge_ins)
