"""Changing settings in a profile file the user may have written by hand.

:func:`update_profile_text` sets keys with ruamel.yaml's round-trip mode: comments, key
order, quoting and indentation stay as the user wrote them. A key already in the file
gets its new value in place (an end-of-line comment keeps its distance); a new key goes
at the end of its section (``voice:`` ...), dotted at the top level when the file writes
that namespace dotted, or as a new section. Comment lines that closed a section stay
after the keys added to it. :func:`write_profile_text` replaces the file atomically.

ruamel.yaml is imported on first use: the terminal chat never edits profiles.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
from pathlib import Path
from typing import Any

from oi_voice.profiles import ProfileError, check_value, current_value, parse_profile
from oi_voice.settings import SCHEMA, Schema


def update_profile_text(text: str, values: dict[str, Any], path: Path | None = None,
                        schema: Schema = SCHEMA) -> str:
    """``text`` with the settings in ``values`` (key -> value) set, the rest kept as written.

    The result is checked to load back with these values and every other value
    unchanged; a file that does not load now, or an edit that would not load, is a
    :class:`~oi_voice.profiles.ProfileError`.
    """
    current = parse_profile(text, path, schema=schema)  # refuse to edit a file that is already broken
    for key, value in values.items():
        setting = schema.get(key)
        if setting is None:
            raise ProfileError("unknown setting", path, key=key)
        check_value(setting, value, path)
    changes = {k: v for k, v in values.items() if k not in current.lines or current_value(current, k) != v}
    if not changes:
        return text  # unchanged values keep the file's own spelling of them
    result = _edit(text, changes, path)
    updated = parse_profile(result, path, schema=schema)
    expected = {**current.values(), **{k: v for k, v in values.items() if schema[k].target != "ignored"}}
    for key, value in expected.items():
        if current_value(updated, key) != value:  # a safety net: never write what does not load back
            raise ProfileError(f"could not be updated to {value!r}; edit it by hand", path, key=key)
    return result


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 30  # never fold a long value onto a second line
    try:
        _data, sequence, dash = load_yaml_guess_indent(text)
    except Exception:  # guessing only: the real load below reports problems
        sequence, dash = None, None
    mapping = _mapping_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence or mapping, offset=dash or 0)
    return yaml


def _mapping_indent(text: str) -> int:
    """How far the file indents a nested mapping (2 unless it shows otherwise)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        if line.rstrip().endswith(":") and not following.lstrip().startswith("-"):
            depth = (len(following) - len(following.lstrip())) - (len(line) - len(line.lstrip()))
            if depth > 0:
                return depth
    return 2


def _edit(text: str, changes: dict[str, Any], path: Path | None) -> str:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    yaml = _yaml(text)
    try:
        root = yaml.load(text)
    except YAMLError as exc:  # PyYAML read it, so this is rare: a construct ruamel refuses
        raise ProfileError(f"cannot edit this file: {exc}; edit it by hand", path) from None
    if root is None:  # nothing but comments: add after what is there
        root = CommentedMap()
        for key, value in changes.items():
            _add(root, key, value, _new_section_or_dotted(root, key))
        prefix = "" if not text or text.endswith("\n") else "\n"
        return text + prefix + _dump(yaml, root)
    lines = text.splitlines()
    for key, value in changes.items():
        where = _find(root, key)
        if where is not None:
            mapping, name = where
            _replace(yaml, mapping, name, value, lines)
        else:
            _add(root, key, value, _new_section_or_dotted(root, key))
    return _dump(yaml, root)


def _dump(yaml: Any, root: Any) -> str:
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _find(root: Any, key: str) -> tuple[Any, str] | None:
    """(mapping, name) where the file sets ``key``: dotted at the top, or inside its section."""
    if key in root:
        return root, key
    if "." in key:
        namespace, name = key.split(".", 1)
        section = root.get(namespace)
        if isinstance(section, dict) and name in section:
            return section, name
    return None


def _new_section_or_dotted(root: Any, key: str) -> Any:
    """Where a key the file does not set goes: its section, the top level, or a new section ("new")."""
    if "." not in key:
        return root
    namespace = key.split(".", 1)[0]
    section = root.get(namespace)
    if isinstance(section, dict):
        return section
    if any(str(k).startswith(namespace + ".") for k in root):
        return root  # the file writes this namespace dotted: so does the new key
    return "new"


