"""What code does to files, read from the code itself: the structured half of risk.py.

Each language has a reader that says, as :class:`Finding`\\ s, which effects it saw:
files deleted (always high), files overwritten, emptied, appended to, moved or whose
permissions change (medium, and only when the file already exists: creating a new
file is low), git history rewritten (high), and code that runs other code (``bash -c``,
``python -c``, ``subprocess``, ``eval``), which is read in turn and rated by what it
runs. What cannot be read (a command it does not know, a path or a command built at
run time, code that does not parse) is medium, never low.

- shell: a real tokenizer (:mod:`shlex` with punctuation characters), so ``echo "rm x"``
  is an ``echo`` and ``rm -- "my file"`` is a delete; here-documents, ``$( )`` and
  back-quotes are read as the commands they are.
- Python: :mod:`ast`, with import aliases resolved (``from os import remove as r``).
- JavaScript and Ruby: call patterns over the code without its comments.

Paths are looked up in the working folder at rating time, which is just before the
run: "overwrites notes.txt" is said only about a notes.txt that exists.
"""

from __future__ import annotations

import ast
import glob
import itertools
import os
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from oi_voice.settings import QT_TRANSLATE_NOOP

Level = Literal["low", "medium", "high"]

#: Kinds of medium effect; the user may let "Always for this session" cover some of them.
#: (Their words are marked for the desktop app's translations: the settings dialog shows them.)
KINDS: Final[dict[str, str]] = {
    "writes_files": QT_TRANSLATE_NOOP("risk", "changes or overwrites files in the working folder"),
    "outside_folder": QT_TRANSLATE_NOOP("risk", "changes files outside the working folder"),
    "network": QT_TRANSLATE_NOOP("risk", "uses the network"),
    "installs": QT_TRANSLATE_NOOP("risk", "installs packages"),
    "stops_programs": QT_TRANSLATE_NOOP("risk", "stops other programs"),
    "permissions": QT_TRANSLATE_NOOP("risk", "changes file permissions"),
    "git": QT_TRANSLATE_NOOP("risk", "changes a git repository"),
    "unchecked": QT_TRANSLATE_NOOP("risk", "runs code or commands the rater cannot check"),
    "system": QT_TRANSLATE_NOOP("risk", "changes system settings or reads secrets"),
}


@dataclass(frozen=True)
class Finding:
    """One effect seen in the code."""

    level: Level
    reason: str
    #: Within a group only the highest level's reason is kept ("delete": recursive beats plain).
    group: str = ""
    #: One of KINDS (for medium findings).
    kind: str = ""


Recurse = Callable[[str, str, int], list[Finding]]
"""Rates code in another language (language, code, depth) -- the full rater of risk.py."""

MAX_DEPTH: Final = 6
_MAX_SCRIPT_BYTES: Final = 1_000_000


def _high(reason: str, group: str = "") -> Finding:
    return Finding("high", reason, group, "delete" if group == "delete" else "")


def _medium(reason: str, kind: str) -> Finding:
    return Finding("medium", reason, "", kind)


DELETES: Final = "deletes files"
DELETES_RECURSIVELY: Final = "deletes files recursively"


def _deletes(recursive: bool = False) -> Finding:
    return _high(DELETES_RECURSIVELY if recursive else DELETES, "delete")


def _unchecked(what: str) -> Finding:
    return _medium(what, "unchecked")


# --- paths ----------------------------------------------------------------------------------

_HARMLESS_TARGET = re.compile(r"^/dev/(?:null|zero|stdout|stderr|tty|fd/\d+)$|^/proc/self/fd/")
_DYNAMIC = re.compile(r"[$`]|\{.*[,.]{1,2}.*\}")
_GLOB = re.compile(r"[*?[]")


@dataclass
class Place:
    """The working folder the code runs in, with cached look-ups."""

    cwd: str
    _seen: dict[str, str] = field(default_factory=dict)

    def resolve(self, path: str) -> str:
        """``path`` made absolute against the working folder (``~`` expanded)."""
        p = os.path.expanduser(path)
        return os.path.normpath(p if os.path.isabs(p) else os.path.join(self.cwd, p))

    def kind(self, path: str) -> str:
        """"file", "dir", "none" (nothing there) or "dynamic" (a name built at run time)."""
        if path in self._seen:
            return self._seen[path]
        if _DYNAMIC.search(path):
            result = "dynamic"
        elif _GLOB.search(path):
            try:
                matches = glob.glob(self.resolve(path))
            except (OSError, ValueError, re.error):
                matches = []
            result = "file" if any(os.path.isfile(m) for m in matches) else (
                "dir" if any(os.path.isdir(m) for m in matches) else "none")
        else:
            full = self.resolve(path)
            result = "dir" if os.path.isdir(full) else ("file" if os.path.lexists(full) else "none")
        self._seen[path] = result
        return result

    def read(self, path: str) -> str | None:
        """The text of a script the code runs, when it exists and is small."""
        if _DYNAMIC.search(path) or _GLOB.search(path):
            return None
        try:
            full = self.resolve(path)
            if not os.path.isfile(full) or os.path.getsize(full) > _MAX_SCRIPT_BYTES:
                return None
            with open(full, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return None


def _name(path: str) -> str:
    return path if len(path) <= 40 else "…" + path[-39:]


def write_finding(place: Place, path: str, how: str = "overwrites") -> Finding | None:
    """The finding for writing ``path``: None when it makes a new file (nothing is lost).

    ``how`` is "overwrites", "empties", "appends to", "changes" or "edits".
    """
    if _HARMLESS_TARGET.match(path):
        return None
    kind = place.kind(path)
    if kind == "none":
        return None
    if kind == "dynamic":
        return _medium("writes to files it names at run time", "writes_files")
    return _medium(f"{how} {_name(path)}", "writes_files")


def _deletes_finding(place: Place, operands: list[str], recursive: bool) -> Finding:
    del place, operands  # every delete is high, whatever exists: the rating must not race the run
    return _deletes(recursive)


# --- shell ----------------------------------------------------------------------------------


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][\w.-]*)\2")
_OPERATOR = re.compile(r"&&|\|\||;;|\|&|&>>|&>|>>|>\||>&|<<<|<<|<>|<&|[;&|()<>\n{}]")
_REDIRECTS: Final = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<", "<<", "<<<", "<>", "<&"})
_KEYWORDS: Final = frozenset({"!", "then", "do", "else", "elif", "if", "while", "until", "time", "{", "}"})
_SKIP_COMMANDS: Final = frozenset({"fi", "done", "esac", "function", "for", "case", "select", "in", "}"})

#: Commands that only read, compute or print: low whatever their arguments.
_SAFE: Final = _wordset("""
: true false echo printf ls dir vdir cat tac head tail less more wc grep egrep fgrep rg ag pwd whoami id date
cal uname hostname uptime df du free ps pgrep top htop env printenv which whereis type file stat diff cmp
comm md5sum sha1sum sha224sum sha256sum sha512sum b2sum cksum sum basename dirname realpath readlink test [
[[ sleep seq expr bc dc jq yq tree cd pushd popd export set unset read local declare typeset readonly alias
unalias history cut tr column nl paste join fold fmt rev od xxd hexdump strings base64 base32 yes nproc lscpu
lsblk lsusb lspci locale tput clear wait jobs exit return shift break continue getconf mktemp touch mkdir
sort uniq awk gawk mawk sed tsort numfmt factor shuf look getent groups users who w last lsof tty stty ulimit
umask hash command-not-found logname arch lsb_release sw_vers systeminfo ver echo-n mapfile readarray trap
let printf- shopt bind caller complete dirs disown enable fc help logout suspend times ping6 free vmstat
iostat mpstat sar watch xdg-user-dir python3-config pkg-config man info apropos whatis column iconv cal ncal
figlet cowsay fortune open xdg-open
""")

