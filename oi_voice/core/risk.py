"""Static risk rating of code before it runs, by what the code does.

:func:`rate` reads the code (it never runs it) and says how much could go wrong:

- ``high``: hard or impossible to undo, or takes over the machine: deleting files (any
  delete, in any language), destroying or compressing files in place, rewriting git
  history or discarding uncommitted changes, sudo, formatting or writing raw disks,
  running a download, opening up permissions recursively, SSH keys, /etc and other
  system files, shutdown, fork bombs, packages from outside the index, killing every
  process, cron. High-risk code is never approved by voice alone, and "Always for this
  session" never covers it.
- ``medium``: worth a look: overwriting, emptying, appending to, moving or editing a
  file that exists, permission changes, the network, writes outside the working
  folder, package installs, stopping programs, shell start-up files -- and whatever the
  rater cannot check (a command it does not know, a path or command built at run
  time, code that does not parse, a language it does not read).
- ``low``: reading, computing, printing, and creating new files.

Two layers: the effect readers of :mod:`oi_voice.core.effects` (a shell tokenizer,
Python's ``ast``, call patterns for JavaScript and Ruby; code that runs other code is
read in turn, recursively) and the rule tables below (regular expressions for what
shows in the text: sudo, disks, downloads piped into a shell ...). The reasons say in
words what was seen ("deletes files", "overwrites notes.txt"); each medium reason has a
kind (:data:`~oi_voice.core.effects.KINDS`) that the user may let "Always" cover.
It errs on the side of asking; it is not a sandbox. The spoken question is made in
:mod:`oi_voice.core.risk_words`.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from oi_voice.core.effects import (
    DELETES,
    DELETES_RECURSIVELY,
    KINDS,
    Finding,
    Level,
    Place,
    code_findings,
    python_findings,
    shell_findings,
    unreadable_findings,
)

__all__ = ["KINDS", "Level", "Risk", "language_name", "rate"]

log = logging.getLogger("oi_voice.risk")
_ORDER: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Risk:
    """How risky a piece of code looks, and why (short phrases a voice can say)."""

    level: Level
    reasons: tuple[str, ...] = ()
    #: The kinds (effects.KINDS) of the medium findings: what "Always" would have to cover.
    kinds: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, as sent in confirmation chunks: {"level": ..., "reasons": [...]}."""
        return {"level": self.level, "reasons": list(self.reasons)}

    @property
    def summary(self) -> str:
        """The reasons in one line, e.g. "deletes files recursively; uses sudo"."""
        return "; ".join(self.reasons) if self.reasons else "nothing risky found"


# --- languages ------------------------------------------------------------------------

_ALIASES: Final = {
    "bash": "shell", "sh": "shell", "zsh": "shell", "shell": "shell", "console": "shell",
    "py": "python", "python3": "python", "python": "python", "ipython": "python",
    "js": "javascript", "node": "javascript", "nodejs": "javascript", "javascript": "javascript",
    "ts": "javascript", "typescript": "javascript",
    "rb": "ruby", "ruby": "ruby",
    "ps1": "powershell", "pwsh": "powershell", "powershell": "powershell",
}
_DISPLAY: Final = {
    "python": "Python", "shell": "shell", "javascript": "JavaScript", "ruby": "Ruby", "r": "R",
    "powershell": "PowerShell", "applescript": "AppleScript", "html": "HTML", "java": "Java",
    "typescript": "TypeScript", "sql": "SQL", "perl": "Perl", "lua": "Lua", "go": "Go",
}
# Languages whose comments start with // and /* (the rest use #).
_SLASH_COMMENTS: Final = frozenset(
    {"javascript", "java", "c", "cpp", "go", "rust", "swift", "kotlin", "csharp"})


def _canonical(language: str) -> str:
    key = language.strip().lower()
    return _ALIASES.get(key, key)


def language_name(language: str) -> str:
    """The name to say for a language or alias: "bash" -> "shell", "py" -> "Python"."""
    lang = _canonical(language)
    return _DISPLAY.get(lang, language.strip() or "code")


# --- comments -------------------------------------------------------------------------


