"""SPEC-SEMANTICS: the cross-field rules no schema can express.

Each rule reads the raw request defensively (a member of the wrong type was already reported by
SPEC-SCHEMA and is simply skipped here) and yields findings located by JSON path. The rules are
the ones SageMaker's SDK applies before a job against an algorithm runs, the ones the service
applies at CreateAlgorithm, and the traps sellers fall into (docs/checks.md lists each).

This module holds the request-wide rules. The rules for one TrainingJobDefinition or
TransformJobDefinition are in job_definition_rules.py: check_semantics runs them on each
ValidationProfile, and their names are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.algorithm import hyperparameters
from harness.algorithm.findings import CheckId, Finding, error, warning
from harness.algorithm.job_definition_rules import check_training_job, check_transform_job
from harness.algorithm.suggest import did_you_mean
from harness.documents import JsonPath
from harness.sagemaker.metric_regex import analyse_metric_regex

__all__ = ["check_semantics", "check_training_job", "check_transform_job"]

_CHECK = CheckId.SPEC_SEMANTICS
_TRAINING = ("TrainingSpecification",)
_INFERENCE = ("InferenceSpecification",)
_PLACEHOLDER = re.compile(r"REPLACE_ME|<[A-Z][A-Z0-9_]*>|\{\{[^}]*\}\}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
