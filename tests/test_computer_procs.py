"""Process groups and trees through psutil (oi_voice.computer._procs), on real processes.

The group functions are what Stop relies on (tests/reliability/test_execution_faults.py
checks Stop end to end); here each one is checked on its own, including the Windows
way (a leader's tree stands for its group), which runs the same on Linux.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import process_gone, wait_until

from oi_voice.computer._private import private_dir
from oi_voice.computer._procs import (
    descendants,
    group_exists,
    group_members,
    interrupt_group,
    kill_followers,
    kill_group,
    kill_tree,
    physical_memory,
    same_process,
    start_token,
)

# A group leader with a child, a grandchild and a daemon that left the tree (double fork:
# its parent exits, it is re-parented, but stays in the group). Prints the pids, then waits.
_FAMILY = """\
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']);"
    "print(g.pid, flush=True); time.sleep(300)"], stdout=subprocess.PIPE, text=True)
grandchild = int(child.stdout.readline())
r, w = os.pipe()
middle = os.fork()
if middle == 0:
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode() + b"\\n")
        time.sleep(300)
    os._exit(0)
os.waitpid(middle, 0)
daemon = int(os.read(r, 100))
signal.signal(signal.SIGINT, lambda *a: print("leader got SIGINT", flush=True))
print(os.getpid(), child.pid, grandchild, daemon, flush=True)
while True:
    time.sleep(1)
"""


@pytest.fixture
def family() -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    leader = subprocess.Popen([sys.executable, "-c", _FAMILY], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert leader.stdout is not None
    pids = [int(p) for p in leader.stdout.readline().split()]
    assert len(pids) == 4, pids
    try:
        yield leader, pids
    finally:
        kill_group(leader.pid)
        leader.wait(10)


def test_group_members_are_every_process_of_the_group(family: tuple[subprocess.Popen[str], list[int]]) -> None:
    leader, pids = family
    assert set(group_members(leader.pid)) == set(pids)
    assert os.getpid() not in group_members(leader.pid)


def test_descendants_are_the_tree_without_the_daemon_that_left_it(
        family: tuple[subprocess.Popen[str], list[int]]) -> None:
    leader, (me, child, grandchild, daemon) = family
    assert set(descendants(leader.pid)) == {me, child, grandchild}
    assert daemon in group_members(leader.pid)
    assert descendants(2**22 + 12345) == []  # no such process


def test_kill_followers_spares_the_leader(family: tuple[subprocess.Popen[str], list[int]]) -> None:
    leader, (me, *followers) = family
    assert me == leader.pid
    kill_followers(leader.pid)
    assert wait_until(lambda: all(process_gone(p) for p in followers), timeout=10)
    assert leader.poll() is None and group_exists(leader.pid)


def test_interrupt_then_kill_the_group(family: tuple[subprocess.Popen[str], list[int]]) -> None:
    leader, pids = family
    assert leader.stdout is not None
    interrupt_group(leader.pid)
    assert leader.stdout.readline().strip() == "leader got SIGINT"  # it survives a SIGINT
    kill_group(leader.pid)
    assert wait_until(lambda: all(process_gone(p) for p in pids), timeout=10)
    leader.wait(10)
    assert wait_until(lambda: not group_exists(leader.pid), timeout=10)
    kill_group(leader.pid)  # a group already gone is no error
    interrupt_group(leader.pid)


def test_kill_tree_kills_the_leaders_tree(family: tuple[subprocess.Popen[str], list[int]]) -> None:
    # What kill_group does on Windows, where there are no process groups.
    leader, (me, child, grandchild, daemon) = family
    kill_tree(leader.pid)
    assert wait_until(lambda: all(process_gone(p) for p in (me, child, grandchild)), timeout=10)
    assert not process_gone(daemon)  # it left the tree: only its group finds it
    kill_group(leader.pid)
    assert wait_until(lambda: process_gone(daemon), timeout=10)


def test_start_token_tells_a_live_process_from_a_gone_one() -> None:
    token = start_token(os.getpid())
    assert token is not None and same_process(os.getpid(), token)
    assert not same_process(os.getpid(), f"{float(token) - 3600:.3f}")  # a reused pid started later
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    assert start_token(gone.pid) is None
    assert not same_process(gone.pid, f"{time.time():.3f}")
    assert same_process(os.getpid(), "12345")  # an older oi_voice's token: alive is all it tells


def test_physical_memory_is_plausible() -> None:
    total = physical_memory()
    assert total is not None and 64 * 2**20 < total < 2**50


def test_private_folders_of_older_versions_are_judged_by_their_pid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    for name, pid in (("oi-voice-test-alive", os.getpid()), ("oi-voice-test-gone", gone.pid)):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".oi-voice-owner").write_text(f"{pid} 123456")  # clock ticks, as older versions wrote
    mine = Path(private_dir("oi-voice-test-"))
    assert mine.parent == tmp_path
    assert (tmp_path / "oi-voice-test-alive").is_dir() and not (tmp_path / "oi-voice-test-gone").exists()
    # Older versions judge only ".oi-voice-owner" (and would misread this start time): not written.
    assert [p.name for p in mine.iterdir()] == [".oi-voice-owner2"]


def test_only_the_linux_stdin_watchdog_reads_proc() -> None:
    # Process trees, liveness and start times go through psutil everywhere (macOS and Windows
    # have no /proc); /proc is read only by computer/_procfs.py, behind stdin_watch_supported().
    import ast

    import oi_voice

    package = Path(oi_voice.__file__).parent
    readers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/proc"):
                readers.add(path.relative_to(package).as_posix())
    assert readers == {"computer/_procfs.py"}
    process_py = (package / "computer" / "process.py").read_text(encoding="utf-8")
    assert "self._watch_stdin = stdin_watch_supported()" in process_py
