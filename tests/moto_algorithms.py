"""A moto server with SageMaker algorithms: `python -m tests.moto_algorithms -H HOST -p PORT`.

moto 5.2 does not implement CreateAlgorithm/DescribeAlgorithm/DeleteAlgorithm (it answers
HTTP 500 NotImplementedError), but it dispatches an action to any method of that name on its
responder class and serialises the returned dict through botocore's output shape. This adds
the three methods, then runs moto's own server; every other service behaves as stock moto.
It relies on moto internals (ActionResult, automated parameter parsing): moto is pinned.

The fake validation is driven by the algorithm name, one step per DescribeAlgorithm call:
  Pending (NotStarted) -> InProgress -> InProgress (unchanged) -> Completed
  names starting `fail`:  ... -> Failed, the profile's status carrying a FailureReason
  names starting `stuck`: InProgress forever (timeouts)
A second CreateAlgorithm of a name answers ValidationException "Cannot create already existing
algorithm ..." (the wording SageMaker uses for its other resources; the real text is unknown).
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

FAILURE_REASON = "ClientError: training job validation-profile failed: Algorithm exited with code 1"

# (AlgorithmStatus, validation item status, image scan status) per DescribeAlgorithm call.
_STEPS = [
    ("Pending", "NotStarted", "NotStarted"),
    ("InProgress", "InProgress", "InProgress"),
    ("InProgress", "InProgress", "InProgress"),
]

_LOCK = threading.Lock()  # moto's server is threaded
_ALGORITHMS: dict[tuple[str, str, str], dict[str, Any]] = {}


def _key(response: Any, name: str) -> tuple[str, str, str]:
    return response.current_account, response.region, name.rsplit("/", 1)[-1]


def _status(name: str, describes: int) -> tuple[str, str, str, str | None]:
    if describes < len(_STEPS):
        return (*_STEPS[describes], None)
    if name.startswith("stuck"):
        return (*_STEPS[-1], None)
    if name.startswith("fail"):
        return "Failed", "Failed", "Completed", FAILURE_REASON
    return "Completed", "Completed", "Completed", None


def create_algorithm(self: Any) -> ActionResult:
    name = self._get_param("AlgorithmName")
    arn = f"arn:aws:sagemaker:{self.region}:{self.current_account}:algorithm/{name}"
    with _LOCK:
        if _key(self, name) in _ALGORITHMS:
            raise ValidationError(f'Cannot create already existing algorithm "{arn}".')
        _ALGORITHMS[_key(self, name)] = {
            "request": {
                key: self._get_param(key)
                for key in (
                    "AlgorithmDescription",
                    "TrainingSpecification",
                    "InferenceSpecification",
                    "ValidationSpecification",
                    "CertifyForMarketplace",
                )
                if self._get_param(key) is not None
            },
            "arn": arn,
            "created": datetime.datetime.now(datetime.UTC),
            "describes": 0,
        }
    return ActionResult({"AlgorithmArn": arn})


def describe_algorithm(self: Any) -> ActionResult:
    name = self._get_param("AlgorithmName")
    with _LOCK:
        algorithm = _ALGORITHMS.get(_key(self, name))
        if algorithm is None:
            raise ValidationError(f"Could not find algorithm {name!r}.")
        status, item, scan, reason = _status(_key(self, name)[2], algorithm["describes"])
        algorithm["describes"] += 1
    profiles = algorithm["request"].get("ValidationSpecification", {}).get("ValidationProfiles", [])
    validation = [{"Name": profile["ProfileName"], "Status": item} for profile in profiles]
    if reason:
        for entry in validation:
            entry["FailureReason"] = reason
    return ActionResult(
        {
            **algorithm["request"],
            "AlgorithmName": _key(self, name)[2],
            "AlgorithmArn": algorithm["arn"],
            "CreationTime": algorithm["created"],
            "AlgorithmStatus": status,
            "AlgorithmStatusDetails": {
                "ValidationStatuses": validation,
                "ImageScanStatuses": [{"Name": _key(self, name)[2], "Status": scan}],
            },
        }
    )


def delete_algorithm(self: Any) -> EmptyResult:
    name = self._get_param("AlgorithmName")
    with _LOCK:
        if _ALGORITHMS.pop(_key(self, name), None) is None:
            raise ValidationError(f"Could not find algorithm {name!r}.")
    return EmptyResult()


def install() -> None:
    """Add the algorithm actions to moto's SageMaker responder (in this process)."""
    for action in (create_algorithm, describe_algorithm, delete_algorithm):
        setattr(SageMakerResponse, action.__name__, action)


if __name__ == "__main__":
    from moto.server import main

    install()
    main()
