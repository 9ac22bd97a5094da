"""model.tar.gz and output.tar.gz from the hosts' folders, and safe extraction for serving.

SageMaker packs everything in /opt/ml/model into one model.tar.gz, aggregating the hosts of a
multi-host job, whose files "should" not clash (contract §1.6); /opt/ml/output/data becomes
output.tar.gz the same way. The hosting side extracts the archive into /opt/ml/model, so the
hand-off to serving goes through the archive, never through a shared folder.

The containers write as root into host folders: removing those folders afterwards needs the
same privileges (the harness runs as root).
"""

from __future__ import annotations

import filecmp
import gzip
import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError

_COMPRESS_LEVEL = 6  # gzip's own default: much faster than 9 on large models, nearly as small
_HAS_DATA_FILTER = hasattr(tarfile, "data_filter")  # Python 3.11.4+ (PEP 706)


@dataclass(frozen=True)
class ArtifactInfo:
    path: Path
    bytes: int
    sha256: str
    files: int
    """Members that are not folders: regular files and symbolic links."""
    problems: tuple[str, ...] = ()
    """Entries left out: links leaving the folder, special files, unreadable files."""
    conflicts: tuple[str, ...] = ()
    """Names written by more than one host; the first host's copy is the one packed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "sha256": self.sha256,
            "files": self.files,
            "problems": list(self.problems),
            "conflicts": list(self.conflicts),
        }


@dataclass(frozen=True)
class _Entry:
    name: str
    path: Path
    host: int
    kind: str  # "dir" | "file" | "link"
    link_target: str = ""


def pack_model(model_dirs: Sequence[Path], destination: Path) -> ArtifactInfo:
    """Write `destination` (model.tar.gz) from the /opt/ml/model folders of hosts 1..N.

    The folders are merged with the first writer winning: a name that an earlier host already
    wrote is not overwritten by a later host (SageMaker's local mode lets the last host win;
    the service leaves it to the algorithm to avoid clashes), and each clash is listed in
    `conflicts`, saying whether the copies were identical. Folders present on several hosts are
    merged, not a clash.

    The archive is reproducible: entries sorted by name, names relative with no leading `./`,
    modification times and permission bits kept, owner 0:0 (root), no gzip timestamp or name.
    Links are never followed: a symbolic link whose target stays inside the folder is stored as
    a link; one that leaves it (absolute, or `..` above the root) is left out and named in
    `problems`, as are FIFOs, sockets and devices.
    """
    if not model_dirs:
        raise UsageError("no model folder to pack")
    return _pack(model_dirs, destination)


def pack_folder(folder: Path, destination: Path) -> ArtifactInfo:
    """Write `destination` (output.tar.gz) from one folder, with the rules of `pack_model`."""
    return _pack([folder], destination)


def _pack(folders: Sequence[Path], destination: Path) -> ArtifactInfo:
    chosen: dict[str, _Entry] = {}
    problems: list[str] = []
    conflicts: list[str] = []
    for host, folder in enumerate(folders, start=1):
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder", where=str(folder))
        for entry in _scan(folder, host, problems):
            _merge(entry, chosen, conflicts)
    entries = sorted(chosen.values(), key=lambda e: e.name)
    temporary = destination.with_name(destination.name + ".partial")
    destination.parent.mkdir(parents=True, exist_ok=True)
    files = 0
    try:
        with (
            temporary.open("wb") as raw,
            gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=_COMPRESS_LEVEL
            ) as zipped,
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for entry in entries:
                files += _add(tar, entry, problems)
        os.replace(temporary, destination)
    except OSError as exc:
        raise UsageError(f"cannot write {destination}: {exc}", where=str(destination)) from exc
    finally:
        temporary.unlink(missing_ok=True)
    digest = hashlib.sha256()
    with destination.open("rb") as packed:
        while block := packed.read(1 << 20):
            digest.update(block)
    return ArtifactInfo(
        destination,
        destination.stat().st_size,
        digest.hexdigest(),
        files,
        tuple(sorted(problems)),  # sorted: the order folders are listed in is arbitrary
        tuple(sorted(conflicts)),
    )


def _scan(root: Path, host: int, problems: list[str]) -> list[_Entry]:
    """Every entry below `root`, links not followed; what cannot be packed goes to `problems`."""
    found: list[_Entry] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as items:
            for item in items:
                path = Path(item.path)
                name = path.relative_to(root).as_posix()
                where = f"host {host}: {name}"
                if item.is_symlink():
                    target = os.readlink(path)
                    if _link_leaves(posixpath.dirname(name), target):
                        problems.append(f"{where}: symbolic link to {target} leaves the folder")
                    else:
                        found.append(_Entry(name, path, host, "link", target))
                elif item.is_dir(follow_symlinks=False):
                    found.append(_Entry(name, path, host, "dir"))
                    pending.append(path)
                elif item.is_file(follow_symlinks=False):
                    found.append(_Entry(name, path, host, "file"))
                else:
                    problems.append(f"{where}: not a regular file (FIFO, socket or device)")
    return found


def _goes_through_link(folder: str, target: str, links: set[str]) -> bool:
    """Whether following `target` from `folder` passes through another symbolic link."""
    parts = [part for part in target.split("/") if part not in ("", ".")]
    path = folder
    for part in parts[:-1]:
        path = posixpath.dirname(path) if part == ".." else posixpath.join(path, part)
        if posixpath.normpath(path) in links:
            return True
    return False


def _link_leaves(folder: str, target: str) -> bool:
    """Whether a link in `folder` (relative to the root) to `target` leads outside the root."""
    if posixpath.isabs(target):
        return True
    resolved = posixpath.normpath(posixpath.join(folder, target))
    return resolved == ".." or resolved.startswith("../")


def _merge(entry: _Entry, chosen: dict[str, _Entry], conflicts: list[str]) -> None:
    first = chosen.get(entry.name)
    if first is None:
        # Below a name an earlier host wrote as a file or link, there is nothing to merge into.
        parent = posixpath.dirname(entry.name)
        while parent:
            above = chosen.get(parent)
            if above is not None and above.kind != "dir":
                return  # the clash was already listed for `parent`
            parent = posixpath.dirname(parent)
        chosen[entry.name] = entry
        return
    if first.kind == "dir" and entry.kind == "dir":
        return
    same = first.kind == entry.kind == "file" and filecmp.cmp(first.path, entry.path, False)
    how = "identical" if same else "different"
    conflicts.append(
        f"{entry.name}: written by host {first.host} and host {entry.host} ({how}); "
        f"host {first.host}'s kept"
    )


def _add(tar: tarfile.TarFile, entry: _Entry, problems: list[str]) -> int:
    """Add one entry; 1 when it is a file or link, 0 for a folder or what was left out."""
    info = tarfile.TarInfo(entry.name)
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if entry.kind == "link":
        status = entry.path.lstat()
        info.type = tarfile.SYMTYPE
        info.linkname = entry.link_target
        info.mode = 0o777
        info.mtime = int(status.st_mtime)
        tar.addfile(info)
        return 1
    if entry.kind == "dir":
        status = entry.path.lstat()
        info.type = tarfile.DIRTYPE
        info.mode = stat.S_IMODE(status.st_mode)
        info.mtime = int(status.st_mtime)
        tar.addfile(info)
        return 0
    try:
        # O_NOFOLLOW: a file swapped for a link since the scan is refused, not followed.
        handle = os.fdopen(os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
    except OSError as exc:
        problems.append(f"host {entry.host}: {entry.name}: cannot be read ({exc.strerror})")
        return 0
    with handle:
        status = os.fstat(handle.fileno())  # the size of what is read, not of an earlier look
        info.type = tarfile.REGTYPE
        info.size = status.st_size
        info.mode = stat.S_IMODE(status.st_mode)
        info.mtime = int(status.st_mtime)
        tar.addfile(info, handle)
    return 1


def extract_model(archive: Path, destination: Path) -> None:
    """Extract a model archive into `destination` (missing or empty) for serving.

    Refused with UsageError naming the member: absolute names, `..` components, links that
    leave the destination (absolute, or `..` above it) and device, FIFO or other special
    members. These checks run first, whatever the Python version; where tarfile has the data
    filter (Python 3.11.4+) it is applied as well, which also follows links already extracted
    (a lexical check cannot) and drops set-uid bits and owners. The archive is extracted next
    to `destination` and moved into place only when all of it was, so a refused archive leaves
    nothing behind. Files extracted as root stay root's: cleaning up needs the same privileges.
    """
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise UsageError(f"{destination} must be a new or empty folder to extract a model into")
    staging = destination.with_name(destination.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            links = {posixpath.normpath(m.name) for m in members if m.issym()}
            for member in members:
                _check_member(member, links)
            staging.mkdir(parents=True)
            if _HAS_DATA_FILTER:
                tar.extractall(staging, members=members, filter="data")
            else:
                tar.extractall(staging, members=members)
    except UsageError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        exc.where = exc.where or str(archive)
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # tarfile.FilterError (3.11.4+) names the member the data filter refused.
        refused = getattr(exc, "tarinfo", None)
        if refused is not None:
            raise UsageError(
                f"model archive member {refused.name!r} refused: {exc}", where=str(archive)
            ) from exc
        raise UsageError(f"cannot extract {archive}: {exc}", where=str(archive)) from exc
    if destination.exists():
        destination.rmdir()
    staging.rename(destination)


def _check_member(member: tarfile.TarInfo, links: set[str]) -> None:
    name = member.name
    if name.startswith("/") or ".." in name.split("/"):
        raise UsageError(f"model archive member {name!r} lands outside the model folder")
    if member.issym() or member.islnk():
        # A symbolic link is relative to its own folder, a hard link to the archive's root.
        folder = posixpath.dirname(name) if member.issym() else ""
        if _link_leaves(folder, member.linkname):
            raise UsageError(f"model archive member {name!r} links outside: {member.linkname}")
        if member.issym() and _goes_through_link(folder, member.linkname, links):
            # `here -> .` and `there -> here/..`: each stays inside, together they leave.
            # Python before 3.11.4 has no data filter to follow them; refuse the chain.
            raise UsageError(
                f"model archive member {name!r} refused: its target "
                f"{member.linkname} goes through another link"
            )
    elif not (member.isfile() or member.isdir()):
        raise UsageError(f"model archive member {name!r} is a device, FIFO or special file")
