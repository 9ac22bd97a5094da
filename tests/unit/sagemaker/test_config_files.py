from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.plan import ChannelPlan, TrainingPlan
from harness.sagemaker.config_files import (
    host_names,
    hyperparameters_json,
    inputdataconfig_json,
    resourceconfig_json,
    training_environment,
    write_config_files,
)

SPECS = {
    "TrainingSpecification": {
        "SupportedHyperParameters": [
            {"Name": "num_round", "Type": "Integer", "DefaultValue": "100"},
            {"Name": "eta", "Type": "Continuous", "DefaultValue": "0.3"},
            {"Name": "objective", "Type": "Categorical", "IsRequired": True},
            {"Name": "notes", "Type": "FreeText"},
        ]
    }
}


def test_host_names_count_from_one():
    assert host_names(1) == ("algo-1",)
    assert host_names(3) == ("algo-1", "algo-2", "algo-3")


def test_host_names_need_one_host():
    with pytest.raises(UsageError, match="at least one host"):
        host_names(0)


def test_hyperparameters_add_defaults_not_given():
    given = {"eta": "0.1", "objective": "binary:logistic"}
    assert hyperparameters_json(SPECS, given) == {
        "eta": "0.1",
        "objective": "binary:logistic",
        "num_round": "100",
    }


def test_hyperparameters_given_values_win_and_keep_their_order():
    result = hyperparameters_json(SPECS, {"num_round": "7", "eta": "1"})
    assert list(result.items()) == [("num_round", "7"), ("eta", "1")]


@pytest.mark.parametrize(
    "request_dict",
    [{}, {"TrainingSpecification": "x"}, {"TrainingSpecification": {}}],
    ids=["no-spec", "spec-not-a-map", "no-hyperparameters"],
)
def test_hyperparameters_without_specs_are_the_given_ones(request_dict):
    assert hyperparameters_json(request_dict, {"a": "1"}) == {"a": "1"}


def test_inputdataconfig_has_exactly_the_four_keys():
    training = TrainingPlan(
        channels=(
            ChannelPlan("train", Path("/d/train"), content_type="text/csv", compression="Gzip"),
            ChannelPlan(
                "validation",
                Path("/d/v"),
                distribution="ShardedByS3Key",
                record_wrapper="RecordIO",
                input_mode="File",
            ),
        ),
        input_mode="Pipe",
    )
    config = inputdataconfig_json(training)
    assert config == {
        "train": {
            "ContentType": "text/csv",
            "TrainingInputMode": "Pipe",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        },
        "validation": {
            "TrainingInputMode": "File",
            "S3DistributionType": "ShardedByS3Key",
            "RecordWrapperType": "RecordIO",
        },
    }
    assert list(config) == ["train", "validation"]


def test_resourceconfig_sorts_hosts_lexicographically():
    hosts = host_names(10)
    config = resourceconfig_json("algo-2", hosts, "ml.m5.large")
    expected_hosts = ["algo-1", "algo-10", *(f"algo-{i}" for i in range(2, 10))]
    assert config == {
        "current_host": "algo-2",
        "current_instance_type": "ml.m5.large",
        "current_group_name": "homogeneousCluster",
        "hosts": expected_hosts,
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "ml.m5.large",
                "hosts": expected_hosts,
            }
        ],
        "network_interface_name": "eth0",
    }


def test_resourceconfig_network_interface_can_be_named():
    config = resourceconfig_json("algo-1", ["algo-1"], "ml.g5.xlarge", network_interface="eth1")
    assert config["network_interface_name"] == "eth1"


def test_resourceconfig_current_host_must_be_a_host():
    with pytest.raises(UsageError, match="not one of"):
        resourceconfig_json("algo-3", ["algo-1", "algo-2"], "ml.m5.large")


def test_resourceconfig_hosts_must_be_unique():
    with pytest.raises(UsageError, match="repeat"):
        resourceconfig_json("algo-1", ["algo-1", "algo-1"], "ml.m5.large")


def test_training_environment_has_only_name_and_arn():
    assert training_environment("job-1") == {
        "TRAINING_JOB_NAME": "job-1",
        "TRAINING_JOB_ARN": "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1",
    }
    env = training_environment("j", region="eu-west-1", account="000000000001")
    assert env["TRAINING_JOB_ARN"] == "arn:aws:sagemaker:eu-west-1:000000000001:training-job/j"


@pytest.mark.parametrize(
    ("name", "region", "account"),
    [
        ("", "us-east-1", "123456789012"),
        ("-job", "us-east-1", "123456789012"),
        ("job_1", "us-east-1", "123456789012"),
        ("a" * 64, "us-east-1", "123456789012"),
        ("job", "US_EAST", "123456789012"),
        ("job", "us-east-1", "1234"),
    ],
    ids=["empty", "leading-hyphen", "underscore", "too-long", "bad-region", "bad-account"],
)
def test_training_environment_refuses_bad_names(name, region, account):
    with pytest.raises(UsageError):
        training_environment(name, region=region, account=account)


def test_training_environment_accepts_63_characters():
    assert training_environment("a" * 63)["TRAINING_JOB_NAME"] == "a" * 63


def test_write_config_files_writes_three_readable_json_files(tmp_path):
    config_dir = tmp_path / "input" / "config"
    paths = write_config_files(
        config_dir,
        hyperparameters={"b": "2", "a": "1"},
        inputdataconfig={"train": {"TrainingInputMode": "File"}},
        resourceconfig={"current_host": "algo-1", "hosts": ["algo-1"]},
    )
    assert [p.name for p in paths] == [
        "hyperparameters.json",
        "inputdataconfig.json",
        "resourceconfig.json",
    ]
    assert paths[0].read_text() == '{"b": "2", "a": "1"}'  # insertion order kept
    assert json.loads(paths[1].read_text()) == {"train": {"TrainingInputMode": "File"}}
    assert json.loads(paths[2].read_text())["hosts"] == ["algo-1"]
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
