"""CreateAlgorithm and the wait for SageMaker's validation.

The happy, failed and name-conflict paths go over real HTTP to the moto server, which
tests/moto_algorithms.py extends with the algorithm actions moto lacks (Pending ->
InProgress -> InProgress -> Completed|Failed, one step per DescribeAlgorithm). Throttling,
refusals and odd states come from botocore's Stubber.
"""

from __future__ import annotations

import datetime
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from harness.algorithm.submission import (
    ItemStatus,
    StatusSnapshot,
    create_algorithm,
    next_delay,
    sagemaker_client,
    snapshot_changes,
    snapshot_from,
    wait_for_validation,
)
from harness.errors import (
    AlgorithmExists,
    AwsAuthError,
    AwsError,
    AwsRequestRejected,
    ExitCode,
    UsageError,
    ValidationTimeout,
)

# ---- pure helpers -------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_maximum():
    delays = []
    delay = None
    for _ in range(7):
        delay = next_delay(delay, initial=5, maximum=60)
        delays.append(delay)
    assert delays == [5, 10, 20, 40, 60, 60, 60]


def test_throttling_backs_off_to_the_maximum():
    assert next_delay(None, initial=5, maximum=60, throttled=True) == 60
    assert next_delay(10, initial=5, maximum=60, throttled=True) == 60
    assert next_delay(None, initial=90, maximum=60) == 60


def test_snapshot_from_a_describe_answer():
    answer = {
        "AlgorithmStatus": "Failed",
        "AlgorithmStatusDetails": {
            "ValidationStatuses": [
                {"Name": "smoke", "Status": "Failed", "FailureReason": "exit code 1"}
            ],
            "ImageScanStatuses": [{"Name": "algo", "Status": "Completed"}],
        },
    }
    snapshot = snapshot_from(answer)
    assert snapshot == StatusSnapshot(
        "Failed",
        (ItemStatus("smoke", "Failed", "exit code 1"),),
        (ItemStatus("algo", "Completed"),),
    )
    assert snapshot.failure_reasons() == ("validation smoke: exit code 1",)
    assert snapshot_from({"AlgorithmStatus": "Pending"}) == StatusSnapshot("Pending")


def test_failed_items_without_a_reason_say_so():
    snapshot = StatusSnapshot("Failed", (), (ItemStatus("algo", "Failed"),))
    assert snapshot.failure_reasons() == ("image scan algo: no reason given",)


def test_snapshot_changes():
    pending = StatusSnapshot(
        "Pending", (ItemStatus("smoke", "NotStarted"),), (ItemStatus("algo", "NotStarted"),)
    )
    assert snapshot_changes(None, pending) == (
        "AlgorithmStatus: Pending",
        "validation smoke: NotStarted",
        "image scan algo: NotStarted",
    )
    running = StatusSnapshot(
        "InProgress", (ItemStatus("smoke", "InProgress"),), (ItemStatus("algo", "NotStarted"),)
    )
    assert snapshot_changes(pending, running) == (
        "AlgorithmStatus: Pending -> InProgress",
        "validation smoke: NotStarted -> InProgress",
    )
    failed = StatusSnapshot(
        "InProgress", (ItemStatus("smoke", "Failed", "bad"),), (ItemStatus("algo", "NotStarted"),)
    )
    assert snapshot_changes(running, failed) == ("validation smoke: InProgress -> Failed (bad)",)
    assert snapshot_changes(failed, failed) == ()


# ---- over HTTP (moto extended by tests/moto_algorithms.py) ---------------------------------


@pytest.fixture
def sagemaker(aws_env, moto_endpoint):
    return sagemaker_client(region="us-east-1", endpoint_url=moto_endpoint, max_attempts=1)


def _named(request_dict, prefix):
    """The fixture request under a name of its own (the moto server lives all session)."""
    request_dict["AlgorithmName"] = f"{prefix}-{uuid.uuid4().hex[:12]}"
    return request_dict


