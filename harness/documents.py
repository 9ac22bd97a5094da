"""JSON and YAML documents that remember where each value came from.

The validator and the plan loader both report problems as "file:line:column" plus a JSON path,
so loading keeps a map from path to position. For JSON the fast C parser builds the data and the
positions are found afterwards by a small tokenizer, only when somebody asks (a clean request
never pays for it). For YAML the composed node tree carries its own marks.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError

JsonPath = tuple[str | int, ...]
"""A location inside a document: object keys and list indexes from the root."""


def format_json_path(path: JsonPath) -> str:
    """`("A", "B", 3, "C")` -> `A.B[3].C`; the root is `$`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text or "$"


@dataclass(frozen=True)
class Position:
    """1-based line and column of a value (or of an object member's key) in a file."""

    line: int
    column: int


class DocumentSyntaxError(UsageError):
    """A file that is not well-formed JSON or YAML, with the position of the first problem."""

    def __init__(
        self,
        message: str,
        *,
        file: Path,
        position: Position | None,
        hint: str = "fix the syntax at that position",
    ):
        where = str(file) if position is None else f"{file}:{position.line}:{position.column}"
        super().__init__(message, where=where, hint=hint)
        self.file = file
        self.position = position


@dataclass(frozen=True)
class DuplicateKey:
    """An object that names the same key twice; JSON and YAML parsers keep only the last."""

    path: JsonPath
    position: Position | None


@dataclass(frozen=True)
class Document:
    """Parsed data of one file plus the means to locate any path inside it."""

    file: Path
    data: Any
    text: str = field(repr=False)
    format: str  # "json" | "yaml"
    _yaml_positions: dict[JsonPath, Position] | None = field(default=None, repr=False)
    _yaml_duplicates: tuple[DuplicateKey, ...] = ()
    _json_has_duplicates: bool = False

    def locate(self, path: JsonPath) -> Position | None:
        """Where `path` is written, or the nearest enclosing value that is (None if unknown)."""
        positions = self._positions
        for end in range(len(path), -1, -1):
            found = positions.get(path[:end])
            if found is not None:
                return found
        return None

    @property
    def duplicate_keys(self) -> tuple[DuplicateKey, ...]:
        if self.format == "yaml":
            return self._yaml_duplicates
        return self._json_scan[1] if self._json_has_duplicates else ()

    @cached_property
    def _positions(self) -> dict[JsonPath, Position]:
        if self._yaml_positions is not None:
            return self._yaml_positions
        return self._json_scan[0]

    @cached_property
    def _json_scan(self) -> tuple[dict[JsonPath, Position], tuple[DuplicateKey, ...]]:
        return _scan_json_positions(self.text)


