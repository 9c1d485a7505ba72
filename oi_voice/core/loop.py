"""One turn: model stream -> code -> approval -> run -> output back to the model -> repeat.

``Turn.run()`` is an async generator of typed engine events (:mod:`oi_voice.core.events`). It appends every completed
message through ``commit`` (which also journals it), so ``messages`` always holds
whole messages: each code message is followed by its console message (the output,
or why it did not run), whatever happened — a decline, a failure, a cut stream or a
cancelled turn. Errors the model caused (bad tool arguments, an unknown language)
go back to the model as output; errors of the model server end the turn with an
:class:`~oi_voice.core.events.ErrorEvent`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oi_voice.computer import Computer, RunEvent
from oi_voice.computer.base import ActiveLine, Image, Output, Progress, RunFinished
from oi_voice.core import events as ev
from oi_voice.core import lmc
from oi_voice.core.approval import ApprovalGate, ApprovalRequest, Decision
from oi_voice.core.codeblocks import CodeDelta, CodeEnd, CodeStart, FenceParser, Text
from oi_voice.core.context import count_tokens, trim
from oi_voice.core.lmc import ASSISTANT, COMPUTER, Message
from oi_voice.core.output import OutputCollector
from oi_voice.core.toolcalls import (
    ToolCallError,
    parse_tool_arguments,
    partial_code,
    recover_tool_call,
    streamed_language,
)
from oi_voice.core.undo import UndoStore, snapshot_before_run
from oi_voice.errors import LLMBadRequestError, LLMError
from oi_voice.llm import ChatRequest, Finish, TextDelta, ToolCallDelta, client_for

Commit = Callable[[Message], None]


@dataclass
class TurnConfig:
    """Everything a turn needs, snapshotted from the interpreter when the turn starts."""

    request: ChatRequest
    transport: str
    system: str
    function_calling: bool
    vision: bool
    #: Tokens the history may take: context_window - max_tokens.
    context_budget: int
    #: Fence tags and aliases -> canonical names of the enabled languages.
    language_tags: dict[str, str]
    enabled: list[str]
    max_steps: int = 20
    max_output: int = 2800
    auto_run: bool = False
    safe_mode: str = "off"
    output_dir: Path = field(default_factory=lambda: Path("."))
    cwd: str | None = None
    #: Snapshots the working folder before medium- and high-risk runs (undo of the last run).
    undo: UndoStore | None = None


def execute_tool(languages: list[str]) -> dict[str, Any]:
    """The single tool the model is given."""
    return {
        "type": "function",
        "function": {
            "name": "execute",
            "description": "Executes code on the user's machine, in the user's local environment, "
                           "and returns the output.",
            "parameters": {
                "type": "object",
                "properties": {
                    "language": {"type": "string", "enum": languages,
                                 "description": "The programming language."},
                    "code": {"type": "string", "description": "The code to execute."},
                },
                "required": ["language", "code"],
            },
        },
    }


@dataclass
class _ToolCall:
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    language: str | None = None
    streamed: str = ""
    #: Its block was shown and closed while streaming (a later call started its own).
    shown: bool = False


class ReplyAssembler:
    """Turns the model's deltas into engine events and completed assistant messages."""

    def __init__(self, language_tags: dict[str, str]) -> None:
        self._tags = language_tags
        self._parser = FenceParser(language_tags)
        self._open: str | None = None  # "message" | "code" currently between flags
        self._code_format = ""
        self._text: list[str] = []
        self._code: list[str] = []
        self._calls: dict[int, _ToolCall] = {}
        #: The tool call whose code block is open, if the open block is a tool call's.
        self._open_call: int | None = None
        self.messages: list[Message] = []
        self.finish_reason: str | None = None
        #: A code block written as text is complete: the rest of the reply is not wanted.
        #: (Small models go on printing call after call; one block a step keeps them on track.)
        self.done = False

    # -- flags ------------------------------------------------------------------------

    def _close(self) -> list[ev.EngineEvent]:
        if self._open == "message":
            self._open = None
            text = "".join(self._text)
            self._text = []
            if text.strip():
                self.messages.append(lmc.piece(ASSISTANT, "message", text))
            return [ev.MessageEnd()]
        if self._open == "code":
            self._open = None
            self.messages.append(lmc.piece(ASSISTANT, "code", "".join(self._code), format=self._code_format))
            self._code = []
            return [ev.CodeEnd(self._code_format)]
        return []

    def _text_chunk(self, text: str) -> list[ev.EngineEvent]:
        out = [] if self._open == "message" else [*self._close(), ev.MessageStart()]
        self._open = "message"
        self._text.append(text)
        return [*out, ev.MessageDelta(text)]

    def _code_start(self, language: str) -> list[ev.EngineEvent]:
        out = self._close()
        self._open, self._code_format = "code", language
        return [*out, ev.CodeStart(language)]

    def _code_chunk(self, text: str) -> list[ev.EngineEvent]:
        self._code.append(text)
        return [ev.CodeDelta(self._code_format, text)]

    def _parsed(self, events: list[Any]) -> list[ev.EngineEvent]:
        out: list[ev.EngineEvent] = []
        for parsed in events:
            if self.done:
                break
            if isinstance(parsed, Text):
                if parsed.text:
                    out += self._text_chunk(parsed.text)
            elif isinstance(parsed, CodeStart):
                out += self._code_start(parsed.language)
            elif isinstance(parsed, CodeDelta):
                out += self._code_chunk(parsed.text)
            elif isinstance(parsed, CodeEnd):
                out += self._close()
                self.done = True
        return out

    # -- deltas -------------------------------------------------------------------------

    def feed(self, delta: TextDelta | ToolCallDelta | Finish) -> list[ev.EngineEvent]:
        """Events for one delta."""
        if isinstance(delta, TextDelta):
            return [] if self.done else self._parsed(self._parser.feed(delta.text))
        if isinstance(delta, ToolCallDelta):
            return self._tool_delta(delta)
        self.finish_reason = delta.reason
        return []

    def _tool_delta(self, delta: ToolCallDelta) -> list[ev.EngineEvent]:
        out: list[ev.EngineEvent] = []
        if not self._calls:
            # Text before a tool call is complete once the call begins.
            out += self._parsed(self._parser.close())
            self._parser = FenceParser(self._tags)
        call = self._calls.setdefault(delta.index, _ToolCall())
        if delta.index != max(self._calls):
            return out  # fragments of an earlier call: assembled at finish
        call.id = call.id or delta.id
        call.name = call.name or delta.name
        call.arguments += delta.arguments
        if call.language is None:
            call.language = streamed_language(call.arguments, self._tags)
            if call.language is not None:
                # The previous call's block ends on screen; it becomes a message at finish(),
                # once its arguments are known to be whole.
                out += self._end_shown_block()
                out += self._code_start(call.language)
                self._open_call = delta.index
        if call.language is not None:
            prefix = partial_code(call.arguments) or ""
            if prefix.startswith(call.streamed) and len(prefix) > len(call.streamed):
                out += self._code_chunk(prefix[len(call.streamed):])
                call.streamed = prefix
        return out

    def _end_shown_block(self) -> list[ev.EngineEvent]:
        """End the open tool-call block on screen without making it a message."""
        if self._open != "code" or self._open_call is None:
            return []
        self._calls[self._open_call].shown = True
        self._open, self._open_call, self._code = None, None, []
        return [ev.CodeEnd(self._code_format)]

    def finish(self) -> tuple[list[ev.EngineEvent], list[str]]:
        """Events that complete the reply, and problems with tool calls to tell the model.

        Each call becomes one code message, shown exactly as recorded: the block streamed
        for it is completed when its arguments agree with what was shown, else shown again.
        """
        out = [] if self.done else self._parsed(self._parser.close())
        problems: list[str] = []
        reshown = False  # once a block is shown again, later ones follow it, keeping the order
        for index in sorted(self._calls):
            call = self._calls[index]
            owns_open = self._open == "code" and self._open_call == index and not reshown
            try:
                language, code = parse_tool_arguments(call.name, call.arguments, self._tags)
            except ToolCallError as exc:
                if owns_open:
                    self._open, self._open_call, self._code = None, None, []  # never a message
                    out.append(ev.CodeEnd(self._code_format))
                problems.append(str(exc))
                continue
            if owns_open and call.language == language and code.startswith(call.streamed):
                rest = code[len(call.streamed):]
                if rest:
                    out += self._code_chunk(rest)
                self._code = [code]
                self._open_call = None
                out += self._close()
            elif call.shown and not reshown and call.language == language and code == call.streamed:
                self.messages.append(lmc.piece(ASSISTANT, "code", code, format=language))
            else:
                reshown = True
                out += self._end_shown_block()
                out += [*self._code_start(language), *self._code_chunk(code)]
                self._code = [code]
                out += self._close()
        out += self._end_shown_block()
        out += self._close()
        return out, problems

    def abort(self) -> list[ev.EngineEvent]:
        """Close what is open after the stream failed: text so far is kept, partial code dropped."""
        out = self._parsed(self._parser.close()) if not self._calls else []
        if self._open == "code":
            self._open, self._open_call = None, None
            self._code = []
            out.append(ev.CodeEnd(self._code_format))
        return out + self._close()


