""""Always for this session" is narrow: low risk only, medium per kind of effect when the
user allowed it in Settings, high never -- decided in the engine for every front end."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.approval import ApprovalGate, ApprovalRequest, Decision
from oi_voice.core.risk import KINDS, Risk
from oi_voice.profiles import SETTINGS


def test_covers_low_only_then_medium_by_kind_and_never_high() -> None:
    gate = ApprovalGate()
    low, high = Risk("low"), Risk("high", ("deletes files",))
    writes = Risk("medium", ("overwrites notes.txt",), ("writes_files",))
    mixed = Risk("medium", ("overwrites notes.txt", "uses the network"), ("network", "writes_files"))
    assert not gate.covers(low)  # nothing until "Always" was chosen
    gate.always = True
    assert gate.covers(low) and not gate.covers(writes) and not gate.covers(high)
    gate.always_medium = ["writes_files"]
    assert gate.covers(writes) and not gate.covers(mixed) and not gate.covers(high)
    gate.always_medium = list(KINDS)
    assert gate.covers(mixed) and not gate.covers(high)
    assert not gate.covers(Risk("medium", ("something",)))  # a medium risk with no kind is never covered


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("notes\n")
    monkeypatch.chdir(work)
    owner = point_at(shared, llm_server.url)
    yield owner
    owner.set("approval.always_medium", [])


def test_the_api_approver_saying_always_still_gets_asked_for_medium_and_high(
        interp: Interpreter, llm_server: ScriptedLLM, tmp_path: Path) -> None:
    notes = tmp_path / "work" / "notes.txt"
    asked: list[str] = []

    def approver(request: ApprovalRequest) -> Decision:
        asked.append(request.code)
        return Decision.run(always=True, source="click")  # "Always", every time

    interp.approver = approver
    codes = ["echo low-one", f"echo x > {notes}", f"rm {notes}", "echo low-two"]
    llm_server.add(*[tool_call("shell", c) for c in codes], text("done"))
    interp.chat("go", display=False)
    assert asked == codes[:3]  # the second low run was covered; medium and high were asked
    assert interp.gate.always


def test_medium_kinds_allowed_in_settings_run_without_asking_high_never(
        interp: Interpreter, llm_server: ScriptedLLM, tmp_path: Path) -> None:
    notes = tmp_path / "work" / "notes.txt"
    assert SETTINGS["approval.always_medium"].kind == "list[str]"
    interp.set("approval.always_medium", ["writes_files"])
    asked: list[str] = []

    def approver(request: ApprovalRequest) -> Decision:
        asked.append(request.code)
        return Decision.run(always=True, source="click")

    interp.approver = approver
    codes = ["echo first", f"echo x >> {notes}", "curl -s --max-time 1 http://127.0.0.1:9 || true",
             f"rm {notes}"]
    llm_server.add(*[tool_call("shell", c) for c in codes], text("done"))
    interp.chat("go", display=False)
    assert asked == [codes[0], codes[2], codes[3]]  # writes allowed; the network was not; high never
    assert notes.exists() is False
