"""The sentence queue: streamed sentences -> synthesis ahead -> playback in order.

Sentences go in as the reply streams; each is handed to the synthesizer at once (so
the next is ready while one plays) and played in order on the speaker. ``stop()`` cuts
the sound and makes every sentence queued before it stale, so none of them plays later.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from oi_voice.voice.events import SpeakingStarted, VoiceEvent
from oi_voice.voice.playback import Playback, Speaker
from oi_voice.voice.tts_base import Clip, SpeechSynthesizer

log = logging.getLogger("oi_voice.voice")


@dataclass
class _Item:
    epoch: int
    text: str
    future: concurrent.futures.Future[Clip]
    tag: Hashable | None = None


@dataclass
class SpeechQueue:
    """Sentences in, speech out, in order; ``stop()`` cuts and makes the queue stale.

    Every sentence carries the epoch it was queued in; ``stop()`` starts a new epoch, so
    sentences of an interrupted turn are dropped wherever they are (waiting for
    synthesis, synthesized, queued on the speaker).
    """

    synthesizer: SpeechSynthesizer
    speaker: Speaker
    emit: Callable[[VoiceEvent], None] = lambda _e: None
    #: Release the speaker after this many idle seconds.
    idle_release: float = 3.0
    _epoch: int = 0
    _items: queue.Queue[_Item | None] = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _outstanding: int = 0
    _current: Playback | None = None
    _first_audio: dict[Hashable, float] = field(default_factory=dict)
    _thread: threading.Thread | None = None
    #: Sentences that started playing: (epoch, tag, text, monotonic start), for tests and logs.
    history: list[tuple[int, Hashable | None, str, float]] = field(default_factory=list)

    def start(self) -> None:
        """Start the synthesizer and the playback thread."""
        self.synthesizer.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="oi-voice-playback", daemon=True)
            self._thread.start()

    @property
    def epoch(self) -> int:
        """The current epoch (a turn remembers it to queue its sentences)."""
        return self._epoch

    def say(self, text: str, epoch: int | None = None, tag: Hashable | None = None) -> bool:
        """Queue one sentence; False if ``epoch`` is stale (the turn was interrupted).

        ``tag`` (a turn id) groups sentences for :meth:`first_audio`.
        """
        text = text.strip()
        if not text:
            return False
        with self._lock:
            if epoch is not None and epoch != self._epoch:
                return False
            current = self._epoch
        with self._idle:
            self._outstanding += 1
        self._items.put(_Item(current, text, self.synthesizer.submit(text), tag))
        return True

    def stop(self) -> int:
        """Cut speech now; every sentence queued before is dropped. Returns the new epoch."""
        with self._lock:
            self._epoch += 1
            epoch = self._epoch
            current = self._current
            self.speaker.stop()
        if current is not None:
            current.finish(cut=True)
        # Drop what waits, so the synthesizer does not spend time on sentences never said.
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                break
            if item is None:  # close() asked the thread to end: keep asking
                self._items.put(None)
                break
            item.future.cancel()
            self._done_one()
        return epoch

    def first_audio(self, tag: Hashable) -> float | None:
        """When the first sentence queued with ``tag`` started playing (monotonic), if it did."""
        return self._first_audio.get(tag)

    @property
    def speaking(self) -> bool:
        """Whether anything is queued or playing."""
        return self._outstanding > 0

    def wait_idle_quick(self, timeout: float) -> bool:
        """Wait until everything queued went to the device (or was cut); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._outstanding > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def wait_latency(self) -> None:
        """Wait out the device's buffer: the last samples are heard about this much later."""
        time.sleep(min(max(self.speaker.latency, 0.0), 0.5))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until everything queued has been heard (or was cut); False on timeout."""
        if not self.wait_idle_quick(timeout):
            return False
        self.wait_latency()
        return True

    def close(self) -> None:
        """Cut speech and stop the threads."""
        self.stop()
        if self._thread is not None:
            self._items.put(None)
            self._thread.join(timeout=5)
            self._thread = None
        self.synthesizer.close()
        self.speaker.close()

    def _done_one(self) -> None:
        with self._idle:
            self._outstanding -= 1
            if self._outstanding <= 0:
                self._outstanding = 0
                self._idle.notify_all()

    def _run(self) -> None:
        while True:
            try:
                item = self._items.get(timeout=self.idle_release)
            except queue.Empty:
                self.speaker.pause()
                continue
            if item is None:
                return
            try:
                self._play(item)
            except Exception as exc:  # a failed sentence must not end speech for good
                log.warning("could not speak %r: %s", item.text[:60], exc)
            finally:
                self._done_one()

    def _play(self, item: _Item) -> None:
        if item.epoch != self._epoch:
            item.future.cancel()
            return
        clip = item.future.result(timeout=self.synthesizer.timeout + 5)
        with self._lock:
            # Checked under the lock stop() takes: a stale sentence never reaches the speaker.
            if item.epoch != self._epoch:
                return
            playback = self.speaker.play(clip)
            self._current = playback
        if playback.started.wait(5.0) and playback.started_at is not None and not playback.cut:
            if item.tag is not None:
                self._first_audio.setdefault(item.tag, playback.started_at)
            self.history.append((item.epoch, item.tag, item.text, playback.started_at))
            self.emit(SpeakingStarted(item.text, playback.started_at))
        # Bounded: a stalled device must not hang the queue.
        playback.wait(clip.seconds + 5.0)
        with self._lock:
            if self._current is playback:
                self._current = None