class Recorder:
    def __init__(self):
        self.snapshots: list[StatusSnapshot] = []
        self.sleeps: list[float] = []


@pytest.fixture
def recorder():
    return Recorder()


def test_create_then_wait_until_completed(sagemaker, request_dict, recorder):
    request = _named(request_dict, "algo")
    name = request["AlgorithmName"]
    arn = create_algorithm(sagemaker, request)
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:algorithm/{name}"
    outcome = wait_for_validation(
        sagemaker, name, recorder.snapshots.append, 3600, sleep=recorder.sleeps.append
    )
    assert outcome.succeeded
    assert (outcome.status, outcome.arn, outcome.failure_reasons) == ("Completed", arn, ())
    assert outcome.polls == 4
    # The third describe repeats the second: no callback for it.
    assert [s.algorithm_status for s in recorder.snapshots] == [
        "Pending",
        "InProgress",
        "Completed",
    ]
    assert recorder.snapshots[-1].validation == (ItemStatus("smoke", "Completed"),)
    assert recorder.snapshots[-1].image_scans == (ItemStatus(name, "Completed"),)
    assert recorder.sleeps == [5, 10, 20]


def test_failed_validation_carries_the_failure_reason(sagemaker, request_dict, recorder):
    request = _named(request_dict, "fail")
    create_algorithm(sagemaker, request)
    outcome = wait_for_validation(
        sagemaker, request["AlgorithmName"], recorder.snapshots.append, 3600, sleep=lambda s: None
    )
    assert not outcome.succeeded
    assert outcome.status == "Failed"
    assert outcome.failure_reasons == (
        "validation smoke: ClientError: training job validation-profile failed: "
        "Algorithm exited with code 1",
    )


def test_an_existing_name_is_a_clear_error(sagemaker, request_dict):
    request = _named(request_dict, "algo")
    create_algorithm(sagemaker, request)
    with pytest.raises(AlgorithmExists) as caught:
        create_algorithm(sagemaker, request)
    error = caught.value
    assert error.exit_code == ExitCode.USAGE_ERROR
    name = request["AlgorithmName"]
    assert error.one_line() == (
        f"algorithm {name}: an algorithm named {name!r} already exists (hint: choose another "
        f"AlgorithmName or delete it with `aws sagemaker delete-algorithm --algorithm-name "
        f"{name}`)"
    )