def _add(root: Any, key: str, value: Any, where: Any) -> None:
    """Append ``key`` to the mapping ``where`` (or to a new section), moving the closing comments after it."""
    from ruamel.yaml.comments import CommentedMap

    if where == "new":
        namespace, name = key.split(".", 1)
        section = CommentedMap()
        section[name] = value
        tail = _take_tail_comment(root)
        root[namespace] = section
        _put_tail_comment(section, name, tail)
        return
    name = key if where is root else key.split(".", 1)[1]
    tail = _take_tail_comment(where)
    where[name] = value
    _put_tail_comment(where, name, tail)


def _last_item(mapping: Any) -> tuple[Any, Any] | None:
    """The deepest last (collection, index or key) of a block mapping: where its closing comments hang."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node: Any = mapping
    found = None
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) and not node.fa.flow_style():
        last = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        found = (node, last)
        node = node[last]
    return found


def _comment_slot(collection: Any) -> int:
    from ruamel.yaml.comments import CommentedSeq

    return 0 if isinstance(collection, CommentedSeq) else 2


def _take_tail_comment(mapping: Any) -> str:
    """Detach the whole-line comments after the last value of ``mapping``; keep its end-of-line comment."""
    found = _last_item(mapping)
    if found is None:
        return ""
    collection, index = found
    slots = collection.ca.items.get(index)
    slot = _comment_slot(collection)
    if not slots or len(slots) <= slot or slots[slot] is None:
        return ""
    token = slots[slot]
    first, newline, rest = token.value.partition("\n")
    if not rest:
        return ""
    if first.strip():
        token.value = first + newline
    else:
        slots[slot] = None
    return rest


def _put_tail_comment(mapping: Any, name: Any, tail: str) -> None:
    if not tail:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    target = _last_item(mapping) if isinstance(mapping[name], (dict, list)) else (mapping, name)
    if target is None:
        target = (mapping, name)
    collection, index = target
    slot = _comment_slot(collection)
    slots = collection.ca.items.setdefault(index, [None, None, None, None])
    slots[slot] = CommentToken("\n" + tail, CommentMark(0), None)


def _replace(yaml: Any, mapping: Any, name: str, value: Any, lines: list[str]) -> None:
    """Set ``mapping[name]``, keeping a string's quoting, a list's style, the comment lines after
    a block list, and an end-of-line comment's distance from the value."""
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.scalarstring import ScalarString

    old = mapping[name]
    tail = ""
    if isinstance(old, ScalarString) and isinstance(value, str) and "\n" not in value:
        value = type(old)(value)  # 'quoted' stays 'quoted'
    elif isinstance(old, CommentedSeq) and isinstance(value, list):
        tail = _take_tail_comment(old)  # the comment lines after the old list close it again
        value = CommentedSeq(value)
        if old.fa.flow_style():
            value.fa.set_flow_style()
    one_line = not isinstance(old, (dict, list)) or _flow(old)
    slots = mapping.ca.items.get(name)
    token = slots[2] if slots and len(slots) > 2 else None
    if token is not None and one_line and not token.value.startswith("\n"):
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            line, column = mapping.lc.value(name)
            written = lines[line][column:token.start_mark.column]
            gap = len(written) - len(written.rstrip())
            token.start_mark = CommentMark(column + len(_scalar_text(yaml, value)) + max(gap, 1))
    mapping[name] = value
    if tail and isinstance(value, CommentedSeq) and len(value):
        _put_tail_comment(value, len(value) - 1, tail)


def _flow(node: Any) -> bool:
    """Whether a ruamel collection is written in flow style (``[a, b]``, ``{a: 1}``)."""
    attributes = getattr(node, "fa", None)
    return bool(attributes is not None and attributes.flow_style())


def _scalar_text(yaml: Any, value: Any) -> str:
    """How ``value`` is written after ``key: `` (one line)."""
    text = _dump(yaml, {"k": value})
    return text.split(":", 1)[1].strip().splitlines()[0] if text else ""


def write_profile_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temp file in the same folder, then os.replace)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o777  # keep a profile the user made private private
    except FileNotFoundError:
        mode = None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644 if mode is None else mode)  # mkstemp makes 0600; a profile holds no secret
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
