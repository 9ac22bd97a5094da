"""Which files of the run's folder (`--out`) a certification bundle takes (bundle.py writes it).

Only this run: the four reports at the top, the folder of every run report.json records
(`<profile>/<instance type>/`, as harness/jobs/run.py names it, and the folders of the files it
names) and any other file it names. `--out` also holds what is not this run's evidence: folders
of earlier runs of other profiles or instance types, `s3-data/` (the seller's training data
that `harness run REQUEST` fetched), files a user put there. Those are listed as left out,
"not part of this run", so a reader knows they exist without the bundle carrying them.

Within a run's folder: hidden entries (`.work/` scratch of a `--keep` run, temporary files),
symbolic links (never followed: a link could point anywhere on the host) and special files are
left out, each with its reason.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from harness.report.bundle_format import BUNDLE_NAME, files_named_by, manifest_safe

REPORTS = frozenset({"report.json", "junit.xml", "summary.md", "report.html"})
NOT_THIS_RUN = "not part of this run"

Parts = tuple[str, ...]


@dataclass(frozen=True)
class LeftOut:
    """A file or folder under the run's folder that the bundle does not hold, and why."""

    path: str
    """Relative to the run's folder (`--out`), as it would have been named in the bundle."""
    reason: str
    bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason, "bytes": self.bytes}


@dataclass(frozen=True)
class Member:
    """One file to archive: from the run's folder (`source` relative to it) or given bytes."""

    name: str
    """Relative to the bundle's top folder."""
    source: Parts | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class RunScope:
    """What of the run's folder is this run's: folders taken whole, and single top files."""

    folders: frozenset[Parts]
    top_files: frozenset[str]

    def folder_names(self) -> list[str]:
        return sorted("/".join(folder) + "/" for folder in self.folders)


def run_scope(report: dict[str, Any]) -> RunScope:
    """This run's folders: `<profile>/<instance type>` of every run report.json records, and
    the folder of every file it names (a host log's `logs/` folder counts as its parent's)."""
    folders: set[Parts] = set()
    top_files = set(REPORTS)
    runs = report.get("runs")
    for run in runs if isinstance(runs, list) else ():
        if not isinstance(run, dict):
            continue
        profile, instance_type = run.get("profile"), run.get("instance_type")
        if _segment(profile) and _segment(instance_type):
            folders.add((profile, instance_type))
    for name, _ in files_named_by(report):
        parts = tuple(name.split("/"))
        folder = parts[:-2] if parts[-2:-1] == ("logs",) else parts[:-1]
        if folder:
            folders.add(folder)
        else:
            top_files.add(name)
    return RunScope(frozenset(folders), frozenset(top_files))


def _segment(value: object) -> TypeGuard[str]:
    """A name usable as one folder: run.py names a run's folder by profile and type."""
    return isinstance(value, str) and value not in {"", ".", ".."} and "/" not in value


def is_log(parts: Parts) -> bool:
    return parts[-1].endswith(".log") or "logs" in parts[:-1]


def scan(
    root: Path, reserved: set[str], skip: Parts | None, scope: RunScope
) -> tuple[list[Member], list[LeftOut]]:
    """This run's regular-looking files below `root`, links never followed; and what is left
    out, with the reason."""
    found: list[Member] = []
    left_out: list[LeftOut] = []
    ancestors = {folder[:end] for folder in scope.folders for end in range(1, len(folder))}

    def walk(folder: Path, parts: Parts, inside: bool) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            left_out.append(LeftOut("/".join(parts) + "/", f"unreadable: {exc.strerror}"))
            return
        for entry in entries:
            here = (*parts, entry.name)
            name = "/".join(here)
            if here == skip or here == (BUNDLE_NAME,):
                # The bundle itself or an earlier one: silently, or a second bundling of the
                # run would differ from the first.
                continue
            if not inside:
                real_dir = entry.is_dir(follow_symlinks=False)
                if real_dir and (here in scope.folders or here in ancestors):
                    walk(Path(entry.path), here, here in scope.folders)
                    continue
                ours = here in scope.folders or (not parts and entry.name in scope.top_files)
                if not ours:
                    kind = "/" if real_dir else ""
                    left_out.append(LeftOut(name + kind, NOT_THIS_RUN))
                    continue
            if entry.name.startswith("."):
                kind = "folder" if entry.is_dir(follow_symlinks=False) else "file"
                left_out.append(LeftOut(name, f"hidden working {kind}, not a result of the run"))
            elif entry.is_symlink():
                left_out.append(LeftOut(name, "symbolic link (links are never followed)"))
            elif entry.is_dir(follow_symlinks=False):
                walk(Path(entry.path), here, True)
            elif not entry.is_file(follow_symlinks=False):
                left_out.append(LeftOut(name, "not a regular file"))
            elif not manifest_safe(name):
                reason = "a name sha256sum cannot list (newline, backslash or not UTF-8)"
                left_out.append(LeftOut(name.encode("utf-8", "replace").decode(), reason))
            elif name in reserved:
                if name != "report.json":  # archived from the bytes already read and parsed
                    left_out.append(LeftOut(name, "name reserved for the bundle's own files"))
            else:
                found.append(Member(name, source=here))

    walk(root, (), False)
    return found, left_out


@contextlib.contextmanager
def opened_dir(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def open_below(root_fd: int, parts: Parts) -> int:
    """Open `root/parts...` for reading without following a link at any step, so a folder
    swapped for a link after the scan still cannot lead outside the run's folder."""
    fd = root_fd
    opened: list[int] = []
    try:
        for part in parts[:-1]:
            fd = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd
            )
            opened.append(fd)
        # O_NONBLOCK: a FIFO that replaced a file must not hang the open.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        return os.open(parts[-1], flags, dir_fd=fd)
    finally:
        for descriptor in opened:
            os.close(descriptor)
