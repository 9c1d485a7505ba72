"""Magic commands: lines starting with ``%`` in the terminal chat (Open Interpreter's set).

``%%`` runs a shell command directly (the user typed it, so it is not asked about).
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from oi_voice.cli import export
from oi_voice.frontend import messages
from oi_voice.frontend.approval import auto_run_warning
from oi_voice.frontend.runtime import setup_logging

if TYPE_CHECKING:
    from oi_voice.cli.terminal import TerminalChat

Handler = Callable[["TerminalChat", str], None]

HELP: dict[str, str] = {
    "%% <command>": "Run a command in the system shell.",
    "%verbose [true/false]": "Toggle verbose mode: with no argument or true, show detailed logs and the "
                             "current messages; false turns it off.",
    "%reset": "Start a new conversation.",
    "%undo": "Remove the last message you sent and everything after it.",
    "%undo-run": "Put the working folder back as it was before the last medium- or high-risk run.",
    "%tokens [prompt]": "Count the tokens the next request sends (the system message, the conversation "
                        "and the tool) and estimate its cost; with a prompt, count that too.",
    "%auto_run [true/false]": "Run code without asking (true), or ask again (false).",
    "%save_message [path]": "Save the messages to a JSON file (default messages.json).",
    "%load_message [path]": "Load messages from a JSON file (default messages.json).",
    "%markdown [path]": "Export the conversation to Markdown (default: your Downloads folder).",
    "%jupyter [path]": "Export the conversation to a Jupyter notebook (default: your Downloads folder).",
    "%reset_python": "Remove the Python environment code runs in, with every package installed into it, and "
                     "make it again (when Python runs in an environment of its own: computer.python_env).",
    "%info": "Show the settings, paths and versions in use.",
    "%help": "Show this help.",
}


def run_magic(chat: TerminalChat, line: str) -> None:
    """Run one magic command line (starting with ``%``)."""
    if line.startswith("%%"):
        shell(chat, line[2:].strip())
        return
    body = line[1:].strip()
    name, _, arguments = body.partition(" ")
    handler = COMMANDS.get(name.lower())
    if handler is None:
        names = sorted(COMMANDS)
        close = difflib.get_close_matches(name, names, n=1)
        hint = messages.message("did_you_mean", name=close[0]) if close else ""
        chat.display.error(messages.message("unknown_command", name=name, hint=hint))
        return
    handler(chat, arguments.strip())


def _flag(argument: str, chat: TerminalChat, command: str) -> bool | None:
    """``""``/true/on -> True, false/off -> False; None (and a message) otherwise."""
    word = argument.lower()
    if word in ("", "true", "on", "yes", "1"):
        return True
    if word in ("false", "off", "no", "0"):
        return False
    chat.display.error(messages.message("takes_true_false", command=command, argument=repr(argument)))
    return None


def help_(chat: TerminalChat, _arguments: str) -> None:
    """%help."""
    lines = ["**Magic commands**", ""]
    lines += [f"- `{cmd}`: {text}" for cmd, text in HELP.items()]
    lines += ["", "With `-ml`, a line starting with ``` begins a multi-line message that a ``` line ends.",
              "Ctrl-C stops the reply or the running code; at the prompt, Ctrl-C or Ctrl-D quits."]
    chat.display.markdown("\n".join(lines) + "\n")


def verbose(chat: TerminalChat, arguments: str) -> None:
    """%verbose [true/false]."""
    on = _flag(arguments, chat, "verbose")
    if on is None:
        return
    chat.owner.verbose = on
    setup_logging(on)
    if not on:
        chat.display.notice("Verbose mode off.")
        return
    chat.display.notice("Verbose mode on. Current messages:")
    for message in chat.owner.messages:
        shown = dict(message)
        if shown.get("type") == "image" and isinstance(shown.get("content"), str) and len(shown["content"]) > 80:
            shown["content"] = shown["content"][:30] + "..." + shown["content"][-30:]
        chat.display.line(json.dumps(shown, ensure_ascii=False))


def reset(chat: TerminalChat, _arguments: str) -> None:
    """%reset."""
    chat.owner.reset()
    chat.display.notice("Reset: a new conversation.")


def undo(chat: TerminalChat, _arguments: str) -> None:
    """%undo: drop the last user message and everything after it."""
    messages = chat.owner.messages
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
    if last_user is None:
        chat.display.notice("Nothing to undo.")
        return
    removed = messages[last_user:]
    del messages[last_user:]
    chat.owner.rewrite_history()
    for message in removed:
        content = message.get("content")
        preview = " ".join(str(content).split())[:40] if isinstance(content, str) else message.get("type")
        chat.display.notice(f"Removed {message.get('role')} {message.get('type')}: {preview}")


def tokens(chat: TerminalChat, prompt: str) -> None:
    """%tokens [prompt]: the next request's tokens, counted offline, and its estimated cost."""
    from oi_voice.core import lmc
    from oi_voice.core.context import count_text, count_tokens
    from oi_voice.core.loop import execute_tool
    from oi_voice.llm.catalog import model_info

    owner = chat.owner
    functions = owner.llm.resolved_functions()
    sent = lmc.to_openai(owner.messages, system=owner.system_prompt(functions), function_calling=functions,
                         vision=owner.llm.resolved_vision())
    context = count_tokens(sent)
    if functions:
        context += count_text(json.dumps(execute_tool(owner.computer.languages)))
    info = model_info(owner.llm.model)
    price = info.input_cost_per_token if info else None

    def cost(n: int) -> str:
        return "unknown" if price is None else f"${n * price:.6f}"

    lines = [f"Tokens sent with the next request as context: {context} (estimated cost: {cost(context)})"]
    if prompt:
        extra = count_tokens([{"role": "user", "content": prompt}])
        lines.append(f"Tokens in this prompt: {extra} (estimated cost: {cost(extra)})")
        lines.append(f"Total for the next request with this prompt: {context + extra} "
                     f"(estimated cost: {cost(context + extra)})")
    if price is None:
        lines.append(f"The model {owner.llm.model!r} has no price in litellm's price table.")
    for text in lines:
        chat.display.line(text)


