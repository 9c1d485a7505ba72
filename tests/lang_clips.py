"""Real Mandarin and Korean recordings in tests/data, their transcripts, and a character error rate.

Shared by tests/test_voice_lang.py and tests/bench/bench_lang.py. Sources and licences
are in tests/data/SOURCES.md. References are in simplified characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Clip:
    """One recording and what is said in it."""

    name: str
    language: str
    reference: str
    #: Characters any decent transcript has (the clip's key words).
    key: str

    @property
    def path(self) -> Path:
        """The FLAC file."""
        return DATA / f"{self.name}.flac"


CLIPS = (
    Clip("zh_funasr_example", "zh", "欢迎大家来体验达摩院推出的语音识别模型", "欢迎大家来体验达摩院推出的模型"),
    Clip("zh_funasr_mid", "zh", "大学生利用漏洞免费吃肯德基获刑", "大学生利用漏洞免费吃肯德基"),
    Clip("zh_sensevoice", "zh", "开放时间早上9点至下午5点", "开放时间早上点下午"),
    Clip("ko_sensevoice", "ko", "조금만 생각을 하면서 살면 훨씬 편할 거야", "조금만생각을하면서살면훨씬편할"),
)


def normalize(text: str) -> str:
    """Letters and digits only: no spaces or punctuation (they are not what is compared)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if c.isalnum())


def error_rate(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """(substitutions + deletions + insertions) / len(reference): the edit distance of two token sequences."""
    if not reference:
        return float(bool(hypothesis))
    previous = list(range(len(hypothesis) + 1))  # edit distances of the empty reference prefix
    for i, r in enumerate(reference, 1):
        current = [i]
        for j, h in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(reference)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over the reference's length (spaces, punctuation ignored)."""
    return error_rate(normalize(reference), normalize(hypothesis))


def traditional_only(text: str) -> str:
    """The characters of ``text`` that differ in simplified Chinese ('' when all are simplified)."""
    import zhconv

    simplified = zhconv.convert(text, "zh-hans")
    return "".join(a for a, b in zip(text, simplified, strict=False) if a != b)


def has_hangul(text: str) -> bool:
    """Whether ``text`` is written in Hangul."""
    return bool(re.search(r"[\uac00-\ud7af]", text))