def load_document(file: Path) -> Document:
    """Read and parse `file` as JSON (`.json`) or YAML (anything else; JSON is tried first).

    Raises UsageError when the file cannot be read and DocumentSyntaxError when it does not parse.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("file not found", where=str(file), hint="check the path") from None
    except IsADirectoryError:
        raise UsageError("is a folder, not a file", where=str(file)) from None
    except UnicodeDecodeError as exc:
        raise DocumentSyntaxError(
            f"not UTF-8 text (byte {exc.start})", file=file, position=None
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", where=str(file)) from None
    return parse_document(text, file)


def parse_document(text: str, file: Path) -> Document:
    """Parse `text` (the contents of `file`) as JSON or YAML; see `load_document`."""
    looks_like_json = file.suffix.lower() == ".json" or text.lstrip().startswith(("{", "["))
    if looks_like_json:
        return _parse_json(text, file)
    return _parse_yaml(text, file)


def _parse_json(text: str, file: Path) -> Document:
    saw_duplicate = False

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal saw_duplicate
        result = dict(pairs)
        if len(result) != len(pairs):
            saw_duplicate = True
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs_to_dict)
    except json.JSONDecodeError as exc:
        raise DocumentSyntaxError(
            f"invalid JSON: {exc.msg}", file=file, position=Position(exc.lineno, exc.colno)
        ) from None
    except RecursionError:
        raise DocumentSyntaxError("JSON nested too deeply", file=file, position=None) from None
    return Document(file, data, text, "json", _json_has_duplicates=saw_duplicate)


ANCHORS_REFUSED = "YAML anchors and aliases are not supported in a request or plan"


def _parse_yaml(text: str, file: Path) -> Document:
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        _refuse_anchors(loader_class, text, file)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise DocumentSyntaxError(
            f"invalid YAML: {problem}", file=file, position=position
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"invalid YAML: {exc}", file=file, position=None) from None
    except RecursionError:
        raise DocumentSyntaxError("YAML nested too deeply", file=file, position=None) from None
    finally:
        loader.dispose()
    positions: dict[JsonPath, Position] = {}
    duplicates: list[DuplicateKey] = []
    try:
        if node is not None:
            _index_yaml_node(node, (), positions, duplicates)
        _require_string_keys(data, (), positions, file)
    except RecursionError:
        raise DocumentSyntaxError("YAML nested too deeply", file=file, position=None) from None
    return Document(file, data, text, "yaml", positions, tuple(duplicates))


def _refuse_anchors(loader_class: Any, text: str, file: Path) -> None:
    """Raise DocumentSyntaxError at the first anchor (`&x`) or alias (`*x`), before anything
    is composed or constructed.

    A request or a plan never needs them, and they are what makes a small file expensive: an
    alias of its own anchor (`a: &x [*x]`) is a cycle that every walk of the data recurses into
    forever, and nested aliases ("billion laughs") expand exponentially when constructed. Only
    the parser's events are read (no node, no value); a text without `&` or `*` has neither,
    so it is not even scanned.
    """
    if "&" not in text and "*" not in text:
        return
    scanner = loader_class(text)
    try:
        while scanner.check_event():
            event = scanner.get_event()
            # An anchored node's event carries the anchor's name; an alias event the name it
            # refers to. Anchors come before their aliases, so the first is the anchor.
            if getattr(event, "anchor", None) is not None:
                mark = event.start_mark
                raise DocumentSyntaxError(
                    ANCHORS_REFUSED,
                    file=file,
                    position=Position(mark.line + 1, mark.column + 1),
                    hint="write each value out in full where it is used",
                )
    finally:
        scanner.dispose()


def _require_string_keys(
    value: Any, path: JsonPath, positions: dict[JsonPath, Position], file: Path
) -> None:
    """YAML allows `1:`, `null:` or `?` as keys; a request and a plan are JSON objects, whose
    keys are strings."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentSyntaxError(
                    f"{format_json_path(path) or 'the top level'}: the key {key!r} is not a "
                    "string (quote it)",
                    file=file,
                    position=positions.get(path),
                )
            _require_string_keys(item, (*path, key), positions, file)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _require_string_keys(item, (*path, index), positions, file)


def _mark_position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _index_yaml_node(
    node: yaml.Node,
    path: JsonPath,
    positions: dict[JsonPath, Position],
    duplicates: list[DuplicateKey],
) -> None:
    positions.setdefault(path, _mark_position(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            child = (*path, key)
            if key in seen:
                duplicates.append(DuplicateKey(child, _mark_position(key_node)))
            seen.add(key)
            # A member is reported at its key: that is where a reader looks for it.
            positions[child] = _mark_position(key_node)
            _index_yaml_node(value_node, child, positions, duplicates)
            positions[child] = _mark_position(key_node)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_yaml_node(item, (*path, index), positions, duplicates)


# A JSON token: a string, a punctuation mark, or a bare literal (number, true, false, null).
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.DOTALL)


def _scan_json_positions(text: str) -> tuple[dict[JsonPath, Position], tuple[DuplicateKey, ...]]:
    """Positions of every value (object members: of their key) in well-formed JSON `text`."""
    line_starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def position(offset: int) -> Position:
        line = bisect.bisect_right(line_starts, offset)
        return Position(line, offset - line_starts[line - 1] + 1)

    offsets: dict[JsonPath, int] = {}
    duplicates: list[DuplicateKey] = []
    # Each frame: [path, is_object, next index or pending key, keys seen, expecting a key].
    stack: list[list[Any]] = []
    tokens: Iterator[re.Match[str]] = _JSON_TOKEN.finditer(text)

    def value_path() -> JsonPath:
        frame = stack[-1]
        return (*frame[0], frame[2])

    for match in tokens:
        token = match.group()
        start = match.start()
        frame = stack[-1] if stack else None
        if token in ",:":
            if token == "," and frame is not None:
                if frame[1]:
                    frame[4] = True
                else:
                    frame[2] += 1
            continue
        if token in "}]":
            stack.pop()
            continue
        if frame is not None and frame[1] and frame[4]:
            key = json.loads(token)
            child = (*frame[0], key)
            if key in frame[3]:
                duplicates.append(DuplicateKey(child, position(start)))
            frame[3].add(key)
            frame[2] = key
            frame[4] = False
            offsets[child] = start
            continue
        path: JsonPath = value_path() if frame is not None else ()
        offsets.setdefault(path, start)
        if token == "{":
            stack.append([path, True, None, set(), True])
        elif token == "[":
            stack.append([path, False, 0, set(), False])
    return {path: position(offset) for path, offset in offsets.items()}, tuple(duplicates)
