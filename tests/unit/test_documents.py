from __future__ import annotations

from pathlib import Path

import pytest

from harness.documents import (
    DocumentSyntaxError,
    Position,
    format_json_path,
    load_document,
    parse_document,
)
from harness.errors import UsageError

JSON_TEXT = """{
  "A": {
    "B": [
      {"C": 1},
      {"C": "x", "D": [true, null]}
    ]
  },
  "E": "v"
}
"""


def test_format_json_path():
    assert format_json_path(("A", "B", 3, "C")) == "A.B[3].C"
    assert format_json_path(()) == "$"
    assert format_json_path(("X",)) == "X"


def test_json_positions_point_at_keys_and_items():
    doc = parse_document(JSON_TEXT, Path("r.json"))
    assert doc.data["A"]["B"][1]["C"] == "x"
    assert doc.locate(("A",)) == Position(2, 3)
    assert doc.locate(("A", "B", 0)) == Position(4, 7)
    assert doc.locate(("A", "B", 1, "D")) == Position(5, 18)
    assert doc.locate(("A", "B", 1, "D", 1)) == Position(5, 30)
    assert doc.locate(("E",)) == Position(8, 3)


def test_locate_falls_back_to_the_nearest_written_parent():
    doc = parse_document(JSON_TEXT, Path("r.json"))
    assert doc.locate(("A", "B", 0, "Missing")) == Position(4, 7)


def test_json_duplicate_keys_are_reported_with_their_path():
    doc = parse_document('{"A": {"x": 1,\n "x": 2}, "B": 3}', Path("d.json"))
    assert doc.data == {"A": {"x": 2}, "B": 3}
    (duplicate,) = doc.duplicate_keys
    assert duplicate.path == ("A", "x")
    assert duplicate.position == Position(2, 2)


def test_json_without_duplicates_reports_none():
    assert parse_document(JSON_TEXT, Path("r.json")).duplicate_keys == ()


def test_json_strings_with_escapes_and_brackets_do_not_confuse_positions():
    text = '{"a": "x\\"]}{[", "b": [1, "]", {"c": 2}]}'
    doc = parse_document(text, Path("e.json"))
    assert doc.locate(("b", 2, "c")) == Position(1, text.index('"c"') + 1)


def test_json_syntax_error_has_line_and_column():
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document('{\n  "a": 1,\n  "b": ]\n}', Path("bad.json"))
    assert caught.value.position == Position(3, 8)
    assert "bad.json:3:8" in caught.value.one_line()


def test_yaml_positions_and_duplicates():
    text = "a:\n  b:\n    - x\n    - y: 1\n  b: 2\n"
    doc = parse_document(text, Path("r.yaml"))
    assert doc.data == {"a": {"b": 2}}
    assert doc.locate(("a",)) == Position(1, 1)
    (duplicate,) = doc.duplicate_keys
    assert duplicate.path == ("a", "b")
    assert duplicate.position == Position(5, 3)


def test_yaml_syntax_error_has_line_and_column():
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document("a: [1, 2\nb: 3\n", Path("bad.yaml"))
    assert caught.value.position is not None
    assert caught.value.position.line == 2


def test_yaml_with_two_documents_is_a_syntax_error():
    with pytest.raises(DocumentSyntaxError, match="another document"):
        parse_document("a: 1\n---\nb: 2\n", Path("two.yaml"))


def test_missing_file_is_a_usage_error(tmp_path: Path):
    with pytest.raises(UsageError, match="file not found"):
        load_document(tmp_path / "nope.json")


def test_binary_file_is_a_syntax_error(tmp_path: Path):
    path = tmp_path / "b.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DocumentSyntaxError, match="UTF-8"):
        load_document(path)


def test_json_content_in_a_yaml_named_file_is_parsed_as_json():
    doc = parse_document('{"a": [1]}', Path("r.yaml"))
    assert doc.format == "json"


@pytest.mark.parametrize(
    ("text", "key"), [("?\n", "None"), ("a:\n  1: x\n", "1"), ("- {true: 1}\n", "True")]
)
def test_yaml_keys_that_are_not_strings_are_a_syntax_error(tmp_path, text, key):
    file = tmp_path / "request.yaml"
    file.write_text(text)
    with pytest.raises(DocumentSyntaxError, match=f"the key {key} is not a string"):
        load_document(file)
