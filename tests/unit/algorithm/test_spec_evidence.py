"""What a report must show before `harness spec` writes a request from it, and the
ValidationProfile built from a plan profile (harness/algorithm/validation_spec.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.algorithm.validate import validate_request
from harness.algorithm.validation_spec import (
    ProfileEvidence,
    build_spec,
    max_runtime_seconds,
    profile_evidence,
    transform_instance_type,
    volume_size_gb,
)
from harness.plan import ProfilePlan, load_plan

from .spec_reports import DIGEST, REFERENCE, ROLE, passing_report, reference_request

PLAN = load_plan(REFERENCE / "harness.yaml")
SMOKE = PLAN.profile("smoke")


def _evidence(
    report: dict[str, Any], profile: ProfilePlan = SMOKE, plan_sha: str | None = None
) -> ProfileEvidence:
    return profile_evidence(report, profile, reference_request(), plan_sha)


def test_a_passing_run_proves_the_profile() -> None:
    evidence = _evidence(passing_report(reference_request()))
    assert evidence.passed, evidence.report_problems
    assert evidence.runs == 2
    assert evidence.longest_training_s == 250.0
    assert evidence.largest_artifact_bytes == 1000  # model + output of the larger run
    assert evidence.digests == {"training": DIGEST, "inference[0]": DIGEST}


def test_failed_checks_are_named_with_where_and_why() -> None:
    report = passing_report(reference_request())
    report["checks"][3]["status"] = "fail"
    report["checks"][3]["message"] = "no match"
    evidence = _evidence(report)
    assert not evidence.passed
    assert evidence.not_passed == ("TRAIN-METRICS (fail) at smoke/ml.m5.large: no match",)


def test_another_profiles_failure_does_not_count() -> None:
    report = passing_report(reference_request())
    report["checks"].append(
        {"id": "TRAIN-METRICS", "status": "fail", "profile": "pipe", "message": "x"}
    )
    assert _evidence(report).passed


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r.update(interrupted=True), "the run was interrupted"),
        (lambda r: r.update(errors=["Docker went away"]), "harness error: Docker went away"),
        (lambda r: r.update(images=[]), "no verified digest for the training image"),
        (
            lambda r: r["options"].update(only=["SPEC-"]),
            "the run was restricted with --only SPEC-",
        ),
        (
            lambda r: r["options"].update(skip=["TRAIN-COMPLETES"]),
            "the run was restricted with --skip TRAIN-COMPLETES",
        ),
        # --instance-type ml.c5.xlarge: the type the request names never ran.
        (
            lambda r: [run.update(instance_type="ml.c5.xlarge") for run in r["runs"]],
            "no run of profile 'smoke' on ml.m5.large",
        ),
        (
            lambda r: r["runs"][0].update(emulation="unavailable"),
            "ml.m5.large could not be emulated",
        ),
        (
            lambda r: r.update(checks=[c for c in r["checks"] if c["id"] != "TRANSFORM-OUTPUT"]),
            "TRANSFORM-OUTPUT did not pass on smoke/ml.m5.large (not run)",
        ),
        (
            lambda r: r["checks"][2].update(status="skip"),
            "TRAIN-MODEL did not pass on smoke/ml.m5.large (skip)",
        ),
    ],
)
def test_a_report_that_does_not_prove_the_profile(edit: Any, expected: str) -> None:
    report = passing_report(reference_request())
    edit(report)
    evidence = _evidence(report)
    assert not evidence.passed
    assert any(expected in problem for problem in evidence.report_problems), (
        evidence.report_problems
    )


def test_a_changed_plan_is_noticed() -> None:
    report = passing_report(reference_request(), plan_sha256="aa" * 32)
    assert _evidence(report, plan_sha="aa" * 32).passed
    changed = _evidence(report, plan_sha="bb" * 32)
    assert "the plan changed since the run: run it again" in changed.report_problems


def test_a_changed_request_is_noticed() -> None:
    request = reference_request()
    report = passing_report(request, request_sha256="aa" * 32)
    assert profile_evidence(report, SMOKE, request, None, "aa" * 32).passed
    changed = profile_evidence(report, SMOKE, request, None, "cc" * 32)
    assert "the request changed since the run: run it again" in changed.report_problems


@pytest.mark.parametrize("duration", [float("nan"), float("inf"), 1e308, -5.0])
def test_impossible_durations_and_sizes_in_a_report_are_ignored(duration: float) -> None:
    report = passing_report(reference_request())
    report["runs"][1]["training"]["duration_s"] = duration
    report["runs"][1]["training"]["model_artifact"]["bytes"] = 10**30
    evidence = _evidence(report)
    assert evidence.longest_training_s == 130.2
    assert evidence.largest_artifact_bytes == 800  # 700 + 100 of the other run


def test_a_profile_without_transform_needs_no_transform_check() -> None:
    pipe = PLAN.profile("pipe")
    report = passing_report(reference_request())
    for item in report["runs"] + report["checks"]:
        if item.get("profile") == "smoke":
            item["profile"] = "pipe"
    report["checks"] = [c for c in report["checks"] if c["id"] != "TRANSFORM-OUTPUT"]
    assert _evidence(report, pipe).passed


def test_a_malformed_report_is_no_proof_and_no_crash() -> None:
    report = {"checks": "x", "runs": [1, None], "images": {"a": 1}, "errors": "boom"}
    evidence = _evidence(report)
    assert not evidence.passed
    assert evidence.runs == 0


def test_only_digests_of_the_declared_images_are_pinned() -> None:
    request = reference_request()
    report = passing_report(request)
    request["TrainingSpecification"]["TrainingImage"] = "example.com/other:2"
    declared = "sha256:" + "cd" * 32
    request["InferenceSpecification"]["Containers"][0]["ImageDigest"] = declared
    evidence = profile_evidence(report, SMOKE, request)
    assert any("tested" in p and "example.com/other:2" in p for p in evidence.report_problems)
    assert any(f"declares {declared}" in p for p in evidence.report_problems)
    assert evidence.digests == {}
    # --force still writes the request, but never pins a digest onto an image it did not test.
    draft = build_spec(request, PLAN, SMOKE, evidence, "s3://b/p", ROLE, 10)
    assert "TrainingImageDigest" not in draft.request["TrainingSpecification"]
    assert draft.request["InferenceSpecification"]["Containers"][0]["ImageDigest"] == declared


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
    request = reference_request()
    original = copy.deepcopy(request)
    evidence = profile_evidence(passing_report(request), SMOKE, request)
    draft = build_spec(request, PLAN, SMOKE, evidence, "s3://bucket/seller/", ROLE, 10)
    assert request == original, "the input request is not modified"
    assert validate_request(draft.request) == []
    built = draft.request
    assert built["TrainingSpecification"]["TrainingImageDigest"] == DIGEST
    assert built["InferenceSpecification"]["Containers"][0]["ImageDigest"] == DIGEST
    for key in set(original) - {
        "TrainingSpecification",
        "InferenceSpecification",
        "ValidationSpecification",
    }:
        assert built[key] == original[key]
    spec = built["ValidationSpecification"]
    assert spec["ValidationRole"] == ROLE
    (validation_profile,) = spec["ValidationProfiles"]
    training = validation_profile["TrainingJobDefinition"]
    assert training["HyperParameters"] == dict(SMOKE.training.hyperparameters)
    assert training["ResourceConfig"] == {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 2,  # 2 x (10 bytes of data + 1000 of artifacts) + 1 GiB, rounded up
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
    assert transform["TransformOutput"]["S3OutputPath"] == (
        "s3://bucket/seller/smoke/transform-output/"
    )
    assert [(u.local.name, u.s3_uri) for u in draft.uploads] == [
        ("training", "s3://bucket/seller/smoke/channels/training/"),
        ("validation", "s3://bucket/seller/smoke/channels/validation/"),
        ("batch", "s3://bucket/seller/smoke/transform-input/"),
    ]


def test_a_single_file_channel_is_addressed_as_its_object(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("1,2\n")
    (tmp_path / "algorithm.json").write_text((REFERENCE / "algorithm.json").read_text())
    plan_file = tmp_path / "harness.yaml"
    plan_file.write_text(
        "algorithm: algorithm.json\nprofiles:\n  - name: one\n    instance_types: [ml.m5.large]\n"
        "    training:\n      channels:\n"
        "        training: {path: train.csv, content_type: text/csv}\n"
    )
    plan = load_plan(plan_file)
    request = reference_request()
    evidence = profile_evidence(passing_report(request), SMOKE, request)
    draft = build_spec(request, plan, plan.profiles[0], evidence, "s3://b/p", ROLE, 4)
    (channel,) = draft.request["ValidationSpecification"]["ValidationProfiles"][0][
        "TrainingJobDefinition"
    ]["InputDataConfig"]
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://b/p/one/channels/training/train.csv"
    )


def test_data_changed_since_the_run_is_noticed() -> None:
    report = passing_report(reference_request())
    report["runs"][0]["training"]["data_sha256"] = {"training": "aa" * 32, "validation": "bb" * 32}
    report["runs"][0]["transform"] = {"input_sha256": "cc" * 32}
    same = {"training": "aa" * 32, "validation": "bb" * 32, "transform input": "cc" * 32}
    assert profile_evidence(report, SMOKE, reference_request(), data_sha256=same).passed
    changed = dict(same, validation="00" * 32, **{"transform input": "11" * 32})
    problems = profile_evidence(
        report, SMOKE, reference_request(), data_sha256=changed
    ).report_problems
    assert "the validation data changed since the run: run it again" in problems
    assert "the transform input data changed since the run: run it again" in problems
    assert not any("training data" in p for p in problems)
