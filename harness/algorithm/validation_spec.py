"""`harness spec`: the CreateAlgorithm request with a ValidationSpecification built from what a
local run has just proven (pure: the CLI does the reading, the uploads and the writing).

The one ValidationProfile is the plan profile translated by `job_definitions` (the same
translation `harness validate PLAN` checks), with every local path replaced by the S3 URI it
will be uploaded to. Each location ends in "/" because S3Prefix matches key *prefixes*:
without it, a channel named `train` would also receive the objects of a channel `training`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.algorithm.job_definitions import training_job_definition, transform_job_definition
from harness.plan import ChannelPlan, Plan, ProfilePlan

GIB = 1024**3
MAX_RUNTIME_CAP_SECONDS = 28 * 24 * 3600  # StoppingCondition.MaxRuntimeInSeconds' maximum
RUNTIME_FLOOR_SECONDS = 600
RUNTIME_FACTOR = 3
"""SageMaker's validation instance is not this host: three times the longest local training,
and never under ten minutes, leaves room for a slower instance and the data download."""


@dataclass(frozen=True)
class Upload:
    """A local file or folder and the S3 location it goes to (a prefix ending in "/")."""

    local: Path
    s3_uri: str


REQUIRED_TRAINING_CHECKS = ("TRAIN-COMPLETES", "TRAIN-MODEL")
REQUIRED_TRANSFORM_CHECKS = ("TRANSFORM-OUTPUT",)
"""What SageMaker's validation runs: the training job, then the batch transform of its model.
A report proves a profile only if these passed on the instance type the request names."""


@dataclass(frozen=True)
class ProfileEvidence:
    """What a report proves about one plan profile: the reasons it does not (empty when it
    does), the measured training durations and artifact sizes, and the verified digests."""

    profile: str
    runs: int
    not_passed: tuple[str, ...]
    """`CHECK-ID (status) at profile/instance type: message` for each failed or errored check,
    run-wide checks included."""
    longest_training_s: float | None
    largest_artifact_bytes: int
    digests: Mapping[str, str]
    """Verified digest per image role ("training", "inference[0]", ...) of the images the
    request declares: only these may be pinned."""
    report_problems: tuple[str, ...] = ()
    """Why the report does not prove the profile apart from failed checks: interrupted, other
    images, a changed plan, a restricted run, required checks missing."""

    @property
    def passed(self) -> bool:
        return self.runs > 0 and not self.not_passed and not self.report_problems


@dataclass(frozen=True)
class SpecDraft:
    request: dict[str, Any]
    uploads: tuple[Upload, ...]


def profile_evidence(
    report: Mapping[str, Any],
    profile: ProfilePlan,
    request: Mapping[str, Any],
    plan_sha256: str | None = None,
    request_sha256: str | None = None,
    data_sha256: Mapping[str, str] | None = None,
) -> ProfileEvidence:
    """Read `profile`'s outcome from a parsed report.json (DESIGN §2).

    A report made for other images than `request` declares, for another version of the plan
    or the request (`plan_sha256`, `request_sha256`: the files' digests now), or by a run
    restricted with --only/--skip proves nothing about the request `harness spec` writes."""
    problems, digests = _image_evidence(report, request)
    if report.get("interrupted"):
        problems.append("the run was interrupted")
    problems += [f"harness error: {e}" for e in _list(report.get("errors"))]
    recorded_plan = report.get("plan_sha256")
    if plan_sha256 and isinstance(recorded_plan, str) and recorded_plan != plan_sha256:
        problems.append("the plan changed since the run: run it again")
    recorded_request = report.get("request_sha256")
    if request_sha256 and isinstance(recorded_request, str) and recorded_request != request_sha256:
        problems.append("the request changed since the run: run it again")
    options = report.get("options")
    if isinstance(options, dict):
        for option in ("only", "skip"):
            if _list(options.get(option)):
                values = ", ".join(map(str, _list(options[option])))
                problems.append(f"the run was restricted with --{option} {values}")
    checks = [c for c in _list(report.get("checks")) if isinstance(c, dict)]
    not_passed = []
    for check in checks:
        if check.get("profile") not in (None, profile.name):
            continue
        if check.get("status") in ("fail", "error"):
            where = (
                f" at {check['profile']}/{check.get('instance_type')}"
                if check.get("profile")
                else ""
            )
            not_passed.append(
                f"{check.get('id')} ({check['status']}){where}: {check.get('message')}"
            )
    runs = [
        r
        for r in _list(report.get("runs"))
        if isinstance(r, dict) and r.get("profile") == profile.name
    ]
    problems += _submitted_type_proven(profile, runs, checks)
    if data_sha256 is not None:
        problems += _data_changes(profile, runs, data_sha256)
    trainings = [r["training"] for r in runs if isinstance(r.get("training"), dict)]
    durations = [
        float(t["duration_s"])
        for t in trainings
        if isinstance(t.get("duration_s"), int | float) and 0 <= t["duration_s"] < 1e9
    ]
    return ProfileEvidence(
        profile=profile.name,
        runs=len(runs),
        not_passed=tuple(not_passed),
        longest_training_s=max(durations) if durations else None,
        largest_artifact_bytes=max(
            (
                _artifact_bytes(t, "model_artifact") + _artifact_bytes(t, "output_artifact")
                for t in trainings
            ),
            default=0,
        ),
        digests=digests,
        report_problems=tuple(problems),
    )


def _submitted_type_proven(
    profile: ProfilePlan, runs: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> list[str]:
    """The request names the profile's first instance type: it must have run, emulated, with
    every check SageMaker's validation relies on passing there."""
    instance_type = profile.instance_types[0]
    run = next((r for r in runs if r.get("instance_type") == instance_type), None)
    if run is None:
        return [
            f"the report has no run of profile {profile.name!r} on {instance_type}, the "
            "instance type the request names"
        ]
    if run.get("emulation") == "unavailable":
        return [f"{instance_type} could not be emulated on the host that ran it: nothing ran"]
    required: tuple[str, ...] = REQUIRED_TRAINING_CHECKS
    if profile.transform is not None:
        required += REQUIRED_TRANSFORM_CHECKS
    statuses = {
        str(c.get("id")): c.get("status")
        for c in checks
        if c.get("profile") == profile.name and c.get("instance_type") == instance_type
    }
    return [
        f"{check_id} did not pass on {profile.name}/{instance_type} "
        f"({statuses.get(check_id) or 'not run'})"
        for check_id in required
        if statuses.get(check_id) != "pass"
    ]


TRANSFORM_INPUT = "transform input"
"""The key of the transform input in `data_sha256` (channel names cannot contain a space)."""


def _data_changes(
    profile: ProfilePlan, runs: list[dict[str, Any]], data_sha256: Mapping[str, str]
) -> list[str]:
    """The channels (and transform input) whose files differ from those the run on the
    submitted instance type read: SageMaker must validate on the data that passed here."""
    run = next((r for r in runs if r.get("instance_type") == profile.instance_types[0]), None)
    if run is None:
        return []
    training = run.get("training")
    recorded = training.get("data_sha256") if isinstance(training, dict) else None
    transform = run.get("transform")
    recorded_input = transform.get("input_sha256") if isinstance(transform, dict) else None
    if not isinstance(recorded, dict):
        return []  # a report from before schema 1.1 records no data digests
    problems = []
    for name, digest in data_sha256.items():
        was = recorded_input if name == TRANSFORM_INPUT else recorded.get(name)
        if isinstance(was, str) and was != digest:
            problems.append(f"the {name} data changed since the run: run it again")
    return problems


def _artifact_bytes(training: Mapping[str, Any], key: str) -> int:
    artifact = training.get(key)
    size = artifact.get("bytes") if isinstance(artifact, dict) else None
    # A report is a file anyone can edit: no size beyond what a disk holds (1 PiB).
    return size if isinstance(size, int) and 0 <= size < 2**50 else 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _declared_images(request: Mapping[str, Any]) -> dict[str, tuple[str, str | None]]:
    """(image, declared digest) per role, named as report.json's images[].role names them."""
    declared: dict[str, tuple[str, str | None]] = {}
    training = request.get("TrainingSpecification")
    if isinstance(training, dict) and isinstance(training.get("TrainingImage"), str):
        declared["training"] = (training["TrainingImage"], training.get("TrainingImageDigest"))
    inference = request.get("InferenceSpecification")
    containers = inference.get("Containers") if isinstance(inference, dict) else None
    for index, container in enumerate(containers or ()):
        if isinstance(container, dict) and isinstance(container.get("Image"), str):
            declared[f"inference[{index}]"] = (container["Image"], container.get("ImageDigest"))
    return declared


def _image_evidence(
    report: Mapping[str, Any], request: Mapping[str, Any]
) -> tuple[list[str], dict[str, str]]:
    """Problems with the images the report verified, and the digests that may be pinned: those
    of images the request declares by the same reference, with no other digest declared."""
    verified = {str(i.get("role")): i for i in _list(report.get("images")) if isinstance(i, dict)}
    problems: list[str] = []
    digests: dict[str, str] = {}
    for role, (image, digest) in _declared_images(request).items():
        seen = verified.get(role)
        resolved = seen.get("resolved_digest") if seen else None
        if seen is None or not isinstance(resolved, str) or not resolved:
            problems.append(f"the report has no verified digest for the {role} image {image}")
        elif seen.get("image") != image:
            problems.append(
                f"the report tested {seen.get('image')} as the {role} image, not {image}"
            )
        elif isinstance(digest, str) and digest and digest.lower() != resolved.lower():
            problems.append(f"the {role} image declares {digest} but the run verified {resolved}")
        else:
            digests[role] = resolved
    return problems, digests


def max_runtime_seconds(longest_training_s: float | None, planned: int) -> int:
    """StoppingCondition from the measured duration with a margin (see RUNTIME_FACTOR); the
    plan's own limit when nothing was measured."""
    if longest_training_s is None:
        return min(planned, MAX_RUNTIME_CAP_SECONDS)
    seconds = max(RUNTIME_FLOOR_SECONDS, math.ceil(longest_training_s * RUNTIME_FACTOR / 60) * 60)
    return min(seconds, MAX_RUNTIME_CAP_SECONDS)


def volume_size_gb(data_bytes: int, model_bytes: int) -> int:
    """The ML storage volume holds the downloaded channels (File mode), the model and the
    output: twice the data and the model, plus 1 GiB of room, in whole GiB."""
    return math.ceil((2 * (data_bytes + model_bytes)) / GIB) + 1


def transform_instance_type(request: Mapping[str, Any], preferred: str) -> str:
    """The profile's first instance type when the algorithm supports it for transform, else
    the first supported transform instance type."""
    inference = request.get("InferenceSpecification") or {}
    supported = [str(t) for t in inference.get("SupportedTransformInstanceTypes") or ()]
    if not supported or preferred in supported:
        return preferred
    return supported[0]


def build_spec(
    request: Mapping[str, Any],
    plan: Plan,
    profile: ProfilePlan,
    evidence: ProfileEvidence,
    s3_prefix: str,
    role_arn: str,
    data_bytes: int,
) -> SpecDraft:
    """The request with its ValidationSpecification and verified digests; the rest is kept."""
    del plan  # the profile carries everything; kept in the signature for the error locations
    base = s3_prefix.rstrip("/") + f"/{profile.name}"
    uploads: list[Upload] = []

    def channel_uri(channel: ChannelPlan) -> str:
        return _location(channel.path, f"{base}/channels/{channel.name}/", uploads)

    instance_type = profile.instance_types[0]
    training = training_job_definition(
        profile,
        instance_type,
        channel_uri,
        f"{base}/training-output/",
        volume_size_gb(data_bytes, evidence.largest_artifact_bytes),
    )
    training["StoppingCondition"] = {
        "MaxRuntimeInSeconds": max_runtime_seconds(
            evidence.longest_training_s, profile.training.max_runtime_seconds
        )
    }
    validation_profile: dict[str, Any] = {
        "ProfileName": profile.name,
        "TrainingJobDefinition": training,
    }
    if profile.transform is not None:
        transform_input = _location(profile.transform.input, f"{base}/transform-input/", uploads)
        validation_profile["TransformJobDefinition"] = transform_job_definition(
            profile.transform,
            transform_instance_type(request, instance_type),
            transform_input,
            f"{base}/transform-output/",
        )
    result = copy.deepcopy(dict(request))
    _pin(result, evidence.digests)
    result["ValidationSpecification"] = {
        "ValidationRole": role_arn,
        "ValidationProfiles": [validation_profile],
    }
    return SpecDraft(result, _unique(uploads))


def _location(local: Path, prefix: str, uploads: list[Upload]) -> str:
    """A folder's prefix, or a single file's object key under it (S3Prefix of one object)."""
    uploads.append(Upload(local, prefix))
    return prefix if local.is_dir() else prefix + local.name


def _unique(uploads: Iterable[Upload]) -> tuple[Upload, ...]:
    return tuple(dict.fromkeys(uploads))


def _pin(request: dict[str, Any], digests: Mapping[str, str]) -> None:
    training = request.get("TrainingSpecification")
    if isinstance(training, dict) and "training" in digests:
        training["TrainingImageDigest"] = digests["training"]
    inference = request.get("InferenceSpecification")
    containers = inference.get("Containers") if isinstance(inference, dict) else None
    for index, container in enumerate(containers or ()):
        digest = digests.get(f"inference[{index}]")
        if isinstance(container, dict) and digest:
            container["ImageDigest"] = digest