_DOWNLOADERS: Final = frozenset({"curl", "wget", "aria2c", "http", "https", "xh", "fetch"})
#: Understood by the rule tables of risk.py (network, installs, stopping programs, system changes).
_RULED: Final = _wordset("""
curl wget ssh scp sftp nc ncat netcat socat telnet ftp lftp aria2c http https xh ping nmap dig nslookup host
traceroute whois kill pkill killall taskkill xkill systemctl service iptables nft ufw firewall-cmd crontab
passwd useradd userdel usermod adduser deluser groupadd visudo sudo su doas pkexec runas shutdown reboot halt
poweroff init telinit mkfs mke2fs mkswap wipefs fdisk sfdisk gdisk parted setx
""")
_PACKAGE_TOOLS: Final = {
    "pip": ("install", {"list", "show", "freeze", "search", "check", "config", "debug", "help", "index", "cache"}),
    "pipx": ("install", {"list", "environment"}),
    "conda": ("install", {"list", "info", "search", "env"}),
    "mamba": ("install", {"list", "info", "search"}),
    "uv": ("add", {"pip", "tree", "version", "help"}),
    "npm": ("install", {"ls", "list", "view", "info", "search", "outdated", "help", "config", "root", "bin",
                        "prefix", "whoami", "doctor", "audit", "explain", "why", "fund"}),
    "pnpm": ("add", {"ls", "list", "outdated", "why"}),
    "yarn": ("add", {"list", "info", "why", "outdated"}),
    "gem": ("install", {"list", "search", "info", "env", "which", "contents"}),
    "cargo": ("install", {"search", "tree", "metadata", "version"}),
    "go": ("install", {"version", "env", "list", "doc", "vet", "fmt"}),
    "apt": ("install", {"list", "search", "show", "policy"}),
    "apt-get": ("install", {"check"}),
    "apt-cache": ("", {"search", "show", "policy", "depends", "rdepends", "showpkg", "madison"}),
    "dpkg": ("-i", {"-l", "-L", "-s", "-S", "--list", "--listfiles", "--status", "--search"}),
    "brew": ("install", {"list", "info", "search", "outdated", "deps", "config", "doctor", "--version"}),
    "dnf": ("install", {"list", "info", "search"}),
    "yum": ("install", {"list", "info", "search"}),
    "snap": ("install", {"list", "info", "find"}),
    "flatpak": ("install", {"list", "info", "search"}),
    "docker": ("", {"ps", "images", "version", "info", "inspect", "logs", "stats", "top", "search", "history"}),
    "podman": ("", {"ps", "images", "version", "info", "inspect", "logs"}),
    "kubectl": ("", {"get", "describe", "logs", "version", "explain", "top", "api-resources", "config"}),
    "make": ("", {"-n", "--dry-run", "-v", "--version", "-p"}),
}
_VERSION_FLAGS: Final = frozenset({"--version", "-V", "-v", "version", "--help", "-h", "help"})
_INTERPRETERS: Final = {
    "python": "python", "python2": "python", "python3": "python", "py": "python", "pypy": "python",
    "pypy3": "python", "ipython": "python",
    "node": "javascript", "nodejs": "javascript", "deno": "javascript", "bun": "javascript",
    "ruby": "ruby", "irb": "ruby",
    "bash": "shell", "sh": "shell", "zsh": "shell", "dash": "shell", "ksh": "shell", "ash": "shell",
    "busybox": "shell",
    "perl": "perl", "php": "php", "Rscript": "r", "R": "r", "lua": "lua", "tclsh": "tcl",
    "osascript": "applescript", "pwsh": "powershell", "powershell": "powershell", "awk": "awk",
}
_INLINE_FLAGS: Final = {"python": ("-c",), "javascript": ("-e", "--eval", "-p", "--print", "eval"),
                        "ruby": ("-e",), "shell": ("-c",), "perl": ("-e", "-E"), "php": ("-r",),
                        "r": ("-e",), "lua": ("-e",), "powershell": ("-Command", "-c", "-command"),
                        "applescript": ("-e",)}
_PREFIXES: Final = frozenset({"sudo", "doas", "env", "nice", "nohup", "time", "timeout", "command", "builtin",
                              "exec", "stdbuf", "ionice", "xargs", "chronic", "unbuffer", "caffeinate",
                              "strace", "ltrace", "flock", "setsid", "chroot", "runuser", "fakeroot", "parallel"})
_PREFIX_VALUE_FLAGS: Final = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"}, "env": {"-u", "-C", "-S"},
    "nice": {"-n"}, "timeout": {"-s", "-k", "--signal", "--kill-after"}, "ionice": {"-c", "-n", "-p"},
    "xargs": {"-I", "-i", "-n", "-P", "-d", "-L", "-l", "-s", "-a", "-E", "-e", "--delimiter", "--max-args",
              "--max-procs", "--arg-file", "--replace"},
    "stdbuf": {"-i", "-o", "-e"}, "flock": {"-w", "-E"}, "parallel": {"-j", "-S"},
    "runuser": {"-u", "-g"},
}
_WORD_PREFIX_VALUES: Final = {"timeout": 1, "flock": 1, "chroot": 1}
# Destructive words in code we cannot read (Perl, PHP, R ...): with them it is high, not medium.
_DESTRUCTIVE_WORDS = re.compile(
    r"\b(?:unlink|rmtree|rm_rf|rm|remove|delete|rmdir|truncate|shred|file\.remove|unlink_dir|del|erase"
    r"|Remove-Item|DeleteFile|remove_all)\b", re.I)


@dataclass
class _Command:
    words: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)
    #: The here-document (or here-string) fed to the command, if any.
    stdin: str | None = None
    #: True when the command reads its arguments' files from a pipe (xargs, find -exec {}).
    piped_args: bool = False


