"""SPEC-SEMANTICS: the cross-field rules no schema can express.

Each rule reads the raw request defensively (a member of the wrong type was already reported by
SPEC-SCHEMA and is simply skipped here) and yields findings located by JSON path. The rules are
the ones SageMaker's SDK applies before a job against an algorithm runs, the ones the service
applies at CreateAlgorithm, and the traps sellers fall into (docs/checks.md lists each).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.algorithm import hyperparameters
from harness.algorithm.findings import CheckId, Finding, error, warning
from harness.algorithm.suggest import did_you_mean
from harness.documents import JsonPath
from harness.sagemaker.metric_regex import analyse_metric_regex

_CHECK = CheckId.SPEC_SEMANTICS
_TRAINING = ("TrainingSpecification",)
_INFERENCE = ("InferenceSpecification",)
# SageMaker's documented limit on one batch transform instance: concurrency x payload <= 100 MB.
MAX_TRANSFORM_MB_IN_FLIGHT = 100
DEFAULT_MAX_PAYLOAD_MB = 6
_PLACEHOLDER = re.compile(r"REPLACE_ME|<[A-Z][A-Z0-9_]*>|\{\{[^}]*\}\}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


def check_semantics(request: Any) -> list[Finding]:
    """Every SPEC-SEMANTICS finding for a parsed CreateAlgorithm request."""
    if not isinstance(request, dict):
        return []
    training = _dict(request.get("TrainingSpecification"))
    findings: list[Finding] = []
    findings += hyperparameters.check_specifications(
        training.get("SupportedHyperParameters"), (*_TRAINING, "SupportedHyperParameters")
    )
    findings += _check_metrics(training)
    findings += _check_channels(training)
    findings += _check_images(request)
    findings += _check_inference(request)
    profiles = _list(_dict(request.get("ValidationSpecification")).get("ValidationProfiles"))
    for index, profile in enumerate(profiles):
        if isinstance(profile, dict):
            path: JsonPath = ("ValidationSpecification", "ValidationProfiles", index)
            findings += check_training_job(
                request, profile.get("TrainingJobDefinition"), (*path, "TrainingJobDefinition")
            )
            findings += check_transform_job(request, profile, path)
    findings += _check_marketplace(request)
    findings += _find_placeholders(request, ())
    return findings


def _check_metrics(training: dict[str, Any]) -> Iterator[Finding]:
    path = (*_TRAINING, "MetricDefinitions")
    names: dict[str, int] = {}
    for index, metric in enumerate(_list(training.get("MetricDefinitions"))):
        metric = _dict(metric)
        name, pattern = metric.get("Name"), metric.get("Regex")
        if isinstance(name, str):
            if name in names:
                yield error(
                    _CHECK,
                    "duplicate-metric",
                    (*path, index, "Name"),
                    f"metric {name!r} is already defined at index {names[name]}",
                )
            names.setdefault(name, index)
        if isinstance(pattern, str) and pattern:
            yield from _check_metric_regex(pattern, (*path, index, "Regex"))
    objectives_path = (*_TRAINING, "SupportedTuningJobObjectiveMetrics")
    for index, objective in enumerate(_list(training.get("SupportedTuningJobObjectiveMetrics"))):
        metric_name = _dict(objective).get("MetricName")
        if isinstance(metric_name, str) and metric_name not in names:
            yield error(
                _CHECK,
                "objective-metric-defined",
                (*objectives_path, index, "MetricName"),
                f"tuning objective {metric_name!r} is not one of the MetricDefinitions",
                did_you_mean(metric_name, list(names)) or "add a MetricDefinition with this Name",
            )


def _check_metric_regex(pattern: str, path: JsonPath) -> Iterator[Finding]:
    analysis = analyse_metric_regex(pattern)
    if analysis.compile_error is not None:
        yield error(
            _CHECK,
            "metric-regex-compiles",
            path,
            f"the regex does not compile: {analysis.compile_error}",
        )
        return
    if analysis.capture_groups != 1:
        yield warning(
            _CHECK,
            "metric-regex-one-group",
            path,
            f"the regex has {analysis.capture_groups} capture groups; SageMaker takes "
            "the value from the first one",
            "capture exactly the number, e.g. loss=([0-9.eE+-]+); use (?:...) for other groups",
        )
    if analysis.nested_quantifier is not None:
        yield warning(
            _CHECK,
            "metric-regex-catastrophic",
            path,
            f"'{analysis.nested_quantifier}' nests one unbounded quantifier in another: "
            "matching can take exponential time on some log lines",
            "remove the outer quantifier or make the inner part unambiguous",
        )
    if analysis.re2_error is not None:
        yield warning(
            _CHECK,
            "metric-regex-portable",
            path,
            f"the regex uses syntax a linear-time engine (RE2) rejects: {analysis.re2_error}",
            "SageMaker does not document its regex engine: lookarounds, backreferences and "
            "possessive or atomic groups may not work there; prefer plain groups and classes",
        )


def _check_channels(training: dict[str, Any]) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, channel in enumerate(_list(training.get("TrainingChannels"))):
        name = _dict(channel).get("Name")
        if isinstance(name, str):
            if name in seen:
                yield error(
                    _CHECK,
                    "duplicate-channel",
                    (*_TRAINING, "TrainingChannels", index, "Name"),
                    f"training channel {name!r} is declared twice",
                )
            seen.add(name)


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


def _check_images(request: dict[str, Any]) -> Iterator[Finding]:
    training = _dict(request.get("TrainingSpecification"))
    yield from _digest_agrees(
        training.get("TrainingImage"),
        training.get("TrainingImageDigest"),
        (*_TRAINING, "TrainingImageDigest"),
    )
    hostnames: set[str] = set()
    containers = _list(_dict(request.get("InferenceSpecification")).get("Containers"))
    for index, container in enumerate(containers):
        container = _dict(container)
        here = (*_INFERENCE, "Containers", index)
        if not container.get("Image"):
            yield error(_CHECK, "container-image", here, "the inference container names no Image")
        yield from _digest_agrees(
            container.get("Image"), container.get("ImageDigest"), (*here, "ImageDigest")
        )
        hostname = container.get("ContainerHostname")
        if isinstance(hostname, str):
            if hostname in hostnames:
                yield error(
                    _CHECK,
                    "container-hostname",
                    (*here, "ContainerHostname"),
                    f"ContainerHostname {hostname!r} is used by two containers",
                )
            hostnames.add(hostname)


def _digest_agrees(image: Any, digest: Any, path: JsonPath) -> Iterator[Finding]:
    if not isinstance(image, str) or not isinstance(digest, str) or "@" not in image:
        return
    pinned = image.rsplit("@", 1)[1]
    if pinned.lower() != digest.lower():
        yield error(
            _CHECK,
            "digest-agrees",
            path,
            f"the image reference is pinned to {pinned} but the digest says {digest}",
            "declare one digest: `harness images --pin` writes both",
        )


def _check_inference(request: dict[str, Any]) -> Iterator[Finding]:
    inference = request.get("InferenceSpecification")
    if not isinstance(inference, dict):
        return
    for key in ("SupportedContentTypes", "SupportedResponseMIMETypes"):
        if not inference.get(key):
            yield warning(
                _CHECK,
                "inference-types-declared",
                (*_INFERENCE, key),
                f"{key} is empty: buyers cannot tell what the model takes or returns",
            )
    if not inference.get("SupportedTransformInstanceTypes") and not inference.get(
        "SupportedRealtimeInferenceInstanceTypes"
    ):
        yield warning(
            _CHECK,
            "inference-types-declared",
            _INFERENCE,
            "neither SupportedTransformInstanceTypes nor "
            "SupportedRealtimeInferenceInstanceTypes is declared",
        )


def _check_marketplace(request: dict[str, Any]) -> Iterator[Finding]:
    if request.get("CertifyForMarketplace") is not True:
        return
    why = "CertifyForMarketplace needs"
    training = _dict(request.get("TrainingSpecification"))
    if not training.get("TrainingImageDigest"):
        yield error(
            _CHECK,
            "marketplace-digests",
            (*_TRAINING, "TrainingImageDigest"),
            f"{why} the training image's digest",
            "run `harness images --pin`",
        )
    inference = request.get("InferenceSpecification")
    if not isinstance(inference, dict):
        yield error(
            _CHECK,
            "marketplace-inference",
            ("CertifyForMarketplace",),
            f"{why} an InferenceSpecification: Marketplace algorithms need an inference image",
        )
    else:
        for index, container in enumerate(_list(inference.get("Containers"))):
            if not _dict(container).get("ImageDigest"):
                yield error(
                    _CHECK,
                    "marketplace-digests",
                    (*_INFERENCE, "Containers", index, "ImageDigest"),
                    f"{why} every inference container's ImageDigest",
                    "run `harness images --pin`",
                )
    if not isinstance(request.get("ValidationSpecification"), dict):
        yield error(
            _CHECK,
            "marketplace-validation",
            ("CertifyForMarketplace",),
            f"{why} a ValidationSpecification",
            "`harness spec` generates one",
        )


def _find_placeholders(value: Any, path: JsonPath) -> Iterator[Finding]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _find_placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _find_placeholders(item, (*path, index))
    elif isinstance(value, str) and (match := _PLACEHOLDER.search(value)):
        yield error(
            _CHECK,
            "placeholder",
            path,
            f"template placeholder {match.group()!r} was never replaced",
        )
