"""SPEC-SEMANTICS for one job definition: a TrainingJobDefinition or TransformJobDefinition
against the request's TrainingSpecification and InferenceSpecification.

The definitions checked are a request's ValidationProfiles (check_semantics in semantics.py runs
these rules on each) and a plan's profiles translated by job_definitions.py (`harness validate
PLAN`), so the local run and the submitted request meet the same rules. As in semantics.py, a
member of the wrong type was already reported by SPEC-SCHEMA and is simply skipped here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.algorithm import hyperparameters
from harness.algorithm.findings import CheckId, Finding, error, warning
from harness.algorithm.suggest import did_you_mean
from harness.documents import JsonPath
from harness.plan_types import MAX_RUNTIME_SECONDS

_CHECK = CheckId.SPEC_SEMANTICS
# SageMaker's documented limit on one batch transform instance: concurrency x payload <= 100 MB.
MAX_TRANSFORM_MB_IN_FLIGHT = 100
DEFAULT_MAX_PAYLOAD_MB = 6


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


def check_training_job(request: dict[str, Any], job: Any, path: JsonPath) -> Iterator[Finding]:
    """A TrainingJobDefinition (at `path`) against the request's TrainingSpecification."""
    if not isinstance(job, dict):
        return
    training = _dict(request.get("TrainingSpecification"))
    specs = {
        c["Name"]: c
        for c in _list(training.get("TrainingChannels"))
        if isinstance(c, dict) and isinstance(c.get("Name"), str)
    }
    job_mode = job.get("TrainingInputMode")
    given: set[str] = set()
    for index, channel in enumerate(_list(job.get("InputDataConfig"))):
        if isinstance(channel, dict):
            yield from _check_job_channel(
                channel, job_mode, specs, given, (*path, "InputDataConfig", index)
            )
    for name, spec in specs.items():
        if spec.get("IsRequired") is True and name not in given:
            yield error(
                _CHECK,
                "required-channel",
                (*path, "InputDataConfig"),
                f"required training channel {name!r} has no entry in InputDataConfig",
            )
    yield from hyperparameters.check_values(
        training.get("SupportedHyperParameters"),
        job.get("HyperParameters"),
        (*path, "HyperParameters"),
    )
    yield from _check_resources(
        training, _dict(job.get("ResourceConfig")), (*path, "ResourceConfig")
    )
    yield from _check_stopping(_dict(job.get("StoppingCondition")), (*path, "StoppingCondition"))


def _check_stopping(stopping: dict[str, Any], path: JsonPath) -> Iterator[Finding]:
    """botocore's model gives MaxRuntimeInSeconds only a minimum (1); the API reference caps
    a training job at 28 days, and SageMaker refuses more."""
    runtime = stopping.get("MaxRuntimeInSeconds")
    if isinstance(runtime, int) and not isinstance(runtime, bool) and runtime > MAX_RUNTIME_SECONDS:
        yield error(
            _CHECK,
            "max-runtime",
            (*path, "MaxRuntimeInSeconds"),
            f"MaxRuntimeInSeconds {runtime} is above SageMaker's maximum of "
            f"{MAX_RUNTIME_SECONDS} (28 days)",
            f"use at most {MAX_RUNTIME_SECONDS}",
        )


def _check_job_channel(
    channel: dict[str, Any], job_mode: Any, specs: dict[str, Any], given: set[str], here: JsonPath
) -> Iterator[Finding]:
    name = channel.get("ChannelName")
    if not isinstance(name, str):
        return
    if name in given:
        yield error(
            _CHECK,
            "duplicate-channel",
            (*here, "ChannelName"),
            f"channel {name!r} appears twice in InputDataConfig",
        )
    given.add(name)
    spec = specs.get(name)
    if spec is None:
        yield error(
            _CHECK,
            "channel-known",
            (*here, "ChannelName"),
            f"channel {name!r} is not one of the TrainingChannels",
            did_you_mean(name, list(specs)),
        )
        return
    mode = channel.get("InputMode") or job_mode
    modes = _strings(spec.get("SupportedInputModes"))
    if isinstance(mode, str) and modes and mode not in modes:
        where = "InputMode" if channel.get("InputMode") else "ChannelName"
        yield error(
            _CHECK,
            "input-mode-supported",
            (*here, where),
            f"input mode {mode} is not among channel {name!r}'s SupportedInputModes "
            f"({', '.join(modes)})",
        )
    content_type = channel.get("ContentType")
    content_types = _strings(spec.get("SupportedContentTypes"))
    if isinstance(content_type, str) and content_types and content_type not in content_types:
        yield error(
            _CHECK,
            "content-type-supported",
            (*here, "ContentType"),
            f"content type {content_type!r} is not among channel {name!r}'s "
            f"SupportedContentTypes ({', '.join(content_types)})",
        )
    compression = channel.get("CompressionType", "None")
    compressions = _strings(spec.get("SupportedCompressionTypes")) or ["None"]
    if isinstance(compression, str) and compression not in compressions:
        yield error(
            _CHECK,
            "compression-supported",
            (*here, "CompressionType"),
            f"compression {compression} is not among channel {name!r}'s "
            f"SupportedCompressionTypes ({', '.join(compressions)})",
        )
    if compression == "Gzip" and mode == "File":
        yield warning(
            _CHECK,
            "compression-mode",
            (*here, "CompressionType"),
            "the API applies CompressionType only in Pipe mode; in File mode the "
            "container receives the .gz files as they are",
            "leave CompressionType unset or None in File mode",
        )
    sources = [key for key, value in _dict(channel.get("DataSource")).items() if value is not None]
    if len(sources) != 1:
        yield error(
            _CHECK,
            "one-data-source",
            (*here, "DataSource"),
            f"DataSource needs exactly one of S3DataSource, FileSystemDataSource and "
            f"DatasetSource; found {len(sources)}",
        )
    s3 = _dict(_dict(channel.get("DataSource")).get("S3DataSource"))
    if mode == "FastFile" and s3.get("S3DataType", "S3Prefix") != "S3Prefix":
        yield error(
            _CHECK,
            "fastfile-s3prefix",
            (*here, "DataSource", "S3DataSource", "S3DataType"),
            "FastFile input mode needs S3DataType S3Prefix",
        )