class ShellReader:
    """Reads shell code into commands and rates each by what it does."""

    def __init__(self, place: Place, recurse: Recurse, depth: int) -> None:
        self.place = place
        self.recurse = recurse
        self.depth = depth
        self.functions: set[str] = set()
        #: Paths the commands write, move or delete (risk.py checks where they are).
        self.targets: list[str] = []

    # -- parsing ------------------------------------------------------------------------

    @staticmethod
    def _heredocs(text: str) -> tuple[str, dict[str, str]]:
        """The text with here-document bodies cut out (each replaced by a marker word)."""
        bodies: dict[str, str] = {}
        lines = text.split("\n")
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            found = list(_HEREDOC.finditer(line))
            if not found:
                out.append(line)
                i += 1
                continue
            new_line = line
            j = i + 1
            for m in found:
                marker = f"__oi_heredoc_{len(bodies)}__"
                new_line = new_line.replace(m.group(0), f"<< {marker}", 1)
                body: list[str] = []
                while j < len(lines):
                    end = lines[j].strip() if m.group(1) else lines[j]
                    if end == m.group(3):
                        j += 1
                        break
                    body.append(lines[j])
                    j += 1
                bodies[marker] = "\n".join(body)
            out.append(new_line)
            i = j
        return "\n".join(out), bodies

    @staticmethod
    def _backquotes(text: str) -> str:
        """`cmd` as $(cmd), so one reader handles both (outside single quotes)."""
        out: list[str] = []
        single = False
        opened = False
        for c in text:
            if c == "'" and not opened:
                single = not single
            if c == "`" and not single:
                out.append(")" if opened else "$(")
                opened = not opened
            else:
                out.append(c)
        return "".join(out)

    def parse(self, text: str) -> Iterator[_Command]:
        """The simple commands of ``text``, in order (function bodies and loops included)."""
        text, bodies = self._heredocs(self._backquotes(text))
        # "2>file", "1>>log": the descriptor is not an argument.
        text = re.sub(r"(?:(?<=[\s;&|(])|^)\d+(?=[<>])", " ", text, flags=re.M)
        # Arithmetic, $((x * 2)) and ((i++)), computes: it is not a command.
        text = re.sub(r"\$\(\((?:[^()]|\([^()]*\))*\)\)", "0", text)
        text = re.sub(r"(?:(?<=[\s;&|])|^)\(\((?:[^()]|\([^()]*\))*\)\)", ":", text, flags=re.M)
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>\n{}")
        lexer.whitespace = " \t\r"
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            tokens = list(lexer)
        except ValueError:  # an unclosed quote: read it as words split on white space
            tokens = re.findall(r"[^\s;&|()<>]+|[;&|()<>\n]+", text)
        command = _Command()
        pending: str | None = None
        for token in tokens:
            ops = _OPERATOR.findall(token) if token and token != "{}" and set(token) <= set(";&|()<>\n{}") else None
            if ops is None:
                if pending is not None:
                    if pending in ("<<", "<<<"):
                        command.stdin = bodies.get(token, token)
                    elif (pending in ("<&", ">&") and token.isdigit()) or token == "-":
                        pass
                    else:
                        command.redirects.append((pending, token))
                    pending = None
                elif token == "$":
                    continue
                else:
                    command.words.append(token)
                continue
            for op in ops:
                if op in _REDIRECTS:
                    pending = op
                    continue
                pending = None
                if op in ("{", "}") and command.words:
                    command.words.append(op)  # a brace inside a word list: find -exec {} ;
                    continue
                if op == "(" and len(command.words) == 1 and not command.redirects:
                    self.functions.add(command.words[0])  # name() { ... }: a function definition
                    command = _Command()
                    continue
                if command.words or command.redirects or command.stdin is not None:
                    yield command
                command = _Command()
        if command.words or command.redirects or command.stdin is not None:
            yield command

    # -- rating ---------------------------------------------------------------------------

    def rate(self, text: str) -> list[Finding]:
        """Everything found in the shell code ``text``."""
        commands = list(self.parse(text))
        findings: list[Finding] = []
        for command in commands:
            findings += self._command(command)
            for word in command.words + [t for _op, t in command.redirects]:
                if "$(" in word:
                    for inner in _substitutions(word):
                        findings += self.rate(inner)
        return findings

    def _command(self, command: _Command) -> list[Finding]:
        findings = [f for f in (self._redirect(op, target, command) for op, target in command.redirects) if f]
        words = list(command.words)
        while words and (words[0] in _KEYWORDS or re.match(r"^[A-Za-z_]\w*=", words[0])):
            words.pop(0)
        if not words:
            return findings
        if words[0] in _SKIP_COMMANDS:
            return findings
        return findings + self._words(words, command)

    def _redirect(self, op: str, target: str, command: _Command) -> Finding | None:
        if op in ("<", "<&"):
            return None
        self.targets.append(target)
        if op == ">>" or op == "&>>":
            return write_finding(self.place, target, "appends to")
        empties = not command.words or command.words[0] in (":", "true", "false") or (
            (command.words[0] in ("echo", "printf") and all(w in ("-n", "-e", "") for w in command.words[1:])
            and command.words[0] == "printf") or command.words == ["echo", "-n"])
        return write_finding(self.place, target, "empties" if empties else "overwrites")

    def _words(self, words: list[str], command: _Command) -> list[Finding]:
        name = os.path.basename(words[0]) if "/" in words[0] and not words[0].startswith("$") else words[0]
        args = words[1:]
        if name in _PREFIXES:
            rest, piped = _after_prefix(name, args)
            if not rest:
                return [] if name != "xargs" else [_unchecked("runs commands from its input")]
            sub = _Command(rest, [], command.stdin, command.piped_args or piped)
            found = self._words(rest, sub)
            return found
        if name.startswith("$") or _DYNAMIC.search(name):
            return [_unchecked("runs a command it names at run time")]
        if name in self.functions:
            return []
        handler = _SHELL_HANDLERS.get(name)
        if handler is not None:
            if name not in ("find", "git", "tar", "unzip", "zip"):
                operands = _operands(args, set())
                self.targets += operands[-1:] if name in ("mv", "cp", "install", "rsync", "ln") else operands
            return handler(self, args, command)
        if name in _INTERPRETERS:
            return self._interpreter(_INTERPRETERS[name], name, args, command)
        if name in _SAFE:
            return self._safe(name, args)
        if name in _RULED or re.match(r"^mkfs(?:\.\w+)?$", name):
            return self._ruled(name, args)
        if name in _PACKAGE_TOOLS or name.rstrip("0123456789.") in _PACKAGE_TOOLS:
            return self._package_tool(name.rstrip("0123456789.") if name not in _PACKAGE_TOOLS else name, args)
        if "/" in words[0]:  # ./script.sh, /usr/local/bin/tool: read it when we can
            return self._script(words[0], command)
        if name in ("eval",):
            return self.recurse("shell", " ".join(args), self.depth + 1)
        if name in ("source", "."):
            return self._script(args[0], command) if args else []
        return [_unchecked(f"runs {_name(name)}, which the rater does not know")]

    def _safe(self, name: str, args: list[str]) -> list[Finding]:
        if name in ("sed",) and any(a.startswith("-i") or a.startswith("--in-place") for a in args):
            files = _operands(args, {"-e", "-f", "--expression", "--file"})
            if not any(a in ("-e", "-f", "--expression", "--file") or a.startswith("--expression=") for a in args):
                files = files[1:]  # the first operand is the script
            self.targets += files
            return [self._each(files, "edits")]
        if name in ("awk", "gawk", "mawk") and any(
                re.search(r"\bsystem\s*\(|print[^;}]*>|\|\s*getline|-i\s*inplace", a) for a in args):
            return [_unchecked("runs an awk program that writes files or runs commands")]
        if name == "sort":
            out = _option_value(args, ("-o", "--output"))
            f = write_finding(self.place, out) if out else None
            return [f] if f else []
        if name == "uniq":
            operands = [a for a in args if not a.startswith("-")]
            f = write_finding(self.place, operands[1]) if len(operands) > 1 else None
            return [f] if f else []
        if name in ("touch", "mkdir"):
            self.targets += _operands(args, {"-m", "--mode", "-d", "-r", "-t"})
        return []

    def _each(self, args: list[str], how: str, value_flags: Iterable[str] = ()) -> Finding:
        operands = _operands(args, set(value_flags))
        existing = [a for a in operands if self.place.kind(a) in ("file", "dir", "dynamic")]
        if not existing:
            return _medium(f"{how} files", "writes_files") if not operands else _medium(
                f"{how} {_name(operands[0])}", "writes_files")
        if any(self.place.kind(a) == "dynamic" for a in existing):
            return _medium(f"{how} files it names at run time", "writes_files")
        return _medium(f"{how} {', '.join(_name(a) for a in existing[:3])}", "writes_files")

    def _ruled(self, name: str, args: list[str]) -> list[Finding]:
        if name in _DOWNLOADERS:
            out = _option_value(args, ("-o", "--output", "-O", "--output-document"))
            if out and out != "-":
                self.targets.append(out)
                f = write_finding(self.place, out)
                return [f] if f else []
        return []  # the rule tables of risk.py say what these do

    def _package_tool(self, name: str, args: list[str]) -> list[Finding]:
        install, safe = _PACKAGE_TOOLS[name]
        sub = next((a for a in args if not a.startswith("-") or a in safe), "")
        if not args or sub in safe or any(a in _VERSION_FLAGS for a in args[:1]):
            return []
        if install and sub in ("install", "add", "i", "ci", "-i"):
            return []  # "installs packages" comes from the rule tables
        if name in ("pip", "pipx", "conda", "gem", "npm", "apt", "apt-get", "brew", "dnf", "yum") and sub in (
                "uninstall", "remove", "rm", "purge", "autoremove", "erase"):
            return [_medium(f"removes packages with {name}", "installs")]
        return [_unchecked(f"runs {name} {sub}".rstrip() + ", which the rater cannot check")]

    def _script(self, path: str, command: _Command) -> list[Finding]:
        text = self.place.read(path)
        if text is None:
            return [_unchecked(f"runs {_name(path)}, which the rater cannot read")]
        language = _shebang(text, path)
        if self.depth >= MAX_DEPTH:
            return [_unchecked("runs code nested too deep to check")]
        return self.recurse(language, text, self.depth + 1)

    def _interpreter(self, language: str, name: str, args: list[str], command: _Command) -> list[Finding]:
        if self.depth >= MAX_DEPTH:
            return [_unchecked("runs code nested too deep to check")]
        flags = _INLINE_FLAGS.get(language, ())
        if name == "awk":
            return self._safe("awk", args)
        if name in ("sed",):
            return []
        codes: list[str] = []
        script: str | None = None
        in_place = False
        i = 0
        while i < len(args):
            a = args[i]
            if a in flags and i + 1 < len(args):
                codes.append(args[i + 1])
                i += 2
                continue
            if language in ("perl", "ruby") and re.match(r"^-\w*e$", a) and i + 1 < len(args):
                in_place = in_place or "i" in a
                codes.append(args[i + 1])
                i += 2
                continue
            if (language in ("perl", "ruby") and a.startswith("-i")) or (language == "perl" and re.match(r"^-\w*i", a)):
                in_place = True
            if a in _VERSION_FLAGS and not codes and script is None and i == 0:
                return []
            if language == "python" and a == "-m" and i + 1 < len(args):
                return _python_module(args[i + 1], args[i + 2:])
            if not a.startswith("-") and not codes:
                script = a
                break
            i += 1
        found: list[Finding] = []
        if in_place:
            found.append(self._each(args[i:] if script else [], "edits"))
        if codes:
            for code in codes:
                found += self.recurse(language, code, self.depth + 1)
            return found
        if script is not None:
            if language == "javascript" and name == "deno" and script in ("eval",):
                return found
            return found + self._script(script, command)
        if command.stdin is not None:
            return found + self.recurse(language, command.stdin, self.depth + 1)
        # Code from a pipe (cat x.py | python): the download rules catch curl | sh.
        return [*found, _unchecked(f"runs {_LANGUAGE_NAMES.get(language, language)} code from its input")]


_LANGUAGE_NAMES: Final = {"python": "Python", "javascript": "JavaScript", "ruby": "Ruby", "shell": "shell"}


