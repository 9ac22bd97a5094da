from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.plan import TransformPlan
from harness.sagemaker.recordio import encode_record
from harness.sagemaker.transform import (
    CorruptInputError,
    Payload,
    RecordTooLargeError,
    TransformInput,
    assemble,
    batch_records,
    file_batches,
    output_key,
    read_input,
    resolve_settings,
    split_records,
    transform_inputs,
)
from harness.sagemaker.transform_records import encode_tfrecord

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures/algorithms/broken/reorders-records"


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _settings(tmp_path: Path, **plan: object):
    return resolve_settings(TransformPlan(input=tmp_path, **plan), None)  # type: ignore[arg-type]


# --- input objects -----------------------------------------------------------------------------


def test_a_file_is_one_input_object_keyed_by_its_name(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(b"1\n2\n")
    assert transform_inputs(path) == [TransformInput("batch.csv", path, 4, "None")]


def test_a_folder_gives_every_file_recursively_sorted_by_key(tmp_path):
    root = _tree(tmp_path / "in", {"b.csv": b"b", "a/z.csv": b"zz", "a/b/c.csv": b"", "A": b"A"})
    inputs = transform_inputs(root, "Gzip")
    assert [i.key for i in inputs] == ["A", "a/b/c.csv", "a/z.csv", "b.csv"]
    assert [i.size for i in inputs] == [1, 0, 2, 1]
    assert {i.compression for i in inputs} == {"Gzip"}
    assert inputs[2].path == root / "a/z.csv"


def test_an_unknown_compression_is_refused(tmp_path):
    with pytest.raises(UsageError, match="CompressionType 'gzip'"):
        transform_inputs(tmp_path, "gzip")


def test_a_missing_source_is_refused(tmp_path):
    with pytest.raises(UsageError, match="neither a file nor a folder"):
        transform_inputs(tmp_path / "nope")


def test_gzip_input_is_decompressed_before_splitting(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"1,2\n3,4\n"))
    (item,) = transform_inputs(path, "Gzip")
    assert read_input(item) == b"1,2\n3,4\n"
    assert split_records(read_input(item), "Line") == [b"1,2\n", b"3,4\n"]


def test_multi_member_gzip_is_read_whole(tmp_path):
    path = tmp_path / "a.gz"
    path.write_bytes(gzip.compress(b"1\n") + gzip.compress(b"2\n"))
    assert read_input(TransformInput("a.gz", path, 0, "Gzip")) == b"1\n2\n"


def test_without_gzip_compression_the_bytes_are_sent_as_they_are(tmp_path):
    path = tmp_path / "a.csv.gz"
    packed = gzip.compress(b"1\n")
    path.write_bytes(packed)
    (item,) = transform_inputs(path)
    assert read_input(item) == packed


@pytest.mark.parametrize("data", [b"1,2\n", gzip.compress(b"1\n")[:-4]], ids=["plain", "cut"])
def test_bad_gzip_data_is_a_corrupt_input(tmp_path, data):
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    with pytest.raises(CorruptInputError, match="not valid gzip") as caught:
        read_input(TransformInput("sub/a.csv", path, len(data), "Gzip"))
    assert caught.value.key == "sub/a.csv"


# --- payloads ----------------------------------------------------------------------------------

LINES = [b"aaa\n", b"bb\n", b"c\n", b"dddd\n"]  # 4 + 3 + 2 + 5 bytes


def _shape(payloads: list[Payload]) -> list[tuple[bytes, int, int, bool]]:
    return [(p.body, p.record_count, p.first_record, p.chunked) for p in payloads]


def test_single_record_sends_one_record_per_payload():
    payloads = batch_records(LINES, "SingleRecord", 100)
    assert _shape(payloads) == [
        (b"aaa\n", 1, 0, False),
        (b"bb\n", 1, 1, False),
        (b"c\n", 1, 2, False),
        (b"dddd\n", 1, 3, False),
    ]


def test_single_record_accepts_the_environment_spelling():
    assert len(batch_records(LINES, "SINGLE_RECORD", 100)) == 4


def test_multi_record_packs_everything_that_fits():
    assert _shape(batch_records(LINES, "MultiRecord", 100)) == [(b"".join(LINES), 4, 0, False)]


def test_multi_record_payload_exactly_at_the_limit_fits():
    # 4 + 3 + 2 = 9 bytes: exactly the limit, in one payload
    payloads = batch_records(LINES, "MultiRecord", 9)
    assert _shape(payloads) == [(b"aaa\nbb\nc\n", 3, 0, False), (b"dddd\n", 1, 3, False)]


