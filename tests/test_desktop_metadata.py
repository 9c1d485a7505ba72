"""Desktop conventions of the Linux package, checked on the sources (no build needed).

- the AppStream metadata validates (``appstreamcli validate``, Debian's ``appstream``), names
  the menu entry it launches, and its screenshots are the README's pictures in assets/screenshots;
- the menu entry validates (``desktop-file-validate``) and has Keywords and Categories;
- the Debian changelogs parse (``dpkg-parsechangelog``) and carry the version of pyproject.toml,
  as does the metainfo's newest release.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
METAINFO = LINUX / "oi-voice.metainfo.xml"
DESKTOP = LINUX / "oi-voice.desktop"


def project_version() -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found
    return found.group(1)


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (make system-deps installs it)")


def test_appstream_metadata_validates() -> None:
    needs("appstreamcli")
    # --no-net: the screenshots' URLs are checked below against the files they publish.
    done = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", "--explain", str(METAINFO)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation was successful" in done.stdout, done.stdout


def test_appstream_names_the_menu_entry_the_binaries_and_the_screenshots() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("launchable") == DESKTOP.name
    assert {b.text for b in root.iter("binary")} == {"oi-voice", "oi"}
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == project_version()
    images = [i.text or "" for i in root.iter("image")]
    assert images and root.find("screenshots/screenshot[@type='default']") is not None
    for url in images:
        # Published from the repository: each one is a picture this checkout has, of the size declared.
        name = url.rsplit("/assets/screenshots/", 1)[-1]
        assert url.startswith("https://") and (ROOT / "assets" / "screenshots" / name).is_file(), url
    for screenshot in root.iter("screenshot"):
        assert (screenshot.findtext("caption") or "").strip()


def test_the_menu_entry_validates_and_has_keywords_and_categories() -> None:
    needs("desktop-file-validate")
    done = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr  # no hint either
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(DESKTOP, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "oi-voice" and desktop["Icon"] == "oi-voice"
    assert "Development" in desktop["Categories"].split(";")
    keywords = set(desktop["Keywords"].split(";"))
    assert {"voice", "assistant", "code", "speech", "AI"} <= keywords
    for language in ("zh_CN", "ko_KR"):  # the app's own languages
        assert desktop[f"Keywords[{language}]"] and desktop[f"Comment[{language}]"]
    categories = {c.text for c in ET.parse(METAINFO).getroot().iter("category")}
    assert categories == {c for c in desktop["Categories"].split(";") if c}


@pytest.mark.parametrize(("changelog", "package"), [("changelog", "oi-voice"),
                                                    ("local-model.changelog", "oi-voice-local-model")])
def test_debian_changelogs_parse_and_carry_the_version(changelog: str, package: str) -> None:
    needs("dpkg-parsechangelog")
    fields = {}
    for field in ("Source", "Version", "Maintainer"):
        done = subprocess.run(["dpkg-parsechangelog", "-l", str(LINUX / changelog), "-S", field],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        fields[field] = done.stdout.strip()
    assert fields["Source"] == package
    assert fields["Version"] == project_version()
    assert "@" in fields["Maintainer"]