def _strip_comments(language: str, code: str) -> str:
    """The code without its comments; strings are kept (quote-aware, one pass).

    An unterminated quote keeps the rest of the code: when unsure, more is checked.
    """
    slash = language in _SLASH_COMMENTS
    shell = language in ("shell", "powershell")
    triple = language == "python"
    quotes = "'\"`" if (slash or shell or language == "ruby") else "'\""
    out: list[str] = []
    i, n = 0, len(code)
    start = 0
    while i < n:
        c = code[i]
        if c in quotes:
            if triple and code.startswith(c * 3, i):
                end = code.find(c * 3, i + 3)
                i = n if end < 0 else end + 3
                continue
            j = i + 1
            while j < n and code[j] != c:
                # Shell single quotes have no escapes; everywhere else a backslash escapes.
                if code[j] == "\\" and not (shell and c == "'"):
                    j += 1
                elif code[j] == "\n" and c != "`" and not shell and language != "ruby":
                    break  # strings end at the line's end in Python/JS
                j += 1
            i = j + 1
            continue
        comment = False
        if slash:
            comment = code.startswith("//", i) or code.startswith("/*", i)
        elif c == "#":
            # In shell, # starts a comment only at the start of a word ($#, ${#x} are not).
            comment = not shell or i == 0 or code[i - 1] in " \t\n;&|("
        if comment:
            out.append(code[start:i])
            if code.startswith("/*", i):
                end = code.find("*/", i + 2)
                i = n if end < 0 else end + 2
                out.append(" ")
            else:
                end = code.find("\n", i)
                i = n if end < 0 else end
            start = i
            continue
        i += 1
    out.append(code[start:])
    return "".join(out)


# --- rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    level: Level
    reason: str
    pattern: re.Pattern[str]
    group: str = ""  # within a group only the highest level's reason is kept


def _rule(level: Level, reason: str, pattern: str, group: str = "", flags: int = 0) -> _Rule:
    return _Rule(level, reason, re.compile(pattern, re.M | flags), group)


# A shell command word: at the start of a line or after a separator, quote or paren
# ("sudo rm", "; rm", '"rm"' in a Python list), and followed by a word end.
_B: Final = r"(?:^|(?<=[\s;&|(`'\"{]))"
_E: Final = r"(?=$|[\s;&|)`'\"])"
_SEG: Final = r"[^\n;&|]*"  # the rest of one simple command


def _cmd(names: str) -> str:
    return f"{_B}(?:{names}){_E}"


_RECURSIVE_FLAG: Final = r"\s(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)(?=[\s'\"]|$)"
_SYSTEM_DIR: Final = (r"\s/(?:(?:etc|usr|bin|sbin|boot|lib\w*|var|opt|root|home|sys|proc|dev|System"
                      r"|Library)\b|(?=\s|$))")
_DOWNLOAD: Final = r"(?:curl|wget|fetch|iwr|Invoke-WebRequest)"
_INTERPRETER: Final = r"(?:(?:ba|z|da|k|c|tc|fi)?sh|python[0-9.]*|perl|ruby|node|php|iex|Invoke-Expression)"

