"""The risk corpus: snippets in four languages, and how to run one in a throwaway folder
and see what it really did to the files there.

Every snippet only names files of the folder it runs in (``HOME`` points at a second
throwaway folder), so running them is safe. Moves onto /dev/null are rated in
tests/test_risk.py but not run here: as root, on a machine whose /dev shares the
temporary folder's file system, a rename would replace the device. ``expect`` is "low" for code that must be
rated low (reading, printing, making new files) and None where only the observed
effect decides what the rating must be at least.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Effect = Literal["deleted", "changed", "none", "error"]

FILES: dict[str, bytes] = {
    "notes.txt": b"my notes\n" * 20,
    "other.txt": b"other text\n",
    "important.txt": b"important\n" * 5,
    "secrets.txt": b"s3cret\n",
    "files.txt": b"notes.txt\nother.txt\n",
    "data/a.txt": b"a\n",
    "data/b.txt": b"b\n",
    "run.sh": b"#!/bin/sh\nrm -f notes.txt\n",
    "show.sh": b"#!/bin/sh\ncat notes.txt\n",
    "tidy.py": b"import os\nos.remove('other.txt')\n",
    "tidy.js": b"require('fs').unlinkSync('other.txt')\n",
    "tidy.rb": b"File.delete('other.txt')\n",
}


@dataclass(frozen=True)
class Snippet:
    """One piece of code of the corpus."""

    language: str
    code: str
    #: "low": must be rated low; None: the observed effect decides.
    expect: str | None = None
    #: Run inside a git repository with an uncommitted change to notes.txt.
    git: bool = False
    origin: str = "written"


def _s(language: str, code: str, expect: str | None = None, git: bool = False) -> Snippet:
    return Snippet(language, code, expect, git)


def _low(language: str, *codes: str) -> list[Snippet]:
    return [_s(language, c, "low") for c in codes]


WRITTEN: list[Snippet] = [
    # --- shell: deleting -----------------------------------------------------------------
    *[_s("shell", c) for c in (
        "rm notes.txt", "rm -f notes.txt other.txt", "rm -rf data", "rm -r -- data", "/bin/rm notes.txt",
        "rm *.txt", "rm -v notes.txt 2>/dev/null", "unlink notes.txt", "rm data/a.txt && rmdir data 2>/dev/null; true",
        "find . -name '*.txt' -delete", "find data -type f -exec rm {} \\;", "find . -name 'o*.txt' -exec rm -f {} +",
        "xargs rm < files.txt", "cat files.txt | xargs rm -f", "xargs -I{} rm {} < files.txt",
        "for f in *.txt; do rm \"$f\"; done", "ls *.txt | while read f; do rm \"$f\"; done",
        "shred -u secrets.txt", "shred secrets.txt", "gzip notes.txt",
        "bzip2 notes.txt", "xz other.txt", "bash -c 'rm notes.txt'", "sh -c \"rm -rf data\"",
        "eval 'rm notes.txt'", "echo $(rm notes.txt)", "echo `rm other.txt`", "x=$(rm -f notes.txt); echo $x",
        "python3 -c \"import shutil; shutil.rmtree('data')\"", "python3 -c 'import os; os.remove(\"notes.txt\")'",
        "node -e \"require('fs').rmSync('data', {recursive: true, force: true})\"",
        "node -e \"require('fs').unlinkSync('notes.txt')\"", "ruby -e 'File.delete(\"notes.txt\")'",
        "ruby -e 'require \"fileutils\"; FileUtils.rm_rf(\"data\")'", "sh run.sh", "./run.sh || sh run.sh",
        "python3 tidy.py", "node tidy.js", "ruby tidy.rb", "env rm notes.txt", "nice -n 5 rm notes.txt",
        "timeout 5 rm notes.txt", "command rm notes.txt", "cd data && rm a.txt",
        "del_it() { rm \"$1\"; }; del_it notes.txt", "python3 - <<'EOF'\nimport os\nos.remove('notes.txt')\nEOF",
        "bash <<EOF\nrm other.txt\nEOF", "perl -e 'unlink \"notes.txt\"'",
        "rsync -a --delete /dev/null/ data/ 2>/dev/null; rm -rf data",
        "zip -qm arch.zip notes.txt",
    )],
    # --- shell: emptying, overwriting, changing -------------------------------------------
    *[_s("shell", c) for c in (
        "truncate -s 0 notes.txt", ": > notes.txt", "> notes.txt", "echo hi > notes.txt", "echo hi >> notes.txt",
        "printf '' > notes.txt", "cat other.txt > notes.txt", "ls > notes.txt", "date >| notes.txt",
        "echo x 2> notes.txt 1>&2", "echo x &> notes.txt", "true > notes.txt", "cp other.txt notes.txt",
        "cp -f other.txt notes.txt", "cp other.txt data/a.txt", "mv other.txt notes.txt", "mv notes.txt data/",
        "mv notes.txt renamed.txt", "sed -i 's/my/your/' notes.txt", "sed -i.bak 's/my/your/' notes.txt",
        "perl -pi -e 's/my/your/' notes.txt", "chmod 600 notes.txt", "chmod +x notes.txt", "chmod -R 700 data",
        "echo hi | tee notes.txt", "echo hi | tee -a notes.txt",
        "dd if=/dev/zero of=notes.txt bs=1 count=3 2>/dev/null",
        "sort -o notes.txt other.txt", "truncate -s 1 important.txt", "ln -sf other.txt notes.txt",
        "tar cf notes.txt data", "bash -c 'echo x > notes.txt'", "python3 -c \"open('notes.txt','w').write('x')\"",
        "node -e \"require('fs').writeFileSync('notes.txt', 'x')\"", "ruby -e 'File.write(\"notes.txt\", \"x\")'",
        "echo $(echo x > notes.txt)", "f=notes.txt; echo x > $f", "echo x > \"$(echo notes.txt)\"",
        "for f in notes.txt other.txt; do echo x > $f; done", "cat > notes.txt <<EOF\nnew\nEOF",
        "exec 3> notes.txt", "awk '{print > \"notes.txt\"}' other.txt",
        "touch -d 2000-01-01 notes.txt; echo x >> notes.txt",
    )],
    # --- shell: git -----------------------------------------------------------------------
    *[_s("shell", c, git=True) for c in (
        "git reset --hard -q", "git checkout -- notes.txt", "git checkout -q -f HEAD", "git restore notes.txt",
        "git clean -fdq", "git stash -q", "git clean -fdxq", "git status --short",
    )],
    # --- shell: harmless ------------------------------------------------------------------
    *_low("shell", "ls -la", "cat notes.txt", "echo 'rm -rf /'", "grep -r notes .", "wc -l *.txt", "head -3 notes.txt",
          "echo hi > new.txt", "cp notes.txt copy.txt", "mkdir -p out && echo x > out/y.txt", "pwd; whoami; date",
          "cat <<EOF\nrm everything\nEOF", "python3 -c 'print(42)'", "node -e 'console.log(42)'",
          "ruby -e 'puts 42'", "find . -name '*.txt' | sort", "sort notes.txt | uniq -c", "echo $HOME",
          "x=5; echo $((x * 2))", "test -f notes.txt && echo yes", "diff notes.txt other.txt || true",
          "sha256sum notes.txt", "sh show.sh", "echo hi | tee new.txt", "tar cf new.tar data",
          "stat notes.txt > /dev/null", "ls | grep txt > list.txt", "printf '%s\\n' a b c",
          "seq 3 | awk '{print $1*2}'",
          "sed 's/my/your/' notes.txt", "if [ -d data ]; then echo dir; fi", "env | grep -c PATH > /dev/null"),
    # --- Python ---------------------------------------------------------------------------
    *[_s("python", c) for c in (
        "import os\nos.remove('notes.txt')", "import os\nos.unlink('notes.txt')",
        "from os import remove\nremove('notes.txt')",
        "from os import remove as r\nr('notes.txt')", "import os as o\no.remove('notes.txt')",
        "import shutil\nshutil.rmtree('data')", "from shutil import rmtree\nrmtree('data')",
        "import pathlib\npathlib.Path('notes.txt').unlink()", "from pathlib import Path\nPath('notes.txt').unlink()",
        "from pathlib import Path\nfor p in Path('.').glob('*.txt'):\n    p.unlink()",
        "from pathlib import Path\nfor p in Path('data').iterdir():\n    p.unlink()\nPath('data').rmdir()",
        "import os\nfor name in os.listdir('.'):\n    if name.endswith('.txt'):\n        os.remove(name)",
        "import os, glob\nfor f in glob.glob('*.txt'):\n    os.remove(f)",
        "import os\nfor root, dirs, files in os.walk('data'):\n"
        "    for f in files:\n        os.remove(os.path.join(root, f))",
        "import os\nos.system('rm notes.txt')", "import subprocess\nsubprocess.run(['rm', 'notes.txt'])",
        "import subprocess\nsubprocess.run('rm -rf data', shell=True)",
        "import subprocess\nsubprocess.call(['rm', '-r', 'data'])",
        "import subprocess as sp\nsp.check_call(['bash', '-c', 'rm notes.txt'])",
        "exec(\"import os; os.remove('notes.txt')\")", "eval(\"__import__('os').remove('notes.txt')\")",
        "import os\nos.replace('other.txt', 'notes.txt')",
        "import shutil\nshutil.move('other.txt', 'notes.txt')",
        "import os\nos.rmdir('data') if False else None\nimport shutil\nshutil.rmtree('data')",
        "f = 'notes.txt'\nimport os\nos.remove(f)",
        "import os\nnames = ['notes.txt', 'other.txt']\nfor n in names:\n    os.remove(n)",
        "import os\nos.remove(os.path.join('data', 'a.txt'))", "import os\nos.system('sh run.sh')",
        "import runpy\nrunpy.run_path('tidy.py')", "import os\nos.remove(input('file? ') if False else 'notes.txt')",
    )],
    *[_s("python", c) for c in (
        "open('notes.txt', 'w').close()", "open('notes.txt', 'w').write('x')",
        "with open('notes.txt', 'w') as f:\n    f.write('x')",
        "with open('notes.txt', 'a') as f:\n    f.write('x')", "with open('notes.txt', 'r+') as f:\n    f.write('XX')",
        "with open('notes.txt', 'wb') as f:\n    pass", "import io\nio.open('notes.txt', 'w').close()",
        "from pathlib import Path\nPath('notes.txt').write_text('x')",
        "from pathlib import Path\nPath('notes.txt').write_bytes(b'')",
        "import pathlib\np = pathlib.Path('data') / 'a.txt'\np.write_text('z')",
        "import os\nos.truncate('notes.txt', 0)",
        "with open('notes.txt', 'r+') as f:\n    f.truncate(0)", "import os\nos.chmod('notes.txt', 0o600)",
        "import shutil\nshutil.copy('other.txt', 'notes.txt')",
        "import shutil\nshutil.copyfile('other.txt', 'notes.txt')",
        "import shutil\nshutil.copy('other.txt', 'data')\nshutil.copy('other.txt', 'data/a.txt')",
        "import os\nos.system('echo x > notes.txt')",
        "import subprocess\nsubprocess.run(['truncate', '-s', '0', 'notes.txt'])",
        "import os\nfd = os.open('notes.txt', os.O_WRONLY | os.O_TRUNC)\nos.close(fd)",
        "name = 'notes.txt'\nwith open(name, 'w') as f:\n    f.write('y')",
        "import json\njson.dump({}, open('notes.txt', 'w'))",
        "for n in ['notes.txt', 'other.txt']:\n    open(n, 'w').write('')",
        "import os\nos.rename('notes.txt', 'moved.txt')",
        "mode = 'w'\nopen('notes.txt', mode).close()", "import sys\nopen(sys.argv[0] if False else 'notes.txt', 'w')",
        "exec(\"open('notes.txt', 'w')\")",
        "import subprocess\nsubprocess.check_output('sed -i s/my/x/ notes.txt', shell=True)",
    )],
    *_low("python", "print('hello')", "print(open('notes.txt').read())", "import os\nprint(os.listdir('.'))",
          "open('new.txt', 'w').write('x')", "with open('new.txt', 'x') as f:\n    f.write('y')",
          "import subprocess\nprint(subprocess.run(['ls'], capture_output=True).stdout)", "print('rm -rf /')",
          "from pathlib import Path\nprint(Path('notes.txt').read_text())", "import json\nprint(json.dumps({'a': 1}))",
          "s = 'a.txt'.replace('a', 'b')\nprint(s)", "import shutil\nshutil.copy('notes.txt', 'copy.txt')",
          "import os\nprint(os.path.exists('notes.txt'))", "x = [i * i for i in range(10)]\nprint(sum(x))",
          "import glob\nprint(sorted(glob.glob('*.txt')))", "import hashlib\nprint(hashlib.sha256(b'x').hexdigest())",
          "import os\nos.makedirs('newdir', exist_ok=True)", "d = {'remove': 1}\nprint(d['remove'])",
          "import re\nprint(re.sub('a', 'b', 'banana'))", "import csv\nprint(list(csv.reader(open('files.txt'))))",
          "import subprocess\nsubprocess.run(['cat', 'notes.txt'])"),
    # --- JavaScript -----------------------------------------------------------------------
    *[_s("javascript", c) for c in (
        "require('fs').unlinkSync('notes.txt')",
        "const fs = require('fs');\nfs.rmSync('data', {recursive: true, force: true});",
        "const fs = require('fs');\nfs.rmSync('notes.txt');",
        "const {unlinkSync} = require('fs');\nunlinkSync('notes.txt');",
        "const fs = require('fs');\nfor (const f of fs.readdirSync('data')) fs.unlinkSync('data/' + f);",
        "const fs = require('fs');\nfs.unlink('notes.txt', () => {});",
        "require('fs').promises.rm('data', {recursive: true})",
        "require('child_process').execSync('rm notes.txt')",
        "const cp = require('child_process');\ncp.spawnSync('rm', ['-rf', 'data']);",
        "const {execSync} = require('child_process');\nexecSync('sh run.sh');",
        "eval(\"require('fs').unlinkSync('notes.txt')\")",
        "new Function(\"require('fs').unlinkSync('notes.txt')\")",
        "const fs = require('fs');\nfs.writeFileSync('notes.txt', '');",
        "require('fs').writeFileSync('notes.txt', 'x')",
        "require('fs').appendFileSync('notes.txt', 'x')", "require('fs').truncateSync('notes.txt', 0)",
        "require('fs').copyFileSync('other.txt', 'notes.txt')", "require('fs').renameSync('other.txt', 'notes.txt')",
        "require('fs').chmodSync('notes.txt', 0o600)",
        "const fs = require('fs');\nconst s = fs.createWriteStream('notes.txt');\ns.end();",
        "const fs = require('fs');\nconst fd = fs.openSync('notes.txt', 'w');\nfs.closeSync(fd);",
        "const name = 'notes.txt';\nrequire('fs').writeFileSync(name, 'z');",
        "const path = require('path');\nrequire('fs').writeFileSync(path.join('data', 'a.txt'), 'z');",
        "require('child_process').execSync('echo x > notes.txt')", "require('fs').renameSync('notes.txt', 'moved.txt')",
    )],
    *_low("javascript", "console.log(42)", "console.log(require('fs').readFileSync('notes.txt', 'utf8'))",
          "require('fs').writeFileSync('new.txt', 'x')", "console.log(require('fs').readdirSync('.'))",
          "const a = [1, 2, 3];\na.splice(0, 1);\nconsole.log(a)", "console.log('rm -rf /')",
          "const m = new Map();\nm.delete('x');\nconsole.log(m.size)", "console.log(JSON.stringify({a: 1}))",
          "console.log(require('fs').existsSync('notes.txt'))", "require('fs').mkdirSync('newdir')"),
    # --- Ruby -----------------------------------------------------------------------------
    *[_s("ruby", c) for c in (
        "File.delete('notes.txt')", "File.unlink('notes.txt')", "require 'fileutils'\nFileUtils.rm_rf('data')",
        "require 'fileutils'\nFileUtils.rm('notes.txt')",
        "require 'fileutils'\nFileUtils.rm_f(['notes.txt', 'other.txt'])",
        "Dir.glob('*.txt').each { |f| File.delete(f) }", "system('rm notes.txt')", "`rm notes.txt`", "%x(rm other.txt)",
        "system('rm', '-rf', 'data')", "eval(\"File.delete('notes.txt')\")",
        "require 'pathname'\nPathname.new('notes.txt').delete",
        "File.write('notes.txt', '')", "File.write('notes.txt', 'x')",
        "File.open('notes.txt', 'w') { |f| f.puts 'x' }", "File.open('notes.txt', 'a') { |f| f.puts 'x' }",
        "File.truncate('notes.txt', 0)", "require 'fileutils'\nFileUtils.cp('other.txt', 'notes.txt')",
        "require 'fileutils'\nFileUtils.mv('other.txt', 'notes.txt')", "File.chmod(0600, 'notes.txt')",
        "name = 'notes.txt'\nFile.write(name, 'z')", "IO.write('notes.txt', 'x')", "system('echo x > notes.txt')",
        "File.rename('notes.txt', 'moved.txt')",
    )],
    *_low("ruby", "puts 42", "puts File.read('notes.txt')", "File.write('new.txt', 'x')", "puts Dir.children('.').sort",
          "a = [1, 2]\na.delete(1)\nputs a.inspect", "puts 'rm -rf /'", "h = {a: 1}\nh.delete(:a)\nputs h",
          "puts File.exist?('notes.txt')", "require 'json'\nputs({a: 1}.to_json)", "Dir.mkdir('newdir')"),
]


def setup_folder(root: Path, git: bool) -> None:
    """The files every snippet finds (and a git repository with an uncommitted change)."""
    for rel, data in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.chmod(root / "run.sh", 0o755)
    if git:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e"}
        subprocess.run("git init -q && git add -A && git commit -qm init", shell=True, cwd=root, env=env,
                       check=True, timeout=30)
        with open(root / "notes.txt", "ab") as f:
            f.write(b"uncommitted\n")
        (root / "untracked.txt").write_bytes(b"untracked\n")


def observe(root: Path) -> dict[str, tuple[str, int]]:
    """{relative path: (sha256, permission bits)} of the files under ``root`` (.git left out)."""
    seen: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            path = Path(dirpath, name)
            try:
                st = path.lstat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else "link"
            except OSError:
                continue
            seen[str(path.relative_to(root))] = (digest, stat.S_IMODE(st.st_mode))
    return seen


def effect_of(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> Effect:
    """"deleted" when a file's bytes are gone from the folder; "changed" when a file was
    emptied, overwritten, appended to, moved or had its permissions changed."""
    still = {digest for digest, _mode in after.values()}
    effect: Effect = "none"
    for rel, (digest, mode) in before.items():
        if rel not in after:
            if digest not in still:
                return "deleted"
            effect = "changed"  # moved: the bytes are elsewhere in the folder
        elif after[rel] != (digest, mode):
            effect = "changed"
    return effect


COMMANDS = {
    "shell": ["bash", "-c"],
    "python": [sys.executable, "-c"],
    "javascript": ["node", "-e"],
    "ruby": ["ruby", "-e"],
}


def run_snippet(snippet: Snippet, root: Path, home: Path, timeout: float = 20.0) -> Effect:
    """Run ``snippet`` in ``root`` (prepared) and say what it did to the files there."""
    before = observe(root)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        subprocess.run([*COMMANDS[snippet.language], snippet.code], cwd=root, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "error"
    return effect_of(before, observe(root))


def runtimes_missing() -> list[str]:
    """The language runtimes the corpus needs that are not installed."""
    return [name for name in ("bash", "node", "ruby", "git") if shutil.which(name) is None]
