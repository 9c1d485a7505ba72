"""Fixtures of the reliability suite: the ledger of faults tried, and an interpreter
pointed at the scripted model server with a private data folder."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from scripted_llm import ScriptedLLM

from oi_voice import Interpreter
from reliability.common import journal, lost
from reliability.report import Ledger, report_path

_LEDGER = Ledger()


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    """The session's record of faults tried (printed at the end)."""
    return _LEDGER


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Interpreter]:
    """The module's interpreter, reset and pointed at this test's scripted model server."""
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    shared.reset()
    shared.llm.model = "scripted-model"
    shared.llm.api_base = llm_server.url
    shared.llm.api_key = "sk-test"
    shared.llm.supports_functions = True
    shared.llm.transport = "openai"
    shared.llm.context_window = None
    shared.llm.max_tokens = None
    shared.llm.max_retries = 1
    shared.llm.timeout = 60.0
    shared.auto_run = True
    shared.approver = None
    shared.max_steps = 20
    shared.max_output = 2800
    shared.gate.always = False
    yield shared
    shared.flush()


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fault`` marker."""
    config.addinivalue_line("markers", "fault(area, name): the fault a test tries, for the ledger")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                                            pytest.TestReport]:
    """Record a ``fault``-marked test in the ledger: survived when it passed; messages lost
    are those in its interpreter's ``messages`` missing from the journal."""
    report = yield
    marker = item.get_closest_marker("fault")
    if marker is not None and report.when == "call":
        missing = 0
        interp = getattr(item, "funcargs", {}).get("interp")
        if isinstance(interp, Interpreter) and interp.conversation_path is not None:
            missing = lost(interp.messages, journal(interp))
        _LEDGER.record(marker.args[0], marker.args[1], survived=report.passed, lost=missing)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the faults table and save it."""
    if not _LEDGER.rows():
        return
    path = report_path()
    _LEDGER.save(path)
    terminalreporter.section("reliability: faults tried")
    terminalreporter.write(_LEDGER.markdown())
    terminalreporter.write_line(f"(saved to {path})")
