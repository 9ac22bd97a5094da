"""Fixture data to S3: what `harness spec` uploads for the ValidationSpecification.

Unchanged files are not sent again (the evidence is in s3_common's docstring). The prefix a
channel is uploaded to is the harness's own: after an upload it holds exactly the files given,
and every other object under it is deleted, since SageMaker would otherwise validate on data
the local run never saw (a file deleted or renamed locally since the last `harness spec`).

Downloads (`harness run REQUEST`) are in s3_download.py; the names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.algorithm.aws import aws_errors, translate
from harness.algorithm.s3_common import (
    DEFAULT_MULTIPART_CHUNKSIZE,
    DEFAULT_MULTIPART_THRESHOLD,
    MIB,
    PROGRESS_STEP_BYTES,
    SHA256_METADATA,
    FileDigest,
    Progress,
    Reporter,
    TransferEvent,
    emit,
    etag_matches,
    file_digest,
    folder_prefix,
    list_objects,
    metadata_sha256,
    multipart_part_size,
    parse_s3_uri,
    s3_client,
)
from harness.algorithm.s3_download import (
    DownloadResult,
    check_no_file_folder_clash,
    download_prefix,
    relative_local_path,
)
from harness.errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "DEFAULT_MULTIPART_CHUNKSIZE",
    "DEFAULT_MULTIPART_THRESHOLD",
    "DELETE_BATCH",
    "MIB",
    "PROGRESS_STEP_BYTES",
    "SHA256_METADATA",
    "DownloadResult",
    "FileDigest",
    "Progress",
    "TransferEvent",
    "UploadResult",
    "check_no_file_folder_clash",
    "download_prefix",
    "etag_matches",
    "file_digest",
    "folder_prefix",
    "multipart_part_size",
    "parse_s3_uri",
    "relative_local_path",
    "s3_client",
    "upload_files",
    "upload_tree",
]

DELETE_BATCH = 1000
"""The most keys one DeleteObjects request takes."""


@dataclass(frozen=True)
class UploadResult:
    prefix_uri: str  # s3://bucket/prefix/ the files went under: the channel's S3Uri
    uploaded: tuple[str, ...]  # keys, in the order sent
    skipped: tuple[str, ...]  # keys already holding the same bytes
    bytes_uploaded: int
    bytes_skipped: int
    deleted: tuple[str, ...] = ()  # stale keys under the prefix that were deleted, sorted


def check_bucket_region(client: S3Client, s3_uri: str) -> None:
    """SageMaker reads a job's S3 data only from a bucket in the job's own region: a bucket
    elsewhere fails the validation hours later, so say it now."""
    bucket, _ = parse_s3_uri(s3_uri)
    region = client.meta.region_name
    with aws_errors(f"s3://{bucket}"):
        answer = client.get_bucket_location(Bucket=bucket)
    # GetBucketLocation answers no constraint for us-east-1 (and "EU" for the oldest eu-west-1).
    location = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(
        answer.get("LocationConstraint"), answer.get("LocationConstraint")
    )
    if region and location != region:
        raise UsageError(
            f"the bucket is in {location}, but SageMaker would validate in {region}: it reads "
            "training and transform data only from its own region",
            where=f"s3://{bucket}",
            hint=f"use --region {location}, or a bucket in {region}",
        )


def upload_tree(
    client: S3Client,
    local: Path,
    s3_prefix_uri: str,
    progress: Progress | None = None,
    *,
    delete_stale: bool = True,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
    max_concurrency: int = 4,
) -> UploadResult:
    """Upload every file under `local` (or the one file `local`) below the S3 prefix, by its
    path relative to `local`; see `upload_files`."""
    parse_s3_uri(s3_prefix_uri)  # a bad URI is named before the local data
    return upload_files(
        client,
        _local_files(local),
        s3_prefix_uri,
        progress,
        delete_stale=delete_stale,
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunksize,
        max_concurrency=max_concurrency,
    )


def upload_files(
    client: S3Client,
    files: Sequence[tuple[str, Path]],
    s3_prefix_uri: str,
    progress: Progress | None = None,
    *,
    delete_stale: bool = True,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    multipart_chunksize: int = DEFAULT_MULTIPART_CHUNKSIZE,
    max_concurrency: int = 4,
    known_digests: Mapping[Path, FileDigest] | None = None,
) -> UploadResult:
    """Upload exactly `files`, (relative posix key, local file) pairs, below the S3 prefix.

    `known_digests` are `file_digest`s the caller computed with the same multipart settings:
    those files are not read a second time to decide whether to send them.

    The prefix is taken as a folder. Files whose object already holds their bytes are skipped.
    With `delete_stale`, every other object under the folder prefix is deleted afterwards
    (DeleteObjects, DELETE_BATCH keys a request), so the prefix holds exactly `files`; it is
    refused at a bucket's root. Every key and file is checked before anything is sent.

    `progress` gets TransferEvents (see there): per object sent a first, throttled
    intermediate and one final event; `skip` per unchanged object; `delete` per deleted one.
    It may be called from s3transfer's worker threads, never two calls at once.
    """
    from boto3.s3.transfer import TransferConfig

    bucket, prefix = check_upload(files, s3_prefix_uri, delete_stale=delete_stale)
    where = f"s3://{bucket}/{prefix}"
    config = TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_chunksize,
        max_concurrency=max_concurrency,
    )
    with aws_errors(where):
        remote = dict(list_objects(client, bucket, prefix))
    uploaded: list[str] = []
    skipped: list[str] = []
    bytes_uploaded = bytes_skipped = 0
    for relative, path in files:
        object_key = prefix + relative
        digest = (known_digests or {}).get(path) or file_digest(
            path,
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
        )
        with aws_errors(f"s3://{bucket}/{object_key}"):
            if _holds(client, bucket, object_key, remote.get(object_key), digest):
                skipped.append(object_key)
                bytes_skipped += digest.size
                emit(progress, TransferEvent("skip", object_key, digest.size, digest.size))
                continue
            reporter = Reporter(progress, "upload", object_key, digest.size)
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
    deleted: list[str] = []
    if delete_stale:
        # After the uploads: a failed run leaves the prefix with more data, never with less.
        wanted = {prefix + relative for relative, _ in files}
        stale = sorted(set(remote) - wanted)
        _delete(client, bucket, stale, remote, progress)
        deleted = stale
    return UploadResult(
        where, tuple(uploaded), tuple(skipped), bytes_uploaded, bytes_skipped, tuple(deleted)
    )


def check_upload(
    files: Sequence[tuple[str, Path]], s3_prefix_uri: str, *, delete_stale: bool = True
) -> tuple[str, str]:
    """(bucket, folder prefix) of an upload `upload_files` would accept; a UsageError for any
    key, file or prefix it would refuse. Callers uploading several prefixes check them all
    first, so a bad entry in the last one never leaves the first ones updated."""
    bucket, key = parse_s3_uri(s3_prefix_uri)
    prefix = folder_prefix(key)
    where = f"s3://{bucket}/{prefix}"
    _check_files(files, prefix, where)
    if delete_stale and not prefix:
        raise UsageError(
            "refusing to delete stale objects at a bucket's root",
            where=where,
            hint="upload below a prefix of the harness's own, such as s3://BUCKET/harness/",
        )
    return bucket, prefix


def _check_files(files: Sequence[tuple[str, Path]], prefix: str, where: str) -> None:
    """Every key a normalized relative path, given once, and every file there: checked before
    anything is sent, so a bad entry never leaves the prefix half updated."""
    if not files:
        raise UsageError("no files to upload", where=where, hint="a channel needs data")
    seen: set[str] = set()
    for relative, path in files:
        parts = relative.split("/")
        if any(part in {"", ".", ".."} for part in parts) or any(c in relative for c in "\r\n\0"):
            raise UsageError(
                f"{relative!r} is not a relative key (no empty, '.' or '..' segments)",
                where=str(path),
            )
        try:
            encoded = (prefix + relative).encode()
        except UnicodeEncodeError:
            raise UsageError(
                "this file name is not valid UTF-8, so it cannot be an S3 key",
                where=str(path),
                hint="rename the file",
            ) from None
        if len(encoded) > 1024:
            raise UsageError(f"S3 key longer than 1024 bytes: {prefix + relative!r}", where=where)
        if relative in seen:
            raise UsageError(f"the key {relative!r} is given twice", where=str(path))
        seen.add(relative)
        if not path.is_file():
            raise UsageError("no such file", where=str(path), hint="check the plan's data paths")


def _delete(
    client: S3Client,
    bucket: str,
    keys: list[str],
    remote: dict[str, tuple[int, str]],
    progress: Progress | None,
) -> None:
    from botocore.exceptions import ClientError

    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        with aws_errors(f"s3://{bucket}/{batch[0]}"):
            response = client.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
        errors = response.get("Errors") or []
        if errors:
            # DeleteObjects answers 200 with per-key errors: said as the failed call would be.
            first = errors[0]
            error = {"Code": first.get("Code", ""), "Message": first.get("Message", "")}
            failed = ClientError({"Error": error}, "DeleteObjects")  # type: ignore[typeddict-item]
            raise translate(failed, where=f"s3://{bucket}/{first.get('Key', '')}")
        for key in batch:
            size = remote[key][0]
            emit(progress, TransferEvent("delete", key, size, size))


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


def _holds(
    client: S3Client, bucket: str, key: str, listed: tuple[int, str] | None, digest: FileDigest
) -> bool:
    """Whether the object already holds the file's bytes (see s3_common's docstring)."""
    if listed is None or listed[0] != digest.size:
        return False
    if etag_matches(listed[1], digest):
        return True
    return metadata_sha256(client, bucket, key) == digest.sha256
