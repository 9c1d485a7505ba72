"""The user's language: read from the script, told to the model, used to answer.

The engine test goes through the scripted model server: the request it logs must
carry the answer-in-Chinese line for a Chinese message, and not for an English one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, text

from oi_voice import Interpreter
from oi_voice.core.language import reply_instruction, script_language, user_language


@pytest.mark.parametrize(("message", "expected"), [
    ("这个文件夹里有几个文件？", "zh"),
    ("這個資料夾裡有幾個檔案？", "zh"),
    ("用 Python 打开 report.txt 并且统计行数", "zh"),
    ("이 폴더에 파일이 몇 개 있어?", "ko"),
    ("Python으로 파일 개수를 세어 줘", "ko"),
    ("How many files are in this folder?", "en"),
    ("what does 猫 mean in English?", "en"),
    ("run `ls ~/文档` please", "en"),
    ("ファイルはいくつありますか", None),
    ("42 + 7 = ?", None),
])
def test_script_language(message: str, expected: str | None) -> None:
    assert script_language(message) == expected


def test_user_language_is_the_latest_user_message() -> None:
    messages = [
        {"role": "user", "type": "message", "content": "Hello"},
        {"role": "assistant", "type": "message", "content": "你好"},
        {"role": "user", "type": "message", "content": "列出文件"},
        {"role": "computer", "type": "console", "format": "output", "content": "a.txt"},
    ]
    assert user_language(messages) == "zh"
    assert user_language(messages[:2]) == "en"
    assert user_language([]) is None


def test_reply_instruction_names_the_language() -> None:
    assert "简体中文" in (reply_instruction("zh") or "")
    assert "한국어" in (reply_instruction("ko") or "")
    assert reply_instruction("en") is None and reply_instruction(None) is None


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return point_at(shared, llm_server.url)


def _system(request: dict) -> str:
    return str(request["messages"][0]["content"])


def test_the_model_is_told_to_answer_in_the_users_language(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("There are 3 files."), text("有 3 个文件。"), text("파일이 3개 있습니다."))
    interp.chat("How many files are in this folder?", display=False)
    interp.chat("这个文件夹里有几个文件？", display=False)
    interp.chat("이 폴더에 파일이 몇 개 있어?", display=False)
    english, chinese, korean = (_system(r) for r in llm_server.requests)
    assert "简体中文" not in english and "한국어" not in english
    assert "Simplified Chinese" in chinese.split("\n\n")[0] and "简体中文" in chinese  # said first
    assert "Korean" in korean and "Chinese" not in korean
    # The language follows the latest message, not the first one of the conversation.
    assert llm_server.requests[1]["messages"][0]["role"] == "system"