_SHELL_RULES: Final = (
    # high
    _rule("high", "deletes files recursively", _cmd("rm") + _SEG + _RECURSIVE_FLAG, "delete"),
    _rule("high", "deletes files recursively",
          r"\bfind\b" + _SEG + r"\s(?:-delete\b|-exec\s+rm\b)|\bgit\s+clean\s+-\w*[dxf]\w*[dxf]", "delete"),
    _rule("high", "deletes files recursively",
          r"\b(?:Remove-Item|ri|rd|rmdir|del)\b" + _SEG + r"\s(?:-Recurse|/s)\b", "delete", re.I),
    _rule("high", "uses sudo", _cmd("sudo")),
    _rule("high", "runs commands as root", _cmd(r"su|doas|pkexec|runas")),
    _rule("high", "formats or repartitions a disk",
          _cmd(r"mkfs(?:\.\w+)?|mke2fs|mkswap|wipefs|fdisk|sfdisk|gdisk|parted|diskpart|format\s+[a-zA-Z]:")),
    _rule("high", "writes directly to a disk",
          _cmd("dd") + _SEG + r"\bof=/dev/(?!null\b|zero\b|stdout\b|stderr\b|tty\b|fd/)"),
    _rule("high", "writes directly to a disk",
          r">\s*/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|md\d|dm-|mapper/|loop)"),
    _rule("high", "runs a script downloaded from the internet",
          rf"\b{_DOWNLOAD}\b[^\n;]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?{_INTERPRETER}\b", flags=re.I),
    _rule("high", "runs a script downloaded from the internet",
          rf"(?:\b(?:ba|z)?sh\s+(?:-c\s+)?|\beval\s+|\bsource\s+|\.\s+)[\"']?(?:\$\(|<\(|`)\s*{_DOWNLOAD}\b"),
    _rule("high", "runs a script downloaded from the internet",
          rf"\b(?:iex|Invoke-Expression)\b[^\n]*\b(?:{_DOWNLOAD}|DownloadString|irm|Invoke-RestMethod)\b",
          flags=re.I),
    _rule("high", "makes files writable by everyone, recursively",
          r"\bchmod(?=" + _SEG + _RECURSIVE_FLAG + r")(?=" + _SEG + r"\s(?:0?777|[ugoa]*\+rwx|o\+w)\b)",
          "perm"),
    _rule("high", "changes permissions of system files",
          r"\bch(?:mod|own|grp)(?=" + _SEG + _RECURSIVE_FLAG + r")(?=" + _SEG + _SYSTEM_DIR + r")", "perm"),
    _rule("high", "shuts down or restarts the computer",
          _cmd(r"shutdown|reboot|halt|poweroff|Stop-Computer|Restart-Computer")
          + r"|\b(?:tel)?init\s+[06]\b|\bsystemctl\s+(?:poweroff|reboot|halt|kexec|suspend|hibernate)\b"),
    _rule("high", "is a fork bomb", r"([\w:.-]+)\s*\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&[^}]*\}"),
    _rule("high", "installs a package from outside the package index",
          r"\bpip[0-9.]*\s+install\b" + _SEG
          + r"(?:\s[\"']?(?:https?://|git\+|hg\+|svn\+|bzr\+|file:)|\s(?:-i|-f|--index-url|--extra-index-url"
          r"|--find-links|--trusted-host)\b|\S\.(?:whl|tar\.gz|zip)\b)", "install"),
    _rule("high", "installs a package from outside the package index",
          r"\b(?:npm|pnpm|yarn|bun)\s+(?:i|install|add)\b" + _SEG
          + r"\s[\"']?(?:https?://|git\+|git:|github:|\S+\.tgz\b)",
          "install"),
    _rule("high", "kills every process",
          _cmd("kill") + r"\s+(?:-\S+\s+)*-1\s*(?:$|[;&|)])|\bkillall5\b", "kill"),
    _rule("high", "changes scheduled tasks", _cmd("crontab") + r"(?!" + _SEG + r"\s-l\b)"),
    _rule("high", "changes user accounts",
          _cmd(r"passwd|useradd|userdel|usermod|adduser|deluser|groupadd|visudo")),
    # medium
    _rule("medium", "deletes files",
          _cmd(r"rm|rmdir|unlink|shred|srm|trash|trash-put|gio\s+trash|Remove-Item")
          + r"|\bgit\s+clean\b", "delete"),
    _rule("medium", "discards uncommitted changes", r"\bgit\s+(?:reset\s+--hard|checkout\s+--\s|restore)\b"),
    _rule("medium", "uses the network",
          _cmd(r"curl|wget|ssh|scp|sftp|rsync|nc|ncat|netcat|socat|telnet|ftp|lftp|aria2c|http|https|xh|ping"
               r"|nmap|dig|nslookup|Invoke-WebRequest|iwr|Invoke-RestMethod|irm|ssh-copy-id")
          + r"|\bgit\s+(?:clone|push|pull|fetch|ls-remote|submodule\s+update)\b"),
    _rule("medium", "installs packages",
          r"\b(?:pip[0-9.]*|pipx|conda|mamba|micromamba)\s+install\b|\buv\s+(?:add|tool\s+install)\b"
          r"|\b(?:npm|pnpm|yarn|bun)\s+(?:i|install|add|ci)\b|\bnpx\s"
          r"|\b(?:apt|apt-get|aptitude|dnf|yum|zypper|apk|brew|port|snap|flatpak|gem|cargo|go|choco|winget|scoop)"
          r"\s+(?:-\S+\s+)*(?:install|add)\b|\bpacman\s+-S", "install"),
    _rule("medium", "stops other programs",
          _cmd(r"kill|pkill|killall|taskkill|xkill|Stop-Process"), "kill"),
    _rule("medium", "makes files writable by everyone",
          r"\bchmod" + _SEG + r"\s(?:0?777|[ugoa]*\+rwx|o\+w)\b", "perm"),
    _rule("medium", "changes file permissions",
          r"\bch(?:own|grp|mod)(?=" + _SEG + _RECURSIVE_FLAG + r")", "perm"),
    _rule("medium", "changes system services", r"\bsystemctl\s+(?:enable|disable|mask|stop|restart|start)\b"),
    _rule("medium", "changes the firewall", _cmd(r"iptables|nft|ufw|firewall-cmd")),
    _rule("medium", "changes your shell startup files", _cmd(r"setx")),
)

