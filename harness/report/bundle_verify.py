"""`harness report verify`: whether a certification bundle is intact and what it claims.

The archive is read as a stream and never extracted: members are hashed in memory, and any
member a careless `tar x` could turn against the reader (absolute or `..` paths, links,
devices, a name given twice) is a problem, whatever Python's tarfile filters would do (3.11.2,
the CI's Python, has none). Then: every file MANIFEST.sha256 lists is present with that digest
and nothing else is; report.json follows the shipped schema; bundle.json has the JSON types the
writer writes and agrees with it; the artifacts report.json records are the ones bundled (or
listed as left out). Every value read from either file is type-checked first: a hand-edited
bundle is a list of problems, never a crash.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import json
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from harness.errors import UsageError
from harness.report.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_JSON,
    MANIFEST,
    TOP,
    bundle_json_shape_problems,
    files_named_by,
    parse_manifest,
    path_problem,
)

_CHUNK = 1024 * 1024
_KEPT = (MANIFEST, BUNDLE_JSON, "report.json")
"""Members read into memory to be parsed; every other member is only hashed."""
_KEPT_LIMIT = 256 * 1024**2
_MAX_SCHEMA_ERRORS = 10


@dataclass(frozen=True)
class BundleVerification:
    path: Path
    problems: tuple[str, ...]
    files_verified: int
    """Files found with the digest MANIFEST.sha256 gives them."""
    run_id: str | None = None
    verdict: str | None = None
    """The run's verdict (report.json), not the bundle's: a failed run bundles validly."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": str(self.path),
            "ok": self.ok,
            "files_verified": self.files_verified,
            "run_id": self.run_id,
            "verdict": self.verdict,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class _Archive:
    digests: dict[str, str]
    """Regular files, by path relative to the top folder."""
    kept: dict[str, bytes]
    problems: tuple[str, ...]
    readable: bool


