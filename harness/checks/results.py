"""The outcome of one run-time check, as report.json's `checks[]` holds it (DESIGN §2).

A failed check is a result; a broken harness or environment is `error`; a check that cannot run
on this host is `skip` with the reason. Never `pass` for what was not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: CheckStatus
    message: str
    subject: str | None = None
    """What was checked when a check runs more than once per run: `training image`, ..."""
    evidence: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    profile: str | None = None
    instance_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "profile": self.profile,
            "instance_type": self.instance_type,
            "subject": self.subject,
            "message": self.message,
            "warnings": list(self.warnings),
            "evidence": self.evidence,
        }
