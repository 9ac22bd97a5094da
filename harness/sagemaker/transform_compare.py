"""TRANSFORM-OUTPUT as data: the .out files a transform wrote against what SageMaker promises.

One `.out` per input object, records in input order, as many output lines as input records
when each record gives a line, and, when the plan names an expected output folder, the same
bytes as the expected files [DG-bt][API TransformOutput]. Reading the expected folder is the
only I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.plan import ChannelPlan
from harness.sagemaker.channels import list_channel
from harness.sagemaker.transform import TransformInput, output_key
from harness.sagemaker.transform_records import split_records

QUOTE_LIMIT = 60  # characters of a line quoted in a message


@dataclass(frozen=True)
class LineDifference:
    """The first line where an output differs from the expected one (1-based).

    A line keeps its b"\\n"; None means that file has no such line (it ended before).
    """

    line: int
    expected: bytes | None
    actual: bytes | None


@dataclass(frozen=True)
class FileComparison:
    """One .out file that was written."""

    key: str
    input_key: str
    lines: int
    """Lines in the output: b"\\n"-terminated ones, plus a last one without b"\\n"."""
    records: int | None = None
    """Records of the input object, when the count is to be checked."""
    expected_equal: bool | None = None
    """None when there is no expected file to compare with."""
    difference: LineDifference | None = None
    reordered: bool = False
    """The output has the expected lines, each as often, in another order."""

    @property
    def count_matches(self) -> bool | None:
        return None if self.records is None else self.lines == self.records


@dataclass(frozen=True)
class OutputComparison:
    missing: tuple[str, ...]
    """Output keys an input object should have produced and did not (sorted)."""
    extra: tuple[str, ...]
    """Output keys written that belong to no input object (sorted)."""
    files: tuple[FileComparison, ...]
    """The expected .out files that were written, in input order."""
    without_expected: tuple[str, ...] = ()
    """Written .out files for which the expected folder has no file."""
    expected_unused: tuple[str, ...] = ()
    """Files of the expected folder that no input object produces."""
    problems: tuple[str, ...] = ()
    """One message per problem above, ready for the check's message."""

    @property
    def ok(self) -> bool:
        return not self.problems


def compare_outputs(
    actual: Mapping[str, bytes],
    expected_dir: Path | None,
    inputs: Sequence[TransformInput],
    record_counts: Mapping[str, int],
) -> OutputComparison:
    """Compare the written .out files with the inputs and, when given, the expected folder.

    `actual` maps output keys (`output_key(input key)`) to the bytes written; an input object
    that failed has no entry. `record_counts` maps input keys to their number of records; the
    output's line count is checked only for the keys given, so pass counts only when each
    record should give one line (`TransformSettings.counts_output_lines`). Expected files are
    found by output key below `expected_dir`.
    """
    expected = _expected_files(expected_dir) if expected_dir is not None else {}
    wanted = {output_key(item.key): item.key for item in inputs}
    missing = tuple(sorted(k for k in wanted if k not in actual))
    extra = tuple(sorted(k for k in actual if k not in wanted))
    problems = [f"{k}: no output for input {wanted[k]}" for k in missing]
    problems += [f"{k}: written, but no input object has this output name" for k in extra]
    files: list[FileComparison] = []
    without_expected: list[str] = []
    for key, input_key in wanted.items():
        if key not in actual:
            continue
        data = actual[key]
        records = record_counts.get(input_key)
        lines = _line_count(data)
        if records is not None and lines != records:
            problems.append(f"{key}: {lines} output lines for {records} input records")
        if expected_dir is None:
            files.append(FileComparison(key, input_key, lines, records))
        elif key not in expected:
            without_expected.append(key)
            problems.append(f"{key}: the expected folder {expected_dir} has no {key}")
            files.append(FileComparison(key, input_key, lines, records))
        else:
            comparison = _compare(key, input_key, lines, records, data, expected[key])
            files.append(comparison)
            if not comparison.expected_equal:
                problems.append(_difference_message(comparison))
    unused = tuple(sorted(k for k in expected if k not in wanted))
    problems += [f"{k}: expected output, but no input object produces it" for k in unused]
    return OutputComparison(
        missing, extra, tuple(files), tuple(without_expected), unused, tuple(problems)
    )


def quote_line(line: bytes | None, limit: int = QUOTE_LIMIT) -> str:
    """A line for a one-line message: decoded, cut to `limit` characters, quoted, escapes shown."""
    if line is None:
        return "end of file"
    text = line.decode("utf-8", errors="backslashreplace")
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _expected_files(expected_dir: Path) -> dict[str, bytes]:
    listing = list_channel(ChannelPlan("expected output", expected_dir))
    return {f.key: f.path.read_bytes() for f in listing.files}


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _compare(
    key: str, input_key: str, lines: int, records: int | None, data: bytes, expected: bytes
) -> FileComparison:
    if data == expected:
        return FileComparison(key, input_key, lines, records, expected_equal=True)
    # lines end at b"\n" only, as Line splitting and AssembleWith Line see them
    actual_lines = split_records(data, "Line")
    expected_lines = split_records(expected, "Line")
    number = next(
        (
            n
            for n, (a, e) in enumerate(zip(actual_lines, expected_lines, strict=False), 1)
            if a != e
        ),
        min(len(actual_lines), len(expected_lines)) + 1,
    )
    difference = LineDifference(
        number,
        expected_lines[number - 1] if number <= len(expected_lines) else None,
        actual_lines[number - 1] if number <= len(actual_lines) else None,
    )
    reordered = sorted(actual_lines) == sorted(expected_lines)
    return FileComparison(key, input_key, lines, records, False, difference, reordered)


def _difference_message(comparison: FileComparison) -> str:
    difference = comparison.difference
    assert difference is not None
    message = (
        f"{comparison.key}: differs from the expected output at line {difference.line}: "
        f"expected {quote_line(difference.expected)}, got {quote_line(difference.actual)}"
    )
    return message + (" (the same lines in another order)" if comparison.reordered else "")
