"""What a plan (harness.yaml, DESIGN §2) is, once read: frozen dataclasses, the values each
setting allows, and SageMaker's defaults.

A default is what SageMaker does when a job leaves the setting out; a transform setting that
SageMaker takes from the container's /execution-parameters has None instead, so the transform
runner can apply the documented precedence. plan.py reads a plan file into these classes and
re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import PlanError

INPUT_MODES = ("File", "FastFile", "Pipe")
COMPRESSIONS = ("None", "Gzip")
DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")
RECORD_WRAPPERS = ("None", "RecordIO")
SPLIT_TYPES = ("None", "Line", "RecordIO", "TFRecord")
BATCH_STRATEGIES = ("MultiRecord", "SingleRecord")
ASSEMBLY_TYPES = ("None", "Line")
DEFAULT_MAX_RUNTIME_SECONDS = 86_400  # SageMaker's default StoppingCondition: one day
MAX_RUNTIME_SECONDS = 2_419_200
"""SageMaker's maximum StoppingCondition.MaxRuntimeInSeconds for a training job: 28 days (the
API reference says so; botocore's model gives only the minimum, 1)."""
MAX_INSTANCE_COUNT = 64
"""The most hosts (InstanceCount) a local run emulates. SageMaker's own limit per training job
is an account's service quota, not part of the API; every host here is a container on this one
machine with its share of the CPUs and memory, so beyond a few dozen a run only thrashes (and a
typo such as 1000000000000 would never start at all)."""
PROFILE_NAME_PATTERN = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
"""ValidationProfile.ProfileName (the API's EntityName), matched in full: the plan profile's
name becomes it, and a folder under --out."""
DEFAULT_STARTUP_TIMEOUT_SECONDS = 240  # how long SageMaker waits for /ping: 4 minutes
DEFAULT_SIGTERM_PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class ChannelPlan:
    name: str
    path: Path
    content_type: str | None = None
    compression: str = "None"
    distribution: str = "FullyReplicated"
    record_wrapper: str = "None"
    input_mode: str | None = None
    """Per-channel override of the job's input mode (Channel.InputMode)."""


@dataclass(frozen=True)
class SigtermProbePlan:
    """The TRAIN-SIGTERM probe: a second run, sent SIGTERM after `after_seconds`.

    `hyperparameters` are merged over the profile's for that run only, so a fast job can be
    made slow enough to interrupt (e.g. more epochs)."""

    after_seconds: float = DEFAULT_SIGTERM_PROBE_SECONDS
    hyperparameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TrainingPlan:
    channels: tuple[ChannelPlan, ...]
    hyperparameters: tuple[tuple[str, str], ...] = ()
    input_mode: str = "File"
    instance_count: int = 1
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    checkpoints: bool = False
    sigterm_probe: SigtermProbePlan = SigtermProbePlan()

    @property
    def hyperparameter_map(self) -> dict[str, str]:
        return dict(self.hyperparameters)


@dataclass(frozen=True)
class TransformPlan:
    input: Path
    content_type: str | None = None
    split_type: str = "None"
    batch_strategy: str | None = None
    max_payload_mb: int | None = None
    max_concurrent_transforms: int | None = None
    accept: str | None = None
    assemble_with: str = "None"
    expected_output: Path | None = None
    compression: str = "None"
    """TransformInput.CompressionType: Gzip objects are decompressed before they are split."""


@dataclass(frozen=True)
class ServingRequest:
    body: Path
    content_type: str
    accept: str | None = None


@dataclass(frozen=True)
class LoadPlan:
    concurrency: int = 4
    requests: int = 200
    max_p99_ms: float | None = None
    min_requests_per_second: float | None = None


@dataclass(frozen=True)
class ServingPlan:
    requests: tuple[ServingRequest, ...] = ()
    load: LoadPlan = LoadPlan()
    startup_timeout_seconds: int = DEFAULT_STARTUP_TIMEOUT_SECONDS


@dataclass(frozen=True)
class ProfilePlan:
    name: str
    instance_types: tuple[str, ...]
    training: TrainingPlan
    transform: TransformPlan | None = None
    serving: ServingPlan | None = None


@dataclass(frozen=True)
class Plan:
    file: Path
    algorithm: Path
    profiles: tuple[ProfilePlan, ...]

    def profile(self, name: str) -> ProfilePlan:
        for profile in self.profiles:
            if profile.name == name:
                return profile
        known = ", ".join(p.name for p in self.profiles)
        raise PlanError(f"no profile named {name!r}", where=str(self.file), hint=f"one of {known}")
