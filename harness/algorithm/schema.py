"""SPEC-SCHEMA: a request checked against every constraint botocore's model declares.

botocore's own ParamValidator checks only required members, types and minimums; the service
enforces maximums, patterns and enums hours later. This walker checks all of them, with full-match
pattern semantics (the model's patterns lost their ^...$ anchors in 2025) and the `regex` package
for the Java-style `\\p{..}` classes that Python's `re` cannot compile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

import regex

from harness.algorithm.findings import CheckId, Finding, error
from harness.algorithm.stale_keys import stale_key_finding
from harness.algorithm.suggest import did_you_mean
from harness.documents import JsonPath

if TYPE_CHECKING:
    from botocore.model import ListShape, MapShape, Shape, StructureShape

_CHECK = CheckId.SPEC_SCHEMA

# Hints for the shapes sellers most often get wrong, keyed by botocore shape name.
_SHAPE_HINTS = {
    "EntityName": "1 to 63 letters, digits and hyphens, starting and ending with a letter or digit",
    "ImageDigest": "sha256: and 64 hex digits: the registry's manifest digest (RepoDigests), "
    "not the local image ID; `harness images --pin` fills it in",
    "RoleArn": "an IAM role ARN such as arn:aws:iam::123456789012:role/MyRole",
    "S3Uri": "an s3://bucket/prefix URI",
    "S3ModelUri": "an s3://bucket/prefix URI",
    "Url": "an s3:// or https:// URL",
    "ContainerImage": "a registry/repository:tag or registry/repository@sha256:... reference",
    "EntityDescription": "letters, marks, numbers, punctuation, symbols and spaces only: "
    "no newlines, tabs or other control characters",
    "ParameterName": "no newlines, tabs or other control characters",
    "ChannelName": "letters, digits, '.', '-' and '_' only",
    "ContainerHostname": "1 to 63 letters, digits and hyphens",
    "EnvironmentKey": "a letter or '_' followed by letters, digits and '_'",
    "TagKey": "letters, numbers, spaces and _ . : / = + - @",
    "TagValue": "letters, numbers, spaces and _ . : / = + - @",
}


def check_schema(request: Any, shape: StructureShape) -> list[Finding]:
    """Every SPEC-SCHEMA finding for `request` (the parsed CreateAlgorithm input)."""
    return list(_walk(request, shape, ()))


def _walk(value: Any, shape: Shape, path: JsonPath) -> Iterator[Finding]:
    if value is None:
        yield error(
            _CHECK,
            "type",
            path,
            f"null is not allowed here (expected {_expected(shape)})",
            "remove the key or give it a value",
        )
        return
    kind = shape.type_name
    if kind == "structure":
        yield from _walk_structure(value, shape, path)  # type: ignore[arg-type]
    elif kind == "list":
        yield from _walk_list(value, shape, path)  # type: ignore[arg-type]
    elif kind == "map":
        yield from _walk_map(value, shape, path)  # type: ignore[arg-type]
    elif kind == "string":
        yield from _check_string(value, shape, path)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            yield _type_error(value, shape, path)
        else:
            yield from _check_range(value, shape, path)
    elif kind in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            yield _type_error(value, shape, path)
        else:
            yield from _check_range(value, shape, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield _type_error(value, shape, path)
    elif kind == "blob" and not isinstance(value, str | bytes):
        yield _type_error(value, shape, path)
    # timestamps and documents take several forms; none occurs in CreateAlgorithm


def _walk_structure(value: Any, shape: StructureShape, path: JsonPath) -> Iterator[Finding]:
    if not isinstance(value, dict):
        yield _type_error(value, shape, path)
        return
    members = shape.members
    for key, item in value.items():
        member = members.get(key)
        if member is not None:
            yield from _walk(item, member, (*path, key))
            continue
        stale = stale_key_finding(shape.name, key, (*path, key))
        if stale is not None:
            yield stale
            continue
        yield error(
            _CHECK,
            "unknown-member",
            (*path, key),
            f"unknown member {key!r} of {shape.name}",
            did_you_mean(key, list(members)),
        )
    for name in shape.required_members:
        if name not in value:
            yield error(
                _CHECK,
                "required",
                (*path, name),
                f"required member {name!r} is missing from {shape.name}",
            )
    if shape.metadata.get("union"):
        present = [name for name in members if value.get(name) is not None]
        if len(present) != 1:
            yield error(
                _CHECK,
                "union",
                path,
                f"{shape.name} needs exactly one of {', '.join(members)}; found {len(present)}",
            )


def _walk_list(value: Any, shape: ListShape, path: JsonPath) -> Iterator[Finding]:
    if not isinstance(value, list):
        yield _type_error(value, shape, path)
        return
    yield from _check_size(len(value), "items", shape, path)
    for index, item in enumerate(value):
        yield from _walk(item, shape.member, (*path, index))


def _walk_map(value: Any, shape: MapShape, path: JsonPath) -> Iterator[Finding]:
    if not isinstance(value, dict):
        yield _type_error(value, shape, path)
        return
    yield from _check_size(len(value), "entries", shape, path)
    for key, item in value.items():
        # The key is located at the member itself: that is where a reader finds it.
        for finding in _check_string(key, shape.key, (*path, key)):
            yield replace(finding, message=f"key: {finding.message}")
        yield from _walk(item, shape.value, (*path, key))


def _check_string(value: Any, shape: Shape, path: JsonPath) -> Iterator[Finding]:
    if not isinstance(value, str):
        hint = "quote the value: the API takes strings" if isinstance(value, int | float) else None
        yield _type_error(value, shape, path, hint)
        return
    enum: list[str] = getattr(shape, "enum", [])  # only StringShape has it
    if enum:
        if value not in enum:
            yield _enum_error(value, shape.name, list(enum), path)
        return
    yield from _check_size(len(value), "characters", shape, path)
    pattern = shape.metadata.get("pattern")
    compiled = _compile(pattern) if pattern is not None else None
    if compiled is not None and compiled.fullmatch(value) is None:
        hint = _SHAPE_HINTS.get(shape.name)
        if "\n" in value or "\t" in value:
            hint = "the value contains a newline or tab, which the pattern does not allow"
        yield error(
            _CHECK,
            "pattern",
            path,
            f"{_show(value)} does not match {shape.name}'s pattern {pattern} "
            "(the whole value must match)",
            hint,
        )


def _check_size(size: int, unit: str, shape: Shape, path: JsonPath) -> Iterator[Finding]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        yield error(
            _CHECK, "min-length", path, f"has {size} {unit}; {shape.name} needs at least {low}"
        )
    if high is not None and size > high:
        yield error(
            _CHECK,
            "max-length",
            path,
            f"has {size} {unit}; {shape.name} allows at most {high}",
            _size_hint(shape.name),
        )


def _check_range(value: float, shape: Shape, path: JsonPath) -> Iterator[Finding]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield error(_CHECK, "min-value", path, f"{value} is below {shape.name}'s minimum {low}")
    if high is not None and value > high:
        yield error(_CHECK, "max-value", path, f"{value} is above {shape.name}'s maximum {high}")


def _size_hint(shape_name: str) -> str | None:
    if shape_name == "AlgorithmValidationProfiles":
        return (
            "SageMaker validates an algorithm with exactly one profile; keep the one that "
            "exercises both training and batch transform"
        )
    return None


def _enum_error(value: str, shape_name: str, allowed: list[str], path: JsonPath) -> Finding:
    if len(allowed) <= 8:
        message = f"{_show(value)} is not one of {', '.join(allowed)}"
        hint = did_you_mean(value, allowed)
    else:
        message = f"{_show(value)} is not one of the {len(allowed)} {shape_name} values"
        hint = did_you_mean(value, allowed) or f"see the {shape_name} values of the SageMaker API"
    return error(_CHECK, "enum", path, message, hint)


def _type_error(value: Any, shape: Shape, path: JsonPath, hint: str | None = None) -> Finding:
    return error(
        _CHECK,
        "type",
        path,
        f"expected {_expected(shape)}, got {_json_type(value)} {_show(value)}",
        hint,
    )


def _expected(shape: Shape) -> str:
    return {
        "structure": "an object",
        "list": "a list",
        "map": "an object (map)",
        "string": "a string",
        "integer": "an integer",
        "long": "an integer",
        "double": "a number",
        "float": "a number",
        "boolean": "true or false",
    }.get(shape.type_name, shape.type_name)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict | list):
        return ""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


@cache
def _compile(pattern: str) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern)
    except regex.error:
        # A pattern this engine cannot read must not turn into a false finding.
        return None
