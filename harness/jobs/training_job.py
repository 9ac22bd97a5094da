"""A training job as the runner takes it (`TrainingJob`) and what came of it (`TrainingOutcome`,
one `HostResult` per host): frozen data, read by the TRAIN-* checks and report.json.

The runner that turns one into the other is in training.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.hardware.emulation import Emulation
from harness.hardware.usage import UsageSummary
from harness.plan import ProfilePlan
from harness.sagemaker.artifacts import ArtifactInfo

SIGTERM_GRACE_SECONDS = 120  # SageMaker: SIGTERM, then SIGKILL 120 s later
FAILURE_REASON_LIMIT = 1024


@dataclass(frozen=True)
class TrainingJob:
    """What to run: the pinned image, the plan profile, the emulated type, where to write."""

    run_id: str
    job_name: str
    image: str
    request: dict[str, Any]
    profile: ProfilePlan
    instance_type: str
    emulations: tuple[Emulation, ...]
    """One per host."""
    out_dir: Path
    max_runtime_seconds: int
    sigterm_grace_seconds: float = SIGTERM_GRACE_SECONDS
    interrupt_after_seconds: float | None = None
    """Send SIGTERM after this long (the TRAIN-SIGTERM probe); None: only at MaxRuntime."""
    keep: bool = False


@dataclass(frozen=True)
class HostResult:
    host: str
    exit_code: int | None
    oom_killed: bool
    failure_reason: str | None
    log_path: Path
    log_tail: tuple[str, ...]
    usage: UsageSummary | None

    def to_dict(self, root: Path) -> dict[str, Any]:
        return {
            "host": self.host,
            "exit_code": self.exit_code,
            "oom_killed": self.oom_killed,
            "failure_reason": self.failure_reason,
            "log": _relative(self.log_path, root),
            "usage": self.usage.to_dict() if self.usage else None,
        }


@dataclass(frozen=True)
class TrainingOutcome:
    job: TrainingJob
    status: str
    """Completed | Failed | MaxRuntimeExceeded | Interrupted (the SIGTERM probe)."""
    hosts: tuple[HostResult, ...]
    duration_s: float
    sigterm_sent_after_s: float | None = None
    exited_after_sigterm_s: float | None = None
    killed: bool = False
    """SIGKILL was needed: the job ignored SIGTERM for the whole grace period."""
    model: ArtifactInfo | None = None
    output: ArtifactInfo | None = None
    channels: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int | None:
        codes = [h.exit_code for h in self.hosts]
        return next((c for c in codes if c), codes[0] if codes else None)

    @property
    def failure_reason(self) -> str | None:
        reasons = [
            f"{h.host}: {h.failure_reason}" if len(self.hosts) > 1 else h.failure_reason
            for h in self.hosts
            if h.failure_reason
        ]
        return "; ".join(r for r in reasons if r)[:FAILURE_REASON_LIMIT] or None

    @property
    def peak_memory_bytes(self) -> int | None:
        peaks = [
            h.usage.peak_memory_bytes
            for h in self.hosts
            if h.usage and h.usage.peak_memory_bytes is not None
        ]
        return max(peaks) if peaks else None


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
