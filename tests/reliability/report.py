"""The reliability ledger: every fault a test tried, whether oi_voice survived it, and
how many complete messages were lost.

Tests record through the ``ledger`` fixture (tests/reliability/conftest.py); at the end
of the session the table is printed in pytest's summary and written as Markdown to
``$OI_VOICE_RELIABILITY_REPORT`` (default: ``<tmp>/oi-voice-reliability.md``).
``python tests/reliability/report.py FILE.json`` prints a saved ledger again.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    """One fault: how often it was tried, survived, and how many messages it lost."""

    area: str
    fault: str
    tried: int = 0
    survived: int = 0
    lost: int = 0


class Ledger:
    """Collects rows, keyed by (area, fault), from any thread."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Row] = {}
        self._lock = threading.Lock()

    def record(self, area: str, fault: str, *, survived: bool, lost: int = 0, tried: int = 1) -> None:
        """Count ``tried`` attempts of ``fault``; ``survived`` says all of them ended well."""
        with self._lock:
            row = self._rows.setdefault((area, fault), Row(area, fault))
            row.tried += tried
            row.survived += tried if survived else 0
            row.lost += lost

    def rows(self) -> list[Row]:
        """The rows in the order they were first recorded."""
        with self._lock:
            return [Row(**asdict(r)) for r in self._rows.values()]

    def markdown(self) -> str:
        """The closing-note table."""
        lines = ["| area | fault | tried | survived | messages lost |", "| --- | --- | ---: | ---: | ---: |"]
        rows = self.rows()
        for r in rows:
            lines.append(f"| {r.area} | {r.fault} | {r.tried} | {r.survived} | {r.lost} |")
        total = Row("all", "total", sum(r.tried for r in rows), sum(r.survived for r in rows),
                    sum(r.lost for r in rows))
        lines.append(f"| **{total.area}** | **{total.fault}** | **{total.tried}** | **{total.survived}** "
                     f"| **{total.lost}** |")
        return "\n".join(lines) + "\n"

    def save(self, path: Path) -> None:
        """Write the table (``.md``) and the rows (``.json`` beside it)."""
        path.write_text(self.markdown(), encoding="utf-8")
        path.with_suffix(".json").write_text(json.dumps([asdict(r) for r in self.rows()], indent=1),
                                             encoding="utf-8")


def report_path() -> Path:
    """Where the session's table is written."""
    override = os.environ.get("OI_VOICE_RELIABILITY_REPORT")
    return Path(override) if override else Path(tempfile.gettempdir()) / "oi-voice-reliability.md"


def main(argv: list[str]) -> int:
    """Print a saved ledger (the ``.json`` file next to the table) as the Markdown table."""
    path = Path(argv[1]) if len(argv) > 1 else report_path().with_suffix(".json")
    ledger = Ledger()
    for row in json.loads(path.read_text(encoding="utf-8")):
        ledger._rows[(row["area"], row["fault"])] = Row(**row)
    sys.stdout.write(ledger.markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
