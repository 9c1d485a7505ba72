"""``oi``'s command-line flags: Open Interpreter 0.4.3's names, long and short.

The flags that set a setting come from :data:`oi_voice.settings.SCHEMA`; the profile
flags from :mod:`oi_voice.frontend.config`; the few that are commands (``--version``,
``--server`` ...) are listed here. Only ``argparse`` is imported: ``oi --help`` and
``oi --version`` must not pay for the engine, rich or litellm.
"""

from __future__ import annotations

import argparse
from typing import Any

from oi_voice.frontend.config import Parser, add_profile_flags, add_setting_flags
from oi_voice.frontend.config import flag_settings as _flag_settings
from oi_voice.settings import SCHEMA, Schema

#: ``--reset_profile`` was not given (``None`` means "given without a name": reset all).
NOT_GIVEN = "\0not-given"

#: Flags that are commands or options of ``oi`` itself, not settings: (names, dest, help, type, metavar).
COMMAND_FLAGS: tuple[tuple[tuple[str, ...], str, str, Any, str | None], ...] = (
    (("-s", "--stdin"), "stdin", "read one message from standard input, answer it and exit", None, None),
    (("--profiles",), "profiles", "open the profiles folder (prints its path)", None, None),
    (("--reset_profile",), "reset_profile", "restore a bundled profile (all of them without a name)", str, "NAME"),
    (("--conversations",), "conversations", "list saved conversations and resume one", None, None),
    (("--server",), "server", "serve oi_voice over HTTP instead of chatting", None, None),
    (("--host",), "host", "address for --server (default 127.0.0.1)", str, "HOST"),
    (("--port",), "port", "port for --server (default 8000)", int, "PORT"),
    (("--token",), "token", "bearer token --server requires (or OI_VOICE_TOKEN)", str, "TOKEN"),
    (("--version",), "version", "print oi_voice's version and exit", None, None),
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


def build_parser(schema: Schema = SCHEMA) -> Parser:
    """The argument parser of ``oi``: every setting's flag, the profile flags, the commands."""
    parser = Parser(prog="oi", description="oi_voice: a language model that runs code on your computer, "
                    "with you in control. Flags follow Open Interpreter's.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    add_setting_flags(parser, "oi", schema)
    add_profile_flags(parser)
    for names, dest, help_, type_, metavar in COMMAND_FLAGS:
        if dest == "reset_profile":
            parser.add_argument(*names, dest=dest, help=help_, nargs="?", default=NOT_GIVEN, const=None,
                                type=str, metavar=metavar)
        elif type_ is None:
            parser.add_argument(*names, dest=dest, help=help_, action="store_true", default=None)
        else:
            parser.add_argument(*names, dest=dest, help=help_, type=type_, metavar=metavar, default=None)
    parser.add_argument("message", nargs="*", help="a message to answer before exiting")
    return parser


def flag_settings(args: argparse.Namespace, schema: Schema = SCHEMA) -> dict[str, Any]:
    """The settings the given flags set, by key."""
    return _flag_settings(args, "oi", schema)
