"""S3 data to a local folder: what `harness run REQUEST` fetches for a ValidationProfile.

Downloads follow SageMaker's `S3Prefix` semantics: every key that *starts with the prefix
string*, not only the "folder" below it (`s3://b/data/tr` takes `data/train/x.csv` and
`data/train2.csv`). Each object lands at its key relative to the prefix's last `/`, so a
folder prefix keeps the tree below it and a URI naming one object gives that file by its base
name (as SageMaker's local mode places it). `S3Object` takes exactly one key.

The folder ends up holding exactly the listing: regular files no object maps to (an object
deleted since the last download, a temporary file of an interrupted one) are removed, with the
folders that leaves empty, because the channel would otherwise train on data SageMaker never
sees. Symbolic links and special files are never followed nor removed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from harness.algorithm.aws import aws_errors
from harness.algorithm.s3_common import (
    DEFAULT_MULTIPART_CHUNKSIZE,
    DEFAULT_MULTIPART_THRESHOLD,
    Progress,
    Reporter,
    TransferEvent,
    emit,
    etag_matches,
    file_digest,
    list_objects,
    metadata_sha256,
    parse_s3_uri,
)
from harness.errors import S3NotFound, UsageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class DownloadResult:
    files: tuple[Path, ...]  # the local file of every object, sorted
    downloaded: tuple[str, ...]  # keys fetched, in the order fetched
    skipped: tuple[str, ...]  # keys whose local file already held the object's bytes
    removed: tuple[Path, ...]  # stale local files removed (no object maps to them), sorted


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


def download_prefix(
    client: S3Client,
    s3_uri: str,
    dest: Path,
    progress: Progress | None = None,
    *,
    data_type: Literal["S3Prefix", "S3Object"] = "S3Prefix",
) -> DownloadResult:
    """Make `dest` hold exactly what `s3_uri` names (SageMaker's S3Prefix or S3Object).

    Files already holding an object's bytes are kept; other regular files in `dest` are
    removed (see the module's docstring). A prefix with no objects is an error, as it is for a
    SageMaker channel. Every key is checked before anything is written or removed.
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
                item for item in list_objects(client, bucket, key) if not item[0].endswith("/")
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
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is not a folder", where=s3_uri, hint="remove it or choose --out")
    targets = [root.joinpath(*relative.parts) for relative in relatives]
    resolved = [target.resolve() for target in targets]
    for target, real in zip(targets, resolved, strict=True):
        # A symbolic link already in dest could still lead a write outside it.
        if not real.is_relative_to(root):
            raise UsageError(
                f"{target} leads outside {root}",
                where=s3_uri,
                hint="remove the symbolic link from the destination folder",
            )
    # Where the files really are: a link inside dest to a folder inside it is allowed.
    removed = remove_stale(root, {real.relative_to(root).parts for real in resolved})
    for target in targets:
        if target.is_dir() and not target.is_symlink():
            raise UsageError(
                f"{target} is a folder that still holds links or special files",
                where=s3_uri,
                hint="an object is to be stored there; remove the folder",
            )
    downloaded: list[str] = []
    skipped: list[str] = []
    for (object_key, (size, etag)), target in zip(listing, targets, strict=True):
        with aws_errors(f"s3://{bucket}/{object_key}"):
            if _local_holds(client, bucket, object_key, size, etag, target):
                skipped.append(object_key)
                emit(progress, TransferEvent("skip", object_key, size, size))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            reporter = Reporter(progress, "download", object_key, size)
            # s3transfer writes to a temporary name and renames: no half file under the name.
            client.download_file(bucket, object_key, str(target), Callback=reporter)
            reporter.finish()
        downloaded.append(object_key)
    return DownloadResult(tuple(sorted(targets)), tuple(downloaded), tuple(skipped), removed)


def remove_stale(root: Path, keep: set[tuple[str, ...]]) -> tuple[Path, ...]:
    """Remove every regular file below `root` whose relative parts are not in `keep`, then the
    folders left empty (but those a kept file needs). Returns the removed files, sorted.

    Every folder is opened without following links, relative to its parent's descriptor, so a
    folder swapped for a link while this runs still cannot lead outside `root`.
    """
    needed = {parts[:end] for parts in keep for end in range(1, len(parts))}
    removed: list[Path] = []

    def walk(fd: int, parts: tuple[str, ...]) -> bool:
        """Clean the folder open as `fd`; whether it is empty afterwards."""
        empty = True
        with os.scandir(fd) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
        for entry in entries:
            here = (*parts, entry.name)
            if entry.is_dir(follow_symlinks=False):
                child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
                try:
                    child_empty = walk(child, here)
                finally:
                    os.close(child)
                if child_empty and here not in needed:
                    os.rmdir(entry.name, dir_fd=fd)
                    continue
            elif entry.is_file(follow_symlinks=False) and here not in keep:
                os.unlink(entry.name, dir_fd=fd)
                removed.append(root.joinpath(*here))
                continue
            empty = False
        return empty

    if not root.is_dir():
        return ()
    try:
        top = os.open(root, _DIR_FLAGS)
        try:
            walk(top, ())
        finally:
            os.close(top)
    except OSError as exc:
        raise UsageError(
            f"cannot remove stale files below it: {exc.strerror or exc}", where=str(root)
        ) from None
    return tuple(sorted(removed))


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
    return metadata_sha256(client, bucket, key) == digest.sha256