class Outcome(enum.Enum):
    """How one proposed code block ended."""

    #: It ran and finished.
    OK = "ok"
    #: It ran and failed, or could not run (an unknown language).
    FAILED = "failed"
    #: The user (or the repeat guard, once) declined it; for a reply: its calls were malformed,
    #: and the model was told why.
    DECLINED = "declined"
    #: The user stopped it while it ran: the turn ends.
    INTERRUPTED = "interrupted"
    #: The same code that just ran or failed was proposed again: the turn ends.
    REPEATED = "repeated"


#: What a step of a turn yields: events, and last, its Outcome.
_Items = AsyncGenerator["ev.EngineEvent | Outcome", None]


class _Step:
    """A step of the turn (a reply, a code block, a run): iterate ``events()``, then read
    ``outcome``. Closing ``events()`` closes the step at once, so what it was doing is
    committed before whoever stopped the turn goes on."""

    def __init__(self, items: _Items, default: Outcome = Outcome.OK) -> None:
        self._items = items
        self.outcome = default

    async def events(self) -> AsyncGenerator[ev.EngineEvent, None]:
        """The step's events; its Outcome is kept in ``outcome``."""
        async with contextlib.aclosing(self._items) as items:
            async for item in items:
                if isinstance(item, Outcome):
                    self.outcome = item
                else:
                    yield item


