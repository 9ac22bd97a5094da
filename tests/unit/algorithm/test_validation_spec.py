"""`harness spec`'s pure core: evidence read from a report, the ValidationProfile built from a
plan profile, and the reverse (a request's ValidationSpecification as a plan)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harness.algorithm.request_plan import plan_from_request
from harness.algorithm.validate import validate_request
from harness.algorithm.validation_spec import (
    build_spec,
    local_bytes,
    max_runtime_seconds,
    profile_evidence,
    transform_instance_type,
    volume_size_gb,
)
from harness.documents import parse_document
from harness.errors import PlanError
from harness.plan import load_plan

REFERENCE = Path(__file__).parents[3] / "fixtures" / "algorithms" / "reference"
DIGEST = "sha256:" + "ab" * 32
ROLE = "arn:aws:iam::123456789012:role/SageMakerValidation"


def _request() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REFERENCE / "algorithm.json").read_text())
    return data


def _report(request: dict[str, Any], **changes: Any) -> dict[str, Any]:
    image = request["TrainingSpecification"]["TrainingImage"]
    report: dict[str, Any] = {
        "interrupted": False,
        "errors": [],
        "images": [
            {"role": "training", "image": image, "resolved_digest": DIGEST},
            {"role": "inference[0]", "image": image, "resolved_digest": DIGEST},
        ],
        "runs": [
            {
                "profile": "smoke",
                "instance_type": "ml.m5.large",
                "training": {"duration_s": 130.2, "model_artifact": {"bytes": 700}},
            },
            {
                "profile": "smoke",
                "instance_type": "ml.t3.medium",
                "training": {"duration_s": 250.0, "model_artifact": {"bytes": 900}},
            },
            {"profile": "pipe", "instance_type": "ml.m5.large", "training": {"duration_s": 9e3}},
        ],
        "checks": [
            {"id": "SPEC-SCHEMA", "status": "pass", "profile": None, "message": "ok"},
            {"id": "TRAIN-EXIT", "status": "pass", "profile": "smoke", "message": "ok"},
            {
                "id": "TRAIN-METRICS",
                "status": "fail",
                "profile": "pipe",
                "instance_type": "ml.m5.large",
                "message": "no match",
            },
        ],
    }
    report.update(changes)
    return report


def test_evidence_of_a_passing_profile_ignores_other_profiles_failures() -> None:
    request = _request()
    evidence = profile_evidence(_report(request), "smoke", request)
    assert evidence.passed
    assert evidence.runs == 2
    assert evidence.longest_training_s == 250.0
    assert evidence.largest_model_bytes == 900
    assert evidence.digests == {"training": DIGEST, "inference[0]": DIGEST}


def test_evidence_names_each_failed_check_with_where_and_why() -> None:
    request = _request()
    evidence = profile_evidence(_report(request), "pipe", request)
    assert not evidence.passed
    assert evidence.not_passed == ("TRAIN-METRICS (fail) at pipe/ml.m5.large: no match",)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"interrupted": True}, "the run was interrupted"),
        ({"errors": ["Docker went away"]}, "harness error: Docker went away"),
        ({"images": []}, "the report has no verified digest for the training image"),
    ],
)
def test_an_incomplete_report_proves_nothing(changes: dict[str, Any], expected: str) -> None:
    request = _request()
    evidence = profile_evidence(_report(request, **changes), "smoke", request)
    assert not evidence.passed
    assert any(expected in problem for problem in evidence.report_problems)


def test_a_report_of_other_images_is_refused() -> None:
    request = _request()
    report = _report(request)
    request["TrainingSpecification"]["TrainingImage"] = "example.com/other:2"
    request["InferenceSpecification"]["Containers"][0]["ImageDigest"] = "sha256:" + "cd" * 32
    problems = profile_evidence(report, "smoke", request).report_problems
    assert any("tested" in p and "example.com/other:2" in p for p in problems)
    assert any("declares sha256:cdcd" in p and f"verified {DIGEST}" in p for p in problems)


def test_an_unknown_profile_has_no_runs() -> None:
    request = _request()
    assert not profile_evidence(_report(request), "nope", request).passed


def test_runtime_margin_volume_and_transform_type() -> None:
    assert max_runtime_seconds(250.0, 600) == 780  # 3 x 250 s, rounded up to a minute
    assert max_runtime_seconds(0.3, 600) == 600  # never under ten minutes
    assert max_runtime_seconds(1e9, 600) == 28 * 24 * 3600  # the API's maximum
    assert max_runtime_seconds(None, 1234) == 1234  # nothing measured: the plan's limit
    assert volume_size_gb(0, 0) == 1
    assert volume_size_gb(3 * 1024**3, 512 * 1024**2) == 8  # 2 x 3.5 GiB + 1
    request = {"InferenceSpecification": {"SupportedTransformInstanceTypes": ["ml.c5.xlarge"]}}
    assert transform_instance_type(request, "ml.m5.large") == "ml.c5.xlarge"
    assert transform_instance_type(request, "ml.c5.xlarge") == "ml.c5.xlarge"


def test_the_built_request_is_valid_pinned_and_keeps_everything_else() -> None:
    plan = load_plan(REFERENCE / "harness.yaml")
    profile = plan.profile("smoke")
    request = _request()
    original = copy.deepcopy(request)
    evidence = profile_evidence(_report(request), "smoke", request)
    draft = build_spec(request, plan, profile, evidence, "s3://bucket/seller/", ROLE, 10)
    assert request == original, "the input request is not modified"
    assert validate_request(draft.request) == []
    built = draft.request
    assert built["TrainingSpecification"]["TrainingImageDigest"] == DIGEST
    assert built["InferenceSpecification"]["Containers"][0]["ImageDigest"] == DIGEST
    for key in original:
        if key not in (
            "TrainingSpecification",
            "InferenceSpecification",
            "ValidationSpecification",
        ):
            assert built[key] == original[key]
    spec = built["ValidationSpecification"]
    assert spec["ValidationRole"] == ROLE
    (validation_profile,) = spec["ValidationProfiles"]
    training = validation_profile["TrainingJobDefinition"]
    assert training["HyperParameters"] == dict(profile.training.hyperparameters)
    assert training["ResourceConfig"] == {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 2,  # 2 x (10 bytes of data + 900 of model) + 1 GiB, rounded up
    }
    assert training["StoppingCondition"] == {"MaxRuntimeInSeconds": 780}
    uris = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in training["InputDataConfig"]
    }
    assert uris == {
        "training": "s3://bucket/seller/smoke/channels/training/",
        "validation": "s3://bucket/seller/smoke/channels/validation/",
    }
    transform = validation_profile["TransformJobDefinition"]
    assert transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://bucket/seller/smoke/transform-input/"
    )
    assert (
        transform["TransformOutput"]["S3OutputPath"] == "s3://bucket/seller/smoke/transform-output/"
    )
    assert [(u.local.name, u.s3_uri) for u in draft.uploads] == [
        ("training", "s3://bucket/seller/smoke/channels/training/"),
        ("validation", "s3://bucket/seller/smoke/channels/validation/"),
        ("batch", "s3://bucket/seller/smoke/transform-input/"),
    ]


def test_a_single_file_channel_is_addressed_as_its_object(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("1,2\n")
    plan_file = tmp_path / "harness.yaml"
    (tmp_path / "algorithm.json").write_text((REFERENCE / "algorithm.json").read_text())
    plan_file.write_text(
        "algorithm: algorithm.json\nprofiles:\n  - name: one\n    instance_types: [ml.m5.large]\n"
        "    training:\n      channels:\n"
        "        training: {path: train.csv, content_type: text/csv}\n"
    )
    plan = load_plan(plan_file)
    request = _request()
    evidence = profile_evidence(_report(request), "smoke", request)
    draft = build_spec(request, plan, plan.profiles[0], evidence, "s3://b/p", ROLE, 4)
    (channel,) = draft.request["ValidationSpecification"]["ValidationProfiles"][0][
        "TrainingJobDefinition"
    ]["InputDataConfig"]
    assert (
        channel["DataSource"]["S3DataSource"]["S3Uri"] == "s3://b/p/one/channels/training/train.csv"
    )
    assert local_bytes([data, tmp_path / "missing"]) == 4


def test_a_request_round_trips_to_a_plan(tmp_path: Path) -> None:
    plan = load_plan(REFERENCE / "harness.yaml")
    request = _request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(_report(request), "smoke", request),
        "s3://b/p",
        ROLE,
        10,
    )
    document = parse_document(json.dumps(draft.request, indent=2), tmp_path / "request.json")
    fetched: list[tuple[str, Path]] = []
    back = plan_from_request(
        document, tmp_path / "data", lambda uri, dest: fetched.append((uri, dest))
    )
    assert fetched == [
        ("s3://b/p/smoke/channels/training/", tmp_path / "data/smoke/channels/training"),
        ("s3://b/p/smoke/channels/validation/", tmp_path / "data/smoke/channels/validation"),
        ("s3://b/p/smoke/transform-input/", tmp_path / "data/smoke/transform-input"),
    ]
    (profile,) = back.profiles
    original = plan.profile("smoke")
    assert profile.instance_types == ("ml.m5.large",)
    assert profile.training.hyperparameters == original.training.hyperparameters
    assert [(c.name, c.content_type, c.distribution) for c in profile.training.channels] == [
        (c.name, c.content_type, c.distribution) for c in original.training.channels
    ]
    assert original.transform is not None
    assert profile.transform is not None
    assert profile.transform.split_type == original.transform.split_type
    assert profile.transform.batch_strategy == original.transform.batch_strategy
    assert profile.serving is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.update(ProfileName=None), "needs a ProfileName"),
        (
            lambda p: p["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"][
                "S3DataSource"
            ].update(S3DataType="ManifestFile"),
            "ManifestFile data cannot be run locally",
        ),
        (
            lambda p: p["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"][
                "S3DataSource"
            ].update(S3Uri="https://example.com/x"),
            "is not an s3:// URI",
        ),
        (lambda p: p["TrainingJobDefinition"].pop("ResourceConfig"), "expected an object"),
    ],
)
def test_a_request_that_cannot_be_run_locally_is_one_clear_error(
    tmp_path: Path, edit: Any, message: str
) -> None:
    plan = load_plan(REFERENCE / "harness.yaml")
    request = _request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(_report(request), "smoke", request),
        "s3://b/p",
        ROLE,
        10,
    )
    edit(draft.request["ValidationSpecification"]["ValidationProfiles"][0])
    document = parse_document(json.dumps(draft.request, indent=2), tmp_path / "request.json")
    with pytest.raises(PlanError, match=message) as caught:
        plan_from_request(document, tmp_path, lambda uri, dest: None)
    assert "request.json:" in caught.value.one_line()


def test_naming_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    plan = load_plan(REFERENCE / "harness.yaml")
    request = _request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(_report(request), "smoke", request),
        "s3://b/p",
        ROLE,
        10,
    )
    document = parse_document(json.dumps(draft.request), tmp_path / "request.json")
    with pytest.raises(PlanError, match="no validation profile named nope") as caught:
        plan_from_request(document, tmp_path, lambda uri, dest: None, ("nope",))
    assert caught.value.hint == "one of smoke"
