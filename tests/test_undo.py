"""Undo of the last run: a snapshot of the working folder before risky code, put back by
``interpreter.undo_run()`` -- through approved runs on a real kernel and shell."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, text, tool_call

from oi_voice import Interpreter
from oi_voice.core.approval import ApprovalRequest, Decision
from oi_voice.core.risk import Risk, rate
from oi_voice.core.undo import UndoStore, needs_copies


def make_folder(root: Path) -> dict[str, bytes]:
    """A working folder of text and binary files, nested; returns {relative path: bytes}."""
    files = {
        "notes.txt": b"my notes\n" * 100,
        "keep.txt": b"keep me\n",
        "data.bin": bytes(range(256)) * 40,
        "sub/deep/report.csv": b"a,b\n1,2\n",
        "script.sh": b"#!/bin/sh\necho hi\n",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.chmod(root / "script.sh", 0o755)
    return files


def contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM) -> Interpreter:
    return point_at(shared, llm_server.url)


def approved_run(interp: Interpreter, llm_server: ScriptedLLM, language: str, code: str) -> list[ApprovalRequest]:
    """One turn running ``code``, approved by a click; the requests the user was shown."""
    seen: list[ApprovalRequest] = []

    def approver(request: ApprovalRequest) -> Decision:
        seen.append(request)
        return Decision.run(source="click")

    interp.approver = approver
    llm_server.add(tool_call(language, code), text("done"))
    interp.chat("go", display=False)
    return seen


def test_undo_brings_back_every_byte_after_a_shell_run(interp: Interpreter, llm_server: ScriptedLLM,
                                                       work: Path) -> None:
    before = make_folder(work)
    shell = (f"cd {work} && rm notes.txt && echo changed > keep.txt && : > data.bin && rm -r sub"
             " && mkdir made && echo new > made/new.txt && chmod 600 script.sh")
    seen = approved_run(interp, llm_server, "shell", shell)
    assert [r.risk.level for r in seen] == ["high"]
    after = contents(work)
    assert "notes.txt" not in after and after["data.bin"] == b"" and after["keep.txt"] == b"changed\n"
    assert after["made/new.txt"] == b"new\n"

    result = interp.undo_run()

    assert result.ok, result.message
    assert contents(work) == before  # every byte, and nothing more
    assert stat.S_IMODE((work / "script.sh").stat().st_mode) == 0o755
    assert result.set_aside == ["made/new.txt"] and result.aside is not None
    assert (result.aside / "made/new.txt").read_bytes() == b"new\n"  # set aside, not deleted
    assert "put back" in result.message
    assert not interp.undo_run().ok  # once


def test_undo_after_python_overwrites_in_place(interp: Interpreter, llm_server: ScriptedLLM, work: Path) -> None:
    before = make_folder(work)
    python = (f"import os\nos.chdir({str(work)!r})\nopen('keep.txt', 'w').write('again')\n"
              "with open('data.bin', 'r+b') as f:\n    f.write(b'XXXX')\nos.remove('notes.txt')")
    seen = approved_run(interp, llm_server, "python", python)
    assert [r.risk.level for r in seen] == ["high"]
    assert (work / "keep.txt").read_bytes() == b"again" and (work / "data.bin").read_bytes()[:4] == b"XXXX"
    result = interp.undo_run()
    assert result.ok, result.message
    assert contents(work) == before


def test_low_risk_runs_take_no_snapshot(interp: Interpreter, llm_server: ScriptedLLM, work: Path) -> None:
    make_folder(work)
    llm_server.add(tool_call("shell", f"ls > {work}/listing.txt"), text("ok"))
    interp.auto_run = True
    interp.chat("list", display=False)
    assert (work / "listing.txt").exists()
    result = interp.undo_run()
    assert not result.ok and "no run to undo" in result.message


def test_a_folder_too_big_is_said_and_the_run_goes_ahead(interp: Interpreter, llm_server: ScriptedLLM,
                                                          work: Path) -> None:
    make_folder(work)
    interp._undo.max_files = 2
    try:
        llm_server.add(tool_call("shell", f"rm {work}/notes.txt"), text("ok"))
        interp.auto_run = True
        chunks = list(interp.chat("delete", display=False, stream=True))
    finally:
        interp._undo.max_files = 20_000
    said = "".join(str(c.get("content")) for c in chunks if c["type"] == "console" and c.get("format") == "output")
    assert "This run cannot be undone" in said and "more than 2 files" in said
    assert not (work / "notes.txt").exists()


def test_hard_links_suffice_for_deletes_and_copies_protect_in_place_writes(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    before = make_folder(folder)
    store = UndoStore(tmp_path / "store")
    deleting = rate("shell", "rm notes.txt keep.txt", cwd=str(folder))
    assert not needs_copies(deleting)
    assert store.take(folder, deleting) is None
    assert store.last is not None and store.last.copied == 0 and store.last.linked == len(before)
    (folder / "notes.txt").unlink()
    (folder / "keep.txt").unlink()
    assert store.undo().ok and contents(folder) == before

    overwriting = rate("python", "open('notes.txt', 'w').write('x')", cwd=str(folder))
    assert needs_copies(overwriting)
    assert store.take(folder, overwriting) is None
    assert store.last is not None and store.last.copied == len(before)
    with open(folder / "notes.txt", "w") as f:  # in place: the same inode
        f.write("x")
    assert store.undo().ok and contents(folder) == before


def test_in_place_write_to_a_file_only_hard_linked_is_reported_lost(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    make_folder(folder)
    store = UndoStore(tmp_path / "store")
    assert store.take(folder, Risk("high", ("deletes files",))) is None
    with open(folder / "notes.txt", "r+b") as f:
        f.write(b"XX")
    result = store.undo()
    assert not result.ok and result.lost == ["notes.txt"] and "could not be restored" in result.message


def test_snapshots_of_processes_that_are_gone_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    make_folder(folder)
    orphan = tmp_path / "store" / "run-1-999999999"  # no such process
    orphan.mkdir(parents=True)
    (orphan / "x").write_bytes(b"old")
    store = UndoStore(tmp_path / "store")
    assert store.take(folder, Risk("high", ("deletes files",))) is None
    assert not orphan.exists() and store.last is not None and store.last.store.exists()
    store.discard()
    assert not store.last and not list((tmp_path / "store").glob("run-*"))
