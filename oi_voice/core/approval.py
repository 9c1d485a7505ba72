"""Approval of code before it runs: requests, decisions, and the gate that pairs them.

Code runs only when approved. The loop asks the gate; whichever front end answers
first (a stream consumer's ``approve``/``decline``, an ``approver`` function, the
terminal prompt, the app's dialog, a spoken yes) resolves the request. Voice alone
never approves high-risk code.

"Always for this session" is decided here, in :meth:`ApprovalGate.covers`, for every
front end alike: it covers low risk; medium only when each kind of its effects is one
the user allowed in Settings (``approval.always_medium``); high never.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # The rater is imported at the first code block, not with the API (~20 ms of regexes).
    from oi_voice.core.risk import Risk

Source = Literal["auto", "api", "keyboard", "click", "voice", "timeout"]


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A run waiting for the user's word."""

    id: str
    language: str
    code: str
    risk: Risk
    #: One line a voice can say: "Run two lines of shell that delete files?"
    summary: str

    def to_content(self) -> dict[str, Any]:
        """The ``content`` of the LMC confirmation chunk."""
        return {"type": "code", "format": self.language, "content": self.code, "id": self.id,
                "risk": self.risk.to_dict(), "summary": self.summary}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to an ApprovalRequest."""

    action: Literal["run", "decline"]
    #: Edited code to run instead of the proposed code.
    code: str | None = None
    reason: str = ""
    #: "Always for this session": later low-risk runs need no approval (see ApprovalGate.covers).
    always: bool = False
    source: Source = "api"

    @classmethod
    def run(cls, code: str | None = None, *, always: bool = False, source: Source = "api") -> Decision:
        """Approve (optionally with edited code)."""
        return cls("run", code=code, always=always, source=source)

    @classmethod
    def decline(cls, reason: str = "", *, source: Source = "api") -> Decision:
        """Decline, with an optional reason the model will be told."""
        return cls("decline", reason=reason, source=source)


@dataclass
class _Pending:
    request: ApprovalRequest
    future: asyncio.Future[Decision]
    loop: asyncio.AbstractEventLoop


@dataclass
class ApprovalGate:
    """Pairs approval requests from the loop with decisions from any thread."""

    #: "Always for this session" was chosen: :meth:`covers` says which runs it takes.
    always: bool = False
    #: Kinds of medium effect (risk.KINDS) that "Always" also covers; set from Settings.
    always_medium: Collection[str] = ()
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def covers(self, risk: Risk) -> bool:
        """Whether "Always for this session" runs code of this risk without asking.

        The one place this is decided: low risk, yes; medium, only when every kind of its
        effects is in ``always_medium``; high, never (whatever a front end sent).
        """
        if not self.always:
            return False
        if risk.level == "low":
            return True
        from oi_voice.core.effects import KINDS

        allowed = {k for k in self.always_medium if k in KINDS}
        return risk.level == "medium" and bool(risk.kinds) and set(risk.kinds) <= allowed

    def new_id(self) -> str:
        """A fresh request id, unique within this gate."""
        return f"c{next(self._ids)}"

    def open(self, request: ApprovalRequest) -> asyncio.Future[Decision]:
        """Register ``request`` (on the engine loop); the future resolves with the decision."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision] = loop.create_future()
        with self._lock:
            self._pending[request.id] = _Pending(request, future, loop)
        future.add_done_callback(lambda _f: self._forget(request.id))
        return future

    def _forget(self, id_: str) -> None:
        with self._lock:
            self._pending.pop(id_, None)

    def pending(self) -> list[ApprovalRequest]:
        """Requests still waiting for an answer."""
        with self._lock:
            return [p.request for p in self._pending.values()]

    def is_pending(self, id_: str) -> bool:
        """Whether request ``id_`` still waits for an answer."""
        with self._lock:
            return id_ in self._pending

    def answer(self, id_: str, decision: Decision) -> bool:
        """Resolve request ``id_`` from any thread. Returns False when it is not pending
        (already answered, unknown) or when the decision is not allowed (voice alone on
        high-risk code), in which case the request stays open."""
        with self._lock:
            pending = self._pending.get(id_)
        if pending is None:
            return False
        if decision.action == "run" and decision.source == "voice" and pending.request.risk.level == "high":
            return False
        if decision.action == "run" and decision.always:
            self.always = True

        def resolve() -> None:
            if not pending.future.done():
                pending.future.set_result(decision)

        if _running_loop() is pending.loop:
            resolve()
        else:
            pending.loop.call_soon_threadsafe(resolve)
        return True

    def decline_all(self, reason: str) -> None:
        """Decline every open request (the turn is being cancelled)."""
        for request in self.pending():
            self.answer(request.id, Decision.decline(reason, source="api"))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
