"""SPEC-SEMANTICS: every cross-field rule, broken once (it fires) and kept once (it stays quiet)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.algorithm.findings import CheckId
from harness.algorithm.validate import check_plan_against_request
from harness.plan import load_plan

HP = "TrainingSpecification.SupportedHyperParameters"
PROFILE = "ValidationSpecification.ValidationProfiles[0]"
JOB = f"{PROFILE}.TrainingJobDefinition"
TRANSFORM = f"{PROFILE}.TransformJobDefinition"


def _hp(request, name):
    return next(
        s for s in request["TrainingSpecification"]["SupportedHyperParameters"] if s["Name"] == name
    )


def _job(request):
    return request["ValidationSpecification"]["ValidationProfiles"][0]["TrainingJobDefinition"]


def _transform(request):
    return request["ValidationSpecification"]["ValidationProfiles"][0]["TransformJobDefinition"]


# --- hyperparameter specifications -----------------------------------------------------------


def test_duplicate_hyperparameter_name(request_dict, verdict):
    specs = request_dict["TrainingSpecification"]["SupportedHyperParameters"]
    specs.append(dict(specs[0]))
    finding = verdict(request_dict).has("duplicate-hyperparameter", f"{HP}[4].Name")
    assert finding.check_id is CheckId.SPEC_SEMANTICS


def test_range_kind_must_match_type(request_dict, verdict):
    _hp(request_dict, "num_round")["Type"] = "Continuous"
    verdict(request_dict).has(
        "hyperparameter-range", f"{HP}[0].Range.IntegerParameterRangeSpecification"
    )


def test_freetext_takes_no_range(request_dict, verdict):
    _hp(request_dict, "notes")["Range"] = {
        "CategoricalParameterRangeSpecification": {"Values": ["a"]}
    }
    finding = verdict(request_dict).has(
        "hyperparameter-range", f"{HP}[3].Range.CategoricalParameterRangeSpecification"
    )
    assert "FreeText" in (finding.hint or "")


def test_two_ranges_in_one_spec(request_dict, verdict):
    _hp(request_dict, "num_round")["Range"]["ContinuousParameterRangeSpecification"] = {
        "MinValue": "0",
        "MaxValue": "1",
    }
    verdict(request_dict).has("hyperparameter-range", f"{HP}[0].Range")


def test_min_greater_than_max(request_dict, verdict):
    _hp(request_dict, "num_round")["Range"]["IntegerParameterRangeSpecification"] = {
        "MinValue": "10",
        "MaxValue": "2",
    }
    result = verdict(request_dict)
    result.has("hyperparameter-range", f"{HP}[0].Range.IntegerParameterRangeSpecification.MinValue")
    result.lacks("hyperparameter-default")


def test_range_bound_that_is_not_a_number(request_dict, verdict):
    _hp(request_dict, "eta")["Range"]["ContinuousParameterRangeSpecification"]["MaxValue"] = "big"
    verdict(request_dict).has(
        "hyperparameter-range", f"{HP}[1].Range.ContinuousParameterRangeSpecification.MaxValue"
    )


def test_exponent_bounds_are_valid_continuous_values(request_dict, verdict):
    assert (
        _hp(request_dict, "eta")["Range"]["ContinuousParameterRangeSpecification"]["MinValue"]
        == "1e-4"
    )
    verdict(request_dict).clean()


def test_tunable_freetext(request_dict, verdict):
    _hp(request_dict, "notes")["IsTunable"] = True
    verdict(request_dict).has("tunable-needs-range", f"{HP}[3].IsTunable")


def test_required_with_default(request_dict, verdict):
    _hp(request_dict, "num_round")["IsRequired"] = True
    verdict(request_dict).has("required-with-default", f"{HP}[0].DefaultValue")


@pytest.mark.parametrize(
    ("name", "default"),
    [("num_round", "0"), ("num_round", "1.5"), ("eta", "2.0"), ("eta", "abc")],
    ids=[
        "integer-below-range",
        "integer-not-integer",
        "continuous-above-range",
        "continuous-not-number",
    ],
)
def test_default_outside_range_or_mistyped(request_dict, verdict, name, default):
    _hp(request_dict, name)["DefaultValue"] = default
    index = 0 if name == "num_round" else 1
    verdict(request_dict).has("hyperparameter-default", f"{HP}[{index}].DefaultValue")


def test_categorical_default_must_be_a_value(request_dict, verdict):
    spec = _hp(request_dict, "objective")
    spec["IsRequired"] = False
    spec["DefaultValue"] = "multi:softmax"
    verdict(request_dict).has("hyperparameter-default", f"{HP}[2].DefaultValue")
    spec["DefaultValue"] = "binary:logistic"
    verdict(request_dict).lacks("hyperparameter-default")


def test_categorical_values_listed_twice(request_dict, verdict):
    _hp(request_dict, "objective")["Range"]["CategoricalParameterRangeSpecification"]["Values"] = [
        "a",
        "a",
    ]
    _job(request_dict)["HyperParameters"]["objective"] = "a"
    verdict(request_dict).has(
        "hyperparameter-range",
        f"{HP}[2].Range.CategoricalParameterRangeSpecification.Values",
        "warning",
    )


# --- metrics and objectives -----------------------------------------------------------------

MD = "TrainingSpecification.MetricDefinitions"


def test_duplicate_metric_name(request_dict, verdict):
    metrics = request_dict["TrainingSpecification"]["MetricDefinitions"]
    metrics.append(dict(metrics[0]))
    verdict(request_dict).has("duplicate-metric", f"{MD}[2].Name")


def test_metric_regex_must_compile(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = "loss=([0-9"
    verdict(request_dict).has("metric-regex-compiles", f"{MD}[0].Regex")


@pytest.mark.parametrize(
    "pattern", ["loss=[0-9.]+", "(loss)=([0-9.]+)"], ids=["no-group", "two-groups"]
)
def test_metric_regex_needs_exactly_one_group(request_dict, verdict, pattern):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = pattern
    verdict(request_dict).has("metric-regex-one-group", f"{MD}[0].Regex", "warning")


def test_non_capturing_groups_do_not_count(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = (
        "(?:train|trn)-error:([0-9.]+)"
    )
    verdict(request_dict).clean()


def test_catastrophic_metric_regex(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = "error:((\\d+)*)+x"
    verdict(request_dict).has("metric-regex-catastrophic", f"{MD}[0].Regex", "warning")


def test_metric_regex_outside_re2_is_a_portability_warning(request_dict, verdict):
    request_dict["TrainingSpecification"]["MetricDefinitions"][0]["Regex"] = (
        "train-error:(?=\\d)([0-9.]+)"
    )
    verdict(request_dict).has("metric-regex-portable", f"{MD}[0].Regex", "warning")


def test_plain_metric_regexes_are_portable(request_dict, verdict):
    verdict(request_dict).lacks("metric-regex-portable")


def test_objective_metric_must_be_defined(request_dict, verdict):
    request_dict["TrainingSpecification"]["SupportedTuningJobObjectiveMetrics"][0]["MetricName"] = (
        "validation:eror"
    )
    finding = verdict(request_dict).has(
        "objective-metric-defined",
        "TrainingSpecification.SupportedTuningJobObjectiveMetrics[0].MetricName",
    )
    assert "validation:error" in (finding.hint or "")


# --- the validation profile's training job ----------------------------------------------------


def test_duplicate_training_channel_in_spec(request_dict, verdict):
    channels = request_dict["TrainingSpecification"]["TrainingChannels"]
    channels.append(dict(channels[1]))
    verdict(request_dict).has("duplicate-channel", "TrainingSpecification.TrainingChannels[2].Name")


def test_unknown_channel(request_dict, verdict):
    _job(request_dict)["InputDataConfig"][0]["ChannelName"] = "training"
    result = verdict(request_dict)
    finding = result.has("channel-known", f"{JOB}.InputDataConfig[0].ChannelName")
    assert "'train'" in (finding.hint or "")
    result.has("required-channel", f"{JOB}.InputDataConfig")


def test_channel_listed_twice(request_dict, verdict):
    channels = _job(request_dict)["InputDataConfig"]
    channels.append(dict(channels[0]))
    verdict(request_dict).has("duplicate-channel", f"{JOB}.InputDataConfig[1].ChannelName")


def test_input_mode_not_supported_by_channel(request_dict, verdict):
    _job(request_dict)["TrainingInputMode"] = "FastFile"
    verdict(request_dict).has("input-mode-supported", f"{JOB}.InputDataConfig[0].ChannelName")


def test_channel_input_mode_overrides_the_job(request_dict, verdict):
    _job(request_dict)["TrainingInputMode"] = "FastFile"
    _job(request_dict)["InputDataConfig"][0]["InputMode"] = "Pipe"
    verdict(request_dict).clean()


def test_content_type_not_supported(request_dict, verdict):
    _job(request_dict)["InputDataConfig"][0]["ContentType"] = "application/json"
    verdict(request_dict).has("content-type-supported", f"{JOB}.InputDataConfig[0].ContentType")


def test_compression_not_supported(request_dict, verdict):
    request_dict["TrainingSpecification"]["TrainingChannels"][0]["SupportedCompressionTypes"] = [
        "None"
    ]
    _job(request_dict)["TrainingInputMode"] = "Pipe"
    _job(request_dict)["InputDataConfig"][0]["CompressionType"] = "Gzip"
    verdict(request_dict).has("compression-supported", f"{JOB}.InputDataConfig[0].CompressionType")


def test_gzip_in_file_mode_is_a_warning(request_dict, verdict):
    _job(request_dict)["InputDataConfig"][0]["CompressionType"] = "Gzip"
    result = verdict(request_dict)
    result.has("compression-mode", f"{JOB}.InputDataConfig[0].CompressionType", "warning")
    result.lacks("compression-supported")


def test_channel_needs_exactly_one_data_source(request_dict, verdict):
    _job(request_dict)["InputDataConfig"][0]["DataSource"]["FileSystemDataSource"] = {
        "FileSystemId": "fs-12345678",
        "FileSystemAccessMode": "ro",
        "FileSystemType": "EFS",
        "DirectoryPath": "/data",
    }
    verdict(request_dict).has("one-data-source", f"{JOB}.InputDataConfig[0].DataSource")


def test_fastfile_needs_s3_prefix(request_dict, verdict):
    request_dict["TrainingSpecification"]["TrainingChannels"][0]["SupportedInputModes"].append(
        "FastFile"
    )
    _job(request_dict)["TrainingInputMode"] = "FastFile"
    _job(request_dict)["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = (
        "ManifestFile"
    )
    verdict(request_dict).has(
        "fastfile-s3prefix", f"{JOB}.InputDataConfig[0].DataSource.S3DataSource.S3DataType"
    )


def test_unknown_hyperparameter_in_profile(request_dict, verdict):
    _job(request_dict)["HyperParameters"]["num_rounds"] = "5"
    finding = verdict(request_dict).has(
        "hyperparameter-unknown", f"{JOB}.HyperParameters.num_rounds"
    )
    assert "'num_round'" in (finding.hint or "")


@pytest.mark.parametrize(
    ("name", "value"),
    [("num_round", "ten"), ("num_round", "5000"), ("objective", "multi:softmax"), ("eta", "1e9")],
    ids=["not-integer", "above-range", "not-a-category", "continuous-above-range"],
)
def test_profile_hyperparameter_values_are_typed_and_in_range(request_dict, verdict, name, value):
    _job(request_dict)["HyperParameters"][name] = value
    verdict(request_dict).has("hyperparameter-value", f"{JOB}.HyperParameters.{name}")


def test_freetext_values_are_not_checked(request_dict, verdict):
    _job(request_dict)["HyperParameters"]["notes"] = "anything at all"
    verdict(request_dict).clean()


def test_required_hyperparameter_missing_from_profile(request_dict, verdict):
    del _job(request_dict)["HyperParameters"]["objective"]
    finding = verdict(request_dict).has("hyperparameter-required", f"{JOB}.HyperParameters")
    assert "'objective'" in finding.message


def test_training_instance_type_not_supported(request_dict, verdict):
    _job(request_dict)["ResourceConfig"]["InstanceType"] = "ml.p3.2xlarge"
    verdict(request_dict).has("instance-type-supported", f"{JOB}.ResourceConfig.InstanceType")


def test_resource_config_without_instance_type(request_dict, verdict):
    del _job(request_dict)["ResourceConfig"]["InstanceType"]
    verdict(request_dict).has("instance-type-supported", f"{JOB}.ResourceConfig")


def test_several_instances_need_distributed_training(request_dict, verdict):
    _job(request_dict)["ResourceConfig"]["InstanceCount"] = 2
    verdict(request_dict).clean()
    request_dict["TrainingSpecification"]["SupportsDistributedTraining"] = False
    verdict(request_dict).has("instance-count", f"{JOB}.ResourceConfig.InstanceCount")


def test_zero_instances(request_dict, verdict):
    _job(request_dict)["ResourceConfig"]["InstanceCount"] = 0
    verdict(request_dict).has("instance-count", f"{JOB}.ResourceConfig.InstanceCount")


def test_max_runtime_above_28_days(request_dict, verdict):
    # botocore's model has only the minimum (1); the API reference caps a job at 28 days.
    _job(request_dict)["StoppingCondition"] = {"MaxRuntimeInSeconds": 2419200}
    verdict(request_dict).lacks("max-runtime")
    _job(request_dict)["StoppingCondition"] = {"MaxRuntimeInSeconds": 2419201}
    finding = verdict(request_dict).has(
        "max-runtime", f"{JOB}.StoppingCondition.MaxRuntimeInSeconds"
    )
    assert "2419200" in finding.message


def test_a_plan_profile_above_28_days_is_flagged_in_the_plan():
    """A Plan built in code (the loader refuses the value first) still meets the rule, located
    at the plan's key."""
    reference = Path(__file__).parents[3] / "fixtures/algorithms/reference"
    plan = load_plan(reference / "harness.yaml")
    request = json.loads((reference / "algorithm.json").read_text())
    smoke = plan.profiles[0]
    long = replace(smoke, training=replace(smoke.training, max_runtime_seconds=2419201))
    findings = check_plan_against_request(replace(plan, profiles=(long,)), request)
    runtime = [f for f in findings if f.rule == "max-runtime"]
    assert [f.path for f in runtime] == [("profiles", 0, "training", "max_runtime_seconds")]


