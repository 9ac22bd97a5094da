"""TRAIN-* checks evaluated from literal outcomes (no Docker): every branch, both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.checks import training as checks
from harness.checks.results import CheckStatus
from harness.hardware.catalogue import lookup_instance_type
from harness.hardware.emulation import Emulation, Fidelity
from harness.hardware.usage import UsageSummary
from harness.jobs.training import HostResult, TrainingJob, TrainingOutcome
from harness.plan import ChannelPlan, ProfilePlan, TrainingPlan
from harness.sagemaker.artifacts import ArtifactInfo

GIB = 1024**3
PROFILE = ProfilePlan(
    "smoke", ("ml.m5.large",), TrainingPlan((ChannelPlan("training", Path("/data")),))
)


def emulation(name: str = "ml.m5.large", gpus: tuple[str, ...] = ()) -> Emulation:
    kind = lookup_instance_type(name)
    return Emulation(
        kind, Fidelity.EXACT, (), "0-1", None, kind.memory_bytes, kind.memory_bytes // 2, gpus, {}
    )


def usage(
    peak: int | None = 2 * GIB, gpu: dict[str, Any] | None = None, note: str | None = None
) -> UsageSummary:
    return UsageSummary(peak, 1.5, 8 * GIB, 0, (), gpu, note)


def host(
    exit_code: int | None = 0,
    reason: str | None = None,
    oom: bool = False,
    summary: UsageSummary | None = None,
    name: str = "algo-1",
) -> HostResult:
    return HostResult(
        name,
        exit_code,
        oom,
        reason,
        Path(f"/logs/{name}.log"),
        (),
        summary if summary is not None else usage(),
    )


def model(
    files: int = 2, problems: tuple[str, ...] = (), conflicts: tuple[str, ...] = ()
) -> ArtifactInfo:
    return ArtifactInfo(Path("/out/model.tar.gz"), 100, "sha256:x", files, problems, conflicts)


def outcome(
    status: str = "Completed",
    hosts: tuple[HostResult, ...] | None = None,
    artifact: ArtifactInfo | None = None,
    **extra: Any,
) -> TrainingOutcome:
    job = TrainingJob(
        "r1", "job", "img", {}, PROFILE, "ml.m5.large", (emulation(),), Path("/out"), 600, 120
    )
    return TrainingOutcome(
        job,
        status,
        hosts if hosts is not None else (host(),),
        3.0,
        model=artifact if artifact is not None else model(),
        **extra,
    )


def test_completes_pass_and_failures():
    assert checks.check_completes(outcome()).status is CheckStatus.PASS
    failed = checks.check_completes(outcome("Failed", (host(2),)))
    assert failed.status is CheckStatus.FAIL
    assert failed.message == "algo-1 exited 2"
    oom = checks.check_completes(outcome("Failed", (host(137, oom=True),)))
    assert "out of memory" in oom.message
    late = checks.check_completes(outcome("MaxRuntimeExceeded"))
    assert "MaxRuntimeExceeded" in late.message


def test_model_checks():
    assert checks.check_model(outcome()).status is CheckStatus.PASS
    assert checks.check_model(outcome(artifact=model(files=0))).status is CheckStatus.FAIL
    escaped = checks.check_model(outcome(artifact=model(problems=("secret -> /etc/passwd",))))
    assert escaped.status is CheckStatus.FAIL
    assert "secret -> /etc/passwd" in escaped.message
    merged = checks.check_model(outcome(artifact=model(conflicts=("model.json",))))
    assert merged.status is CheckStatus.PASS
    assert "model.json" in merged.warnings[0]
    assert checks.check_model(outcome("Failed", (host(1),))).status is CheckStatus.SKIP
    # A job stopped at MaxRuntime still has its model packaged and checked.
    assert checks.check_model(outcome("MaxRuntimeExceeded")).status is CheckStatus.PASS


def test_failure_reason():
    assert checks.check_failure_reason(outcome()).status is CheckStatus.SKIP
    given = checks.check_failure_reason(outcome("Failed", (host(1, "bad input: no rows"),)))
    assert given.status is CheckStatus.PASS
    assert "bad input" in given.message
    missing = checks.check_failure_reason(outcome("Failed", (host(2),)))
    assert missing.status is CheckStatus.FAIL
    oom = checks.check_failure_reason(outcome("Failed", (host(137, oom=True),)))
    assert oom.status is CheckStatus.SKIP


def test_resources():
    fine = checks.check_resources(outcome(), emulation())
    assert fine.status is CheckStatus.PASS
    assert "25%" in fine.message
    tight = checks.check_resources(
        outcome(hosts=(host(summary=usage(int(7.5 * GIB))),)), emulation()
    )
    assert tight.warnings
    oom = checks.check_resources(outcome("Failed", (host(137, oom=True),)), emulation())
    assert oom.status is CheckStatus.FAIL
    unsampled = checks.check_resources(
        outcome(hosts=(host(summary=usage(None, note="cgroup not readable")),)), emulation()
    )
    assert unsampled.status is CheckStatus.SKIP
    assert "cgroup not readable" in unsampled.message


def gpu_usage(peak_bytes: int) -> UsageSummary:
    return usage(gpu={"devices": [{"uuid": "GPU-1", "peak_memory_bytes": peak_bytes}], "notes": []})


@pytest.mark.parametrize(
    ("peak", "status"), [(3 * GIB, CheckStatus.PASS), (0, CheckStatus.FAIL)], ids=["used", "idle"]
)
def test_gpu_used_from_recorded_readings(peak, status):
    gpu_type = emulation("ml.g5.xlarge", ("GPU-1",))
    result = checks.check_gpu_used(outcome(hosts=(host(summary=gpu_usage(peak)),)), gpu_type)
    assert result.status is status


def test_gpu_used_is_skipped_on_cpu_types():
    assert checks.check_gpu_used(outcome(), emulation()).status is CheckStatus.SKIP


def test_gpu_memory_above_the_type_fails_resources():
    gpu_type = emulation("ml.g5.xlarge", ("GPU-1",))
    result = checks.check_resources(outcome(hosts=(host(summary=gpu_usage(30 * GIB)),)), gpu_type)
    assert result.status is CheckStatus.FAIL
    assert "GPU-1" in result.message


def test_sigterm_probe():
    done = checks.check_sigterm(outcome())
    assert done.status is CheckStatus.SKIP
    graceful = checks.check_sigterm(
        outcome("Interrupted", sigterm_sent_after_s=2.0, exited_after_sigterm_s=0.3)
    )
    assert graceful.status is CheckStatus.PASS
    killed = checks.check_sigterm(outcome("Interrupted", sigterm_sent_after_s=2.0, killed=True))
    assert killed.status is CheckStatus.FAIL
    no_model = checks.check_sigterm(
        outcome(
            "Interrupted",
            artifact=model(files=0),
            sigterm_sent_after_s=2.0,
            exited_after_sigterm_s=0.3,
        )
    )
    assert no_model.status is CheckStatus.FAIL
