"""MXNet / dmlc-core RecordIO framing, which SageMaker uses for RecordWrapperType=RecordIO.

Each record on the wire (all integers little-endian uint32):

    magic   0xced7230a
    lrec    cflag << 29 | length     upper 3 bits: continuation flag; lower 29: payload length
    data    length bytes, then zero padding up to a multiple of 4

cflag 0 is a whole record. dmlc's RecordIOWriter never lets the magic word appear at a 4-byte
aligned offset of a payload, because its readers resynchronise on that word: such a payload is
written as parts (cflag 1 first, 2 middle, 3 last) with the magic word itself left out, and a
reader puts it back between the parts. `encode_record` does the same, so a container using
dmlc's own reader sees exactly the bytes SageMaker would send.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from harness.errors import UsageError

MAGIC = 0xCED7230A
MAX_PART_LENGTH = (1 << 29) - 1
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3


def _frame(cflag: int, part: bytes) -> bytes:
    if len(part) > MAX_PART_LENGTH:
        raise UsageError(
            f"a RecordIO record part holds at most {MAX_PART_LENGTH} bytes, not {len(part)}"
        )
    padding = b"\0" * (-len(part) % 4)
    return struct.pack("<II", MAGIC, cflag << 29 | len(part)) + part + padding


def encode_record(payload: bytes) -> bytes:
    """One payload framed as dmlc-core's RecordIOWriter::WriteRecord frames it."""
    parts: list[bytes] = []
    start = 0
    offset = payload.find(_MAGIC_BYTES)
    while offset >= 0:
        if offset % 4 == 0:  # dmlc only looks at aligned words
            parts.append(payload[start:offset])
            start = offset + 4
        offset = payload.find(_MAGIC_BYTES, offset + 1)
    if not parts:
        return _frame(_WHOLE, payload)
    parts.append(payload[start:])
    flags = [_FIRST] + [_MIDDLE] * (len(parts) - 2) + [_LAST]
    return b"".join(_frame(flag, part) for flag, part in zip(flags, parts, strict=True))


def _read_exact(stream: BinaryIO, count: int) -> bytes:
    chunks = []
    left = count
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def iter_records(stream: BinaryIO) -> Iterator[bytes]:
    """Each logical record of a RecordIO stream, multi-part records joined again."""
    parts: list[bytes] = []
    index = 0
    while True:
        header = _read_exact(stream, 8)
        if not header:
            if parts:
                raise UsageError(f"RecordIO record {index}: stream ends inside a multi-part record")
            return
        if len(header) < 8:
            raise UsageError(f"RecordIO record {index}: truncated header")
        magic, lrec = struct.unpack("<II", header)
        if magic != MAGIC:
            raise UsageError(f"RecordIO record {index}: bad magic 0x{magic:08x}")
        cflag, length = lrec >> 29, lrec & MAX_PART_LENGTH
        body = _read_exact(stream, length + (-length % 4))
        if len(body) < length:
            raise UsageError(f"RecordIO record {index}: truncated payload")
        data = body[:length]
        if cflag == _WHOLE and not parts:
            yield data
            index += 1
        elif cflag == _FIRST and not parts:
            parts = [data]
        elif cflag in (_MIDDLE, _LAST) and parts:
            parts.append(data)
            if cflag == _LAST:
                yield _MAGIC_BYTES.join(parts)
                parts = []
                index += 1
        else:
            raise UsageError(f"RecordIO record {index}: continuation flag {cflag} out of order")