# --- the validation profile's transform job ---------------------------------------------------


def test_profile_without_transform_is_a_warning(request_dict, verdict):
    del request_dict["ValidationSpecification"]["ValidationProfiles"][0]["TransformJobDefinition"]
    verdict(request_dict).has("transform-profile", PROFILE, "warning")


def test_transform_without_inference_specification(request_dict, verdict):
    del request_dict["InferenceSpecification"]
    request_dict["CertifyForMarketplace"] = False
    verdict(request_dict).has("transform-needs-inference", TRANSFORM)


def test_transform_content_type_and_accept_supported(request_dict, verdict):
    _transform(request_dict)["TransformInput"]["ContentType"] = "application/json"
    _transform(request_dict)["TransformOutput"]["Accept"] = "application/json"
    result = verdict(request_dict)
    result.has("content-type-supported", f"{TRANSFORM}.TransformInput.ContentType")
    result.has("accept-supported", f"{TRANSFORM}.TransformOutput.Accept")


def test_transform_instance_type_supported(request_dict, verdict):
    _transform(request_dict)["TransformResources"]["InstanceType"] = "ml.m5.xlarge"
    verdict(request_dict).has(
        "instance-type-supported", f"{TRANSFORM}.TransformResources.InstanceType"
    )


@pytest.mark.parametrize(
    ("concurrency", "payload", "path"),
    [
        (20, 6, "MaxConcurrentTransforms"),
        (1, 101, "MaxPayloadInMB"),
        (None, 20, None),
        (0, 100, None),
        (17, None, "MaxConcurrentTransforms"),
    ],
    ids=[
        "product-120",
        "payload-101",
        "default-concurrency-1",
        "zero-means-one",
        "default-payload-6",
    ],
)
def test_concurrency_times_payload_at_most_100(request_dict, verdict, concurrency, payload, path):
    job = _transform(request_dict)
    for key, value in (("MaxConcurrentTransforms", concurrency), ("MaxPayloadInMB", payload)):
        if value is None:
            job.pop(key, None)
        else:
            job[key] = value
    result = verdict(request_dict)
    if path is None:
        result.lacks("transform-payload")
    else:
        result.has("transform-payload", f"{TRANSFORM}.{path}")


