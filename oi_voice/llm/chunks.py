"""OpenAI ``chat.completion.chunk`` objects -> ``Delta``s, shared by both clients."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oi_voice._unicode import scrub
from oi_voice.errors import LLMStreamError
from oi_voice.llm.base import Delta, Finish, TextDelta, ToolCallDelta
from oi_voice.llm.mapping import STREAM_CUT, error_from_payload, place_of


class ChunkReader:
    """Reads one reply's chunks in order and remembers how the reply ends.

    The finish reason and the usage arrive in separate chunks (usage comes last, after
    the finish chunk, when ``stream_options.include_usage`` is on), so ``Finish`` is only
    built by ``finish()`` once the stream is over.
    """

    def __init__(self, where: str = "") -> None:
        self.where = where
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        #: The server said ``[DONE]``.
        self.done = False

    def feed(self, chunk: Mapping[str, Any]) -> list[Delta]:
        """The deltas in one chunk (often none: role-only, finish and usage chunks).

        Raises ``LLMStreamError`` for a chunk that is not shaped like one.
        """
        try:
            return self._feed(chunk)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            place = place_of(self.where)
            raise LLMStreamError(f"the model server{place} sent a malformed chunk ({exc}): {chunk!r:.200}") from None

    def _feed(self, chunk: Mapping[str, Any]) -> list[Delta]:
        if chunk.get("error"):
            raise error_from_payload(chunk["error"], where=self.where)
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.prompt_tokens = _int(usage.get("prompt_tokens"), self.prompt_tokens)
            self.completion_tokens = _int(usage.get("completion_tokens"), self.completion_tokens)
        out: list[Delta] = []
        for choice in chunk.get("choices") or ():
            # We always ask for one choice; a server adding more must not mix them in.
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                out.append(TextDelta(scrub(str(content))))
            for position, call in enumerate(delta.get("tool_calls") or ()):
                fn = call.get("function") or {}
                # Some servers (older Ollama) omit the index when each call comes whole.
                frag = ToolCallDelta(
                    index=int(call.get("index", position)),
                    id=call.get("id") or None,
                    name=fn.get("name") or None,
                    arguments=scrub(str(fn.get("arguments") or "")),
                )
                if frag.id or frag.name or frag.arguments:
                    out.append(frag)
            legacy = delta.get("function_call")  # pre-tools servers
            if legacy and (legacy.get("name") or legacy.get("arguments")):
                name = legacy.get("name")
                out.append(ToolCallDelta(index=0, name=scrub(str(name)) if name else None,
                                         arguments=scrub(str(legacy.get("arguments") or ""))))
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return out

    def finish(self) -> Finish:
        """The final delta; raises ``LLMStreamError`` when the reply never said it was done."""
        if self.finish_reason is None and not self.done:
            place = place_of(self.where)
            raise LLMStreamError(STREAM_CUT + place)
        return Finish(self.finish_reason, self.prompt_tokens, self.completion_tokens)


def _int(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) else default
