"""A channel's files as SageMaker sees S3 objects: listed by key, sharded per host, staged.

A fixture channel is a local folder (or one file) standing in for an S3 prefix. Its files get
keys relative to the folder, like S3 keys relative to the prefix, and every rule that SageMaker
applies to keys (order, sharding, the File-mode tree) is applied to these keys.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.errors import UsageError
from harness.plan import DISTRIBUTIONS, ChannelPlan


@dataclass(frozen=True)
class ChannelFile:
    key: str
    """Relative path with `/` separators, like an S3 key below the channel's prefix."""
    path: Path
    size: int


@dataclass(frozen=True)
class SkippedEntry:
    key: str
    reason: str


@dataclass(frozen=True)
class ChannelListing:
    files: tuple[ChannelFile, ...]
    skipped: tuple[SkippedEntry, ...] = ()


def list_channel(channel: ChannelPlan) -> ChannelListing:
    """Every regular file of the channel, sorted by key, and what was left out and why.

    A file path is a channel of one object whose key is the file's name. In a folder, symbolic
    links are not followed out of it: a link to a regular file inside the folder counts as that
    file under the link's key; links leaving the folder, dangling links, links to folders
    (never followed, so no cycles) and special files (FIFOs, sockets, devices) are skipped.
    Python sorts `str` by code point, which is the UTF-8 byte order in which S3 lists keys.
    """
    path = channel.path
    if path.is_file():
        return ChannelListing((ChannelFile(path.name, path, path.stat().st_size),))
    if not path.is_dir():
        raise UsageError(
            f"channel {channel.name!r}: {path} is neither a file nor a folder",
            where=str(path),
        )
    root = path.resolve()
    files: list[ChannelFile] = []
    skipped: list[SkippedEntry] = []
    _walk(root, root, files, skipped)
    files.sort(key=lambda f: f.key)
    skipped.sort(key=lambda s: s.key)
    return ChannelListing(tuple(files), tuple(skipped))


def channel_files(channel: ChannelPlan) -> list[ChannelFile]:
    """The files of `list_channel`, sorted by key (what was skipped is dropped)."""
    return list(list_channel(channel).files)


_DIGEST_CHUNK = 1024 * 1024


def data_digest(files: Sequence[ChannelFile]) -> str:
    r"""What a run's data was, as one sha256 (hex): over the files sorted by key, for each the
    line `f"{key}\0{size}\0{sha256 of its bytes}\n"` in UTF-8.

    Keys and sizes are the listing's (`list_channel`), the bytes are read now in 1 MiB chunks,
    so the same listing of the same bytes always gives the same digest, wherever the folder
    lies; `harness spec` compares it with the data it is about to upload. Raises OSError when
    a file cannot be read.
    """
    return data_digest_of((item, _file_sha256(item.path)) for item in files)


def data_digest_of(hashed: Iterable[tuple[ChannelFile, str]]) -> str:
    """`data_digest` of files whose sha256 (hex) the caller has already computed, so a caller
    that hashes the files anyway (an upload) reads them once."""
    total = hashlib.sha256()
    for item, sha256 in sorted(hashed, key=lambda pair: pair[0].key):
        line = f"{item.key}\0{item.size}\0{sha256}\n"
        # UTF-8; a file name that is not (bytes Python keeps as surrogates) as its own bytes.
        total.update(line.encode("utf-8", "surrogateescape"))
    return total.hexdigest()


def _file_sha256(path: Path) -> str:
    content = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_DIGEST_CHUNK):
            content.update(chunk)
    return content.hexdigest()


def _walk(root: Path, folder: Path, files: list[ChannelFile], skipped: list[SkippedEntry]) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            path = Path(entry.path)
            key = path.relative_to(root).as_posix()
            if entry.is_symlink():
                _link(root, path, key, files, skipped)
            elif entry.is_dir(follow_symlinks=False):
                _walk(root, path, files, skipped)
            elif entry.is_file(follow_symlinks=False):
                files.append(ChannelFile(key, path, entry.stat(follow_symlinks=False).st_size))
            else:
                skipped.append(SkippedEntry(key, "not a regular file (FIFO, socket or device)"))


def _link(
    root: Path, path: Path, key: str, files: list[ChannelFile], skipped: list[SkippedEntry]
) -> None:
    target = path.resolve()
    if not target.is_relative_to(root):
        skipped.append(SkippedEntry(key, f"symbolic link leaves the channel folder ({target})"))
    elif not target.exists():
        skipped.append(SkippedEntry(key, "dangling symbolic link"))
    elif target.is_dir():
        skipped.append(SkippedEntry(key, "symbolic link to a folder (not followed)"))
    elif not target.is_file():
        skipped.append(SkippedEntry(key, "symbolic link to a special file"))
    else:
        files.append(ChannelFile(key, path, target.stat().st_size))


def shard(
    files: Sequence[ChannelFile], hosts: int, host_index: int, distribution: str
) -> list[ChannelFile]:
    """The files host number `host_index` (0-based, of `hosts`) receives.

    FullyReplicated: all of them. ShardedByS3Key: the keys are sorted and dealt round-robin,
    host i getting keys i, i+N, i+2N... SageMaker only promises each host "about 1/n of the
    S3 objects" and does not say how it picks them, so a container must not depend on which
    host gets which object; this choice is simply deterministic. A host may get no file when
    there are fewer objects than hosts.
    """
    if hosts < 1 or not 0 <= host_index < hosts:
        raise UsageError(f"host index {host_index} is not within a cluster of {hosts} hosts")
    if distribution not in DISTRIBUTIONS:
        raise UsageError(
            f"unknown S3DistributionType {distribution!r}",
            hint=f"one of {', '.join(DISTRIBUTIONS)}",
        )
    ordered = sorted(files, key=lambda f: f.key)
    if distribution == "FullyReplicated":
        return ordered
    return ordered[host_index::hosts]


def stage_file_channel(files: Iterable[ChannelFile], destination: Path) -> int:
    """Copy `files` under `destination` at their keys; return the number of bytes copied.

    File mode: the container gets a private copy, never the fixture itself, so nothing it
    writes can change the fixtures of the next run; copies, not hard links, because a hard
    link shares the inode and the container could change it in place. FastFile mode uses the
    same staged copy, which the caller bind-mounts read-only (SageMaker's FastFile folder is
    read-only); staging also applies sharding and leaves out what `list_channel` skipped.
    Data, permissions and modification times are copied (shutil.copy2).
    """
    destination.mkdir(parents=True, exist_ok=True)
    copied = 0
    for item in files:
        relative = PurePosixPath(item.key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise UsageError(f"channel key {item.key!r} would land outside {destination}")
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item.path, target)
        copied += target.stat().st_size
    return copied
