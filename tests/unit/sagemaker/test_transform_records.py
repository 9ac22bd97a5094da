from __future__ import annotations

import struct

import pytest

from harness.errors import UsageError
from harness.sagemaker.recordio import MAGIC, encode_record
from harness.sagemaker.transform_records import (
    CorruptInputError,
    crc32c,
    encode_tfrecord,
    masked_crc32c,
    record_body,
    split_records,
)

_MAGIC_LE = struct.pack("<I", MAGIC)


# --- CRC-32C -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "crc"),
    [
        (b"123456789", 0xE3069283),  # the CRC catalogue's check value for CRC-32C
        (b"", 0x00000000),
        (bytes(32), 0x8A9136AA),  # RFC 3720 B.4: 32 bytes of zeros
        (b"\xff" * 32, 0x62A8AB43),  # RFC 3720 B.4: 32 bytes of ones
        (bytes(range(32)), 0x46DD794E),  # RFC 3720 B.4: incrementing
        (bytes(range(31, -1, -1)), 0x113FDB5C),  # RFC 3720 B.4: decrementing
    ],
    ids=["check", "empty", "zeros", "ones", "incrementing", "decrementing"],
)
def test_crc32c_matches_published_vectors(data, crc):
    assert crc32c(data) == crc


def test_crc32c_is_not_plain_crc32():
    import zlib

    assert crc32c(b"123456789") != zlib.crc32(b"123456789")


def test_masked_crc_rotates_right_15_and_adds_the_delta():
    # TensorFlow: ((crc >> 15) | (crc << 17)) + 0xa282ead8, applied to 0xE3069283 by hand
    assert masked_crc32c(b"123456789") == 0xC78AB0E5


# --- Line --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "records"),
    [
        (b"", []),
        (b"a\n", [b"a\n"]),
        (b"a\nb\n", [b"a\n", b"b\n"]),
        (b"a\nb", [b"a\n", b"b"]),
        (b"a", [b"a"]),
        (b"\n\n", [b"\n", b"\n"]),
        (b"a\r\nb\r\n", [b"a\r\n", b"b\r\n"]),
        (b"a\rb\n", [b"a\rb\n"]),
        (b"1,\xff\x00\n", [b"1,\xff\x00\n"]),
    ],
    ids=[
        "empty",
        "one-line",
        "two-lines",
        "last-without-newline",
        "no-newline-at-all",
        "empty-lines-are-records",
        "crlf-keeps-cr",
        "lone-cr-is-data",
        "binary-bytes",
    ],
)
def test_line_split_keeps_each_newline(data, records):
    assert split_records(data, "Line") == records
    assert b"".join(records) == data  # nothing is added or lost


# --- None --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"a\nb\n", bytes(range(256))], ids=["empty", "text", "bin"])
def test_split_none_is_the_whole_object(data):
    assert split_records(data, "None") == [data]


def test_unknown_split_type_is_refused():
    with pytest.raises(UsageError, match="SplitType 'line'"):
        split_records(b"a\n", "line")


# --- RecordIO ----------------------------------------------------------------------------------


def _recordio_header(cflag: int, length: int) -> bytes:
    return struct.pack("<II", MAGIC, cflag << 29 | length)


def test_recordio_records_keep_header_and_padding():
    first, second = encode_record(b"abcde"), encode_record(b"xy")
    assert first == _recordio_header(0, 5) + b"abcde\0\0\0"
    records = split_records(first + second, "RecordIO")
    assert records == [first, second]


def test_recordio_multi_part_record_stays_one_record():
    payload = b"abcd" + _MAGIC_LE + b"efgh"  # an aligned magic word: written in two parts
    multi = encode_record(payload)
    assert multi.count(_MAGIC_LE) == 2  # two headers, the payload's own magic left out
    single = encode_record(b"z")
    assert split_records(single + multi + single, "RecordIO") == [single, multi, single]
    assert record_body(multi, "RecordIO") == payload


def test_recordio_three_part_record():
    payload = _MAGIC_LE + b"x" * 4 + _MAGIC_LE + b"y"
    framed = encode_record(payload)
    assert split_records(framed, "RecordIO") == [framed]
    assert record_body(framed, "RecordIO") == payload


def test_recordio_empty_object_has_no_records():
    assert split_records(b"", "RecordIO") == []


