"""`harness run REQUEST`: a CreateAlgorithm request whose ValidationSpecification points to S3,
turned into a plan so a seller can check an existing request locally before submitting it.

Each ValidationProfile becomes a plan profile emulating the instance type it names; its
channels and transform input are fetched (by the caller's `fetch`, boto3 in the CLI) into a
folder per profile. A ValidationProfile says nothing about real-time serving: the serving
checks then send the transform input's first lines, as for a plan without a `serving` section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from harness.documents import Document, JsonPath, format_json_path
from harness.errors import PlanError
from harness.plan import (
    DEFAULT_MAX_RUNTIME_SECONDS,
    ChannelPlan,
    Plan,
    ProfilePlan,
    TrainingPlan,
    TransformPlan,
)

Fetch = Callable[[str, Path], None]
"""fetch(s3_uri, folder): place every object under the S3Prefix `s3_uri` in `folder`."""


def has_validation_specification(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("ValidationSpecification"), dict)


def plan_from_request(
    document: Document, data_dir: Path, fetch: Fetch, profile_names: tuple[str, ...] = ()
) -> Plan:
    """The request's ValidationProfiles (those named, or all) as a plan; data under data_dir."""
    spec = document.data["ValidationSpecification"]
    profiles_value = spec.get("ValidationProfiles")
    if not isinstance(profiles_value, list) or not profiles_value:
        _fail(document, ("ValidationSpecification", "ValidationProfiles"), "no validation profile")
    profiles = []
    for index, body in enumerate(profiles_value):
        path: JsonPath = ("ValidationSpecification", "ValidationProfiles", index)
        if not isinstance(body, dict) or not isinstance(body.get("ProfileName"), str):
            _fail(document, path, "a validation profile needs a ProfileName")
        if profile_names and body["ProfileName"] not in profile_names:
            continue
        profiles.append(_profile(document, path, body, data_dir / body["ProfileName"], fetch))
    if not profiles:
        known = ", ".join(str(p.get("ProfileName")) for p in profiles_value if isinstance(p, dict))
        raise PlanError(
            f"no validation profile named {', '.join(profile_names)}",
            where=str(document.file),
            hint=f"one of {known}",
        )
    return Plan(document.file, document.file, tuple(profiles))


def _profile(
    document: Document, path: JsonPath, body: Mapping[str, Any], folder: Path, fetch: Fetch
) -> ProfilePlan:
    job_path = (*path, "TrainingJobDefinition")
    job = _mapping(document, job_path, body.get("TrainingJobDefinition"))
    resources = _mapping(document, (*job_path, "ResourceConfig"), job.get("ResourceConfig"))
    instance_type = resources.get("InstanceType")
    if not isinstance(instance_type, str):
        _fail(document, (*job_path, "ResourceConfig", "InstanceType"), "an instance type is needed")
    channels = []
    for index, channel in enumerate(job.get("InputDataConfig") or ()):
        channel_path = (*job_path, "InputDataConfig", index)
        name = channel.get("ChannelName") if isinstance(channel, dict) else None
        if not isinstance(name, str):
            _fail(document, channel_path, "a channel needs a ChannelName")
        source = _s3_source(document, (*channel_path, "DataSource"), channel.get("DataSource"))
        local = folder / "channels" / name
        fetch(source["S3Uri"], local)
        channels.append(
            ChannelPlan(
                name=name,
                path=local,
                content_type=channel.get("ContentType"),
                compression=channel.get("CompressionType") or "None",
                distribution=source.get("S3DataDistributionType") or "FullyReplicated",
                record_wrapper=channel.get("RecordWrapperType") or "None",
                input_mode=channel.get("InputMode"),
            )
        )
    if not channels:
        _fail(document, (*job_path, "InputDataConfig"), "declare at least one channel")
    stopping = job.get("StoppingCondition") or {}
    training = TrainingPlan(
        channels=tuple(channels),
        hyperparameters=tuple(
            (str(k), str(v)) for k, v in (job.get("HyperParameters") or {}).items()
        ),
        input_mode=job.get("TrainingInputMode") or "File",
        instance_count=int(resources.get("InstanceCount") or 1),
        max_runtime_seconds=int(stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS),
    )
    transform = None
    if isinstance(body.get("TransformJobDefinition"), dict):
        transform = _transform(
            document,
            (*path, "TransformJobDefinition"),
            body["TransformJobDefinition"],
            folder,
            fetch,
        )
    return ProfilePlan(str(body["ProfileName"]), (instance_type,), training, transform)


def _transform(
    document: Document, path: JsonPath, job: Mapping[str, Any], folder: Path, fetch: Fetch
) -> TransformPlan:
    transform_input = _mapping(document, (*path, "TransformInput"), job.get("TransformInput"))
    source = _s3_source(
        document, (*path, "TransformInput", "DataSource"), transform_input.get("DataSource")
    )
    local = folder / "transform-input"
    fetch(source["S3Uri"], local)
    output = job.get("TransformOutput") or {}
    return TransformPlan(
        input=local,
        content_type=transform_input.get("ContentType"),
        split_type=transform_input.get("SplitType") or "None",
        batch_strategy=job.get("BatchStrategy"),
        max_payload_mb=job.get("MaxPayloadInMB"),
        max_concurrent_transforms=job.get("MaxConcurrentTransforms"),
        accept=output.get("Accept"),
        assemble_with=output.get("AssembleWith") or "None",
        compression=transform_input.get("CompressionType") or "None",
    )


def _s3_source(document: Document, path: JsonPath, value: Any) -> Mapping[str, Any]:
    data_source = _mapping(document, path, value)
    source = data_source.get("S3DataSource")
    if not isinstance(source, dict):
        kinds = ", ".join(data_source) or "nothing"
        _fail(document, path, f"only S3DataSource can be fetched, not {kinds}")
    data_type = source.get("S3DataType", "S3Prefix")
    if data_type != "S3Prefix":
        _fail(
            document,
            (*path, "S3DataSource", "S3DataType"),
            f"{data_type} data cannot be run locally yet; only S3Prefix",
        )
    uri = source.get("S3Uri")
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        _fail(document, (*path, "S3DataSource", "S3Uri"), f"{uri!r} is not an s3:// URI")
    return source


def _mapping(document: Document, path: JsonPath, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        _fail(document, path, "expected an object here")
    return dict(value)


def _fail(document: Document, path: JsonPath, message: str) -> NoReturn:
    position = document.locate(path)
    where = f"{document.file}:{position.line}" if position else str(document.file)
    raise PlanError(
        f"{format_json_path(path)}: {message}",
        where=where,
        hint="`harness validate` checks the whole request",
    )
