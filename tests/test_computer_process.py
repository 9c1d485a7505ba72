"""Shell, Node.js and Ruby against real processes: state, streaming, stdin, interrupts."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from helpers import finished, process_gone, text, wait_until

from oi_voice.computer import Output, RunEvent
from oi_voice.computer._session import SessionLanguage
from oi_voice.computer.process import NodeLanguage, RubyLanguage, ShellLanguage

pytestmark = pytest.mark.timeout(60)

L = TypeVar("L", bound=SessionLanguage)

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_ruby = pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed")


# --- helpers -------------------------------------------------------------------------------


def run_async(language: L, test: Callable[[L], Awaitable[None]]) -> None:
    """Run ``test`` on a fresh loop, closing the language afterwards."""

    async def main() -> None:
        try:
            await test(language)
        finally:
            await language.close()

    asyncio.run(main())


async def collect(language: SessionLanguage, code: str) -> list[RunEvent]:
    return [event async for event in language.run(code)]






async def run_until_output(language: SessionLanguage, code: str, ready: Callable[[str], bool]) -> list[RunEvent]:
    """Run ``code``; once ``ready(output so far)``, interrupt; return all events."""
    events: list[RunEvent] = []
    interrupting: asyncio.Task[None] | None = None
    async for event in language.run(code):
        events.append(event)
        if interrupting is None and ready(text(events)):
            interrupting = asyncio.create_task(language.interrupt())
    assert interrupting is not None, events
    await interrupting
    return events






# --- shell ---------------------------------------------------------------------------------


def test_shell_keeps_cwd_variables_functions_and_aliases(tmp_path: os.PathLike[str]) -> None:
    async def test(shell: ShellLanguage) -> None:
        code = (
            f"cd {tmp_path}\n"
            "plain=one\nexport EXPORTED=two\ndeclare -a arr=(a 'b c')\n"
            "greet() { echo \"hello $1\"; }\nalias hi='echo alias-works'\n"
            "unset HOME_BACKUP_FOR_TEST\n"
        )
        assert finished(await collect(shell, code)).status == "ok"
        events = await collect(shell, 'pwd; echo "$plain $EXPORTED ${arr[1]}"; greet you; hi; printenv EXPORTED')
        assert finished(events).status == "ok"
        assert text(events) == f"{tmp_path}\none two b c\nhello you\nalias-works\ntwo\n"

    run_async(ShellLanguage(), test)


def test_shell_unset_of_an_inherited_variable_persists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OI_TEST_INHERITED", "present")

    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, 'echo "[$OI_TEST_INHERITED]"; unset OI_TEST_INHERITED')
        assert text(events) == "[present]\n"
        events = await collect(shell, 'echo "[${OI_TEST_INHERITED-unset}]"')
        assert text(events) == "[unset]\n"

    run_async(ShellLanguage(), test)


def test_shell_falls_back_home_when_the_cwd_was_deleted() -> None:
    gone = tempfile.mkdtemp()

    async def test(shell: ShellLanguage) -> None:
        await collect(shell, f"cd {gone}")
        os.rmdir(gone)
        events = await collect(shell, "pwd")
        assert finished(events).status == "ok"
        assert "no longer exists" in text(events, "stderr")
        assert text(events, "stdout") == os.path.expanduser("~") + "\n"

    run_async(ShellLanguage(), test)


def test_shell_exit_code_is_an_error() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, "echo oops >&2; exit 3")
        done = finished(events)
        assert (done.status, done.exit_code) == ("error", 3)
        assert text(events, "stderr") == "oops\n"
        failing = finished(await collect(shell, "ls /definitely/not/here"))
        assert failing.status == "error" and failing.exit_code == 2
        assert finished(await collect(shell, "true")).status == "ok"

    run_async(ShellLanguage(), test)


def test_shell_error_messages_count_lines_of_the_code() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, "echo one\ncd /definitely/not/here")
        assert "line 2: cd: /definitely/not/here" in text(events, "stderr")

    run_async(ShellLanguage(), test)


def test_shell_state_survives_exit() -> None:
    async def test(shell: ShellLanguage) -> None:
        await collect(shell, "kept=yes; exit 0")
        assert text(await collect(shell, "echo $kept")) == "yes\n"

    run_async(ShellLanguage(), test)


def test_shell_output_has_no_markers_or_escapes() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, r"printf '\033[31mred\033[0m\n'; set -x; echo traced")
        assert finished(events).status == "ok"
        assert text(events, "stdout") == "red\ntraced\n"
        assert "__oi" not in text(events)

    run_async(ShellLanguage(), test)


def test_shell_decodes_unicode_and_replaces_invalid_bytes() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, r"printf 'héllo 🌍\n'; printf 'bad \xff\xfe end\n'")
        assert text(events) == "héllo 🌍\nbad \ufffd\ufffd end\n"

    run_async(ShellLanguage(), test)


def test_shell_read_finishes_with_needs_input() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, "before=1\necho asking\nread answer\necho never")
        done = finished(events)
        assert done.status == "needs_input"
        assert "input" in done.message
        assert text(events) == "asking\n"
        assert text(await collect(shell, "echo ${before-lost}")) == "1\n"

    run_async(ShellLanguage(input_timeout=0.5), test)


def test_shell_streams_20_mb_in_few_events() -> None:
    async def test(shell: ShellLanguage) -> None:
        # 1,000,000 lines of 20 bytes.
        events = await collect(shell, "yes 0123456789abcdefghi | head -n 1000000")
        assert finished(events).status == "ok"
        assert len(text(events)) == 20_000_000
        assert len(events) < 5_000

    run_async(ShellLanguage(), test)


def test_shell_line_before_sleep_arrives_before_the_end() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await run_until_output(shell, "echo before; sleep 30; echo after", lambda out: "before" in out)
        assert finished(events).status == "interrupted"
        assert "after" not in text(events)

    run_async(ShellLanguage(), test)


def test_shell_interrupt_kills_background_jobs_too() -> None:
    code = 'for i in $(seq 20); do sleep 1000 & echo "pid $!"; done; sleep 1000'

    async def test(shell: ShellLanguage) -> None:
        events = await run_until_output(shell, code, lambda out: out.count("pid ") == 20)
        assert finished(events).status == "interrupted"
        # stderr may carry bash's own "line 1: ... Killed" notices: only the pid lines count.
        pids = [int(line.split()[1]) for line in text(events, "stdout").splitlines() if line.startswith("pid ")]
        assert len(pids) == 20
        assert wait_until(lambda: all(process_gone(pid) for pid in pids))

    run_async(ShellLanguage(), test)


def test_shell_code_that_ignores_sigint_is_killed() -> None:
    async def test(shell: ShellLanguage) -> None:
        events = await run_until_output(shell, "trap '' INT; echo stubborn; sleep 600", lambda out: "stub" in out)
        assert finished(events).status == "interrupted"
        assert finished(await collect(shell, "true")).status == "ok"

    run_async(ShellLanguage(), test)


def test_shell_leaving_the_iterator_kills_the_run() -> None:
    async def test(shell: ShellLanguage) -> None:
        pid = 0
        async for event in shell.run("sleep 1000 & echo $!; wait"):
            if isinstance(event, Output):
                pid = int(event.text)
                break
        assert pid
        assert await asyncio.to_thread(wait_until, lambda: process_gone(pid))
        assert finished(await collect(shell, "true")).status == "ok"

    run_async(ShellLanguage(), test)


def test_shell_background_job_of_a_finished_run_lives_until_close() -> None:
    pids: list[int] = []

    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, "sleep 1000 >/dev/null 2>&1 & echo $!")
        assert finished(events).status == "ok"
        pids.append(int(text(events)))
        assert not process_gone(pids[0])

    run_async(ShellLanguage(), test)
    assert wait_until(lambda: process_gone(pids[0]))


# --- Node.js ---------------------------------------------------------------------------------


@needs_node
def test_node_keeps_top_level_variables() -> None:
    async def test(node: NodeLanguage) -> None:
        code = "var a = 1; let b = 2; const c = 3; function f(x) { return x * 10 }\nconsole.log('defined')"
        events = await collect(node, code)
        assert finished(events).status == "ok"
        assert text(events) == "defined\n"
        events = await collect(node, "f(a + b + c)")
        assert text(events) == "60\n"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_awaits_promises_and_top_level_await() -> None:
    async def test(node: NodeLanguage) -> None:
        events = await collect(node, "new Promise((resolve) => setTimeout(() => resolve('later'), 20))")
        assert text(events) == "'later'\n"
        events = await collect(node, "const v = await Promise.resolve(41); console.log(v + 1)")
        assert finished(events).status == "ok"
        assert text(events) == "42\n"
        assert text(await collect(node, "v")) == "41\n"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_exception_is_stderr_and_error() -> None:
    async def test(node: NodeLanguage) -> None:
        events = await collect(node, "function boom() { throw new TypeError('bad thing') }\nboom()")
        done = finished(events)
        assert done.status == "error"
        assert done.message == "TypeError: bad thing"
        assert "TypeError: bad thing" in text(events, "stderr")
        assert "node_driver" not in text(events)
        assert finished(await collect(node, "1")).status == "ok"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_interrupt_of_a_busy_loop_keeps_the_session() -> None:
    async def test(node: NodeLanguage) -> None:
        await collect(node, "var kept = 'yes'")
        events = await run_until_output(node, "console.log('spin'); while (true) {}", lambda out: "spin" in out)
        assert finished(events).status == "interrupted"
        events = await collect(node, "console.log(kept)")
        assert text(events) == "yes\n"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_interrupted_flood_then_next_run_sees_only_its_own_output() -> None:
    async def test(node: NodeLanguage) -> None:
        events = await run_until_output(node, "while (true) console.log('flood')", lambda out: "flood" in out)
        assert finished(events).status == "interrupted"
        events = await collect(node, "console.log('clean')")
        assert finished(events).status == "ok"
        assert text(events) == "clean\n"
        events = await collect(node, "process.stdout.write('y'.repeat(5_000_000)); undefined")
        assert len(text(events)) == 5_000_000

    run_async(NodeLanguage(), test)


@needs_node
def test_node_interrupt_of_a_pending_promise() -> None:
    async def test(node: NodeLanguage) -> None:
        code = "console.log('waiting'); await new Promise(() => {})"
        events = await run_until_output(node, code, lambda out: "waiting" in out)
        assert finished(events).status == "interrupted"
        assert text(await collect(node, "1 + 1")) == "2\n"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_stuck_in_a_callback_gets_the_driver_restarted() -> None:
    async def test(node: NodeLanguage) -> None:
        await collect(node, "var lost = 1")
        # The event loop is blocked: the driver cannot even handle SIGINT, only SIGKILL helps.
        code = "setTimeout(() => { console.log('stuck'); while (true) {} }, 0); await new Promise(() => {})"
        events = await run_until_output(node, code, lambda out: "stuck" in out)
        done = finished(events)
        assert done.status == "interrupted"
        assert "variables are gone" in done.message
        assert finished(await collect(node, "lost")).status == "error"
        assert text(await collect(node, "'back'")) == "'back'\n"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_stdin_read_finishes_with_needs_input() -> None:
    async def test(node: NodeLanguage) -> None:
        code = "await new Promise((resolve) => process.stdin.once('data', resolve))"
        done = finished(await collect(node, code))
        assert done.status == "needs_input"
        # A later run must not look as if it were waiting for input.
        events = await collect(node, "await new Promise((r) => setTimeout(r, 300)); 'done'")
        assert finished(events).status == "ok"

    run_async(NodeLanguage(input_timeout=0.2), test)


@needs_node
def test_node_death_is_reported_and_the_driver_restarted() -> None:
    async def test(node: NodeLanguage) -> None:
        await collect(node, "var x = 1")
        done = finished(await collect(node, "process.kill(process.pid, 'SIGKILL')"))
        assert done.status == "died"
        assert "SIGKILL" in done.message and "variables are gone" in done.message
        assert finished(await collect(node, "x")).status == "error"

    run_async(NodeLanguage(), test)


@needs_node
def test_node_process_exit_ends_the_run_not_the_session() -> None:
    async def test(node: NodeLanguage) -> None:
        await collect(node, "var y = 5")
        done = finished(await collect(node, "process.exit(4)"))
        assert (done.status, done.exit_code) == ("error", 4)
        assert text(await collect(node, "y")) == "5\n"

    run_async(NodeLanguage(), test)


# --- Ruby ------------------------------------------------------------------------------------


@needs_ruby
def test_ruby_keeps_locals_and_methods() -> None:
    async def test(ruby: RubyLanguage) -> None:
        assert finished(await collect(ruby, "x = 20\ndef twice(n) = n * 2\nputs 'ok'")).status == "ok"
        events = await collect(ruby, "puts twice(x) + 2")
        assert text(events) == "42\n"

    run_async(RubyLanguage(), test)


@needs_ruby
def test_ruby_exception_is_stderr_and_error() -> None:
    async def test(ruby: RubyLanguage) -> None:
        events = await collect(ruby, "def fail_now\n  raise ArgumentError, 'nope'\nend\nfail_now")
        done = finished(events)
        assert done.status == "error"
        assert done.message == "ArgumentError: nope"
        assert "nope (ArgumentError)" in text(events, "stderr")
        assert "ruby_driver" not in text(events)

    run_async(RubyLanguage(), test)


@needs_ruby
def test_ruby_interrupt_keeps_the_session() -> None:
    async def test(ruby: RubyLanguage) -> None:
        await collect(ruby, "kept = :yes")
        events = await run_until_output(ruby, "puts 'spin'\nloop {}", lambda out: "spin" in out)
        assert finished(events).status == "interrupted"
        assert text(await collect(ruby, "puts kept")) == "yes\n"

    run_async(RubyLanguage(), test)


@needs_ruby
def test_ruby_gets_finishes_with_needs_input() -> None:
    async def test(ruby: RubyLanguage) -> None:
        await collect(ruby, "z = 1")
        done = finished(await collect(ruby, "name = gets"))
        assert done.status == "needs_input"
        assert text(await collect(ruby, "puts z")) == "1\n"

    run_async(RubyLanguage(input_timeout=0.3), test)


@needs_ruby
def test_ruby_unicode_and_invalid_bytes() -> None:
    async def test(ruby: RubyLanguage) -> None:
        events = await collect(ruby, 'puts "grüße ✓"\n$stdout.write("x\\xFFy\\n".b)\nnil')
        assert text(events) == "grüße ✓\nx\ufffdy\n"

    run_async(RubyLanguage(), test)


def test_a_run_gets_no_blocked_signals_from_the_thread_that_starts_it() -> None:
    # PortAudio blocks SIGPIPE in the thread that initialises it; a run must not inherit that:
    # `yes | head` ends quietly in a terminal ("Broken pipe" was printed once sounddevice was imported).
    async def test(shell: ShellLanguage) -> None:
        events = await collect(shell, "yes 0123456789abcdefghi | head -n 3; grep SigBlk /proc/self/status")
        assert finished(events).status == "ok"
        lines = text(events).splitlines()
        assert lines[:3] == ["0123456789abcdefghi"] * 3 and "Broken pipe" not in text(events), lines
        assert lines[3].split() == ["SigBlk:", "0000000000000000"], lines

    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
    try:
        run_async(ShellLanguage(), test)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
