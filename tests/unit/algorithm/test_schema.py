"""SPEC-SCHEMA: each kind of constraint of the API model, broken once and kept once."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import ShapeResolver

from harness.algorithm.findings import CheckId
from harness.algorithm.schema import check_schema


def test_complete_request_is_clean(request_dict, verdict):
    verdict(request_dict).clean()


def test_required_member_missing(request_dict, verdict):
    del request_dict["TrainingSpecification"]["TrainingChannels"]
    finding = verdict(request_dict).has("required", "TrainingSpecification.TrainingChannels")
    assert finding.check_id is CheckId.SPEC_SCHEMA


def test_unknown_member_with_did_you_mean(request_dict, verdict):
    request_dict["TrainingSpecification"]["SupportedTrainingInstanceType"] = ["ml.m5.large"]
    finding = verdict(request_dict).has(
        "unknown-member", "TrainingSpecification.SupportedTrainingInstanceType"
    )
    assert "did you mean 'SupportedTrainingInstanceTypes'" in (finding.hint or "")


def test_unknown_member_differing_only_in_case(request_dict, verdict):
    request_dict["algorithmName"] = "x"
    finding = verdict(request_dict).has("unknown-member", "algorithmName")
    assert "case-sensitive" in (finding.hint or "")


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        (("AlgorithmName",), 12, "type"),
        (("CertifyForMarketplace",), "true", "type"),
        (("TrainingSpecification", "MetricDefinitions"), {"Name": "x"}, "type"),
        (("TrainingSpecification",), [], "type"),
        (("Tags",), None, "type"),
    ],
    ids=["number-for-string", "string-for-boolean", "object-for-list", "list-for-object", "null"],
)
def test_wrong_types(request_dict, verdict, path, value, rule):
    target = request_dict
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    verdict(request_dict).has(rule, ".".join(path))


def test_integer_rejects_booleans_and_strings(request_dict, verdict):
    resources = request_dict["ValidationSpecification"]["ValidationProfiles"][0][
        "TrainingJobDefinition"
    ]["ResourceConfig"]
    resources["InstanceCount"] = True
    resources["VolumeSizeInGB"] = "10"
    base = "ValidationSpecification.ValidationProfiles[0].TrainingJobDefinition.ResourceConfig"
    result = verdict(request_dict)
    result.has("type", f"{base}.InstanceCount")
    result.has("type", f"{base}.VolumeSizeInGB")


def test_string_longer_than_max(request_dict, verdict):
    request_dict["AlgorithmName"] = "a" * 64
    finding = verdict(request_dict).has("max-length", "AlgorithmName")
    assert "64" in finding.message
    assert "63" in finding.message


def test_string_at_max_is_fine(request_dict, verdict):
    request_dict["AlgorithmName"] = "a" * 63
    verdict(request_dict).clean()


def test_string_shorter_than_min(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = ""
    verdict(request_dict).has("min-length", "TrainingSpecification.MetricDefinitions[0].Regex")


def test_metric_regex_over_500_characters(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = (
        "x" * 490 + "=(\\d+)" + "y" * 10
    )
    verdict(request_dict).has("max-length", "TrainingSpecification.MetricDefinitions[0].Regex")


def test_list_with_too_many_items(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"] = [
        {"Name": f"m{i}", "Regex": f"m{i}=(\\d+)"} for i in range(41)
    ]
    verdict(request_dict).has("max-length", "TrainingSpecification.MetricDefinitions")


def test_two_validation_profiles_are_refused_with_a_hint(request_dict, verdict):
    profiles = request_dict["ValidationSpecification"]["ValidationProfiles"]
    profiles.append({**profiles[0], "ProfileName": "second"})
    finding = verdict(request_dict).has("max-length", "ValidationSpecification.ValidationProfiles")
    assert "exactly one profile" in (finding.hint or "")


def test_map_with_too_many_entries_and_bad_key(request_dict, verdict):
    container = request_dict["InferenceSpecification"]["Containers"][0]
    container["Environment"] = {f"K{i}": "v" for i in range(101)}
    container["Environment"]["1BAD"] = "v"
    result = verdict(request_dict)
    result.has("max-length", "InferenceSpecification.Containers[0].Environment")
    finding = result.has("pattern", "InferenceSpecification.Containers[0].Environment.1BAD")
    assert finding.message.startswith("key:")


def test_number_above_max(request_dict, verdict):
    job = request_dict["ValidationSpecification"]["ValidationProfiles"][0]["TrainingJobDefinition"]
    job["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 99999
    verdict(request_dict).has(
        "max-value",
        "ValidationSpecification.ValidationProfiles[0].TrainingJobDefinition.ResourceConfig"
        ".KeepAlivePeriodInSeconds",
    )


def test_number_below_min(request_dict, verdict):
    job = request_dict["ValidationSpecification"]["ValidationProfiles"][0]["TrainingJobDefinition"]
    job["StoppingCondition"]["MaxPendingTimeInSeconds"] = 10
    verdict(request_dict).has(
        "min-value",
        "ValidationSpecification.ValidationProfiles[0].TrainingJobDefinition.StoppingCondition"
        ".MaxPendingTimeInSeconds",
    )


def test_enum_with_suggestion(request_dict, verdict):
    request_dict["TrainingSpecification"]["SupportedTrainingInstanceTypes"][0] = "ml.m5.larg"
    finding = verdict(request_dict).has(
        "enum", "TrainingSpecification.SupportedTrainingInstanceTypes[0]"
    )
    assert "TrainingInstanceType" in finding.message
    assert "'ml.m5.large'" in (finding.hint or "")


def test_small_enum_lists_its_values(request_dict, verdict):
    request_dict["TrainingSpecification"]["SupportedHyperParameters"][0]["Type"] = "Float"
    finding = verdict(request_dict).has(
        "enum", "TrainingSpecification.SupportedHyperParameters[0].Type"
    )
    assert "Integer, Continuous, Categorical, FreeText" in finding.message


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("my-algo", True),
        ("my--algo-1", True),
        ("a" * 63, True),
        ("-bad", False),
        ("bad-", False),
        ("bad_name", False),
        ("ok\n", False),
    ],
    ids=[
        "plain",
        "double-hyphen",
        "63-chars",
        "leading-hyphen",
        "trailing-hyphen",
        "underscore",
        "trailing-newline",
    ],
)
def test_patterns_use_full_match(request_dict, verdict, name, ok):
    request_dict["AlgorithmName"] = name
    result = verdict(request_dict)
    if ok:
        result.lacks("pattern")
    else:
        result.has("pattern", "AlgorithmName")


def test_unicode_property_classes_accept_letters_of_any_script(request_dict, verdict):
    request_dict["AlgorithmDescription"] = "Ünïcødé — résumé ✓ 日本語 🙂"
    verdict(request_dict).clean()


def test_unicode_property_classes_reject_control_characters(request_dict, verdict):
    request_dict["AlgorithmDescription"] = "two\nlines"
    finding = verdict(request_dict).has("pattern", "AlgorithmDescription")
    assert "newline" in (finding.hint or "")


def test_digest_pattern(request_dict, verdict):
    request_dict["TrainingSpecification"]["TrainingImageDigest"] = "sha256:xyz"
    finding = verdict(request_dict).has("pattern", "TrainingSpecification.TrainingImageDigest")
    assert "manifest digest" in (finding.hint or "")


def test_tag_key_pattern_with_property_classes(request_dict, verdict):
    request_dict["Tags"] = [{"Key": "ok key_1:/=+-@", "Value": "v"}, {"Key": "bad#", "Value": "v"}]
    result = verdict(request_dict)
    result.has("pattern", "Tags[1].Key")
    assert not [f for f in result.findings if f.json_path == "Tags[0].Key"]


def _resolver() -> ShapeResolver:
    shapes: dict[str, Any] = {
        "Input": {
            "type": "structure",
            "members": {
                "Choice": {"shape": "Choice"},
                "Ratio": {"shape": "Ratio"},
            },
        },
        "Choice": {
            "type": "structure",
            "union": True,
            "members": {
                "A": {"shape": "Text"},
                "B": {"shape": "Text"},
            },
        },
        "Ratio": {"type": "double", "min": 0, "max": 1},
        "Text": {"type": "string"},
    }
    return ShapeResolver(shapes)


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        ({"Choice": {"A": "x"}, "Ratio": 0.5}, []),
        ({"Choice": {"A": "x", "B": "y"}}, ["union"]),
        ({"Choice": {}}, ["union"]),
        ({"Ratio": 1.5}, ["max-value"]),
        ({"Ratio": "0.5"}, ["type"]),
    ],
    ids=["valid", "union-two", "union-none", "double-max", "double-type"],
)
def test_unions_and_doubles_in_a_synthetic_model(value, rules):
    shape = _resolver().get_shape_by_name("Input")
    assert [f.rule for f in check_schema(value, shape)] == rules  # type: ignore[arg-type]


def test_the_pinned_model_is_the_one_the_rules_were_written_against():
    # constraints.txt pins botocore 1.44.8: 225 training, 116 transform instance types.
    from harness.algorithm.service_model import botocore_version, enum_values

    assert botocore_version() == "1.44.8"
    assert len(enum_values("TrainingInstanceType")) == 225
    assert len(enum_values("TransformInstanceType")) == 116
