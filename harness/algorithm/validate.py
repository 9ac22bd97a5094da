"""`harness validate`: a CreateAlgorithm request, or a plan and the request it names, checked
statically (SPEC-PARSE, SPEC-SCHEMA, SPEC-SEMANTICS), each finding located in its file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.algorithm.findings import CheckId, Finding, Severity, error
from harness.algorithm.job_definitions import training_job_definition, transform_job_definition
from harness.algorithm.schema import check_schema
from harness.algorithm.semantics import check_semantics, check_training_job, check_transform_job
from harness.algorithm.service_model import botocore_version, create_algorithm_input
from harness.documents import Document, DocumentSyntaxError, JsonPath, load_document
from harness.plan import Plan, ProfilePlan, is_plan, plan_from_document


@dataclass(frozen=True)
class ValidationResult:
    """Everything `harness validate` found, in the order of the files and their lines."""

    request_file: Path
    plan_file: Path | None
    findings: tuple[Finding, ...]
    botocore_version: str

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_file(file: Path) -> ValidationResult:
    """Validate `file`, a request (JSON/YAML) or a plan. Raises UsageError/PlanError for a
    missing file or an invalid plan; a request that does not parse is a SPEC-PARSE finding."""
    try:
        document = load_document(file)
    except DocumentSyntaxError as exc:
        return ValidationResult(file, None, (_parse_finding(exc),), botocore_version())
    if not is_plan(document.data):
        findings = validate_request_document(document)
        return ValidationResult(file, None, tuple(findings), botocore_version())
    plan = plan_from_document(document)
    try:
        request_document = load_document(plan.algorithm)
    except DocumentSyntaxError as exc:
        return ValidationResult(plan.algorithm, file, (_parse_finding(exc),), botocore_version())
    findings = validate_request_document(request_document)
    findings += _locate(check_plan_against_request(plan, request_document.data), document)
    return ValidationResult(plan.algorithm, file, tuple(findings), botocore_version())


def validate_request(request: Any) -> list[Finding]:
    """SPEC-SCHEMA and SPEC-SEMANTICS findings for a parsed request (no positions)."""
    return check_schema(request, create_algorithm_input()) + check_semantics(request)


def validate_request_document(document: Document) -> list[Finding]:
    findings: list[Finding] = [
        error(
            CheckId.SPEC_PARSE,
            "duplicate-key",
            duplicate.path,
            "this key appears twice in its object; only the last value is kept",
            "remove one of them",
        )
        for duplicate in document.duplicate_keys
    ]
    if not isinstance(document.data, dict):
        findings.append(
            error(
                CheckId.SPEC_PARSE,
                "not-an-object",
                (),
                "a CreateAlgorithm request is a JSON/YAML object at the top level",
            )
        )
    else:
        findings += validate_request(document.data)
    return _locate(findings, document)


def _locate(findings: Iterable[Finding], document: Document) -> list[Finding]:
    return [f.located(document.file, document.locate(f.path)) for f in findings]


def _parse_finding(exc: DocumentSyntaxError) -> Finding:
    finding = error(CheckId.SPEC_PARSE, "syntax", (), exc.message, exc.hint)
    return finding.located(exc.file, exc.position)


def check_plan_against_request(plan: Plan, request: Any) -> list[Finding]:
    """Each plan profile checked as if it were the request's ValidationProfile.

    Findings are located in the plan (profiles[i].training.channels.NAME, ...)."""
    if not isinstance(request, dict):
        return []
    findings: dict[tuple[JsonPath, str], Finding] = {}
    for index, profile in enumerate(plan.profiles):
        for type_index, instance_type in enumerate(profile.instance_types):
            job = training_job_definition(
                profile,
                instance_type,
                lambda c: f"s3://harness-local/{c.name}",
                "s3://harness-local/output",
            )
            for finding in check_training_job(request, job, ("TrainingJobDefinition",)):
                path = _plan_path(finding.path, profile, index, type_index)
                findings.setdefault((path, finding.message), _moved(finding, path))
        if profile.transform is not None:
            job = transform_job_definition(
                profile.transform,
                profile.instance_types[0],
                "s3://harness-local/batch",
                "s3://harness-local/out",
            )
            for finding in check_transform_job(request, {"TransformJobDefinition": job}, ()):
                if finding.path[-1:] == ("InstanceType",):
                    continue  # the plan emulates training instance types for transform too
                path = _plan_path(finding.path, profile, index, 0)
                findings.setdefault((path, finding.message), _moved(finding, path))
    return list(findings.values())


def _moved(finding: Finding, path: JsonPath) -> Finding:
    return replace(finding, path=path)


_CHANNEL_KEYS = {
    "ContentType": "content_type",
    "CompressionType": "compression",
    "InputMode": "input_mode",
    "RecordWrapperType": "record_wrapper",
}
_TRANSFORM_KEYS = {
    "MaxConcurrentTransforms": "max_concurrent_transforms",
    "MaxPayloadInMB": "max_payload_mb",
    "BatchStrategy": "batch_strategy",
    "ContentType": "content_type",
    "Accept": "accept",
    "SplitType": "split_type",
    "AssembleWith": "assemble_with",
}


def _plan_path(path: JsonPath, profile: ProfilePlan, index: int, type_index: int) -> JsonPath:
    """Where in the plan the value behind a TrainingJobDefinition/TransformJobDefinition path
    came from."""
    base: JsonPath = ("profiles", index)
    head, rest = path[1:2], path[2:]
    section = path[0] if path else ""
    if section == "TransformJobDefinition":
        for part in reversed(path):
            if isinstance(part, str) and part in _TRANSFORM_KEYS:
                return (*base, "transform", _TRANSFORM_KEYS[part])
        return (*base, "transform")
    training: JsonPath = (*base, "training")
    if head == ("InputDataConfig",):
        if not rest or not isinstance(rest[0], int):
            return (*training, "channels")
        channel: JsonPath = (*training, "channels", profile.training.channels[rest[0]].name)
        key = rest[1] if len(rest) > 1 else None
        if key == "DataSource":
            return (*channel, "distribution")
        return (*channel, _CHANNEL_KEYS[key]) if key in _CHANNEL_KEYS else channel
    if head == ("HyperParameters",):
        return (*training, "hyperparameters", *rest)
    if head == ("ResourceConfig",):
        if rest[:1] == ("InstanceType",):
            return (*base, "instance_types", type_index)
        if rest[:1] == ("InstanceCount",):
            return (*training, "instance_count")
    if head == ("StoppingCondition",):
        return (*training, "max_runtime_seconds")
    return training
