"""Chinese and Korean for the voice: which language, what to say, how to hear yes and no.

- :func:`system_language` / :func:`resolve_language`: ``voice.language`` is ``en``, ``zh``,
  ``ko`` or ``auto``; unset, it follows the system locale (LC_ALL, LC_MESSAGES, LANG,
  then :func:`locale.getlocale`). :func:`chinese_script` says whether Chinese is written
  in simplified characters (the default) or traditional ones (zh_TW, zh_HK, zh_MO).
- :func:`voice_language`: the language of one sentence to speak, from its script.
- :func:`choose_voice`: which voice says a sentence of a language: a Piper voice for it
  in the folder the user pointed to, else the system's voice for the language (Huihui,
  Heami, Ting-Ting, Yuna ...), else the default voice with an honest notice, said once.
- :func:`classify`: a short spoken answer in English, Chinese or Korean -> run / decline;
  a decline wins over a yes in the same answer.
- :class:`Phrases`: the questions, summaries and notices of spoken confirmation, per language.
"""

from __future__ import annotations

import json
import locale
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol

from oi_voice.core.language import Language, script_language, user_language
from oi_voice.voice.speech_text import language_name

__all__ = [
    "SUPPORTED", "Language", "Phrases", "VoiceChoice", "VoicePicker", "chinese_script", "choose_voice", "classify",
    "conversation_language", "phrases", "piper_voice_for", "resolve_language", "system_language",
    "voice_language",
]

#: Languages the voice knows fully (speech in, yes/no, spoken phrases).
SUPPORTED: Final[tuple[Language, ...]] = ("en", "zh", "ko")
Script = Literal["simplified", "traditional"]
Meaning = Literal["run", "decline"]

_LOCALE_VARS: Final = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")
_TRADITIONAL_REGIONS: Final = ("tw", "hk", "mo", "hant")


def _locale_name(env: Mapping[str, str] | None = None) -> str:
    """The user's locale name ("zh_CN.UTF-8", "ko_KR"), or "" when none is set."""
    env = os.environ if env is None else env
    for var in _LOCALE_VARS:
        value = env.get(var, "")
        if value and value not in ("C", "POSIX") and not value.startswith(("C.", "POSIX.")):
            return value.split(":")[0]
    if env is os.environ:
        try:
            name = locale.getlocale()[0]
        except ValueError:
            name = None
        return name or ""
    return ""


def system_language(env: Mapping[str, str] | None = None) -> Language:
    """The supported language of the system locale; English when it is none of them."""
    name = _locale_name(env).lower()
    if name.startswith(("zh", "chinese")):
        return "zh"
    if name.startswith(("ko", "korean")):
        return "ko"
    return "en"


def chinese_script(env: Mapping[str, str] | None = None) -> Script:
    """How Chinese is written for this user: traditional for zh_TW/zh_HK/zh_MO, else simplified."""
    name = _locale_name(env).lower().replace("-", "_")
    region = re.split(r"[_.@]", name)[1:2]
    if name.startswith("zh") and region and region[0] in _TRADITIONAL_REGIONS:
        return "traditional"
    return "simplified"


def resolve_language(setting: str | None, env: Mapping[str, str] | None = None) -> str:
    """``voice.language`` made concrete: unset -> the system locale's; "auto"/"detect" -> "auto".

    Region and script suffixes are dropped ("zh-CN", "zh_TW" -> "zh"); other Whisper
    language codes ("de", "fr") pass through.
    """
    if setting is None or not str(setting).strip():
        return system_language(env)
    code = str(setting).strip().lower()
    if code in ("auto", "detect", "(detect)"):
        return "auto"
    return re.split(r"[-_]", code)[0]


def conversation_language(messages: Iterable[Mapping[str, object]], spoken: str | None) -> Language:
    """The language to speak to the user in: that of their latest message, else the spoken one."""
    written = user_language(messages)
    if written is not None:
        return written
    if spoken == "zh":
        return "zh"
    return "ko" if spoken == "ko" else "en"