def auto_run(chat: TerminalChat, arguments: str) -> None:
    """%auto_run [true/false]."""
    on = _flag(arguments, chat, "auto_run")
    if on is None:
        return
    chat.owner.auto_run = on
    if on:
        chat.display.warning(auto_run_warning(chat.owner.safe_mode))
    else:
        chat.display.notice("auto_run is off: you will be asked before code runs.")


def _json_path(argument: str) -> Path:
    name = argument or "messages.json"
    if not name.endswith(".json"):
        name += ".json"
    return Path(name).expanduser()


def save_message(chat: TerminalChat, argument: str) -> None:
    """%save_message [path]."""
    path = _json_path(argument)
    try:
        path.write_text(json.dumps(chat.owner.messages, indent=2, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        chat.display.error(f"Could not save the messages: {exc}")
        return
    chat.display.notice(f"Messages saved to {path.resolve()}")


def load_message(chat: TerminalChat, argument: str) -> None:
    """%load_message [path]."""
    path = _json_path(argument)
    try:
        messages = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        chat.display.error(f"Could not load messages from {path}: {exc}")
        return
    if not isinstance(messages, list) or not all(
            isinstance(m, dict) and "role" in m and "type" in m for m in messages):
        chat.display.error(f"{path} does not hold a list of messages (each with 'role' and 'type').")
        return
    chat.owner.messages = messages
    chat.display.notice(f"Loaded {len(messages)} messages from {path.resolve()}")


def _export_path(argument: str, suffix: str) -> Path:
    if argument:
        path = Path(argument).expanduser()
        return path if path.suffix else path.with_suffix(suffix)
    import platformdirs

    folder = Path(platformdirs.user_downloads_dir())
    if not folder.is_dir():
        folder = Path.cwd()
    return folder / (time.strftime("oi-conversation-%Y-%m-%d-%H%M%S") + suffix)


def markdown(chat: TerminalChat, argument: str) -> None:
    """%markdown [path]."""
    path = _export_path(argument, ".md")
    try:
        path.write_text(export.to_markdown(chat.owner.messages), encoding="utf-8")
    except OSError as exc:
        chat.display.error(f"Could not export: {exc}")
        return
    chat.display.notice(f"Markdown exported to {path.resolve()}")


def jupyter(chat: TerminalChat, argument: str) -> None:
    """%jupyter [path]: an .ipynb of the conversation, outputs included."""
    path = _export_path(argument, ".ipynb")
    try:
        path.write_text(json.dumps(export.to_notebook(chat.owner.messages), indent=1, ensure_ascii=False),
                        encoding="utf-8")
    except OSError as exc:
        chat.display.error(f"Could not export: {exc}")
        return
    chat.display.notice(f"Jupyter notebook exported to {path.resolve()}")


def info(chat: TerminalChat, _arguments: str) -> None:
    """%info."""
    import platform
    import sys

    import oi_voice
    from oi_voice.core.history import data_dir
    from oi_voice.profiles import profiles_dir

    owner, llm = chat.owner, chat.owner.llm
    profile = chat.profile
    python_env = owner.computer.impl.python_env
    rows: list[tuple[str, Any]] = [
        ("oi_voice", oi_voice.__version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("profile", getattr(profile, "path", None) or "(none)"),
        ("llm.model", llm.model), ("llm.api_base", llm.api_base or "(provider default)"),
        ("llm.api_key", "set" if llm.api_key else "(not set)"),
        ("llm.supports_functions", llm.resolved_functions()), ("llm.context_window, max_tokens",
                                                               llm.resolved_limits()),
        ("auto_run", owner.auto_run), ("safe_mode", owner.safe_mode), ("verbose", owner.verbose),
        ("languages", ", ".join(owner.computer.languages)),
        ("computer.python_env", f"{owner.computer.python_env} -> {python_env.path if python_env else sys.executable}"),
        ("conversation", owner.conversation_path or "(not saved yet)"),
        ("profiles folder", profiles_dir()), ("data folder", data_dir()),
    ]
    for key, value in rows:
        chat.display.line(f"{key}: {value}")
    configuration = getattr(chat, "configuration", None)
    if configuration is not None:
        chat.display.line("settings set by the profile, the environment or flags:")
        for line in configuration.describe():
            chat.display.line(f"  {line}")


def shell(chat: TerminalChat, command: str) -> None:
    """%% <command>: run it in the shell session and show its output."""
    if not command:
        chat.display.error(messages.message("shell_needs_command"))
        return
    from oi_voice.core.events import ImageOutput
    from oi_voice.frontend.runtime import sigint_deferred

    chunks = cast(Generator[dict[str, Any], None, None], chat.owner.computer.run("shell", command, stream=True))
    try:
        for chunk in chunks:
            if chunk.get("format") == "output":
                chat.display.write(str(chunk.get("content", "")))
            elif chunk.get("type") == "image":
                chat.display.render(ImageOutput(str(chunk.get("format")), str(chunk.get("content", ""))))
    except KeyboardInterrupt:
        chat.display.line("[stopped]", style="bold yellow")
    finally:
        with sigint_deferred():
            chunks.close()  # leaving early stops the command
    chat.display.close()


def undo_run(chat: TerminalChat, _arguments: str) -> None:
    """%undo-run: restore the working folder from the snapshot taken before the last risky run."""
    result = chat.owner.undo_run()
    if result.ok:
        chat.display.notice(result.message)
    else:
        chat.display.error(result.message)


def reset_python(chat: TerminalChat, _arguments: str) -> None:
    """%reset_python: remove the Python environment and make it again (Ctrl-C stops it)."""
    from oi_voice.errors import ComputerError

    environment = chat.owner.computer.impl.python_env
    if environment is not None:
        chat.display.notice(messages.message("python_reset", path=environment.path))
    try:
        made = chat.owner.computer.reset_python()
    except ComputerError as exc:
        chat.display.error(str(exc))
    except KeyboardInterrupt:  # the build was cancelled with it: the next run makes it again
        chat.display.line("[stopped]", style="bold yellow")
    else:
        chat.display.notice(messages.message("python_reset_done", path=made.path))


COMMANDS: dict[str, Handler] = {
    "help": help_,
    "verbose": verbose,
    "reset": reset,
    "undo": undo,
    "undo-run": undo_run,
    "undo_run": undo_run,
    "tokens": tokens,
    "auto_run": auto_run,
    "save_message": save_message,
    "load_message": load_message,
    "markdown": markdown,
    "jupyter": jupyter,
    "info": info,
    "reset_python": reset_python,
    "reset-python": reset_python,
}