class Turn:
    """One user turn, run on the engine loop."""

    def __init__(self, config: TurnConfig, messages: list[Message], commit: Commit,
                 computer: Computer, gate: ApprovalGate) -> None:
        self.config = config
        self._messages = messages
        self._commit = commit
        self._computer = computer
        self._gate = gate
        self._failed: set[tuple[str, str]] = set()
        #: Code that ran fine this turn -> whether the model was already told not to repeat it.
        self._succeeded: dict[tuple[str, str], bool] = {}

    async def run(self) -> AsyncGenerator[ev.EngineEvent, None]:
        """Run the turn: the model's reply, then its code blocks, until it answers without code."""
        cfg = self.config
        for _ in range(cfg.max_steps):
            reply = ReplyAssembler(cfg.language_tags)
            step = _Step(self._reply(reply))
            async with contextlib.aclosing(step.events()) as events:
                async for event in events:
                    yield event
            if step.outcome is Outcome.FAILED:
                return  # the model failed: said by an ErrorEvent
            codes = [m for m in reply.messages if m["type"] == "code"]
            if not codes:
                if step.outcome is Outcome.DECLINED:
                    continue  # its calls were malformed: it was told, and tries again
                for event in self._answered(reply):
                    yield event
                return
            step = _Step(self._codes(codes))
            async with contextlib.aclosing(step.events()) as events:
                async for event in events:
                    yield event
            if step.outcome in (Outcome.INTERRUPTED, Outcome.REPEATED):
                return
        yield ev.ErrorEvent("loop", f"Stopped after {cfg.max_steps} steps without finishing (max_steps). "
                            "Say 'continue' to let it go on.")

    async def _reply(self, reply: ReplyAssembler) -> _Items:
        """One reply of the model, committed as it completes. Last item: FAILED if the model
        failed, DECLINED if some of its tool calls were malformed (they go back to it), else OK."""
        committed = 0
        try:
            async with contextlib.aclosing(self._stream(reply)) as events_in:
                async for event in events_in:
                    # Committed before the event that ends it is seen: a consumer that has
                    # seen a message end can rely on it being in messages and the journal.
                    committed = self._commit_new(reply, committed)
                    yield event
            events, problems = reply.finish()
            self._commit_new(reply, committed)
            for event in events:
                yield event
        except LLMError as exc:
            events = reply.abort()
            self._commit_aborted(reply, committed)
            for event in events:
                yield event
            yield ev.ErrorEvent("llm", _describe_llm_error(exc, self.config.request))
            yield Outcome.FAILED
            return
        except BaseException:
            reply.abort()
            self._commit_aborted(reply, committed)
            raise
        for problem in problems:
            # The model's malformed call goes back to it as the tool's answer.
            self._commit(lmc.piece(ASSISTANT, "code", "", format="unknown"))
            yield self._note(f"Error: {problem}")
        yield Outcome.DECLINED if problems else Outcome.OK

    def _answered(self, reply: ReplyAssembler) -> list[ev.EngineEvent]:
        """The model replied without code: the turn is over; say so if the reply is no answer."""
        if reply.finish_reason == "length":
            # Otherwise a reply cut at the limit looks like a finished one.
            limit = self.config.request.max_tokens
            return [ev.ErrorEvent("loop", f"The reply reached the token limit (max_tokens={limit}) and was "
                                  "cut off. Say 'continue' for more, or raise llm.max_tokens.")]
        if not any(m["type"] == "message" for m in reply.messages):
            return [ev.ErrorEvent("loop", "The model returned an empty reply, so the turn stopped.")]
        return []

    async def _codes(self, codes: list[Message]) -> _Items:
        """Propose and run a reply's code blocks in order. Last item: INTERRUPTED or REPEATED
        when the turn must end, else OK. Blocks that do not run still get their result."""
        for n, code in enumerate(codes):
            step = _Step(self._handle_code(code), Outcome.FAILED)
            try:
                async with contextlib.aclosing(step.events()) as events:
                    async for event in events:
                        yield event
            except BaseException:
                # The turn was cancelled: later blocks still get their (not run) result.
                self._not_run(codes[n + 1:], " The turn was cancelled.")
                raise
            outcome = step.outcome
            rest = codes[n + 1:]
            if outcome in (Outcome.DECLINED, Outcome.FAILED) and rest:
                self._not_run(rest, " An earlier block did not complete.")
                break
            if outcome in (Outcome.INTERRUPTED, Outcome.REPEATED):
                self._not_run(rest, "")
                if outcome is Outcome.REPEATED:
                    yield ev.ErrorEvent("loop", "The model proposed the same code again, so the turn stopped.")
                yield outcome
                return
        yield Outcome.OK

    def _note(self, text: str) -> ev.ConsoleOutput:
        """Record ``text`` as a code block's result and return the event that shows it."""
        self._commit(lmc.piece(COMPUTER, "console", text, format="output"))
        return ev.ConsoleOutput(text)

    def _not_run(self, codes: list[Message], why: str) -> None:
        # Each code message needs its result for the history to stay well formed.
        for _code in codes:
            self._commit(lmc.piece(COMPUTER, "console", lmc.NOT_RUN + why, format="output"))

    def _commit_aborted(self, reply: ReplyAssembler, committed: int) -> None:
        """Commit what a failed or cancelled reply completed; its code blocks never ran."""
        self._commit_new(reply, committed)
        self._not_run([m for m in reply.messages if m["type"] == "code"], " The reply was cut off.")

    def _commit_new(self, reply: ReplyAssembler, committed: int) -> int:
        for message in reply.messages[committed:]:
            self._commit(message)
        return len(reply.messages)

    async def _stream(self, reply: ReplyAssembler) -> AsyncGenerator[ev.EngineEvent, None]:
        cfg = self.config
        history = lmc.to_openai(self._messages, system=cfg.system, function_calling=cfg.function_calling,
                                vision=cfg.vision)
        messages = trim(history, cfg.context_budget)
        size = count_tokens(messages)
        if size > cfg.context_budget:
            # Even the latest turn alone does not fit: servers refuse it, or (Ollama) silently
            # drop its beginning. Say so instead of sending it.
            raise LLMBadRequestError(
                f"the conversation's latest turn is too long for the model's context: about {size} tokens, "
                f"and {cfg.context_budget} fit (llm.context_window minus llm.max_tokens). Shorten the message, "
                "or raise llm.context_window if the model takes more.")
        request = dataclasses.replace(
            cfg.request, messages=messages, tools=[execute_tool(cfg.enabled)] if cfg.function_calling else None)
        client = client_for(request, cfg.transport)
        async with contextlib.aclosing(client.stream(request)) as deltas:  # type: ignore[type-var]
            async for delta in deltas:
                for event in reply.feed(delta):
                    yield event
                if reply.done:
                    return  # closing the stream stops the model generating

    def _unavailable(self, language: str, resolved: str | None) -> str:
        """Why code in ``language`` cannot run here, for the model."""
        cfg = self.config
        names = ", ".join(cfg.enabled) or "none"
        if resolved is not None and resolved in self._computer.available_names():
            return f"{resolved} is disabled in the settings. Available languages: {names}."
        if resolved is not None:
            return f"{resolved} is not installed on this computer. Available languages: {names}."
        return f"{language or 'That language'} is not available here. Available languages: {names}."

    async def _handle_code(self, code: Message) -> _Items:
        """Approve and run one code message; its last item is the Outcome."""
        cfg = self.config
        language, text = str(code.get("format", "")), str(code.get("content", ""))
        wrapped = recover_tool_call(text, cfg.language_tags)
        if wrapped is not None:
            # The block holds a tool call printed as code (``functions.execute({...})``, or the
            # JSON of one): what it asks to run is proposed instead, and recorded as the code.
            language, text = wrapped
            code["format"], code["content"] = language, text
        resolved = self._computer.resolve(language)
        if resolved is None or resolved not in cfg.enabled:
            yield self._note(self._unavailable(language, resolved))
            yield Outcome.FAILED
            return
        key = (resolved, text.strip())
        if key in self._failed or self._succeeded.get(key):
            self._note(lmc.NOT_RUN + " It is the same code that just " + ("failed." if key in self._failed else "ran."))
            yield Outcome.REPEATED
            return
        if key in self._succeeded:
            # Small models echo a result back as code; once, they get told to answer instead.
            self._succeeded[key] = True
            yield self._note(lmc.NOT_RUN + " You already ran this exact code in this turn and its output is "
                             "above. Answer the user from that output now.")
            yield Outcome.DECLINED
            return

        # The rater loads at the first code block: importing the API stays quick (~20 ms of regexes).
        from oi_voice.core.risk import rate
        from oi_voice.core.risk_words import describe

        risk = rate(resolved, text, cwd=cfg.cwd)
        request = ApprovalRequest(self._gate.new_id(), resolved, text, risk, describe(resolved, text, risk))
        automatic = (cfg.auto_run and not (cfg.safe_mode != "off" and risk.level == "high")) or (
            self._gate.covers(risk))
        future = None if automatic else self._gate.open(request)
        try:
            # The request is open before the event is seen, so a consumer can answer at once.
            yield ev.ConfirmationRequest(request)
            decision = Decision.run(source="auto") if future is None else await future
        except BaseException:
            self._not_run([code], " The turn was cancelled.")
            raise
        if decision.action == "decline":
            reason = decision.reason.strip()
            yield self._note(f"{lmc.DECLINED}: {reason}" if reason else f"{lmc.DECLINED}.")
            yield Outcome.DECLINED
            return
        if decision.code is not None and decision.code != text:
            text = decision.code
            code["content"] = text  # messages record the code that actually ran
        if cfg.undo is not None and cfg.cwd is not None:
            ran = risk if text == request.code else rate(resolved, text, cwd=cfg.cwd)
            if risk.level != "low" or ran.level != "low":
                undo_note = await snapshot_before_run(cfg.undo, cfg.cwd, ran if ran.level != "low" else risk,
                                                      request.summary)
                if undo_note:
                    yield ev.ConsoleOutput(undo_note)
        step = _Step(self._run(resolved, text), Outcome.FAILED)
        async with contextlib.aclosing(step.events()) as events:
            async for event in events:
                yield event
        outcome = step.outcome
        if outcome is Outcome.FAILED:
            self._failed.add((resolved, text.strip()))
        elif outcome is Outcome.OK:
            self._succeeded.setdefault((resolved, text.strip()), False)
        yield outcome

    async def _run(self, language: str, code: str) -> _Items:
        cfg = self.config
        collector = OutputCollector(cfg.max_output, cfg.output_dir)
        images: list[Message] = []
        finished: RunFinished | None = None
        warned = False
        try:
            yield ev.ConsoleStart()
            event: RunEvent
            async for event in self._computer.run(language, code):
                if isinstance(event, Output):
                    shown = collector.add(event.text)
                    if shown:
                        yield ev.ConsoleOutput(shown)
                    elif not warned:
                        warned = True
                        yield ev.ConsoleOutput("\n[... output continues; the end is shown when the run "
                                               "finishes]\n")
                elif isinstance(event, RunFinished):
                    finished = event
                elif (out := run_event(event)) is not None:
                    if isinstance(out, ev.ImageOutput):
                        images.append(lmc.piece(COMPUTER, "image", out.data, format=out.format))
                    yield out
        except BaseException:
            collector.add("\n[Stopped: the turn was cancelled.]")
            self._commit(lmc.piece(COMPUTER, "console", collector.finish(), format="output"))
            for image in images:
                self._commit(image)
            raise
        if collector.overflowed_stream:
            yield ev.ConsoleOutput(collector.stream_tail_note())
        status = finished.status if finished else "error"
        note = _status_note(finished)
        if note:
            collector.add(note)
            yield ev.ConsoleOutput(note)
        yield ev.ConsoleEnd()
        self._commit(lmc.piece(COMPUTER, "console", collector.finish(), format="output"))
        for image in images:
            self._commit(image)
        yield {"ok": Outcome.OK, "interrupted": Outcome.INTERRUPTED}.get(status, Outcome.FAILED)


def run_event(event: RunEvent) -> ev.EngineEvent | None:
    """The engine event for a run event (None for RunFinished, which callers handle)."""
    if isinstance(event, Output):
        return ev.ConsoleOutput(event.text)
    if isinstance(event, ActiveLine):
        return ev.ActiveLine(event.line)
    if isinstance(event, Image):
        return ev.ImageOutput(event.format, event.data)
    if isinstance(event, Progress):
        return ev.Progress(event.kind, event.text)
    return None


def _status_note(finished: RunFinished | None) -> str:
    """What the output should say about how the run ended, beyond what it printed."""
    if finished is None:
        return "\n[The run ended without a result.]"
    if finished.status == "interrupted":
        return "\n[Stopped by the user.]" + (f" {finished.message}" if finished.message else "")
    if finished.status in ("died", "needs_input", "unavailable") or (finished.status == "error" and finished.message):
        return "\n" + finished.message
    return ""


def _describe_llm_error(exc: LLMError, request: ChatRequest) -> str:
    where = f" at {request.api_base}" if request.api_base else ""
    return f"The model ({request.model}{where}) failed: {exc}"
