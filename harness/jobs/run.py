"""`harness run`: the whole local conformance run of a plan.

    static    SPEC-SCHEMA and SPEC-SEMANTICS on the request and the plan's profiles
    images    resolve, pin, pull, IMAGE-* (every later container uses the pinned digest)
    for each profile x emulated instance type:
      training     the job under the type's emulation, TRAIN-* checks
      sigterm      a second, interrupted run for TRAIN-SIGTERM
      serving      SERVE-* against the trained model, then transform (TRANSFORM-*)

Each phase reports its start and end (and the runners' messages) as `RunEvent`s (jobs/events.py).
Its checks join the run's as it ends, and its record (paths relative to `--out`) the row's, so a
Ctrl-C keeps everything that finished before it. So does anything else that stops the run: a
Docker daemon that goes away (DockerLost: nothing more can run, exit 3) or a bug in the harness
(exit 5); `execute()` returns the report in every case and the CLI writes it.

A check that cannot run here (a GPU type without GPUs) is `skip` with the reason; a broken host
or harness is `error`; nothing that was not run is `pass`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
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
from harness.engine.boundary import DockerLost
from harness.engine.docker_engine import DockerEngine
from harness.errors import EngineError, HarnessError
from harness.hardware.catalogue import lookup_instance_type
from harness.hardware.emulation import Emulation, plan_emulation
from harness.hardware.host import HostInventory, take_inventory
from harness.jobs.endpoint import EndpointRunner
from harness.jobs.events import EventSink, PhaseReporter
from harness.jobs.images import ImageInspector, ImagesResult, declared_images
from harness.jobs.run_parts import (
    RunOptions,
    empty_row_folder,
    file_sha256,
    host_count,
    internal_error,
    job_name,
    metric_extractor,
    phase_dict,
    relative_paths,
    report_options,
    require_known_check_selectors,
    row_record,
    run_inputs,
    run_matrix,
    sigterm_probe_job,
    training_dict,
    training_skip_reason,
    worst_fidelity,
)
from harness.jobs.serving import ServingRun
from harness.jobs.training import TrainingJob, TrainingOutcome, TrainingRunner
from harness.jobs.transform import TRANSFORM_CHECKS, TransformRun
from harness.plan import Plan, ProfilePlan
from harness.registry.client import CredentialLookup, RegistryClient
from harness.report.model import RunRecord, RunReport
from harness.sagemaker.metrics import metric_values

__all__ = ["ConformanceRun", "RunOptions", "job_name", "run_matrix"]


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
        events: EventSink = lambda _: None,
    ):
        # Before anything runs: a misspelt --only would otherwise run nothing, silently.
        require_known_check_selectors(options.only, options.skip)
        self._plan = plan
        self._request = request
        self._findings = findings
        self._engine = engine
        self._registry = registry
        self._credentials = credentials
        self._options = options
        self._events = PhaseReporter(events)
        self._checks: list[CheckResult] = []
        self._runs: list[RunRecord] = []
        self._errors: list[str] = []
        self._images: ImagesResult | None = None
        self._host: HostInventory | None = None
        self.failure: HarnessError | None = None
        """What stopped the run early (Docker, a registry, a bad instance type, a bug): the
        report is partial and the CLI exits with this error's code after writing it."""

    def execute(self) -> RunReport:
        """Run everything and return the report, also a partial one: on Ctrl-C with
        `interrupted` set (the caller exits 2), after an error with `failure` set."""
        started = time.monotonic()
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        # Read now: the report vouches for these bytes, whatever the files hold later.
        plan_sha256 = file_sha256(self._plan.file)
        request_sha256 = file_sha256(self._request.file)
        interrupted = False
        try:
            self._run_all()
        except KeyboardInterrupt:
            interrupted = True
            self._events.abort("interrupted")
        except HarnessError as exc:
            self._fail(exc)
        except Exception as exc:  # a bug: the report is still written, then exit 5
            self._fail(internal_error(exc))
        finally:
            if not self._options.keep:
                interrupted = self._sweep() or interrupted
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
            options=report_options(self._plan, self._options),
            plan_sha256=plan_sha256,
            request_sha256=request_sha256,
        )

    def _fail(self, exc: HarnessError) -> None:
        self.failure = self.failure or exc
        self._errors.append(exc.one_line())
        self._events.abort(exc.one_line())

    def _sweep(self) -> bool:
        """Remove whatever a stopped step left behind (it carries this run's label). Never
        raises, so that the report is still written; True when Ctrl-C interrupted it."""
        hint = "`harness clean` removes what the run left"
        try:
            self._engine.containers.sweep(self._options.run_id)
        except KeyboardInterrupt:
            self._errors.append(f"cleanup interrupted ({hint})")
            return True
        except Exception as exc:
            error = exc if isinstance(exc, HarnessError) else internal_error(exc)
            self.failure = self.failure or error
            self._errors.append(
                HarnessError(f"cleanup: {error.message}", where=error.where, hint=hint).one_line()
            )
        return False

    def _run_all(self) -> None:
        options, events = self._options, self._events
        events.start("validate")
        static = [c for c in static_checks(self._findings) if options.wants(c.id)]
        self._checks += static
        events.end_with(static)
        self._host = take_inventory(self._engine.info())
        events.start("images", "resolving and pulling images")
        inspector = ImageInspector(
            self._registry,
            self._credentials,
            self._engine,
            pull=options.pull,
            run_id=options.run_id,
            progress=events.note,
        )
        self._images = inspector.inspect(declared_images(self._request.data))
        checks = [c for c in self._images.checks if options.wants(c.id)]
        self._checks += checks
        events.end_with(checks)
        image = self._images.pinned("training")
        for profile, instance_type in run_matrix(self._plan, options):
            self._run_profile(profile, instance_type, image)

    def _run_profile(self, profile: ProfilePlan, instance_type: str, image: str | None) -> None:
        options = self._options
        kind = lookup_instance_type(instance_type, where=f"profile {profile.name}")
        assert self._host is not None
        count = host_count(profile)
        emulations = tuple(
            plan_emulation(kind, self._host, hosts=count, slot=slot) for slot in range(count)
        )
        folder = options.out_dir / profile.name / instance_type
        empty_row_folder(options.out_dir, folder, run_inputs(self._plan, self._request.file))
        fidelity = worst_fidelity(emulations)
        record = row_record(profile.name, instance_type, emulations)
        row = self._events.row(profile.name, instance_type)
        wanted = [c for c in (*train_checks.TRAINING_CHECKS, *METRIC_CHECKS) if options.wants(c)]

        def tag(result: CheckResult) -> CheckResult:
            return replace(result, profile=profile.name, instance_type=instance_type)

        skip_reason = training_skip_reason(emulations, image)
        if skip_reason is not None:
            row.skip("training", skip_reason)
            if train_checks.TRAIN_SIGTERM in wanted:
                row.skip("sigterm-probe", skip_reason)
            self._checks += [tag(CheckResult(c, CheckStatus.SKIP, skip_reason)) for c in wanted]
            self._runs.append(RunRecord(**record))
            return
        assert image is not None
        row.start("training", f"{fidelity.value} emulation, {count} host(s)")
        runner = TrainingRunner(self._engine.containers, progress=row.note)
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
        extractor, objectives = metric_extractor(self._request.data)
        try:
            outcome = runner.run(job, listeners=[extractor.feed_text])
        except DockerLost:
            self._runs.append(RunRecord(**record))  # its emulation is still worth reporting
            raise
        except EngineError as exc:
            self._engine_error(exc, wanted, tag, record, row)
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
        results = [r for r in results if options.wants(r.id)]
        row.end_with(results, "passed" if outcome.status == "Completed" else "failed")
        record["training"] = training_dict(outcome, options.out_dir)
        record["training"]["metrics"] = metric_values(series)
        record["training"]["metrics_detail"] = {s.name: s.to_dict() for s in series}

        def deliver(results: Iterable[CheckResult]) -> None:
            """A finished phase's results join the run's checks at once, so that a Ctrl-C in
            a later phase keeps them (and the order stays the order the phases ran in)."""
            self._checks.extend(
                tag(replace(r, evidence=relative_paths(r.evidence, options.out_dir)))
                for r in results
                if options.wants(r.id)
            )

        try:
            deliver(results)
            if options.wants(train_checks.TRAIN_SIGTERM):
                row.start("sigterm-probe")
                probe = self._sigterm_probe(runner, job)
                row.end_with([probe])
                deliver([probe])
            self._inference(profile, outcome, emulations[0], folder, record, row, deliver)
        finally:
            # Also when interrupted: the record keeps the phases that finished.
            self._runs.append(RunRecord(**record))

    def _inference(
        self,
        profile: ProfilePlan,
        outcome: TrainingOutcome,
        emulation: Emulation,
        folder: Path,
        record: dict[str, Any],
        row: PhaseReporter,
        deliver: Callable[[Iterable[CheckResult]], None],
    ) -> None:
        """Serving and batch transform of the model this run trained; each phase's results go
        to `deliver` as soon as it ends, its record into `record`."""
        options = self._options
        inference = self._request.data.get("InferenceSpecification")
        if not isinstance(inference, dict):
            return
        wanted = [c for c in SERVING_CHECKS if options.wants(c)]
        if profile.transform is not None:
            wanted += [c for c in TRANSFORM_CHECKS if options.wants(c)]
        if not wanted:
            return

        def skip_all(reason: str) -> None:
            if any(c in wanted for c in SERVING_CHECKS):
                row.skip("serving", reason)
            if any(c in wanted for c in TRANSFORM_CHECKS):
                row.skip("transform", reason)
            deliver(CheckResult(c, CheckStatus.SKIP, reason) for c in wanted)

        containers = inference.get("Containers") or []
        pinned = [
            self._images.pinned(f"inference[{i}]") if self._images else None
            for i in range(len(containers))
        ]
        images = tuple(p for p in pinned if p is not None)
        model = outcome.model
        if not containers or len(images) < len(containers):
            skip_all("the inference image could not be resolved (see IMAGE-DIGEST)")
            return
        if outcome.status == "Failed" or model is None or model.files == 0:
            skip_all("training left no model to serve")
            return
        endpoints = EndpointRunner(
            self._engine.containers,
            options.run_id,
            keep=options.keep,
            sigterm_grace=options.serve_sigterm_grace_seconds,
        )
        done: set[str] = set()
        name = job_name(options.run_id, profile.name, emulation.instance_type.name)
        try:
            if any(c in wanted for c in SERVING_CHECKS):
                row.start("serving")
                served = ServingRun(endpoints, progress=row.note).run(
                    images,
                    model.path,
                    folder / ".serve-work",
                    emulation,
                    profile,
                    inference,
                    f"harness-{name}-serve",
                )
                record["serving"] = phase_dict(served.record, served.log_path, options.out_dir)
                row.end_with(c for c in served.checks if options.wants(c.id))
                deliver(served.checks)
                done.update(c.id for c in served.checks)
            if profile.transform is not None and any(c in wanted for c in TRANSFORM_CHECKS):
                row.start("transform", "batch transform")
                transformed = TransformRun(endpoints, progress=row.note).run(
                    images,
                    model.path,
                    folder,
                    emulation,
                    profile.transform,
                    f"harness-{name}-transform",
                )
                record["transform"] = phase_dict(
                    transformed.record, transformed.log_path, options.out_dir
                )
                row.end_with(c for c in transformed.checks if options.wants(c.id))
                deliver(transformed.checks)
                done.update(c.id for c in transformed.checks)
        except DockerLost:
            raise  # the run stops: nothing else can run without the daemon
        except EngineError as exc:
            row.end("error", exc.one_line())
            self._errors.append(exc.one_line())
            deliver(
                CheckResult(c, CheckStatus.ERROR, exc.one_line()) for c in wanted if c not in done
            )

    def _sigterm_probe(self, runner: TrainingRunner, job: TrainingJob) -> CheckResult:
        try:
            return train_checks.check_sigterm(runner.run(sigterm_probe_job(job)))
        except DockerLost:
            raise
        except EngineError as exc:
            return CheckResult(train_checks.TRAIN_SIGTERM, CheckStatus.ERROR, exc.one_line())

    def _engine_error(
        self,
        exc: HarnessError,
        wanted: list[str],
        tag: Callable[[CheckResult], CheckResult],
        record: dict[str, Any],
        row: PhaseReporter,
    ) -> None:
        from harness.engine.containers import GpusUnavailable

        status = CheckStatus.SKIP if isinstance(exc, GpusUnavailable) else CheckStatus.ERROR
        row.end("skipped" if status is CheckStatus.SKIP else "error", exc.one_line())
        if status is CheckStatus.ERROR:
            self._errors.append(exc.one_line())
        self._checks += [tag(CheckResult(c, status, exc.one_line())) for c in wanted]
        self._runs.append(RunRecord(**record))

    def _host_dict(self) -> dict[str, Any]:
        return self._host.to_dict() if self._host is not None else {}
