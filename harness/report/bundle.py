"""The certification bundle: one `harness-report.tar.gz` a seller hands to a reviewer, holding
everything needed to trust a run, with a checksum manifest (`harness report verify` checks it).

    harness-report/
        report.json junit.xml summary.md report.html    the four reports (those present)
        <profile>/<instance type>/...                    full logs, model.tar.gz, output.tar.gz,
                                                         transform .out files (capped, see below)
        inputs/<request> inputs/<plan>                   the files as given, byte for byte
        bundle.json                                      who bundled which run; what was left out
        MANIFEST.sha256                                  `sha256sum -c` format, the last member

One top folder, so extracting never spills into the current one. The archive is deterministic
(sorted members, mtime from report.json's started_at, uid/gid 0, no user names, no gzip name or
time) so bundling the same run twice gives the same bytes, and its sha256 can be published.

Policy: only this run's files (bundle_scan.py: the reports, the folders of the runs report.json
records; not earlier runs' folders nor `s3-data/`); reports are always included; logs (`*.log`,
anything under a `logs/` folder) are evidence and are included whole up to `max_log_bytes`; any
other file up to `max_file_bytes`. Hidden entries, symbolic links (never followed) and special
files are left out. Everything left out is listed in bundle.json with the reason, so a reader
knows what is missing and why.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from harness import __version__
from harness.errors import UsageError
from harness.report.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_JSON,
    INPUTS,
    MANIFEST,
    TOP,
    files_named_by,
    render_manifest,
)
from harness.report.bundle_scan import (
    LeftOut,
    Member,
    RunScope,
    is_log,
    open_below,
    opened_dir,
    run_scope,
    scan,
)
from harness.report.bundle_verify import BundleVerification, verify_bundle

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_LOG_BYTES",
    "BundleSummary",
    "BundleVerification",
    "LeftOut",
    "verify_bundle",
    "write_bundle",
]

DEFAULT_MAX_FILE_BYTES = 64 * 1024**2
"""Per artifact (model.tar.gz, output.tar.gz, .out): a bundle is mailed and attached to tickets,
and a multi-gigabyte model adds nothing report.json's sha256 of it does not already say."""
DEFAULT_MAX_LOG_BYTES = 1024**3
"""Per log: logs are the evidence, kept whole; the cap only guards against a runaway loop."""

_CHUNK = 1024 * 1024
_FILE_MODE = 0o644


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    sha256: str
    """Of the .tar.gz itself: what to publish next to it."""
    bytes: int
    files: int
    """Files the manifest lists (bundle.json included, MANIFEST.sha256 itself not)."""
    run_id: str
    verdict: str
    left_out: tuple[LeftOut, ...]


def write_bundle(
    out_dir: Path,
    request_file: Path,
    plan_file: Path | None,
    destination: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
    created_at: datetime | None = None,
) -> BundleSummary:
    """Write the bundle of the run in `out_dir` to `destination` (atomically).

    `created_at` defaults to the run's end (started_at + duration_s) rather than the clock, so
    that the same run always bundles to the same bytes.
    """
    out_dir = out_dir.resolve()  # the folder the user named may be a link; nothing below it is
    destination = destination.absolute()
    report_bytes = _read_given(out_dir / "report.json", "the run's report")
    report = _parse_report(report_bytes, out_dir / "report.json")
    started = _parse_time(report.get("started_at"))
    mtime = int(started.timestamp()) if started else 0
    if created_at is None and started is not None:
        duration = report.get("duration_s")
        seconds = duration if isinstance(duration, int | float) else 0
        # An edited report.json may hold Infinity (Python's json reads it) or a huge number.
        with contextlib.suppress(OverflowError, ValueError):
            created_at = started + timedelta(seconds=round(seconds))

    inputs: dict[str, str] = {}
    given: list[Member] = [Member("report.json", data=report_bytes)]
    for role, file in (("request", request_file), ("plan", plan_file)):
        if file is None:
            continue
        name = f"{INPUTS}/{file.name}"
        if name in {m.name for m in given}:
            name = f"{INPUTS}/{role}-{file.name}"  # a plan and a request of the same name
        inputs[role] = name
        given.append(Member(name, data=_read_given(file, f"the {role}")))

    reserved = {m.name for m in given} | {BUNDLE_JSON, MANIFEST}
    skip = _relative_parts(destination, out_dir)
    scope = run_scope(report)
    found, left_out = scan(out_dir, reserved, skip, scope)
    members = sorted(given + found, key=lambda m: m.name)

    temporary = destination.with_name(f".{destination.name}.harness-tmp")
    digests: dict[str, str] = {}
    try:
        with (
            temporary.open("wb") as raw,
            # No file name and a fixed time in the gzip header: both would change the bytes.
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
            opened_dir(out_dir) as root_fd,
        ):
            for member in members:
                if member.data is not None:
                    digests[member.name] = _add_bytes(tar, member.name, member.data, mtime)
                    continue
                assert member.source is not None
                limit = max_log_bytes if is_log(member.source) else max_file_bytes
                added = _add_file(tar, root_fd, member, mtime, limit)
                if isinstance(added, LeftOut):
                    left_out.append(added)
                else:
                    digests[member.name] = added
            listed = set(digests) | {item.path for item in left_out}
            for name, _ in files_named_by(report):
                if name not in listed:  # said here, so a fresh bundle always verifies
                    left_out.append(LeftOut(name, "named by report.json, absent from the run"))
                    listed.add(name)
            left_out.sort(key=lambda item: item.path)
            limits = (max_file_bytes, max_log_bytes)
            text = _bundle_json(report, inputs, created_at, left_out, scope, limits)
            digests[BUNDLE_JSON] = _add_bytes(tar, BUNDLE_JSON, text, mtime)
            _add_bytes(tar, MANIFEST, render_manifest(digests).encode(), mtime)
        os.replace(temporary, destination)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot write the bundle: {reason}", where=str(destination)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BundleSummary(
        destination,
        _sha256_file(destination),
        destination.stat().st_size,
        len(digests),
        str(report.get("run_id") or ""),
        str(report.get("verdict") or ""),
        tuple(left_out),
    )


