"""The progress events of `harness run` (harness/jobs/events.py): how a phase's end state comes
from its checks, and what a PhaseReporter emits."""

from __future__ import annotations

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
