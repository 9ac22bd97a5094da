"""Pure helpers of `harness run` (harness/jobs/run.py): its options and matrix, job names, the
metric definitions of a request, the SIGTERM probe's job, the inputs' digests, and the
report.json records of emulations, training, serving and transform outcomes.

Every path report.json records is relative to `--out` (DESIGN §2): `relative_path` for the
records, `relative_paths` for what a check's evidence names."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.hardware.emulation import Emulation, Fidelity
from harness.jobs.endpoint import SERVE_SIGTERM_GRACE_SECONDS
from harness.jobs.images import PullPolicy
from harness.jobs.training import SIGTERM_GRACE_SECONDS, TrainingJob, TrainingOutcome
from harness.plan import Plan, ProfilePlan
from harness.report.model import ReportOptions
from harness.sagemaker.metrics import MetricDefinition, MetricExtractor


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    instance_types: tuple[str, ...] = ()
    """Overrides every profile's instance_types when given."""
    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    keep: bool = False
    pull: PullPolicy = "missing"
    sigterm_grace_seconds: float = SIGTERM_GRACE_SECONDS
    serve_sigterm_grace_seconds: float = SERVE_SIGTERM_GRACE_SECONDS
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def wants(self, check_id: str) -> bool:
        if self.only and not any(check_id.startswith(o) for o in self.only):
            return False
        return not any(check_id.startswith(s) for s in self.skip)


def run_matrix(plan: Plan, options: RunOptions) -> list[tuple[ProfilePlan, str]]:
    """Every profile x instance type a run goes through, in order."""
    types = options.instance_types
    return [(p, t) for p in plan.profiles for t in types or p.instance_types]


def report_options(plan: Plan, options: RunOptions) -> ReportOptions:
    """What report.json says the run was asked to do (sets sorted: same options, same bytes)."""
    return ReportOptions(
        only=tuple(sorted(options.only)),
        skip=tuple(sorted(options.skip)),
        instance_types=options.instance_types,
        profiles=tuple(p.name for p in plan.profiles),
    )


def file_sha256(path: Path) -> str | None:
    """sha256 (hex) of a file's bytes; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def internal_error(exc: Exception) -> HarnessError:
    """A bug met during a run, as the error the CLI exits 5 with once the report is written
    (base HarnessError: exit 5); `--debug` shows the original traceback as its cause."""
    error = HarnessError(
        f"internal error: {type(exc).__name__}: {exc}",
        hint="run with --debug for the traceback, and please report it",
    )
    error.__cause__ = exc
    return error


def job_name(run_id: str, profile: str, instance_type: str, suffix: str = "") -> str:
    """A training job name SageMaker would accept (1-63 letters, digits, hyphens)."""
    parts = [run_id, profile, instance_type.removeprefix("ml."), suffix]
    text = "-".join(re.sub(r"[^a-zA-Z0-9]+", "-", p).strip("-") for p in parts if p)
    return re.sub(r"-{2,}", "-", text)[:63].strip("-")


def sigterm_probe_job(job: TrainingJob) -> TrainingJob:
    """TRAIN-SIGTERM's second run of `job`: SIGTERM after `sigterm_probe.after_seconds`, with
    the probe's hyperparameters (to slow a fast job down) over the profile's."""
    training = job.profile.training
    probe = training.sigterm_probe
    merged = {**training.hyperparameter_map, **dict(probe.hyperparameters)}
    profile = replace(
        job.profile, training=replace(training, hyperparameters=tuple(merged.items()))
    )
    return replace(
        job,
        job_name=job_name(job.run_id, job.profile.name, job.instance_type, "sigterm"),
        profile=profile,
        out_dir=job.out_dir / "sigterm-probe",
        interrupt_after_seconds=probe.after_seconds,
    )


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


def row_record(
    profile: str, instance_type: str, emulations: tuple[Emulation, ...]
) -> dict[str, Any]:
    """The start of a row's RunRecord (its phases add training, serving, transform)."""
    return {
        "profile": profile,
        "instance_type": instance_type,
        "emulation": worst_fidelity(emulations).value,
        "emulation_detail": emulation_dict(emulations),
    }


def training_skip_reason(emulations: tuple[Emulation, ...], image: str | None) -> str | None:
    """Why a row cannot train here (its checks are then `skip`), or None when it can."""
    if worst_fidelity(emulations) is Fidelity.UNAVAILABLE:
        return "cannot be emulated on this host: " + "; ".join(
            r for e in emulations for r in e.reasons
        )
    if image is None:
        return "the training image could not be resolved (see IMAGE-DIGEST)"
    return None


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