def _bundle_json(
    report: dict[str, Any],
    inputs: dict[str, str],
    created_at: datetime | None,
    left_out: list[LeftOut],
    scope: RunScope,
    limits: tuple[int, int],
) -> bytes:
    max_file_bytes, max_log_bytes = limits
    info = {
        "format": BUNDLE_FORMAT,
        "harness_version": __version__,
        "created_at": created_at.isoformat(timespec="seconds") if created_at else None,
        "run_id": report.get("run_id"),
        "verdict": report.get("verdict"),
        "started_at": report.get("started_at"),
        "report": "report.json",
        "inputs": {"request": inputs.get("request"), "plan": inputs.get("plan")},
        "limits": {"max_file_bytes": max_file_bytes, "max_log_bytes": max_log_bytes},
        "run_folders": scope.folder_names(),
        "notes": [
            "Only this run is bundled: the reports, the run folders above and the files "
            "report.json names. Anything else in the run's folder (earlier runs, s3-data/) is "
            "listed under left_out as not part of this run."
        ],
        "left_out": [item.to_dict() for item in left_out],
    }
    return (json.dumps(info, indent=2, ensure_ascii=False) + "\n").encode()


# -- reading the run's folder ----------------------------------------------------------------


def _read_given(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} is missing", where=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {what}: {exc.strerror or exc}", where=str(path)) from None


def _parse_report(data: bytes, path: Path) -> dict[str, Any]:
    try:
        report = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"report.json does not parse: {exc}", where=str(path)) from None
    if not isinstance(report, dict):
        raise UsageError("report.json is not a JSON object", where=str(path))
    return report


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _relative_parts(path: Path, root: Path) -> tuple[str, ...] | None:
    try:
        return path.parent.resolve().joinpath(path.name).relative_to(root).parts
    except ValueError:
        return None


# -- writing the archive ---------------------------------------------------------------------


def _tar_info(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{TOP}/{name}")
    info.size = size
    info.mtime = mtime
    info.mode = _FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> str:
    tar.addfile(_tar_info(name, len(data), mtime), io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


class _HashingReader:
    """Hashes exactly the bytes tarfile copies, so the manifest matches the archive even if a
    file is appended to while it is read."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data


def _add_file(
    tar: tarfile.TarFile, root_fd: int, member: Member, mtime: int, limit: int
) -> str | LeftOut:
    assert member.source is not None
    try:
        fd = open_below(root_fd, member.source)
    except OSError as exc:
        return LeftOut(member.name, f"cannot be opened safely: {exc.strerror}")
    with os.fdopen(fd, "rb") as file:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return LeftOut(member.name, "not a regular file")
        if status.st_size > limit:
            return LeftOut(
                member.name, f"larger than the bundle's {_mib(limit)} cap", status.st_size
            )
        reader = _HashingReader(cast(BinaryIO, file))
        try:
            # tarfile only calls read(); the cast states that this duck is enough.
            tar.addfile(_tar_info(member.name, status.st_size, mtime), cast(IO[bytes], reader))
        except OSError as exc:
            raise OSError(f"{member.name} shrank while it was bundled ({exc})") from exc
    return reader.digest.hexdigest()


def _mib(size: int) -> str:
    return f"{size / 1024**2:g} MiB" if size >= 1024**2 else f"{size} bytes"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
