"""Structured progress of a `harness run`: which phase of which profile x instance type started,
how it ended, and what the runners said along the way. `ConformanceRun` emits `RunEvent`s to a
sink; the CLI shows them (a live table on a terminal, one line per event otherwise).

    validate, images                          once per run (profile and instance_type None)
    training, sigterm-probe, serving, transform   per profile x instance type, in that order

A phase that starts ends exactly once (`passed`, `failed`, `skipped` or `error`; an interrupted
or aborted run ends what was open with `error`); a phase skipped before it could start has only
its `skipped` event; `note`s carry the runners' free-text messages and belong to the phase open
on their row (or the one last opened there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from harness.checks.results import CheckResult, CheckStatus

Phase = Literal["validate", "images", "training", "sigterm-probe", "serving", "transform"]
PHASES: tuple[Phase, ...] = get_args(Phase)
RUN_PHASES: tuple[Phase, ...] = ("validate", "images")
"""Once per run: events without a profile."""
ROW_PHASES: tuple[Phase, ...] = ("training", "sigterm-probe", "serving", "transform")
"""Once per profile x instance type."""

State = Literal["started", "passed", "failed", "skipped", "error", "note"]
STATES: tuple[State, ...] = get_args(State)
END_STATES: frozenset[State] = frozenset({"passed", "failed", "skipped", "error"})

_SUMMARY_CHARS = 300


@dataclass(frozen=True)
class RunEvent:
    phase: Phase
    state: State
    profile: str | None = None
    instance_type: str | None = None
    message: str = ""
    time: float = field(default_factory=time.monotonic)
    """`time.monotonic()` when it happened."""
    duration_s: float | None = None
    """On an end event of a phase that started: how long the phase took."""

    @property
    def ended(self) -> bool:
        return self.state in END_STATES

    @property
    def where(self) -> str:
        """`smoke/ml.m5.large`; empty for the run's own phases."""
        if self.profile is None:
            return ""
        return f"{self.profile}/{self.instance_type}" if self.instance_type else self.profile


EventSink = Callable[[RunEvent], None]


def phase_state(results: Iterable[CheckResult], fallback: State = "passed") -> State:
    """How a phase ended, from its (reported) check results: `failed` when any failed, else
    `error` when any errored, `skipped` when all were skipped; `fallback` when there are none."""
    statuses = {r.status for r in results}
    if not statuses:
        return fallback
    if CheckStatus.FAIL in statuses:
        return "failed"
    if CheckStatus.ERROR in statuses:
        return "error"
    if statuses == {CheckStatus.SKIP}:
        return "skipped"
    return "passed"


def phase_summary(results: Iterable[CheckResult]) -> str:
    """One short line for an end event: the IDs that failed or errored, or why all skipped."""
    results = list(results)
    bad = [r for r in results if r.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
    if bad:
        ids = dict.fromkeys(r.id for r in bad)  # ordered, unique
        errors = [r.message for r in bad if r.status is CheckStatus.ERROR]
        text = ", ".join(ids) + (f" ({errors[0]})" if errors else "")
    elif results and all(r.status is CheckStatus.SKIP for r in results):
        text = results[0].message
    else:
        text = ""
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


class PhaseReporter:
    """Emits the events of one row (the run's own phases, or one profile x instance type):
    at most one phase open per row. `row()` makes the reporter of another row; all of a run's
    reporters share what is open, so `abort()` on any of them ends every open phase."""

    def __init__(
        self,
        sink: EventSink,
        profile: str | None = None,
        instance_type: str | None = None,
        *,
        _open: dict[tuple[str | None, str | None], RunEvent] | None = None,
    ):
        self._sink = sink
        self.profile = profile
        self.instance_type = instance_type
        self._open = {} if _open is None else _open
        self._last: Phase = RUN_PHASES[0] if profile is None else ROW_PHASES[0]

    def row(self, profile: str, instance_type: str) -> PhaseReporter:
        return PhaseReporter(self._sink, profile, instance_type, _open=self._open)

    def start(self, phase: Phase, message: str = "") -> None:
        self.end("error", "ended without a result")  # a bug if it happens; never leave it open
        event = self._emit(phase, "started", message)
        self._open[self._key] = event
        self._last = phase

    def end(self, state: State, message: str = "") -> None:
        """End the open phase of this row (nothing happens when none is open)."""
        started = self._open.pop(self._key, None)
        if started is not None:
            now = time.monotonic()
            self._emit(started.phase, state, message, at=now, duration_s=now - started.time)

    def end_with(self, results: Iterable[CheckResult], fallback: State = "passed") -> None:
        results = list(results)
        self.end(phase_state(results, fallback), phase_summary(results))

    def skip(self, phase: Phase, reason: str) -> None:
        """A phase that does not run here (no start event)."""
        self._emit(phase, "skipped", reason)

    def note(self, message: str) -> None:
        """A runner's free-text message: pass this as the runners' `progress`."""
        started = self._open.get(self._key)
        self._emit(started.phase if started else self._last, "note", message)

    def abort(self, message: str) -> None:
        """End every open phase of the run with `error` (Ctrl-C, an engine failure)."""
        for profile, instance_type in list(self._open):
            PhaseReporter(self._sink, profile, instance_type, _open=self._open).end(
                "error", message
            )

    @property
    def _key(self) -> tuple[str | None, str | None]:
        return (self.profile, self.instance_type)

    def _emit(
        self,
        phase: Phase,
        state: State,
        message: str,
        *,
        at: float | None = None,
        duration_s: float | None = None,
    ) -> RunEvent:
        event = RunEvent(
            phase,
            state,
            self.profile,
            self.instance_type,
            message,
            time.monotonic() if at is None else at,
            duration_s,
        )
        self._sink(event)
        return event