_HOME_EXPR: Final = (r"(?:expanduser|Path\.home\(\)|os\.homedir\(\)|Dir\.home|ENV\[.HOME.\]"
                     r"|process\.env\.HOME|getenv\(.HOME.\)|environ\[.HOME.\]|environ\.get\(.HOME.\)"
                     r"|\$HOME|\$\{HOME\}|USERPROFILE)")
_DOWNLOADED: Final = (r"(?:requests|urlopen|urllib|httpx|http\.client|fetch|axios|Net::HTTP|URI\.open"
                      r"|open-uri)")

# A recursive walk (os.walk, rglob, a "**" glob) and a delete in the same code.
_WALK: Final = r"(?:\bos\.walk\b|\.rglob\(|['\"][^'\"\n]*\*\*|recursive\s*=\s*True)"
_UNLINK: Final = r"(?:\bos\.(?:remove|unlink)|\.unlink)\s*\("

_PYTHON_RULES: Final = (
    _rule("high", "deletes files recursively", r"\b(?:shutil\.)?rmtree\s*\(", "delete"),
    _rule("high", "deletes files recursively",
          rf"{_WALK}[\s\S]*{_UNLINK}|{_UNLINK}[\s\S]*{_WALK}",
          "delete"),
    _rule("high", "is a fork bomb", r"\b(?:while|for)\b[^\n]*:(?:[^\n]*\n[ \t]+)*?[^\n]*\bos\.fork\s*\("),
    _rule("high", "runs code downloaded from the internet", rf"\b(?:exec|eval)\s*\([^\n]*{_DOWNLOADED}"),
    _rule("high", "kills every process", r"\bos\.kill\s*\(\s*-1\b", "kill"),
    _rule("high", "changes scheduled tasks", r"\bCronTab\s*\("),
    _rule("medium", "deletes files",
          r"\bos\.(?:remove|unlink|rmdir|removedirs)\s*\(|\.unlink\s*\(|\.rmdir\s*\(|\bsend2trash\b",
          "delete"),
    _rule("medium", "uses the network",
          r"^\s*(?:import|from)\s+(?:requests|urllib\d?|http\.client|http\.server|httpx|aiohttp|socket|ftplib"
          r"|smtplib|poplib|imaplib|telnetlib|paramiko|websockets?|pycurl|xmlrpc|asyncssh|fabric|boto3|openai"
          r"|selenium|scrapy|yfinance|wget|pytube|socketserver)\b"
          r"|\b(?:requests|httpx|socket|urllib\.request)\.\w+\s*\(|\burl(?:open|retrieve)\s*\("),
    _rule("medium", "installs packages", r"\bpip\.main\s*\(", "install"),
    _rule("medium", "stops other programs",
          r"\bos\.(?:kill|killpg)\s*\(|\.(?:kill|terminate)\s*\(\s*\)|\bsignal\.SIGKILL\b", "kill"),
)

_JS_RULES: Final = (
    _rule("high", "deletes files recursively",
          r"\bfs\w*\.(?:rm|rmdir)(?:Sync)?\s*\([^;]*?\brecursive\s*:\s*true|\brimraf\b"
          r"|\bfs\w*\.(?:remove|emptyDir)(?:Sync)?\s*\(",
          "delete"),
    _rule("high", "runs code downloaded from the internet", rf"\b(?:eval|Function)\s*\([^\n]*{_DOWNLOADED}"),
    _rule("high", "kills every process", r"\bprocess\.kill\s*\(\s*-1\b", "kill"),
    _rule("medium", "deletes files", r"\b(?:fs\w*\.)?(?:unlink|rm|rmdir)(?:Sync)?\s*\(", "delete"),
    _rule("medium", "uses the network",
          r"\bfetch\s*\(|\b(?:require\s*\(|from\s+|import\s*\()\s*['\"](?:node:)?(?:https?|net|dgram|tls|http2|dns"
          r"|axios|node-fetch|got|request|ws|socket\.io-client|ftp|ssh2|nodemailer|undici)['\"]"
          r"|\baxios\b|\bXMLHttpRequest\b|\bnew\s+WebSocket\b|\bhttps?\.(?:get|request)\s*\("),
    _rule("medium", "stops other programs",
          r"\bprocess\.kill\s*\(|\.kill\s*\(\s*(?:['\"]SIG\w+['\"])?\s*\)", "kill"),
)