def verify_bundle(path: Path) -> BundleVerification:
    """Check the bundle at `path`; raises UsageError only when the file cannot be opened at
    all (a corrupt one is a verification with problems)."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise UsageError(
            "no such file", where=str(path), hint="give the path of a harness-report.tar.gz"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    with raw:
        archive = _read_archive(raw)
    problems = list(archive.problems)
    if not archive.readable:
        return BundleVerification(path, tuple(problems), 0)

    listed: dict[str, str] = {}
    manifest = archive.kept.get(MANIFEST)
    if manifest is None:
        problems.append(f"{MANIFEST} is missing: no file can be checked against its digest")
    else:
        parsed = parse_manifest(manifest.decode("utf-8", "replace"))
        problems += parsed.problems
        listed = parsed.digests
    verified = 0
    for name, expected in sorted(listed.items()):
        actual = archive.digests.get(name)
        if actual is None:
            problems.append(f"{name}: listed in {MANIFEST} but missing from the archive")
        elif actual != expected:
            problems.append(
                f"{name}: sha256 {actual[:12]}… is not the {expected[:12]}… {MANIFEST} "
                "gives (changed after bundling)"
            )
        else:
            verified += 1
    if manifest is not None:
        for name in sorted(set(archive.digests) - set(listed) - {MANIFEST}):
            problems.append(f"{name}: in the archive but not listed in {MANIFEST}")

    report = _load_json(archive.kept, "report.json", problems)
    if report is not None:
        problems += _schema_problems(report)
    info = _load_json(archive.kept, BUNDLE_JSON, problems)
    left_out: set[str] = set()
    if info is not None:
        problems += _bundle_json_problems(info, report or {}, archive.digests)
        left_out = set(_left_out_paths(info))
    if report is not None:
        problems += _artifact_problems(report, archive.digests, left_out)
    return BundleVerification(
        path,
        tuple(problems),
        verified,
        _text_or_none((report or {}).get("run_id")),
        _text_or_none((report or {}).get("verdict")),
    )


# -- reading ---------------------------------------------------------------------------------


def _read_archive(raw: BinaryIO) -> _Archive:
    digests: dict[str, str] = {}
    kept: dict[str, bytes] = {}
    problems: list[str] = []
    try:
        with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            # Stream mode ("r|"): members in order, no seeking back through the gzip stream.
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    problem = _member_problem(member)
                    if problem is not None:
                        problems.append(f"{member.name}: {problem}")
                        continue
                    if member.isdir():
                        continue
                    name = member.name[len(TOP) + 1 :]
                    if name in digests:
                        problems.append(
                            f"{member.name}: in the archive twice (extracting keeps the last)"
                        )
                        continue
                    file = tar.extractfile(member)
                    assert file is not None  # a regular member always has a file object
                    digests[name], data = _digest(file, keep=name in _KEPT)
                    if data is not None:
                        kept[name] = data
                    elif name in _KEPT:
                        problems.append(f"{name}: larger than {_KEPT_LIMIT} bytes: not read")
            # tarfile stops at the end-of-archive blocks; reading on to the end checks gzip's
            # CRC and length trailer, and finds bytes appended after it.
            while gz.read(_CHUNK):
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        problems.append(f"not a readable gzip-compressed tar archive: {_reason(exc)}")
        return _Archive(digests, kept, tuple(problems), readable=False)
    if not digests and not problems:
        problems.append("the archive holds no files")
    return _Archive(digests, kept, tuple(problems), readable=True)


def _member_problem(member: tarfile.TarInfo) -> str | None:
    if member.isdir() and member.name == TOP:
        return None
    problem = path_problem(member.name)
    if problem is not None:
        return problem
    if not member.name.startswith(f"{TOP}/"):
        return f"outside the {TOP}/ folder (refused)"
    if member.issym():
        return f"symbolic link to {member.linkname!r} (refused: a bundle holds regular files)"
    if member.islnk():
        return f"hard link to {member.linkname!r} (refused: a bundle holds regular files)"
    if member.ischr() or member.isblk():
        return "device file (refused)"
    if member.isfifo():
        return "FIFO (refused)"
    if not member.isreg() and not member.isdir():
        return f"unsupported member type {member.type!r} (refused)"
    return None


def _digest(file: IO[bytes], *, keep: bool) -> tuple[str, bytes | None]:
    digest = hashlib.sha256()
    chunks: list[bytes] | None = [] if keep else None
    size = 0
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if chunks is not None and size <= _KEPT_LIMIT:
            chunks.append(chunk)
        else:
            chunks = None
    return digest.hexdigest(), b"".join(chunks) if chunks is not None else None


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if "gzip" in text or "tar" in text else f"{type(exc).__name__}: {text}"


# -- what the files say ----------------------------------------------------------------------


def _load_json(kept: dict[str, bytes], name: str, problems: list[str]) -> dict[str, Any] | None:
    data = kept.get(name)
    if data is None:
        problems.append(f"{name} is missing")
        return None
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{name}: not valid JSON: {exc}")
        return None
    except RecursionError:
        problems.append(f"{name}: nested too deeply to be read")
        return None
    if not isinstance(value, dict):
        problems.append(f"{name}: not a JSON object")
        return None
    return value


def _schema_problems(report: dict[str, Any]) -> list[str]:
    try:
        import jsonschema
    except ImportError:  # a dev dependency until it is a runtime one: say so, never pass
        return ["report.json: cannot be checked against its schema: jsonschema is not installed"]
    schema = json.loads(
        importlib.resources.files("harness")
        .joinpath("schemas/report.schema.json")
        .read_text(encoding="utf-8")
    )
    try:
        errors = sorted(
            jsonschema.Draft202012Validator(schema).iter_errors(report), key=lambda e: e.json_path
        )
    except RecursionError:
        return ["report.json: nested too deeply to be checked against its schema"]
    problems = [
        f"report.json: {error.json_path.removeprefix('$.')}: {_shorten(error.message)} "
        "(report.schema.json)"
        for error in errors[:_MAX_SCHEMA_ERRORS]
    ]
    if len(errors) > _MAX_SCHEMA_ERRORS:
        problems.append(f"report.json: {len(errors) - _MAX_SCHEMA_ERRORS} more schema errors")
    return problems


def _bundle_json_problems(
    info: dict[str, Any], report: dict[str, Any], digests: dict[str, str]
) -> list[str]:
    if info.get("format") != BUNDLE_FORMAT:
        return [
            f"{BUNDLE_JSON}: format {_shorten(repr(info.get('format')))} is not {BUNDLE_FORMAT!r}"
        ]
    problems = bundle_json_shape_problems(info)
    for key in ("run_id", "verdict", "started_at"):
        if key in report and info.get(key) != report[key]:
            problems.append(
                f"{BUNDLE_JSON}: {key} {_shorten(repr(info.get(key)))} disagrees with "
                f"report.json's {_shorten(repr(report[key]))}"
            )
    inputs = info.get("inputs")
    own = {BUNDLE_JSON, MANIFEST, "report.json"}
    for role, name in inputs.items() if isinstance(inputs, dict) else ():
        if not isinstance(name, str):
            continue  # null: no such input; anything else is a shape problem, said above
        own.add(name)
        if name not in digests:
            problems.append(f"{BUNDLE_JSON}: the {role} {_shorten(name)!r} is not in the archive")
    for name in _left_out_paths(info):
        # A run file named like one of the bundle's own is left out under that same name.
        if name in digests and name not in own:
            problems.append(f"{BUNDLE_JSON}: {name} is listed as left out but is in the archive")
    return problems


def _left_out_paths(info: dict[str, Any]) -> list[str]:
    items = info.get("left_out")
    return [
        item["path"]
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict) and isinstance(item.get("path"), str)
    ]


def _artifact_problems(
    report: dict[str, Any], digests: dict[str, str], left_out: set[str]
) -> list[str]:
    """The model, output and logs report.json names are the bundled ones: a bundle whose
    model.tar.gz was swapped and re-listed in the manifest still fails here."""
    problems = []
    for name, sha256 in files_named_by(report):
        if name in digests:
            if sha256 is not None and digests[name] != sha256:
                problems.append(
                    f"{name}: sha256 {digests[name][:12]}… is not the {sha256[:12]}… "
                    "report.json records for it"
                )
        elif name not in left_out:
            problems.append(
                f"{name}: report.json names it, but the bundle neither holds it nor lists it "
                "as left out"
            )
    return problems


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- rendering (the CLI prints) ----------------------------------------------------------------


def render_verification_text(result: BundleVerification) -> str:
    lines = list(result.problems)
    if result.ok:
        run = f" — run {result.run_id}, verdict {result.verdict}" if result.run_id else ""
        lines.append(f"OK: {result.files_verified} files verified (sha256){run}")
    else:
        lines.append(f"INVALID: {result.path}: {len(result.problems)} problem(s)")
    return "\n".join(lines) + "\n"


def render_verification_json(result: BundleVerification) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
