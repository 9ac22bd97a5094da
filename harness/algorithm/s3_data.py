"""Fixture data to and from S3: what `harness spec` uploads for the ValidationSpecification.

Unchanged files are not sent again. The evidence that an object holds a local file's bytes is,
in order: the same size and an ETag equal to the file's MD5 (a single-part upload), or to the
multipart ETag our own TransferConfig would produce (MD5 of the parts' MD5s + "-N"); failing
both, a `harness-sha256` user-metadata value, written by every upload here, equal to the file's
SHA-256. The metadata is what makes the check robust: an ETag is no content hash under SSE-KMS,
and a multipart ETag depends on the part size of whoever uploaded it. Anything short of a match
is uploaded again: a redundant upload costs time, a wrong skip would validate stale data.

Downloads follow SageMaker's `S3Prefix` semantics: every key that *starts with the prefix
string*, not only the "folder" below it (`s3://b/data/tr` takes `data/train/x.csv` and
`data/train2.csv`). Each object lands at its key relative to the prefix's last `/`, so a
folder prefix keeps the tree below it and a URI naming one object gives that file by its base
name (as SageMaker's local mode places it). `S3Object` takes exactly one key.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from harness.algorithm.aws import DEFAULT_MAX_ATTEMPTS, aws_errors, client_config, session
from harness.errors import S3NotFound, UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
# boto3's own defaults; S3 refuses parts under 5 MiB (but the last), and s3transfer raises a
# smaller chunk size to 5 MiB itself.
DEFAULT_MULTIPART_THRESHOLD = 8 * MIB
DEFAULT_MULTIPART_CHUNKSIZE = 8 * MIB
SHA256_METADATA = "harness-sha256"

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_READ_SIZE = 1 * MIB


@dataclass(frozen=True)
class TransferEvent:
    """Progress of one object: `bytes_done` of `bytes_total`; `skip` when it was unchanged."""

    action: Literal["upload", "download", "skip"]
    key: str
    bytes_done: int
    bytes_total: int


Progress = Callable[[TransferEvent], None]


@dataclass(frozen=True)
class UploadResult:
    prefix_uri: str  # s3://bucket/prefix/ the files went under: the channel's S3Uri
    uploaded: tuple[str, ...]  # keys, in the order sent
    skipped: tuple[str, ...]  # keys already holding the same bytes
    bytes_uploaded: int
    bytes_skipped: int


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


def relative_local_path(key: str, prefix: str) -> PurePosixPath:
    """Where an object listed under `prefix` goes below the destination folder.

    The path is the key relative to the prefix's last '/'. Keys that would leave the folder
    ('..'), name a folder, or carry empty segments are refused: SageMaker's data is never
    written outside the channel folder, and neither is ours.
    """
    base = prefix[: prefix.rfind("/") + 1]
    relative = key[len(base) :]
    parts = relative.split("/")
    if not relative or any(part in {"", ".", ".."} for part in parts):
        raise UsageError(
            f"S3 key {key!r} cannot be stored safely below the destination folder",
            where=key,
            hint="keys with '.', '..' or empty path segments cannot be mirrored to files; "
            "rename the object",
        )
    return PurePosixPath(*parts)


def check_no_file_folder_clash(paths: list[PurePosixPath]) -> None:
    """Keys `a` and `a/b` cannot both become files: one would need `a` to be a folder."""
    files = set(paths)
    for path in paths:
        for parent in path.parents:
            if parent in files:
                raise UsageError(
                    f"S3 keys {str(parent)!r} and {str(path)!r} cannot both be files",
                    where=str(path),
                    hint="an object's key is the folder of another one; rename one of them",
                )


# ---- I/O ------------------------------------------------------------------------------------


def s3_client(
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> S3Client:
    """An S3 client from a fresh session on the standard credential chain."""
    return session(profile, region).client(
        "s3", endpoint_url=endpoint_url, config=client_config(max_attempts)
    )


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


def upload_tree(
    client: S3Client,
    local: Path,
    s3_prefix_uri: str,
    progress: Progress | None = None,
    *,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
    max_concurrency: int = 4,
) -> UploadResult:
    """Upload every file under `local` (or the one file `local`) below the S3 prefix.

    Relative paths become keys under the prefix, which is taken as a folder. `progress`
    may be called from s3transfer's worker threads, never two calls at once.
    """
    from boto3.s3.transfer import TransferConfig

    bucket, key = parse_s3_uri(s3_prefix_uri)
    prefix = folder_prefix(key)
    files = _local_files(local)
    config = TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunksize,
        max_concurrency=max_concurrency,
    )
    where = f"s3://{bucket}/{prefix}"
    with aws_errors(where):
        remote = dict(_list_objects(client, bucket, prefix))
    uploaded: list[str] = []
    skipped: list[str] = []
    bytes_uploaded = bytes_skipped = 0
    for relative, path in files:
        object_key = prefix + relative
        digest = file_digest(
            path,
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
        )
        object_uri = f"s3://{bucket}/{object_key}"
        with aws_errors(object_uri):
            unchanged = _holds(client, bucket, object_key, remote.get(object_key), digest)
            if unchanged:
                skipped.append(object_key)
                bytes_skipped += digest.size
                _emit(progress, TransferEvent("skip", object_key, digest.size, digest.size))
                continue
            reporter = _Reporter(progress, "upload", object_key, digest.size)
            client.upload_file(
                str(path),
                bucket,
                object_key,
                ExtraArgs={"Metadata": {SHA256_METADATA: digest.sha256}},
                Config=config,
                Callback=reporter,
            )
            reporter.finish()
        uploaded.append(object_key)
        bytes_uploaded += digest.size
    return UploadResult(where, tuple(uploaded), tuple(skipped), bytes_uploaded, bytes_skipped)


def download_prefix(
    client: S3Client,
    s3_uri: str,
    dest: Path,
    progress: Progress | None = None,
    *,
    data_type: Literal["S3Prefix", "S3Object"] = "S3Prefix",
) -> list[Path]:
    """Download what `s3_uri` names (SageMaker's S3Prefix or S3Object) into `dest`.

    Returns the local file of every object, sorted. Files already holding an object's bytes
    are kept. A prefix with no objects is an error, as it is for a SageMaker channel. Every
    key is checked before anything is written.
    """
    bucket, key = parse_s3_uri(s3_uri)
    if data_type == "S3Object" and (not key or key.endswith("/")):
        raise UsageError(f"an S3Object URI must name an object: {s3_uri!r}", where=s3_uri)
    with aws_errors(s3_uri):
        if data_type == "S3Object":
            head = client.head_object(Bucket=bucket, Key=key)
            listing = [(key, (int(head["ContentLength"]), str(head.get("ETag", ""))))]
        else:
            listing = [
                item for item in _list_objects(client, bucket, key) if not item[0].endswith("/")
            ]
    if not listing:
        raise S3NotFound(
            "no objects under this prefix",
            where=s3_uri,
            hint="SageMaker fails a channel with no objects too; check the bucket and prefix",
        )
    relatives = [relative_local_path(object_key, key) for object_key, _ in listing]
    check_no_file_folder_clash(relatives)
    root = dest.resolve()
    targets = [root.joinpath(*relative.parts) for relative in relatives]
    for target in targets:
        # A symbolic link already in dest could still lead a write outside it.
        if not target.resolve().is_relative_to(root):
            raise UsageError(
                f"{target} leads outside {root}",
                where=s3_uri,
                hint="remove the symbolic link from the destination folder",
            )
    for (object_key, (size, etag)), target in zip(listing, targets, strict=True):
        with aws_errors(f"s3://{bucket}/{object_key}"):
            if _local_holds(client, bucket, object_key, size, etag, target):
                _emit(progress, TransferEvent("skip", object_key, size, size))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            reporter = _Reporter(progress, "download", object_key, size)
            # s3transfer writes to a temporary name and renames: no half file under the name.
            client.download_file(bucket, object_key, str(target), Callback=reporter)
            reporter.finish()
    return sorted(targets)


def _local_files(local: Path) -> list[tuple[str, Path]]:
    """(relative key, path) of every regular file to upload, in a stable order."""
    if local.is_file():
        return [(local.name, local)]
    if not local.is_dir():
        raise UsageError(f"no such file or folder: {local}", hint="check the plan's data paths")
    files = sorted(
        (path.relative_to(local).as_posix(), path) for path in local.rglob("*") if path.is_file()
    )
    if not files:
        raise UsageError(f"no files to upload under {local}", hint="a channel needs data")
    return files


def _list_objects(
    client: S3Client, bucket: str, prefix: str
) -> Iterator[tuple[str, tuple[int, str]]]:
    """(key, (size, ETag)) of every object whose key starts with `prefix`."""
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"], (int(item["Size"]), str(item.get("ETag", "")))


def _holds(
    client: S3Client, bucket: str, key: str, listed: tuple[int, str] | None, digest: FileDigest
) -> bool:
    """Whether the object already holds the file's bytes (see the module's docstring)."""
    if listed is None or listed[0] != digest.size:
        return False
    if etag_matches(listed[1], digest):
        return True
    return _metadata_sha256(client, bucket, key) == digest.sha256


def _local_holds(
    client: S3Client, bucket: str, key: str, size: int, etag: str, target: Path
) -> bool:
    if not target.is_file() or target.stat().st_size != size:
        return False
    digest = file_digest(
        target,
        multipart_threshold=DEFAULT_MULTIPART_THRESHOLD,
        multipart_chunksize=DEFAULT_MULTIPART_CHUNKSIZE,
    )
    if etag_matches(etag, digest):
        return True
    return _metadata_sha256(client, bucket, key) == digest.sha256


def _metadata_sha256(client: S3Client, bucket: str, key: str) -> str | None:
    metadata = client.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    return metadata.get(SHA256_METADATA)


def _emit(progress: Progress | None, event: TransferEvent) -> None:
    if progress is not None:
        progress(event)


class _Reporter:
    """s3transfer's byte-count callback, turned into TransferEvents with running totals."""

    def __init__(
        self, progress: Progress | None, action: Literal["upload", "download"], key: str, total: int
    ):
        self._progress = progress
        self._action: Literal["upload", "download"] = action
        self._key = key
        self._total = total
        self._done = 0
        # s3transfer calls back from its worker threads; the lock serialises the events.
        self._lock = threading.Lock()
        _emit(progress, TransferEvent(action, key, 0, total))

    def __call__(self, bytes_amount: int) -> None:
        with self._lock:
            # A retried part reports negative amounts first: clamp to 0..total.
            self._done = max(0, min(self._total, self._done + bytes_amount))
            _emit(self._progress, TransferEvent(self._action, self._key, self._done, self._total))

    def finish(self) -> None:
        """A last event at 100 % when s3transfer's callbacks stopped short of it."""
        with self._lock:
            if self._done < self._total:
                self._done = self._total
                _emit(
                    self._progress, TransferEvent(self._action, self._key, self._total, self._total)
                )
