"""`harness run REQUEST`: a request's ValidationSpecification as a plan (request_plan.py), and
every malformed member one located PlanError before anything is fetched."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.algorithm.request_plan import plan_from_request
from harness.documents import parse_document
from harness.errors import ExitCode, PlanError

REFERENCE = Path(__file__).parents[3] / "fixtures" / "algorithms" / "reference"
_BASE: dict[str, Any] = json.loads((REFERENCE / "algorithm.json").read_text())

Edit = Callable[[dict[str, Any]], Any]


def _request() -> dict[str, Any]:
    return copy.deepcopy(_BASE)


def _profile(request: dict[str, Any], index: int = 0) -> dict[str, Any]:
    profile: dict[str, Any] = request["ValidationSpecification"]["ValidationProfiles"][index]
    return profile


def _job(request: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = _profile(request)["TrainingJobDefinition"]
    return job


def _transform(request: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = _profile(request)["TransformJobDefinition"]
    return job


def _channel(request: dict[str, Any], index: int = 0) -> dict[str, Any]:
    channel: dict[str, Any] = _job(request)["InputDataConfig"][index]
    return channel


def _plan(request: dict[str, Any], tmp_path: Path, names: tuple[str, ...] = ()) -> Any:
    fetched: list[tuple[str, Path]] = []
    document = parse_document(json.dumps(request, indent=2), tmp_path / "request.json")
    plan = plan_from_request(
        document, tmp_path / "data", lambda u, d: fetched.append((u, d)), names
    )
    return plan, fetched


def _refused(request: dict[str, Any], tmp_path: Path, names: tuple[str, ...] = ()) -> PlanError:
    fetched: list[tuple[str, Path]] = []
    document = parse_document(json.dumps(request, indent=2), tmp_path / "request.json")
    with pytest.raises(PlanError) as caught:
        plan_from_request(document, tmp_path, lambda u, d: fetched.append((u, d)), names)
    assert fetched == []  # nothing is fetched for a malformed request
    error = caught.value
    assert error.exit_code == ExitCode.USAGE_ERROR
    assert "\n" not in error.one_line()
    return error


def test_the_reference_request_is_a_plan(tmp_path: Path) -> None:
    plan, fetched = _plan(_request(), tmp_path)
    data = tmp_path / "data" / "smoke"
    assert [folder for _, folder in fetched] == [
        data / "channels" / "training",
        data / "channels" / "validation",
        data / "transform-input",
    ]
    (profile,) = plan.profiles
    assert profile.instance_types == ("ml.m5.large",)
    assert profile.training.instance_count == 1
    assert profile.training.max_runtime_seconds == 600
    assert dict(profile.training.hyperparameters)["epochs"] == "5"
    assert profile.transform.input == data / "transform-input"


@pytest.mark.parametrize(
    ("edit", "where", "message"),
    [
        pytest.param(
            lambda r: _job(r).update(HyperParameters=["a"]),
            "TrainingJobDefinition.HyperParameters",
            "expected an object",
            id="hyperparameters-list",
        ),
        pytest.param(
            lambda r: _job(r).update(HyperParameters={"epochs": 5}),
            "HyperParameters.epochs",
            "expected a string here, not 5",
            id="hyperparameter-number",
        ),
        pytest.param(
            lambda r: _job(r)["ResourceConfig"].update(InstanceCount="two"),
            "ResourceConfig.InstanceCount",
            "expected an integer >= 1 here, not 'two'",
            id="instance-count-text",
        ),
        pytest.param(
            lambda r: _job(r)["ResourceConfig"].update(InstanceCount=0),
            "ResourceConfig.InstanceCount",
            "expected an integer >= 1",
            id="instance-count-zero",
        ),
        pytest.param(
            lambda r: _job(r)["ResourceConfig"].update(InstanceCount=True),
            "ResourceConfig.InstanceCount",
            "expected an integer >= 1",
            id="instance-count-bool",
        ),
        pytest.param(
            lambda r: _job(r)["ResourceConfig"].update(InstanceCount=1000000000000),
            "ResourceConfig.InstanceCount",
            "expected an integer <= 64 here, not 1000000000000",
            id="instance-count-huge",
        ),
        pytest.param(
            lambda r: _job(r).update(StoppingCondition={"MaxRuntimeInSeconds": 2419201}),
            "StoppingCondition.MaxRuntimeInSeconds",
            "expected an integer <= 2419200 here",
            id="runtime-above-28-days",
        ),
        pytest.param(
            lambda r: _job(r)["ResourceConfig"].update(InstanceType=5),
            "ResourceConfig.InstanceType",
            "expected a string",
            id="instance-type-number",
        ),
        pytest.param(
            lambda r: _job(r).update(StoppingCondition=[600]),
            "TrainingJobDefinition.StoppingCondition",
            "expected an object",
            id="stopping-list",
        ),
        pytest.param(
            lambda r: _job(r).update(StoppingCondition={"MaxRuntimeInSeconds": "600"}),
            "StoppingCondition.MaxRuntimeInSeconds",
            "expected an integer >= 1",
            id="runtime-text",
        ),
        pytest.param(
            lambda r: _job(r).update(TrainingInputMode=["File"]),
            "TrainingJobDefinition.TrainingInputMode",
            "expected a string",
            id="input-mode-list",
        ),
        pytest.param(
            lambda r: _job(r).update(InputDataConfig={"ChannelName": "training"}),
            "TrainingJobDefinition.InputDataConfig",
            "expected a list of channels",
            id="channels-object",
        ),
        pytest.param(
            lambda r: _job(r).update(InputDataConfig=[]),
            "TrainingJobDefinition.InputDataConfig",
            "declare at least one channel",
            id="channels-empty",
        ),
        pytest.param(
            lambda r: _job(r)["InputDataConfig"].__setitem__(1, "validation"),
            "InputDataConfig[1]",
            "expected an object",
            id="channel-text",
        ),
        pytest.param(
            lambda r: _channel(r).update(ChannelName=".."),
            "InputDataConfig[0].ChannelName",
            "a channel needs a ChannelName",
            id="channel-name-dot-dot",
        ),
        pytest.param(
            lambda r: _channel(r, 1).update(ChannelName="training"),
            "InputDataConfig[1].ChannelName",
            "channel 'training' is declared twice",
            id="channel-name-twice",
        ),
        pytest.param(
            lambda r: _channel(r).update(ContentType=5),
            "InputDataConfig[0].ContentType",
            "expected a string",
            id="content-type-number",
        ),
        pytest.param(
            lambda r: _channel(r).update(DataSource="s3://b/x"),
            "InputDataConfig[0].DataSource",
            "expected an object",
            id="data-source-text",
        ),
        pytest.param(
            lambda r: _channel(r)["DataSource"]["S3DataSource"].update(S3DataDistributionType=3),
            "S3DataSource.S3DataDistributionType",
            "expected a string",
            id="distribution-number",
        ),
        pytest.param(
            lambda r: _channel(r)["DataSource"]["S3DataSource"].update(S3DataType=["S3Prefix"]),
            "S3DataSource.S3DataType",
            "expected a string",
            id="data-type-list",
        ),
        pytest.param(
            lambda r: _channel(r)["DataSource"]["S3DataSource"].update(S3Uri="s3://A_B/x"),
            "S3DataSource.S3Uri",
            "not a valid S3 bucket name",
            id="bad-bucket",
        ),
        pytest.param(
            lambda r: _profile(r).update(TransformJobDefinition="x"),
            "ValidationProfiles[0].TransformJobDefinition",
            "expected an object",
            id="transform-text",
        ),
        pytest.param(
            lambda r: _transform(r).update(TransformOutput="x"),
            "TransformJobDefinition.TransformOutput",
            "expected an object",
            id="transform-output-text",
        ),
        pytest.param(
            lambda r: _transform(r)["TransformOutput"].update(Accept=["text/csv"]),
            "TransformOutput.Accept",
            "expected a string",
            id="accept-list",
        ),
        pytest.param(
            lambda r: _transform(r).update(MaxPayloadInMB="6"),
            "TransformJobDefinition.MaxPayloadInMB",
            "expected an integer >= 0 here, not '6'",
            id="payload-text",
        ),
        pytest.param(
            lambda r: _transform(r).update(MaxConcurrentTransforms=1.5),
            "TransformJobDefinition.MaxConcurrentTransforms",
            "expected an integer >= 0",
            id="concurrency-float",
        ),
        pytest.param(
            lambda r: _transform(r).update(BatchStrategy=1),
            "TransformJobDefinition.BatchStrategy",
            "expected a string",
            id="batch-strategy-number",
        ),
        pytest.param(
            lambda r: _transform(r)["TransformInput"].update(SplitType=None, ContentType=7),
            "TransformInput.ContentType",
            "expected a string",
            id="transform-content-type-number",
        ),
        pytest.param(
            lambda r: _transform(r).pop("TransformInput"),
            "TransformJobDefinition.TransformInput",
            "expected an object",
            id="transform-input-missing",
        ),
        pytest.param(
            lambda r: _profile(r).update(ProfileName="../up"),
            "ValidationProfiles[0].ProfileName",
            "needs a ProfileName of 1-63",
            id="profile-name-path",
        ),
        pytest.param(
            lambda r: r["ValidationSpecification"].update(ValidationProfiles="smoke"),
            "ValidationSpecification.ValidationProfiles",
            "no validation profile",
            id="profiles-text",
        ),
        pytest.param(
            lambda r: r["ValidationSpecification"]["ValidationProfiles"].__setitem__(0, 1),
            "ValidationProfiles[0]",
            "expected an object",
            id="profile-number",
        ),
    ],
)
def test_a_malformed_member_is_one_located_error_and_nothing_is_fetched(
    tmp_path: Path, edit: Edit, where: str, message: str
) -> None:
    request = _request()
    edit(request)
    error = _refused(request, tmp_path)
    assert where in error.message
    assert message in error.message
    assert error.where is not None
    assert error.where.startswith(f"{tmp_path / 'request.json'}:")  # with the line


def test_a_malformed_later_profile_stops_the_run_before_any_fetch(tmp_path: Path) -> None:
    request = _request()
    second = copy.deepcopy(_profile(request))
    second["ProfileName"] = "second"
    second["TrainingJobDefinition"]["ResourceConfig"]["InstanceCount"] = "two"
    request["ValidationSpecification"]["ValidationProfiles"].append(second)
    error = _refused(request, tmp_path)
    assert "ValidationProfiles[1].TrainingJobDefinition.ResourceConfig.InstanceCount" in (
        error.message
    )
    # Choosing the good profile does not hide it: the request is checked whole.
    _refused(request, tmp_path, ("smoke",))


def test_two_profiles_of_one_name_are_refused(tmp_path: Path) -> None:
    request = _request()
    request["ValidationSpecification"]["ValidationProfiles"].append(
        copy.deepcopy(_profile(request))
    )
    error = _refused(request, tmp_path)
    assert "ValidationProfiles[1].ProfileName" in error.message
    assert "'smoke' is given twice (also ValidationProfiles[0])" in error.message


def test_only_the_chosen_profiles_are_fetched(tmp_path: Path) -> None:
    request = _request()
    second = copy.deepcopy(_profile(request))
    second["ProfileName"] = "second"
    second.pop("TransformJobDefinition")
    request["ValidationSpecification"]["ValidationProfiles"].append(second)
    plan, fetched = _plan(request, tmp_path, ("second",))
    assert [profile.name for profile in plan.profiles] == ["second"]
    assert plan.profiles[0].transform is None
    assert {folder.parent.parent.name for _, folder in fetched} == {"second"}
    refused = _refused(request, tmp_path, ("nope",))
    assert refused.message == "no validation profile named nope"
    assert refused.hint == "one of smoke, second"


def test_absent_optional_members_take_sagemaker_defaults(tmp_path: Path) -> None:
    request = _request()
    job = _job(request)
    for key in ("HyperParameters", "StoppingCondition", "TrainingInputMode"):
        job.pop(key)
    job["ResourceConfig"].pop("InstanceCount")
    for key in ("ContentType", "CompressionType", "RecordWrapperType", "InputMode"):
        _channel(request).pop(key, None)
    _transform(request).pop("TransformOutput")
    plan, _ = _plan(request, tmp_path)
    (profile,) = plan.profiles
    assert profile.training.hyperparameters == ()
    assert (profile.training.input_mode, profile.training.instance_count) == ("File", 1)
    channel = profile.training.channels[0]
    assert (channel.compression, channel.record_wrapper, channel.content_type) == (
        "None",
        "None",
        None,
    )
    assert (profile.transform.accept, profile.transform.assemble_with) == (None, "None")


def test_the_largest_count_and_runtime_are_accepted(tmp_path: Path) -> None:
    request = _request()
    _job(request)["ResourceConfig"]["InstanceCount"] = 64
    _job(request)["StoppingCondition"] = {"MaxRuntimeInSeconds": 2419200}
    plan, _ = _plan(request, tmp_path)
    training = plan.profiles[0].training
    assert (training.instance_count, training.max_runtime_seconds) == (64, 2419200)


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("InstanceCount", 65, "a local run emulates each host as a container"),
        ("MaxRuntimeInSeconds", 10**20, "at most 28 days"),
    ],
)
def test_a_value_above_the_maximum_says_why_in_the_hint(
    tmp_path: Path, key: str, value: int, hint: str
) -> None:
    request = _request()
    if key == "InstanceCount":
        _job(request)["ResourceConfig"][key] = value
    else:
        _job(request)["StoppingCondition"] = {key: value}
    error = _refused(request, tmp_path)
    assert error.hint is not None
    assert hint in error.hint
