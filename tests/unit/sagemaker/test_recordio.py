from __future__ import annotations

import functools
import importlib.util
import io
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.sagemaker.recordio import MAGIC, _frame, encode_record, iter_records

_MAGIC_LE = struct.pack("<I", MAGIC)
_FIXTURE = (
    Path(__file__).resolve().parents[3]
    / "fixtures/algorithms/reference/program/refalgo/recordio.py"
)


@functools.cache
def _fixture_recordio():
    """The reference algorithm's own reader and writer, written independently of ours."""
    spec = importlib.util.spec_from_file_location("refalgo_recordio", _FIXTURE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _header(cflag: int, length: int) -> bytes:
    return struct.pack("<II", MAGIC, cflag << 29 | length)


PAYLOADS = [
    b"",
    b"a",
    b"abcd",
    b"abcde",
    b"1,2,3\n4,5,6\n",
    _MAGIC_LE,
    b"abcd" + _MAGIC_LE + b"efgh",
    _MAGIC_LE + b"x" + _MAGIC_LE,
    b"ab" + _MAGIC_LE + b"cd",
    bytes(range(256)) * 5,
]
PAYLOAD_IDS = [
    "empty",
    "one-byte",
    "aligned",
    "unaligned",
    "csv",
    "only-magic",
    "aligned-magic",
    "magic-twice",
    "unaligned-magic",
    "binary",
]


def test_whole_record_framing_byte_for_byte():
    assert encode_record(b"abcde") == _header(0, 5) + b"abcde\0\0\0"
    assert encode_record(b"abcd") == _header(0, 4) + b"abcd"
    assert encode_record(b"") == _header(0, 0)
    assert encode_record(b"abcde")[:4] == b"\x0a\x23\xd7\xce"  # little-endian magic


def test_magic_at_an_aligned_offset_splits_the_record():
    assert encode_record(b"abcd" + _MAGIC_LE + b"ef") == (
        _header(1, 4) + b"abcd" + _header(3, 2) + b"ef\0\0"
    )
    assert encode_record(_MAGIC_LE + b"x" + _MAGIC_LE) == (
        _header(1, 0) + _header(3, 5) + b"x" + _MAGIC_LE + b"\0\0\0"
    )


def test_three_parts_have_a_middle():
    payload = b"aaaa" + _MAGIC_LE + b"bbbb" + _MAGIC_LE + b"cc"
    assert encode_record(payload) == (
        _header(1, 4) + b"aaaa" + _header(2, 4) + b"bbbb" + _header(3, 2) + b"cc\0\0"
    )


def test_magic_at_an_unaligned_offset_is_not_split():
    payload = b"ab" + _MAGIC_LE + b"cd"
    assert encode_record(payload) == _header(0, 8) + payload


@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_round_trip(payload):
    assert list(iter_records(io.BytesIO(encode_record(payload)))) == [payload]


@pytest.mark.parametrize("payload", PAYLOADS, ids=PAYLOAD_IDS)
def test_framing_agrees_with_the_reference_algorithm(payload):
    reference = _fixture_recordio()
    assert encode_record(payload) == reference.encode_record(payload)
    stream = io.BytesIO(b"".join(encode_record(p) for p in (payload, b"next")))
    assert list(reference.iter_records(stream)) == [payload, b"next"]


def test_reader_reads_many_records_and_an_empty_stream():
    stream = io.BytesIO(encode_record(b"one") + encode_record(b"two"))
    assert list(iter_records(stream)) == [b"one", b"two"]
    assert list(iter_records(io.BytesIO(b""))) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x0a\x23", "truncated header"),
        (struct.pack("<II", 0x12345678, 0), "bad magic"),
        (_header(0, 8) + b"abc", "truncated payload"),
        (_header(1, 0), "ends inside"),
        (_header(2, 0), "out of order"),
        (_header(3, 0), "out of order"),
        (_header(1, 0) + _header(0, 0), "out of order"),
        (_header(1, 0) + _header(1, 0), "out of order"),
        (_header(5, 0), "out of order"),
    ],
    ids=[
        "short-header",
        "bad-magic",
        "short-payload",
        "unfinished-parts",
        "middle-first",
        "last-first",
        "whole-inside-parts",
        "first-twice",
        "unknown-flag",
    ],
)
def test_reader_refuses_broken_streams(data, message):
    with pytest.raises(UsageError, match=message):
        list(iter_records(io.BytesIO(data)))


def test_a_part_longer_than_29_bits_is_refused():
    class Huge(bytes):
        def __len__(self):
            return 1 << 29

    with pytest.raises(UsageError, match="at most"):
        _frame(0, Huge(b"x"))


@given(st.lists(st.sampled_from([b"a", b"bc", b"\xce", b"\x0a\x23\xd7", _MAGIC_LE]), max_size=30))
def test_any_payload_frames_like_the_reference_algorithm(pieces):
    payload = b"".join(pieces)
    reference = _fixture_recordio()
    framed = encode_record(payload)
    assert framed == reference.encode_record(payload)
    assert list(iter_records(io.BytesIO(framed))) == [payload]
