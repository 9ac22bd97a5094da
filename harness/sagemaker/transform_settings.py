"""The settings a batch transform runs with, and the container's /execution-parameters.

SageMaker takes MaxConcurrentTransforms, BatchStrategy and MaxPayloadInMB from the job when it
sets them, else from the container's optional `GET /execution-parameters`, else its defaults
[DG-batch] (docs/sagemaker-contract.md §3). `resolve_settings` applies that order and records
where each value came from; `validate_execution_parameters` is the TRANSFORM-EXEC-PARAMS
verdict on the container's answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from harness.errors import UsageError
from harness.plan import TransformPlan

SettingSource = Literal["plan", "execution-parameters", "default"]
T = TypeVar("T")

DEFAULT_MAX_CONCURRENT_TRANSFORMS = 1  # [API] "the default value is 1"
DEFAULT_MAX_PAYLOAD_MB = 6  # [API] "The default value is 6 MB"
DEFAULT_BATCH_STRATEGY = "MultiRecord"  # local mode's default; the service's is unsourced
MAX_PAYLOAD_MB = 100  # [API] MaxPayloadInMB <= 100, and MaxConcurrentTransforms × it <= 100
BYTES_PER_MB = 1 << 20  # SageMaker's "6 MB" request limit is 6,291,456 bytes [API-rt BodyBlob]

# /execution-parameters may answer in the environment variables' spelling (the doc's example
# says "MULTI_RECORD") or the API's ("MultiRecord", all local mode accepts): take both.
BATCH_STRATEGY_SPELLINGS = {
    "MultiRecord": "MultiRecord",
    "SingleRecord": "SingleRecord",
    "MULTI_RECORD": "MultiRecord",
    "SINGLE_RECORD": "SingleRecord",
}
_ENVIRONMENT_SPELLING = {"MultiRecord": "MULTI_RECORD", "SingleRecord": "SINGLE_RECORD"}
EXECUTION_PARAMETER_KEYS = ("MaxConcurrentTransforms", "BatchStrategy", "MaxPayloadInMB")


@dataclass(frozen=True)
class TransformSettings:
    """Everything that decides the requests of a transform, each value with where it came from.

    `batch_strategy` is always the API spelling (MultiRecord | SingleRecord).
    """

    split_type: str
    batch_strategy: str
    batch_strategy_source: SettingSource
    max_payload_mb: int
    max_payload_mb_source: SettingSource
    max_concurrent_transforms: int
    max_concurrent_transforms_source: SettingSource
    assemble_with: str = "None"
    content_type: str | None = None
    accept: str | None = None

    @property
    def max_payload_bytes(self) -> int | None:
        """The payload limit in bytes; None for MaxPayloadInMB 0 (unlimited, chunked)."""
        return self.max_payload_mb * BYTES_PER_MB if self.max_payload_mb else None

    @property
    def counts_output_lines(self) -> bool:
        """Whether each input record should give one output line (TRANSFORM-OUTPUT's count).

        Only when the input is split into records and AssembleWith is Line: unsplit, one
        record may well give many lines, and AssembleWith None joins responses as they are.
        """
        return self.split_type != "None" and self.assemble_with == "Line"


@dataclass(frozen=True)
class ExecutionParametersCheck:
    """The verdict on a /execution-parameters body: problems fail TRANSFORM-EXEC-PARAMS."""

    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def canonical_batch_strategy(value: str) -> str:
    """The API spelling of a BatchStrategy given in either spelling."""
    try:
        return BATCH_STRATEGY_SPELLINGS[value]
    except KeyError:
        raise UsageError(
            f"unknown BatchStrategy {value!r}",
            hint=f"one of {', '.join(BATCH_STRATEGY_SPELLINGS)}",
        ) from None


def validate_execution_parameters(body: Any) -> ExecutionParametersCheck:
    """What is wrong with a container's /execution-parameters answer (the parsed JSON).

    Every key is optional. Problems: not a JSON object; MaxConcurrentTransforms not a positive
    integer; MaxPayloadInMB not an integer from 0 to 100; BatchStrategy not one of the four
    spellings; MaxConcurrentTransforms × MaxPayloadInMB above 100. Keys SageMaker does not read
    are warnings (a typo such as "MaxPayloadInMb" silently leaves the default in force).
    JSON booleans are not integers here, although Python's bool is an int.
    """
    if not isinstance(body, Mapping):
        return ExecutionParametersCheck(
            (f"the answer is not a JSON object but {_json_type(body)}: {_show(body)}",)
        )
    problems: list[str] = []
    for key, (usable, requirement) in _RULES.items():
        if key in body and usable(body[key]) is None:
            problems.append(f"{key} {requirement}, not {_show(body[key])}")
    concurrency = _usable_concurrency(body.get("MaxConcurrentTransforms"))
    payload = _usable_payload(body.get("MaxPayloadInMB"))
    if concurrency is not None and payload is not None and concurrency * payload > MAX_PAYLOAD_MB:
        problems.append(
            f"MaxConcurrentTransforms × MaxPayloadInMB = {concurrency} × {payload} = "
            f"{concurrency * payload} MB, above SageMaker's limit of {MAX_PAYLOAD_MB} MB"
        )
    warnings = [
        f"unknown key {key!r}: SageMaker reads only {', '.join(EXECUTION_PARAMETER_KEYS)}"
        for key in sorted(str(k) for k in body if k not in EXECUTION_PARAMETER_KEYS)
    ]
    return ExecutionParametersCheck(tuple(problems), tuple(warnings))


def resolve_settings(
    plan: TransformPlan, execution_parameters: Mapping[str, Any] | None
) -> TransformSettings:
    """The settings SageMaker would use: the job's (plan's), then the container's, then defaults.

    `execution_parameters` is the parsed /execution-parameters body, or None when the container
    does not implement it (404 or any other non-200). Only its valid values are used, each on
    its own: an invalid value falls back to the default, so a container that answers
    MaxPayloadInMB 500 is not sent 500 MB (TRANSFORM-EXEC-PARAMS reports it). A plan's
    MaxConcurrentTransforms of 0 counts as unset, as in the API ("set to 0 or left unset").
    The product limit (concurrency × payload <= 100) is left to the checks: when the two values
    come from different places, which one SageMaker would reject is not documented.
    """
    answer: Mapping[str, Any] = execution_parameters or {}
    strategy, strategy_source = _pick(
        canonical_batch_strategy(plan.batch_strategy) if plan.batch_strategy else None,
        _usable_strategy(answer.get("BatchStrategy")),
        DEFAULT_BATCH_STRATEGY,
    )
    payload, payload_source = _pick(
        plan.max_payload_mb,
        _usable_payload(answer.get("MaxPayloadInMB")),
        DEFAULT_MAX_PAYLOAD_MB,
    )
    concurrency, concurrency_source = _pick(
        plan.max_concurrent_transforms or None,
        _usable_concurrency(answer.get("MaxConcurrentTransforms")),
        DEFAULT_MAX_CONCURRENT_TRANSFORMS,
    )
    return TransformSettings(
        split_type=plan.split_type,
        batch_strategy=strategy,
        batch_strategy_source=strategy_source,
        max_payload_mb=payload,
        max_payload_mb_source=payload_source,
        max_concurrent_transforms=concurrency,
        max_concurrent_transforms_source=concurrency_source,
        assemble_with=plan.assemble_with,
        content_type=plan.content_type,
        accept=plan.accept,
    )


def batch_environment(plan: TransformPlan) -> dict[str, str]:
    """The environment SageMaker adds to a transform container [DG-batch].

    SAGEMAKER_BATCH is always "true"; the other three are passed "only if the user set them"
    in the job, so a value the container itself chose through /execution-parameters is never
    echoed back to it. A MaxConcurrentTransforms of 0 is "unset" and is not passed.
    """
    environment = {"SAGEMAKER_BATCH": "true"}
    if plan.max_payload_mb is not None:
        environment["SAGEMAKER_MAX_PAYLOAD_IN_MB"] = str(plan.max_payload_mb)
    if plan.batch_strategy:
        strategy = canonical_batch_strategy(plan.batch_strategy)
        environment["SAGEMAKER_BATCH_STRATEGY"] = _ENVIRONMENT_SPELLING[strategy]
    if plan.max_concurrent_transforms:
        environment["SAGEMAKER_MAX_CONCURRENT_TRANSFORMS"] = str(plan.max_concurrent_transforms)
    return environment


def _usable_strategy(value: Any) -> str | None:
    return BATCH_STRATEGY_SPELLINGS.get(value) if isinstance(value, str) else None


def _usable_concurrency(value: Any) -> int | None:
    return value if _is_int(value) and value >= 1 else None


def _usable_payload(value: Any) -> int | None:
    return value if _is_int(value) and 0 <= value <= MAX_PAYLOAD_MB else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Each key: the value SageMaker would use (None when invalid), and what a valid one looks like.
_RULES: dict[str, tuple[Callable[[Any], int | str | None], str]] = {
    "MaxConcurrentTransforms": (_usable_concurrency, "must be a positive integer"),
    "BatchStrategy": (_usable_strategy, f"must be one of {', '.join(BATCH_STRATEGY_SPELLINGS)}"),
    "MaxPayloadInMB": (_usable_payload, f"must be an integer from 0 to {MAX_PAYLOAD_MB}"),
}


def _pick(planned: T | None, answered: T | None, default: T) -> tuple[T, SettingSource]:
    if planned is not None:
        return planned, "plan"
    if answered is not None:
        return answered, "execution-parameters"
    return default, "default"


def _json_type(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return "a number" if not isinstance(value, bool) else "a boolean"
    return type(value).__name__


def _show(value: Any) -> str:
    """A value as JSON, cut short: it goes into one-line messages."""
    text = json.dumps(value, default=repr, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"