def test_multi_record_one_byte_over_the_limit_starts_a_new_payload():
    payloads = batch_records(LINES, "MultiRecord", 8)
    assert _shape(payloads) == [
        (b"aaa\nbb\n", 2, 0, False),
        (b"c\ndddd\n", 2, 2, False),
    ]


def test_multi_record_keeps_record_order_and_loses_nothing():
    records = [f"{i}\n".encode() for i in range(1000)]
    payloads = batch_records(records, "MultiRecord", 64)
    assert b"".join(p.body for p in payloads) == b"".join(records)
    assert all(len(p.body) <= 64 for p in payloads)
    assert [p.first_record for p in payloads] == [
        sum(q.record_count for q in payloads[:i]) for i in range(len(payloads))
    ]


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_a_record_exactly_at_the_limit_fits(strategy):
    assert batch_records([b"12345\n"], strategy, 6)[0].body == b"12345\n"


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_a_single_record_over_the_limit_fails_the_file(strategy):
    with pytest.raises(RecordTooLargeError) as caught:
        batch_records([b"ok\n", b"1234567\n"], strategy, 6, key="in/a.csv")
    error = caught.value
    assert (error.key, error.record, error.record_bytes, error.limit_bytes) == ("in/a.csv", 1, 8, 6)
    assert "record 1 of in/a.csv is 8 bytes" in error.one_line()
    assert "6 bytes" in error.one_line()
    assert "max_payload_mb" in error.one_line()


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_unlimited_payload_is_chunked(strategy):
    big = [b"x" * 10_000 + b"\n"] * 3
    payloads = batch_records(big, strategy, None)
    assert all(p.chunked for p in payloads)
    assert len(payloads) == (1 if strategy == "MultiRecord" else 3)


def test_limited_payloads_are_not_chunked():
    assert not any(p.chunked for p in batch_records(LINES, "MultiRecord", 100))


@pytest.mark.parametrize("strategy", ["MultiRecord", "SingleRecord"])
def test_split_none_sends_the_object_whole_whatever_the_strategy(strategy):
    data = b"a\nb\nc\n"
    payloads = batch_records(split_records(data, "None"), strategy, 6, split_type="None")
    assert _shape(payloads) == [(data, 1, 0, False)]


def test_split_none_checks_the_object_against_the_limit():
    with pytest.raises(RecordTooLargeError, match=r"record 0 of big\.bin is 7 bytes"):
        batch_records([b"1234567"], "MultiRecord", 6, split_type="None", key="big.bin")
    assert batch_records([b"1234567"], "MultiRecord", None, split_type="None")[0].chunked


def test_split_none_sends_an_empty_object():
    assert _shape(batch_records([b""], "MultiRecord", 6, split_type="None")) == [(b"", 1, 0, False)]


def test_no_records_no_payloads():
    assert batch_records([], "MultiRecord", 6) == []
    assert batch_records([], "SingleRecord", None) == []


@pytest.mark.parametrize(
    ("split_type", "encode"),
    [("RecordIO", encode_record), ("TFRecord", encode_tfrecord)],
    ids=["RecordIO", "TFRecord"],
)
def test_binary_framing_is_removed_for_single_record_and_kept_for_multi_record(split_type, encode):
    framed = [encode(b"one"), encode(b"two!")]
    single = batch_records(framed, "SingleRecord", 100, split_type=split_type)
    assert [p.body for p in single] == [b"one", b"two!"]
    multi = batch_records(framed, "MultiRecord", 100, split_type=split_type)
    assert [p.body for p in multi] == [framed[0] + framed[1]]
    assert split_records(multi[0].body, split_type) == framed  # the container can split it


def test_multi_record_binary_limit_counts_the_framing():
    framed = [encode_tfrecord(b"abcd")] * 2  # 20 bytes each
    assert [
        p.record_count for p in batch_records(framed, "MultiRecord", 39, split_type="TFRecord")
    ] == [
        1,
        1,
    ]
    assert [
        p.record_count for p in batch_records(framed, "MultiRecord", 40, split_type="TFRecord")
    ] == [2]


