"""Hyperparameter specifications: their own consistency, and values checked against them.

SageMaker passes every hyperparameter as a string. For an algorithm resource the SDK casts and
range-checks Integer and Continuous values, requires Categorical values to be listed, leaves
FreeText alone and fills in defaults; the rules here are the same, so the harness rejects what
a buyer's job would be refused and fills in what it would be given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from harness.algorithm.findings import CheckId, Finding, error, warning
from harness.algorithm.suggest import did_you_mean
from harness.documents import JsonPath

_CHECK = CheckId.SPEC_SEMANTICS
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RANGE_KEYS = {
    "Integer": "IntegerParameterRangeSpecification",
    "Continuous": "ContinuousParameterRangeSpecification",
    "Categorical": "CategoricalParameterRangeSpecification",
}


def parse_typed(kind: str, text: str) -> float | None:
    """The number an Integer or Continuous value stands for, None when it is not one."""
    if kind == "Integer" and _INTEGER.fullmatch(text.strip()):
        return int(text)
    if kind == "Continuous" and _DECIMAL.fullmatch(text.strip()):
        number = float(text)
        return number if math.isfinite(number) else None
    return None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _range_of(spec: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(range key, range body) of a spec, for the one range member that is set."""
    ranges = _as_dict(spec.get("Range"))
    for key in _RANGE_KEYS.values():
        if isinstance(ranges.get(key), dict):
            return key, ranges[key]
    return None, {}


def _bounds(kind: str, body: Mapping[str, Any]) -> tuple[float | None, float | None]:
    low, high = body.get("MinValue"), body.get("MaxValue")
    return (
        parse_typed(kind, low) if isinstance(low, str) else None,
        parse_typed(kind, high) if isinstance(high, str) else None,
    )


def check_specifications(specs: Any, path: JsonPath) -> Iterator[Finding]:
    """Consistency of `TrainingSpecification.SupportedHyperParameters` (at `path`)."""
    if not isinstance(specs, list):
        return
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict):
            continue
        here = (*path, index)
        name = spec.get("Name")
        if isinstance(name, str):
            if name in seen:
                yield error(
                    _CHECK,
                    "duplicate-hyperparameter",
                    (*here, "Name"),
                    f"hyperparameter {name!r} is already declared at index {seen[name]}",
                )
            seen.setdefault(name, index)
        yield from _check_one_specification(spec, here)


def _check_one_specification(spec: Mapping[str, Any], here: JsonPath) -> Iterator[Finding]:
    kind = spec.get("Type")
    ranges = _as_dict(spec.get("Range"))
    set_ranges = [key for key in ranges if ranges.get(key) is not None]
    expected = _RANGE_KEYS.get(kind) if isinstance(kind, str) else None
    if len(set_ranges) > 1:
        yield error(
            _CHECK,
            "hyperparameter-range",
            (*here, "Range"),
            f"Range sets {len(set_ranges)} kinds of range; exactly one is allowed",
        )
    for key in set_ranges:
        if key in _RANGE_KEYS.values() and key != expected:
            hint = f"use {expected}" if expected else "FreeText hyperparameters take no Range"
            yield error(
                _CHECK,
                "hyperparameter-range",
                (*here, "Range", key),
                f"a {kind} hyperparameter cannot have a {key}",
                hint,
            )
    if spec.get("IsTunable") is True and (expected is None or not set_ranges):
        yield error(
            _CHECK,
            "tunable-needs-range",
            (*here, "IsTunable"),
            "a tunable hyperparameter needs a Type of Integer, Continuous or Categorical "
            "and a matching Range",
            "set IsTunable to false or declare the Range",
        )
    default = spec.get("DefaultValue")
    if spec.get("IsRequired") is True and default is not None:
        yield error(
            _CHECK,
            "required-with-default",
            (*here, "DefaultValue"),
            "a required hyperparameter cannot have a DefaultValue (SageMaker rejects it)",
            "drop the DefaultValue or set IsRequired to false",
        )
    range_key, body = _range_of(spec)
    if not isinstance(kind, str) or range_key is None or range_key != expected:
        return
    range_path = (*here, "Range", range_key)
    if kind in ("Integer", "Continuous"):
        for bound in ("MinValue", "MaxValue"):
            text = body.get(bound)
            if isinstance(text, str) and parse_typed(kind, text) is None:
                yield error(
                    _CHECK,
                    "hyperparameter-range",
                    (*range_path, bound),
                    f"{text!r} is not a valid {kind} value",
                )
        low, high = _bounds(kind, body)
        if low is not None and high is not None and low > high:
            yield error(
                _CHECK,
                "hyperparameter-range",
                (*range_path, "MinValue"),
                f"MinValue {body['MinValue']} is greater than MaxValue {body['MaxValue']}",
            )
            return  # a default cannot be judged against an inverted range
    elif kind == "Categorical":
        values = body.get("Values")
        if isinstance(values, list) and len(set(map(str, values))) != len(values):
            yield warning(
                _CHECK,
                "hyperparameter-range",
                (*range_path, "Values"),
                "Categorical Values lists the same value twice",
            )
    if isinstance(default, str):
        problem = value_problem(spec, default)
        if problem:
            yield error(
                _CHECK, "hyperparameter-default", (*here, "DefaultValue"), f"DefaultValue {problem}"
            )