def voice_language(sentence: str, default: str = "en") -> str:
    """The language of one sentence to be spoken, from its script (``default`` when it has none).

    Latin letters are English only in a Chinese or Korean session: in a German one they are German.
    """
    found = script_language(sentence)
    if found is None or (found == "en" and default not in ("zh", "ko")):
        return default
    return found


# --- choosing a voice ---------------------------------------------------------------------


class _Voice(Protocol):
    # Read-only: a frozen dataclass (tts_base.VoiceInfo) is one.
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...


#: Known good system voices per language (Windows, macOS), matched in a voice's name or id.
_GOOD_VOICES: Final[dict[str, tuple[str, ...]]] = {
    "zh": ("huihui", "yaoyao", "kangkang", "xiaoxiao", "ting-ting", "tingting", "sin-ji", "sinji", "mei-jia",
           "meijia", "lili", "tracy", "danny", "hanhan", "zhiwei", "yunyang"),
    "ko": ("heami", "sunhi", "injoon", "yuna", "sora", "narae", "jian", "minsu"),
}
#: Language tags a voice may carry for a language ("zh_CN", "cmn", "ko-KR" ...).
_TAGS: Final[dict[str, tuple[str, ...]]] = {
    "zh": ("zh", "cmn", "yue", "chi", "zho"),
    "ko": ("ko", "kor"),
    "en": ("en", "eng"),
}
# Windows SAPI ids carry the locale in capitals: ...\TTS_MS_ZH-CN_HUIHUI_11.0
_ID_LOCALE: Final = re.compile(r"(?:^|[_\\/.-])(ZH|KO|EN)-[A-Z]{2}(?=[_\\/.-]|$)")
_NOT_GOOD: Final = ("espeak", "festival", "flite", "mbrola")

#: The notice said once per language when no good voice for it is installed.
_NO_VOICE: Final[dict[str, str]] = {
    "zh": ("没有安装适合中文的语音，中文回复的朗读效果会很差。请在设置里指定一个中文 Piper 语音文件夹。"),
    "ko": ("한국어 음성이 설치되어 있지 않아 한국어 답변을 제대로 읽지 못합니다. "
           "설정에서 한국어 Piper 음성 폴더를 지정하세요."),
}
_NO_VOICE_EN: Final[dict[str, str]] = {
    "zh": "Chinese", "ko": "Korean",
}


@dataclass(frozen=True, slots=True)
class VoiceChoice:
    """The voice for one language: a Piper model file, a system voice id, or the default voice."""

    kind: Literal["piper", "system", "default"]
    #: The Piper .onnx path or the system voice's id ("" for the default voice).
    voice: str = ""
    #: Said once when the voice is a poor fit (no good voice for the language is installed).
    notice: str | None = None


def _tags(voice: _Voice) -> set[str]:
    tags = set()
    for raw in voice.languages:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        # pyttsx3's espeak driver gives b"\x05zh" style entries: keep letters and separators.
        text = re.sub(r"[^A-Za-z_-]", "", text).lower().replace("_", "-")
        if text:
            tags.add(text.split("-")[0])
    for match in _ID_LOCALE.finditer(voice.id):
        tags.add(match.group(1).lower())
    return tags


def _is_good(voice: _Voice, engine: str) -> bool:
    text = f"{engine} {voice.id} {voice.name}".lower()
    return not any(bad in text for bad in _NOT_GOOD)


def _voice_for(language: str, voices: Sequence[_Voice], engine: str) -> _Voice | None:
    """The best system voice for ``language``: a known good one, then any good one tagged with it.

    espeak-ng's voices are no good for Chinese or Korean (pinyin with tone digits).
    """
    names = _GOOD_VOICES.get(language, ())
    tags = _TAGS.get(language, (language,))
    for voice in voices:
        text = f"{voice.id} {voice.name}".lower()
        if any(name in text for name in names):
            return voice
    for voice in voices:
        if _is_good(voice, engine) and _tags(voice) & set(tags):
            return voice
    return None