_RUBY_RULES: Final = (
    _rule("high", "deletes files recursively",
          r"\bFileUtils\.(?:rm_rf|rm_r|remove_dir|remove_entry(?:_secure)?|rmtree)\b|\.rmtree\b", "delete"),
    _rule("high", "runs code downloaded from the internet",
          rf"\b(?:eval|instance_eval)\s*\(?[^\n]*{_DOWNLOADED}"),
    _rule("high", "is a fork bomb", r"\b(?:loop\s*(?:do|\{)|while\s+true)[^\n]*\n?[^\n]*\bfork\b"),
    _rule("medium", "deletes files",
          r"\bFile\.(?:delete|unlink)\b|\bFileUtils\.(?:rm|rm_f|remove|remove_file|rmdir)\b|\bDir\.(?:delete|rmdir|unlink)\b",
          "delete"),
    _rule("medium", "uses the network",
          r"\bNet::(?:HTTP|FTP|SMTP|SSH)\b|\brequire\s+['\"](?:net/\w+|open-uri|socket|httparty|faraday|rest-client)['\"]"
          r"|\bURI\.open\b|\b(?:TCP|UDP)Socket\b|\bHTTParty\b|\bFaraday\b|\bRestClient\b"),
    _rule("medium", "stops other programs", r"\bProcess\.kill\b", "kill"),
)

_LANGUAGE_RULES: Final = {"python": _PYTHON_RULES, "javascript": _JS_RULES, "ruby": _RUBY_RULES}

# Code in these languages that can run shell commands gets the shell rules too.
_RUNS_SHELL: Final = {
    "python": re.compile(
        r"\bos\.(?:system|popen|exec\w*|spawn\w*|posix_spawn\w*)\s*\(|\bsubprocess\b|\bpty\.spawn\b"
        r"|\bcommands\.\w+\(|^\s*!|^\s*%%?(?:bash|sh|system|sx|script|pip|conda)\b|\.system\s*\("
        r"|\bsh\.\w+\(", re.M),
    "javascript": re.compile(
        r"\bchild_process\b|\b(?:exec|execSync|execFile|execFileSync|spawn|spawnSync)\s*\(|\bBun\.spawn|\$`"
        r"|\bDeno\.(?:run|Command)\b|\bshelljs\b|\bzx\b"),
    "ruby": re.compile(r"`[^`]*`|%x[({\[]|\b(?:system|exec|spawn)\b\s*[( '\"]|\bOpen3\b|\bIO\.popen\b"),
}
# Turns ["rm", "-rf", "x"] (an argument list) into one command line for the shell rules.
_LIST_ARGS = re.compile(r"""(['"])\s*,\s*(?:['"])""")


# --- where code writes ----------------------------------------------------------------

_STRING = re.compile(r"""(['"`])((?:\\.|(?!\1)[^\\\n])*)\1""")
_SSH = re.compile(r"(?:^|[/\\])\.ssh(?:[/\\]|$)|authorized_keys|\bid_(?:rsa|dsa|ecdsa|ed25519)\b")
_SYSTEM_PATH = re.compile(
    r"^(?:/etc|/boot|/usr|/bin|/sbin|/lib\w*|/System|/Library|/var/spool/cron|[A-Za-z]:[\\/]Windows)"
    r"(?:[/\\]|$)", re.I)
_CRON_PATH = re.compile(r"^(?:/etc/cron|/var/spool/cron|/etc/anacrontab)")
_STARTUP = re.compile(
    r"(?:^|[/\\])\.(?:bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|cshrc|tcshrc)$"
    r"|\.config/fish/config\.fish$|(?:^|/)etc/environment$")
_DISK = re.compile(r"^/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|md\d|dm-|mapper/|loop)")
# Writes here change nothing that matters (the temp folders are scratch space by design).
_HARMLESS = re.compile(
    r"^(?:/dev/(?:null|zero|stdout|stderr|tty|fd/)|/tmp(?:/|$)|/var/tmp(?:/|$)|/private/tmp(?:/|$))")

