"""TRAIN-METRICS and TRAIN-OBJECTIVE, evaluated from what the metric extractor found (pure).

A MetricDefinition that never yields a number breaks CloudWatch metrics and hyperparameter
tuning silently on SageMaker; here it fails, named, with the log lines that almost matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.results import CheckResult, CheckStatus
from harness.sagemaker.metrics import MetricSeries

TRAIN_METRICS = "TRAIN-METRICS"
TRAIN_OBJECTIVE = "TRAIN-OBJECTIVE"
METRIC_CHECKS = (TRAIN_METRICS, TRAIN_OBJECTIVE)
_LISTED = 5  # metrics named in a pass message before "and N more"


def check_metrics(series: Sequence[MetricSeries]) -> CheckResult:
    """Passes when every MetricDefinition matched at least one number."""
    if not series:
        return CheckResult(
            TRAIN_METRICS, CheckStatus.SKIP, "the algorithm declares no MetricDefinitions"
        )
    evidence = {"metrics": {s.name: _evidence(s) for s in series}}
    failures = [problem for s in series if (problem := _silence(s))]
    warnings = tuple(_warnings(series))
    if failures:
        return CheckResult(
            TRAIN_METRICS,
            CheckStatus.FAIL,
            f"{len(failures)} of {len(series)} MetricDefinition(s) yielded no number: "
            + "; ".join(failures),
            evidence=evidence,
            warnings=warnings,
        )
    shown = ", ".join(f"{s.name}={s.final:g} ({s.count} values)" for s in series[:_LISTED])
    more = f" and {len(series) - _LISTED} more" if len(series) > _LISTED else ""
    return CheckResult(
        TRAIN_METRICS,
        CheckStatus.PASS,
        f"every MetricDefinition yielded numbers (final values): {shown}{more}",
        evidence=evidence,
        warnings=warnings,
    )


def check_objective(series: Sequence[MetricSeries], objectives: Sequence[str]) -> CheckResult:
    """Passes when every SupportedTuningJobObjectiveMetrics[].MetricName was emitted."""
    if not objectives:
        return CheckResult(
            TRAIN_OBJECTIVE,
            CheckStatus.SKIP,
            "the algorithm declares no tuning objective metric (it cannot be tuned)",
        )
    by_name = {s.name: s for s in series}
    evidence = {
        "objectives": {
            name: {"count": by_name[name].count, "final": by_name[name].final}
            if name in by_name
            else None
            for name in objectives
        }
    }
    missing = []
    for name in objectives:
        found = by_name.get(name)
        if found is None:
            missing.append(f"{name} (no MetricDefinition has this name)")
        elif found.unsafe:
            missing.append(f"{name} (its regex was abandoned: {found.unsafe})")
        elif not found.count:
            missing.append(f"{name} (its regex found no number)")
    if missing:
        return CheckResult(
            TRAIN_OBJECTIVE,
            CheckStatus.FAIL,
            "tuning objective(s) never emitted, so a tuning job has nothing to optimise: "
            + "; ".join(missing),
            evidence=evidence,
        )
    return CheckResult(
        TRAIN_OBJECTIVE,
        CheckStatus.PASS,
        "tuning objective(s) emitted: "
        + ", ".join(f"{name} (final {by_name[name].final:g})" for name in objectives),
        evidence=evidence,
    )


def _silence(series: MetricSeries) -> str | None:
    """Why a definition yielded no number, or None when it yielded some."""
    if series.unsafe:
        return f"{series.name} is unsafe: {series.unsafe}"
    if series.count:
        return None
    if series.non_numeric:
        hint = ""
        if any(sample.rstrip("'").endswith("%") for sample in series.non_numeric_samples):
            hint = " (put the % outside the capture group)"
        return (
            f"{series.name} matched {series.non_numeric} line(s) but captured no number: "
            + ", ".join(series.non_numeric_samples)
            + hint
        )
    silent = f"{series.name}: {series.regex!r} matched no line of any host's stdout or stderr"
    if "\t" in series.regex or "\\t" in series.regex:
        silent += " (a tab reads as #011 in SageMaker's logs)"
    if series.near_misses:
        return f"{silent}; nearly: {' | '.join(series.near_misses)}"
    return f"{silent}, nor came close"


def _warnings(series: Sequence[MetricSeries]) -> list[str]:
    hosts = sorted({h for s in series for h in (*s.hosts_seen, *s.hosts)})
    found = []
    for s in series:
        if s.count and s.non_numeric:
            found.append(
                f"{s.name}: {s.non_numeric} of {s.matches} matches captured no number "
                f"(e.g. {s.non_numeric_samples[0]}); SageMaker drops those"
            )
        if s.exponent_samples:
            found.append(
                f"{s.name}: values in exponent notation ({', '.join(s.exponent_samples)}); a "
                "report says SageMaker dropped their exponent (aws/sagemaker-python-sdk#4263): "
                "print plain decimals"
            )
        if s.count and len(hosts) > 1 and len(s.hosts) < len(hosts):
            silent = [h for h in hosts if h not in s.hosts]
            found.append(
                f"{s.name}: emitted by {', '.join(s.hosts)} but not by {', '.join(silent)}; "
                "SageMaker documents nothing about metrics that only some hosts emit"
            )
    return found


def _evidence(series: MetricSeries) -> dict[str, Any]:
    return {
        "regex": series.regex,
        "engine": series.engine,
        "count": series.count,
        "final": series.final,
        "non_numeric": series.non_numeric,
        "hosts": list(series.hosts),
        "unsafe": series.unsafe,
        "near_misses": list(series.near_misses),
        "non_numeric_samples": list(series.non_numeric_samples),
    }