def _substitutions(word: str) -> list[str]:
    """The commands inside ``$( ... )`` in a word (nested ones come out by recursion)."""
    found: list[str] = []
    i = word.find("$(")
    while i >= 0:
        depth, j = 1, i + 2
        while j < len(word) and depth:
            depth += {"(": 1, ")": -1}.get(word[j], 0)
            j += 1
        found.append(word[i + 2:j - 1] if depth == 0 else word[i + 2:])
        i = word.find("$(", j)
    return found


def _shebang(text: str, path: str) -> str:
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        for key, language in _INTERPRETERS.items():
            if re.search(rf"[/ ]{re.escape(key)}\d*(?:\s|$)", first):
                return language
    ext = os.path.splitext(path)[1].lower()
    return {".py": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
            ".rb": "ruby", ".pl": "perl"}.get(ext, "shell")


def _python_module(module: str, args: list[str]) -> list[Finding]:
    if module in ("json.tool", "this", "platform", "site", "sysconfig", "timeit", "pydoc", "calendar",
                  "tokenize", "ast", "dis", "zipfile", "tarfile") and not (
            module in ("zipfile", "tarfile") and any(a in ("-e", "--extract", "-c", "--create") for a in args)):
        return []
    if module in ("pip", "ensurepip"):
        if args and args[0] in ("install", "download"):
            return [_medium("installs packages", "installs")]
        if args and args[0] == "uninstall":
            return [_medium("removes packages with pip", "installs")]
        return []
    if module in ("http.server", "smtpd"):
        return [_medium("uses the network", "network")]
    if module == "venv" or module == "compileall" or module == "py_compile":
        return []
    return [_unchecked(f"runs the Python module {module}, which the rater cannot check")]


def _after_prefix(name: str, args: list[str]) -> tuple[list[str], bool]:
    """The command a prefix (sudo, env, xargs, timeout ...) runs, and whether it gets piped arguments."""
    values = _PREFIX_VALUE_FLAGS.get(name, set())
    i = 0
    while i < len(args):
        a = args[i]
        if a in values:
            i += 2
        elif (a.startswith("-") and a != "-") or (name == "env" and re.match(r"^[A-Za-z_]\w*=", a)):
            i += 1
        else:
            break
    skip = _WORD_PREFIX_VALUES.get(name, 0)
    i += skip
    return args[i:], name in ("xargs", "parallel")


def _operands(args: list[str], value_flags: set[str]) -> list[str]:
    out: list[str] = []
    i = 0
    only = False
    while i < len(args):
        a = args[i]
        if only or not a.startswith("-") or a == "-":
            out.append(a)
        elif a == "--":
            only = True
        elif a in value_flags:
            i += 1
        i += 1
    return out


def _option_value(args: list[str], names: tuple[str, ...]) -> str | None:
    for i, a in enumerate(args):
        if a in names and i + 1 < len(args):
            return args[i + 1]
        for n in names:
            if n.startswith("--") and a.startswith(n + "="):
                return a[len(n) + 1:]
            if not n.startswith("--") and a.startswith(n) and len(a) > len(n) and n != "-O":
                return a[len(n):]
    return None


def _flag(args: list[str], short: str, *long: str) -> bool:
    """Whether a short flag letter (alone or in a bundle like -rf) or a long flag is given."""
    for a in args:
        if a == "--":
            return False
        if a in long:
            return True
        if a.startswith("-") and not a.startswith("--") and any(s in a[1:] for s in short):
            return True
    return False


# Handlers for commands that change files: (reader, args, command) -> findings.

