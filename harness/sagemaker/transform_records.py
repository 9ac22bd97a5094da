"""Batch transform records: an input object split as SageMaker splits it (SplitType).

Binary records (RecordIO, TFRecord) are returned WITH their framing, so that a MultiRecord
mini-batch is simply their concatenation; `record_body` takes the framing off for SingleRecord
(see its docstring for why). Framing is validated while splitting: a corrupt file raises
`CorruptInputError` naming the byte offset, where SageMaker would fail that file.
"""

from __future__ import annotations

import io
import struct

from harness.errors import UsageError
from harness.sagemaker.recordio import MAGIC, MAX_PART_LENGTH, iter_records

SPLIT_TYPES = ("None", "Line", "RecordIO", "TFRecord")
BINARY_SPLIT_TYPES = ("RecordIO", "TFRecord")

_RECORDIO_HEADER = 8  # magic + lrec, both uint32
_TFRECORD_HEADER = 12  # uint64 length + uint32 masked CRC of the length
_TFRECORD_FOOTER = 4  # uint32 masked CRC of the data
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3


class TransformDataError(UsageError):
    """Transform input that SageMaker would fail the file on; `key` names the input object."""

    def __init__(self, message: str, *, key: str, hint: str | None = None):
        super().__init__(message, where=key or None, hint=hint)
        self.key = key