def piper_voice_for(language: str, folder: Path | str | None) -> Path | None:
    """A Piper voice (``.onnx`` with its ``.onnx.json``) for ``language`` in ``folder``, if any.

    The language comes from the voice's JSON (``language.code``, ``espeak.voice``) or,
    failing that, its file name ("zh_CN-huayan-medium.onnx").
    """
    if folder is None:
        return None
    root = Path(folder).expanduser()
    if not root.is_dir():
        return None
    tags = _TAGS.get(language, (language,))
    for model in sorted(root.glob("*.onnx")):
        code = model.name.split("-")[0].split("_")[0].lower()
        config = model.with_name(model.name + ".json")
        if config.is_file():
            try:
                data = json.loads(config.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            language_info = data.get("language") or {}
            code = str(language_info.get("code") or language_info.get("family") or
                       (data.get("espeak") or {}).get("voice") or code)
            code = re.split(r"[-_]", code.lower())[0]
        if code in tags:
            return model
    return None


def choose_voice(language: str, voices: Sequence[_Voice], piper_folder: Path | str | None = None,
                 engine: str = "", *, piper: Path | None = None) -> VoiceChoice:
    """The voice for sentences in ``language``; ``engine`` names the system synthesizer
    (pyttsx3's driver: "espeak", "sapi5", "nsss").

    A Piper voice for the language in ``piper_folder`` wins; then the system voice for
    it (on Windows and macOS: Huihui, Ting-Ting for Chinese; Heami, Yuna for Korean);
    English keeps the user's voice (``voice.tts_voice``). Otherwise the default voice, with a notice to say once:
    espeak-ng reads Chinese as pinyin with tone numbers and Korean barely at all.
    ``piper``: the Piper voice already found for the language (the synthesizer's configured one).
    """
    piper = piper or piper_voice_for(language, piper_folder)
    if piper is not None:
        return VoiceChoice("piper", str(piper))
    if language == "en":
        return VoiceChoice("default")  # the voice the user chose (voice.tts_voice) speaks English
    found = _voice_for(language, voices, engine)
    if found is not None:
        return VoiceChoice("system", found.id)
    if language in _NO_VOICE:
        return VoiceChoice("default", "", no_voice_notice(language))
    return VoiceChoice("default")


class VoicePicker:
    """Picks the voice for each sentence to speak, and hands out each language's notice once.

    The one rule of speech out (:class:`~oi_voice.voice.tts.Synthesizer` follows it):
    ``pick(sentence)`` -> (the sentence's language, its voice, the notice to say first or
    None). Choices are cached per language. ``voices`` may be a function: the system's
    voices are then listed only when a language needs one (listing loads pyttsx3).
    ``piper_for(language)`` gives the Piper voice configured for a language (or None).
    """

    def __init__(self, voices: Sequence[_Voice] | Callable[[], Sequence[_Voice]],
                 piper_folder: Path | str | None = None, engine: str = "", default: str = "en",
                 piper_for: Callable[[str], Path | None] | None = None) -> None:
        self._voices = voices
        self.piper_folder, self.engine, self.default, self.piper_for = piper_folder, engine, default, piper_for
        self._choices: dict[str, VoiceChoice] = {}
        self._told: set[str] = set()
        self._no_piper: set[str] = set()

    @property
    def voices(self) -> list[_Voice]:
        """The system's voices (listed on first use when given as a function)."""
        if callable(self._voices):
            self._voices = list(self._voices())
        return list(self._voices)

    def choice(self, language: str) -> VoiceChoice:
        """The voice for sentences in ``language`` (cached)."""
        choice = self._choices.get(language)
        if choice is None:
            piper = None
            if language not in self._no_piper:
                piper = self.piper_for(language) if self.piper_for is not None else None
                piper = piper or piper_voice_for(language, self.piper_folder)
            # The system's voices matter only when no Piper voice speaks the language, and not for English.
            voices = [] if piper is not None or language == "en" else self.voices
            choice = self._choices[language] = choose_voice(language, voices, None, self.engine, piper=piper)
        return choice

    def without_piper(self, language: str) -> VoiceChoice:
        """Choose again for ``language`` without Piper (its voice would not load)."""
        self._no_piper.add(language)
        self._choices.pop(language, None)
        return self.choice(language)

    def pick(self, sentence: str) -> tuple[str, VoiceChoice, str | None]:
        """The language of ``sentence``, the voice for it, and a notice not yet said (or None)."""
        language = voice_language(sentence, self.default)
        choice = self.choice(language)
        notice = None
        if choice.notice is not None and language not in self._told:
            self._told.add(language)
            notice = choice.notice
        return language, choice, notice


def no_voice_notice(language: str) -> str:
    """What to say (once) when no good voice speaks ``language``: in that language and in English."""
    native = _NO_VOICE.get(language, "")
    english = (f"No good {_NO_VOICE_EN.get(language, language)} voice is installed here, so replies in it "
               "will be hard to understand. Choose a Piper voice folder for it in Settings.")
    return f"{native} {english}".strip()


# --- yes and no ---------------------------------------------------------------------------

# English: declines are checked first ("no, don't run it" holds "run it" too).
_EN_DECLINE: Final = re.compile(
    r"\b(?:no|nope|nah|cancel|stop|skip|abort|negative|never\s*mind|not\s+now|don'?t(?:\s+\w+)?\s+(?:run|do)"
    r"|do\s+not)\b")
_EN_RUN: Final = re.compile(
    r"\b(?:yes|yeah|yep|yup|ya|yea|sure|ok|okay|run\s+it|run|go\s+ahead|go\s+for\s+it|do\s+it|please\s+do"
    r"|affirmative|approve|absolutely|of\s+course|alright|all\s+right)\b")

# Chinese. 不 declines, except where it is part of a word that is not a no: 不错 ("not bad"),
# 不客气, and the X不X question form (好不好, 行不行, 可不可以, 要不要), which is neither yes nor no.
_ZH_QUESTION_FORM: Final = re.compile(r"(.)不\1|可不可以|要不要|是不是")
_ZH_DECLINE: Final = re.compile(r"不(?!错|客气)|别|取消|停|算了|没门|拒绝|否")
_ZH_YES: Final = ("确定", "运行", "执行", "可以", "好的", "是的", "没问题", "当然", "开始", "继续", "对", "好", "行",
                  "是", "嗯", "要", "同意", "确认")
#: Han characters in an answer short enough to end in its yes word ("那就执行吧").
_SHORT_ANSWER: Final = 6
_ZH_FILLER: Final = re.compile(r"^(?:嗯|啊|呃|那|那就|就|请|帮我|你)+|(?:吧|啊|呀|的|了|嘛|哦|一下)+$")

# Korean: words are spaced, so yes words are whole words (with their usual endings) and
# declines are found anywhere (아니요, 하지 마, 안 돼).
_KO_DECLINE: Final = re.compile(r"아니|아뇨|취소|하지\s*마|멈춰|그만|안\s*돼|안\s*해|싫어|중지|중단|됐어")
_KO_YES: Final = re.compile(
    r"^(?:네|예|응|넵|넹|좋아|좋아요|좋습니다|그래|그래요|그러세요|실행|실행해|실행해요|실행해줘|실행해\s*줘|실행하세요"
    r"|실행해\s*주세요|해|해요|해줘|해\s*줘|해\s*주세요|돼|돼요|됩니다|맞아|맞아요|오케이|확인|진행|진행해|진행해\s*줘|물론|당연하지)$")


def _zh_meaning(text: str) -> Meaning | None:
    han = "".join(re.findall(r"[\u4e00-\u9fff]", text))
    if not han:
        return None
    question_free = _ZH_QUESTION_FORM.sub("", han)
    if _ZH_DECLINE.search(question_free):
        return "decline"
    if text.rstrip().endswith(("吗", "?", "？")) or question_free != han:
        return None  # a question back is not an answer
    core = _ZH_FILLER.sub("", han) or han
    # A yes word must open the answer ("好的，运行吧"), or close a short one ("那就执行"):
    # 是 inside "这是什么" is no yes, nor 行 at the end of a long sentence ("...获刑" misheard "或行").
    if any(core.startswith(word) for word in _ZH_YES):
        return "run"
    if len(core) <= _SHORT_ANSWER and any(core.endswith(word) for word in _ZH_YES if len(word) > 1):
        return "run"
    return None


def _ko_meaning(text: str) -> Meaning | None:
    if not re.search(r"[\uac00-\ud7af]", text):
        return None
    cleaned = re.sub(r"[^\w\s]", " ", text)
    if _KO_DECLINE.search(cleaned):
        return "decline"
    words = cleaned.split()
    # The answer as a whole ("해 줘", "실행해 주세요"), then each word ("네, 실행해").
    phrases = [" ".join(words)] + [" ".join(words[i:i + 2]) for i in range(len(words) - 1)] + words
    if any(_KO_YES.match(p) for p in phrases):
        return "run"
    return None


def _en_meaning(text: str) -> Meaning | None:
    words = re.sub(r"[^\w'\s]", " ", text.lower())
    words = re.sub(r"\s+", " ", words).strip()
    if not words:
        return None
    if _EN_DECLINE.search(words):
        return "decline"
    for match in _EN_RUN.finditer(words):
        before = words[:match.start()].split()[-2:]
        if any(w in ("not", "never") or w.endswith("n't") for w in before):
            continue  # "I'm not sure", "isn't okay": not a yes
        return "run"
    return None


def classify(text: str) -> Meaning | None:
    """What a short spoken answer means, in English, Chinese or Korean; None: not understood.

    Answers mix languages ("OK, 运行吧"), so every language is read; a decline in any
    of them wins over a yes in another.
    """
    meanings = [_en_meaning(text), _zh_meaning(text), _ko_meaning(text)]
    if "decline" in meanings:
        return "decline"
    return "run" if "run" in meanings else None


# --- what the voice says ------------------------------------------------------------------

_ZH_NUMBERS: Final = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十")
_KO_NUMBERS: Final = ("영", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열")

#: Risk reasons (core/risk.py's English phrases) as they are said in Chinese and Korean.
_REASONS: Final[dict[str, tuple[str, str]]] = {
    "deletes files recursively": ("会递归删除文件", "파일을 통째로 삭제합니다"),
    "deletes files": ("会删除文件", "파일을 삭제합니다"),
    "uses sudo": ("会使用 sudo", "sudo를 사용합니다"),
    "runs commands as root": ("会以 root 身份运行命令", "root 권한으로 명령을 실행합니다"),
    "formats or repartitions a disk": ("会格式化或重新分区磁盘", "디스크를 포맷하거나 파티션을 바꿉니다"),
    "writes directly to a disk": ("会直接写入磁盘", "디스크에 직접 씁니다"),
    "runs a script downloaded from the internet": ("会运行从网上下载的脚本", "인터넷에서 받은 스크립트를 실행합니다"),
    "runs code downloaded from the internet": ("会运行从网上下载的代码", "인터넷에서 받은 코드를 실행합니다"),
    "uses the network": ("会访问网络", "네트워크를 사용합니다"),
    "installs packages": ("会安装软件包", "패키지를 설치합니다"),
    "installs a package from outside the package index": ("会从软件源以外安装软件包",
                                                           "공식 저장소 밖의 패키지를 설치합니다"),
    "stops other programs": ("会停止其他程序", "다른 프로그램을 멈춥니다"),
    "kills every process": ("会结束所有进程", "모든 프로세스를 종료합니다"),
    "shuts down or restarts the computer": ("会关机或重启电脑", "컴퓨터를 끄거나 다시 시작합니다"),
    "changes file permissions": ("会修改文件权限", "파일 권한을 바꿉니다"),
    "changes scheduled tasks": ("会修改计划任务", "예약 작업을 바꿉니다"),
    "changes user accounts": ("会修改用户账户", "사용자 계정을 바꿉니다"),
    "writes outside the working folder": ("会写入工作文件夹以外的位置", "작업 폴더 밖에 씁니다"),
}


@dataclass(frozen=True, slots=True)
class Phrases:
    """Everything spoken confirmation says, in one language."""

    language: Language
    high_risk_note: str
    ask_again: str
    left_to_user: str
    refused_high_risk: str
    went_wrong: str
    #: Said while the Python environment for code runs is being made (the first run only).
    python_setup: str = "One moment: I'm setting up Python for code runs. The first time takes a minute or so."

    def summary(self, content: Mapping[str, object]) -> str:
        """The question for a confirmation chunk's content: "运行一行 Python 吗？"."""
        english = str(content.get("summary") or "Run this code?")
        if self.language == "en":
            return english
        code = str(content.get("content") or "")
        name = _code_name(str(content.get("format") or ""))
        lines = sum(1 for line in code.splitlines() if line.strip())
        risk = content.get("risk")
        reasons = [str(r) for r in risk.get("reasons", ())] if isinstance(risk, Mapping) else []
        index = 0 if self.language == "zh" else 1
        said = [_REASONS[r][index] for r in reasons[:2] if r in _REASONS]
        if self.language == "zh":
            count = _ZH_NUMBERS[lines] if lines <= 10 else str(lines)
            what = f"运行{count}行 {name}" if lines else f"运行一段空的 {name}"
            return f"{what} 吗？" + (f"它{'，并且'.join(said)}。" if said else "")
        count = _KO_NUMBERS[lines] if lines <= 10 else str(lines)
        what = f"{name} {count} 줄을" if lines else f"빈 {name} 코드를"
        return f"{what} 실행할까요?" + (f" 이 코드는 {', '.join(said)}." if said else "")

    def code_sentence(self, language: str, code: str, purpose: Literal["propose", "running", "show"]) -> str | None:
        """The sentence said instead of code, or None for English (speech_text says it)."""
        if self.language == "en":
            return None
        name = _code_name(language)
        lines = sum(1 for line in code.splitlines() if line.strip())
        if self.language == "zh":
            count = f"{_ZH_NUMBERS[lines] if lines <= 10 else lines}行 {name}"
            return {"propose": f"我想运行{count}。", "running": f"正在运行{count}。",
                    "show": f"屏幕上有{count}。"}[purpose]
        count = f"{name} {_KO_NUMBERS[lines] if lines <= 10 else lines} 줄"
        return {"propose": f"{count}을 실행하려고 합니다.", "running": f"{count}을 실행합니다.",
                "show": f"화면에 {count}이 있습니다."}[purpose]


def _code_name(language: str) -> str:
    return language_name(language or "code")


_PHRASES: Final[dict[str, Phrases]] = {
    "en": Phrases("en", "This one is high risk, so it needs a click or a key to run.",
                  "Sorry, I didn't catch that. Should I run it? Please say yes or no.",
                  "Okay, I'll leave it to you.",
                  "I can't run high-risk code on a spoken yes. Please approve it on screen or with the keyboard.",
                  "Something went wrong; the details are on screen."),
    "zh": Phrases("zh", "这段代码风险很高，需要点击或按键才能运行。",
                  "抱歉，我没听清。要运行吗？请说“是”或“不”。",
                  "好的，交给你决定。",
                  "高风险的代码不能靠语音确认运行。请在屏幕上或用键盘批准。",
                  "出了点问题，详情请看屏幕。",
                  "请稍等，我正在为运行代码准备 Python，第一次大约需要一分钟。"),
    "ko": Phrases("ko", "위험도가 높은 코드라서 클릭이나 키를 눌러야 실행됩니다.",
                  "죄송해요, 잘 못 들었어요. 실행할까요? 네 또는 아니요로 말해 주세요.",
                  "알겠습니다. 직접 결정해 주세요.",
                  "위험도가 높은 코드는 음성으로 승인할 수 없습니다. 화면이나 키보드로 승인해 주세요.",
                  "문제가 생겼습니다. 자세한 내용은 화면을 확인하세요.",
                  "잠시만요. 코드 실행용 Python을 준비하고 있습니다. 처음에는 1분 정도 걸립니다."),
}


def phrases(language: str | None) -> Phrases:
    """The spoken phrases for ``language`` (English for any language without its own)."""
    return _PHRASES.get(language or "en", _PHRASES["en"])
