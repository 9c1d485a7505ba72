"""Build the Linux package: PyInstaller bundle -> Debian tree -> ``dpkg-deb``.

    .venv/bin/python packaging/build_deb.py                      # dist/oi-voice_VERSION_ARCH.deb, xz
    .venv/bin/python packaging/build_deb.py --compress gzip --level 1 --out /tmp/x   # fast (tests)

The package installs

    /opt/oi-voice/                       the PyInstaller bundle (oi-voice + _internal/)
    /usr/bin/oi-voice                    a launcher: exec /opt/oi-voice/oi-voice "$@"
    /usr/share/applications/oi-voice.desktop
    /usr/share/icons/hicolor/{16..512}/apps/oi-voice.png, scalable/apps/oi-voice.svg
    /usr/share/doc/oi-voice/copyright

and has no maintainer scripts: dpkg's own triggers refresh the icon and menu caches.

The bundle is built once per input: a key over the spec, the entry point, every file of
oi_voice/, assets/ and profiles/, the Python version and every installed distribution's name and version is
written into the bundle; a bundle with the same key is reused, any change rebuilds it.
A lock file serialises builds of the same checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "assets" / "app"
SPEC = PACKAGING / "oi-voice.spec"
ENTRY = PACKAGING / "oi_voice_entry.py"
BUILD = ROOT / "build" / "pyinstaller"
BUNDLE = BUILD / "dist" / "oi-voice"
KEY_FILE = "oi-voice-build-key.txt"  # inside the bundle's _internal/
NAME = "oi-voice"
PREFIX = "/opt/oi-voice"

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
#: The shell language is bash (essential); node and ruby runs need their interpreters.
RECOMMENDS = ["pulseaudio | pipewire-pulse", "nodejs", "ruby"]

DESCRIPTION = """\
Let a language model run code on your computer, by voice or keyboard
 oi-voice is an Open-Interpreter-like assistant: a model writes code, you approve it,
 and it runs on your machine (Python in a Jupyter kernel, shell, JavaScript, Ruby).
 Push-to-talk speech recognition (faster-whisper, offline), spoken replies (espeak-ng),
 a chat window with the model's code, its output and plots, and approval dialogs.
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


def _copy_tree(source: Path, target: Path) -> None:
    """Hard links where possible (the staging tree is read once by dpkg-deb), copies otherwise."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def stage(bundle: Path, root: Path, pkg_version: str, arch: str) -> None:
    """The package's file tree and DEBIAN/control under ``root``."""
    if root.exists():
        shutil.rmtree(root)
    opt = root / PREFIX.lstrip("/")
    opt.parent.mkdir(parents=True)
    _copy_tree(bundle, opt)
    (opt / "_internal" / KEY_FILE).unlink(missing_ok=True)  # a build detail, not part of the app
    usr = root / "usr"
    launcher = usr / "bin" / NAME
    launcher.parent.mkdir(parents=True)
    launcher.write_text(f'#!/bin/sh\nexec {PREFIX}/{NAME} "$@"\n')
    launcher.chmod(0o755)
    apps = usr / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / f"{NAME}.desktop", apps / f"{NAME}.desktop")
    icons = usr / "share" / "icons" / "hicolor"
    for png in sorted(ICONS.glob(f"{NAME}-*.png")):
        size = png.stem.rsplit("-", 1)[1]
        folder = icons / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(png, folder / f"{NAME}.png")
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copy2(ICONS / f"{NAME}.svg", icons / "scalable" / "apps" / f"{NAME}.svg")
    doc = usr / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "copyright", doc / "copyright")
    for path in [root, *root.rglob("*")]:  # whatever the umask: 755 folders, 644/755 files
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
    installed_kib = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    control = root / "DEBIAN" / "control"
    control.parent.mkdir(mode=0o755)
    control.write_text(
        f"Package: {NAME}\n"
        f"Version: {pkg_version}\n"
        f"Architecture: {arch}\n"
        "Maintainer: oi_voice developers <oi-voice@users.noreply.github.com>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Section: devel\n"
        "Priority: optional\n"
        "Homepage: https://github.com/oi-voice/oi-voice\n"
        f"Description: {DESCRIPTION}")
    control.chmod(0o644)


def build_deb(out: Path, compress: str = "xz", level: int | None = None, force: bool = False) -> Path:
    """Build the .deb into ``out``; its path."""
    pkg_version = version()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    with locked(BUILD / ".lock"):
        bundle = ensure_bundle(force)
        root = ROOT / "build" / "deb" / f"{NAME}_{pkg_version}_{arch}"
        stage(bundle, root, pkg_version, arch)
        out.mkdir(parents=True, exist_ok=True)
        deb = out / f"{NAME}_{pkg_version}_{arch}.deb"
        started = time.monotonic()
        cmd = ["dpkg-deb", "--root-owner-group", f"-Z{compress}"]
        if level is not None:
            cmd.append(f"-z{level}")
        subprocess.run([*cmd, "--build", str(root), str(deb)], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(root)
    log(f"{deb} ({deb.stat().st_size / 1e6:.0f} MB, {compress}) in {time.monotonic() - started:.0f} s")
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the oi-voice .deb (PyInstaller bundle under /opt/oi-voice).")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes (default dist/)")
    parser.add_argument("--compress", default="xz", choices=["xz", "gzip", "zstd", "none"],
                        help="dpkg-deb compressor (default xz, readable by every dpkg)")
    parser.add_argument("--level", type=int, help="compression level (dpkg-deb -z)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the bundle even if it is up to date")
    args = parser.parse_args(argv)
    print(build_deb(args.out.resolve(), args.compress, args.level, args.rebuild))
    return 0


if __name__ == "__main__":
    sys.exit(main())
