"""The streaming fence parser: chunking invariance, code blocks, recovered tool calls."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oi_voice.core.codeblocks import (
    CodeDelta,
    CodeEnd,
    CodeStart,
    FenceParser,
    ParseEvent,
    Text,
    merge,
)
from oi_voice.core.toolcalls import ToolCallError, parse_tool_arguments, recover_tool_call

LANGUAGES = {
    "python": "python", "py": "python", "python3": "python",
    "bash": "shell", "sh": "shell", "shell": "shell", "zsh": "shell",
    "js": "javascript", "javascript": "javascript", "node": "javascript",
    "ruby": "ruby", "rb": "ruby",
}


def parse(chunks: list[str], languages: dict[str, str] = LANGUAGES) -> list[ParseEvent]:
    """Raw events of a reply fed in ``chunks``."""
    parser = FenceParser(languages)
    events: list[ParseEvent] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.close()


def run(reply: str, chunks: list[str] | None = None) -> list[ParseEvent]:
    """Merged events of ``reply`` (fed whole unless ``chunks`` is given)."""
    if chunks is not None:
        assert "".join(chunks) == reply
    return merge(parse(chunks if chunks is not None else [reply]))


def code(language: str, text: str) -> list[ParseEvent]:
    return [CodeStart(language), *([CodeDelta(text)] if text else []), CodeEnd()]


def split_at(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


# --- generated replies with known events ---------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=1, max_size=8)
# Characters that matter to the parser, inside lines that cannot start anything.
NASTY = " `{}\"'\\<>/[]:,#\t"
text_line = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("abcdefgHIJ"),
    st.text(alphabet="abcxyz 0123.,!?" + NASTY, max_size=30),
)


@st.composite
def text_block(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    lines = draw(st.lists(text_line, min_size=1, max_size=3))
    s = "".join(line + "\n" for line in lines)
    return s, [Text(s)]


def _is_closing(line: str, ticks: int) -> bool:
    stripped = line.rstrip(" \t\r")
    body = stripped.lstrip(" ")
    return len(stripped) - len(body) <= 3 and len(body) >= ticks and set(body) == {"`"}


code_line = st.one_of(
    st.text(alphabet="abxyz=()+-*:. '\"{}[]\\#<>\t`", max_size=25),
    st.sampled_from(["```python", "    ```", "x = '```'", "``", "print('``` not a fence')", "", "  ", "{",
                     '{"name": "execute"}', "<tool_call>", "```json", "functions.execute(", "execute({"]),
)


@st.composite
def code_block(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    tag = draw(st.sampled_from(sorted(LANGUAGES)))
    tag = draw(st.sampled_from([tag, tag.upper(), tag.capitalize()]))
    ticks = draw(st.integers(3, 5))
    info = draw(st.sampled_from(["", " ", " title=x.py", "  extra words"]))
    lines = [ln for ln in draw(st.lists(code_line, max_size=5)) if not _is_closing(ln, ticks)]
    fence = "`" * ticks
    closing = draw(st.sampled_from([fence, fence + "`", fence + "  ", " " + fence]))
    body = "".join(ln + "\n" for ln in lines)
    reply = f"{fence}{tag}{info}\n{body}{closing}\n"
    return reply, code(LANGUAGES[tag.lower()], "\n".join(lines))


@st.composite
def other_fence(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    tag = draw(st.sampled_from(["text", "output", "console", "diff", "markdown", "yaml", "Txt"]))
    lines = [ln for ln in draw(st.lists(code_line, max_size=4)) if not _is_closing(ln, 3)]
    s = f"```{tag}\n" + "".join(ln + "\n" for ln in lines) + "```\n"
    return s, [Text(s)]


@st.composite
def untagged_plain_fence(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    # Untagged, not a tool call: the first content starts with neither "{" nor "<".
    first = draw(st.sampled_from(["$ ls", "output here", "x = 1", "   indented", "[1, 2]"]))
    lines = [ln for ln in draw(st.lists(code_line, max_size=3)) if not _is_closing(ln, 3)]
    s = "```\n" + first + "\n" + "".join(ln + "\n" for ln in lines) + "```\n"
    return s, [Text(s)]


tool_code = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["print('hi')", "import os\nprint(os.getcwd())", 'echo "}" {', "ls -la\n", "```\ncode\n```",
     "a\\b\t\"q\""])


@st.composite
def tool_call(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    tag = draw(st.sampled_from(["python", "py", "bash", "shell", "sh", "js", "javascript", "Python"]))
    canon = LANGUAGES[tag.lower()]
    src = draw(tool_code)
    indent = draw(st.sampled_from([None, 2]))
    name = draw(st.sampled_from(["execute", "run_code", "python_exec", "execute_code"]))
    args = {"language": tag, "code": src}
    shape = draw(st.integers(0, 4))
    obj: dict[str, object]
    if shape == 0:
        obj = {"name": name, "arguments": args}
    elif shape == 1:
        obj = {"name": name, "arguments": json.dumps(args)}
    elif shape == 2:
        obj = {"type": "function", "function": {"name": name, "arguments": args}}
    elif shape == 3 and tag.lower() in ("python", "bash", "sh", "js"):
        obj = {"name": tag, "arguments": {"code": src}}  # the tool named after the language
    else:
        obj = {"language": tag, "code": src}
    payload = json.dumps(obj, indent=indent, ensure_ascii=draw(st.booleans()))
    wrap = draw(st.integers(0, 4))
    if wrap == 0:
        s = payload + "\n"
    elif wrap == 1:
        s = f"<tool_call>\n{payload}\n</tool_call>\n"
    elif wrap == 2:
        s = f"```json\n{payload}\n```\n"
    elif wrap == 3:  # as OpenAI's tool namespace reads (Open Interpreter's test_hallucinations)
        s = f"functions.execute({payload})\n"
    else:
        s = f"```\n{payload}\n```\n"
    return s, code(canon, src)


@st.composite
def not_a_tool_call(draw: st.DrawFn) -> tuple[str, list[ParseEvent]]:
    choice = draw(st.integers(0, 5))
    if choice == 0:  # ordinary JSON
        s = json.dumps({"x": draw(st.integers()), "y": draw(WORD), "z": [1, {"k": None}]}) + "\n"
    elif choice == 1:  # malformed: an unquoted value
        s = '{"name": "execute", "arguments": {"language": "python", "code": print(1)}}\n'
    elif choice == 2:  # prose in braces
        s = "{" + draw(WORD) + "} is a placeholder\n"
    elif choice == 5:  # prose that starts like a printed call
        s = draw(st.sampled_from(["functions.sort(x) sorts\n", "execute the plan\n", "functions are values\n",
                                  "execute({x}) is pseudo-code\n"]))
    elif choice == 3:  # a JSON fence that is not a call
        s = "```json\n" + json.dumps({"a": [1, 2], "name": draw(WORD)}, indent=2) + "\n```\n"
    else:  # a call-shaped object with an unknown language and no tool name
        s = json.dumps({"language": "english", "code": "hello"}) + "\n"
    return s, [Text(s)]


piece = st.one_of(text_block(), code_block(), other_fence(), untagged_plain_fence(), tool_call(),
                  not_a_tool_call())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(piece, max_size=6), st.data())
def test_generated_replies_give_known_events_for_any_split(pieces: list[tuple[str, list[ParseEvent]]],
                                                          data: st.DataObject) -> None:
    reply = "".join(s for s, _ in pieces)
    expected = merge([ev for _, evs in pieces for ev in evs])
    assert run(reply) == expected
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=12))
    assert run(reply, split_at(reply, cuts)) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(piece, max_size=4))
def test_one_char_per_chunk(pieces: list[tuple[str, list[ParseEvent]]]) -> None:
    reply = "".join(s for s, _ in pieces)
    assert run(reply, list(reply)) == merge([ev for _, evs in pieces for ev in evs])


# Arbitrary soup of the fragments that matter: no oracle, but every split must agree.
FRAGMENTS = ["```", "```python\n", "```py", "thon\n", "```json\n", "```\n", "````\n", "```text\n",
             "<tool_call>", "</tool_call>", "<tool", '{"name": "execute", "arguments": ',
             '{"language": "python", "code": "', '"}', "}", "}}", "{", "\n", " ", "   ", "\\", '"', "`", "``",
             "\r\n", "\t", "ok", "x = 1", "[", ":", "true", "<", "#"]
soup = st.lists(st.sampled_from(FRAGMENTS) | st.text(alphabet=NASTY + "ab\n", max_size=5),
                max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(soup, st.lists(st.integers(0, 10_000), max_size=15))
def test_any_split_of_anything_gives_the_same_events(reply: str, cuts: list[int]) -> None:
    whole = run(reply)
    assert run(reply, split_at(reply, cuts)) == whole
    assert run(reply, list(reply)) == whole
    for ev in whole:
        assert not (isinstance(ev, Text | CodeDelta) and not ev.text)
    if not any(isinstance(ev, CodeStart) for ev in whole):
        # Nothing was recovered as code: the text is the reply, byte for byte.
        assert "".join(ev.text for ev in whole if isinstance(ev, Text)) == reply
    # Code blocks are well formed.
    depth = 0
    for ev in whole:
        if isinstance(ev, CodeStart):
            assert depth == 0
            depth = 1
        elif isinstance(ev, CodeEnd):
            assert depth == 1
            depth = 0
        elif isinstance(ev, CodeDelta):
            assert depth == 1
    assert depth == 0


# --- explicit cases -------------------------------------------------------------------


def test_fence_split_inside_the_tag() -> None:
    parser = FenceParser(LANGUAGES)
    assert merge(parser.feed("Let me check.\n```py")) == [Text("Let me check.\n")]
    assert parser.feed("thon\n") == [CodeStart("python")]
    events = parser.feed("print(6*7)\n```\nDone.") + parser.close()
    assert merge(events) == [CodeDelta("print(6*7)"), CodeEnd(), Text("Done.")]


def test_fence_split_across_three_chunks() -> None:
    reply = "Hi\n```bash\nls -la\n```\n"
    expected = [Text("Hi\n"), *code("shell", "ls -la")]
    assert run(reply, ["Hi\n`", "``ba", "sh\nls -la\n```\n"]) == expected
    assert run(reply, ["Hi\n``", "`bash\nls -la\n``", "`\n"]) == expected
    assert run(reply, list(reply)) == expected


def test_text_and_code_stream_before_the_reply_ends() -> None:
    parser = FenceParser(LANGUAGES)
    assert merge(parser.feed("Hello wor")) == [Text("Hello wor")]
    assert merge(parser.feed("ld\n```python\nfor i in range(3):\n    pri")) == [
        Text("ld\n"), CodeStart("python"), CodeDelta("for i in range(3):\n    pri")]
    # A line that may be the closing fence is held back, nothing else.
    assert merge(parser.feed("nt(i)\n``")) == [CodeDelta("nt(i)")]
    assert parser.feed("`\n") == [CodeEnd()]


def test_several_blocks_with_text_between() -> None:
    reply = ("First, the date:\n```shell\ndate\n```\n"
             "Then Python:\n```python\nimport sys\nprint(sys.version)\n```\n"
             "And node:\n```js\nconsole.log(1)\n```\nThat's all.")
    assert run(reply) == [
        Text("First, the date:\n"), *code("shell", "date"), Text("Then Python:\n"),
        *code("python", "import sys\nprint(sys.version)"), Text("And node:\n"),
        *code("javascript", "console.log(1)"), Text("That's all.")]


def test_unclosed_fence_is_closed_at_the_end_and_counts() -> None:
    assert run("Running:\n```python\nprint(1)\nprint(2)\n") == [
        Text("Running:\n"), *code("python", "print(1)\nprint(2)")]
    assert run("```python\nprint(1)") == code("python", "print(1)")
    assert run("```python\nprint(1)\n``") == code("python", "print(1)\n``")
    assert run("```python\nprint(1)\n```") == code("python", "print(1)")  # closing fence without newline
    assert run("```python") == code("python", "")


def test_other_tags_stay_text_verbatim() -> None:
    reply = "Output:\n```text\nhello\n```\n```diff\n-a\n+b\n```\n```console\n$ ls\n```\n"
    assert run(reply) == [Text(reply)]


def test_nested_backticks_inside_code() -> None:
    reply = "````python\nprint('''\n```python\nx\n```\n''')\n````\nafter\n"
    assert run(reply) == [*code("python", "print('''\n```python\nx\n```\n''')"), Text("after\n")]
    # A closing fence needs at least as many backticks, and nothing after them.
    assert run("```py\na\n``\n``` x\n    ```\n```\n") == code("python", "a\n``\n``` x\n    ```")


def test_what_is_not_a_fence() -> None:
    assert run("    ```python\nindented\n") == [Text("    ```python\nindented\n")]
    assert run("```python``` inline\n") == [Text("```python``` inline\n")]  # backtick in the info string
    assert run("use ```python fences\n") == [Text("use ```python fences\n")]
    assert run("``\n`x`\n") == [Text("``\n`x`\n")]


def test_info_string_and_case() -> None:
    assert run("```Python title=demo.py\nx\n```\n") == code("python", "x")
    assert run("```{python}\nx\n```\n") == code("python", "x")
    assert run("```BASH\nls\n```\n") == code("shell", "ls")


def test_crlf_line_ends() -> None:
    assert run("Hi\r\n```python\r\nprint(1)\r\n```\r\nbye") == [
        Text("Hi\r\n"), *code("python", "print(1)\r"), Text("bye")]


def test_parser_is_reusable_after_close() -> None:
    parser = FenceParser(LANGUAGES)
    parser.feed("```python\nx = 1\n")
    parser.close()
    assert merge(parser.feed("plain\n") + parser.close()) == [Text("plain\n")]


# Realistic outputs of Qwen2.5-Coder-0.5B-Instruct printing its tool call as text.
QWEN_CASES = [
    pytest.param(
        '```json\n{\n  "name": "execute",\n  "arguments": {\n    "language": "python",\n'
        '    "code": "import os\\nprint(os.getcwd())"\n  }\n}\n```',
        code("python", "import os\nprint(os.getcwd())"), id="json-fence"),
    pytest.param(
        '<tool_call>\n{"name": "execute", "arguments": {"language": "shell", "code": "ls -la"}}\n'
        '</tool_call>',
        code("shell", "ls -la"), id="tool_call-tags"),
    pytest.param(
        '{"name": "python", "arguments": {"code": "print(\'Hello, World!\')"}}',
        code("python", "print('Hello, World!')"), id="tool-named-after-language"),
    pytest.param(
        '{"name": "execute", "arguments": "{\\"language\\": \\"python\\", \\"code\\": \\"print(2+2)\\"}"}',
        code("python", "print(2+2)"), id="arguments-as-json-string"),
    pytest.param(
        '{"name": "run_code", "arguments": {"language": "bash", "code": "echo hi"}}',
        code("shell", "echo hi"), id="wrong-tool-name"),
    pytest.param(
        '{"function": {"name": "execute", "arguments": {"language": "js", "code": "console.log(1)"}}}',
        code("javascript", "console.log(1)"), id="function-wrapper"),
    pytest.param(
        '{"language": "python", "code": "print(1)"}', code("python", "print(1)"), id="bare-arguments"),
    pytest.param(
        '```\n{"name": "bash", "arguments": {"code": "df -h"}}\n```',
        code("shell", "df -h"), id="untagged-fence"),
    pytest.param(
        '{"name": "execute", "arguments": {"language": "python", '
        '"code": "for i in range(3):\n    print(i)"}}',
        code("python", "for i in range(3):\n    print(i)"), id="raw-newlines-in-string"),
    pytest.param(
        '<tool_call>\n{"name": "execute", "arguments": {"language": "python", "code": "print(1)"}}',
        code("python", "print(1)"), id="missing-closing-tag"),
    pytest.param(
        '{"name": "execute", "arguments": {"language": "python", "code": "print(1)"}',
        code("python", "print(1)"), id="missing-last-brace-at-end"),
    pytest.param(
        '<tool_call>{"name": "execute", "arguments": {"language": "py", "code": "x"}}</tool_call>',
        code("python", "x"), id="one-line-tags"),
]


@pytest.mark.parametrize(("reply", "expected"), QWEN_CASES)
def test_recovered_tool_calls(reply: str, expected: list[ParseEvent]) -> None:
    assert run(reply) == expected
    assert run(reply, list(reply)) == expected
    framed = f"I'll run it.\n{reply}\nThe result is above."
    assert run(framed) == [Text("I'll run it.\n"), *expected, Text("The result is above.")]


def test_two_tagged_calls_in_a_row() -> None:
    one = '<tool_call>\n{"name": "execute", "arguments": {"language": "python", "code": "a"}}\n</tool_call>\n'
    two = one.replace('"a"', '"b"')
    assert run(one + two) == [*code("python", "a"), *code("python", "b")]


def test_unknown_language_in_a_recovered_call_is_kept_lower_cased() -> None:
    reply = '{"name": "execute", "arguments": {"language": "COBOL", "code": "DISPLAY 1"}}'
    assert run(reply) == code("cobol", "DISPLAY 1")


def test_json_that_is_not_a_tool_call_stays_text() -> None:
    for reply in [
        '{"city": "Paris", "temperature": 21}\nNice weather.',
        '```json\n{"name": "Alice", "age": 30}\n```\n',
        '{"name": "get_weather", "arguments": {"city": "Paris"}}\n',
        '{"language": "french", "code": "fr"}\n',  # no tool name, not a language we run
        "{}\n",
        "```\n<b>bold</b>\n```\n",
    ]:
        assert run(reply) == [Text(reply)], reply
        assert run(reply, list(reply)) == [Text(reply)], reply


def test_malformed_json_stays_text() -> None:
    for reply in [
        '{"name": "execute", "arguments": {"language": "python", "code": print(1)}}\nok',
        "{name: 'execute'}\n",
        '{"name": "execute", "arguments": {"language": "python", "code": "x"}} trailing\n',
        '{"name": "execute", "arguments": {"language": "python", "code": "unterminated',
        "<tool_call>\nnot json\n</tool_call>\n",
        '```json\n{"name": "execute", "arguments": {\n```\n',
    ]:
        events = run(reply)
        if reply.endswith("trailing\n"):  # the call is complete; the rest of its line is text
            assert events == [*code("python", "x"), Text(" trailing\n")]
            continue
        assert events == [Text(reply)], reply


def test_tool_call_tag_before_a_fence() -> None:
    reply = "<tool_call>\n```python\nprint(1)\n```\n"
    assert run(reply) == [Text("<tool_call>\n"), *code("python", "print(1)")]


def test_untagged_fence_streams_once_it_is_plainly_not_json() -> None:
    parser = FenceParser(LANGUAGES)
    assert parser.feed("```\n") == []
    assert merge(parser.feed("$ ls\nfile")) == [Text("```\n$ ls\nfile")]


def test_a_megabyte_in_small_chunks_finishes() -> None:
    unit = ("Some text with `inline` code and {braces}.\n```python\nfor i in range(3):\n    print(i)\n```\n"
            '{"name": "execute", "arguments": {"language": "python", "code": "print(1)"}}\n'
            '```json\n{"a": [1, 2, 3]}\n```\n'
            '<tool_call>\n{"language": "py", "code": "x = 1"}\n</tool_call>\n')
    reply = unit * (1_000_000 // len(unit))
    chunks = [reply[i : i + 10] for i in range(0, len(reply), 10)]
    events = run(reply, chunks)
    assert sum(isinstance(ev, CodeStart) for ev in events) == 3 * (1_000_000 // len(unit))
    # One huge block and one huge held JSON object, too.
    big = "```python\n" + "x = 1\n" * 200_000 + "```\n"
    expected = code("python", ("x = 1\n" * 200_000)[:-1])
    assert run(big, [big[i : i + 10] for i in range(0, len(big), 10)]) == expected
    blob = '{"name": "execute", "arguments": {"language": "python", "code": "' + "a" * 1_000_000 + '"}}'
    assert run(blob, [blob[i : i + 7] for i in range(0, len(blob), 7)]) == code("python", "a" * 1_000_000)


def test_random_splits_of_a_long_mixed_reply() -> None:
    reply = "".join([
        "Intro\n", "```py\nprint('```')\n```\n", '{"language": "sh", "code": "ls"}\n', "```text\nraw\n```\n",
        '<tool_call>\n{"name": "bash", "arguments": "pwd"}\n</tool_call>\n', "end"])
    expected = run(reply)
    assert expected == [Text("Intro\n"), *code("python", "print('```')"), *code("shell", "ls"),
                        Text("```text\nraw\n```\n"), *code("shell", "pwd"), Text("end")]
    rng = random.Random(7)
    for _ in range(200):
        cuts = [rng.randrange(len(reply)) for _ in range(rng.randrange(1, 20))]
        assert run(reply, split_at(reply, cuts)) == expected


# --- recover_tool_call / parse_tool_arguments ------------------------------------------


def test_recover_tool_call() -> None:
    call = '{"name": "execute", "arguments": {"language": "py", "code": "1"}}'
    assert recover_tool_call(call, LANGUAGES) == ("python", "1")
    assert recover_tool_call('```json\n{"language": "bash", "code": "ls"}\n```', LANGUAGES) == ("shell", "ls")
    assert recover_tool_call('<tool_call>{"name": "ruby", "arguments": {"code": "puts 1"}}</tool_call>',
                             LANGUAGES) == ("ruby", "puts 1")
    assert recover_tool_call('{"name": "execute", "arguments": {"language": "python", "code": ["a", "b"]}}',
                             LANGUAGES) == ("python", "a\nb")
    assert recover_tool_call('{"a": 1}', LANGUAGES) is None
    assert recover_tool_call("not json", LANGUAGES) is None
    assert recover_tool_call("[1, 2]", LANGUAGES) is None
    assert recover_tool_call('{"name": "execute", "arguments": {"code": "x"}}', LANGUAGES) is None
    # Open Interpreter's test_hallucinations shapes.
    assert recover_tool_call('functions.execute({\n  "language": "python",\n  "code": "10+12"\n})',
                             LANGUAGES) == ("python", "10+12")
    assert recover_tool_call('{language: "python", code: "print(\'a, b: c\')" }', LANGUAGES) == (
        "python", "print('a, b: c')")
    assert recover_tool_call('execute({"language": "sh", "code": "ls"});', LANGUAGES) == ("shell", "ls")
    assert recover_tool_call("functions.sort(x)", LANGUAGES) is None


def test_parse_tool_arguments() -> None:
    assert parse_tool_arguments("execute", '{"language": "Python", "code": "print(1)"}', LANGUAGES) == (
        "python", "print(1)")
    # Wrong tool name that is a language; the language comes from the name.
    assert parse_tool_arguments("bash", '{"code": "ls"}', LANGUAGES) == ("shell", "ls")
    assert parse_tool_arguments("run_python", '{"code": "1"}', LANGUAGES) == ("python", "1")
    # Arguments that are a JSON string of an object.
    double = json.dumps(json.dumps({"language": "js", "code": "1"}))
    assert parse_tool_arguments("execute", double, LANGUAGES) == ("javascript", "1")
    # The whole call nested in the arguments.
    nested = json.dumps({"name": "execute", "arguments": {"language": "sh", "code": "pwd"}})
    assert parse_tool_arguments("execute", nested, LANGUAGES) == ("shell", "pwd")
    # A tool named after a language given bare code.
    assert parse_tool_arguments("python", "print(1)", LANGUAGES) == ("python", "print(1)")
    # Unknown languages come back lower-cased, for the engine to refuse.
    fortran = '{"language": "Fortran", "code": "x"}'
    assert parse_tool_arguments("execute", fortran, LANGUAGES) == ("fortran", "x")
    assert parse_tool_arguments(None, '{"language": "python", "command": "1"}', LANGUAGES) == ("python", "1")


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("execute", '{"language": "python", "code": ', "the arguments of execute were not valid JSON"),
    ("execute", "", "execute needs 'language' and 'code'"),
    ("execute", '{"code": "print(1)"}', "execute needs 'language' and 'code'"),
    ("execute", '{"language": "python"}', "execute needs 'language' and 'code'"),
    ("execute", "[1, 2]", "execute needs a JSON object"),
    (None, "{bad", "the arguments of execute were not valid JSON"),
    ("execute", '{"name": "execute", "arguments": "{oops"}', "were not valid JSON"),
])
def test_parse_tool_arguments_errors(name: str | None, arguments: str, message: str) -> None:
    with pytest.raises(ToolCallError, match=message) as info:
        parse_tool_arguments(name, arguments, LANGUAGES)
    assert isinstance(info.value, ValueError)
    assert '"language"' in str(info.value)  # tells the model what to send
