"""Helpers of `harness run` (harness/jobs/run.py), pure but for the inputs' digests and the
emptying of a row's folder: its options and matrix, the catalogue of the check IDs a run can
report (what `--only/--skip` may name), job names, the metric definitions of a request, the
SIGTERM probe's job, and the report.json records of emulations, training, serving and
transform outcomes.

Every path report.json records is relative to `--out` (DESIGN §2): `relative_path` for the
records, `relative_paths` for what a check's evidence names."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.algorithm.findings import CheckId
from harness.algorithm.suggest import did_you_mean
from harness.checks.images import IMAGE_DIGEST, IMAGE_ENTRYPOINT, IMAGE_PLATFORM
from harness.checks.metrics import METRIC_CHECKS
from harness.checks.serving import SERVING_CHECKS
from harness.checks.training import TRAINING_CHECKS
from harness.errors import HarnessError, UsageError
from harness.hardware.emulation import Emulation, Fidelity
from harness.jobs.endpoint import SERVE_SIGTERM_GRACE_SECONDS
from harness.jobs.images import PullPolicy
from harness.jobs.training import SIGTERM_GRACE_SECONDS, TrainingJob, TrainingOutcome
from harness.jobs.transform import TRANSFORM_CHECKS
from harness.plan import MAX_INSTANCE_COUNT, Plan, ProfilePlan
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


RUN_CHECK_IDS: tuple[str, ...] = (
    CheckId.SPEC_SCHEMA.value,  # SPEC-PARSE findings are reported under SPEC-SCHEMA in a run
    CheckId.SPEC_SEMANTICS.value,
    IMAGE_DIGEST,
    IMAGE_PLATFORM,
    IMAGE_ENTRYPOINT,
    *TRAINING_CHECKS,
    *METRIC_CHECKS,
    *SERVING_CHECKS,
    *TRANSFORM_CHECKS,
)
"""Every check ID `harness run` can report, in the order of docs/checks.md: built from the
constants the checks themselves use, so a new check is selectable as soon as it exists."""


def unknown_check_selectors(selectors: Iterable[str]) -> list[str]:
    """The `--only/--skip` values that select no check of RUN_CHECK_IDS, in the order given
    (each once). A value selects the IDs it begins (`TRAIN-COMPLETES`, `TRAIN-`, `SERVE`), as
    `RunOptions.wants` reads it; an empty or blank value selects nothing, since it would
    otherwise select everything."""
    unknown: list[str] = []
    for selector in selectors:
        known = selector.strip() and any(c.startswith(selector) for c in RUN_CHECK_IDS)
        if not known and selector not in unknown:
            unknown.append(selector)
    return unknown


def require_known_check_selectors(only: Iterable[str], skip: Iterable[str]) -> None:
    """Raise UsageError (exit 4) naming every `--only`/`--skip` value that selects no check:
    a typo would otherwise run everything (`--skip`) or nothing (`--only`) without a word.
    Sets are read in sorted order, so the message does not depend on hashing."""
    unknown = [
        (option, value)
        for option, values in (("--only", only), ("--skip", skip))
        for value in unknown_check_selectors(
            sorted(values) if isinstance(values, set | frozenset) else values
        )
    ]
    if not unknown:
        return
    named = ", ".join(f"{option} {value!r}" for option, value in unknown)
    suggestion = next(
        (hint for _, value in unknown if (hint := did_you_mean(value, RUN_CHECK_IDS))), None
    )
    raise UsageError(
        f"{named} {'selects' if len(unknown) == 1 else 'select'} no check",
        hint="; ".join(
            part
            for part in (
                suggestion,
                "name a check ID or its start (e.g. TRAIN-): " + ", ".join(RUN_CHECK_IDS),
            )
            if part
        ),
    )


def run_matrix(plan: Plan, options: RunOptions) -> list[tuple[ProfilePlan, str]]:
    """Every profile x instance type a run goes through, in order, each once: a profile or
    an instance type given twice (`--instance-type X --instance-type X`) would run the same
    row again into the same folder (of two profiles of one name, the first is run)."""
    rows: list[tuple[ProfilePlan, str]] = []
    seen: set[tuple[str, str]] = set()
    for profile in plan.profiles:
        for instance_type in options.instance_types or profile.instance_types:
            if (profile.name, instance_type) not in seen:
                seen.add((profile.name, instance_type))
                rows.append((profile, instance_type))
    return rows


def host_count(profile: ProfilePlan) -> int:
    """The profile's InstanceCount, refused (UsageError) outside 1..MAX_INSTANCE_COUNT before
    an emulation is planned per host: the plan readers refuse it already, but a Plan built
    otherwise must not make a run plan a trillion hosts."""
    count = profile.training.instance_count
    if not 1 <= count <= MAX_INSTANCE_COUNT:
        raise UsageError(
            f"profile {profile.name}: instance_count {count} is not between 1 and "
            f"{MAX_INSTANCE_COUNT}",
            hint=f"a local run emulates each host as a container on this machine, at most "
            f"{MAX_INSTANCE_COUNT}",
        )
    return count


def run_inputs(plan: Plan, request_file: Path) -> list[Path]:
    """Every file and folder a run reads: the plan, the request, each profile's data."""
    paths = [plan.file, plan.algorithm, request_file]
    for profile in plan.profiles:
        paths += [channel.path for channel in profile.training.channels]
        if profile.transform is not None:
            paths.append(profile.transform.input)
            if profile.transform.expected_output is not None:
                paths.append(profile.transform.expected_output)
        if profile.serving is not None:
            paths += [request.body for request in profile.serving.requests]
    return paths


