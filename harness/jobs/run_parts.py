"""Pure helpers of `harness run` (harness/jobs/run.py): job names, the metric definitions of a
request, and the report.json records of emulations, training, serving and transform outcomes.

Every path report.json records is relative to `--out` (DESIGN §2): `relative_path` for the
records, `relative_paths` for what a check's evidence names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.hardware.emulation import Emulation, Fidelity
from harness.jobs.training import TrainingOutcome
from harness.sagemaker.metrics import MetricDefinition, MetricExtractor


def job_name(run_id: str, profile: str, instance_type: str, suffix: str = "") -> str:
    """A training job name SageMaker would accept (1-63 letters, digits, hyphens)."""
    parts = [run_id, profile, instance_type.removeprefix("ml."), suffix]
    text = "-".join(re.sub(r"[^a-zA-Z0-9]+", "-", p).strip("-") for p in parts if p)
    return re.sub(r"-{2,}", "-", text)[:63].strip("-")


def metric_extractor(request: dict[str, Any]) -> tuple[MetricExtractor, list[str]]:
    """An extractor of the request's MetricDefinitions, and its tuning objective metrics."""
    specification = request.get("TrainingSpecification") or {}
    extractor = MetricExtractor(
        [
            MetricDefinition(d["Name"], d["Regex"])
            for d in specification.get("MetricDefinitions") or []
            if isinstance(d, dict)
            and isinstance(d.get("Name"), str)
            and isinstance(d.get("Regex"), str)
        ]
    )
    objectives = [
        o["MetricName"]
        for o in specification.get("SupportedTuningJobObjectiveMetrics") or []
        if isinstance(o, dict) and isinstance(o.get("MetricName"), str)
    ]
    return extractor, objectives


def worst_fidelity(emulations: tuple[Emulation, ...]) -> Fidelity:
    order = [Fidelity.EXACT, Fidelity.SCALED, Fidelity.UNAVAILABLE]
    return max((e.fidelity for e in emulations), key=order.index)


def emulation_dict(emulations: tuple[Emulation, ...]) -> dict[str, Any]:
    return {"hosts": [e.to_dict() for e in emulations]}


def relative_path(path: Path, root: Path) -> str:
    """`path` relative to `root` (the run's `--out`); a path outside it stays as it is."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def relative_paths(value: Any, root: Path) -> Any:
    """`value` (a check's evidence) with every string that is an absolute path under `root`
    made relative to it, in nested dicts and lists too; everything else unchanged."""
    if isinstance(value, str):
        if value.startswith("/") and Path(value).is_relative_to(root):
            return relative_path(Path(value), root)
        return value
    if isinstance(value, dict):
        return {key: relative_paths(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [relative_paths(item, root) for item in value]
    if type(value) is tuple:
        return tuple(relative_paths(item, root) for item in value)
    return value


def phase_dict(record: dict[str, Any], log_path: Path | None, root: Path) -> dict[str, Any]:
    """The report.json record of a serving or transform phase: its runner's `record` and the
    container log (`log`, relative to `root`) when one was written."""
    data = dict(record)
    if log_path is not None:
        data["log"] = relative_path(log_path, root)
    return data


def training_dict(outcome: TrainingOutcome, root: Path) -> dict[str, Any]:
    def artifact(info: Any) -> dict[str, Any] | None:
        if info is None:
            return None
        data = dict(info.to_dict())
        data["path"] = relative_path(Path(data["path"]), root) if "path" in data else None
        return data

    gpu = {h.host: h.usage.gpu for h in outcome.hosts if h.usage and h.usage.gpu}
    return {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "duration_s": round(outcome.duration_s, 3),
        "failure_reason": outcome.failure_reason,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "gpu": gpu or None,
        "model_artifact": artifact(outcome.model),
        "output_artifact": artifact(outcome.output),
        "hosts": [h.to_dict(root) for h in outcome.hosts],
        "channels": outcome.channels,
    }
