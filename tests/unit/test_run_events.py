"""The progress events of `harness run` (harness/jobs/events.py): how a phase's end state comes
from its checks, and what a PhaseReporter emits."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.checks.results import CheckResult, CheckStatus
from harness.jobs.events import (
    PHASES,
    ROW_PHASES,
    RUN_PHASES,
    PhaseReporter,
    RunEvent,
    phase_state,
    phase_summary,
)

P, F, S, E = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.SKIP, CheckStatus.ERROR


def results(*pairs: tuple[str, CheckStatus]) -> list[CheckResult]:
    return [CheckResult(check_id, status, f"{check_id} said so") for check_id, status in pairs]


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ((P, P), "passed"),
        ((P, S), "passed"),
        ((S, S), "skipped"),
        ((P, F, E), "failed"),
        ((P, E, S), "error"),
        ((), "passed"),
    ],
)
def test_phase_state_from_check_results(statuses, state):
    checks = results(*((f"C-{i}", s) for i, s in enumerate(statuses)))
    assert phase_state(checks) == state


def test_phase_state_without_checks_is_the_fallback():
    assert phase_state([], "failed") == "failed"
    assert phase_state(results(("A", P)), "failed") == "passed"


def test_phase_summary_names_what_went_wrong():
    assert phase_summary(results(("A", P), ("B", F), ("C", F), ("B", F))) == "B, C"
    assert phase_summary(results(("A", E), ("B", F))) == "A, B (A said so)"
    assert phase_summary(results(("A", S), ("B", S))) == "A said so"
    assert phase_summary(results(("A", P), ("B", S))) == ""
    long = [CheckResult("A", F, "x"), *(CheckResult(f"ID-{i:03}", F, "x") for i in range(100))]
    assert len(phase_summary(long)) == 300
    assert phase_summary(long).endswith("…")


def test_phases_are_the_run_then_each_row():
    assert PHASES == RUN_PHASES + ROW_PHASES
    assert ROW_PHASES == ("training", "sigterm-probe", "serving", "transform")


def test_reporter_emits_start_end_and_notes_of_its_row():
    events: list[RunEvent] = []
    run = PhaseReporter(events.append)
    run.start("images", "resolving")
    run.note("pulling x")
    run.end_with(results(("IMAGE-DIGEST", P)))
    row = run.row("smoke", "ml.m5.large")
    row.start("training")
    row.note("training on 1 host(s)")
    row.end_with(results(("TRAIN-COMPLETES", F)), "passed")
    row.note("after the end")  # belongs to the phase last opened on the row
    row.skip("serving", "training left no model to serve")
    row.end("passed")  # nothing open: nothing emitted

    brief = [(e.profile, e.instance_type, e.phase, e.state, e.message) for e in events]
    assert brief == [
        (None, None, "images", "started", "resolving"),
        (None, None, "images", "note", "pulling x"),
        (None, None, "images", "passed", ""),
        ("smoke", "ml.m5.large", "training", "started", ""),
        ("smoke", "ml.m5.large", "training", "note", "training on 1 host(s)"),
        ("smoke", "ml.m5.large", "training", "failed", "TRAIN-COMPLETES"),
        ("smoke", "ml.m5.large", "training", "note", "after the end"),
        ("smoke", "ml.m5.large", "serving", "skipped", "training left no model to serve"),
    ]
    assert [e.ended for e in events] == [False, False, True, False, False, True, False, True]
    started, ended = events[3], events[5]
    assert ended.duration_s is not None
    assert ended.duration_s == pytest.approx(ended.time - started.time)
    assert events[7].duration_s is None  # skipped before it started
    assert ended.where == "smoke/ml.m5.large"
    assert events[0].where == ""


def test_abort_ends_every_open_phase_with_error():
    events: list[RunEvent] = []
    run = PhaseReporter(events.append)
    first = run.row("smoke", "ml.m5.large")
    second = run.row("pipe", "ml.m5.large")
    first.start("training")
    second.start("serving")
    first.end("passed")
    second.note("waiting")
    run.abort("interrupted")
    ends = [(e.profile, e.phase, e.state, e.message) for e in events if e.ended]
    assert ends == [
        ("smoke", "training", "passed", ""),
        ("pipe", "serving", "error", "interrupted"),
    ]
    run.abort("again")
    assert len([e for e in events if e.ended]) == 2  # nothing left open


def test_a_second_start_on_a_row_closes_the_first():
    events: list[RunEvent] = []
    row = PhaseReporter(events.append).row("smoke", "ml.m5.large")
    row.start("training")
    row.start("serving")
    assert [(e.phase, e.state) for e in events] == [
        ("training", "started"),
        ("training", "error"),
        ("serving", "started"),
    ]


# --- a whole ConformanceRun without Docker: every runner faked ---------------------------------

REFERENCE_PLAN = Path(__file__).resolve().parents[2] / "fixtures/algorithms/reference/harness.yaml"
SERVE_IDS = ["SERVE-PING", "SERVE-INVOKE", "SERVE-LATENCY", "SERVE-SIGTERM"]
TRANSFORM_IDS = ["TRANSFORM-OUTPUT", "TRANSFORM-EXEC-PARAMS"]


class _Trainer:
    """Every training job completes at once with a one-file model (the SIGTERM probe too)."""

    def __init__(self, _containers: Any, *, progress: Any = None):
        pass

    def run(self, job: Any, listeners: Any = ()) -> Any:
        from harness.jobs.training import TrainingOutcome
        from harness.sagemaker.artifacts import ArtifactInfo

        probe = job.interrupt_after_seconds is not None
        model = ArtifactInfo(job.out_dir / "model.tar.gz", 10, "0" * 64, 1)
        return TrainingOutcome(
            job,
            "Interrupted" if probe else "Completed",
            (),
            1.0,
            sigterm_sent_after_s=0.5 if probe else None,
            exited_after_sigterm_s=0.1 if probe else None,
            model=model,
        )


class _Serving:
    def __init__(self, _endpoints: Any, *, progress: Any = None):
        pass

    def run(self, _images: Any, _model: Any, work: Path, *_args: Any) -> Any:
        checks = tuple(CheckResult(c, P, "fine") for c in SERVE_IDS)
        return SimpleNamespace(
            checks=checks, record={"healthy_after_s": 0.1}, log_path=work.parent / "serve.log"
        )


class _Transform:
    interrupt = False

    def __init__(self, _endpoints: Any, *, progress: Any = None):
        pass

    def run(self, _images: Any, _model: Any, folder: Path, *_args: Any) -> Any:
        if self.interrupt:
            raise KeyboardInterrupt  # Ctrl-C while the batch transform runs
        checks = tuple(CheckResult(c, P, "fine") for c in TRANSFORM_IDS)
        return SimpleNamespace(
            checks=checks, record={"records": 100}, log_path=folder / "transform.log"
        )


def fake_runners(
    monkeypatch: pytest.MonkeyPatch, *, trainer: type = _Trainer, transform: type = _Transform
) -> None:
    """Every part of a run that would need Docker, a registry or this host faked: a 16-CPU
    host, images already pinned, and the runners given."""
    from harness.hardware.host import HostInventory
    from harness.jobs import run as run_module

    host = HostInventory(
        logical_cpus=16,
        usable_cpu_ids=tuple(range(16)),
        memory_mib=64 * 1024,
        gpus=(),
        gpu_note=None,
        cgroup_version=2,
        docker_runtimes=("runc",),
        docker_default_runtime="runc",
        docker_version="27.0",
        nvidia_runtime=False,
    )
    images = SimpleNamespace(
        checks=(), outcomes=(), pinned=lambda role: "reg/reference@sha256:" + "a" * 64
    )
    monkeypatch.setattr(run_module, "take_inventory", lambda _info: host)
    monkeypatch.setattr(
        run_module, "ImageInspector", lambda *a, **k: SimpleNamespace(inspect=lambda _: images)
    )
    monkeypatch.setattr(run_module, "TrainingRunner", trainer)
    monkeypatch.setattr(run_module, "ServingRun", _Serving)
    monkeypatch.setattr(run_module, "TransformRun", transform)


def _conformance_run(
    monkeypatch: pytest.MonkeyPatch, out: Path, events: list[RunEvent], *, interrupt: bool
) -> Any:
    from harness.documents import load_document
    from harness.jobs import run as run_module
    from harness.plan import load_plan

    fake_runners(monkeypatch, transform=type("T", (_Transform,), {"interrupt": interrupt}))
    swept: list[str] = []
    engine: Any = SimpleNamespace(info=dict, containers=SimpleNamespace(sweep=swept.append))
    unused: Any = None  # the registry and its credentials: images are faked
    plan = load_plan(REFERENCE_PLAN)
    options = run_module.RunOptions(
        out_dir=out, instance_types=("ml.m5.large",), only=frozenset({"TRAIN-", "SERVE-", "TRANS"})
    )
    run = run_module.ConformanceRun(
        plan, load_document(plan.algorithm), [], engine, unused, unused, options, events.append
    )
    report = run.execute()
    assert swept == [options.run_id]
    return report


def test_an_interrupt_keeps_the_checks_and_records_of_the_phases_that_finished(
    monkeypatch, tmp_path
):
    events: list[RunEvent] = []
    report = _conformance_run(monkeypatch, tmp_path / "report", events, interrupt=True)
    assert report.interrupted
    smoke = [c.id for c in report.checks if c.profile == "smoke"]
    assert smoke[-5:] == ["TRAIN-SIGTERM", *SERVE_IDS], smoke  # serving had finished
    assert not [c for c in report.checks if c.id.startswith("TRANSFORM-")]
    assert {(c.profile, c.instance_type) for c in report.checks} == {("smoke", "ml.m5.large")}
    (run,) = report.runs  # the interrupted row keeps what it had: training and serving
    assert run.training is not None
    assert run.serving == {"healthy_after_s": 0.1, "log": "smoke/ml.m5.large/serve.log"}
    assert run.transform is None
    ends = [(e.phase, e.state, e.message) for e in events if e.ended and e.profile]
    assert ends[-2:] == [("serving", "passed", ""), ("transform", "error", "interrupted")]


def test_checks_keep_their_order_and_logs_are_relative_to_out(monkeypatch, tmp_path):
    events: list[RunEvent] = []
    report = _conformance_run(monkeypatch, tmp_path / "report", events, interrupt=False)
    assert not report.interrupted
    rows = list(dict.fromkeys((c.profile, c.instance_type) for c in report.checks))
    assert rows == [
        ("smoke", "ml.m5.large"),
        ("pipe", "ml.m5.large"),
        ("distributed", "ml.m5.large"),
    ]
    smoke = [c.id for c in report.checks if c.profile == "smoke"]
    assert smoke[0] == "TRAIN-COMPLETES"
    assert smoke[-7:] == ["TRAIN-SIGTERM", *SERVE_IDS, *TRANSFORM_IDS], smoke
    run = report.runs[0]
    assert run.serving["log"] == "smoke/ml.m5.large/serve.log"
    assert run.transform == {"records": 100, "log": "smoke/ml.m5.large/transform.log"}
    model = next(c for c in report.checks if c.id == "TRAIN-MODEL" and c.profile == "smoke")
    assert model.evidence["path"] == "smoke/ml.m5.large/model.tar.gz"
    assert run.training is not None
    assert run.training["model_artifact"]["path"] == "smoke/ml.m5.large/model.tar.gz"


def test_each_row_starts_from_an_empty_folder_and_runs_once(monkeypatch, tmp_path):
    """Files an earlier run left in a row's folder (a stale .out, a third host's log, serve.log,
    sigterm-probe/) do not leak into this run's; nor is a row given twice run twice. A row the
    run skips is emptied too; a row it does not run, and everything else, stays."""
    from harness.documents import load_document
    from harness.jobs import run as run_module
    from harness.plan import load_plan

    fake_runners(monkeypatch)
    out = tmp_path / "report"
    stale = ("transform/old.out", "logs/algo-2.log", "serve.log", "sigterm-probe/logs/algo-1.log")
    for row in ("ml.m5.large", "ml.g5.xlarge"):
        for name in stale:
            path = out / "smoke" / row / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("an earlier run")
    outside = tmp_path / "outside.txt"
    outside.write_text("not the run's")
    (out / "smoke" / "ml.m5.large" / "logs" / "link").symlink_to(outside)
    other = out / "smoke" / "ml.t3.medium" / "logs" / "algo-1.log"
    other.parent.mkdir(parents=True)
    other.write_text("a row this run does not run")
    engine: Any = SimpleNamespace(info=dict, containers=SimpleNamespace(sweep=lambda _: None))
    unused: Any = None
    plan = load_plan(REFERENCE_PLAN)
    smoke = plan.profiles[0]
    options = run_module.RunOptions(
        out_dir=out,
        instance_types=("ml.m5.large", "ml.g5.xlarge", "ml.m5.large"),  # no GPU here: skipped
        only=frozenset({"TRAIN-COMPLETES"}),
    )
    run = run_module.ConformanceRun(
        type(plan)(plan.file, plan.algorithm, (smoke,)),
        load_document(plan.algorithm),
        [],
        engine,
        unused,
        unused,
        options,
    )
    report = run.execute()
    assert run.failure is None, report.errors
    assert [(r.profile, r.instance_type) for r in report.runs] == [
        ("smoke", "ml.m5.large"),
        ("smoke", "ml.g5.xlarge"),
    ]
    assert [c.status for c in report.checks] == [P, S]
    for row in ("ml.m5.large", "ml.g5.xlarge"):
        assert list((out / "smoke" / row).iterdir()) == [], row  # the fakes write nothing
    assert outside.read_text() == "not the run's"
    assert other.read_text() == "a row this run does not run"