def test_payload_zero_means_chunked(request_dict, verdict):
    _transform(request_dict)["MaxPayloadInMB"] = 0
    verdict(request_dict).has("transform-payload", f"{TRANSFORM}.MaxPayloadInMB", "warning")


def test_batch_strategy_without_split(request_dict, verdict):
    _transform(request_dict)["TransformInput"]["SplitType"] = "None"
    verdict(request_dict).has("batch-strategy-effect", f"{TRANSFORM}.BatchStrategy", "warning")


# --- images, inference, Marketplace, templates -------------------------------------------------


def test_container_without_image(request_dict, verdict):
    del request_dict["InferenceSpecification"]["Containers"][0]["Image"]
    verdict(request_dict).has("container-image", "InferenceSpecification.Containers[0]")


def test_pinned_reference_and_digest_must_agree(request_dict, verdict):
    spec = request_dict["TrainingSpecification"]
    spec["TrainingImage"] += "@sha256:" + "0" * 64
    verdict(request_dict).has("digest-agrees", "TrainingSpecification.TrainingImageDigest")
    spec["TrainingImage"] = spec["TrainingImage"].split("@")[0] + "@" + spec["TrainingImageDigest"]
    verdict(request_dict).clean()


def test_container_hostnames_unique(request_dict, verdict):
    containers = request_dict["InferenceSpecification"]["Containers"]
    containers[0]["ContainerHostname"] = "step"
    containers.append(dict(containers[0]))
    verdict(request_dict).has(
        "container-hostname", "InferenceSpecification.Containers[1].ContainerHostname"
    )


