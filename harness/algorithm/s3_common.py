"""What S3 uploads (s3_data.py) and downloads (s3_download.py) share: URIs, file digests, the
listing, and progress events.

The evidence that an object holds a local file's bytes is, in order: the same size and an ETag
equal to the file's MD5 (a single-part upload), or to the multipart ETag our own TransferConfig
would produce (MD5 of the parts' MD5s + "-N"); failing both, a `harness-sha256` user-metadata
value, written by every upload here, equal to the file's SHA-256. The metadata is what makes the
check robust: an ETag is no content hash under SSE-KMS, and a multipart ETag depends on the part
size of whoever uploaded it. Anything short of a match is sent again: a redundant transfer costs
time, a wrong skip would validate (or train on) stale data.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.algorithm.aws import DEFAULT_MAX_ATTEMPTS, service_client
from harness.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
# boto3's own defaults; S3 refuses parts under 5 MiB (but the last), and s3transfer raises a
# smaller chunk size to 5 MiB itself.
DEFAULT_MULTIPART_THRESHOLD = 8 * MIB
DEFAULT_MULTIPART_CHUNKSIZE = 8 * MIB
SHA256_METADATA = "harness-sha256"
PROGRESS_STEP_BYTES = 8 * MIB
"""Intermediate progress events come at most once per 1 % of an object or per this many bytes
(whichever is smaller): enough for a progress bar, never one event per network read."""

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_READ_SIZE = 1 * MIB


@dataclass(frozen=True)
class TransferEvent:
    """Progress of one object: `bytes_done` of `bytes_total`.

    Per transferred object: a first event at 0 (not for an empty object), intermediate ones
    (0 < bytes_done < bytes_total) as the bytes go, throttled to one per 1 % or per 8 MiB,
    whichever is smaller, and exactly one final event (bytes_done == bytes_total) once the
    transfer has completed, empty objects included. `skip`: one event, the object was
    unchanged. `delete`: one event, a stale object was deleted (bytes_total its size).
    """

    action: Literal["upload", "download", "skip", "delete"]
    key: str
    bytes_done: int
    bytes_total: int


Progress = Callable[[TransferEvent], None]


@dataclass(frozen=True)
class FileDigest:
    size: int
    md5: str  # hex
    sha256: str  # hex
    multipart_etag: str | None  # what our multipart upload of it would get; None below threshold


# ---- pure helpers -------------------------------------------------------------------------


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key/prefix` -> (bucket, key prefix); the prefix may be empty."""
    hint = "write it as s3://BUCKET/PREFIX (bucket: 3-63 of a-z 0-9 . -)"
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise UsageError(f"not an S3 URI: {uri!r}", hint=hint)
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(f"not a valid S3 bucket name: {bucket!r} in {uri!r}", hint=hint)
    if len(key.encode()) > 1024:
        raise UsageError(f"S3 key longer than 1024 bytes in {uri!r}", hint=hint)
    if any(ch in key for ch in "\r\n\0"):
        raise UsageError(f"control character in the S3 key of {uri!r}", hint=hint)
    return bucket, key


def folder_prefix(key: str) -> str:
    """A key prefix to put files under: '' or ending in '/'."""
    return key if not key or key.endswith("/") else key + "/"


def multipart_part_size(size: int, chunksize: int) -> int:
    """The part size s3transfer uses for a file of `size` bytes (at least 5 MiB, <= 10000 parts)."""
    from s3transfer.utils import ChunksizeAdjuster

    return int(ChunksizeAdjuster().adjust_chunksize(chunksize, size))


def etag_matches(etag: str, digest: FileDigest) -> bool:
    """Whether an S3 ETag proves the object holds the file's bytes (quotes ignored)."""
    bare = etag.strip('"').lower()
    return bare in {digest.md5, digest.multipart_etag}


# ---- I/O ------------------------------------------------------------------------------------


def s3_client(
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> S3Client:
    """An S3 client from a fresh session on the standard credential chain."""
    client: S3Client = service_client("s3", profile, region, endpoint_url, max_attempts)
    return client


def file_digest(path: Path, *, multipart_threshold: int, multipart_chunksize: int) -> FileDigest:
    """Hashes of a file in one read: MD5, SHA-256 and, above the threshold, the multipart ETag."""
    size = path.stat().st_size
    part_size = (
        multipart_part_size(size, multipart_chunksize) if size >= multipart_threshold else None
    )
    # usedforsecurity=False: MD5 here is S3's checksum, and FIPS-mode Pythons refuse it otherwise.
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    part_md5s: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_SIZE):
            md5.update(chunk)
            sha256.update(chunk)
            if part_size is None:
                continue
            view = memoryview(chunk)
            while view:
                take = min(len(view), part_size - in_part)
                part.update(view[:take])
                in_part += take
                view = view[take:]
                if in_part == part_size:
                    part_md5s.append(part.digest())
                    part, in_part = hashlib.md5(usedforsecurity=False), 0
    multipart_etag = None
    if part_size is not None:
        if in_part or not part_md5s:
            part_md5s.append(part.digest())
        combined = hashlib.md5(b"".join(part_md5s), usedforsecurity=False).hexdigest()
        multipart_etag = f"{combined}-{len(part_md5s)}"
    return FileDigest(size, md5.hexdigest(), sha256.hexdigest(), multipart_etag)


def list_objects(
    client: S3Client, bucket: str, prefix: str
) -> Iterator[tuple[str, tuple[int, str]]]:
    """(key, (size, ETag)) of every object whose key starts with `prefix`."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"], (int(item["Size"]), str(item.get("ETag", "")))


def metadata_sha256(client: S3Client, bucket: str, key: str) -> str | None:
    metadata = client.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    return metadata.get(SHA256_METADATA)


def emit(progress: Progress | None, event: TransferEvent) -> None:
    if progress is not None:
        progress(event)


class Reporter:
    """s3transfer's byte-count callback, turned into throttled TransferEvents (see there)."""

    def __init__(
        self, progress: Progress | None, action: Literal["upload", "download"], key: str, total: int
    ):
        self._progress = progress
        self._action: Literal["upload", "download"] = action
        self._key = key
        self._total = total
        self._done = 0
        self._emitted = 0
        self._step = max(1, min(total // 100, PROGRESS_STEP_BYTES))
        # s3transfer calls back from its worker threads; the lock serialises the events.
        self._lock = threading.Lock()
        if total:  # an empty object's one event is the final one, after it was sent
            emit(progress, TransferEvent(action, key, 0, total))

    def __call__(self, bytes_amount: int) -> None:
        with self._lock:
            # A retried part reports negative amounts first: clamp to 0..total. Only progress
            # past the last event is reported, so bytes_done never goes backwards.
            self._done = max(0, min(self._total, self._done + bytes_amount))
            if self._done < self._total and self._done - self._emitted >= self._step:
                self._emitted = self._done
                emit(
                    self._progress, TransferEvent(self._action, self._key, self._done, self._total)
                )

    def finish(self) -> None:
        """The one final event: called once the transfer has returned, so 100 % means done."""
        with self._lock:
            self._done = self._emitted = self._total
            emit(self._progress, TransferEvent(self._action, self._key, self._total, self._total))
