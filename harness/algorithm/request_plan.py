"""`harness run REQUEST`: a CreateAlgorithm request whose ValidationSpecification points to S3,
turned into a plan so a seller can check an existing request locally before submitting it.

Each ValidationProfile becomes a plan profile emulating the instance type it names; its
channels and transform input are fetched (by the caller's `fetch`, boto3 in the CLI) into a
folder per profile. A ValidationProfile says nothing about real-time serving: the serving
checks then send the transform input's first lines, as for a plan without a `serving` section.

Every member read is type-checked, for every profile, before anything is fetched: a malformed
request is one located PlanError, never a traceback nor a half-downloaded data folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from harness.algorithm.s3_common import parse_s3_uri
from harness.documents import Document, JsonPath, format_json_path
from harness.errors import PlanError, UsageError
from harness.plan import (
    DEFAULT_MAX_RUNTIME_SECONDS,
    MAX_INSTANCE_COUNT,
    MAX_RUNTIME_SECONDS,
    PROFILE_NAME_PATTERN,
    ChannelPlan,
    Plan,
    ProfilePlan,
    TrainingPlan,
    TransformPlan,
)

Fetch = Callable[[str, Path], None]
"""fetch(s3_uri, folder): place every object under the S3Prefix `s3_uri` in `folder`."""

# SageMaker's own patterns; both names become folder names, so they must be one safe segment.
_PROFILE_NAME = re.compile(PROFILE_NAME_PATTERN)
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9.\-_]{1,64}")

_Fetches = list[tuple[str, Path]]


def has_validation_specification(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("ValidationSpecification"), dict)


def plan_from_request(
    document: Document, data_dir: Path, fetch: Fetch, profile_names: tuple[str, ...] = ()
) -> Plan:
    """The request's ValidationProfiles (those named, or all) as a plan; data under data_dir.

    Every profile is checked first; only then is the data of the chosen ones fetched."""
    data = document.data if isinstance(document.data, dict) else {}
    spec = _mapping(document, ("ValidationSpecification",), data.get("ValidationSpecification"))
    profiles_path: JsonPath = ("ValidationSpecification", "ValidationProfiles")
    profiles_value = spec.get("ValidationProfiles")
    if not isinstance(profiles_value, list) or not profiles_value:
        _fail(document, profiles_path, "no validation profile")
    built: list[tuple[ProfilePlan, _Fetches]] = []
    first_index: dict[str, int] = {}
    for index, value in enumerate(profiles_value):
        path: JsonPath = (*profiles_path, index)
        body = _mapping(document, path, value)
        name = body.get("ProfileName")
        if not isinstance(name, str) or not _PROFILE_NAME.fullmatch(name):
            _fail(
                document,
                (*path, "ProfileName"),
                f"a validation profile needs a ProfileName of 1-63 letters, digits and '-', "
                f"not {name!r}",
            )
        if name in first_index:
            _fail(
                document,
                (*path, "ProfileName"),
                f"ProfileName {name!r} is given twice (also ValidationProfiles"
                f"[{first_index[name]}]): their data would be fetched into one folder",
            )
        first_index[name] = index
        built.append(_profile(document, path, body, name, data_dir / name))
    chosen = [item for item in built if not profile_names or item[0].name in profile_names]
    if not chosen:
        raise PlanError(
            f"no validation profile named {', '.join(profile_names)}",
            where=str(document.file),
            hint=f"one of {', '.join(first_index)}",
        )
    for _, fetches in chosen:
        for uri, folder in fetches:
            fetch(uri, folder)
    return Plan(document.file, document.file, tuple(profile for profile, _ in chosen))


def _profile(
    document: Document, path: JsonPath, body: Mapping[str, Any], name: str, folder: Path
) -> tuple[ProfilePlan, _Fetches]:
    fetches: _Fetches = []
    job_path = (*path, "TrainingJobDefinition")
    job = _mapping(document, job_path, body.get("TrainingJobDefinition"))
    resources_path = (*job_path, "ResourceConfig")
    resources = _mapping(document, resources_path, job.get("ResourceConfig"))
    instance_type = _text(document, resources_path, resources, "InstanceType")
    if instance_type is None:
        _fail(document, (*resources_path, "InstanceType"), "an instance type is needed")
    channels_path = (*job_path, "InputDataConfig")
    channels_value = job.get("InputDataConfig")
    if channels_value is None or channels_value == []:
        _fail(document, channels_path, "declare at least one channel")
    if not isinstance(channels_value, list):
        _fail(document, channels_path, "expected a list of channels here")
    channels: list[ChannelPlan] = []
    for index, value in enumerate(channels_value):
        channel_path = (*channels_path, index)
        channel = _mapping(document, channel_path, value)
        channel_name = channel.get("ChannelName")
        if not isinstance(channel_name, str) or not _safe_channel_name(channel_name):
            _fail(
                document,
                (*channel_path, "ChannelName"),
                f"a channel needs a ChannelName of 1-64 letters, digits, '.', '-' and '_', "
                f"not {channel_name!r}",
            )
        if any(known.name == channel_name for known in channels):
            _fail(
                document,
                (*channel_path, "ChannelName"),
                f"channel {channel_name!r} is declared twice",
            )
        source_path = (*channel_path, "DataSource")
        uri, source = _s3_source(document, source_path, channel.get("DataSource"))
        local = folder / "channels" / channel_name
        fetches.append((uri, local))
        s3_path = (*source_path, "S3DataSource")
        channels.append(
            ChannelPlan(
                name=channel_name,
                path=local,
                content_type=_text(document, channel_path, channel, "ContentType"),
                compression=_text(document, channel_path, channel, "CompressionType") or "None",
                distribution=_text(document, s3_path, source, "S3DataDistributionType")
                or "FullyReplicated",
                record_wrapper=_text(document, channel_path, channel, "RecordWrapperType")
                or "None",
                input_mode=_text(document, channel_path, channel, "InputMode"),
            )
        )
    stopping_path = (*job_path, "StoppingCondition")
    stopping = _optional_mapping(document, job_path, job, "StoppingCondition")
    training = TrainingPlan(
        channels=tuple(channels),
        hyperparameters=_hyperparameters(document, job_path, job),
        input_mode=_text(document, job_path, job, "TrainingInputMode") or "File",
        instance_count=_integer(
            document,
            resources_path,
            resources,
            "InstanceCount",
            1,
            MAX_INSTANCE_COUNT,
            f"a local run emulates each host as a container on this machine, at most "
            f"{MAX_INSTANCE_COUNT}; SageMaker's own limit is an account quota",
        )
        or 1,
        max_runtime_seconds=_integer(
            document,
            stopping_path,
            stopping,
            "MaxRuntimeInSeconds",
            1,
            MAX_RUNTIME_SECONDS,
            f"SageMaker's MaxRuntimeInSeconds is at most 28 days ({MAX_RUNTIME_SECONDS})",
        )
        or DEFAULT_MAX_RUNTIME_SECONDS,
    )
    transform = None
    if body.get("TransformJobDefinition") is not None:
        transform_path = (*path, "TransformJobDefinition")
        transform_job = _mapping(document, transform_path, body["TransformJobDefinition"])
        transform = _transform(document, transform_path, transform_job, folder, fetches)
    return ProfilePlan(name, (instance_type,), training, transform), fetches


def _transform(
    document: Document, path: JsonPath, job: Mapping[str, Any], folder: Path, fetches: _Fetches
) -> TransformPlan:
    input_path = (*path, "TransformInput")
    transform_input = _mapping(document, input_path, job.get("TransformInput"))
    uri, _ = _s3_source(document, (*input_path, "DataSource"), transform_input.get("DataSource"))
    local = folder / "transform-input"
    fetches.append((uri, local))
    output_path = (*path, "TransformOutput")
    output = _optional_mapping(document, path, job, "TransformOutput")
    return TransformPlan(
        input=local,
        content_type=_text(document, input_path, transform_input, "ContentType"),
        split_type=_text(document, input_path, transform_input, "SplitType") or "None",
        batch_strategy=_text(document, path, job, "BatchStrategy"),
        max_payload_mb=_integer(document, path, job, "MaxPayloadInMB", 0),
        max_concurrent_transforms=_integer(document, path, job, "MaxConcurrentTransforms", 0),
        accept=_text(document, output_path, output, "Accept"),
        assemble_with=_text(document, output_path, output, "AssembleWith") or "None",
        compression=_text(document, input_path, transform_input, "CompressionType") or "None",
    )


def _s3_source(document: Document, path: JsonPath, value: Any) -> tuple[str, Mapping[str, Any]]:
    """The S3Uri of a DataSource, and its S3DataSource."""
    data_source = _mapping(document, path, value)
    source = data_source.get("S3DataSource")
    if not isinstance(source, dict):
        kinds = ", ".join(str(kind) for kind in data_source) or "nothing"
        _fail(document, path, f"only S3DataSource can be fetched, not {kinds}")
    source_path = (*path, "S3DataSource")
    data_type = _text(document, source_path, source, "S3DataType") or "S3Prefix"
    if data_type != "S3Prefix":
        _fail(
            document,
            (*source_path, "S3DataType"),
            f"{data_type} data cannot be run locally yet; only S3Prefix",
        )
    uri = source.get("S3Uri")
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        _fail(document, (*source_path, "S3Uri"), f"{uri!r} is not an s3:// URI")
    try:
        parse_s3_uri(uri)
    except UsageError as exc:
        _fail(document, (*source_path, "S3Uri"), exc.message)
    return uri, source


def _hyperparameters(
    document: Document, path: JsonPath, job: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    values = _optional_mapping(document, path, job, "HyperParameters")
    for key, value in values.items():
        if not isinstance(value, str):
            _fail(
                document,
                (*path, "HyperParameters", key),
                f"expected a string here, not {value!r} (hyperparameter values are strings)",
            )
    return tuple(values.items())


def _safe_channel_name(name: str) -> bool:
    return bool(_CHANNEL_NAME.fullmatch(name)) and name not in {".", ".."}


def _mapping(document: Document, path: JsonPath, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        _fail(document, path, "expected an object here")
    return dict(value)


def _optional_mapping(
    document: Document, path: JsonPath, body: Mapping[str, Any], key: str
) -> Mapping[str, Any]:
    """Member `key` of `body`: an object, or {} when it is absent or null."""
    value = body.get(key)
    return {} if value is None else _mapping(document, (*path, key), value)


def _text(document: Document, path: JsonPath, body: Mapping[str, Any], key: str) -> str | None:
    """Member `key` of `body`: a string, or None when it is absent or null."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        _fail(document, (*path, key), f"expected a string here, not {value!r}")
    return value


def _integer(
    document: Document,
    path: JsonPath,
    body: Mapping[str, Any],
    key: str,
    minimum: int,
    maximum: int | None = None,
    why_maximum: str = "",
) -> int | None:
    """Member `key` of `body`: an integer >= minimum (and <= maximum, when given), or None
    when it is absent or null."""
    value = body.get(key)
    if value is None:
        return None
    # bool is an int to Python, never to SageMaker.
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        _fail(document, (*path, key), f"expected an integer >= {minimum} here, not {value!r}")
    if maximum is not None and value > maximum:
        _fail(
            document,
            (*path, key),
            f"expected an integer <= {maximum} here, not {value!r}",
            why_maximum or None,
        )
    return value


def _fail(document: Document, path: JsonPath, message: str, hint: str | None = None) -> NoReturn:
    # An absent member has no position: its nearest present parent is where to look.
    position = None
    for end in range(len(path), 0, -1):
        position = document.locate(path[:end])
        if position is not None:
            break
    where = f"{document.file}:{position.line}" if position else str(document.file)
    raise PlanError(
        f"{format_json_path(path)}: {message}",
        where=where,
        hint=hint or "`harness validate` checks the whole request",
    )
