"""Reading the plan file (harness.yaml, DESIGN §2) into frozen dataclasses, paths resolved,
defaults applied.

Defaults are what SageMaker would do when a job leaves the setting out. A transform setting that
SageMaker takes from the container's /execution-parameters when the job leaves it out stays
None here, so the transform runner can apply the documented precedence.
Every problem raises PlanError naming the file, the line and the key.

The dataclasses, the values each setting allows and the defaults are in plan_types.py; every
name there is re-exported here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from harness.algorithm.suggest import did_you_mean
from harness.documents import Document, JsonPath, format_json_path, load_document
from harness.errors import PlanError
from harness.plan_types import (
    ASSEMBLY_TYPES,
    BATCH_STRATEGIES,
    COMPRESSIONS,
    DEFAULT_MAX_RUNTIME_SECONDS,
    DEFAULT_SIGTERM_PROBE_SECONDS,
    DEFAULT_STARTUP_TIMEOUT_SECONDS,
    DISTRIBUTIONS,
    INPUT_MODES,
    MAX_INSTANCE_COUNT,
    MAX_RUNTIME_SECONDS,
    PROFILE_NAME_PATTERN,
    RECORD_WRAPPERS,
    SPLIT_TYPES,
    ChannelPlan,
    LoadPlan,
    Plan,
    ProfilePlan,
    ServingPlan,
    ServingRequest,
    SigtermProbePlan,
    TrainingPlan,
    TransformPlan,
)

__all__ = [
    "ASSEMBLY_TYPES",
    "BATCH_STRATEGIES",
    "COMPRESSIONS",
    "DEFAULT_MAX_RUNTIME_SECONDS",
    "DEFAULT_SIGTERM_PROBE_SECONDS",
    "DEFAULT_STARTUP_TIMEOUT_SECONDS",
    "DISTRIBUTIONS",
    "INPUT_MODES",
    "MAX_INSTANCE_COUNT",
    "MAX_RUNTIME_SECONDS",
    "PROFILE_NAME_PATTERN",
    "RECORD_WRAPPERS",
    "SPLIT_TYPES",
    "ChannelPlan",
    "LoadPlan",
    "Plan",
    "ProfilePlan",
    "ServingPlan",
    "ServingRequest",
    "SigtermProbePlan",
    "TrainingPlan",
    "TransformPlan",
    "is_plan",
    "load_plan",
    "plan_from_document",
]


_PROFILE_NAME = re.compile(PROFILE_NAME_PATTERN)


def is_plan(data: Any) -> bool:
    """Whether a parsed document looks like a plan rather than a CreateAlgorithm request."""
    return (
        isinstance(data, dict)
        and ("algorithm" in data or "profiles" in data)
        and "TrainingSpecification" not in data
    )


def load_plan(file: Path) -> Plan:
    document = load_document(file)
    return plan_from_document(document)


def plan_from_document(document: Document) -> Plan:
    reader = _Reader(document)
    root = reader.mapping((), {"algorithm", "profiles"})
    algorithm = reader.existing_path(("algorithm",), root, required=True, want_file=True)
    assert algorithm is not None
    profiles_value = reader.need(root, ("profiles",), list)
    if not profiles_value:
        reader.fail(("profiles",), "the plan needs at least one profile")
    profiles = tuple(_profile(reader, ("profiles", i)) for i in range(len(profiles_value)))
    names = [p.name for p in profiles]
    for index, name in enumerate(names):
        if name in names[:index]:
            reader.fail(("profiles", index, "name"), f"profile name {name!r} is used twice")
    return Plan(document.file, algorithm, profiles)


def _profile(reader: _Reader, path: JsonPath) -> ProfilePlan:
    body = reader.mapping(path, {"name", "instance_types", "training", "transform", "serving"})
    name = reader.need(body, (*path, "name"), str)
    if not _PROFILE_NAME.fullmatch(name):
        hint = "1-63 letters, digits and '-', the first and last a letter or digit"
        reader.fail((*path, "name"), f"{name!r} cannot be a ValidationProfile's ProfileName", hint)
    instance_types = reader.need(body, (*path, "instance_types"), list)
    if not instance_types:
        reader.fail((*path, "instance_types"), "list at least one instance type")
    for index, item in enumerate(instance_types):
        if not isinstance(item, str) or not item.startswith("ml."):
            reader.fail(
                (*path, "instance_types", index),
                f"{item!r} is not a SageMaker instance type",
                "e.g. ml.m5.large",
            )
    if "training" not in body:
        reader.fail((*path, "training"), "the profile needs a training section")
    transform = _transform(reader, (*path, "transform")) if "transform" in body else None
    serving = _serving(reader, (*path, "serving")) if "serving" in body else None
    return ProfilePlan(
        name, tuple(instance_types), _training(reader, (*path, "training")), transform, serving
    )


def _training(reader: _Reader, path: JsonPath) -> TrainingPlan:
    body = reader.mapping(
        path,
        {
            "hyperparameters",
            "input_mode",
            "instance_count",
            "max_runtime_seconds",
            "channels",
            "checkpoints",
            "sigterm_probe",
        },
    )
    as_strings = _hyperparameters(reader, body, (*path, "hyperparameters"))
    channels_body = reader.need(body, (*path, "channels"), dict)
    if not channels_body:
        reader.fail((*path, "channels"), "declare at least one channel")
    channels = tuple(_channel(reader, (*path, "channels", str(name))) for name in channels_body)
    count = _default(reader.get(body, (*path, "instance_count"), int), 1)
    runtime = _default(
        reader.get(body, (*path, "max_runtime_seconds"), int), DEFAULT_MAX_RUNTIME_SECONDS
    )
    if count < 1:
        reader.fail((*path, "instance_count"), "instance_count must be at least 1")
    if count > MAX_INSTANCE_COUNT:
        hint = "a local run emulates each host as a container on this machine"
        reader.fail((*path, "instance_count"), f"at most {MAX_INSTANCE_COUNT}, not {count}", hint)
    if runtime < 1:
        reader.fail((*path, "max_runtime_seconds"), "max_runtime_seconds must be at least 1")
    if runtime > MAX_RUNTIME_SECONDS:
        hint = "SageMaker's MaxRuntimeInSeconds is at most 28 days"
        reader.fail((*path, "max_runtime_seconds"), f"at most {MAX_RUNTIME_SECONDS}", hint)
    return TrainingPlan(
        channels=channels,
        hyperparameters=as_strings,
        input_mode=reader.choice(body, (*path, "input_mode"), INPUT_MODES) or "File",
        instance_count=count,
        max_runtime_seconds=runtime,
        checkpoints=bool(reader.get(body, (*path, "checkpoints"), bool)),
        sigterm_probe=_sigterm_probe(reader, body, (*path, "sigterm_probe")),
    )


def _hyperparameters(
    reader: _Reader, body: dict[str, Any], path: JsonPath
) -> tuple[tuple[str, str], ...]:
    values = reader.get(body, path, dict) or {}
    as_strings: list[tuple[str, str]] = []
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            reader.fail(
                (*path, key), "hyperparameter values are strings", f'quote it: {key}: "{value}"'
            )
        as_strings.append((str(key), str(value)))
    return tuple(as_strings)


def _sigterm_probe(reader: _Reader, body: dict[str, Any], path: JsonPath) -> SigtermProbePlan:
    if path[-1] not in body:
        return SigtermProbePlan()
    probe = reader.mapping(path, {"after_seconds", "hyperparameters"})
    after = reader.number(probe, (*path, "after_seconds"))
    if after is not None and after <= 0:
        reader.fail((*path, "after_seconds"), "must be more than 0")
    return SigtermProbePlan(
        DEFAULT_SIGTERM_PROBE_SECONDS if after is None else after,
        _hyperparameters(reader, probe, (*path, "hyperparameters")),
    )


def _channel(reader: _Reader, path: JsonPath) -> ChannelPlan:
    body = reader.mapping(
        path,
        {"path", "content_type", "compression", "distribution", "record_wrapper", "input_mode"},
    )
    channel_path = reader.existing_path((*path, "path"), body, required=True)
    assert channel_path is not None
    return ChannelPlan(
        name=str(path[-1]),
        path=channel_path,
        content_type=reader.get(body, (*path, "content_type"), str),
        compression=reader.choice(body, (*path, "compression"), COMPRESSIONS) or "None",
        distribution=reader.choice(body, (*path, "distribution"), DISTRIBUTIONS)
        or "FullyReplicated",
        record_wrapper=reader.choice(body, (*path, "record_wrapper"), RECORD_WRAPPERS) or "None",
        input_mode=reader.choice(body, (*path, "input_mode"), INPUT_MODES),
    )


def _transform(reader: _Reader, path: JsonPath) -> TransformPlan:
    body = reader.mapping(
        path,
        {
            "input",
            "content_type",
            "split_type",
            "batch_strategy",
            "max_payload_mb",
            "max_concurrent_transforms",
            "accept",
            "assemble_with",
            "expected_output",
            "compression",
        },
    )
    source = reader.existing_path((*path, "input"), body, required=True)
    assert source is not None
    payload = reader.get(body, (*path, "max_payload_mb"), int)
    if payload is not None and not 0 <= payload <= 100:
        reader.fail((*path, "max_payload_mb"), "max_payload_mb must be between 0 and 100")
    concurrency = reader.get(body, (*path, "max_concurrent_transforms"), int)
    if concurrency is not None and concurrency < 0:
        reader.fail((*path, "max_concurrent_transforms"), "must be 0 or more")
    return TransformPlan(
        input=source,
        content_type=reader.get(body, (*path, "content_type"), str),
        split_type=reader.choice(body, (*path, "split_type"), SPLIT_TYPES) or "None",
        batch_strategy=reader.choice(body, (*path, "batch_strategy"), BATCH_STRATEGIES),
        max_payload_mb=payload,
        max_concurrent_transforms=concurrency,
        accept=reader.get(body, (*path, "accept"), str),
        assemble_with=reader.choice(body, (*path, "assemble_with"), ASSEMBLY_TYPES) or "None",
        expected_output=reader.existing_path((*path, "expected_output"), body),
        compression=reader.choice(body, (*path, "compression"), COMPRESSIONS) or "None",
    )


def _serving(reader: _Reader, path: JsonPath) -> ServingPlan:
    body = reader.mapping(path, {"requests", "load", "startup_timeout_seconds"})
    requests: list[ServingRequest] = []
    for index in range(len(reader.get(body, (*path, "requests"), list) or [])):
        here = (*path, "requests", index)
        item = reader.mapping(here, {"content_type", "accept", "body"})
        body_path = reader.existing_path((*here, "body"), item, required=True, want_file=True)
        assert body_path is not None
        content_type = reader.need(item, (*here, "content_type"), str)
        requests.append(
            ServingRequest(body_path, content_type, reader.get(item, (*here, "accept"), str))
        )
    load = LoadPlan()
    if "load" in body:
        load_path = (*path, "load")
        load_body = reader.mapping(
            load_path, {"concurrency", "requests", "max_p99_ms", "min_requests_per_second"}
        )
        load = LoadPlan(
            concurrency=_default(reader.get(load_body, (*load_path, "concurrency"), int), 4),
            requests=_default(reader.get(load_body, (*load_path, "requests"), int), 200),
            max_p99_ms=reader.number(load_body, (*load_path, "max_p99_ms")),
            min_requests_per_second=reader.number(
                load_body, (*load_path, "min_requests_per_second")
            ),
        )
    if load.concurrency < 1 or load.requests < 1:
        reader.fail((*path, "load"), "concurrency and requests must be at least 1")
    startup = _default(
        reader.get(body, (*path, "startup_timeout_seconds"), int), DEFAULT_STARTUP_TIMEOUT_SECONDS
    )
    if startup < 1:
        reader.fail((*path, "startup_timeout_seconds"), "must be at least 1")
    return ServingPlan(tuple(requests), load, startup)


T = TypeVar("T")


class _Reader:
    """Typed access to the plan's data, failing with the file, line and key of a bad value."""

    def __init__(self, document: Document):
        self.document = document
        self.base = document.file.parent

    def fail(self, path: JsonPath, message: str, hint: str | None = None) -> NoReturn:
        position = self.document.locate(path)
        where = str(self.document.file)
        if position is not None:
            where += f":{position.line}:{position.column}"
        raise PlanError(f"{format_json_path(path)}: {message}", where=where, hint=hint)

    def value(self, path: JsonPath) -> Any:
        data = self.document.data
        for part in path:
            data = data[part]
        return data

    def mapping(self, path: JsonPath, keys: set[str]) -> dict[str, Any]:
        data = self.value(path)
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping, got {_kind(data)}")
        for key in data:
            if key not in keys:
                self.fail(
                    (*path, str(key)),
                    f"unknown key {key!r}",
                    did_you_mean(str(key), sorted(keys))
                    or f"known keys: {', '.join(sorted(keys))}",
                )
        return data

    def get(
        self, body: dict[str, Any], path: JsonPath, kind: type[T], required: bool = False
    ) -> T | None:
        key = path[-1]
        if key not in body or body[key] is None:
            if required:
                self.fail(path, "is required")
            return None
        value = body[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(path, f"expected {kind.__name__}, got {_kind(value)}")
        return value

    def need(self, body: dict[str, Any], path: JsonPath, kind: type[T]) -> T:
        value = self.get(body, path, kind, required=True)
        assert value is not None  # get() raised otherwise
        return value

    def number(self, body: dict[str, Any], path: JsonPath) -> float | None:
        value = body.get(str(path[-1]))
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {_kind(value)}")
        return float(value)

    def choice(self, body: dict[str, Any], path: JsonPath, allowed: tuple[str, ...]) -> str | None:
        value = self.get(body, path, str)
        if value is not None and value not in allowed:
            self.fail(path, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def existing_path(
        self, path: JsonPath, body: dict[str, Any], required: bool = False, want_file: bool = False
    ) -> Path | None:
        text = self.get(body, path, str, required)
        if text is None:
            return None
        resolved = (self.base / text).resolve()
        if not resolved.exists():
            self.fail(
                path,
                f"{text} does not exist (looked for {resolved})",
                "paths are relative to the plan file",
            )
        if want_file and not resolved.is_file():
            self.fail(path, f"{text} is not a file")
        return resolved


def _default(value: T | None, default: T) -> T:
    return default if value is None else value


def _kind(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "true/false",
        int: "an integer",
        float: "a number",
        type(None): "nothing",
    }.get(type(value), type(value).__name__)
