"""LMC messages and chunks (Open Interpreter 0.4's shapes) and their OpenAI form.

A *message* is a complete dict in ``interpreter.messages``:
``{'role': 'assistant', 'type': 'code', 'format': 'python', 'content': 'print(1)'}``.
A *chunk* is what a stream yields: the same keys, plus ``start``/``end`` flag chunks
and ``active_line`` chunks, which are never stored as messages.

Every ``assistant``/``code`` message is followed, in ``messages``, by exactly one
``computer``/``console``/``output`` message (its result, or why it did not run) and
optionally ``computer``/``image`` messages. ``to_openai`` relies on that order.

Inside the program the stream is typed (:mod:`oi_voice.core.events`); :func:`to_chunk`
is the one conversion to chunks, used at the edges (``Interpreter.chat()``, the server).
"""

from __future__ import annotations

import json
from typing import Any

from oi_voice._unicode import scrub
from oi_voice.core import events as ev

Chunk = dict[str, Any]
Message = dict[str, Any]

ASSISTANT = "assistant"
COMPUTER = "computer"
USER = "user"

DECLINED = "The user declined to run this code"
NO_OUTPUT = "The code ran and printed nothing."
NOT_RUN = "This code was not run."


# --- chunk constructors ----------------------------------------------------------


def flag(role: str, type_: str, *, start: bool = False, end: bool = False, format: str | None = None) -> Chunk:
    """A start or end flag chunk: ``{'role':..., 'type':..., 'start': True}``."""
    chunk: Chunk = {"role": role, "type": type_}
    if format is not None:
        chunk["format"] = format
    if start:
        chunk["start"] = True
    if end:
        chunk["end"] = True
    return chunk


def piece(role: str, type_: str, content: Any, *, format: str | None = None) -> Chunk:
    """A content chunk (also the shape of a complete message)."""
    chunk: Chunk = {"role": role, "type": type_}
    if format is not None:
        chunk["format"] = format
    chunk["content"] = content
    return chunk


# --- typed events <-> LMC -----------------------------------------------------------


def _code_flag(language: str, end: bool) -> Chunk:
    return flag(ASSISTANT, "code", start=not end, end=end, format=language)


_CONVERT: dict[type, Any] = {
    ev.MessageStart: lambda e: {"role": ASSISTANT, "type": "message", "start": True},
    ev.MessageDelta: lambda e: {"role": ASSISTANT, "type": "message", "content": e.text},
    ev.MessageEnd: lambda e: {"role": ASSISTANT, "type": "message", "end": True},
    ev.CodeStart: lambda e: _code_flag(e.language, end=False),
    ev.CodeDelta: lambda e: {"role": ASSISTANT, "type": "code", "format": e.language, "content": e.text},
    ev.CodeEnd: lambda e: _code_flag(e.language, end=True),
    ev.UserMessage: lambda e: {"role": USER, "type": "message", "content": e.text},
    ev.ConfirmationRequest: lambda e: {"role": COMPUTER, "type": "confirmation", "format": "execution",
                                       "content": e.request.to_content()},
    ev.ConsoleStart: lambda e: {"role": COMPUTER, "type": "console", "start": True},
    ev.ActiveLine: lambda e: {"role": COMPUTER, "type": "console", "format": "active_line", "content": e.line},
    ev.ConsoleOutput: lambda e: {"role": COMPUTER, "type": "console", "format": "output", "content": e.text},
    ev.ConsoleEnd: lambda e: {"role": COMPUTER, "type": "console", "end": True},
    ev.ImageOutput: lambda e: {"role": COMPUTER, "type": "image", "format": e.format, "content": e.data},
    # Not an Open Interpreter chunk (it has no slow set-up to report); a status clients may ignore.
    ev.Progress: lambda e: {"role": COMPUTER, "type": "status", "format": e.kind, "content": e.text},
    ev.ErrorEvent: lambda e: {"role": e.role, "type": "error", "format": e.kind, "content": e.message},
    ev.Status: lambda e: {"role": "server", "type": "status", "content": e.content},
}


def to_chunk(event: ev.EngineEvent) -> Chunk:
    """The LMC chunk of an engine event: the one conversion, used at the API's edges."""
    chunk: Chunk = _CONVERT[type(event)](event)
    return chunk


def message_events(message: Message) -> list[ev.EngineEvent]:
    """The events that would have streamed a stored message (to replay a saved conversation)."""
    role, type_, content = message.get("role"), message.get("type"), message.get("content")
    text = "" if content is None else str(content)
    if role == USER and type_ == "message":
        return [ev.UserMessage(text)]
    if role == ASSISTANT and type_ == "message":
        return [ev.MessageStart(), ev.MessageDelta(text), ev.MessageEnd()]
    if role == ASSISTANT and type_ == "code":
        language = str(message.get("format") or "")
        return [ev.CodeStart(language), ev.CodeDelta(language, text), ev.CodeEnd(language)]
    if role == COMPUTER and type_ == "console":
        return [ev.ConsoleStart(), ev.ConsoleOutput(text), ev.ConsoleEnd()]
    if type_ == "image":
        return [ev.ImageOutput(str(message.get("format") or "base64.png"), text)]
    return []


# --- messages from the user ----------------------------------------------------


