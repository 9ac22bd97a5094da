"""The requests and plans shipped under fixtures/ validate as their README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.algorithm.validate import validate_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.parametrize("name", ["minimal.json", "complete.yaml"])
def test_example_requests_validate_clean(name):
    result = validate_file(FIXTURES / "requests" / name)
    assert result.findings == ()


def test_aws_seller_template_is_caught_for_its_stale_keys():
    result = validate_file(FIXTURES / "requests/aws-marketplace-template.json")
    assert not result.ok
    assert sorted((f.rule, f.json_path) for f in result.findings) == [
        ("stale-template-key", "ValidationSpecification.ValidateForMarketplace"),
        ("stale-template-key", "ValidationSpecification.ValidationOutputS3Prefix"),
    ]


def test_reference_algorithm_and_its_plan_validate_without_errors():
    result = validate_file(FIXTURES / "algorithms/reference/harness.yaml")
    assert result.errors == ()
