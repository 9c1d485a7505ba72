"""Exporting a conversation: Markdown (``%markdown``) and Jupyter notebooks (``%jupyter``).

The notebook is nbformat 4.5 JSON written directly (nbformat itself is not needed).
Unlike Open Interpreter's export it keeps each code block's output and images, and
marks non-Python code with the cell magic that runs it in Jupyter.
"""

from __future__ import annotations

import secrets
from typing import Any

Message = dict[str, Any]

# Jupyter cell magics that run each language from a Python kernel.
_CELL_MAGIC = {"shell": "%%bash", "javascript": "%%script node", "ruby": "%%ruby", "r": "%%script Rscript"}


def to_markdown(messages: list[Message]) -> str:
    """The conversation as Markdown: user turns quoted, code fenced, output in plain fences."""
    parts: list[str] = []
    for m in messages:
        role, type_, content = m.get("role"), m.get("type"), m.get("content")
        if role == "user" and type_ == "message":
            parts.append("\n".join("> " + line for line in str(content).splitlines() or [""]))
        elif role == "assistant" and type_ == "message":
            parts.append(str(content))
        elif type_ == "code":
            parts.append(f"```{m.get('format', '')}\n{str(content).rstrip()}\n```")
        elif type_ == "console" and content:
            parts.append(f"```\n{str(content).rstrip()}\n```")
        elif type_ == "image":
            fmt = str(m.get("format", ""))
            if fmt.startswith("base64."):
                parts.append(f"![image](data:image/{fmt.split('.', 1)[1]};base64,{content})")
            else:
                parts.append(f"![image]({content})")
    return "\n\n".join(parts) + "\n"


def _lines(text: str) -> list[str]:
    """nbformat's multi-line string: a list of lines keeping their newlines."""
    return text.splitlines(keepends=True)


def _cell_id() -> str:
    return secrets.token_hex(4)


def to_notebook(messages: list[Message]) -> dict[str, Any]:
    """The conversation as an nbformat 4.5 notebook (a JSON-ready dict)."""
    cells: list[dict[str, Any]] = []
    last_code: dict[str, Any] | None = None
    for m in messages:
        role, type_, content = m.get("role"), m.get("type"), m.get("content")
        if type_ == "message" and role in ("user", "assistant"):
            text = str(content)
            if role == "user":
                text = "\n".join("> " + line for line in text.splitlines() or [""])
            cells.append({"cell_type": "markdown", "id": _cell_id(), "metadata": {}, "source": _lines(text)})
            last_code = None
        elif type_ == "code":
            language = str(m.get("format") or "python")
            source = str(content)
            magic = _CELL_MAGIC.get(language)
            if magic:
                source = f"{magic}\n{source}"
            last_code = {"cell_type": "code", "execution_count": None, "id": _cell_id(),
                         "metadata": {"language": language}, "outputs": [], "source": _lines(source)}
            cells.append(last_code)
        elif type_ == "console" and last_code is not None and content:
            last_code["outputs"].append({"output_type": "stream", "name": "stdout",
                                         "text": _lines(str(content))})
        elif type_ == "image" and last_code is not None:
            fmt = str(m.get("format", ""))
            if fmt.startswith("base64."):
                mime = "image/jpeg" if fmt.endswith(("jpeg", "jpg")) else f"image/{fmt.split('.', 1)[1]}"
                last_code["outputs"].append({"output_type": "display_data", "data": {mime: content},
                                             "metadata": {}})
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
