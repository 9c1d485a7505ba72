"""Computer: names and aliases, availability, dispatch, interrupt and close."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
from helpers import finished, process_gone, text, wait_until

from oi_voice.computer import Computer, Language, LanguageInfo, Output, RunEvent, RunFinished
from oi_voice.computer._catalog import forget_runtimes

pytestmark = pytest.mark.timeout(60)

needs_node_and_ruby = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("ruby") is None, reason="node or ruby is not installed"
)


# --- helpers -------------------------------------------------------------------------------


async def collect(computer: Computer, language: str, code: str) -> list[RunEvent]:
    return [event async for event in computer.run(language, code)]








def children_of(parent: int) -> set[int]:
    """Live (not zombie) direct children of ``parent``."""
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except FileNotFoundError:
                continue
            if int(fields[1]) == parent and fields[0] != b"Z":
                found.add(int(name))
    return found




@pytest.fixture
def computer() -> Computer:
    return Computer()


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("python", "python"),
        ("Python", "python"),
        ("py", "python"),
        ("python3", "python"),
        (" PY ", "python"),
        ("shell", "shell"),
        ("bash", "shell"),
        ("sh", "shell"),
        ("zsh", "shell"),
        ("js", "javascript"),
        ("node", "javascript"),
        ("JavaScript", "javascript"),
        ("ruby", "ruby"),
        ("rb", "ruby"),
        ("R", None),  # no R support: the model is told R is not among the languages
        ("cobol", None),
        ("", None),
    ],
)
def test_resolve(computer: Computer, name: str, canonical: str | None) -> None:
    assert computer.resolve(name) == canonical


def test_languages_lists_every_language_with_availability(computer: Computer) -> None:
    infos = {info.name: info for info in computer.languages()}
    assert set(infos) == {"python", "shell", "javascript", "ruby"}
    assert all(isinstance(info, LanguageInfo) for info in infos.values())
    assert infos["python"].available
    assert infos["shell"].available == (shutil.which("bash") is not None)
    assert infos["javascript"].available == (shutil.which("node") is not None)
    assert "py" in infos["python"].aliases
    assert computer.available_names() == [name for name, info in infos.items() if info.available]


def test_language_returns_a_session_implementing_the_protocol(computer: Computer) -> None:
    assert isinstance(computer.language("py"), Language)
    assert computer.language("bash") is computer.language("shell")
    with pytest.raises(KeyError):
        computer.language("cobol")


# --- unknown and unavailable ---------------------------------------------------------------


def test_unknown_language_is_unavailable_and_lists_the_available_ones(computer: Computer) -> None:
    events = asyncio.run(collect(computer, "cobol", "DISPLAY 'HI'"))
    done = finished(events)
    assert len(events) == 1
    assert done.status == "unavailable"
    assert "cobol" in done.message
    for name in computer.available_names():
        assert name in done.message


def test_r_is_reported_unavailable_cleanly(computer: Computer) -> None:
    events = asyncio.run(collect(computer, "R", "print(1)"))
    assert len(events) == 1
    assert finished(events).status == "unavailable"
    assert "Unknown language 'R'" in finished(events).message
    assert "python" in finished(events).message


def test_missing_runtime_is_unavailable_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    forget_runtimes()
    try:
        computer = Computer()
        info = {i.name: i for i in computer.languages()}["javascript"]
        assert not info.available
        assert "javascript" not in computer.available_names()
        events = asyncio.run(collect(computer, "js", "1"))
        assert events == [RunFinished("unavailable", message="node is not installed on this computer")]
        asyncio.run(computer.warm("js"))  # nothing to start, nothing raised
    finally:
        monkeypatch.undo()
        forget_runtimes()


# --- running -------------------------------------------------------------------------------


def test_runs_dispatch_by_alias_and_warm_starts_in_the_background() -> None:
    async def main() -> None:
        computer = Computer()
        try:
            await computer.warm("python")
            await computer.warm("klingon")  # logged, not raised
            events = await collect(computer, "Python", "print(6 * 7)")
            assert finished(events).status == "ok"
            assert text(events) == "42\n"
            events = await collect(computer, "sh", "echo from-shell")
            assert text(events) == "from-shell\n"
            assert not computer.is_running
        finally:
            await computer.close()

    asyncio.run(main())


def test_cwd_applies_to_every_language(tmp_path: os.PathLike[str]) -> None:
    async def main() -> None:
        computer = Computer(cwd=str(tmp_path))
        try:
            assert text(await collect(computer, "python", "import os; print(os.getcwd())")) == f"{tmp_path}\n"
            assert text(await collect(computer, "shell", "pwd")) == f"{tmp_path}\n"
        finally:
            await computer.close()

    asyncio.run(main())


def test_interrupt_stops_whatever_runs_and_is_running_follows() -> None:
    async def main() -> None:
        computer = Computer()
        try:
            await computer.interrupt()  # nothing running: no effect
            events: list[RunEvent] = []
            async for event in computer.run("shell", "echo started; sleep 600"):
                events.append(event)
                if isinstance(event, Output):
                    assert computer.is_running
                    interrupting = asyncio.create_task(computer.interrupt())
            await interrupting
            assert finished(events).status == "interrupted"
            assert not computer.is_running
        finally:
            await computer.close()

    asyncio.run(main())


def test_input_timeout_is_passed_to_the_languages() -> None:
    async def main() -> None:
        computer = Computer(input_timeout=0.2)
        try:
            assert finished(await collect(computer, "shell", "read line")).status == "needs_input"
        finally:
            await computer.close()

    asyncio.run(main())


# --- closing -------------------------------------------------------------------------------


def test_close_without_anything_started() -> None:
    async def main() -> None:
        computer = Computer()
        await computer.close()
        await computer.close()
        computer.language("python")  # created, never started
        await computer.close()

    asyncio.run(main())
    Computer().close_sync_best_effort()


def test_close_during_a_run_ends_that_run() -> None:
    async def main() -> None:
        computer = Computer()
        started = asyncio.Event()
        events: list[RunEvent] = []

        async def consume(language: str, code: str) -> None:
            async for event in computer.run(language, code):
                events.append(event)
                if isinstance(event, Output):
                    started.set()

        for language, code in (
            ("shell", "echo go; sleep 600"),
            ("python", "print('go', flush=True)\nwhile True: pass"),
        ):
            events.clear()
            started.clear()
            consumer = asyncio.create_task(consume(language, code))
            await asyncio.wait_for(started.wait(), 30)
            await computer.close()
            await asyncio.wait_for(consumer, 10)
            assert finished(events).status == "interrupted", language

    asyncio.run(main())


@needs_node_and_ruby
def test_close_leaves_no_child_processes() -> None:
    pids: dict[str, int] = {}

    async def main() -> None:
        computer = Computer()
        pids["python"] = int(text(await collect(computer, "python", "import os; print(os.getpid())")))
        pids["node"] = int(text(await collect(computer, "js", "console.log(process.pid)")))
        pids["ruby"] = int(text(await collect(computer, "ruby", "puts Process.pid")))
        pids["background"] = int(text(await collect(computer, "shell", "sleep 1000 >/dev/null & echo $!")))
        assert not any(process_gone(pid) for pid in pids.values())
        await computer.close()
        # Still usable afterwards: a fresh session starts on demand.
        assert text(await collect(computer, "shell", "echo again")) == "again\n"
        await computer.close()

    asyncio.run(main())
    assert wait_until(lambda: all(process_gone(pid) for pid in pids.values())), pids
    for pid in (pids["python"], pids["node"], pids["ruby"]):
        assert not os.path.exists(f"/proc/{pid}"), "not reaped"
    assert not children_of(os.getpid()) & set(pids.values())


@needs_node_and_ruby
def test_close_sync_best_effort_kills_without_a_loop() -> None:
    pids: list[int] = []
    computer = Computer()

    async def main() -> None:
        pids.append(int(text(await collect(computer, "python", "import os; print(os.getpid())"))))
        pids.append(int(text(await collect(computer, "js", "console.log(process.pid)"))))
        pids.append(int(text(await collect(computer, "ruby", "puts Process.pid"))))

    asyncio.run(main())
    computer.close_sync_best_effort()
    assert wait_until(lambda: all(process_gone(pid) for pid in pids)), pids