def test_single_record_binary_limit_counts_the_payload_only():
    # what is sent is the bare payload: 4 bytes fit a 4-byte limit, the 20-byte frame does not
    framed = [encode_tfrecord(b"abcd")]
    assert batch_records(framed, "SingleRecord", 4, split_type="TFRecord")[0].body == b"abcd"
    with pytest.raises(RecordTooLargeError):
        batch_records(framed, "MultiRecord", 4, split_type="TFRecord")


def test_unknown_strategy_and_split_type_are_refused():
    with pytest.raises(UsageError, match="BatchStrategy 'Sometimes'"):
        batch_records(LINES, "Sometimes", 6)
    with pytest.raises(UsageError, match="SplitType 'Lines'"):
        batch_records(LINES, "MultiRecord", 6, split_type="Lines")


# --- per file ----------------------------------------------------------------------------------


def test_payloads_never_mix_input_files(tmp_path):
    root = _tree(tmp_path / "in", {"a.csv": b"1\n2\n3\n", "b.csv": b"4\n5\n"})
    settings = _settings(root, split_type="Line", max_payload_mb=6)
    batches = [file_batches(item, settings) for item in transform_inputs(root)]
    assert [(b.input.key, b.output_key, b.record_count) for b in batches] == [
        ("a.csv", "a.csv.out", 3),
        ("b.csv", "b.csv.out", 2),
    ]
    assert [[p.body for p in b.payloads] for b in batches] == [[b"1\n2\n3\n"], [b"4\n5\n"]]


def test_file_batches_applies_the_resolved_settings(tmp_path):
    path = tmp_path / "a.rec.gz"
    path.write_bytes(gzip.compress(encode_record(b"r1") + encode_record(b"r2")))
    settings = _settings(tmp_path, split_type="RecordIO", batch_strategy="SingleRecord")
    (item,) = transform_inputs(path, "Gzip")
    batches = file_batches(item, settings)
    assert batches.output_key == "a.rec.gz.out"
    assert [p.body for p in batches.payloads] == [b"r1", b"r2"]
    assert batches.record_count == 2


def test_file_batches_unlimited_payload(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"1\n2\n")
    settings = _settings(tmp_path, split_type="Line", max_payload_mb=0)
    (payload,) = file_batches(transform_inputs(path)[0], settings).payloads
    assert payload.chunked
    assert payload.record_count == 2


# --- output ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "out"),
    [
        ("data.csv", "data.csv.out"),
        ("dataset01/data.csv", "dataset01/data.csv.out"),
        ("a.csv.gz", "a.csv.gz.out"),
        ("noext", "noext.out"),
    ],
)
def test_output_key_appends_out_and_keeps_the_path(key, out):
    assert output_key(key) == out


def test_output_key_needs_a_key():
    with pytest.raises(UsageError):
        output_key("")


def test_assemble_none_concatenates_bytes():
    assert assemble([b"1\n2", b"3", b"\x00"], "None") == b"1\n23\x00"


@pytest.mark.parametrize(
    ("responses", "joined"),
    [
        ([b"1", b"2"], b"1\n2\n"),
        ([b"1\n", b"2\n"], b"1\n2\n"),
        ([b"1\n2\n", b"3\n"], b"1\n2\n3\n"),
        ([b"1\n2", b"3"], b"1\n2\n3\n"),
        ([b'{"predictions": [1, 2]}'], b'{"predictions": [1, 2]}\n'),
        ([b"", b"x"], b"\nx\n"),
        ([b"1\r\n"], b"1\r\n"),
        ([], b""),
    ],
    ids=[
        "adds-newline",
        "already-ends-with-newline",
        "multi-record-response",
        "multi-record-without-last-newline",
        "json",
        "empty-response-is-an-empty-line",
        "crlf-kept",
        "nothing",
    ],
)
def test_assemble_line_ends_every_response_with_one_newline(responses, joined):
    assert assemble(responses, "Line") == joined


def test_assemble_line_matches_the_reorders_records_fixture():
    # the correct responses for the fixture's MultiRecord requests give its expected files
    for name, first, count in (("part-a.csv", 101, 10), ("part-b.csv", 201, 7)):
        response = "".join(f"{n}\n" for n in range(first, first + count)).encode()
        expected = (FIXTURES / "data/expected" / f"{name}.out").read_bytes()
        assert assemble([response], "Line") == expected
        records = split_records((FIXTURES / "data/batch" / name).read_bytes(), "Line")
        assert len(records) == count


def test_assemble_unknown_type_is_refused():
    with pytest.raises(UsageError, match="AssembleWith 'line'"):
        assemble([b"1"], "line")
