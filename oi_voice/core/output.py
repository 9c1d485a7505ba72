"""Collecting a run's output within bounds.

The model sees at most ``max_output`` characters: the head and the tail, with a note
saying how much was left out and where the full output was saved. Front ends see the
output as it streams, up to ``stream_limit`` characters a run; beyond that they get
one notice and, at the end, the tail. Memory stays bounded whatever the code prints.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import IO

from oi_voice.computer.ansi import strip_ansi


class OutputCollector:
    """Accumulates one run's output: head, tail, total size, and a file once it overflows."""

    def __init__(self, max_output: int, save_dir: Path, stream_limit: int = 200_000) -> None:
        self.max_output = max(max_output, 200)
        self.stream_limit = stream_limit
        self._save_dir = save_dir
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self._total = 0
        self._streamed = 0
        self._file: IO[str] | None = None
        self.path: Path | None = None
        self._early: list[str] = []  # everything, until we know a file is needed

    @property
    def total(self) -> int:
        """Characters received so far."""
        return self._total

    def add(self, text: str) -> str:
        """Record ``text``; returns the part front ends should be shown now ('' when over the limit)."""
        # Languages strip their output already (split sequences too); this catches notes
        # and messages that come from elsewhere.
        text = strip_ansi(text)
        self._total += len(text)
        half = self.max_output // 2
        if self._head_len < half:
            take = text[: half - self._head_len]
            self._head.append(take)
            self._head_len += len(take)
        self._tail = (self._tail + text)[-half:]
        if self._file is None and self._total > self.max_output:
            self._open_file()
        if self._file is not None:
            self._file.write(text)
        else:
            self._early.append(text)
        shown = text[: max(0, self.stream_limit - self._streamed)]
        self._streamed += len(shown)
        return shown

    def _open_file(self) -> None:
        self._save_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=time.strftime("output-%Y%m%d-%H%M%S-"), suffix=".txt",
                                    dir=self._save_dir)
        self._file = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
        self.path = Path(name)
        self._file.write("".join(self._early))
        self._early = []

    @property
    def overflowed_stream(self) -> bool:
        """Whether front ends missed part of the output."""
        return self._streamed < self._total

    def stream_tail_note(self) -> str:
        """What front ends are shown at the end when the stream limit was hit."""
        missed = self._total - self._streamed
        where = f"; full output in {self.path}" if self.path else ""
        return f"\n[... {missed:,} more characters not shown{where}]\n{self._tail}"

    def finish(self) -> str:
        """Close the file; the text the model is given."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._total <= self.max_output:
            return "".join(self._early)  # no file was needed
        omitted = self._total - self._head_len - len(self._tail)
        return (
            "".join(self._head)
            + f"\n... [{omitted:,} characters omitted; the full output ({self._total:,} characters)"
            f" is saved at {self.path}] ...\n"
            + self._tail
        )