def user_messages(message: str | Message | list[Message]) -> list[Message]:
    """Normalise what ``chat()`` accepts (text, one LMC message, a list) into messages.

    Raises ValueError with a specific reason for unusable input.
    """
    if isinstance(message, str):
        return [piece(USER, "message", scrub(message))]
    if isinstance(message, dict):
        return user_messages([message])
    if isinstance(message, list):
        out: list[Message] = []
        for item in message:
            if not isinstance(item, dict) or "role" not in item or "type" not in item:
                raise ValueError(f"each message needs 'role' and 'type', got {item!r:.80}")
            if item["role"] not in (USER, ASSISTANT, COMPUTER):
                raise ValueError(f"a message's role is 'user', 'assistant' or 'computer', not {item['role']!r:.40}")
            item = dict(item)
            if isinstance(item.get("content"), str):
                item["content"] = scrub(item["content"])
            out.append(item)
        return out
    raise ValueError(f"chat() takes a string, a message dict or a list of them, not {type(message).__name__}")


# --- conversion to the OpenAI chat format ----------------------------------------


def _image_url(message: Message) -> str:
    fmt = str(message.get("format", "base64.png"))
    if fmt.startswith("base64."):
        return f"data:image/{fmt.split('.', 1)[1]};base64,{message['content']}"
    return str(message["content"])  # a path or URL


def _code_fence(message: Message) -> str:
    return f"```{message.get('format', '')}\n{message.get('content', '')}\n```"


def _results(group: list[Message], vision: bool) -> tuple[str, list[Message]]:
    """The text a code block's result messages give the model, and its images."""
    texts = [str(m.get("content") or "") for m in group if m.get("type") == "console"]
    images = [m for m in group if m.get("type") == "image"]
    text = "\n".join(t for t in texts if t) or NO_OUTPUT
    if images and not vision:
        text += f"\n[The code displayed {len(images)} image(s); this model cannot see images.]"
    return text, images if vision else []


def _split_results(messages: list[Message], start: int) -> tuple[list[list[Message]], int]:
    """Split the computer messages from ``start`` into per-code-block groups.

    Each console message opens a group; images join the current group.
    """
    groups: list[list[Message]] = []
    i = start
    while i < len(messages) and messages[i].get("role") == COMPUTER:
        m = messages[i]
        if m.get("type") == "console" or not groups:
            groups.append([m])
        else:
            groups[-1].append(m)
        i += 1
    return groups, i


def to_openai(
    messages: list[Message], *, system: str, function_calling: bool, vision: bool
) -> list[dict[str, Any]]:
    """Convert LMC messages to OpenAI chat messages.

    In function-calling mode code becomes ``execute`` tool calls answered by ``tool``
    messages; otherwise code is a markdown fence and its output a user message.
    Tool-call ids are derived from positions, so the same messages always convert
    the same way (saved conversations included).
    """
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    call_no = 0
    i = 0
    while i < len(messages):
        m = messages[i]
        role = m.get("role")
        if role == USER:
            out.append(_user_to_openai(m, vision))
            i += 1
            continue
        if role == ASSISTANT:
            # Consecutive assistant messages are one model reply.
            texts: list[str] = []
            codes: list[Message] = []
            while i < len(messages) and messages[i].get("role") == ASSISTANT:
                a = messages[i]
                if a.get("type") == "code":
                    codes.append(a)
                    if not function_calling:
                        texts.append(_code_fence(a))
                elif a.get("content"):
                    texts.append(str(a["content"]))
                i += 1
            groups, i = _split_results(messages, i)
            if function_calling:
                reply: dict[str, Any] = {"role": "assistant", "content": "\n\n".join(texts) or None}
                ids = []
                if codes:
                    calls = []
                    for code in codes:
                        call_no += 1
                        ids.append(f"call_{call_no}")
                        args = {"language": code.get("format", ""), "code": code.get("content", "")}
                        calls.append(
                            {"id": ids[-1], "type": "function",
                             "function": {"name": "execute", "arguments": json.dumps(args)}}
                        )
                    reply["tool_calls"] = calls
                out.append(reply)
                pending_images: list[Message] = []
                for n, call_id in enumerate(ids):
                    text, images = _results(groups[n], vision) if n < len(groups) else (NOT_RUN, [])
                    out.append({"role": "tool", "tool_call_id": call_id, "content": text})
                    pending_images += images
                if pending_images:
                    out.append(_images_to_openai(pending_images))
            else:
                out.append({"role": "assistant", "content": "\n\n".join(texts)})
                for n, _code in enumerate(codes):
                    text, images = _results(groups[n], vision) if n < len(groups) else (NOT_RUN, [])
                    out.append({"role": "user", "content": f"Code output:\n{text}"})
                    if images:
                        out.append(_images_to_openai(images))
            continue
        if role != COMPUTER:
            i += 1  # an unknown role (a hand-made history): skipped, never looped on
            continue
        # Computer messages with no code before them (a restored or hand-made history).
        groups, i = _split_results(messages, i)
        for group in groups:
            text, images = _results(group, vision)
            out.append({"role": "user", "content": f"Output:\n{text}"})
            if images:
                out.append(_images_to_openai(images))
    return out


def _user_to_openai(m: Message, vision: bool) -> dict[str, Any]:
    type_ = m.get("type")
    if type_ == "image":
        if vision:
            return _images_to_openai([m])
        return {"role": "user", "content": "[The user sent an image; this model cannot see images.]"}
    if type_ == "file":
        return {"role": "user", "content": f"File: {m.get('content', '')}"}
    return {"role": "user", "content": str(m.get("content") or "")}


def _images_to_openai(images: list[Message]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": "Image output:"}]
    parts += [{"type": "image_url", "image_url": {"url": _image_url(im)}} for im in images]
    return {"role": "user", "content": parts}
