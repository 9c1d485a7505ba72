"""``oi``: the terminal chat of oi_voice, flag-for-flag compatible with Open Interpreter.

Start-up order matters: the flags are parsed with nothing but argparse, so ``oi --help``
and ``oi --version`` never import the engine, rich or litellm. Settings are then applied
lowest first (built-in defaults < profile < environment < flags), and only then is any
safety decision made (the auto_run warning, the approval mode).

Exit codes: 0 success; 1 the model or a loop guard failed the one-shot message;
2 a usage, profile or settings error; 130 stopped with Ctrl-C.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from oi_voice.frontend.runtime import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, exit_code_of

if TYPE_CHECKING:
    import argparse

    from oi_voice.cli.display import TerminalDisplay
    from oi_voice.cli.reader import LineReader
    from oi_voice.core.interpreter import Interpreter

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run ``oi`` with ``argv`` (default: the command line); returns the exit code."""
    from oi_voice.cli.flags import NOT_GIVEN, build_parser

    args = build_parser().parse_intermixed_args(argv)
    if args.version:
        from oi_voice import __version__

        print(f"oi_voice {__version__}")
        return EXIT_OK
    if args.profiles:
        return exit_code_of(_open_profiles)
    if args.reset_profile != NOT_GIVEN:
        return exit_code_of(lambda: _reset_profile(args.reset_profile))
    return exit_code_of(lambda: _run(args))


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"oi: {message}", file=sys.stderr)
    return code


def _open_profiles() -> int:
    from oi_voice.profiles import ensure_user_profiles, open_folder

    folder = ensure_user_profiles()
    if open_folder(folder):
        print(f"Opening {folder}")
    else:
        print(folder)
    return EXIT_OK


def _reset_profile(name: str | None) -> int:
    from oi_voice.profiles import ProfileError, reset_profile

    try:
        written = reset_profile(name)
    except (ProfileError, OSError) as exc:
        return _fail(str(exc))
    for path in written:
        print(f"Restored {path}")
    return EXIT_OK


def _check_local(owner: Interpreter) -> str | None:
    """An error message if the embedded local model is wanted but not part of this install.

    When it is, the engine starts it on the first turn (``llm.model == "local"``).
    """
    if owner.llm.model != "local":
        return None
    import importlib.util

    if importlib.util.find_spec("oi_voice.llm.local") is None:
        return ("the local model is not installed yet; use --api_base URL (any OpenAI-compatible server, "
                "e.g. Ollama) or --model NAME instead")
    return None


def _key_hint(owner: Interpreter) -> str | None:
    """A hint when a hosted OpenAI model will be asked with no key at all."""
    import os

    from oi_voice.llm.catalog import model_info

    llm = owner.llm
    if llm.api_base or llm.api_key or os.environ.get("OPENAI_API_KEY"):
        return None
    info = model_info(llm.model)
    if info is None or info.provider != "openai":
        return None
    return (f"No API key for {llm.model}: set OPENAI_API_KEY or pass --api_key, or use --api_base for a "
            "local server (Ollama, LM Studio, llama.cpp).")