# Shell: redirections, tee, and commands that change the paths they are given.
_REDIRECT = re.compile(r"(?:^|[^<>=-])(?:\d|&)?>{1,2}\|?[ \t]*(?!&)([^\s;&|<>()]+)", re.M)
_TEE = re.compile(r"\btee\s+([^\n;&|]+)")
_WRITE_CMD = re.compile(
    r"(?:^|(?<=[\s;&|(`'\"{]))(cp|mv|ln|install|rsync|scp|touch|mkdir|rm|rmdir|unlink|shred|truncate|chmod|chown"
    r"|chgrp|sed\s+(?:-\w+\s+)*-i\S*)(?=\s)([^\n;&|]*)", re.M)
_DEST_LAST = frozenset({"cp", "mv", "ln", "install", "rsync", "scp"})
_OUT_OPTION = re.compile(
    r"\bof=(\S+)|\b(?:curl|wget)\b[^\n;&|]*\s(?:-o|--output|-O|--output-document)\s+(\S+)")

# Other languages: a line with one of these writes (or deletes) a file ...
_WRITE_CALL: Final = {
    "python": re.compile(
        r"\bopen\s*\([^\n]*['\"][rbt]*[wax+][rbt+]*['\"]|\.write_(?:text|bytes)\s*\(|\.touch\s*\(|\.mkdir\s*\("
        r"|\.(?:unlink|rmdir|rename|symlink_to|hardlink_to)\s*\("
        r"|\bshutil\.(?:copy\w*|move|rmtree|make_archive|unpack_archive|chown)\s*\("
        r"|\bos\.(?:makedirs|mkdir|remove|unlink|rmdir|removedirs|rename|replace|chmod|chown|symlink|link|truncate)\s*\("),
    "javascript": re.compile(
        r"\b(?:writeFile|appendFile|mkdir|copyFile|rename|unlink|rmdir|createWriteStream|symlink|outputFile)(?:Sync)?\s*\("
        r"|\bfs\w*\.(?:rm|cp|chmod|chown|truncate)(?:Sync)?\s*\("),
    "ruby": re.compile(
        r"\bFile\.(?:write|delete|unlink|rename|symlink|chmod|chown|truncate)\b|\bFile\.open\s*\(?[^\n]*['\"][wa]"
        r"|\bFileUtils\.\w+|\bDir\.(?:mkdir|delete|rmdir|unlink)\b|\bIO\.write\b"),
}
# ... and in these calls the first path is only read (copy and move sources).
_COPY_CALL: Final = re.compile(
    r"\bshutil\.(?:copy\w*|move)\s*\(|\bos\.(?:rename|replace|link|symlink)\s*\(|\b(?:copyFile|cp|rename)(?:Sync)?\s*\("
    r"|\bFileUtils\.(?:cp\w*|mv|copy\w*|move|ln\w*)\b|\bFile\.(?:rename|symlink)\b|\.(?:rename|symlink_to)\s*\(")
# Lines that only read: their paths are not write targets even when a write elsewhere is opaque.
_READ_CALL: Final = {
    "python": re.compile(
        r"\bopen\s*\(|\.read_(?:text|bytes)\s*\(|\bos\.(?:listdir|scandir|walk|stat|access)\s*\("
        r"|\bos\.path\.(?:exists|isfile|isdir|getsize|getmtime|islink)\s*\(|\bglob\.\w+\s*\("
        r"|\.(?:exists|is_file|is_dir|iterdir|glob|rglob|stat)\s*\("),
    "javascript": re.compile(
        r"\b(?:readFile|readdir|exists|stat|lstat|access|createReadStream|readlink)(?:Sync)?\s*\("),
    "ruby": re.compile(
        r"\bFile\.(?:read|readlines|exists?\?|file\?|directory\?|size|foreach)|\bIO\.read"
        r"|\bDir\.(?:glob|entries|children)"),
}


def _is_pathlike(s: str) -> bool:
    return s.startswith(("/", "~", "$HOME", "${HOME}", "%USERPROFILE%", "..")) or bool(
        re.match(r"[A-Za-z]:[\\/]", s)) or bool(_SSH.search(s)) or bool(_STARTUP.search(s))


def _outside(path: str, cwd: str | None) -> bool:
    """Whether writing ``path`` changes something outside the working folder."""
    p = path.strip("'\"")
    if _HARMLESS.match(p):
        return False
    home = p.startswith(("~", "$HOME", "${HOME}", "%USERPROFILE%"))
    if home:
        if cwd is None:
            return True
        rest = re.sub(r"^(?:~|\$HOME|\$\{HOME\}|%USERPROFILE%)", "", p)
        p = os.path.expanduser("~") + rest
    elif re.match(r"[A-Za-z]:[\\/]", p):
        return True
    elif not p.startswith("/"):
        if not p.startswith("..") and "/../" not in p:
            return False
        if cwd is None:
            return True
        p = os.path.join(cwd, p)
    if cwd is None:
        return True
    p = os.path.normpath(p)
    base = os.path.normpath(cwd)
    return not (p == base or p.startswith(base.rstrip("/") + "/"))


