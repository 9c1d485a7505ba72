"""Package discovery, the one part of the build that pyproject.toml cannot say: every
package under oi_voice/, plus the project's top-level data folders installed inside the
package (assets/ -> oi_voice/assets, profiles/ -> oi_voice/profiles_data; see
oi_voice/_data.py). Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

#: Installed package -> the top-level folder it is made from.
DATA_FOLDERS = {"oi_voice.assets": "assets", "oi_voice.profiles_data": "profiles"}


def packages() -> list[str]:
    """oi_voice's packages and the data folders' (their subfolders are packages of data too)."""
    found = find_namespace_packages(include=["oi_voice", "oi_voice.*"], exclude=["*.__pycache__"])
    for package, folder in DATA_FOLDERS.items():
        found += [package, *(f"{package}.{sub}" for sub in find_namespace_packages(where=folder))]
    return found


setup(packages=packages(), package_dir=DATA_FOLDERS)