class CorruptInputError(TransformDataError):
    """An input object that cannot be split: bad gzip data or broken RecordIO/TFRecord framing.

    `offset` is the byte offset (in the decompressed object) of the record that is broken,
    `record` its 0-based index; both are None where they do not apply (bad gzip data).
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        offset: int | None = None,
        record: int | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, key=key, hint=hint)
        self.offset = offset
        self.record = record


class RecordTooLargeError(TransformDataError):
    """One record (or a whole unsplit object) is larger than MaxPayloadInMB allows.

    SageMaker documents that MaxPayloadInMB "must be greater than, or equal to, the size of a
    single record" and fails the job otherwise [API CreateTransformJob.MaxPayloadInMB].
    """

    def __init__(self, *, key: str, record: int, record_bytes: int, limit_bytes: int):
        super().__init__(
            f"record {record} of {key or 'the input'} is {record_bytes} bytes, above the "
            f"MaxPayloadInMB limit of {limit_bytes} bytes",
            key=key,
            hint="MaxPayloadInMB must be >= the size of one record: raise max_payload_mb "
            "(0 sends each payload whole, with chunked encoding)",
        )
        self.record = record
        self.record_bytes = record_bytes
        self.limit_bytes = limit_bytes


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            # 0x82F63B78: the Castagnoli polynomial 0x1EDC6F41, bit-reversed
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses it: crc32c(b"123456789") == 0xE3069283.

    Pure Python, one table lookup per byte (a few MB/s): enough for fixture data, and it spares
    the harness a compiled dependency.
    """
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits, add 0xA282EAD8 (modulo 2**32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def encode_tfrecord(payload: bytes) -> bytes:
    """One payload framed as TensorFlow's TFRecordWriter frames it (all integers little-endian)."""
    length = struct.pack("<Q", len(payload))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def split_records(data: bytes, split_type: str, *, key: str = "") -> list[bytes]:
    """The records of one (already decompressed) input object, in order.

    None: the whole object is one record, even when empty (SageMaker sends it whole).
    Line: split after every b"\\n", which each record keeps; a last line without b"\\n" is a
    record too; empty input has no records. Only LF separates records: in CRLF text the
    b"\\r" stays at the end of its record (b"a,b\\r\\n") and a lone b"\\r" is data, so the
    container gets the bytes of the object unchanged, as SageMaker's "split on newline" reads.
    (Local mode opens files in text mode, which turns CRLF into LF; the harness does not.)
    Empty lines are records too: SageMaker does not document skipping them.
    RecordIO: each MXNet RecordIO record with its framing (header, payload, padding to 4
    bytes); the parts of a multi-part record (continuation flags 1, 2..., 3) stay together.
    TFRecord: each record with its framing (uint64 length, masked CRC-32C of the length, data,
    masked CRC-32C of the data); both CRCs are checked.
    """
    if split_type == "None":
        return [data]
    if split_type == "Line":
        lines = data.split(b"\n")
        records = [line + b"\n" for line in lines[:-1]]
        return [*records, lines[-1]] if lines[-1] else records
    if split_type == "RecordIO":
        return _recordio_records(data, key)
    if split_type == "TFRecord":
        return _tfrecord_records(data, key)
    raise UsageError(f"unknown SplitType {split_type!r}", hint=f"one of {', '.join(SPLIT_TYPES)}")


def record_body(record: bytes, split_type: str) -> bytes:
    """What a SingleRecord request carries for one record of `split_records`.

    The API says "Some data formats represent a record as a binary payload wrapped with extra
    padding bytes. When splitting is applied to a binary data format, padding is removed if the
    value of BatchStrategy is set to SingleRecord. Padding is not removed if ... MultiRecord"
    [API TransformInput.SplitType]. "Padding" there can only mean the whole wrapper: a TFRecord
    has no alignment padding at all, only its length and CRC fields. AWS's own samples agree:
    with SingleRecord + TFRecord the handler parses the body directly as a tf.Example
    (amazon-sagemaker-examples tensorflow_open-images_tfrecord/code/inference.py), and with
    MultiRecord the container reads TFRecord frames, CRCs included, out of the body
    (working_with_tfrecords/tfrecord-transformer-container/app/main.py). So: RecordIO gives
    its payload (a multi-part record joined again, as dmlc's reader joins it) and TFRecord its
    data; Line and None records are sent as they are. Inferred from those sources, not quoted.
    """
    if split_type == "RecordIO":
        return next(iter_records(io.BytesIO(record)))
    if split_type == "TFRecord":
        return record[_TFRECORD_HEADER:-_TFRECORD_FOOTER]
    return record


def _corrupt(
    split_type: str, problem: str, *, key: str, offset: int, record: int
) -> CorruptInputError:
    return CorruptInputError(
        f"{split_type} record {record} at byte offset {offset}: {problem}",
        key=key,
        offset=offset,
        record=record,
        hint=f"is the input {split_type} (SplitType {split_type}), and is the object complete?",
    )


def _recordio_records(data: bytes, key: str) -> list[bytes]:
    records: list[bytes] = []
    offset = 0
    start: int | None = None  # where the multi-part record being read began
    while offset < len(data):
        cflag, end = _recordio_part(data, offset, key, len(records))
        if cflag == _WHOLE and start is None:
            records.append(data[offset:end])
        elif cflag == _FIRST and start is None:
            start = offset
        elif cflag == _MIDDLE and start is not None:
            pass
        elif cflag == _LAST and start is not None:
            records.append(data[start:end])
            start = None
        else:
            raise _corrupt(
                "RecordIO",
                f"continuation flag {cflag} out of order",
                key=key,
                offset=offset,
                record=len(records),
            )
        offset = end
    if start is not None:
        raise _corrupt(
            "RecordIO",
            "the object ends inside this multi-part record",
            key=key,
            offset=start,
            record=len(records),
        )
    return records


def _recordio_part(data: bytes, offset: int, key: str, record: int) -> tuple[int, int]:
    """The continuation flag of the part at `offset` and where the part ends."""
    left = len(data) - offset
    problem = None
    if left < _RECORDIO_HEADER:
        problem = f"truncated header ({left} of {_RECORDIO_HEADER} bytes)"
    else:
        magic: int
        lrec: int
        magic, lrec = struct.unpack_from("<II", data, offset)
        cflag, length = lrec >> 29, lrec & MAX_PART_LENGTH
        end = offset + _RECORDIO_HEADER + length + (-length % 4)
        if magic != MAGIC:
            problem = f"bad magic 0x{magic:08x} (RecordIO's is 0x{MAGIC:08x})"
        elif end > len(data):
            problem = f"truncated: the header announces {length} bytes and padding"
        else:
            return cflag, end
    raise _corrupt("RecordIO", problem, key=key, offset=offset, record=record)


def _tfrecord_records(data: bytes, key: str) -> list[bytes]:
    records: list[bytes] = []
    offset = 0
    while offset < len(data):
        end = _tfrecord_end(data, offset, key, len(records))
        records.append(data[offset:end])
        offset = end
    return records


def _tfrecord_end(data: bytes, offset: int, key: str, record: int) -> int:
    """Where the TFRecord record at `offset` ends, after checking its length and both CRCs."""
    left = len(data) - offset
    if left < _TFRECORD_HEADER:
        problem = f"truncated header ({left} of {_TFRECORD_HEADER} bytes)"
    else:
        length: int
        length_crc: int
        length, length_crc = struct.unpack_from("<QI", data, offset)
        body = offset + _TFRECORD_HEADER
        end = body + length + _TFRECORD_FOOTER
        actual = masked_crc32c(data[offset : offset + 8])
        if actual != length_crc:
            problem = f"length CRC 0x{length_crc:08x} does not match 0x{actual:08x}"
        elif end > len(data):
            problem = f"truncated: the header announces {length} bytes of data and a CRC"
        else:
            data_crc: int = struct.unpack_from("<I", data, body + length)[0]
            actual = masked_crc32c(data[body : body + length])
            if actual == data_crc:
                return end
            problem = f"data CRC 0x{data_crc:08x} does not match 0x{actual:08x}"
    raise _corrupt("TFRecord", problem, key=key, offset=offset, record=record)
