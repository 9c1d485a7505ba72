"""Where the project's top-level data folders are: ``assets/`` and ``profiles/``.

They sit beside ``oi_voice/`` in the source tree (the project's layout) and are installed
into the package as ``oi_voice/assets`` and ``oi_voice/profiles_data`` (setup.py maps them
with ``package_dir``; packaging/oi-voice.spec puts them at the same place in the frozen
app). So one rule finds them everywhere: inside the package when installed from a wheel
or frozen, beside it in a checkout or an editable install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["data_dir"]

_PACKAGE = Path(__file__).resolve().parent
#: The name of each folder inside the installed package.
_INSTALLED = {"assets": "assets", "profiles": "profiles_data"}


def data_dir(name: Literal["assets", "profiles"]) -> Path:
    """The folder ``assets`` or ``profiles``, wherever this copy of oi_voice was installed from."""
    installed = _PACKAGE / _INSTALLED[name]
    return installed if installed.is_dir() else _PACKAGE.parent / name