def test_inference_without_declared_types(request_dict, verdict):
    del request_dict["InferenceSpecification"]["SupportedResponseMIMETypes"]
    verdict(request_dict).has(
        "inference-types-declared", "InferenceSpecification.SupportedResponseMIMETypes", "warning"
    )


@pytest.mark.parametrize(
    ("remove", "rule", "path"),
    [
        (
            ("TrainingSpecification", "TrainingImageDigest"),
            "marketplace-digests",
            "TrainingSpecification.TrainingImageDigest",
        ),
        (
            ("InferenceSpecification", "Containers", 0, "ImageDigest"),
            "marketplace-digests",
            "InferenceSpecification.Containers[0].ImageDigest",
        ),
        (("InferenceSpecification",), "marketplace-inference", "CertifyForMarketplace"),
        (("ValidationSpecification",), "marketplace-validation", "CertifyForMarketplace"),
    ],
    ids=["training-digest", "container-digest", "inference", "validation"],
)
def test_marketplace_certification_needs(request_dict, verdict, remove, rule, path):
    target = request_dict
    for part in remove[:-1]:
        target = target[part]
    del target[remove[-1]]
    verdict(request_dict).has(rule, path)
    request_dict["CertifyForMarketplace"] = False
    verdict(request_dict).lacks(rule)


def test_placeholder_left_in_template(request_dict, verdict):
    request_dict["ValidationSpecification"]["ValidationRole"] = "ROLE_REPLACE_ME"
    verdict(request_dict).has("placeholder", "ValidationSpecification.ValidationRole")


def test_stale_template_keys_are_named(request_dict, verdict):
    spec = request_dict["ValidationSpecification"]
    spec["ValidationOutputS3Prefix"] = "s3://b/p"
    spec["ValidateForMarketplace"] = True
    result = verdict(request_dict)
    first = result.has("stale-template-key", "ValidationSpecification.ValidationOutputS3Prefix")
    second = result.has("stale-template-key", "ValidationSpecification.ValidateForMarketplace")
    assert first.check_id is CheckId.SPEC_SEMANTICS
    assert "CertifyForMarketplace" in (second.hint or "")
    result.lacks("unknown-member")
