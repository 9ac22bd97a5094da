"""The certification bundle's format, shared by the writer (bundle.py) and the verifier
(bundle_verify.py): names, MANIFEST.sha256 in the format `sha256sum` writes and `-c` reads, the
files report.json names and the JSON types of bundle.json's members."""

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
    # Every value is type-checked: report.json is read from a bundle anyone may have edited.
    runs = report.get("runs")
    for run in runs if isinstance(runs, list) else ():
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
        hosts = training.get("hosts")
        for host in hosts if isinstance(hosts, list) else ():
            if isinstance(host, dict) and _relative(host.get("log")):
                yield host["log"], None


def _relative(value: object) -> bool:
    return isinstance(value, str) and bool(value) and path_problem(value) is None


_OPTIONAL_TEXT = {"harness_version": False, "created_at": True, "report": False}
"""bundle.json's plain members: whether null is allowed."""


def bundle_json_shape_problems(info: dict[str, Any]) -> list[str]:
    """Every member of bundle.json the writer writes has the JSON type it writes: a hand-edited
    bundle.json is a problem to report, never a crash of the verifier."""
    problems: list[str] = []

    def expect(path: str, value: Any, ok: bool, wanted: str) -> None:
        if not ok:
            problems.append(f"{BUNDLE_JSON}: {path} is {_json_type(value)}, not {wanted}")

    for key, nullable in _OPTIONAL_TEXT.items():
        if key in info:
            value = info[key]
            wanted = "a string or null" if nullable else "a string"
            expect(key, value, isinstance(value, str) or (nullable and value is None), wanted)
    inputs = info.get("inputs")
    expect("inputs", inputs, isinstance(inputs, dict), "an object")
    for role, name in inputs.items() if isinstance(inputs, dict) else ():
        wanted = "a string or null"
        expect(f"inputs.{role}", name, name is None or isinstance(name, str), wanted)
    limits = info.get("limits", {})
    expect("limits", limits, isinstance(limits, dict), "an object")
    for key, value in limits.items() if isinstance(limits, dict) else ():
        expect(f"limits.{key}", value, _is_count(value), "a whole number")
    items = info.get("left_out")
    expect("left_out", items, isinstance(items, list), "a list")
    for index, item in enumerate(items if isinstance(items, list) else ()):
        where = f"left_out[{index}]"
        expect(where, item, isinstance(item, dict), "an object")
        if not isinstance(item, dict):
            continue
        for key in ("path", "reason"):
            value = item.get(key)
            expect(f"{where}.{key}", value, isinstance(value, str), "a string")
        size = item.get("bytes")
        expect(f"{where}.bytes", size, size is None or _is_count(size), "a whole number or null")
    for key in ("run_folders", "notes"):
        value = info.get(key, [])
        ok = isinstance(value, list) and all(isinstance(text, str) for text in value)
        expect(key, value, ok, "a list of strings")
    return problems


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