def test_recordio_empty_payload_is_a_record():
    assert split_records(encode_record(b""), "RecordIO") == [_recordio_header(0, 0)]


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        (encode_record(b"ab") + b"\x0a\x23", 12, "truncated header"),
        (encode_record(b"ab") + b"\0" * 8, 12, "bad magic 0x00000000"),
        (_recordio_header(0, 9) + b"abc", 0, "truncated"),
        (_recordio_header(0, 3) + b"abc", 0, "truncated"),  # padding missing
        (_recordio_header(2, 4) + b"abcd", 0, "continuation flag 2 out of order"),
        (_recordio_header(3, 4) + b"abcd", 0, "continuation flag 3 out of order"),
        (_recordio_header(1, 4) + b"abcd" + _recordio_header(0, 0), 12, "flag 0 out of order"),
        (_recordio_header(1, 4) + b"abcd", 0, "ends inside this multi-part record"),
        (_recordio_header(5, 0), 0, "continuation flag 5"),
    ],
    ids=[
        "short-header",
        "bad-magic",
        "short-payload",
        "no-padding",
        "middle-first",
        "last-first",
        "whole-inside-multi",
        "unfinished-multi",
        "flag-out-of-range",
    ],
)
def test_corrupt_recordio_names_the_offset(data, offset, message):
    with pytest.raises(CorruptInputError, match=message) as caught:
        split_records(data, "RecordIO", key="in/x.rec")
    assert caught.value.offset == offset
    assert caught.value.key == "in/x.rec"
    assert f"byte offset {offset}" in caught.value.one_line()
    assert caught.value.one_line().startswith("in/x.rec: RecordIO record ")


def test_corrupt_recordio_names_the_record_index():
    data = encode_record(b"a") + encode_record(b"b") + b"garbage!"
    with pytest.raises(CorruptInputError) as caught:
        split_records(data, "RecordIO")
    assert caught.value.record == 2
    assert caught.value.offset == 24


# --- TFRecord ----------------------------------------------------------------------------------


def test_tfrecord_framing_is_length_crc_data_crc():
    framed = encode_tfrecord(b"hello")
    assert framed[:8] == struct.pack("<Q", 5)
    assert framed[8:12] == struct.pack("<I", masked_crc32c(struct.pack("<Q", 5)))
    assert framed[12:17] == b"hello"
    assert framed[17:] == struct.pack("<I", masked_crc32c(b"hello"))


def test_tfrecord_records_keep_their_framing():
    records = [encode_tfrecord(b"one"), encode_tfrecord(b""), encode_tfrecord(bytes(300))]
    assert split_records(b"".join(records), "TFRecord") == records
    assert [record_body(r, "TFRecord") for r in records] == [b"one", b"", bytes(300)]


def test_tfrecord_empty_object_has_no_records():
    assert split_records(b"", "TFRecord") == []


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


_GOOD = encode_tfrecord(b"first")  # 21 bytes


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        (_GOOD + _flip(encode_tfrecord(b"second"), 14), 21, "data CRC 0x[0-9a-f]{8} does not"),
        (_GOOD + _flip(encode_tfrecord(b"second"), 20), 21, "data CRC"),
        (_GOOD + _flip(encode_tfrecord(b"second"), 9), 21, "length CRC"),
        (_GOOD + _flip(encode_tfrecord(b"second"), 0), 21, "length CRC"),
        (_GOOD + encode_tfrecord(b"second")[:-1], 21, "truncated: .* 6 bytes"),
        (_GOOD + encode_tfrecord(b"second")[:11], 21, "truncated header"),
    ],
    ids=["data-byte", "data-crc", "length-crc", "length", "short-data", "short-header"],
)
def test_corrupt_tfrecord_names_the_offset(data, offset, message):
    with pytest.raises(CorruptInputError, match=message) as caught:
        split_records(data, "TFRecord", key="x.tfrecord")
    assert caught.value.offset == offset
    assert caught.value.record == 1
    assert "TFRecord record 1 at byte offset 21" in caught.value.one_line()


def test_record_body_leaves_line_and_none_records_alone():
    assert record_body(b"a,b\n", "Line") == b"a,b\n"
    assert record_body(b"\0\1", "None") == b"\0\1"
