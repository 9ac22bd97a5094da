"""A run that goes wrong still returns its report: Docker lost mid-run (exit 3), a bug in the
harness (exit 5), a sweep that fails in the end; and report.json records what the run was asked
to do (options, the plan's and the request's sha256). Every runner faked: no Docker needed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import urllib3

from harness.engine.boundary import DockerLost
from harness.engine.docker_engine import DockerEngine
from harness.errors import ExitCode
from harness.report.model import RunReport
from tests.unit.test_run_events import REFERENCE_PLAN, _Trainer, fake_runners


class _DyingClient:
    """A DockerClient whose daemon answered /info, then went away: every later request fails
    the way docker-py fails when the socket is gone."""

    def info(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass

    def __getattr__(self, _name: str) -> Any:
        return self

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        raise requests.exceptions.ConnectionError(
            urllib3.exceptions.ProtocolError(
                "Connection aborted.", FileNotFoundError(2, "No such file or directory")
            )
        )


class _TrainerUntilDockerDies(_Trainer):
    """The first row trains (faked); the next asks the real engine for a container."""

    jobs = 0

    def __init__(self, containers: Any, *, progress: Any = None):
        self._containers = containers

    def run(self, job: Any, listeners: Any = ()) -> Any:
        if job.interrupt_after_seconds is None:
            type(self).jobs += 1
        if type(self).jobs > 1:
            from harness.engine.containers import ContainerSpec

            self._containers.create(ContainerSpec("i", ("train",), "n", "algo-1", {}))
        return super().run(job, listeners)


class _BuggyTrainer(_Trainer):
    def run(self, job: Any, listeners: Any = ()) -> Any:
        raise ZeroDivisionError("division by zero")


def _execute(
    monkeypatch: pytest.MonkeyPatch,
    out: Path,
    engine: Any,
    trainer: type = _Trainer,
    **option_overrides: Any,
) -> tuple[Any, RunReport]:
    from harness.documents import load_document
    from harness.jobs import run as run_module
    from harness.plan import load_plan

    fake_runners(monkeypatch, trainer=trainer)
    plan = load_plan(REFERENCE_PLAN)
    options = run_module.RunOptions(
        out_dir=out,
        **{"instance_types": ("ml.m5.large",), "only": frozenset({"TRAIN-", "SERVE-"})}
        | option_overrides,
    )
    unused: Any = None
    run = run_module.ConformanceRun(
        plan, load_document(plan.algorithm), [], engine, unused, unused, options, lambda _: None
    )
    return run, run.execute()


def test_docker_lost_mid_run_still_returns_the_report_and_exits_3(monkeypatch, tmp_path):
    _TrainerUntilDockerDies.jobs = 0
    engine = DockerEngine(_DyingClient())  # type: ignore[arg-type]
    run, report = _execute(monkeypatch, tmp_path / "out", engine, _TrainerUntilDockerDies)
    assert isinstance(run.failure, DockerLost)
    assert run.failure.exit_code == ExitCode.ENGINE_ERROR
    lost, swept = report.errors
    assert "cannot create a container: the Docker daemon does not answer" in lost
    assert "No such file or directory" in lost
    assert swept.startswith("cleanup: cannot sweep the run's containers and networks")
    assert report.verdict == "fail"
    # What finished before Docker went away is kept: the first row, trained and served.
    first = [c.id for c in report.checks if c.profile == "smoke"]
    assert {"TRAIN-COMPLETES", "SERVE-PING"} <= set(first)
    assert [(r.profile, r.training is not None) for r in report.runs] == [
        ("smoke", True),
        ("pipe", False),
    ]


def test_a_bug_in_the_harness_still_returns_the_report_and_exits_5(monkeypatch, tmp_path):
    swept: list[str] = []
    engine: Any = SimpleNamespace(info=dict, containers=SimpleNamespace(sweep=swept.append))
    run, report = _execute(monkeypatch, tmp_path / "out", engine, _BuggyTrainer)
    assert run.failure is not None
    assert run.failure.exit_code == ExitCode.INTERNAL_ERROR
    assert isinstance(run.failure.__cause__, ZeroDivisionError)
    (error,) = report.errors
    assert error.startswith("internal error: ZeroDivisionError: division by zero (hint: ")
    assert report.verdict == "fail"
    assert swept  # the cleanup still ran


def test_a_failing_sweep_is_recorded_not_raised(monkeypatch, tmp_path):
    def sweep(_run_id: str) -> None:
        raise DockerLost("cannot sweep: the Docker daemon does not answer (Connection refused)")

    engine: Any = SimpleNamespace(info=dict, containers=SimpleNamespace(sweep=sweep))
    run, report = _execute(monkeypatch, tmp_path / "out", engine)
    assert report.errors == (
        "cleanup: cannot sweep: the Docker daemon does not answer (Connection refused) "
        "(hint: `harness clean` removes what the run left)",
    )
    assert isinstance(run.failure, DockerLost)  # Docker is gone: exit 3, not 1
    assert not report.interrupted
    assert len({c.profile for c in report.checks}) == 3  # every row ran before the sweep


def test_the_report_records_the_options_and_the_inputs_sha256(monkeypatch, tmp_path):
    engine: Any = SimpleNamespace(info=dict, containers=SimpleNamespace(sweep=lambda _: None))
    _, report = _execute(
        monkeypatch,
        tmp_path / "out",
        engine,
        only=frozenset({"TRAIN-", "SERVE-PING"}),
        skip=frozenset({"TRAIN-SIGTERM"}),
    )
    assert report.options.to_dict() == {
        "only": ["SERVE-PING", "TRAIN-"],
        "skip": ["TRAIN-SIGTERM"],
        "instance_types": ["ml.m5.large"],
        "profiles": ["smoke", "pipe", "distributed"],
    }
    request = REFERENCE_PLAN.parent / "algorithm.json"
    assert report.plan_sha256 == hashlib.sha256(REFERENCE_PLAN.read_bytes()).hexdigest()
    assert report.request_sha256 == hashlib.sha256(request.read_bytes()).hexdigest()


def test_unreadable_inputs_have_no_sha256(tmp_path):
    from harness.jobs.run_parts import file_sha256

    assert file_sha256(tmp_path / "gone.json") is None
    (tmp_path / "a").write_bytes(b"abc")
    assert file_sha256(tmp_path / "a") == hashlib.sha256(b"abc").hexdigest()
