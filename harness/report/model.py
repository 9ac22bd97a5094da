"""The result model of `harness run`: plain data every reporter renders (DESIGN §2 report.json).

A reporter is a pure function of a `RunReport`; the CLI writes the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.checks.results import CheckResult, CheckStatus

REPORT_SCHEMA_VERSION = "1.1"
"""1.1: `options`, `plan_sha256`, `request_sha256` (what the run was asked to do, on what)."""


@dataclass(frozen=True)
class RunRecord:
    """One profile under one emulated instance type."""

    profile: str
    instance_type: str
    emulation: str
    """exact | scaled | unavailable"""
    emulation_detail: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] | None = None
    transform: dict[str, Any] | None = None
    serving: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "instance_type": self.instance_type,
            "emulation": self.emulation,
            "emulation_detail": self.emulation_detail,
            "training": self.training,
            "transform": self.transform,
            "serving": self.serving,
        }


@dataclass(frozen=True)
class ReportOptions:
    """What the run was asked to do, so that `harness spec` can tell what the report proves
    (a run with `--skip TRAIN-SIGTERM` or another instance type proves less)."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    instance_types: tuple[str, ...] = ()
    """The `--instance-type` overrides; () when the plan's types ran."""
    profiles: tuple[str, ...] = ()
    """The names of the plan's profiles the run was given (after `--profile`)."""

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "only": list(self.only),
            "skip": list(self.skip),
            "instance_types": list(self.instance_types),
            "profiles": list(self.profiles),
        }


@dataclass(frozen=True)
class RunReport:
    harness_version: str
    started_at: str
    duration_s: float
    request: str
    plan: str | None
    host: dict[str, Any]
    images: tuple[dict[str, Any], ...]
    runs: tuple[RunRecord, ...]
    checks: tuple[CheckResult, ...]
    interrupted: bool = False
    errors: tuple[str, ...] = ()
    """Problems of the harness or the host that stopped part of the run."""
    run_id: str = ""
    """The label value on everything this run created (`harness clean --run-id`)."""
    options: ReportOptions = ReportOptions()
    plan_sha256: str | None = None
    request_sha256: str | None = None
    """sha256 (hex) of the plan and the request file as the run read them; None when the
    file could not be read again (a report then cannot vouch for a later request)."""

    @property
    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in CheckStatus}
        for check in self.checks:
            counts[check.status.value] += 1
        return counts

    @property
    def verdict(self) -> str:
        bad = self.summary["fail"] + self.summary["error"]
        return "fail" if bad or self.interrupted or self.errors or not self.checks else "pass"


CHECK_GROUPS = ("SPEC", "IMAGE", "TRAIN", "SERVE", "TRANSFORM")


def check_matrix(report: RunReport) -> list[tuple[tuple[str, str], dict[str, list[str]]]]:
    """Per (profile, instance type) row, in the order checks ran, the statuses of each check
    group (the ID's first word); run-wide checks are the row ("—", "—"). A run that has a
    record but no check (Docker was lost or the run interrupted during it) has its row too,
    with no statuses, after the row of the run recorded before it."""
    rows: dict[tuple[str, str], dict[str, list[str]]] = {}
    for check in report.checks:
        row = rows.setdefault(
            (check.profile or "—", check.instance_type or "—"),
            {group: [] for group in CHECK_GROUPS},
        )
        row.setdefault(check.id.split("-")[0], []).append(check.status.value)
    order = list(rows)
    after = ("—", "—")
    for run in report.runs:
        key = (run.profile, run.instance_type)
        if key not in rows:
            rows[key] = {group: [] for group in CHECK_GROUPS}
            order.insert(order.index(after) + 1 if after in order else 0, key)
        after = key
    return [(key, rows[key]) for key in order]
