"""``oi``'s flags, one-shot messages and exit codes, run as a user runs them."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import urllib.request
from pathlib import Path

import pexpect
from scripted_llm import ScriptedLLM, endless, status, text, tool_call
from test_cli_harness import OI, OIRunner, finish, oi_fixture, quit_chat, screen  # noqa: F401  (the oi fixture)

#: Every flag of Open Interpreter 0.4.3 that ``oi`` takes, short and long.
OPEN_INTERPRETER_FLAGS = [
    "-m", "--model", "-ab", "--api_base", "-ak", "--api_key", "-av", "--api_version", "-cw", "--context_window",
    "-x", "--max_tokens", "-t", "--temperature", "-y", "--auto_run", "-v", "--verbose", "-o", "--offline",
    "-l", "--local", "-p", "--profile", "--profiles", "-sm", "--system_message", "-ci", "--custom_instructions",
    "-xo", "--max_output", "-lsf", "--llm_supports_functions", "--no-llm_supports_functions", "-s", "--stdin",
    "--conversations", "--server", "--version", "-pl", "--plain", "-ml", "--multi_line", "-safe", "--safe_mode",
]


def imported_modules(stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_version_and_help_import_no_engine_and_list_every_flag(oi: OIRunner) -> None:
    heavy = ("oi_voice.core", "litellm", "rich", "httpx", "jupyter_client")
    for flag in ("--version", "--help"):
        result = subprocess.run([OI[0], "-X", "importtime", *OI[1:], flag], capture_output=True,
                                text=True, env=oi.environment(), timeout=30)
        assert result.returncode == 0, result.stderr
        loaded = imported_modules(result.stderr)
        assert not [m for m in loaded if m.startswith(heavy)], flag
    version = oi.run("--version", lsf=False)
    assert re.fullmatch(r"oi_voice \d+\.\d+\.\d+\S*\n", version.stdout)
    help_text = oi.run("--help", lsf=False).stdout
    for flag in OPEN_INTERPRETER_FLAGS:
        assert re.search(rf"(^|[\s\[|,]){re.escape(flag)}([\s\],|=]|$)", help_text, re.M), flag


def test_an_unknown_flag_is_an_error_with_a_suggestion(oi: OIRunner) -> None:
    result = oi.run("--modle", "gpt-4o", "hi")
    assert result.returncode == 2
    assert "unrecognized arguments: --modle" in result.stderr
    assert "did you mean --model" in result.stderr
    assert oi.server.requests == []


def test_one_shot_answers_and_exits_zero(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("Hello from the **model**."))
    result = oi.run("say", "hello")  # words after the flags form the message, as in Open Interpreter
    assert result.returncode == 0, result.stderr
    assert "Hello from the **model**." in result.stdout
    assert "\x1b" not in result.stdout  # not a terminal: no colour, no cursor movement
    sent = llm_server.requests[0]
    assert sent["messages"][-1] == {"role": "user", "content": "say hello"}
    assert sent["model"] == "scripted-model" and sent["tools"][0]["function"]["name"] == "execute"


def test_one_shot_exits_non_zero_when_the_model_fails(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(status(401, "invalid key"))
    result = oi.run("hello")
    assert result.returncode == 1
    # Errors go to stderr (issue 17): the answer on stdout stays clean for a pipe.
    assert "Error:" in result.stderr and "401" in result.stderr and "Error" not in result.stdout


def test_local_model_flag_names_a_missing_file_clearly(oi: OIRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    result = oi.run("--local", "--local-model", str(missing), "hello")
    assert result.returncode == 1
    assert f"local model file not found: {missing}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_model_flags_reach_the_request(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    other = ScriptedLLM().start()
    try:
        other.add(text("from the other server"))
        result = oi.run("-ab", other.url, "-m", "flag-model", "-ak", "sk-flag", "-t", "0.25", "-x", "123",
                        "-cw", "5000", "-sm", "SYSTEM FROM FLAG.", "-ci", "CUSTOM FROM FLAG.", "-av", "2024-06-01",
                        "-v", "hi")
    finally:
        other.stop()
    assert result.returncode == 0, result.stderr
    assert llm_server.requests == []  # --api_base outranks OI_VOICE_API_BASE
    sent = other.requests[0]
    assert sent["model"] == "flag-model" and sent["temperature"] == 0.25 and sent["max_tokens"] == 123
    assert other.headers[0]["Authorization"] == "Bearer sk-flag"
    system = sent["messages"][0]["content"]
    assert system.startswith("SYSTEM FROM FLAG.") and "CUSTOM FROM FLAG." in system
    # -v reports where every setting came from.
    assert "Setting llm.api_version = '2024-06-01' (flag)" in result.stderr
    assert "Setting llm.context_window = 5000 (flag)" in result.stderr
    assert "Setting llm.api_key = '***' (flag)" in result.stderr  # never printed


def test_llm_supports_functions_and_its_no_form(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("ok"), text("ok"))
    assert oi.run("-lsf", "first").returncode == 0
    assert oi.run("--no-llm_supports_functions", "second", lsf=False).returncode == 0
    with_tools, without = llm_server.requests
    assert with_tools["tools"][0]["function"]["name"] == "execute"
    assert "tools" not in without
    assert "markdown code block" in without["messages"][0]["content"]


def test_auto_run_runs_without_asking_and_warns(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo auto-ran"), text("Done."))
    result = oi.run("-y", "run it")
    assert result.returncode == 0, result.stderr
    assert "auto-ran" in result.stdout and "Done." in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "auto_run" in line]
    assert len(warnings) == 1 and "without asking" in warnings[0]
    tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert tool["content"] == "auto-ran\n"


def test_without_a_terminal_nothing_runs_unapproved(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    marker = oi.tmp / "ran.txt"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("Not run, fine."))
    result = oi.run("touch the file")
    assert result.returncode == 0
    assert not marker.exists()
    assert "end of input" in result.stdout
    tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert tool["content"].startswith("The user declined to run this code")


def test_safe_mode_keeps_asking_for_high_risk_code_with_auto_run(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "rm -rf ./build"), text("Kept it."))
    child = oi.spawn("-y", "-safe", "ask", "clean the build")
    child.expect("safe_mode ask: high-risk code still asks")
    child.expect(r"Would you like to run this code\? \(y/n/e\)")
    child.sendline("n")
    child.expect("Reason")
    child.sendline("")
    child.expect("Kept it.")
    assert finish(child) == 0
    tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert tool["content"] == "The user declined to run this code."


def test_max_output_limits_what_the_model_sees(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    code = "printf HEAD; head -c 5000 /dev/zero | tr '\\0' x; printf TAIL"
    llm_server.add(tool_call("shell", code), text("long"))
    result = oi.run("-y", "-xo", "400", "print a lot")
    assert result.returncode == 0, result.stderr
    tool = next(m for m in llm_server.requests[1]["messages"] if m["role"] == "tool")
    assert tool["content"].startswith("HEAD") and tool["content"].endswith("TAIL")
    assert "characters omitted" in tool["content"] and len(tool["content"]) < 800


def test_stdin_mode_sends_what_was_piped(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("piped answer"), text("implicit answer"))
    result = oi.run("-s", input="first line\nsecond line\n")
    assert result.returncode == 0, result.stderr
    assert "piped answer" in result.stdout
    assert llm_server.requests[0]["messages"][-1]["content"] == "first line\nsecond line"
    # A pipe with no flag at all is stdin mode too (there is no one to chat with).
    result = oi.run(input="without the flag")
    assert result.returncode == 0 and "implicit answer" in result.stdout
    assert llm_server.requests[1]["messages"][-1]["content"] == "without the flag"
    empty = oi.run("--stdin", input="")
    assert empty.returncode == 2 and "standard input was empty" in empty.stderr


def test_stdin_mode_in_a_terminal_reads_one_line(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(text("one line answered"))
    child = oi.spawn("--stdin")
    child.sendline("a typed line")
    child.expect("one line answered")
    assert finish(child) == 0
    assert llm_server.requests[0]["messages"][-1]["content"] == "a typed line"


def test_offline_and_verbose(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    # -o is Open Interpreter's; oi_voice has nothing online to turn off, so it sets nothing.
    llm_server.add(text("quiet"))
    result = oi.run("-o", "-v", "hello")
    assert result.returncode == 0 and "quiet" in result.stdout
    assert "Setting offline" not in result.stderr
    assert "Setting verbose = True (flag)" in result.stderr
    assert "Setting llm.model = 'scripted-model' (environment)" in result.stderr


def test_local_selects_the_embedded_model(oi: OIRunner) -> None:
    # Only look: the first message would start the embedded model.
    child = oi.spawn("-l", "-v")
    child.expect(r"Setting llm.model = 'local' \(flag -l\)")
    child.expect("> ")
    child.sendline("%info")
    # pexpect compiles with DOTALL: ".*" would run on to the last "local.yaml" in the output
    # (the settings' sources at the end of %info) and skip the lines in between.
    child.expect(r"profile: [^\r\n]*local\.yaml")
    child.expect("llm.model: local")
    assert quit_chat(child) == 0


def test_profiles_prints_the_folder_without_an_opener(oi: OIRunner) -> None:
    result = oi.run("--profiles")
    assert result.returncode == 0 and result.stdout.strip() == str(oi.profiles_dir)
    (oi.profiles_dir / "fast.yaml").write_text("llm.model: edited\n")
    restored = oi.run("--reset_profile", "fast")
    assert restored.returncode == 0 and "Restored" in restored.stdout
    assert "gpt-4o-mini" in (oi.profiles_dir / "fast.yaml").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_serves_until_ctrl_c(oi: OIRunner) -> None:
    port = _free_port()
    child = oi.spawn("--server", "--host", "127.0.0.1", "--port", str(port), "--token", "tok-123")
    child.expect(f"127.0.0.1:{port}")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/history",
                                     headers={"Authorization": "Bearer tok-123"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) in ([], {"messages": []})
    child.sendintr()
    assert finish(child) == 0


def test_plain_flag_in_a_terminal_prints_no_escape_codes(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("shell", "echo plain-out"), text("A **bold** claim."))
    child = oi.spawn("show me")
    child.expect(r"\(y/n/e\)")
    child.sendline("y")
    child.expect("A \\*\\*bold\\*\\* claim.")
    assert finish(child) == 0
    shown = screen(child)
    assert "```shell" in shown and "plain-out" in shown
    assert "\x1b" not in shown


def test_a_settings_error_exits_2(oi: OIRunner, tmp_path: Path) -> None:
    result = oi.run("-t", "hot", "hi")
    assert result.returncode == 2 and "invalid float value: 'hot'" in result.stderr
    result = oi.run("-safe", "sometimes", "hi")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_ctrl_c_ends_a_one_shot_with_130(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    llm_server.add(endless("la "))
    child = oi.spawn("sing")
    child.expect("la la ")
    child.sendintr()
    child.expect(r"\[stopped\]")
    assert finish(child) == 130
    llm_server.add(tool_call("shell", "echo one-shot-run; sleep 60"))
    child = oi.spawn("-y", "run")
    child.expect("one-shot-run\r\n")
    child.sendintr()
    assert finish(child) == 130


def test_piped_message_asks_for_approval_on_the_terminal(oi: OIRunner, llm_server: ScriptedLLM) -> None:
    marker = oi.tmp / "approved-on-tty"
    llm_server.add(tool_call("shell", f"touch {marker}"), text("Touched."))
    child = pexpect.spawn("/bin/sh", ["-c", f"echo 'touch the file' | {' '.join(OI)} -lsf"], env=oi.environment(),
                          encoding="utf-8", timeout=30, cwd=str(oi.tmp))
    oi.children.append(child)
    child.logfile_read = io.StringIO()
    child.expect(r"\(y/n/e\)")
    child.sendline("y")
    child.expect("Touched.")
    assert finish(child) == 0
    assert marker.exists()
    assert llm_server.requests[0]["messages"][-1]["content"] == "touch the file"


def test_error_lines_follow_the_locale(oi: OIRunner) -> None:
    # A broken profile, an unknown magic command and a bad %auto_run value, in Chinese and Korean.
    broken = oi.tmp / "broken.yaml"
    broken.write_text("llm:\n  temperature: hot\n")
    for locale, profile_error, unknown, needs in (
            ("zh_CN.UTF-8", "配置文件错误：", "错误：未知命令 %nope。", "只接受 true 或 false"),
            ("ko_KR.UTF-8", "프로필 오류: ", "오류: 알 수 없는 명령 %nope입니다.", "true 또는 false만")):
        result = oi.run("-p", str(broken), env={"LC_ALL": locale})
        assert result.returncode == 2 and profile_error in result.stderr and "temperature" in result.stderr
        child = oi.spawn(env={"LC_ALL": locale})
        child.expect("> ")
        child.sendline("%nope")
        child.expect(re.escape(unknown))
        child.sendline("%auto_run maybe")
        child.expect(needs)
        assert quit_chat(child) == 0
    english = oi.run("-p", str(broken), env={"LC_ALL": "en_US.UTF-8"})
    assert "profile error: " in english.stderr
