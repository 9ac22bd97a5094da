"""CreateAlgorithm, then DescribeAlgorithm until SageMaker's own validation finishes.

SageMaker validates an algorithm by running the ValidationSpecification's training and
transform jobs and scanning the images, which takes minutes to hours. `wait_for_validation`
polls with exponential backoff (a describe every minute at most once things are slow), backs
off further when throttled, and reports a StatusSnapshot only when something in it changed.
Failure reasons live per item: AlgorithmStatusDetails.ValidationStatuses[].FailureReason and
ImageScanStatuses[].FailureReason (DescribeAlgorithm has no top-level FailureReason).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from harness.algorithm.aws import (
    DEFAULT_MAX_ATTEMPTS,
    aws_errors,
    error_code,
    error_message,
    service_client,
)
from harness.errors import AlgorithmExists, AwsError, AwsThrottled, ValidationTimeout

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

FINISHED = frozenset({"Completed", "Failed"})


@dataclass(frozen=True)
class ItemStatus:
    """One entry of ValidationStatuses or ImageScanStatuses."""

    name: str
    status: str  # NotStarted | InProgress | Completed | Failed
    failure_reason: str | None = None


@dataclass(frozen=True)
class StatusSnapshot:
    """What DescribeAlgorithm says about the validation at one moment."""

    algorithm_status: str  # Pending | InProgress | Completed | Failed | Deleting
    validation: tuple[ItemStatus, ...] = ()
    image_scans: tuple[ItemStatus, ...] = ()

    def failure_reasons(self) -> tuple[str, ...]:
        """`validation NAME: reason` / `image scan NAME: reason` of every failed item."""
        return tuple(
            f"{kind} {item.name}: {item.failure_reason or 'no reason given'}"
            for kind, items in (("validation", self.validation), ("image scan", self.image_scans))
            for item in items
            if item.status == "Failed"
        )


@dataclass(frozen=True)
class ValidationOutcome:
    name: str
    arn: str
    status: Literal["Completed", "Failed"]
    snapshot: StatusSnapshot
    failure_reasons: tuple[str, ...]
    polls: int
    elapsed_s: float

    @property
    def succeeded(self) -> bool:
        return self.status == "Completed"


# ---- pure helpers -------------------------------------------------------------------------


def snapshot_from(answer: Mapping[str, Any]) -> StatusSnapshot:
    """The StatusSnapshot of a DescribeAlgorithm answer."""
    details = answer.get("AlgorithmStatusDetails") or {}

    def items(key: str) -> tuple[ItemStatus, ...]:
        return tuple(
            ItemStatus(str(item["Name"]), str(item["Status"]), item.get("FailureReason"))
            for item in details.get(key) or ()
        )

    return StatusSnapshot(
        str(answer["AlgorithmStatus"]), items("ValidationStatuses"), items("ImageScanStatuses")
    )


def snapshot_changes(previous: StatusSnapshot | None, current: StatusSnapshot) -> tuple[str, ...]:
    """One line per status that differs from `previous` (everything when there is none)."""

    def line(label: str, old: str | None, new: str, reason: str | None = None) -> str | None:
        if old == new:
            return None
        text = f"{label}: {new}" if old is None else f"{label}: {old} -> {new}"
        return f"{text} ({reason})" if reason else text

    lines = [
        line(
            "AlgorithmStatus",
            previous.algorithm_status if previous else None,
            current.algorithm_status,
        )
    ]
    for kind, old_items, new_items in (
        ("validation", previous.validation if previous else (), current.validation),
        ("image scan", previous.image_scans if previous else (), current.image_scans),
    ):
        before = {item.name: item.status for item in old_items}
        lines.extend(
            line(f"{kind} {item.name}", before.get(item.name), item.status, item.failure_reason)
            for item in new_items
        )
    return tuple(text for text in lines if text is not None)


def next_delay(
    previous: float | None, *, initial: float, maximum: float, throttled: bool = False
) -> float:
    """The next pause between polls: initial, doubling up to maximum; maximum when throttled."""
    if throttled:
        return maximum
    if previous is None:
        return min(initial, maximum)
    return min(previous * 2, maximum)


# ---- I/O ------------------------------------------------------------------------------------


def sagemaker_client(
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> SageMakerClient:
    """A SageMaker client from a fresh session on the standard credential chain."""
    client: SageMakerClient = service_client(
        "sagemaker", profile, region, endpoint_url, max_attempts, require_region=True
    )
    return client


def create_algorithm(client: SageMakerClient, request: Mapping[str, Any]) -> str:
    """Send CreateAlgorithm; the new algorithm's ARN."""
    from botocore.exceptions import ClientError

    name = str(request.get("AlgorithmName", "?"))
    where = f"algorithm {name}"
    with aws_errors(where):
        try:
            answer = client.create_algorithm(**cast(Any, request))
        except ClientError as exc:
            # SageMaker answers a taken name with ValidationException ("... already exists")
            # or ResourceInUse, depending on the operation's vintage: take both.
            message = error_message(exc).lower()
            if error_code(exc) == "ResourceInUse" or "already exist" in message:
                raise AlgorithmExists(
                    f"an algorithm named {name!r} already exists",
                    where=where,
                    hint="choose another AlgorithmName or delete it with "
                    f"`aws sagemaker delete-algorithm --algorithm-name {name}`",
                ) from None
            raise
    return str(answer["AlgorithmArn"])


