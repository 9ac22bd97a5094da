"""The certification bundle's format, shared by the writer (bundle.py) and the verifier
(bundle_verify.py): names, and MANIFEST.sha256 in the format `sha256sum` writes and `-c` reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOP = "harness-report"
"""The one top folder every member lives under."""
MANIFEST = "MANIFEST.sha256"
BUNDLE_JSON = "bundle.json"
INPUTS = "inputs"
BUNDLE_FORMAT = "harness-report-bundle/1"
BUNDLE_NAME = "harness-report.tar.gz"
"""The bundle's usual name, in the run's folder (`harness run --bundle`)."""

_LINE = re.compile(r"(?P<digest>[0-9a-f]{64}) [ *](?P<path>.+)")


def manifest_safe(name: str) -> bool:
    """Whether `sha256sum` lists `name` verbatim: it escapes newlines and backslashes, which a
    reader of the manifest should never have to undo; and the tar stores names as UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a surrogate-escaped byte that is not UTF-8
        return False
    return not any(c in name for c in "\n\r\\")


def render_manifest(digests: dict[str, str]) -> str:
    """`<hex>  <path>` lines sorted by path, paths relative to the top folder, so that
    `cd harness-report && sha256sum -c MANIFEST.sha256` checks an extracted bundle."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))


@dataclass(frozen=True)
class Manifest:
    digests: dict[str, str]
    problems: tuple[str, ...]


def parse_manifest(text: str) -> Manifest:
    digests: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        where = f"{MANIFEST} line {number}"
        if match is None:
            problems.append(f"{where}: not `<sha256 in lowercase hex>  <path>`: {line[:80]!r}")
            continue
        path = match["path"]
        problem = path_problem(path)
        if problem:
            problems.append(f"{where}: {path}: {problem}")
        elif path in digests:
            problems.append(f"{where}: {path} is listed twice")
        else:
            digests[path] = match["digest"]
    return Manifest(digests, tuple(problems))


def path_problem(path: str) -> str | None:
    """Why a relative path must not be extracted, or None: absolute paths and `..` escape the
    folder a bundle is extracted into; `.` and empty parts hide a second name for one file."""
    if path.startswith("/"):
        return "absolute path (refused)"
    parts = path.split("/")
    if ".." in parts:
        return "path climbs out of the bundle with `..` (refused)"
    if any(part in ("", ".") for part in parts):
        return "path is not normalized (empty or `.` part)"
    return None


def files_named_by(report: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    """The run-folder files report.json names (models, outputs, host, serving and transform
    logs), with the sha256 it records where it records one: the writer lists the missing ones
    as left out, the verifier checks the bundled ones are those."""
    for run in report.get("runs") or []:
        if not isinstance(run, dict):
            continue
        for phase in ("serving", "transform"):
            record = run.get(phase)
            if isinstance(record, dict) and _relative(record.get("log")):
                yield record["log"], None
        training = run.get("training")
        if not isinstance(training, dict):
            continue
        for key in ("model_artifact", "output_artifact"):
            artifact = training.get(key)
            if isinstance(artifact, dict) and _relative(artifact.get("path")):
                sha256 = artifact.get("sha256")
                yield artifact["path"], sha256 if isinstance(sha256, str) else None
        for host in training.get("hosts") or []:
            if isinstance(host, dict) and _relative(host.get("log")):
                yield host["log"], None


def _relative(value: object) -> bool:
    return isinstance(value, str) and bool(value) and path_problem(value) is None
