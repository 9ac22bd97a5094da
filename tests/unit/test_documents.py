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


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a: &x [*x]\n", Position(1, 4)),  # a cycle: every walk of the data recursed forever
        ("a: 1\nb: &y {c: 2}\nd: *y\n", Position(2, 4)),
        ("a: 1\nb: !!str &y foo\n", Position(2, 4)),  # an anchor no alias uses: refused too
        (
            # "billion laughs": constructing it would hold 10**9 strings
            'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
                for i in range(8)
            ),
            Position(1, 4),
        ),
    ],
    ids=["self-alias", "alias", "unused-anchor", "billion-laughs"],
)
def test_yaml_anchors_and_aliases_are_refused_at_the_anchor(text, position):
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document(text, Path("p.yaml"))
    assert caught.value.message == (
        "YAML anchors and aliases are not supported in a request or plan"
    )
    assert caught.value.position == position
    assert caught.value.where == f"p.yaml:{position.line}:{position.column}"
    assert caught.value.exit_code == 4


def test_yaml_with_ampersands_and_stars_in_values_still_loads():
    doc = parse_document('regex: ".*loss=(\\\\S+)"\nurl: "a?b=1&c=2"\n', Path("r.yaml"))
    assert doc.data == {"regex": ".*loss=(\\S+)", "url": "a?b=1&c=2"}


def test_yaml_alias_undefined_is_refused_not_a_crash():
    with pytest.raises(DocumentSyntaxError) as caught:
        parse_document("a: *nope\n", Path("p.yaml"))
    assert caught.value.position == Position(1, 4)


def test_validate_reports_an_aliased_request_as_a_parse_finding(tmp_path: Path):
    from harness.algorithm.validate import validate_file

    request = tmp_path / "request.yaml"
    request.write_text("AlgorithmName: x\nTrainingSpecification: &t\n  Self: *t\n")
    result = validate_file(request)
    (finding,) = result.findings
    assert (finding.check_id.value, finding.rule) == ("SPEC-PARSE", "syntax")
    assert finding.position == Position(2, 24)
    assert "anchors and aliases are not supported" in finding.message
