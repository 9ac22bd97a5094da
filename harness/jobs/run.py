"""`harness run`: the whole local conformance run of a plan.

    static    SPEC-SCHEMA and SPEC-SEMANTICS on the request and the plan's profiles
    images    resolve, pin, pull, IMAGE-* (every later container uses the pinned digest)
    for each profile x emulated instance type:
      training     the job under the type's emulation, TRAIN-* checks
      sigterm      a second, interrupted run for TRAIN-SIGTERM

A check that cannot run here (a GPU type without GPUs) is `skip` with the reason; a broken host
or harness is `error`; nothing that was not run is `pass`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.algorithm.findings import Finding
from harness.checks import training as train_checks
from harness.checks.metrics import METRIC_CHECKS, check_metrics, check_objective
from harness.checks.results import CheckResult, CheckStatus
from harness.checks.serving import SERVING_CHECKS
from harness.checks.static import static_checks
from harness.documents import Document
from harness.engine.docker_engine import DockerEngine
from harness.errors import EngineError, HarnessError
from harness.hardware.catalogue import lookup_instance_type
from harness.hardware.emulation import Emulation, Fidelity, plan_emulation
from harness.hardware.host import HostInventory, take_inventory
from harness.jobs.endpoint import SERVE_SIGTERM_GRACE_SECONDS, EndpointRunner
from harness.jobs.images import ImageInspector, ImagesResult, PullPolicy, declared_images
from harness.jobs.serving import ServingRun
from harness.jobs.training import (
    SIGTERM_GRACE_SECONDS,
    TrainingJob,
    TrainingOutcome,
    TrainingRunner,
)
from harness.jobs.transform import TRANSFORM_CHECKS, TransformRun
from harness.plan import Plan, ProfilePlan
from harness.registry.client import CredentialLookup, RegistryClient
from harness.report.model import RunRecord, RunReport
from harness.sagemaker.metrics import MetricDefinition, MetricExtractor, metric_values

Progress = Callable[[str], None]


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


class ConformanceRun:
    """One `harness run`: call `execute()` once."""

    def __init__(
        self,
        plan: Plan,
        request: Document,
        findings: list[Finding],
        engine: DockerEngine,
        registry: RegistryClient,
        credentials: CredentialLookup,
        options: RunOptions,
        progress: Progress = lambda _: None,
    ):
        self._plan = plan
        self._request = request
        self._findings = findings
        self._engine = engine
        self._registry = registry
        self._credentials = credentials
        self._options = options
        self._progress = progress
        self._checks: list[CheckResult] = []
        self._runs: list[RunRecord] = []
        self._errors: list[str] = []
        self._images: ImagesResult | None = None
        self._host: HostInventory | None = None
        self.failure: HarnessError | None = None
        """What stopped the run early (Docker, a registry, a bad instance type): the report is
        partial and the CLI exits with this error's code after writing it."""

    def execute(self) -> RunReport:
        """Run everything; on Ctrl-C the partial report comes back with `interrupted` set
        (the caller writes it, then exits 2)."""
        started = time.monotonic()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        interrupted = False
        try:
            self._run_all()
        except KeyboardInterrupt:
            interrupted = True
        except HarnessError as exc:
            self.failure = exc
            self._errors.append(exc.one_line())
        finally:
            if not self._options.keep:
                # Whatever an interrupted step left behind carries this run's label.
                self._engine.containers.sweep(self._options.run_id)
        return RunReport(
            harness_version=__version__,
            started_at=started_at,
            duration_s=time.monotonic() - started,
            request=str(self._request.file),
            plan=str(self._plan.file),
            host=self._host_dict(),
            images=tuple(o.report_entry() for o in self._images.outcomes) if self._images else (),
            runs=tuple(self._runs),
            checks=tuple(self._checks),
            interrupted=interrupted,
            errors=tuple(self._errors),
            run_id=self._options.run_id,
        )

    def _run_all(self) -> None:
        options = self._options
        self._checks += [c for c in static_checks(self._findings) if options.wants(c.id)]
        self._host = take_inventory(self._engine.info())
        self._progress("resolving and pulling images")
        inspector = ImageInspector(
            self._registry,
            self._credentials,
            self._engine,
            pull=options.pull,
            run_id=options.run_id,
            progress=self._progress,
        )
        self._images = inspector.inspect(declared_images(self._request.data))
        self._checks += [c for c in self._images.checks if options.wants(c.id)]
        image = self._images.pinned("training")
        for profile in self._plan.profiles:
            for instance_type in options.instance_types or profile.instance_types:
                self._run_profile(profile, instance_type, image)

    def _run_profile(self, profile: ProfilePlan, instance_type: str, image: str | None) -> None:
        options = self._options
        kind = lookup_instance_type(instance_type, where=f"profile {profile.name}")
        assert self._host is not None
        count = profile.training.instance_count
        emulations = tuple(
            plan_emulation(kind, self._host, hosts=count, slot=slot) for slot in range(count)
        )
        fidelity = _worst(emulations)
        record: dict[str, Any] = {
            "profile": profile.name,
            "instance_type": instance_type,
            "emulation": fidelity.value,
            "emulation_detail": _emulation_dict(emulations),
        }
        wanted = [c for c in (*train_checks.TRAINING_CHECKS, *METRIC_CHECKS) if options.wants(c)]

        def tag(result: CheckResult) -> CheckResult:
            return replace(result, profile=profile.name, instance_type=instance_type)

        skip_reason = None
        if fidelity is Fidelity.UNAVAILABLE:
            skip_reason = "cannot be emulated on this host: " + "; ".join(
                r for e in emulations for r in e.reasons
            )
        elif image is None:
            skip_reason = "the training image could not be resolved (see IMAGE-DIGEST)"
        if skip_reason is not None:
            self._checks += [tag(CheckResult(c, CheckStatus.SKIP, skip_reason)) for c in wanted]
            self._runs.append(RunRecord(**record))
            return
        assert image is not None
        folder = options.out_dir / profile.name / instance_type
        self._progress(f"{profile.name} on {instance_type} ({fidelity.value}): training")
        runner = TrainingRunner(self._engine.containers, progress=self._progress)
        job = TrainingJob(
            options.run_id,
            job_name(options.run_id, profile.name, instance_type),
            image,
            self._request.data,
            profile,
            instance_type,
            emulations,
            folder,
            profile.training.max_runtime_seconds,
            options.sigterm_grace_seconds,
            keep=options.keep,
        )
        specification = self._request.data.get("TrainingSpecification") or {}
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
        try:
            outcome = runner.run(job, listeners=[extractor.feed_text])
        except EngineError as exc:
            self._engine_error(exc, wanted, tag, record)
            return
        series = extractor.results()
        results = [
            train_checks.check_completes(outcome),
            train_checks.check_model(outcome),
            train_checks.check_failure_reason(outcome),
            check_metrics(series),
            check_objective(series, objectives),
            train_checks.check_resources(outcome, emulations[0]),
            train_checks.check_gpu_used(outcome, emulations[0]),
        ]
        if options.wants(train_checks.TRAIN_SIGTERM):
            results.append(self._sigterm_probe(runner, job, folder))
        self._checks += [tag(r) for r in results if options.wants(r.id)]
        record["training"] = _training_dict(outcome, options.out_dir)
        record["training"]["metrics"] = metric_values(series)
        record["training"]["metrics_detail"] = {s.name: s.to_dict() for s in series}
        self._checks += [
            tag(r)
            for r in self._inference(profile, outcome, emulations[0], folder, record)
            if options.wants(r.id)
        ]
        self._runs.append(RunRecord(**record))

    def _inference(
        self,
        profile: ProfilePlan,
        outcome: TrainingOutcome,
        emulation: Emulation,
        folder: Path,
        record: dict[str, Any],
    ) -> list[CheckResult]:
        """Serving and batch transform of the model this run trained."""
        options = self._options
        inference = self._request.data.get("InferenceSpecification")
        if not isinstance(inference, dict):
            return []
        wanted = [c for c in SERVING_CHECKS if options.wants(c)]
        if profile.transform is not None:
            wanted += [c for c in TRANSFORM_CHECKS if options.wants(c)]
        if not wanted:
            return []

        def skip_all(reason: str) -> list[CheckResult]:
            return [CheckResult(c, CheckStatus.SKIP, reason) for c in wanted]

        containers = inference.get("Containers") or []
        pinned = [
            self._images.pinned(f"inference[{i}]") if self._images else None
            for i in range(len(containers))
        ]
        images = tuple(p for p in pinned if p is not None)
        model = outcome.model
        if not containers or len(images) < len(containers):
            return skip_all("the inference image could not be resolved (see IMAGE-DIGEST)")
        if outcome.status == "Failed" or model is None or model.files == 0:
            return skip_all("training left no model to serve")
        endpoints = EndpointRunner(
            self._engine.containers,
            options.run_id,
            keep=options.keep,
            sigterm_grace=options.serve_sigterm_grace_seconds,
        )
        results: list[CheckResult] = []
        name = job_name(options.run_id, profile.name, emulation.instance_type.name)
        try:
            if any(c in wanted for c in SERVING_CHECKS):
                served = ServingRun(endpoints, progress=self._progress).run(
                    images,
                    model.path,
                    folder / ".serve-work",
                    emulation,
                    profile,
                    inference,
                    f"harness-{name}-serve",
                )
                results += served.checks
                record["serving"] = served.record
            if profile.transform is not None and any(c in wanted for c in TRANSFORM_CHECKS):
                self._progress(f"{name}: batch transform")
                transformed = TransformRun(endpoints, progress=self._progress).run(
                    images,
                    model.path,
                    folder,
                    emulation,
                    profile.transform,
                    f"harness-{name}-transform",
                )
                results += transformed.checks
                record["transform"] = transformed.record
        except EngineError as exc:
            self._errors.append(exc.one_line())
            done = {r.id for r in results}
            results += [
                CheckResult(c, CheckStatus.ERROR, exc.one_line()) for c in wanted if c not in done
            ]
        return results

    def _sigterm_probe(self, runner: TrainingRunner, job: TrainingJob, folder: Path) -> CheckResult:
        self._progress(f"{job.job_name}: SIGTERM probe")
        training = job.profile.training
        probe = training.sigterm_probe
        merged = {**training.hyperparameter_map, **dict(probe.hyperparameters)}
        profile = replace(
            job.profile, training=replace(training, hyperparameters=tuple(merged.items()))
        )
        probe_job = TrainingJob(
            job.run_id,
            job_name(self._options.run_id, job.profile.name, job.instance_type, "sigterm"),
            job.image,
            job.request,
            profile,
            job.instance_type,
            job.emulations,
            folder / "sigterm-probe",
            job.max_runtime_seconds,
            job.sigterm_grace_seconds,
            probe.after_seconds,
            job.keep,
        )
        try:
            return train_checks.check_sigterm(runner.run(probe_job))
        except EngineError as exc:
            return CheckResult(train_checks.TRAIN_SIGTERM, CheckStatus.ERROR, exc.one_line())

    def _engine_error(
        self,
        exc: HarnessError,
        wanted: list[str],
        tag: Callable[[CheckResult], CheckResult],
        record: dict[str, Any],
    ) -> None:
        from harness.engine.containers import GpusUnavailable

        status = CheckStatus.SKIP if isinstance(exc, GpusUnavailable) else CheckStatus.ERROR
        if status is CheckStatus.ERROR:
            self._errors.append(exc.one_line())
        self._checks += [tag(CheckResult(c, status, exc.one_line())) for c in wanted]
        self._runs.append(RunRecord(**record))

    def _host_dict(self) -> dict[str, Any]:
        return self._host.to_dict() if self._host is not None else {}


def job_name(run_id: str, profile: str, instance_type: str, suffix: str = "") -> str:
    """A training job name SageMaker would accept (1-63 letters, digits, hyphens)."""
    parts = [run_id, profile, instance_type.removeprefix("ml."), suffix]
    text = "-".join(re.sub(r"[^a-zA-Z0-9]+", "-", p).strip("-") for p in parts if p)
    return re.sub(r"-{2,}", "-", text)[:63].strip("-")


def _worst(emulations: tuple[Emulation, ...]) -> Fidelity:
    order = [Fidelity.EXACT, Fidelity.SCALED, Fidelity.UNAVAILABLE]
    return max((e.fidelity for e in emulations), key=order.index)


def _emulation_dict(emulations: tuple[Emulation, ...]) -> dict[str, Any]:
    return {"hosts": [e.to_dict() for e in emulations]}


def _training_dict(outcome: TrainingOutcome, root: Path) -> dict[str, Any]:
    def artifact(info: Any) -> dict[str, Any] | None:
        if info is None:
            return None
        data = dict(info.to_dict())
        data["path"] = str(Path(data["path"]).relative_to(root)) if "path" in data else None
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
