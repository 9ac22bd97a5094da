"""Write resolved digests into a request file (`harness images --pin`), keeping the seller's
formatting and comments: each digest is edited into the text where it is (or inserted after its
image), and the result is re-parsed and compared with what was meant before it is used. When the
layout defeats the text edit, the whole document is written out again instead (and the caller
is told that comments and layout were not kept).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from harness.documents import Document, DocumentSyntaxError, JsonPath, parse_document

# The member beside which a missing digest is inserted.
_IMAGE_MEMBER = {"TrainingImageDigest": "TrainingImage", "ImageDigest": "Image"}


@dataclass(frozen=True)
class PinnedText:
    text: str
    layout_kept: bool


def pin_digests(document: Document, digests: dict[JsonPath, str]) -> PinnedText:
    """`document`'s text with each path in `digests` set to its digest."""
    wanted = copy.deepcopy(document.data)
    for path, digest in digests.items():
        parent = wanted
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = digest
    text = document.text
    try:
        edits = sorted(
            (_edit(document, path, digest) for path, digest in digests.items()),
            key=lambda edit: edit[0],
            reverse=True,
        )
        for start, end, replacement in edits:
            text = text[:start] + replacement + text[end:]
        if parse_document(text, document.file).data == wanted:
            return PinnedText(text, True)
    except (_CannotEdit, DocumentSyntaxError):
        pass
    if document.format == "json":
        return PinnedText(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", False)
    return PinnedText(yaml.safe_dump(wanted, sort_keys=False, allow_unicode=True), False)


class _CannotEdit(Exception):
    pass


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(item) + 1 for item in lines[: line - 1]) + column - 1


def _edit(document: Document, path: JsonPath, digest: str) -> tuple[int, int, str]:
    text, key = document.text, str(path[-1])
    parent: Any = document.data
    for part in path[:-1]:
        parent = parent[part]
    quoted = json.dumps(digest)
    if key in parent:
        position = document.locate(path)
        if position is None:
            raise _CannotEdit
        start = _offset(text, position.line, position.column)
        member = _member(document.format, key).match(text, start)
        if member is None:
            raise _CannotEdit
        return member.start("value"), member.end("value"), quoted
    sibling = _IMAGE_MEMBER.get(key)
    position = document.locate((*path[:-1], sibling)) if sibling and sibling in parent else None
    if position is None or sibling is None:
        raise _CannotEdit
    start = _offset(text, position.line, position.column)
    member = _member(document.format, sibling).match(text, start)
    if member is None:
        raise _CannotEdit
    line_start = text.rfind("\n", 0, start) + 1
    own_line = text[line_start:start].strip() in ("", "-", "{", "[{")
    indent = " " * (position.column - 1)
    if document.format == "json":
        if own_line:
            return member.end("value"), member.end("value"), f',\n{indent}"{key}": {quoted}'
        return member.end("value"), member.end("value"), f', "{key}": {quoted}'
    rest = text[member.end("value") :].split("\n", 1)[0]
    if not own_line or rest.strip()[:1] not in ("", "#"):
        raise _CannotEdit  # flow style: leave it to the re-dump
    line_end = member.end("value") + len(rest)
    return line_end, line_end, f"\n{indent}{key}: {quoted}"


def _member(kind: str, key: str) -> re.Pattern[str]:
    if kind == "json":
        return re.compile(rf'"{re.escape(key)}"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|null)')
    return re.compile(
        rf"""['"]?{re.escape(key)}['"]?[ \t]*:[ \t]*"""
        r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#,}\]]+)"""
    )
