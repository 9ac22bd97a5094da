"""A request `harness spec` built, read back as a plan by `harness run REQUEST`
(harness/algorithm/request_plan.py): the same profile, the same data locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.algorithm.request_plan import plan_from_request
from harness.algorithm.validation_spec import build_spec, profile_evidence
from harness.documents import parse_document
from harness.errors import PlanError
from harness.plan import load_plan

from .spec_reports import REFERENCE, ROLE, passing_report, reference_request


def test_a_request_round_trips_to_a_plan(tmp_path: Path) -> None:
    plan = load_plan(REFERENCE / "harness.yaml")
    request = reference_request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(passing_report(request), plan.profile("smoke"), request),
        "s3://bucket/p",
        ROLE,
        10,
    )
    document = parse_document(json.dumps(draft.request, indent=2), tmp_path / "request.json")
    fetched: list[tuple[str, Path]] = []
    back = plan_from_request(
        document, tmp_path / "data", lambda uri, dest: fetched.append((uri, dest))
    )
    assert fetched == [
        ("s3://bucket/p/smoke/channels/training/", tmp_path / "data/smoke/channels/training"),
        ("s3://bucket/p/smoke/channels/validation/", tmp_path / "data/smoke/channels/validation"),
        ("s3://bucket/p/smoke/transform-input/", tmp_path / "data/smoke/transform-input"),
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
    request = reference_request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(passing_report(request), plan.profile("smoke"), request),
        "s3://bucket/p",
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
    request = reference_request()
    draft = build_spec(
        request,
        plan,
        plan.profile("smoke"),
        profile_evidence(passing_report(request), plan.profile("smoke"), request),
        "s3://bucket/p",
        ROLE,
        10,
    )
    document = parse_document(json.dumps(draft.request), tmp_path / "request.json")
    with pytest.raises(PlanError, match="no validation profile named nope") as caught:
        plan_from_request(document, tmp_path, lambda uri, dest: None, ("nope",))
    assert caught.value.hint == "one of smoke"
