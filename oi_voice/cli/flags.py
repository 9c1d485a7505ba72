"""``oi``'s command-line flags: Open Interpreter 0.4.3's names, long and short.

Only ``argparse`` is imported here: ``oi --help`` and ``oi --version`` must not pay for
the engine, rich or litellm.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

#: ``--reset_profile`` was not given (``None`` means "given without a name": reset all).
NOT_GIVEN = "\0not-given"


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag; ``path`` is the Interpreter setting it sets, if any."""

    names: tuple[str, ...]
    dest: str
    help: str
    path: str | None = None
    type: Any = None  # None: a boolean switch
    choices: tuple[str, ...] | None = None
    negatable: bool = False
    metavar: str | None = None


FLAGS: tuple[Flag, ...] = (
    Flag(("-m", "--model"), "model", "language model to use", "llm.model", str, metavar="MODEL"),
    Flag(("-ab", "--api_base"), "api_base", "API base URL of an OpenAI-compatible server "
         "(Ollama, LM Studio, llama.cpp ...); overrides the environment", "llm.api_base", str, metavar="URL"),
    Flag(("-ak", "--api_key"), "api_key", "API key for the model (overrides the environment)",
         "llm.api_key", str, metavar="KEY"),
    Flag(("-av", "--api_version"), "api_version", "API version for the model (Azure)", "llm.api_version", str,
         metavar="VERSION"),
    Flag(("-cw", "--context_window"), "context_window", "context window of the model, in tokens",
         "llm.context_window", int, metavar="TOKENS"),
    Flag(("-x", "--max_tokens"), "max_tokens", "maximum tokens of one reply", "llm.max_tokens", int,
         metavar="TOKENS"),
    Flag(("-t", "--temperature"), "temperature", "sampling temperature", "llm.temperature", float,
         metavar="T"),
    Flag(("-lsf", "--llm_supports_functions"), "llm_supports_functions",
         "the model supports OpenAI-style function calls (--no-llm_supports_functions: use markdown "
         "code blocks)", "llm.supports_functions", negatable=True),
    Flag(("-lsv", "--llm_supports_vision"), "llm_supports_vision", "the model can see images",
         "llm.supports_vision", negatable=True),
    Flag(("-y", "--auto_run"), "auto_run", "run generated code without asking (prints a warning)",
         "auto_run"),
    Flag(("-safe", "--safe_mode"), "safe_mode", "off, ask or auto: with auto_run, high-risk code still "
         "asks unless this is off", "safe_mode", str, choices=("off", "ask", "auto")),
    Flag(("-sm", "--system_message"), "system_message", "(we don't recommend changing this) base prompt "
         "for the language model", "system_message", str, metavar="TEXT"),
    Flag(("-ci", "--custom_instructions"), "custom_instructions", "custom instructions, appended to the "
         "system message", "custom_instructions", str, metavar="TEXT"),
    Flag(("-xo", "--max_output"), "max_output", "maximum characters of code output the model sees",
         "max_output", int, metavar="CHARS"),
    Flag(("-v", "--verbose"), "verbose", "print detailed logs", "verbose"),
    # Open Interpreter's switch for its update check and telemetry: oi_voice has neither (nor
    # any online feature besides the model), so there is nothing to switch off.
    Flag(("-o", "--offline"), "offline", "accepted for Open Interpreter compatibility: nothing but the model "
         "goes online anyway"),
    Flag(("-p", "--profile"), "profile", "profile to use: a name in the profiles folder or a path "
         "(default: default)", type=str, metavar="NAME|PATH"),
    Flag(("-l", "--local"), "local", "use the embedded local model (shortcut for --profile local)"),
    Flag(("-lm", "--local-model"), "local_model", "with --local: serve this GGUF file instead of the "
         "bundled coder model", "llm.local_model", str, metavar="PATH"),
    Flag(("-f", "--fast"), "fast", "use a small, quick model (shortcut for --profile fast)"),
    Flag(("-pl", "--plain"), "plain", "plain text output: no colour, no cursor movement"),
    Flag(("-ml", "--multi_line"), "multi_line", "multi-line messages between lines of ```"),
    Flag(("-s", "--stdin"), "stdin", "read one message from standard input, answer it and exit"),
    Flag(("--profiles",), "profiles", "open the profiles folder (prints its path)"),
    Flag(("--reset_profile",), "reset_profile", "restore a bundled profile (all of them without a name)",
         type=str, metavar="NAME"),
    Flag(("--conversations",), "conversations", "list saved conversations and resume one"),
    Flag(("--server",), "server", "serve oi_voice over HTTP instead of chatting"),
    Flag(("--host",), "host", "address for --server (default 127.0.0.1)", type=str, metavar="HOST"),
    Flag(("--port",), "port", "port for --server (default 8000)", type=int, metavar="PORT"),
    Flag(("--token",), "token", "bearer token --server requires (or OI_VOICE_TOKEN)", type=str,
         metavar="TOKEN"),
    Flag(("--version",), "version", "print oi_voice's version and exit"),
)

EPILOG = """\
examples:
  oi                          chat in the terminal
  oi "list the files here"    answer one message and exit (non-zero on error)
  oi -y -m gpt-4o-mini        run code without asking, with another model
  oi -ab http://localhost:11434/v1 -m llama3.1
  echo "what day is it?" | oi -s

in the chat: %help lists the magic commands (%reset, %undo, %tokens, %% <shell> ...);
with -ml, a line starting with ``` begins a multi-line message that a ``` line ends.
Ctrl-C stops the reply or the running code; at the prompt it exits.
"""


class Parser(argparse.ArgumentParser):
    """argparse with a suggestion for a mistyped flag."""

    def error(self, message: str) -> NoReturn:
        """Print usage and the error (with "did you mean" for unknown flags) and exit 2."""
        if message.startswith("unrecognized arguments:"):
            import difflib

            known = [s for action in self._actions for s in action.option_strings]
            hints = []
            for word in message.split(":", 1)[1].split():
                if word.startswith("-"):
                    close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
                    if close:
                        hints.append(f"did you mean {close[0]} (for {word})?")
            if hints:
                message += "; " + "; ".join(hints)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    """The argument parser of ``oi``."""
    parser = Parser(prog="oi", description="oi_voice: a language model that runs code on your computer, "
                    "with you in control. Flags follow Open Interpreter's.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    for flag in FLAGS:
        kwargs: dict[str, Any] = {"dest": flag.dest, "help": flag.help}
        if flag.dest == "reset_profile":
            kwargs.update(nargs="?", default=NOT_GIVEN, const=None, type=str, metavar=flag.metavar)
        elif flag.type is None:
            kwargs.update(default=None, action=argparse.BooleanOptionalAction if flag.negatable
                          else "store_true")
            if not flag.negatable:
                kwargs["default"] = None  # None: not given, so a profile's value stands
        else:
            kwargs.update(type=flag.type, default=None, choices=flag.choices, metavar=flag.metavar)
        parser.add_argument(*flag.names, **kwargs)
    parser.add_argument("message", nargs="*", help="a message to answer before exiting")
    return parser


def flag_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The Interpreter settings the given flags set, by attribute path, in flag order."""
    return {flag.path: getattr(args, flag.dest) for flag in FLAGS
            if flag.path is not None and getattr(args, flag.dest) is not None}