def empty_row_folder(out_dir: Path, folder: Path, inputs: Iterable[Path] = ()) -> None:
    """Empty a row's folder (OUT/<profile>/<instance type>) before the row runs, so that it
    ends up holding exactly this run's files: an earlier run into the same --out left logs,
    .out files, serve.log, sigterm-probe/ there, and the bundle takes the folders of the rows
    report.json records.

    Only that folder's contents go. Symbolic links in it are removed, never followed
    (shutil.rmtree does not follow them either); a link or a file standing where the folder
    belongs is removed itself, never what it points to. Refused (UsageError), touching
    nothing: a folder that is not two plain names below `out_dir`, a profile folder that is a
    link or a file (the row would not be under --out), a folder holding one of `inputs` (the
    plan, the request, the data: `run_inputs`), or a file that cannot be removed.
    """
    parts = folder.relative_to(out_dir).parts if folder.is_relative_to(out_dir) else ()
    if len(parts) != 2 or any(part in {".", ".."} for part in parts):
        raise UsageError(f"{folder} is not a row folder under {out_dir}", where=str(folder))
    profile_dir = out_dir / parts[0]
    if profile_dir.is_symlink() or (profile_dir.exists() and not profile_dir.is_dir()):
        raise UsageError(
            "is a symbolic link or a file where the run writes a profile's folder",
            where=str(profile_dir),
            hint="remove it, or choose another --out",
        )
    try:
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
            return
        if not folder.exists():
            return
        real = folder.resolve()
        for item in inputs:
            if item.resolve().is_relative_to(real):
                raise UsageError(
                    f"holds {item}, which this run reads; a row's folder is emptied before "
                    "the row runs",
                    where=str(folder),
                    hint="choose an --out that holds no input of the run",
                )
        with os.scandir(folder) as scan:
            entries = list(scan)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    except OSError as exc:
        raise UsageError(
            f"cannot empty the row's folder: {exc.strerror or exc} ({exc.filename})",
            where=str(folder),
            hint="files an earlier run's containers wrote (--keep) may belong to root: "
            "remove the folder, or choose another --out",
        ) from None


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
    # Each host's channel summary carries the digest of the whole channel (training.py); it
    # is said once, as `data_sha256` {channel: hex}.
    channels: dict[str, Any] = {}
    data_sha256: dict[str, str] = {}
    for host, summary in outcome.channels.items():
        channels[host] = {}
        for name, info in summary.items():
            if isinstance(info, dict) and "data_sha256" in info:
                info = dict(info)
                data_sha256.setdefault(name, info.pop("data_sha256"))
            channels[host][name] = info
    record = {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "duration_s": round(outcome.duration_s, 3),
        "failure_reason": outcome.failure_reason,
        "peak_memory_bytes": outcome.peak_memory_bytes,
        "gpu": gpu or None,
        "model_artifact": artifact(outcome.model),
        "output_artifact": artifact(outcome.output),
        "hosts": [h.to_dict(root) for h in outcome.hosts],
        "channels": channels,
    }
    if data_sha256:
        record["data_sha256"] = data_sha256
    return record
