"""The terminal's words in the user's language: the approval prompt, the auto-run warning, error lines.

``oi`` has no Qt, so its few lines come from this table, keyed by the language of the
system locale (:func:`oi_voice.voice.lang.system_language`: en, zh or ko). The desktop app
passes its own display language (:func:`language_of`), so a dialog and the terminal say the
same thing. A key missing for a language falls back to English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from oi_voice.core.language import Language
from oi_voice.voice.lang import system_language

__all__ = ["MESSAGES", "device_message", "language_of", "message"]

MESSAGES: Final[Mapping[Language, Mapping[str, str]]] = {
    "en": {
        "error": "Error: {text}",
        "microphone_lost": "the microphone went away: {detail}",
        "speaker_lost": "the speaker went away: {detail}",
        "microphone_back": "the microphone is back",
        "speaker_back": "the speaker is back",
        "device_stopped": "the sound system ended its stream",
        "device_stalled": "it stopped delivering audio",
        "profile_error": "profile error: {text}",
        "settings_error": "settings error: {text}",
        "empty_stdin": "nothing to send: standard input was empty",
        "unknown_command": "Unknown command %{name}.{hint} Type %help for the list.",
        "did_you_mean": " Did you mean %{name}?",
        "takes_true_false": "%{command} takes true or false, not {argument}.",
        "shell_needs_command": "%% needs a command, for example: %% ls -la",
        "unexpected": "unexpected {kind}: {text} (run with -v for details)",
        "question": "Would you like to run this code? (y/n/e) ",
        "question_no_edit": "Would you like to run this code? (y/n) ",
        "reason": "Reason (optional, Enter to skip): ",
        "end_of_input": "\n(no answer: end of input; not run)",
        "editor_failed": "The editor failed; the code is unchanged.",
        "running_edited": "Running the edited code:",
        "answer_hint": "Please answer y (run it), n (don't).",
        "answer_hint_edit": "Please answer y (run it), n (don't) or e (edit it first).",
        "safe_mode": " (safe_mode {mode}: high-risk code still asks)",
        "auto_run": "Warning: auto_run is on: code will run without asking you first{extra}. Ctrl-C stops a run.",
        "auto_run_question": "Code will run without asking you first{extra}: whatever the model writes runs on "
                             "this computer at once, with your permissions.\n\nTurn on auto-run?",
        "python_setup": "Setting up Python for code runs… (the first time only; a minute or so)",
        "python_reset": "Resetting the Python environment {path}: everything installed into it goes…",
        "python_reset_done": "The Python environment was made again: {path}",
    },
    "zh": {
        "error": "错误：{text}",
        "microphone_lost": "麦克风断开了：{detail}",
        "speaker_lost": "扬声器断开了：{detail}",
        "microphone_back": "麦克风已恢复",
        "speaker_back": "扬声器已恢复",
        "device_stopped": "声音系统结束了它的音频流",
        "device_stalled": "它不再传送音频",
        "profile_error": "配置文件错误：{text}",
        "settings_error": "设置错误：{text}",
        "empty_stdin": "没有可发送的内容：标准输入是空的",
        "unknown_command": "未知命令 %{name}。{hint}输入 %help 查看命令列表。",
        "did_you_mean": "你是想用 %{name} 吗？",
        "takes_true_false": "%{command} 只接受 true 或 false，而不是 {argument}。",
        "shell_needs_command": "%% 后面需要一条命令，例如：%% ls -la",
        "unexpected": "意外的 {kind}：{text}（加 -v 运行可查看详情）",
        "question": "要运行这段代码吗？(y 运行 / n 不运行 / e 编辑) ",
        "question_no_edit": "要运行这段代码吗？(y 运行 / n 不运行) ",
        "reason": "原因（可不填，按回车跳过）：",
        "end_of_input": "\n（没有回答：输入已结束；未运行）",
        "editor_failed": "编辑器出错了，代码没有改动。",
        "running_edited": "正在运行编辑后的代码：",
        "answer_hint": "请回答 y（运行）或 n（不运行）。",
        "answer_hint_edit": "请回答 y（运行）、n（不运行）或 e（先编辑）。",
        "safe_mode": "（safe_mode {mode}：高风险代码仍会询问）",
        "auto_run": "警告：auto_run 已开启：代码会直接运行，不再先询问你{extra}。按 Ctrl-C 可停止运行。",
        "auto_run_question": "代码会直接运行，不再先询问你{extra}：模型写出的任何代码都会立即以你的权限"
                             "在这台电脑上运行。\n\n要开启自动运行吗？",
        "python_setup": "正在为运行代码准备 Python……（仅第一次，大约一分钟）",
        "python_reset": "正在重置 Python 环境 {path}：其中安装的所有内容都会被删除……",
        "python_reset_done": "Python 环境已重新创建：{path}",
    },
    "ko": {
        "error": "오류: {text}",
        "microphone_lost": "마이크 연결이 끊겼습니다: {detail}",
        "speaker_lost": "스피커 연결이 끊겼습니다: {detail}",
        "microphone_back": "마이크가 다시 연결되었습니다",
        "speaker_back": "스피커가 다시 연결되었습니다",
        "device_stopped": "사운드 시스템이 오디오 스트림을 끝냈습니다",
        "device_stalled": "오디오가 더 이상 들어오지 않습니다",
        "profile_error": "프로필 오류: {text}",
        "settings_error": "설정 오류: {text}",
        "empty_stdin": "보낼 내용이 없습니다: 표준 입력이 비어 있습니다",
        "unknown_command": "알 수 없는 명령 %{name}입니다.{hint} 명령 목록은 %help를 입력하세요.",
        "did_you_mean": " %{name}을(를) 말씀하신 건가요?",
        "takes_true_false": "%{command}에는 true 또는 false만 쓸 수 있습니다. {argument}은(는) 안 됩니다.",
        "shell_needs_command": "%% 뒤에 명령이 필요합니다. 예: %% ls -la",
        "unexpected": "예기치 않은 {kind}: {text} (자세한 내용은 -v로 실행하세요)",
        "question": "이 코드를 실행할까요? (y 실행 / n 취소 / e 편집) ",
        "question_no_edit": "이 코드를 실행할까요? (y 실행 / n 취소) ",
        "reason": "이유 (선택 사항, 건너뛰려면 Enter): ",
        "end_of_input": "\n(응답 없음: 입력이 끝났습니다. 실행하지 않았습니다)",
        "editor_failed": "편집기에 문제가 생겨 코드가 바뀌지 않았습니다.",
        "running_edited": "편집한 코드를 실행합니다:",
        "answer_hint": "y(실행) 또는 n(취소)으로 답해 주세요.",
        "answer_hint_edit": "y(실행), n(취소) 또는 e(먼저 편집)로 답해 주세요.",
        "safe_mode": " (safe_mode {mode}: 위험도가 높은 코드는 계속 묻습니다)",
        "auto_run": "경고: auto_run이 켜져 있습니다. 코드가 묻지 않고 바로 실행됩니다{extra}. Ctrl-C로 실행을 멈출 수 "
                    "있습니다.",
        "auto_run_question": "코드가 묻지 않고 바로 실행됩니다{extra}. 모델이 작성한 코드는 무엇이든 이 컴퓨터에서 "
                             "사용자의 권한으로 즉시 실행됩니다.\n\n자동 실행을 켤까요?",
        "python_setup": "코드 실행용 Python을 준비하는 중… (처음 한 번만, 1분 정도)",
        "python_reset": "Python 환경 {path}을(를) 초기화하는 중: 설치한 모든 것이 삭제됩니다…",
        "python_reset_done": "Python 환경을 다시 만들었습니다: {path}",
    },
}


def language_of(code: str | None = None) -> Language:
    """The table's language for a locale or language code ("zh_CN", "ko", "en_US"); None: the system's."""
    if code is None:
        return system_language()
    head = code.lower().replace("-", "_").split("_")[0]
    return head if head in ("zh", "ko") else "en"  # type: ignore[return-value]


def message(key: str, language: Language | None = None, **values: object) -> str:
    """The message ``key`` in ``language`` (default: the system locale's), with ``values`` filled in."""
    table = MESSAGES.get(language or system_language(), MESSAGES["en"])
    return table.get(key, MESSAGES["en"][key]).format(**values)


def device_message(kind: str, reason: str | None = None, detail: str = "", language: Language | None = None) -> str:
    """The line for a microphone (``kind`` "input") or speaker ("output") that went away
    (``reason`` "stopped", "stalled" or "error" with the library's ``detail``), or, with no
    ``reason``, that is back."""
    what = "microphone" if kind == "input" else "speaker"
    if reason is None:
        return message(f"{what}_back", language)
    words = message(f"device_{reason}", language) if reason in ("stopped", "stalled") else detail or reason
    return message(f"{what}_lost", language, detail=words)