def test_waiting_times_out(sagemaker, request_dict):
    request = _named(request_dict, "stuck")
    create_algorithm(sagemaker, request)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(ValidationTimeout) as caught:
        wait_for_validation(
            sagemaker,
            request["AlgorithmName"],
            lambda s: None,
            100,
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert now[0] == 100  # the last pause is cut to the deadline, then one last look
    assert "validation still InProgress after 100 s" in caught.value.one_line()
    assert caught.value.exit_code == ExitCode.ENGINE_ERROR


def test_describing_an_unknown_algorithm_is_rejected(sagemaker):
    with pytest.raises(AwsRequestRejected, match="DescribeAlgorithm rejected the request"):
        wait_for_validation(sagemaker, "never-created", lambda s: None, 10, sleep=lambda s: None)


def test_client_side_validation_is_one_line(sagemaker, request_dict):
    del request_dict["TrainingSpecification"]
    request_dict["Foo"] = 1
    with pytest.raises(AwsRequestRejected) as caught:
        create_algorithm(sagemaker, request_dict)
    line = caught.value.one_line()
    assert "\n" not in line
    assert "TrainingSpecification" in line
    assert "Foo" in line


def test_a_region_is_required(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(UsageError, match="no AWS region for SageMaker"):
        sagemaker_client()


def test_an_unknown_profile_is_a_usage_error(aws_env):
    with pytest.raises(UsageError, match="no AWS profile named 'nobody'"):
        sagemaker_client(profile="nobody", region="us-east-1")


# ---- Stubber: what moto cannot be made to say easily -------------------------------------


@pytest.fixture
def stubbed(aws_env):
    client = boto3.session.Session().client(
        "sagemaker", region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    with Stubber(client) as stub:
        yield client, stub
    stub.assert_no_pending_responses()


def _describe(status, validation="InProgress"):
    return {
        "AlgorithmName": "algo",
        "AlgorithmArn": "arn:aws:sagemaker:us-east-1:123456789012:algorithm/algo",
        "CreationTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        "TrainingSpecification": {
            "TrainingImage": "img",
            "SupportedTrainingInstanceTypes": ["ml.m5.large"],
            "TrainingChannels": [
                {
                    "Name": "train",
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedInputModes": ["File"],
                }
            ],
        },
        "AlgorithmStatus": status,
        "AlgorithmStatusDetails": {"ValidationStatuses": [{"Name": "p", "Status": validation}]},
    }


def test_throttling_backs_off_and_keeps_polling(stubbed, recorder):
    client, stub = stubbed
    stub.add_response("describe_algorithm", _describe("InProgress"))
    stub.add_client_error("describe_algorithm", "ThrottlingException", "Rate exceeded", 400)
    stub.add_response("describe_algorithm", _describe("InProgress"))
    stub.add_response("describe_algorithm", _describe("Completed", "Completed"))
    outcome = wait_for_validation(
        client, "algo", recorder.snapshots.append, 3600, sleep=recorder.sleeps.append
    )
    assert outcome.status == "Completed"
    assert outcome.polls == 3
    assert recorder.sleeps == [5, 60, 60]
    assert len(recorder.snapshots) == 2


def test_a_deleted_algorithm_stops_the_wait(stubbed):
    client, stub = stubbed
    stub.add_response("describe_algorithm", _describe("Deleting"))
    with pytest.raises(AwsError, match="being deleted"):
        wait_for_validation(client, "algo", lambda s: None, 3600, sleep=lambda s: None)


def test_access_denied(stubbed, request_dict):
    client, stub = stubbed
    stub.add_client_error(
        "create_algorithm", "AccessDeniedException", "not authorized to perform", 400
    )
    with pytest.raises(AwsAuthError) as caught:
        create_algorithm(client, request_dict)
    assert caught.value.exit_code == ExitCode.ENGINE_ERROR
    assert "CreateAlgorithm refused: AccessDeniedException: not authorized" in (
        caught.value.one_line()
    )


def test_resource_in_use_is_an_existing_algorithm(stubbed, request_dict):
    client, stub = stubbed
    stub.add_client_error("create_algorithm", "ResourceInUse", "Name in use", 400)
    with pytest.raises(AlgorithmExists):
        create_algorithm(client, request_dict)


def test_other_service_refusals_are_one_line(stubbed, request_dict):
    client, stub = stubbed
    stub.add_client_error(
        "create_algorithm", "ValidationException", "Image digest does not match\n the image", 400
    )
    with pytest.raises(AwsRequestRejected) as caught:
        create_algorithm(client, request_dict)
    assert not isinstance(caught.value, AlgorithmExists)
    assert caught.value.exit_code == ExitCode.USAGE_ERROR
    assert caught.value.one_line() == (
        "algorithm gradient-boosted-trees: CreateAlgorithm rejected the request: "
        "ValidationException: Image digest does not match the image"
    )


def test_images_outside_ecr_in_the_region_are_named():
    from harness.algorithm.submission import images_outside_ecr

    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1"
    request = {
        "TrainingSpecification": {"TrainingImage": ecr},
        "InferenceSpecification": {
            "Containers": [
                {"Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/algo:1"},
                {"Image": "ghcr.io/seller/algo:1"},
                {"Image": ecr},
            ]
        },
    }
    assert images_outside_ecr(request, "us-east-1") == [
        "InferenceSpecification.Containers[0].Image "
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/algo:1 is not in Amazon ECR in us-east-1",
        "InferenceSpecification.Containers[1].Image ghcr.io/seller/algo:1 is not in Amazon ECR "
        "in us-east-1",
    ]
    assert images_outside_ecr({"TrainingSpecification": "x"}, "us-east-1") == []
