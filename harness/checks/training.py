"""TRAIN-* checks evaluated from a training job's outcome (pure).

TRAIN-COMPLETES, TRAIN-MODEL, TRAIN-FAILURE-REASON, TRAIN-RESOURCES and TRAIN-GPU-USED read the
main run; TRAIN-SIGTERM reads a second, deliberately interrupted run (the probe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.checks.results import CheckResult, CheckStatus

if TYPE_CHECKING:
    from harness.hardware.emulation import Emulation
    from harness.jobs.training import TrainingOutcome

TRAIN_COMPLETES = "TRAIN-COMPLETES"
TRAIN_MODEL = "TRAIN-MODEL"
TRAIN_FAILURE_REASON = "TRAIN-FAILURE-REASON"
TRAIN_RESOURCES = "TRAIN-RESOURCES"
TRAIN_GPU_USED = "TRAIN-GPU-USED"
TRAIN_SIGTERM = "TRAIN-SIGTERM"
TRAINING_CHECKS = (
    TRAIN_COMPLETES,
    TRAIN_MODEL,
    TRAIN_FAILURE_REASON,
    TRAIN_RESOURCES,
    TRAIN_GPU_USED,
    TRAIN_SIGTERM,
)
_MIB = 1024 * 1024


def _gib(value: int) -> str:
    """Bytes for a reader: MiB below a GiB (a small job's 14 MiB is not '0.01 GiB')."""
    if value < 1024**3:
        return f"{value / _MIB:.0f} MiB"
    return f"{value / 1024**3:.2f} GiB"


def check_completes(outcome: TrainingOutcome) -> CheckResult:
    evidence = {
        "status": outcome.status,
        "duration_s": round(outcome.duration_s, 3),
        "exit_codes": {h.host: h.exit_code for h in outcome.hosts},
    }
    if outcome.status == "Completed":
        return CheckResult(
            TRAIN_COMPLETES,
            CheckStatus.PASS,
            f"{len(outcome.hosts)} host(s) exited 0 in {outcome.duration_s:.1f} s",
            evidence=evidence,
        )
    if outcome.status == "MaxRuntimeExceeded":
        return CheckResult(
            TRAIN_COMPLETES,
            CheckStatus.FAIL,
            f"still running at MaxRuntimeInSeconds "
            f"({outcome.job.max_runtime_seconds} s): stopped as "
            "MaxRuntimeExceeded",
            evidence=evidence,
        )
    failed = [h for h in outcome.hosts if h.exit_code]
    parts = []
    for host in failed:
        text = f"{host.host} exited {host.exit_code}"
        if host.oom_killed:
            text += " (killed by the kernel: out of memory)"
        parts.append(text)
    return CheckResult(
        TRAIN_COMPLETES,
        CheckStatus.FAIL,
        "; ".join(parts) or f"training {outcome.status}",
        evidence=evidence,
    )


def check_model(outcome: TrainingOutcome) -> CheckResult:
    model = outcome.model
    if outcome.status == "Failed":
        return CheckResult(
            TRAIN_MODEL,
            CheckStatus.SKIP,
            "training failed: SageMaker uploads no model for a failed job",
        )
    if model is None:
        return CheckResult(TRAIN_MODEL, CheckStatus.ERROR, "the model was not packaged")
    evidence = model.to_dict()
    if model.problems:
        return CheckResult(
            TRAIN_MODEL,
            CheckStatus.FAIL,
            "/opt/ml/model has entries that cannot be packaged: " + "; ".join(model.problems),
            evidence=evidence,
        )
    if model.files == 0:
        return CheckResult(
            TRAIN_MODEL,
            CheckStatus.FAIL,
            "/opt/ml/model is empty: nothing for serving to load",
            evidence=evidence,
        )
    warnings = tuple(
        f"{conflict} was written by several hosts; the first host's copy was kept"
        for conflict in model.conflicts
    )
    return CheckResult(
        TRAIN_MODEL,
        CheckStatus.PASS,
        f"model.tar.gz: {model.files} file(s), {model.bytes} bytes",
        evidence=evidence,
        warnings=warnings,
    )


def check_failure_reason(outcome: TrainingOutcome) -> CheckResult:
    if outcome.status == "Completed":
        return CheckResult(
            TRAIN_FAILURE_REASON,
            CheckStatus.SKIP,
            "training succeeded: there was no failure to explain",
        )
    failed = [h for h in outcome.hosts if h.exit_code] or list(outcome.hosts)
    explained = [h for h in failed if h.failure_reason]
    if explained:
        return CheckResult(
            TRAIN_FAILURE_REASON,
            CheckStatus.PASS,
            f"/opt/ml/output/failure says: {(explained[0].failure_reason or '')[:200]}",
            evidence={"failure_reason": outcome.failure_reason},
        )
    if all(h.oom_killed for h in failed):
        return CheckResult(
            TRAIN_FAILURE_REASON,
            CheckStatus.SKIP,
            "killed by the kernel for lack of memory: no chance to write a reason",
        )
    return CheckResult(
        TRAIN_FAILURE_REASON,
        CheckStatus.FAIL,
        f"training {outcome.status} without writing /opt/ml/output/failure: "
        "SageMaker will show buyers only the exit code",
        warnings=(
            "write a one-line reason (at most 1024 characters) to "
            "/opt/ml/output/failure before exiting non-zero",
        ),
    )


def check_resources(outcome: TrainingOutcome, emulation: Emulation) -> CheckResult:
    limit = emulation.memory_bytes
    oom = [h.host for h in outcome.hosts if h.oom_killed]
    peak = outcome.peak_memory_bytes
    evidence = {
        "peak_memory_bytes": peak,
        "memory_limit_bytes": limit,
        "instance_type": emulation.instance_type.name,
        "hosts": {h.host: h.usage.to_dict() if h.usage else None for h in outcome.hosts},
    }
    if oom:
        return CheckResult(
            TRAIN_RESOURCES,
            CheckStatus.FAIL,
            f"{', '.join(oom)} ran out of memory: killed at the "
            f"{_gib(limit)} limit of {emulation.instance_type.name}",
            evidence=evidence,
        )
    gpu_problem = _gpu_memory_problem(outcome, emulation)
    if gpu_problem:
        return CheckResult(TRAIN_RESOURCES, CheckStatus.FAIL, gpu_problem, evidence=evidence)
    if peak is None:
        notes = [h.usage.note for h in outcome.hosts if h.usage and h.usage.note]
        return CheckResult(
            TRAIN_RESOURCES,
            CheckStatus.SKIP,
            "memory use could not be sampled" + (f": {notes[0]}" if notes else ""),
            evidence=evidence,
        )
    share = peak / limit if limit else 0.0
    warnings: tuple[str, ...] = ()
    if share > 0.9:
        warnings = (f"peak memory is {share:.0%} of the instance's; a larger dataset may not fit",)
    return CheckResult(
        TRAIN_RESOURCES,
        CheckStatus.PASS,
        f"peak memory {_gib(peak)} of {_gib(limit)} ({share:.0%})",
        evidence=evidence,
        warnings=warnings,
    )


def _gpu_devices(outcome: TrainingOutcome) -> dict[str, list[dict[str, Any]]]:
    """Per host, the GPU devices its processes were seen on (UsageSummary.gpu["devices"])."""
    found: dict[str, list[dict[str, Any]]] = {}
    for host in outcome.hosts:
        gpu = (host.usage.gpu or {}) if host.usage else {}
        devices = gpu.get("devices") if isinstance(gpu, dict) else None
        found[host.host] = [d for d in devices or [] if isinstance(d, dict)]
    return found


def _gpu_memory_problem(outcome: TrainingOutcome, emulation: Emulation) -> str | None:
    each = emulation.instance_type.accelerator_memory_mib_each
    if not each:
        return None
    for host, devices in _gpu_devices(outcome).items():
        for device in devices:
            peak = int(device.get("peak_memory_bytes") or 0)
            uuid = device.get("uuid")
            if peak > each * _MIB:
                return (
                    f"{host} used {_gib(peak)} on GPU {uuid}; "
                    f"{emulation.instance_type.name} GPUs have {each / 1024:.1f} GiB"
                )
    return None


def check_gpu_used(outcome: TrainingOutcome, emulation: Emulation) -> CheckResult:
    kind = emulation.instance_type
    if not kind.is_gpu:
        return CheckResult(TRAIN_GPU_USED, CheckStatus.SKIP, f"{kind.name} has no GPUs")
    used = {
        host: sorted(str(d.get("uuid")) for d in devices if (d.get("peak_memory_bytes") or 0) > 0)
        for host, devices in _gpu_devices(outcome).items()
    }
    evidence = {"gpus_given": list(emulation.gpu_uuids), "gpus_used": used}
    idle = [host for host, uuids in used.items() if not uuids]
    if idle:
        return CheckResult(
            TRAIN_GPU_USED,
            CheckStatus.FAIL,
            f"{', '.join(idle)} never used the GPU(s) it was given: training ran on the CPU",
            evidence=evidence,
        )
    return CheckResult(
        TRAIN_GPU_USED,
        CheckStatus.PASS,
        "every host used its GPU(s): " + ", ".join(f"{h} {len(u)}" for h, u in used.items()),
        evidence=evidence,
    )


def check_sigterm(probe: TrainingOutcome) -> CheckResult:
    grace = probe.job.sigterm_grace_seconds
    evidence = {
        "sigterm_after_s": probe.sigterm_sent_after_s,
        "exited_after_sigterm_s": probe.exited_after_sigterm_s,
        "grace_s": grace,
        "exit_codes": {h.host: h.exit_code for h in probe.hosts},
    }
    if probe.sigterm_sent_after_s is None:
        return CheckResult(
            TRAIN_SIGTERM,
            CheckStatus.SKIP,
            f"training finished in {probe.duration_s:.1f} s, before the probe's "
            "SIGTERM: nothing to interrupt",
            evidence=evidence,
        )
    if probe.killed:
        return CheckResult(
            TRAIN_SIGTERM,
            CheckStatus.FAIL,
            f"still running {grace:.0f} s after SIGTERM: SageMaker would SIGKILL "
            "it and lose the model",
            evidence=evidence,
            warnings=(
                "handle SIGTERM: save the model and exit; with a shell-form "
                "ENTRYPOINT the signal never reaches the program",
            ),
        )
    exited = probe.exited_after_sigterm_s or 0.0
    model = probe.model
    if model is None or model.files == 0:
        return CheckResult(
            TRAIN_SIGTERM,
            CheckStatus.FAIL,
            f"exited {exited:.1f} s after SIGTERM but left no model",
            evidence=evidence,
        )
    return CheckResult(
        TRAIN_SIGTERM,
        CheckStatus.PASS,
        f"exited {exited:.1f} s after SIGTERM and left its model ({model.files} file(s))",
        evidence=evidence,
    )
