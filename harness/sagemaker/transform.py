"""SageMaker batch transform as pure code: input objects, mini-batches, output names, assembly.

The flow for one input object (docs/sagemaker-contract.md §3): read it (gunzip when
CompressionType is Gzip), split it into records (`split_records`), pack the records into
request payloads (`batch_records`), send each payload to /invocations, and join the responses
into `<key>.out` (`assemble`). Mini-batches never span input objects [DG-bt]. Settings and
/execution-parameters live in transform_settings, record framing in transform_records, the
TRANSFORM-OUTPUT comparison in transform_compare. Only `transform_inputs` and `read_input`
touch the file system (they read).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.plan import ChannelPlan
from harness.sagemaker.channels import list_channel
from harness.sagemaker.transform_records import (
    BINARY_SPLIT_TYPES,
    SPLIT_TYPES,
    CorruptInputError,
    RecordTooLargeError,
    TransformDataError,
    crc32c,
    encode_tfrecord,
    masked_crc32c,
    record_body,
    split_records,
)
from harness.sagemaker.transform_settings import (
    BYTES_PER_MB,
    ExecutionParametersCheck,
    SettingSource,
    TransformSettings,
    batch_environment,
    canonical_batch_strategy,
    resolve_settings,
    validate_execution_parameters,
)

__all__ = [
    "ASSEMBLY_TYPES",
    "BINARY_SPLIT_TYPES",
    "BYTES_PER_MB",
    "COMPRESSION_TYPES",
    "SPLIT_TYPES",
    "CorruptInputError",
    "ExecutionParametersCheck",
    "FileBatches",
    "Payload",
    "RecordTooLargeError",
    "SettingSource",
    "TransformDataError",
    "TransformInput",
    "TransformSettings",
    "assemble",
    "batch_environment",
    "batch_records",
    "canonical_batch_strategy",
    "crc32c",
    "encode_tfrecord",
    "file_batches",
    "masked_crc32c",
    "output_key",
    "read_input",
    "record_body",
    "resolve_settings",
    "split_records",
    "transform_inputs",
    "validate_execution_parameters",
]

COMPRESSION_TYPES = ("None", "Gzip")
ASSEMBLY_TYPES = ("None", "Line")


@dataclass(frozen=True)
class TransformInput:
    """One input object of a transform job."""

    key: str
    """Path relative to the input folder, `/`-separated, like an S3 key below the prefix."""
    path: Path
    size: int
    """Bytes on disk (compressed size for Gzip)."""
    compression: str = "None"
    """TransformInput.CompressionType: None | Gzip."""


@dataclass(frozen=True)
class Payload:
    """The body of one /invocations request and the records it holds.

    `first_record` is the 0-based index (within its input object) of the first record in the
    body, `record_count` how many records follow. `chunked` is True when MaxPayloadInMB is 0:
    SageMaker then sends the body with `Transfer-Encoding: chunked` [API], whatever its size.
    """

    body: bytes
    record_count: int
    first_record: int
    chunked: bool = False


@dataclass(frozen=True)
class FileBatches:
    """An input object's requests: what the transform job sends for it, in order."""

    input: TransformInput
    output_key: str
    record_count: int
    payloads: tuple[Payload, ...]


def transform_inputs(source: Path, compression: str = "None") -> list[TransformInput]:
    """The input objects of a transform: `source` itself, or every regular file below it.

    Listed as channels are (harness.sagemaker.channels.list_channel): sorted by key in S3's
    order, symbolic links never followed out of the folder, special files left out.
    """
    if compression not in COMPRESSION_TYPES:
        raise UsageError(
            f"unknown CompressionType {compression!r}",
            hint=f"one of {', '.join(COMPRESSION_TYPES)}",
        )
    listing = list_channel(ChannelPlan("transform input", source))
    return [TransformInput(f.key, f.path, f.size, compression) for f in listing.files]


def read_input(item: TransformInput) -> bytes:
    """The bytes SageMaker splits: the object itself, or its content when it is gzipped.

    SageMaker "automatically decompresses the data for the transform job" [API
    TransformInput.CompressionType]; a gzip stream of several members is read whole, as
    `gzip -d` does.
    """
    data = item.path.read_bytes()
    if item.compression != "Gzip":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptInputError(
            f"CompressionType is Gzip but the object is not valid gzip data: {exc}",
            key=item.key,
            hint="set compression None, or gzip the file",
        ) from exc