def _shell_targets(text: str) -> list[str]:
    """Paths a shell script writes to (redirections, tee, cp/mv destinations, rm ...)."""
    targets = [m.group(1) for m in _REDIRECT.finditer(text)]
    for m in _TEE.finditer(text):
        targets += [a for a in _split(m.group(1)) if not a.startswith("-")]
    for m in _WRITE_CMD.finditer(text):
        args = [a for a in _split(m.group(2)) if not a.startswith("-")]
        if m.group(1) in _DEST_LAST:
            targets += args[-1:]
        else:
            targets += [a for a in args if _is_pathlike(a)]
    for m in _OUT_OPTION.finditer(text):
        targets.append(m.group(1) or m.group(2))
    return targets


def _split(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:  # unbalanced quotes
        return args.split()


def _code_targets(language: str, text: str) -> list[str]:
    """Paths Python/JavaScript/Ruby code may write to.

    Path literals on a line that writes count, except the source of a copy or move.
    A writing line without a path literal (``open(path, "w")``) makes the path literals
    of the other lines possible targets too (the path may be in a variable), except those
    on lines that only read.
    """
    write, read = _WRITE_CALL.get(language), _READ_CALL.get(language)
    if write is None or read is None:
        return []
    targets: list[str] = []
    others: list[str] = []
    opaque = False
    for line in text.splitlines():
        literals = [(m.start(), m.group(2)) for m in _STRING.finditer(line)]
        call = write.search(line)
        if call is None:
            if not read.search(line):
                others += [lit for _pos, lit in literals if _is_pathlike(lit)]
                if re.search(_HOME_EXPR, line):
                    others.append("~")
            continue
        copy = _COPY_CALL.search(line)
        if copy is not None:
            if copy.group().startswith("."):  # Path("a").rename("b"): the receiver is the source
                cut = copy.start()
            else:  # shutil.copy("a", "b"): the first argument is the source
                comma = line.find(",", copy.end())
                cut = comma if comma >= 0 else len(line)
            literals = [(pos, lit) for pos, lit in literals if pos >= cut]
        found = [lit for _pos, lit in literals if _is_pathlike(lit)]
        if re.search(_HOME_EXPR, line):
            found.append("~")
        targets += found
        opaque = opaque or not found
    return targets + others if opaque else targets


def _target_findings(targets: Iterable[str], text: str, cwd: str | None) -> list[tuple[Level, str, str]]:
    found: list[tuple[Level, str, str]] = []
    targets = list(targets)
    if any(_SSH.search(t) for t in targets):
        found.append(("high", "changes SSH keys", "ssh"))
    elif _SSH.search(text):
        found.append(("medium", "reads SSH keys", "ssh"))
    for t in targets:
        p = t.strip("'\"")
        if _DISK.match(p):
            found.append(("high", "writes directly to a disk", ""))
        elif _CRON_PATH.match(p):
            found.append(("high", "changes scheduled tasks", ""))
        elif _SYSTEM_PATH.match(p):
            found.append(("high", "changes system files", ""))
        elif _STARTUP.search(p):
            found.append(("medium", "changes your shell startup files", ""))
        if _outside(p, cwd):
            found.append(("medium", "changes files outside this folder", ""))
    return found



# --- rating ---------------------------------------------------------------------------

#: Kinds of the rule tables' medium reasons.
_RULE_KINDS: Final = {
    "uses the network": "network", "installs packages": "installs", "stops other programs": "stops_programs",
    "makes files writable by everyone": "permissions", "changes file permissions": "permissions",
    "changes system services": "system", "changes the firewall": "system", "reads SSH keys": "system",
    "changes your shell startup files": "system", "changes files outside this folder": "outside_folder",
}
_STRUCTURED: Final = frozenset({"shell", "python", "javascript", "ruby"})
# Languages that run nothing (a front end shows them): their text is not code to rate.
_INERT: Final = frozenset({"html", "markdown", "text", "json", "css", "csv", "yaml"})


def _finding(level: Level, reason: str, group: str) -> Finding:
    if reason == "deletes files":  # the rule tables knew deleting as medium: any delete is high
        level = "high"
    if reason == "discards uncommitted changes":
        level = "high"
    kind = _RULE_KINDS.get(reason, "system" if level == "medium" else "")
    return Finding(level, reason, group, kind)


def _apply(rules: Iterable[_Rule], source: str, *, deletes: bool = True) -> list[Finding]:
    """Findings of the rule tables; ``deletes=False`` leaves deleting to the effect readers."""
    return [_finding(rule.level, rule.reason, rule.group) for rule in rules
            if (deletes or (rule.group != "delete" and rule.reason != "discards uncommitted changes"))
            and rule.pattern.search(source)]


def _analyze(language: str, code: str, place: Place, cwd: str | None, depth: int) -> list[Finding]:
    lang = _canonical(language)
    if lang in _INERT:
        return []
    text = _strip_comments(lang, code)

    def recurse(inner_language: str, inner_code: str, inner_depth: int) -> list[Finding]:
        return _analyze(inner_language, inner_code, place, cwd, inner_depth)

    findings: list[Finding] = []
    targets: list[str] = []
    if lang == "shell":
        structured_shell, targets = shell_findings(text, place, recurse, depth)
        findings += structured_shell
        findings += _apply(_SHELL_RULES, text, deletes=False)
    elif lang in _LANGUAGE_RULES:
        structured = python_findings(code, place, recurse, depth) if lang == "python" else code_findings(
            lang, text, place, recurse, depth)
        if structured is None:  # Python that does not parse: the rule tables, and never low
            findings.append(Finding("medium", "is Python the rater cannot read (it does not parse)", "", "unchecked"))
        # The table's recursive-delete patterns (a walk and an unlink) say more than one call does.
        findings += _apply(_LANGUAGE_RULES[lang], text, deletes=structured is None or lang == "python")
        findings += structured or []
        targets = _code_targets(lang, text)
        if _RUNS_SHELL[lang].search(text):
            shellish = _LIST_ARGS.sub(" ", text)
            findings += _apply(_SHELL_RULES, shellish, deletes=structured is None)
            if structured is None or lang != "python":  # parsed Python: its commands were read above
                targets += _shell_targets(shellish)
    else:  # languages we have no reader for (R, PowerShell ...): the shell rules, and never low
        findings += _apply(_SHELL_RULES, text)
        findings += unreadable_findings(language_name(language), text)
        targets = _shell_targets(text)
    findings += [_finding(level, reason, group) for level, reason, group in _target_findings(targets, text, cwd)]
    return findings


def rate(language: str, code: str, *, cwd: str | None = None) -> Risk:
    """Rate ``code`` in ``language`` (canonical name or alias) before it runs.

    ``cwd`` is the folder the code will run in: writes inside it are not flagged as
    outside, and files are looked up there ("overwrites notes.txt" only when it
    exists). Without it, every absolute or home path counts as outside, and files are
    looked up in the process's working directory.
    """
    try:
        base = cwd or os.getcwd()
    except FileNotFoundError:
        base = os.path.expanduser("~")
    try:
        findings = _analyze(language, code, Place(base), cwd, 0)
    except Exception:  # a bug of the rater must not run code unasked, nor stop the turn
        log.exception("the risk rater failed on %s code", language)
        findings = [Finding("medium", "could not be checked (the rater failed on it)", "", "unchecked")]
    return _combine(findings)


def _combine(findings: list[Finding]) -> Risk:
    """Risk from findings: highest level first, duplicates and outranked group members dropped."""
    best: dict[str, int] = {}
    for f in findings:
        if f.group:
            best[f.group] = max(best.get(f.group, 0), _ORDER[f.level])
    kept: list[tuple[Level, str]] = []
    kinds: list[str] = []
    for f in findings:
        if f.group and _ORDER[f.level] < best[f.group]:
            continue
        if f.reason == DELETES and any(g.reason == DELETES_RECURSIVELY for g in findings):
            continue
        if f.level == "medium" and f.kind and f.kind not in kinds:
            kinds.append(f.kind)
        if all(r != f.reason for _l, r in kept):
            kept.append((f.level, f.reason))
    kept.sort(key=lambda item: -_ORDER[item[0]])  # stable: rule order within a level
    return Risk(kept[0][0] if kept else "low", tuple(reason for _l, reason in kept), tuple(sorted(kinds)))
