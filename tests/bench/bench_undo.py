"""Undo of a run: snapshot time and disk use for a working folder of 1,000 files / 100 MB.

    .venv/bin/python tests/bench/bench_undo.py        # prints the figures
    (or as rows of ``tests/bench/run.py --only undo``)

Three snapshots of the same folder: for a run that only deletes (hard links), for one
that may write files in place (copies: reflinks where the file system has them), and
the restore after a run deleted and overwrote every file. Disk use is what the store
adds (blocks of the files it copied; hard links add none).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from oi_voice.core.risk import Risk
from oi_voice.core.undo import UndoStore

FILES = 1_000
TOTAL = 100 * 1024 * 1024


def make_folder(root: Path) -> None:
    """1,000 files in 10 folders, 100 MB in all (file sizes vary 1 KB .. ~400 KB)."""
    size = TOTAL // FILES
    chunk = os.urandom(size * 2)
    for i in range(FILES):
        folder = root / f"d{i % 10}"
        folder.mkdir(exist_ok=True)
        n = size // 2 + (i * 7919) % size if i % 50 else size * 4
        (folder / f"f{i}.bin").write_bytes(chunk[:max(1024, min(n, len(chunk)))])


def disk_use(path: Path) -> int:
    """Bytes of blocks under ``path`` counted once per inode not shared with the folder."""
    seen: set[int] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_nlink == 1 and st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_blocks * 512
    return total


def measure(reps: int = 3) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"links_s": [], "links_mb": [], "copies_s": [], "copies_mb": [], "restore_s": []}
    with tempfile.TemporaryDirectory(prefix="oi-bench-undo-") as tmp:
        root = Path(tmp, "work")
        root.mkdir()
        make_folder(root)
        store = UndoStore(Path(tmp, "store"), max_copy_bytes=512 * 1024 * 1024)
        for _ in range(reps):
            start = time.perf_counter()
            assert store.take(root, Risk("high", ("deletes files",))) is None
            out["links_s"].append(time.perf_counter() - start)
            out["links_mb"].append(disk_use(Path(tmp, "store")) / 2**20)
            start = time.perf_counter()
            assert store.take(root, Risk("medium", ("overwrites files",), ("writes_files",))) is None
            out["copies_s"].append(time.perf_counter() - start)
            out["copies_mb"].append(disk_use(Path(tmp, "store")) / 2**20)
            for i, path in enumerate(sorted(root.rglob("*.bin"))):
                if i % 2:
                    path.unlink()
                else:
                    path.write_bytes(b"x")
            start = time.perf_counter()
            result = store.undo()
            out["restore_s"].append(time.perf_counter() - start)
            assert result.ok and len(result.restored) == FILES, result.message
    return out


def rows(ctx: object) -> list[object]:
    """Rows of tests/bench/run.py (oi_voice only: Open Interpreter has no undo)."""
    from harness import OI, OI_VOICE, Row

    figures = measure(getattr(ctx, "reps", 3))
    missing = {OI: "Open Interpreter has no undo"}
    return [
        Row("undo: snapshot before a deleting run (hard links), 1,000 files / 100 MB", "s",
            {OI_VOICE: figures["links_s"]}, missing=missing),
        Row("undo: snapshot before a writing run (copies), 1,000 files / 100 MB", "s",
            {OI_VOICE: figures["copies_s"]}, missing=missing),
        Row("undo: disk use of the snapshot with copies", "MB", {OI_VOICE: figures["copies_mb"]}, missing=missing),
        Row("undo: restore after 500 deleted and 500 overwritten files", "s",
            {OI_VOICE: figures["restore_s"]}, missing=missing),
    ]


if __name__ == "__main__":
    figures = measure()
    for key, values in figures.items():
        print(f"{key}: median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})")
