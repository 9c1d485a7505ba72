"""The typed event stream and the one bridge from the engine loop to other threads and loops."""

from __future__ import annotations

import asyncio
import dataclasses
import queue
from pathlib import Path

import pytest
from helpers import point_at
from scripted_llm import ScriptedLLM, combine, text, tool_call

from oi_voice import Interpreter
from oi_voice.core import events as ev
from oi_voice.core.engine_thread import END, EngineThread
from oi_voice.core.lmc import message_events, to_chunk


@pytest.fixture
def interp(shared: Interpreter, llm_server: ScriptedLLM, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Interpreter:
    monkeypatch.setenv("OI_VOICE_DATA_DIR", str(tmp_path / "data"))
    return point_at(shared, llm_server.url)


def _all_event_types() -> list[type[ev.EngineEvent]]:
    return [t for t in vars(ev).values()
            if isinstance(t, type) and issubclass(t, ev.EngineEvent) and t is not ev.EngineEvent]


def test_every_event_type_has_one_lmc_chunk() -> None:
    for kind in _all_event_types():
        assert dataclasses.is_dataclass(kind)
        fields = {f.name: f.type for f in dataclasses.fields(kind)}
        # Made with placeholder values: the conversion must know every type.
        values = {name: (None if name == "request" else 1 if name == "line" else "x") for name in fields}
        if "request" in values:
            continue  # needs an ApprovalRequest: covered by the public API's stream
        chunk = to_chunk(kind(**values))
        assert {"role", "type"} <= set(chunk), kind


def test_stream_events_and_their_chunks_match(interp: Interpreter, llm_server: ScriptedLLM) -> None:
    interp.auto_run = True
    llm_server.add(combine(text("Let me check."), tool_call("python", "print(6*7)")), text("42."))
    events = list(interp.events("what is 6*7?"))
    kinds = [type(e) for e in events if not isinstance(e, ev.ActiveLine | ev.MessageDelta | ev.CodeDelta)]
    assert kinds[:8] == [ev.MessageStart, ev.MessageEnd, ev.CodeStart, ev.CodeEnd, ev.ConfirmationRequest,
                         ev.ConsoleStart, ev.ConsoleOutput, ev.ConsoleEnd]
    confirmation = next(e for e in events if isinstance(e, ev.ConfirmationRequest))
    assert to_chunk(confirmation) == {"role": "computer", "type": "confirmation", "format": "execution",
                                      "content": confirmation.request.to_content()}
    # A stored conversation replays as the events that streamed it.
    replayed = [e for m in interp.messages for e in message_events(m)]
    assert ev.CodeDelta("python", "print(6*7)") in replayed and ev.ConsoleOutput("42\n") in replayed


def test_pump_and_relay_turn_a_busy_interpreter_into_an_error_event(interp: Interpreter,
                                                                     llm_server: ScriptedLLM) -> None:
    llm_server.add(tool_call("python", "print('first')"), text("ok"))
    first = interp.events("first")
    try:
        request = next(e for e in first if isinstance(e, ev.ConfirmationRequest))  # the turn waits here
        engine = EngineThread.get()
        got: queue.Queue[object] = queue.Queue()
        engine.pump(interp.achat("second"), got.put).result(timeout=10)
        assert got.get(timeout=5) == ev.ErrorEvent("busy", "a turn is already running on this interpreter")
        assert got.get(timeout=5) is END

        async def on_another_loop() -> list[ev.EngineEvent]:
            return [e async for e in engine.relay(interp.achat("third"), role="server")]

        relayed = asyncio.run(on_another_loop())
        assert [(e.kind, e.role) for e in relayed if isinstance(e, ev.ErrorEvent)] == [("busy", "server")]
        assert len(relayed) == 1
        assert interp.decline(request.request.id, "not now")
    finally:
        first.close()
    assert not interp.busy


def test_ctrl_c_in_a_pull_returns_only_once_the_turn_has_unwound() -> None:
    # Ctrl-C lands while the consumer waits for the next event. The pull is cancelled on the
    # engine loop and unwinds there (a turn stops its code, writes its journal ...); iterate()
    # must not hand control back before that is over, or the next message finds a busy
    # interpreter ("a turn is already running").
    import os
    import signal
    import threading

    engine = EngineThread.get()
    waiting = threading.Event()
    unwound = threading.Event()

    async def turn() -> object:
        try:
            yield "first"
            waiting.set()
            await asyncio.Event().wait()  # the model is slow: the consumer waits here
            yield "never"
        finally:
            await asyncio.sleep(0.3)  # stands for the work of stopping a turn
            unwound.set()

    def interrupt() -> None:
        waiting.wait(10)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    seen = []
    with pytest.raises(KeyboardInterrupt):
        for item in engine.iterate(turn()):
            seen.append(item)
    assert seen == ["first"]
    assert unwound.is_set()  # not merely scheduled: done before Ctrl-C reached the caller