def wait_for_validation(
    client: SageMakerClient,
    name: str,
    on_change: Callable[[StatusSnapshot], None],
    timeout_s: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    initial_delay: float = 5,
    max_delay: float = 60,
) -> ValidationOutcome:
    """Poll DescribeAlgorithm until Completed or Failed; ValidationTimeout after `timeout_s`.

    `on_change` gets every snapshot that differs from the one before (the first one too).
    """
    where = f"algorithm {name}"
    started = clock()
    deadline = started + timeout_s
    previous: StatusSnapshot | None = None
    delay: float | None = None
    polls = 0
    while True:
        throttled = False
        try:
            with aws_errors(where):
                answer = client.describe_algorithm(AlgorithmName=name)
        except AwsThrottled:
            # botocore already retried; wait the longest pause before asking again.
            throttled = True
        else:
            polls += 1
            snapshot = snapshot_from(cast(Mapping[str, Any], answer))
            if snapshot != previous:
                on_change(snapshot)
                previous = snapshot
            status = snapshot.algorithm_status
            if status in FINISHED:
                return ValidationOutcome(
                    name=name,
                    arn=str(answer["AlgorithmArn"]),
                    status=cast(Literal["Completed", "Failed"], status),
                    snapshot=snapshot,
                    failure_reasons=snapshot.failure_reasons(),
                    polls=polls,
                    elapsed_s=clock() - started,
                )
            if status == "Deleting":
                raise AwsError(
                    "the algorithm is being deleted while its validation was awaited",
                    where=where,
                    hint="someone ran DeleteAlgorithm; submit it again",
                )
        remaining = deadline - clock()
        if remaining <= 0:
            state = previous.algorithm_status if previous else "not described (throttled)"
            raise ValidationTimeout(
                f"validation still {state} after {timeout_s:g} s",
                where=where,
                hint="SageMaker's validation can take hours: wait longer, or follow it with "
                f"`aws sagemaker describe-algorithm --algorithm-name {name}`",
            )
        delay = next_delay(delay, initial=initial_delay, maximum=max_delay, throttled=throttled)
        sleep(min(delay, remaining))


def images_outside_ecr(request: Mapping[str, Any], region: str) -> list[str]:
    """The declared images SageMaker will not pull for an algorithm in `region`: an algorithm's
    images live in Amazon ECR in the algorithm's own region."""
    ecr = re.compile(rf"[0-9]{{12}}\.dkr\.ecr(-fips)?\.{re.escape(region)}\.amazonaws\.com(\.cn)?/")
    images: list[tuple[str, Any]] = []
    training = request.get("TrainingSpecification")
    if isinstance(training, dict):
        images.append(("TrainingSpecification.TrainingImage", training.get("TrainingImage")))
    inference = request.get("InferenceSpecification")
    containers = inference.get("Containers") if isinstance(inference, dict) else None
    for index, container in enumerate(containers if isinstance(containers, list) else ()):
        if isinstance(container, dict):
            images.append(
                (f"InferenceSpecification.Containers[{index}].Image", container.get("Image"))
            )
    return [
        f"{path} {image} is not in Amazon ECR in {region}"
        for path, image in images
        if isinstance(image, str) and not ecr.match(image)
    ]