def _rm(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    return [_deletes_finding(r.place, _operands(args, set()), _flag(args, "rR", "--recursive"))]


def _shred(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    return [_high("destroys the contents of files", "delete")]


def _mv(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    operands = _operands(args, {"-t", "--target-directory", "-S", "--suffix"})
    dest = _option_value(args, ("-t", "--target-directory")) or (operands[-1] if operands else "")
    sources = operands if _option_value(args, ("-t", "--target-directory")) else operands[:-1]
    if dest.startswith("/dev/") and not dest.startswith("/dev/shm"):
        return [_high(f"deletes files (moves them to {dest})", "delete")]
    found = [_medium(f"moves {_name(sources[0]) if len(sources) == 1 else 'files'}", "writes_files")]
    over = _over(r, sources, dest, command)
    return found + over


def _over(r: ShellReader, sources: list[str], dest: str, command: _Command) -> list[Finding]:
    """Findings for copying or moving ``sources`` to ``dest`` (which may be a folder)."""
    if not dest or _HARMLESS_TARGET.match(dest):
        return []
    kind = r.place.kind(dest)
    if kind == "dir":
        hits = [s for s in sources if r.place.kind(os.path.join(dest, os.path.basename(s.rstrip("/")))) != "none"]
        if any(_DYNAMIC.search(s) or _GLOB.search(s) for s in sources) or command.piped_args:
            return [_medium(f"may overwrite files in {_name(dest)}", "writes_files")]
        return [_medium(f"overwrites {_name(os.path.join(dest, os.path.basename(h.rstrip('/'))))}", "writes_files")
                for h in hits[:2]]
    f = write_finding(r.place, dest)
    return [f] if f else []


def _cp(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    operands = _operands(args, {"-t", "--target-directory", "-S", "--suffix"})
    target = _option_value(args, ("-t", "--target-directory"))
    dest = target or (operands[-1] if operands else "")
    sources = operands if target else operands[:-1]
    if command.piped_args and not target:
        return [_medium("may overwrite files it is given", "writes_files")]
    return _over(r, sources, dest, command)


def _rsync(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    if any(a.startswith("--delete") or a.startswith("--remove-source-files") for a in args):
        return [_deletes(True)]
    return _cp(r, [a for a in args if not a.startswith("-")], command)


def _ln(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    if not _flag(args, "f", "--force"):
        return []
    operands = _operands(args, {"-t", "-S"})
    return _over(r, operands[:-1], operands[-1], command) if len(operands) > 1 else []


def _truncate(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    return [r._each(args, "empties" if _option_value(args, ("-s", "--size")) in ("0", "=0") else "changes the size of",
                    value_flags={"-s", "--size", "-r", "--reference"})]


def _dd(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    out = next((a[3:] for a in args if a.startswith("of=")), None)
    r.targets += [out] if out else []
    f = write_finding(r.place, out) if out else None
    return [f] if f else []


def _tee(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    how = "appends to" if _flag(args, "a", "--append") else "overwrites"
    return [f for f in (write_finding(r.place, a, how) for a in _operands(args, set())) if f]


def _permissions(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    operands = _operands(args, {"--reference"})
    targets = operands[1:] if operands else []
    names = ", ".join(_name(t) for t in targets[:2]) or "files"
    return [_medium(f"changes the permissions of {names}", "permissions")]


def _find(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    found: list[Finding] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-delete":
            found.append(_deletes(True))
        elif a in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j] not in (";", "+", "\\;"):
                j += 1
            inner = [w for w in args[i + 1:j]]
            if inner:
                found += r._words(inner, _Command(inner, [], None, True))
            i = j
        elif a in ("-fprint", "-fprint0", "-fprintf", "-fls") and i + 1 < len(args):
            f = write_finding(r.place, args[i + 1])
            if f:
                found.append(f)
        i += 1
    return found


_GIT_SAFE: Final = frozenset({"status", "log", "diff", "show", "blame", "grep", "ls-files", "ls-tree", "rev-parse",
                              "describe", "shortlog", "reflog", "cat-file", "help", "version", "--version",
                              "whatchanged", "rev-list", "name-rev", "count-objects", "check-ignore", "var",
                              "config", "remote", "branch", "tag", "stash", "for-each-ref", "show-ref", "bisect"})
_GIT_NETWORK: Final = frozenset({"clone", "fetch", "pull", "push", "ls-remote", "submodule"})


def _git(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-C", "-c", "--git-dir", "--work-tree") else 1
    if i >= len(args):
        return []
    sub, rest = args[i], args[i + 1:]
    if (sub == "reset" and "--hard" in rest) or (sub == "reset" and "--merge" in rest):
        return [_high("discards uncommitted changes (git reset --hard)", "history")]
    if sub == "clean":
        if any(a in ("-n", "--dry-run") for a in rest):
            return []
        return [_high("deletes untracked files (git clean)", "delete")]
    if sub == "push" and any(a in ("-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d")
                              or a.startswith("--force") or a.startswith("+") for a in rest):
        return [_high("rewrites history on a remote (git push --force)", "history")]
    if sub in ("checkout", "restore", "switch") and (
            "--" in rest or "-f" in rest or "--force" in rest or "." in rest or sub == "restore"):
        return [_high("discards uncommitted changes", "history")]
    if sub in ("rebase", "filter-branch", "filter-repo", "gc", "prune", "update-ref", "replace") or (
            sub == "commit" and "--amend" in rest) or (sub == "reflog" and rest[:1] in (["expire"], ["delete"])):
        return [_high(f"rewrites git history (git {sub})", "history")]
    if sub == "branch" and any(a in ("-D", "-d", "--delete", "-f", "--force", "-M", "-m") for a in rest):
        return [_high("deletes or moves git branches", "history")]
    if sub == "stash" and rest[:1] in (["drop"], ["clear"], ["pop"]):
        return [_high("drops stashed changes", "history")] if rest[:1] != ["pop"] else [
            _medium("changes files in the working folder (git stash pop)", "git")]
    if sub == "tag" and any(a in ("-d", "--delete", "-f", "--force") for a in rest):
        return [_high("deletes or moves git tags", "history")]
    if sub == "config" and not any(a in ("--get", "--list", "-l", "--get-all") for a in rest) and len(
            [a for a in rest if not a.startswith("-")]) > 1:
        return [_medium("changes git settings", "git")]
    if sub in _GIT_SAFE:
        if sub == "stash" and rest[:1] not in ([], ["list"], ["show"]):
            return [_medium("stashes uncommitted changes", "git")]
        if sub == "remote" and rest[:1] not in ([], ["-v"], ["show"], ["get-url"]):
            return [_medium("changes git remotes", "git")]
        return []
    if sub in _GIT_NETWORK:
        return [] if sub != "pull" else [_medium("changes files in the working folder (git pull)", "git")]
    return [_medium(f"changes the git repository (git {sub})", "git")]


def _archive(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    first = args[0] if args else ""
    letters = first.lstrip("-") if first and not first.startswith("--") else ""
    if "x" in letters or "--extract" in args or "--get" in args:
        return [_medium("extracts an archive over the working folder", "writes_files")]
    if "--remove-files" in args:
        return [_deletes()]
    out = _option_value(args, ("-f", "--file"))
    if out is None and "f" in letters and len(args) > 1:
        out = args[1]
    f = write_finding(r.place, out) if out and ("c" in letters or "r" in letters or "u" in letters) else None
    return [f] if f else []


def _unzip(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    if any(a in ("-l", "-t", "-v", "-Z", "-p", "-n") for a in args):
        return []
    return [_medium("extracts an archive over the working folder", "writes_files")]


def _zip(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    if _flag(args, "m", "--move"):
        return [_deletes()]
    operands = _operands(args, {"-b", "-x", "-i", "-O", "--out"})
    f = write_finding(r.place, operands[0], "changes") if operands else None
    if f is None and operands and r.place.kind(operands[0] + ".zip") == "file":
        f = _medium(f"changes {_name(operands[0] + '.zip')}", "writes_files")
    return [f] if f else []


def _compress(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    if _flag(args, "kclt", "--keep", "--stdout", "--to-stdout", "--list", "--test"):
        return []
    return [_high("replaces files with compressed copies (the originals are deleted)", "delete")]


def _patch(r: ShellReader, args: list[str], command: _Command) -> list[Finding]:
    return [_medium("edits files with a patch", "writes_files")]


_SHELL_HANDLERS: Final[dict[str, Callable[[ShellReader, list[str], _Command], list[Finding]]]] = {
    "rm": _rm, "rmdir": _rm, "unlink": _rm, "srm": _rm, "trash": _rm, "trash-put": _rm, "wipe": _shred,
    "shred": _shred, "mv": _mv, "cp": _cp, "install": _cp, "rsync": _rsync, "ln": _ln, "truncate": _truncate,
    "fallocate": _truncate, "dd": _dd, "tee": _tee, "chmod": _permissions, "chown": _permissions,
    "chgrp": _permissions, "chattr": _permissions, "setfacl": _permissions, "find": _find, "git": _git,
    "tar": _archive, "unzip": _unzip, "zip": _zip, "gzip": _compress, "bzip2": _compress, "xz": _compress,
    "lzma": _compress, "compress": _compress, "gunzip": _compress, "bunzip2": _compress, "unxz": _compress,
    "patch": _patch,
}


def shell_findings(code: str, place: Place, recurse: Recurse, depth: int) -> tuple[list[Finding], list[str]]:
    """What shell ``code`` does, command by command, and the paths it writes to."""
    reader = ShellReader(place, recurse, depth)
    return reader.rate(code), reader.targets


# --- Python -----------------------------------------------------------------------------

_PY_DELETE: Final = {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "send2trash.send2trash",
                     "os.unlinkat", "pathlib.Path.unlink", "send2trash"}
_PY_DELETE_TREE: Final = {"shutil.rmtree"}
_PY_RUN_SHELL: Final = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
                        "commands.getoutput", "os.popen2", "os.popen3", "pty.spawn"}
_PY_RUN_ARGS: Final = {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
                       "subprocess.Popen", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"}
_PY_PERMS: Final = {"os.chmod", "os.chown", "os.lchown", "os.fchmod", "os.fchown", "shutil.chown", "os.lchmod",
                    "os.chflags", "os.chroot"}
_PY_MOVE: Final = {"os.rename", "os.replace", "shutil.move", "os.renames"}
_PY_COPY: Final = {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.copyfileobj",
                   "distutils.file_util.copy_file", "os.link", "os.symlink"}
_PY_OPENERS: Final = {"open", "io.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open", "builtins.open",
                      "os.fdopen", "tarfile.open", "zipfile.ZipFile", "shelve.open", "dbm.open",
                      "sqlite3.connect", "aiofiles.open"}
_PY_WRITER_METHODS: Final = frozenset({
    "to_csv", "to_json", "to_excel", "to_parquet", "to_pickle", "to_html", "to_feather", "to_hdf", "to_stata",
    "to_xml", "to_markdown", "to_latex", "savefig", "save", "savez", "savetxt", "tofile", "to_file", "imwrite",
    "export", "write_image", "write_html", "dump_to", "write_file", "write_text", "write_bytes"})
_PY_UNCHECKED_MODULES: Final = {"ctypes": "calls native code", "cffi": "calls native code",
                                "multiprocessing": "", "importlib": "", "runpy": "runs other Python code"}


def _attr_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _attr_name(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _PythonReader:
    def __init__(self, place: Place, recurse: Recurse, depth: int) -> None:
        self.place = place
        self.recurse = recurse
        self.depth = depth
        self.aliases: dict[str, str] = {}
        self.strings: dict[str, str] = {}
        self.findings: list[Finding] = []

    # -- names and values ----------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            top = a.name.split(".")[0]
            if _PY_UNCHECKED_MODULES.get(top):
                self.findings.append(_unchecked(_PY_UNCHECKED_MODULES[top]))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for a in node.names:
            if a.name == "*":
                for name in ("remove", "unlink", "rmdir", "removedirs", "system", "popen", "rmtree", "rename",
                             "replace", "move", "chmod", "chown", "truncate", "run", "call", "Popen",
                             "check_call", "check_output", "copy", "copy2", "copyfile", "copytree"):
                    self.aliases.setdefault(name, f"{module}.{name}")
                continue
            self.aliases[a.asname or a.name] = f"{module}.{a.name}"
        top = module.split(".")[0]
        if _PY_UNCHECKED_MODULES.get(top):
            self.findings.append(_unchecked(_PY_UNCHECKED_MODULES[top]))

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self._string(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if value is not None:
                    self.strings[target.id] = value
                else:
                    self.strings.pop(target.id, None)
                    name = _attr_name(node.value)
                    if name is not None:  # f = os.remove: an alias by assignment
                        resolved = self._resolve(name)
                        if "." in resolved:
                            self.aliases[target.id] = resolved

    def _resolve(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    def _string(self, node: ast.AST | None) -> str | None:
        """A string the code spells out (literal, joined literals, simple paths), else None."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            v = node.value
            return v.decode(errors="replace") if isinstance(v, bytes) else v
        if isinstance(node, ast.Name):
            return self.strings.get(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = [self._string(v.value) if isinstance(v, ast.FormattedValue) else self._string(v)
                     for v in node.values]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
            left, right = self._string(node.left), self._string(node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.op, ast.Add) else os.path.join(left, right)
        if isinstance(node, ast.Call):
            name = self._resolve(_attr_name(node.func) or "")
            args = [self._string(a) for a in node.args]
            if name in ("os.path.join", "pathlib.Path", "pathlib.PurePath", "Path", "str", "os.fspath",
                        "os.path.abspath", "os.path.normpath", "pathlib.PosixPath") or name.endswith(".joinpath"):
                if name.endswith(".joinpath") and isinstance(node.func, ast.Attribute):
                    args = [self._string(node.func.value), *args]
                if args and all(a is not None for a in args):
                    return os.path.join(*[a for a in args if a is not None])
                if not args and name in ("pathlib.Path", "Path"):
                    return "."
            if name in ("os.path.expanduser",) and args and args[0] is not None:
                return args[0]
        return None

    def _receiver_path(self, node: ast.Call) -> str | None:
        if isinstance(node.func, ast.Attribute):
            return self._string(node.func.value)
        return None

    def _path_finding(self, path: str | None, how: str = "overwrites") -> None:
        if path is None:
            self.findings.append(_medium("writes to files it names at run time", "writes_files"))
            return
        f = write_finding(self.place, path, how)
        if f:
            self.findings.append(f)

    # -- calls -----------------------------------------------------------------------------

    def visit(self, tree: ast.AST) -> None:
        """Read the tree: imports and assignments and calls in source order."""
        handlers: dict[type, Callable[[Any], None]] = {
            ast.Import: self.visit_Import, ast.ImportFrom: self.visit_ImportFrom, ast.Assign: self.visit_Assign,
            ast.Call: self.visit_Call}
        nodes = [n for n in ast.walk(tree) if type(n) in handlers]
        nodes.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
        for node in nodes:
            handlers[type(node)](node)

    def _dotted(self, node: ast.AST) -> str | None:
        """A call's dotted name; ``__import__("os").remove`` reads as ``os.remove``."""
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and _attr_name(node.func) in ("__import__", "importlib.import_module") \
                and node.args:
            return self._string(node.args[0])
        return _attr_name(node)

    def visit_Call(self, node: ast.Call) -> None:
        raw = self._dotted(node.func)
        name = self._resolve(raw) if raw else ""
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        args = node.args
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if name in _PY_DELETE or name.endswith(".send2trash"):
            self.findings.append(_deletes())
        elif name in _PY_DELETE_TREE or name.endswith(".rmtree"):
            self.findings.append(_deletes(True))
        elif method in ("unlink", "rmdir", "rmtree") and not name.startswith("os."):
            self.findings.append(_deletes(method == "rmtree"))
        elif name in _PY_RUN_SHELL or (name in _PY_RUN_ARGS and self._is_shell(node, kw)):
            self._run_shell(args[0] if args else kw.get("args") or kw.get("cmd"))
        elif name in _PY_RUN_ARGS or name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            self._run_args(node, name)
        elif name in ("eval", "exec", "builtins.eval", "builtins.exec", "compile", "runpy.run_path",
                      "runpy.run_module", "code.interact", "execfile"):
            self._run_python(name, args[0] if args else None)
        elif name in _PY_PERMS or (method in ("chmod", "lchmod", "chown") and not name.startswith("os.")):
            target = self._string(args[0]) if args else None
            self.findings.append(_medium(
                f"changes the permissions of {_name(target) if target else 'files'}", "permissions"))
        elif name in ("os.truncate",) or method == "truncate":
            target = self._string(args[0]) if name == "os.truncate" and args else None
            self.findings.append(_medium(f"empties {_name(target)}" if target else "empties files", "writes_files"))
        elif name in _PY_MOVE or (method in ("rename", "replace") and len(args) == 1 and not kw):
            self._move(node, name, method)
        elif name in _PY_COPY:
            dest = self._string(args[1]) if len(args) > 1 else self._string(kw.get("dst"))
            if dest is None:
                self.findings.append(_medium("copies over files it names at run time", "writes_files"))
            else:
                src = self._string(args[0]) if args else None
                if self.place.kind(dest) == "dir" and src is not None and name != "shutil.copytree":
                    dest = os.path.join(dest, os.path.basename(src))
                self._path_finding(dest)
        elif name in _PY_OPENERS or (method == "open" and not name.startswith(("os.", "webbrowser"))):
            self._open(node, name, method, kw)
        elif name == "os.open":
            self._os_open(node)
        elif method in _PY_WRITER_METHODS:
            self._writer(node, method, kw)
        elif name in ("getattr", "builtins.getattr") and len(args) > 1 and self._string(args[1]) is None:
            self.findings.append(_unchecked("calls functions it names at run time"))
        elif name in ("__import__", "importlib.import_module") and args and self._string(args[0]) in (
                None, "os", "shutil", "subprocess"):
            self.findings.append(_unchecked("imports modules it names at run time"))

    def _is_shell(self, node: ast.Call, kw: dict[str, ast.expr]) -> bool:
        shell = kw.get("shell")
        if "create_subprocess_shell" in (_attr_name(node.func) or ""):
            return True
        return (isinstance(shell, ast.Constant) and bool(shell.value)) or (
            shell is not None and not isinstance(shell, ast.Constant))

    def _run_shell(self, arg: ast.AST | None) -> None:
        text = self._string(arg)
        if text is None and isinstance(arg, (ast.List, ast.Tuple)):
            self._run_list(arg)
            return
        if text is None:
            self.findings.append(_unchecked("runs shell commands it builds at run time"))
        elif self.depth >= MAX_DEPTH:
            self.findings.append(_unchecked("runs code nested too deep to check"))
        else:
            self.findings += self.recurse("shell", text, self.depth + 1)

    def _run_args(self, node: ast.Call, name: str) -> None:
        args = list(node.args)
        if name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            # os.execvp(file, args), os.spawnlp(mode, file, *args): the argument vector follows.
            vector = [a for a in args if isinstance(a, (ast.List, ast.Tuple))]
            if vector:
                self._run_list(vector[0])
                return
            strings = [self._string(a) for a in args[1 if name.startswith("os.exec") else 2:]]
            if strings and all(s is not None for s in strings):
                self._shell_words([s for s in strings if s is not None])
            else:
                self.findings.append(_unchecked("runs programs it names at run time"))
            return
        first = args[0] if args else next((k.value for k in node.keywords if k.arg == "args"), None)
        if isinstance(first, (ast.List, ast.Tuple)):
            self._run_list(first)
            return
        text = self._string(first)
        if text is None:
            self.findings.append(_unchecked("runs programs it names at run time"))
        else:  # a single string without shell=True is one program name
            self._shell_words([text])

    def _run_list(self, node: ast.List | ast.Tuple) -> None:
        words = [self._string(e) for e in node.elts]
        if not words or words[0] is None:
            self.findings.append(_unchecked("runs programs it names at run time"))
            return
        if any(w is None for w in words):
            # The program is known, some arguments are not: rate it with a placeholder that reads as dynamic.
            words = [w if w is not None else "$ARG" for w in words]
        self._shell_words([w for w in words if w is not None])

    def _shell_words(self, words: list[str]) -> None:
        if self.depth >= MAX_DEPTH:
            self.findings.append(_unchecked("runs code nested too deep to check"))
            return
        self.findings += self.recurse("shell", shlex.join(words), self.depth + 1)

    def _run_python(self, name: str, arg: ast.AST | None) -> None:
        text = self._string(arg)
        if name == "runpy.run_path" and text is not None and self.place.read(text) is not None:
            self.findings += self.recurse("python", self.place.read(text) or "", self.depth + 1)
        elif name.startswith("runpy"):
            self.findings.append(_unchecked("runs other Python code"))
        elif text is None:
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "compile":
                self._run_python("compile", arg.args[0] if arg.args else None)
                return
            self.findings.append(_unchecked("runs code it builds at run time"))
        elif self.depth >= MAX_DEPTH:
            self.findings.append(_unchecked("runs code nested too deep to check"))
        else:
            self.findings += self.recurse("python", text, self.depth + 1)

    def _move(self, node: ast.Call, name: str, method: str) -> None:
        if name in _PY_MOVE:
            src = self._string(node.args[0]) if node.args else None
            dest = self._string(node.args[1]) if len(node.args) > 1 else None
        else:
            src = self._receiver_path(node)
            dest = self._string(node.args[0]) if node.args else None
        if dest is not None and dest.startswith("/dev/") and not dest.startswith("/dev/shm"):
            self.findings.append(_high(f"deletes files (moves them to {dest})", "delete"))
            return
        self.findings.append(_medium(f"moves {_name(src) if src else 'files'}", "writes_files"))
        if dest is None:
            self.findings.append(_medium("moves files over names it builds at run time", "writes_files"))
        else:
            if self.place.kind(dest) == "dir" and src is not None:
                dest = os.path.join(dest, os.path.basename(src))
            self._path_finding(dest)

    def _open(self, node: ast.Call, name: str, method: str, kw: dict[str, ast.expr]) -> None:
        args = list(node.args)
        first = self._string(args[0]) if args else None
        path_method = first is None or re.fullmatch(r"[rwxabtU+]{1,4}", first) is not None
        if method == "open" and name not in _PY_OPENERS and path_method:  # Path("x").open("w")
            path = self._receiver_path(node)
            mode_node = args[0] if args else kw.get("mode")
        else:
            path = self._string(args[0]) if args else self._string(kw.get("file") or kw.get("name"))
            mode_node = args[1] if len(args) > 1 else kw.get("mode")
            if name == "sqlite3.connect":
                if path is not None and path != ":memory:":
                    self._path_finding(path, "changes")
                return
        if mode_node is None:
            if name in ("zipfile.ZipFile", "tarfile.open", "shelve.open", "dbm.open"):
                if name == "shelve.open":
                    self._path_finding(path, "changes")
                return
            return  # default mode: read
        mode = self._string(mode_node)
        if mode is None:
            self.findings.append(_medium("opens files in a mode it picks at run time", "writes_files"))
            return
        if "x" in mode or not re.search(r"[wa+]", mode):
            return  # reading, or creating a new file only ("x" fails when it exists)
        how = "appends to" if "a" in mode else ("changes" if "+" in mode and "w" not in mode else "overwrites")
        self._path_finding(path, how)

    def _os_open(self, node: ast.Call) -> None:
        flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
        if re.search(r"O_(?:WRONLY|RDWR|TRUNC|APPEND)", flags):
            path = self._string(node.args[0]) if node.args else None
            self._path_finding(path, "overwrites" if "TRUNC" in flags else "changes")

    def _writer(self, node: ast.Call, method: str, kw: dict[str, ast.expr]) -> None:
        if method in ("write_text", "write_bytes"):
            self._path_finding(self._receiver_path(node))
            return
        target = node.args[0] if node.args else (kw.get("path_or_buf") or kw.get("fname") or kw.get("file")
                                                  or kw.get("path") or kw.get("filename"))
        if target is None:
            return
        path = self._string(target)
        if path is not None:
            self._path_finding(path)


def _ipython_lines(code: str) -> tuple[str, list[str]]:
    """Python code without IPython's ``!cmd`` and ``%magic`` lines, and the shell commands they hold."""
    lines = code.split("\n")
    shell: list[str] = []
    kept: list[str] = []
    cell: list[str] | None = None
    for line in lines:
        stripped = line.strip()
        if cell is not None:
            cell.append(line)
            kept.append("")
            continue
        if re.match(r"^%%(?:bash|sh|script|system|sx)\b", stripped):
            cell = []
            kept.append("")
            continue
        if stripped.startswith("!") or re.match(r"^%(?:pip|conda)\b", stripped):
            shell.append(stripped[1:])
            kept.append("")
        elif re.match(r"^%(?:sx|system|sc)\b", stripped):
            shell.append(stripped.split(None, 1)[1] if " " in stripped else "")
            kept.append("")
        elif stripped.startswith("%"):
            kept.append("")
        else:
            # x = !ls and x = %sx ls
            m = re.match(r"^(\s*[\w.,\s]+=\s*)!(.*)$", line)
            if m:
                shell.append(m.group(2))
                kept.append(m.group(1) + "None")
            else:
                kept.append(line)
    if cell is not None:
        shell.append("\n".join(cell))
    return "\n".join(kept), shell


def python_findings(code: str, place: Place, recurse: Recurse, depth: int) -> list[Finding] | None:
    """What Python ``code`` does; None when it does not parse (the caller says so)."""
    text, shell = _ipython_lines(code)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    reader = _PythonReader(place, recurse, depth)
    reader.visit(tree)
    for command in shell:
        reader.findings += recurse("shell", command, depth + 1)
    return reader.findings


# --- JavaScript and Ruby --------------------------------------------------------------------

_LIT = r"""(?:'((?:\\.|[^'\\\n])*)'|"((?:\\.|[^"\\\n])*)"|`((?:\\.|[^`\\$])*)`)"""


def _literal(m: re.Match[str], first_group: int = 1) -> str | None:
    for g in range(first_group, first_group + 3):
        if m.group(g) is not None:
            return m.group(g).encode().decode("unicode_escape", errors="replace") if "\\" in m.group(g) else m.group(g)
    return None


def _scan(text: str, start: int) -> tuple[int, list[int]]:
    """From just after a "(": where its matching ")" is, and the commas between arguments
    (brackets and quoted strings are skipped over)."""
    depth, i = 1, start
    commas: list[int] = []
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i, commas
        elif c in "'\"`":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j
        elif c == "," and depth == 1:
            commas.append(i)
        i += 1
    return len(text), commas


def _call_args(text: str, start: int) -> str:
    """The text of a call's arguments, from just after its "(" to the matching ")"."""
    return text[start:_scan(text, start)[0]]


def _split_args(args: str) -> list[str]:
    """Arguments split at their top-level commas."""
    _end, commas = _scan(args, 0)
    bounds = [-1, *commas, len(args)]
    parts = [args[a + 1:b].strip() for a, b in itertools.pairwise(bounds)]
    return [p for p in parts if p] if parts != [""] else []


def _whole_literal(arg: str, variables: dict[str, str]) -> str | None:
    m = re.fullmatch(_LIT, arg.strip())
    if m:
        return _literal(m)
    name = arg.strip()
    if re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return variables.get(name)
    m2 = re.fullmatch(r"(?:path\.join|path\.resolve|File\.join)\s*\((.*)\)", name, re.S)
    if m2:
        parts = [_whole_literal(p, variables) for p in _split_args(m2.group(1))]
        if parts and all(p is not None for p in parts):
            return os.path.join(*[p for p in parts if p is not None])
    return None


@dataclass(frozen=True)
class _CallRule:
    pattern: re.Pattern[str]
    #: "delete", "delete_tree", "write", "append", "empty", "copy", "move", "perm", "shell", "eval", "open".
    action: str
    #: Which argument holds the path (for copy/move: the destination).
    arg: int = 0


def _js_rules() -> tuple[_CallRule, ...]:
    fs = r"(?:\b[\w$]+\.)?(?:promises\.)?"
    return (
        _CallRule(re.compile(r"\b(?:rmSync|rmdirSync)\s*\(|\b[\w$]+\.(?:promises\.)?(?:rm|rmdir)\s*\("), "rm"),
        _CallRule(re.compile(r"\b(?:unlink|unlinkSync)\s*\(|\brimraf\b|\bdel(?:\.sync)?\s*\("
                             r"|\b(?:fs\w*|fse|fsExtra|extra)\.(?:remove|removeSync|emptyDir|emptyDirSync)\s*\("),
                  "delete"),
        _CallRule(re.compile(fs + r"\b(?:writeFile|writeFileSync|outputFile|outputFileSync|writeJson|writeJsonSync"
                             r"|writeJSON|createWriteStream)\s*\("), "write"),
        _CallRule(re.compile(fs + r"\b(?:appendFile|appendFileSync)\s*\("), "append"),
        _CallRule(re.compile(fs + r"\b(?:truncate|truncateSync|ftruncate|ftruncateSync)\s*\("), "empty"),
        _CallRule(re.compile(fs + r"\b(?:copyFile|copyFileSync|cp|cpSync|copy|copySync)\s*\("), "copy", 1),
        _CallRule(re.compile(fs + r"\b(?:rename|renameSync|move|moveSync)\s*\("), "move", 1),
        _CallRule(re.compile(fs + r"\b(?:chmod|chmodSync|chown|chownSync|lchown|lchownSync|fchmod|fchmodSync)\s*\("),
                  "perm"),
        _CallRule(re.compile(fs + r"\b(?:open|openSync)\s*\("), "open"),
        _CallRule(re.compile(r"\b(?:exec|execSync|spawn|spawnSync|execFile|execFileSync|fork)\s*\("), "shell"),
        _CallRule(re.compile(r"\b(?:eval|Function|runInNewContext|runInThisContext|runInContext)\s*\("
                             r"|\bnew\s+(?:Function|vm\.Script)\s*\("), "eval"),
    )


def _ruby_rules() -> tuple[_CallRule, ...]:
    return (
        _CallRule(re.compile(r"\bFileUtils\.(?:rm_rf|rm_r|remove_dir|remove_entry(?:_secure)?|rmtree)\b\s*\(?"),
                  "delete_tree"),
        _CallRule(re.compile(r"\b(?:File|FileUtils|Dir|Pathname)\.(?:delete|unlink|rm|rm_f|remove|remove_file"
                             r"|rmdir|safe_unlink)\b\s*\(?|\.(?:delete|unlink)\b(?=\s*(?:$|\)|;|\n))"), "delete"),
        _CallRule(re.compile(r"\b(?:File|IO)\.(?:write|binwrite)\b\s*\(?"), "write"),
        _CallRule(re.compile(r"\bFile\.truncate\b\s*\(?|\.truncate\s*\(\s*0\s*\)"), "empty"),
        _CallRule(re.compile(r"\bFileUtils\.(?:cp|cp_r|copy|copy_file|copy_entry|install|ln_sf|ln_s|ln)\b\s*\(?"),
                  "copy", 1),
        _CallRule(re.compile(r"\b(?:FileUtils\.(?:mv|move)|File\.rename)\b\s*\(?"), "move", 1),
        _CallRule(re.compile(r"\b(?:File|FileUtils)\.(?:chmod|chown|chmod_R|chown_R|lchmod|lchown)\b\s*\(?"), "perm",
                  1),
        _CallRule(re.compile(r"\b(?:File|IO)\.(?:open|new)\b\s*\(?|\bopen\s*\("), "open"),
        _CallRule(re.compile(r"\b(?:system|exec|spawn|Open3\.\w+|IO\.popen|Process\.spawn)\b\s*\(?"), "shell"),
        _CallRule(re.compile(r"\b(?:eval|instance_eval|class_eval|module_eval|binding\.eval)\b\s*\(?"), "eval"),
    )


_JS_RULES: Final = _js_rules()
_RUBY_RULES: Final = _ruby_rules()
_RUBY_BACKTICK = re.compile(r"`((?:\\.|[^`\\])*)`|%x\{([^}]*)\}|%x\(([^)]*)\)")
_JS_VAR = re.compile(r"\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*" + _LIT)
_RUBY_VAR = re.compile(r"^\s*([a-z_]\w*)\s*=\s*" + _LIT, re.M)


def _call_text(text: str, m: re.Match[str], language: str) -> str:
    if text[m.end() - 1:m.end()] == "(":
        return _call_args(text, m.end())
    if language == "ruby":  # File.delete 'x', 'y' (no parentheses): to the end of the line
        end = text.find("\n", m.end())
        rest = text[m.end():end if end >= 0 else len(text)]
        return re.split(r"\s+(?:do|if|unless)\b|;|\{\s*\|", rest)[0]
    return ""


def code_findings(language: str, code: str, place: Place, recurse: Recurse, depth: int) -> list[Finding]:
    """What JavaScript or Ruby ``code`` does (call patterns; comments already removed)."""
    rules = _JS_RULES if language == "javascript" else _RUBY_RULES
    var_re = _JS_VAR if language == "javascript" else _RUBY_VAR
    variables = {m.group(1): _literal(m, 2) or "" for m in var_re.finditer(code)}
    found: list[Finding] = []
    for rule in rules:
        for m in rule.pattern.finditer(code):
            args = _split_args(_call_text(code, m, language))
            found += _code_call(language, rule, m, args, variables, place, recurse, depth)
    if language == "ruby":
        for m in _RUBY_BACKTICK.finditer(code):
            inner = next(g for g in m.groups() if g is not None)
            found += _nested("shell", inner if "#{" not in inner else None, recurse, depth, "shell commands")
    if language == "javascript":
        for m in re.finditer(r"\$`((?:\\.|[^`\\])*)`", code):  # zx / Bun shell
            found += _nested("shell", m.group(1) if "${" not in m.group(1) else None, recurse, depth,
                             "shell commands")
    return found


def _nested(language: str, text: str | None, recurse: Recurse, depth: int, what: str) -> list[Finding]:
    if text is None:
        return [_unchecked(f"runs {what} it builds at run time")]
    if depth >= MAX_DEPTH:
        return [_unchecked("runs code nested too deep to check")]
    return recurse(language, text, depth + 1)


def _code_call(language: str, rule: _CallRule, m: re.Match[str], args: list[str], variables: dict[str, str],
               place: Place, recurse: Recurse, depth: int) -> list[Finding]:
    action = rule.action
    first = _whole_literal(args[0], variables) if args else None
    if action == "rm":  # fs.rm(path, {recursive: true}) / fs.rmdir
        recursive = any(re.search(r"\brecursive\s*:\s*true", a) for a in args[1:])
        return [_deletes(recursive)]
    if action == "delete":
        return [_deletes("emptyDir" in m.group(0) or "rimraf" in m.group(0))]
    if action == "delete_tree":
        return [_deletes(True)]
    if action in ("write", "append", "empty"):
        how = {"write": "overwrites", "append": "appends to", "empty": "empties"}[action]
        if action == "write" and language == "javascript" and "createWriteStream" in m.group(0) and len(args) > 1 \
                and re.search(r"flags\s*:\s*['\"]a", args[1]):
            how = "appends to"
        if not args:
            return [_medium(f"{how} files", "writes_files")]
        if first is None:
            return [_medium("writes to files it names at run time", "writes_files")]
        f = write_finding(place, first, how)
        return [f] if f else []
    if action in ("copy", "move"):
        dest = _whole_literal(args[rule.arg], variables) if len(args) > rule.arg else None
        out: list[Finding] = []
        if action == "move":
            if dest is not None and dest.startswith("/dev/") and not dest.startswith("/dev/shm"):
                return [_high(f"deletes files (moves them to {dest})", "delete")]
            out.append(_medium(f"moves {_name(first) if first else 'files'}", "writes_files"))
        if dest is None:
            return [*out, _medium("copies over files it names at run time", "writes_files")]
        if place.kind(dest) == "dir" and first is not None:
            dest = os.path.join(dest, os.path.basename(first))
        f = write_finding(place, dest)
        return out + ([f] if f else [])
    if action == "perm":
        target = _whole_literal(args[rule.arg], variables) if len(args) > rule.arg else first
        return [_medium(f"changes the permissions of {_name(target) if target else 'files'}", "permissions")]
    if action == "open":
        if len(args) < 2:
            return []
        mode = _whole_literal(args[1], variables)
        if mode is None:
            if re.search(r"\b(?:File::)?(?:WRONLY|RDWR|TRUNC|APPEND|CREAT)\b", args[1]):
                mode = "w"
            elif re.match(r"^[A-Za-z_$][\w$]*$", args[1].strip()):
                return [_medium("opens files in a mode it picks at run time", "writes_files")]
            else:
                return []
        if "x" in mode or not re.search(r"[wa+]", mode):
            return []
        how = "appends to" if "a" in mode else ("changes" if "+" in mode and "w" not in mode else "overwrites")
        if first is None:
            return [_medium("writes to files it names at run time", "writes_files")]
        f = write_finding(place, first, how)
        return [f] if f else []
    if action == "shell":
        return _code_shell(language, m, args, variables, recurse, depth)
    if action == "eval":
        text = first if len(args) == 1 else (None if args else "")
        if "Function" in m.group(0) and args:
            text = _whole_literal(args[-1], variables)
        return _nested(language, text, recurse, depth, "code") if args else []
    return []


def _code_shell(language: str, m: re.Match[str], args: list[str], variables: dict[str, str],
                recurse: Recurse, depth: int) -> list[Finding]:
    name = m.group(0)
    if not args:
        return []
    if language == "ruby" and re.match(r"^\s*\{", args[0]):  # system({"ENV" => "x"}, "cmd")
        args = args[1:]
    words = [_whole_literal(a, variables) for a in args]
    array = re.fullmatch(r"\[(.*)\]", args[1].strip(), re.S) if len(args) > 1 else None
    if language == "javascript" and re.search(r"spawn|execFile|fork", name):
        program = words[0]
        if "fork" in name:
            return _nested("javascript", None, recurse, depth, "code")
        rest = [_whole_literal(a, variables) for a in _split_args(array.group(1))] if array else []
        if program is None or any(w is None for w in rest):
            return [_unchecked("runs programs it names at run time")]
        shell = len(args) > 2 and re.search(r"\bshell\s*:\s*true", args[-1])
        line = " ".join([program, *[w for w in rest if w is not None]]) if shell else shlex.join(
            [program, *[w for w in rest if w is not None]])
        return _nested("shell", line, recurse, depth, "commands")
    if language == "ruby" and len(args) > 1 and all(w is not None for w in words if w is not None):
        # system("rm", "-f", "x"): an argument vector
        literal = [w for w in words]
        if all(w is not None for w in literal):
            return _nested("shell", shlex.join([w for w in literal if w is not None]), recurse, depth, "commands")
    return _nested("shell", words[0], recurse, depth, "shell commands")


def unreadable_findings(language_name: str, code: str) -> list[Finding]:
    """Code in a language the rater does not read: medium, high when it names a destructive call."""
    if _DESTRUCTIVE_WORDS.search(code):
        return [_high(f"may delete files ({language_name} code the rater cannot check)", "delete")]
    return [_unchecked(f"cannot be checked (the rater does not read {language_name})")]