def _check_resources(
    training: dict[str, Any], resources: dict[str, Any], path: JsonPath
) -> Iterator[Finding]:
    supported = _strings(training.get("SupportedTrainingInstanceTypes"))
    instance_type = resources.get("InstanceType")
    if instance_type is None and not resources.get("InstanceGroups"):
        yield error(
            _CHECK,
            "instance-type-supported",
            path,
            "ResourceConfig sets neither InstanceType nor InstanceGroups",
        )
    elif isinstance(instance_type, str) and supported and instance_type not in supported:
        yield error(
            _CHECK,
            "instance-type-supported",
            (*path, "InstanceType"),
            f"{instance_type} is not among SupportedTrainingInstanceTypes",
            did_you_mean(instance_type, supported),
        )
    count = resources.get("InstanceCount")
    if isinstance(count, int) and not isinstance(count, bool):
        if count < 1:
            yield error(
                _CHECK,
                "instance-count",
                (*path, "InstanceCount"),
                "InstanceCount must be at least 1",
            )
        elif count > 1 and training.get("SupportsDistributedTraining") is not True:
            yield error(
                _CHECK,
                "instance-count",
                (*path, "InstanceCount"),
                f"InstanceCount is {count} but SupportsDistributedTraining is not true",
                "use InstanceCount 1, or declare SupportsDistributedTraining",
            )


def check_transform_job(
    request: dict[str, Any], profile: dict[str, Any], path: JsonPath
) -> Iterator[Finding]:
    job = profile.get("TransformJobDefinition")
    inference = request.get("InferenceSpecification")
    if not isinstance(job, dict):
        if isinstance(inference, dict):
            yield warning(
                _CHECK,
                "transform-profile",
                path,
                "the validation profile has no TransformJobDefinition, so SageMaker's "
                "validation will never run the inference image",
                "add a TransformJobDefinition",
            )
        return
    here = (*path, "TransformJobDefinition")
    if not isinstance(inference, dict):
        yield error(
            _CHECK,
            "transform-needs-inference",
            here,
            "a TransformJobDefinition needs an InferenceSpecification to run",
        )
        return
    content_type = _dict(job.get("TransformInput")).get("ContentType")
    accepted = _strings(inference.get("SupportedContentTypes"))
    if isinstance(content_type, str) and accepted and content_type not in accepted:
        yield error(
            _CHECK,
            "content-type-supported",
            (*here, "TransformInput", "ContentType"),
            f"content type {content_type!r} is not among the InferenceSpecification's "
            f"SupportedContentTypes ({', '.join(accepted)})",
        )
    accept = _dict(job.get("TransformOutput")).get("Accept")
    produced = _strings(inference.get("SupportedResponseMIMETypes"))
    if isinstance(accept, str) and produced and accept not in produced:
        yield error(
            _CHECK,
            "accept-supported",
            (*here, "TransformOutput", "Accept"),
            f"Accept {accept!r} is not among SupportedResponseMIMETypes ({', '.join(produced)})",
        )
    instance_type = _dict(job.get("TransformResources")).get("InstanceType")
    supported = _strings(inference.get("SupportedTransformInstanceTypes"))
    if isinstance(instance_type, str) and instance_type not in supported:
        yield error(
            _CHECK,
            "instance-type-supported",
            (*here, "TransformResources", "InstanceType"),
            f"{instance_type} is not among SupportedTransformInstanceTypes",
            did_you_mean(instance_type, supported),
        )
    yield from _check_transform_payload(job, here)


def _check_transform_payload(job: dict[str, Any], here: JsonPath) -> Iterator[Finding]:
    concurrency = job.get("MaxConcurrentTransforms") or 1  # 0 or unset: 1 (API reference)
    payload = job.get("MaxPayloadInMB")
    payload = DEFAULT_MAX_PAYLOAD_MB if payload is None else payload
    if isinstance(concurrency, int) and isinstance(payload, int):
        if payload > MAX_TRANSFORM_MB_IN_FLIGHT:
            yield error(
                _CHECK,
                "transform-payload",
                (*here, "MaxPayloadInMB"),
                f"MaxPayloadInMB {payload} is above SageMaker's maximum of 100",
            )
        elif concurrency * payload > MAX_TRANSFORM_MB_IN_FLIGHT:
            yield error(
                _CHECK,
                "transform-payload",
                (*here, "MaxConcurrentTransforms"),
                f"MaxConcurrentTransforms x MaxPayloadInMB = {concurrency} x {payload} "
                f"= {concurrency * payload} MB; SageMaker allows at most 100 MB",
            )
        if payload == 0:
            yield warning(
                _CHECK,
                "transform-payload",
                (*here, "MaxPayloadInMB"),
                "MaxPayloadInMB 0 sends each object with HTTP chunked encoding, which "
                "the container must support",
            )
    split = _dict(job.get("TransformInput")).get("SplitType", "None")
    if split == "None" and job.get("BatchStrategy") is not None:
        yield warning(
            _CHECK,
            "batch-strategy-effect",
            (*here, "BatchStrategy"),
            "BatchStrategy has no effect when SplitType is None: each object is sent whole",
            "set TransformInput.SplitType (e.g. Line) to batch records",
        )
