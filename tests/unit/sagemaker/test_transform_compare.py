from __future__ import annotations

from pathlib import Path

import pytest

from harness.sagemaker.transform import TransformInput, transform_inputs
from harness.sagemaker.transform_compare import (
    FileComparison,
    LineDifference,
    compare_outputs,
    quote_line,
)

FIXTURE = Path(__file__).resolve().parents[3] / "fixtures/algorithms/broken/reorders-records/data"


def _inputs(*keys: str) -> list[TransformInput]:
    return [TransformInput(key, Path("/in") / key, 1) for key in keys]


def _expected(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_equal_outputs_pass(tmp_path):
    expected = _expected(tmp_path, {"a.csv.out": b"1\n2\n", "sub/b.csv.out": b"3\n"})
    actual = {"a.csv.out": b"1\n2\n", "sub/b.csv.out": b"3\n"}
    result = compare_outputs(
        actual, expected, _inputs("a.csv", "sub/b.csv"), {"a.csv": 2, "sub/b.csv": 1}
    )
    assert result.ok
    assert result.problems == ()
    assert result.files == (
        FileComparison("a.csv.out", "a.csv", 2, 2, expected_equal=True),
        FileComparison("sub/b.csv.out", "sub/b.csv", 1, 1, expected_equal=True),
    )
    assert all(f.count_matches for f in result.files)


def test_without_expected_folder_only_names_and_counts_are_checked():
    result = compare_outputs({"a.csv.out": b"9\n8\n"}, None, _inputs("a.csv"), {"a.csv": 2})
    assert result.ok
    assert result.files == (FileComparison("a.csv.out", "a.csv", 2, 2),)
    assert result.files[0].expected_equal is None


def test_a_missing_output_file_is_reported():
    result = compare_outputs({"a.csv.out": b"1\n"}, None, _inputs("a.csv", "b.csv"), {})
    assert not result.ok
    assert result.missing == ("b.csv.out",)
    assert result.problems == ("b.csv.out: no output for input b.csv",)


def test_an_extra_output_file_is_reported():
    actual = {"a.csv.out": b"1\n", "a.csv": b"1\n", "c.csv.out": b""}
    result = compare_outputs(actual, None, _inputs("a.csv"), {})
    assert result.extra == ("a.csv", "c.csv.out")
    assert result.problems == (
        "a.csv: written, but no input object has this output name",
        "c.csv.out: written, but no input object has this output name",
    )


@pytest.mark.parametrize(
    ("data", "lines"),
    [(b"", 0), (b"1\n", 1), (b"1", 1), (b"1\n2", 2), (b"\n\n", 2), (b"1\r\n2\r\n", 2)],
)
def test_line_count(data, lines):
    result = compare_outputs({"a.out": data}, None, _inputs("a"), {})
    assert result.files[0].lines == lines
    assert result.files[0].count_matches is None  # not asked for


def test_a_count_mismatch_is_reported():
    result = compare_outputs({"a.csv.out": b"1\n2\n"}, None, _inputs("a.csv"), {"a.csv": 3})
    assert not result.ok
    assert result.files[0].count_matches is False
    assert result.problems == ("a.csv.out: 2 output lines for 3 input records",)


def test_counts_are_checked_only_for_the_keys_given():
    result = compare_outputs(
        {"a.out": b"1\n2\n", "b.out": b"1\n"}, None, _inputs("a", "b"), {"b": 1}
    )
    assert result.ok
    assert [f.records for f in result.files] == [None, 1]


def test_reordered_lines_name_the_first_difference(tmp_path):
    expected = _expected(tmp_path, {"a.csv.out": b"101\n102\n103\n"})
    result = compare_outputs(
        {"a.csv.out": b"101\n103\n102\n"}, expected, _inputs("a.csv"), {"a.csv": 3}
    )
    (file,) = result.files
    assert file.expected_equal is False
    assert file.reordered
    assert file.count_matches
    assert file.difference == LineDifference(2, b"102\n", b"103\n")
    assert result.problems == (
        "a.csv.out: differs from the expected output at line 2: expected '102\\n', "
        "got '103\\n' (the same lines in another order)",
    )


def test_different_content_is_not_called_reordered(tmp_path):
    expected = _expected(tmp_path, {"a.out": b"1\n2\n"})
    result = compare_outputs({"a.out": b"1\n3\n"}, expected, _inputs("a"), {})
    assert not result.files[0].reordered
    assert result.problems == (
        "a.out: differs from the expected output at line 2: expected '2\\n', got '3\\n'",
    )


@pytest.mark.parametrize(
    ("actual", "expected", "difference"),
    [
        (b"1\n2\n", b"1\n2\n3\n", LineDifference(3, b"3\n", None)),
        (b"1\n2\n3\n", b"1\n2\n", LineDifference(3, None, b"3\n")),
        (b"1\n2", b"1\n2\n", LineDifference(2, b"2\n", b"2")),
        (b"1\r\n", b"1\n", LineDifference(1, b"1\n", b"1\r\n")),
    ],
    ids=["output-shorter", "output-longer", "missing-last-newline", "crlf"],
)
def test_first_difference_when_one_file_ends_early(tmp_path, actual, expected, difference):
    folder = _expected(tmp_path, {"a.out": expected})
    result = compare_outputs({"a.out": actual}, folder, _inputs("a"), {})
    assert result.files[0].difference == difference
    assert not result.ok


def test_end_of_file_is_named_in_the_message(tmp_path):
    folder = _expected(tmp_path, {"a.out": b"1\n2\n"})
    result = compare_outputs({"a.out": b"1\n"}, folder, _inputs("a"), {})
    assert result.problems == (
        "a.out: differs from the expected output at line 2: expected '2\\n', got end of file",
    )


def test_long_lines_are_truncated_in_messages(tmp_path):
    folder = _expected(tmp_path, {"a.out": b"x" * 500 + b"\n"})
    result = compare_outputs({"a.out": b"y" * 500 + b"\n"}, folder, _inputs("a"), {})
    (problem,) = result.problems
    assert len(problem) < 250
    assert "'" + "x" * 60 + "…'" in problem
    assert result.files[0].difference == LineDifference(1, b"x" * 500 + b"\n", b"y" * 500 + b"\n")


def test_quote_line_shows_escapes_and_undecodable_bytes():
    assert quote_line(b"a\tb\r\n") == "'a\\tb\\r\\n'"
    assert quote_line(b"\xff1") == "'\\\\xff1'"
    assert quote_line(None) == "end of file"
    assert quote_line(b"abcdef", limit=3) == "'abc…'"


def test_an_output_without_expected_file_is_reported(tmp_path):
    folder = _expected(tmp_path / "exp", {"a.out": b"1\n"})
    result = compare_outputs({"a.out": b"1\n", "b.out": b"2\n"}, folder, _inputs("a", "b"), {})
    assert result.without_expected == ("b.out",)
    assert result.problems == (f"b.out: the expected folder {folder} has no b.out",)


def test_an_expected_file_no_input_produces_is_reported(tmp_path):
    folder = _expected(tmp_path, {"a.out": b"1\n", "old.out": b"2\n"})
    result = compare_outputs({"a.out": b"1\n"}, folder, _inputs("a"), {})
    assert result.expected_unused == ("old.out",)
    assert result.problems == ("old.out: expected output, but no input object produces it",)


def test_the_reorders_records_fixture_fails_and_its_correct_output_passes():
    inputs = transform_inputs(FIXTURE / "batch")
    counts = {"part-a.csv": 10, "part-b.csv": 7}
    correct = {
        "part-a.csv.out": b"".join(f"{n}\n".encode() for n in range(101, 111)),
        "part-b.csv.out": b"".join(f"{n}\n".encode() for n in range(201, 208)),
    }
    assert compare_outputs(correct, FIXTURE / "expected", inputs, counts).ok
    reversed_output = {
        key: b"".join(reversed(data.splitlines(keepends=True))) for key, data in correct.items()
    }
    result = compare_outputs(reversed_output, FIXTURE / "expected", inputs, counts)
    assert [f.reordered for f in result.files] == [True, True]
    assert [f.count_matches for f in result.files] == [True, True]
    assert result.problems == (
        "part-a.csv.out: differs from the expected output at line 1: expected '101\\n', "
        "got '110\\n' (the same lines in another order)",
        "part-b.csv.out: differs from the expected output at line 1: expected '201\\n', "
        "got '207\\n' (the same lines in another order)",
    )