def _run(args: argparse.Namespace) -> int:
    from oi_voice.cli.reader import is_plain
    from oi_voice.errors import ConfigError
    from oi_voice.frontend import messages
    from oi_voice.frontend.config import configure
    from oi_voice.frontend.runtime import setup_logging
    from oi_voice.profiles import ProfileError

    try:
        config = configure(args, "oi")
    except ProfileError as exc:
        return _fail(messages.message("profile_error", text=exc))
    except ConfigError as exc:
        return _fail(messages.message("settings_error", text=exc))
    owner, profile = config.interpreter, config.profile

    message = " ".join(args.message).strip()
    stdin_mode = bool(args.stdin) or (not message and not args.server and not args.conversations
                                      and not sys.stdin.isatty())
    plain = bool(config.terminal.get("plain_text_display") or stdin_mode or is_plain(sys.stdout))

    import oi_voice

    if owner.verbose:
        setup_logging(True)
        for line in config.describe():
            print(f"Setting {line}", file=sys.stderr)
    problem = _check_local(owner)
    if problem:
        return _fail(problem)

    if args.server:
        return _serve(args, owner)
    interactive = not message and not stdin_mode
    from oi_voice.cli.terminal import TerminalChat
    from oi_voice.frontend.approval import auto_run_warning

    if interactive:
        chat = TerminalChat(owner, plain=plain, profile=profile, multi_line=bool(config.terminal.get("multi_line")),
                            configuration=config)
        if args.conversations and not _resume(chat):
            return EXIT_OK
        if owner.auto_run:
            chat.display.warning(auto_run_warning(owner.safe_mode))
        if (hint := _key_hint(owner)) is not None:
            chat.display.warning(hint)
        chat.display.notice(f"oi_voice {oi_voice.__version__} with {owner.llm.model}"
                            f"{' at ' + owner.llm.api_base if owner.llm.api_base else ''}. "
                            "%help lists commands; Ctrl-C stops a reply, Ctrl-D quits.")
        chat.loop()
        return EXIT_OK

    if owner.auto_run:
        print(auto_run_warning(owner.safe_mode), file=sys.stderr)
    if (hint := _key_hint(owner)) is not None:
        print(hint, file=sys.stderr)
    if stdin_mode and not message:
        message = _read_stdin()
        if not message:
            return _fail(messages.message("empty_stdin"))
    return _one_shot(owner, message, plain)


def _read_stdin() -> str:
    """The message on standard input: one line from a terminal, everything from a pipe."""
    if sys.stdin.isatty():
        try:
            return input().strip()
        except EOFError:
            return ""
    return sys.stdin.read().strip()


def _one_shot(owner: Interpreter, message: str, plain: bool) -> int:
    from oi_voice.cli.display import TerminalDisplay
    from oi_voice.cli.reader import LineReader, set_default_reader
    from oi_voice.cli.terminal import run_turn

    reader = LineReader(plain=plain)
    set_default_reader(reader)
    display = TerminalDisplay(owner, plain=plain, reader=reader.answer)
    result = run_turn(owner, message, display)
    owner.flush()
    if result.stopped:
        return EXIT_INTERRUPTED
    if result.config_error:
        return EXIT_USAGE
    return EXIT_FAILED if result.errors else EXIT_OK


def _serve(args: argparse.Namespace, owner: Interpreter) -> int:
    from oi_voice.errors import ConfigError

    # The server prints its address and, with auto_run, its own warning.
    options: dict[str, Any] = {"token": args.token} if args.token else {}
    try:
        owner.server(host=args.host or "127.0.0.1", port=args.port or 8000, **options)
    except ImportError as exc:
        return _fail(f"the HTTP server is not installed (pip install 'oi-voice[server]'): {exc}")
    except ConfigError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _resume(chat: Any) -> bool:
    """``--conversations``: list saved conversations, load the one picked; False if none was."""
    import time

    from oi_voice.core.history import list_conversations

    display: TerminalDisplay = chat.display
    reader: LineReader = chat.reader
    infos = list_conversations()[:30]
    if not infos:
        display.line("No saved conversations yet.")
        return False
    display.line("Saved conversations, newest first:")
    for n, info in enumerate(infos, 1):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
        display.line(f"  {n}. {when}  {info.title}  ({info.messages} messages)")
    while True:
        answer = reader.answer("Resume which conversation? (number, Enter to cancel) ")
        if answer is None or not answer.strip():
            return False
        if answer.strip().isdigit() and 1 <= int(answer) <= len(infos):
            break
        display.line(f"Please type a number from 1 to {len(infos)}.")
    chosen = infos[int(answer) - 1]
    chat.owner.load_conversation(chosen.path)
    display.notice(f"Resuming {chosen.title!r} ({chosen.path})")
    display.replay(chat.owner.messages)
    return True