def batch_records(
    records: Sequence[bytes],
    strategy: str,
    max_payload_bytes: int | None,
    *,
    split_type: str = "Line",
    key: str = "",
) -> list[Payload]:
    """The request payloads for the records of ONE input object (`split_records`' output).

    SplitType None: the object is one payload whatever the strategy (BatchStrategy "has effect
    only" with a split type [API]); its size is checked against the limit all the same.
    SingleRecord: one record per payload; for RecordIO and TFRecord the record's framing is
    taken off (`record_body`). MultiRecord: consecutive records, framing kept, packed while the
    body stays within `max_payload_bytes` (a body of exactly the limit is allowed).
    `max_payload_bytes` None is MaxPayloadInMB 0: no limit, every payload `chunked`, and
    MultiRecord sends all records of the object in one payload.
    Every payload is checked: a single record above the limit raises RecordTooLargeError, as
    SageMaker fails the job ("MaxPayloadInMB must be >= the size of one record"). An object
    with no records (empty, Line-split) gets no payload and thus an empty .out (unsourced).
    """
    if split_type not in SPLIT_TYPES:
        raise UsageError(
            f"unknown SplitType {split_type!r}", hint=f"one of {', '.join(SPLIT_TYPES)}"
        )
    strategy = canonical_batch_strategy(strategy)
    chunked = max_payload_bytes is None

    def fitted(body: bytes, index: int) -> bytes:
        if max_payload_bytes is not None and len(body) > max_payload_bytes:
            raise RecordTooLargeError(
                key=key, record=index, record_bytes=len(body), limit_bytes=max_payload_bytes
            )
        return body

    if split_type == "None" or strategy == "SingleRecord":
        return [
            Payload(fitted(record_body(record, split_type), index), 1, index, chunked)
            for index, record in enumerate(records)
        ]
    payloads: list[Payload] = []
    batch: list[bytes] = []
    size = 0
    for index, record in enumerate(records):
        fitted(record, index)
        if batch and max_payload_bytes is not None and size + len(record) > max_payload_bytes:
            payloads.append(Payload(b"".join(batch), len(batch), index - len(batch), chunked))
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        payloads.append(Payload(b"".join(batch), len(batch), len(records) - len(batch), chunked))
    return payloads


def file_batches(item: TransformInput, settings: TransformSettings) -> FileBatches:
    """Read, split and batch one input object with the resolved settings."""
    records = split_records(read_input(item), settings.split_type, key=item.key)
    payloads = batch_records(
        records,
        settings.batch_strategy,
        settings.max_payload_bytes,
        split_type=settings.split_type,
        key=item.key,
    )
    return FileBatches(item, output_key(item.key), len(records), tuple(payloads))


def output_key(input_key: str) -> str:
    """`<input key>.out`, relative path kept: data/a.csv -> data/a.csv.out [API S3OutputPath].

    A gzipped input keeps its suffix too (a.csv.gz -> a.csv.gz.out), although its output is
    not compressed: SageMaker only appends ".out".
    """
    if not input_key:
        raise UsageError("an input object needs a key to name its output")
    return f"{input_key}.out"


def assemble(responses: Sequence[bytes], assemble_with: str) -> bytes:
    """One input object's output: its responses, in request order, joined per AssembleWith.

    None: the responses concatenated as they are [API TransformOutput.AssembleWith].
    Line: SageMaker "add[s] a newline character at the end of every transformed record" but
    does not say what happens when one response holds several records (MultiRecord) or already
    ends with a newline. Unsourced choice, the least surprising one: a newline is added after
    each response unless it already ends with b"\\n" (an empty response becomes one empty
    line). A MultiRecord CSV response "1\\n2\\n" therefore stays "1\\n2\\n", not "1\\n2\\n\\n"
    (local mode appends b"\\n" to every response unconditionally and would add that blank
    line); this is what fixtures/algorithms/broken/reorders-records/data/expected holds.
    """
    if assemble_with == "None":
        return b"".join(responses)
    if assemble_with == "Line":
        return b"".join(r if r.endswith(b"\n") else r + b"\n" for r in responses)
    raise UsageError(
        f"unknown AssembleWith {assemble_with!r}", hint=f"one of {', '.join(ASSEMBLY_TYPES)}"
    )
