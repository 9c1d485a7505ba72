"""The risk rating against what code really does.

Each snippet of the corpus (tests/reliability/risk_corpus.py: shell, Python, JavaScript
and Ruby, written by hand, plus variations hypothesis makes of file operations, quoting,
aliases and wrappers such as ``bash -c``, ``eval`` and functions) is rated in a
throwaway folder holding files, then run there with the real interpreter. Whatever
deleted a file's bytes must have been rated high; whatever emptied, overwrote, moved or
changed the permissions of a file, at least medium: misses must be zero. Code written to
be harmless must be rated low. The results are a table: printed, written to
``$OI_VOICE_RISK_CORPUS_REPORT`` (default ``<tmp>/oi-voice-risk-corpus.md``), and
counted in the reliability ledger.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oi_voice.core.risk import Risk, rate
from reliability.report import Ledger
from reliability.risk_corpus import WRITTEN, Snippet, run_snippet, runtimes_missing, setup_folder

pytestmark = pytest.mark.skipif(bool(runtimes_missing()), reason=f"needs {', '.join(runtimes_missing())}")

_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass
class Result:
    """One snippet: its rating before it ran, and what it did."""

    snippet: Snippet
    risk: Risk
    effect: str

    @property
    def miss(self) -> bool:
        """Rated lower than its effect demands (or not low when written to be harmless)."""
        need = {"deleted": "high", "changed": "medium"}.get(self.effect, "low")
        if _ORDER[self.risk.level] < _ORDER[need]:
            return True
        return self.snippet.expect == "low" and self.risk.level != "low"


def check(snippet: Snippet) -> Result:
    """Rate ``snippet`` in a fresh folder, run it there, and see what it did."""
    with tempfile.TemporaryDirectory(prefix="oi-corpus-") as tmp:
        root, home = Path(tmp, "work"), Path(tmp, "home")
        root.mkdir()
        home.mkdir()
        setup_folder(root, snippet.git)
        risk = rate(snippet.language, snippet.code, cwd=str(root))
        return Result(snippet, risk, run_snippet(snippet, root, home))


_RESULTS: list[Result] = []


# --- variations -------------------------------------------------------------------------

TARGETS = ("notes.txt", "important.txt", "secrets.txt", "data/a.txt")
# (operation, template): {t} is the target as the language spells a string.
OPS: dict[str, dict[str, tuple[str, ...]]] = {
    "shell": {
        "delete": ("rm {t}", "rm -f {t}", "unlink {t}", "rm -- {t}", "find . -path ./{u} -delete", "shred -u {t}"),
        "empty": (": > {t}", "truncate -s 0 {t}", "> {t}", "cat /dev/null > {t}", "true > {t}"),
        "overwrite": ("echo x > {t}", "cp other.txt {t}", "printf y > {t}", "date > {t}", "echo x | tee {t}"),
        "append": ("echo x >> {t}", "date >> {t}", "echo x | tee -a {t}"),
        "permissions": ("chmod 600 {t}", "chmod a+x {t}"),
        "read": ("cat {t}", "wc -c {t}", "head -1 {t}", "grep -c x {t}", "ls -l {t}"),
    },
    "python": {
        "delete": ("os.remove({t})", "os.unlink({t})", "pathlib.Path({t}).unlink()", "shutil.os.remove({t})"),
        "empty": ("open({t}, 'w').close()", "os.truncate({t}, 0)", "pathlib.Path({t}).write_text('')"),
        "overwrite": ("open({t}, 'w').write('x')", "pathlib.Path({t}).write_bytes(b'x')",
                      "shutil.copy('other.txt', {t})", "shutil.copyfile('other.txt', {t})"),
        "append": ("open({t}, 'a').write('x')",),
        "permissions": ("os.chmod({t}, 0o600)",),
        "read": ("print(open({t}).read())", "print(os.path.getsize({t}))", "print(pathlib.Path({t}).read_text())"),
    },
    "javascript": {
        "delete": ("fs.unlinkSync({t})", "fs.rmSync({t})", "fs.rmSync({t}, {{force: true}})"),
        "empty": ("fs.truncateSync({t}, 0)", "fs.writeFileSync({t}, '')"),
        "overwrite": ("fs.writeFileSync({t}, 'x')", "fs.copyFileSync('other.txt', {t})"),
        "append": ("fs.appendFileSync({t}, 'x')",),
        "permissions": ("fs.chmodSync({t}, 0o600)",),
        "read": ("console.log(fs.readFileSync({t}, 'utf8'))", "console.log(fs.statSync({t}).size)"),
    },
    "ruby": {
        "delete": ("File.delete({t})", "FileUtils.rm({t})", "FileUtils.rm_f({t})", "File.unlink({t})"),
        "empty": ("File.truncate({t}, 0)", "File.write({t}, '')"),
        "overwrite": ("File.write({t}, 'x')", "FileUtils.cp('other.txt', {t})", "IO.write({t}, 'x')"),
        "append": ("File.open({t}, 'a') {{ |f| f.write('x') }}",),
        "permissions": ("File.chmod(0600, {t})",),
        "read": ("puts File.read({t})", "puts File.size({t})"),
    },
}
PRELUDE = {"shell": "", "python": "import os, shutil, pathlib\n", "javascript": "const fs = require('fs');\n",
           "ruby": "require 'fileutils'\n"}


def _quote(language: str, target: str, style: int) -> str:
    if language == "shell":
        return (target, f"'{target}'", f'"{target}"')[style % 3]
    return (f"'{target}'", f'"{target}"')[style % 2]


def _wrap(language: str, code: str, wrapper: int) -> str:
    """The operation as it is, or inside a function, a loop, an eval, or another language."""
    import json
    import shlex

    if language == "shell":
        options = (code, f"bash -c {shlex.quote(code)}", f"sh -c {shlex.quote(code)}", f"eval {shlex.quote(code)}",
                   f"if true; then {code}; fi", f"( {code} )", f"go() {{ {code}; }}; go",
                   f"python3 -c {shlex.quote('import os; os.system(' + repr(code) + ')')}")
    elif language == "python":
        options = (code, f"def go():\n    {code}\ngo()", f"for _ in range(1):\n    {code}",
                   f"exec({code!r})",
                   f"import subprocess\nsubprocess.run(['python3', '-c', {PRELUDE['python'] + code!r}])")
    elif language == "javascript":
        options = (code, f"function go() {{ {code}; }}\ngo();", f"[1].forEach(() => {{ {code}; }});",
                   f"eval({json.dumps(code)});")
    else:
        options = (code, f"def go\n  {code}\nend\ngo", f"[1].each do\n  {code}\nend", f"eval({json.dumps(code)})")
    return options[wrapper % len(options)]


@st.composite
def variants(draw: st.DrawFn) -> Snippet:
    """A file operation in one language, with its target, quoting and wrapper drawn."""
    language = draw(st.sampled_from(sorted(OPS)))
    op = draw(st.sampled_from(sorted(OPS[language])))
    template = draw(st.sampled_from(OPS[language][op]))
    target = draw(st.sampled_from(TARGETS))
    quoted = _quote(language, target, draw(st.integers(0, 2)))
    code = template.format(t=quoted, u=target)
    if language == "python" and draw(st.booleans()):  # the path in a variable
        code = f"name = {quoted}\n" + template.format(t="name", u=target)
        wrapped = _wrap(language, code.split("\n")[1], draw(st.integers(0, 3)))
        code = PRELUDE[language] + code.split("\n")[0] + "\n" + wrapped
    else:
        code = PRELUDE[language] + _wrap(language, code, draw(st.integers(0, 7)))
    return Snippet(language, code, "low" if op == "read" else None, origin=f"hypothesis:{op}")


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results(ledger: Ledger) -> Iterator[list[Result]]:
    """Everything the corpus tests checked; written as the table when they are done."""
    yield _RESULTS
    if _RESULTS:
        path = write_table(_RESULTS)
        for r in _RESULTS:
            language, effect = r.snippet.language, r.effect
            fault = f"{language}: code that {effect} rated high enough" if effect in ("deleted", "changed") else (
                f"{language}: code with no effect ({'harmless, rated low' if r.snippet.expect else 'any rating'})")
            ledger.record("risk rating", fault, survived=not r.miss, lost=int(r.miss))
        print(f"\nrisk corpus: {len(_RESULTS)} snippets, table in {path}")


def _grouped(rows: list[Result]) -> dict[tuple[str, str], list[Result]]:
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in rows:
        groups.setdefault((r.snippet.language, r.effect), []).append(r)
    return groups


def test_written_corpus(results: list[Result]) -> None:
    assert len(WRITTEN) >= 250
    workers = max(2, min(6, (os.cpu_count() or 2) * 2))
    with ThreadPoolExecutor(workers) as pool:
        checked = list(pool.map(check, WRITTEN))
    results += checked
    effects = Counter(r.effect for r in checked)
    assert effects["deleted"] >= 60 and effects["changed"] >= 90, effects  # the corpus does what it says
    assert effects["error"] == 0, [r.snippet.code for r in checked if r.effect == "error"]
    misses = [(r.snippet.language, r.snippet.code, r.risk.level, r.risk.reasons, r.effect)
              for r in checked if r.miss]
    assert misses == []


@settings(max_examples=160, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(snippet=variants())
def test_variations(results: list[Result], snippet: Snippet) -> None:
    result = check(snippet)
    results.append(result)
    op = snippet.origin.split(":")[1]
    if op == "delete":
        assert result.effect == "deleted", snippet.code  # the variation does what it says
    assert not result.miss, (snippet.code, result.risk, result.effect)


def write_table(rows: list[Result]) -> Path:
    """The corpus and its results as Markdown: a summary, then every snippet."""
    lines = ["# Risk rating against what the code did", "",
             "| language | observed effect | snippets | rated low | rated medium | rated high | misses |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for (language, effect), group in sorted(_grouped(rows).items()):
        levels = Counter(r.risk.level for r in group)
        lines.append(f"| {language} | {effect} | {len(group)} | {levels['low']} | {levels['medium']} | "
                     f"{levels['high']} | {sum(r.miss for r in group)} |")
    levels = Counter(r.risk.level for r in rows)
    lines.append(f"| **all** | | **{len(rows)}** | **{levels['low']}** | **{levels['medium']}** | "
                 f"**{levels['high']}** | **{sum(r.miss for r in rows)}** |")
    lines += ["", "| # | language | origin | code | rating | reasons | effect | ok |",
              "| ---: | --- | --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(rows, 1):
        code = r.snippet.code.replace("|", "\\|").replace("\n", " ⏎ ")
        reasons = "; ".join(r.risk.reasons).replace("|", "\\|")
        lines.append(f"| {i} | {r.snippet.language} | {r.snippet.origin} | `{code}` | {r.risk.level} | {reasons} "
                     f"| {r.effect} | {'MISS' if r.miss else 'ok'} |")
    override = os.environ.get("OI_VOICE_RISK_CORPUS_REPORT")
    path = Path(override) if override else Path(tempfile.gettempdir()) / "oi-voice-risk-corpus.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