def value_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """Why `value` is not acceptable for the hyperparameter `spec`, or None when it is."""
    kind = spec.get("Type")
    range_key, body = _range_of(spec)
    if kind in ("Integer", "Continuous"):
        number = parse_typed(kind, value)
        if number is None:
            return f"{value!r} is not a valid {kind} value"
        low, high = _bounds(kind, body) if range_key == _RANGE_KEYS[kind] else (None, None)
        if (low is not None and number < low) or (high is not None and number > high):
            return (
                f"{value!r} is outside the range [{body.get('MinValue')}, {body.get('MaxValue')}]"
            )
    elif kind == "Categorical" and range_key == _RANGE_KEYS["Categorical"]:
        values = body.get("Values")
        if isinstance(values, list) and value not in values:
            return f"{value!r} is not one of the Categorical Values {values}"
    return None


def check_values(
    specs: Any, values: Any, path: JsonPath, *, owner: str = "HyperParameters"
) -> Iterator[Finding]:
    """A job's `HyperParameters` map (at `path`) against the algorithm's specifications."""
    by_name = {
        spec["Name"]: spec
        for spec in (specs if isinstance(specs, list) else [])
        if isinstance(spec, dict) and isinstance(spec.get("Name"), str)
    }
    given = values if isinstance(values, dict) else {}
    for name, value in given.items():
        spec = by_name.get(name)
        if spec is None:
            yield error(
                _CHECK,
                "hyperparameter-unknown",
                (*path, name),
                f"{owner} sets {name!r}, which SupportedHyperParameters does not declare",
                did_you_mean(name, list(by_name)),
            )
            continue
        if isinstance(value, str):
            problem = value_problem(spec, value)
            if problem:
                yield error(_CHECK, "hyperparameter-value", (*path, name), problem)
            elif len(value) > 256:
                yield warning(
                    _CHECK,
                    "hyperparameter-value",
                    (*path, name),
                    f"value is {len(value)} characters; the CreateTrainingJob "
                    "documentation limits values to 256 (the model allows 2500)",
                )
    for name, spec in by_name.items():
        if (
            spec.get("IsRequired") is True
            and spec.get("DefaultValue") is None
            and name not in given
        ):
            yield error(
                _CHECK,
                "hyperparameter-required",
                path,
                f"required hyperparameter {name!r} is not set and has no default",
            )


def with_defaults(specs: Any, values: Mapping[str, str]) -> dict[str, str]:
    """`values` plus each declared DefaultValue not already set: what the container receives."""
    filled = dict(values)
    for spec in specs if isinstance(specs, list) else []:
        if not isinstance(spec, dict):
            continue
        name, default = spec.get("Name"), spec.get("DefaultValue")
        if isinstance(name, str) and isinstance(default, str):
            filled.setdefault(name, default)
    return filled
