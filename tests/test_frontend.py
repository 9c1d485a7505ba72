"""What the front ends share: the keyboard approval prompt, the auto-run warning, logging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oi_voice.frontend.approval import QUESTION, QUESTION_NO_EDIT, ask_approval, auto_run_warning
from oi_voice.frontend.messages import MESSAGES, language_of
from oi_voice.frontend.runtime import setup_logging

REQUEST: dict[str, Any] = {"type": "code", "format": "python", "content": "print(1)", "id": "c1"}


@pytest.fixture(autouse=True)
def english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The words below are English: the prompt follows the locale."""
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")


def keyboard(*lines: str | None) -> tuple[Callable[[str], str | None], list[str], list[str]]:
    """A keyboard that types ``lines`` (None: end of input); the prompts it saw and what was said."""
    typed: Iterator[str | None] = iter(lines)
    prompts: list[str] = []
    said: list[str] = []

    def read(prompt: str) -> str | None:
        prompts.append(prompt)
        return next(typed)

    return read, prompts, said


@pytest.mark.parametrize(("lines", "action", "reason"), [
    (("y",), "run", ""),
    (("YES ",), "run", ""),
    (("",), "decline", ""),  # Open Interpreter: an empty answer declines
    (("n", "too risky"), "decline", "too risky"),
    (("maybe", "n", ""), "decline", ""),  # a word it does not know asks again
    ((None,), "decline", "no answer (end of input)"),
])
def test_the_approval_prompt(lines: tuple[str | None, ...], action: str, reason: str) -> None:
    read, prompts, said = keyboard(*lines)
    decision = ask_approval(read, said.append, REQUEST)
    assert decision.action == action and (decision.reason or "") == reason
    assert prompts[0] == QUESTION_NO_EDIT  # no editor offered: no "e"
    if lines[0] == "maybe":
        assert said == ["Please answer y (run it), n (don't)."]


def test_the_prompt_offers_editing_where_code_can_be_edited() -> None:
    read, prompts, said = keyboard("e", "e")
    results = iter([None, "print(2)"])  # the editor fails once, then the user saves an edit
    decision = ask_approval(read, said.append, REQUEST, edit=lambda _request: next(results))
    assert prompts == [QUESTION, QUESTION]
    assert said == ["The editor failed; the code is unchanged.", "Running the edited code:", "print(2)"]
    assert decision.action == "run" and decision.code == "print(2)"


def test_one_auto_run_warning() -> None:
    assert auto_run_warning() == "Warning: auto_run is on: code will run without asking you first. Ctrl-C stops a run."
    assert "(safe_mode ask: high-risk code still asks)" in auto_run_warning("ask")
    question = auto_run_warning(question=True)
    assert question.startswith("Code will run without asking you first") and question.endswith("Turn on auto-run?")


def test_logging_set_up_twice_keeps_one_console_handler(tmp_path: Any) -> None:
    log = logging.getLogger("oi_voice")
    before = list(log.handlers)
    try:
        setup_logging(True, log_file=str(tmp_path / "log.txt"))
        setup_logging(False, prefix="oi-voice: ")
        added = [h for h in log.handlers if h not in before]
        assert len(added) == 1 and added[0].level == logging.WARNING and log.level == logging.WARNING
        setup_logging(True, log_file=str(tmp_path / "log.txt"))
        logging.getLogger("oi_voice.test").info("written to the file")
        assert log.level == logging.DEBUG
        for handler in log.handlers:
            handler.flush()
        assert "written to the file" in (tmp_path / "log.txt").read_text()
    finally:
        for handler in [h for h in log.handlers if h not in before]:
            log.removeHandler(handler)
            handler.close()
        log.setLevel(logging.NOTSET)
        log.propagate = True


@pytest.mark.parametrize(("locale", "question", "hint"), [
    ("zh_CN.UTF-8", "要运行这段代码吗？(y 运行 / n 不运行) ", "请回答 y（运行）或 n（不运行）。"),
    ("ko_KR.UTF-8", "이 코드를 실행할까요? (y 실행 / n 취소) ", "y(실행) 또는 n(취소)으로 답해 주세요."),
])
def test_the_prompt_and_warning_follow_the_locale(monkeypatch: pytest.MonkeyPatch, locale: str, question: str,
                                                  hint: str) -> None:
    monkeypatch.setenv("LC_ALL", locale)
    read, prompts, said = keyboard("maybe", "n", "")
    decision = ask_approval(read, said.append, REQUEST)
    assert decision.action == "decline"  # the answers stay y/n/e in every language
    assert prompts[0] == question and said == [hint]
    assert prompts[2] == MESSAGES[language_of(locale)]["reason"]
    warning = auto_run_warning("ask")
    assert "auto_run" in warning and "Ctrl-C" in warning and "safe_mode ask" in warning
    assert warning != auto_run_warning("ask", language="en")
    assert auto_run_warning(question=True, language="en").endswith("Turn on auto-run?")


def test_every_language_has_every_message() -> None:
    for language, table in MESSAGES.items():
        assert set(table) == set(MESSAGES["en"]), language
        for key, words in table.items():
            assert set(re_fields(words)) == set(re_fields(MESSAGES["en"][key])), (language, key)


def re_fields(text: str) -> list[str]:
    import re

    return re.findall(r"\{\w+\}", text)
