"""Helpers shared by the validator's rule tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.algorithm.findings import Finding
from harness.algorithm.validate import validate_request


def _format(findings: list[Finding]) -> str:
    return "\n".join(f"{f.check_id} {f.rule} {f.json_path}: {f.message}" for f in findings)


class Verdict:
    """The findings for one request, with assertions that print them all when they fail."""

    def __init__(self, request: Any):
        self.findings = validate_request(request)

    def has(self, rule: str, path: str, severity: str = "error") -> Finding:
        for finding in self.findings:
            if finding.rule == rule and finding.json_path == path:
                assert finding.severity.value == severity, _format([finding])
                return finding
        raise AssertionError(f"no {rule} finding at {path}; found:\n{_format(self.findings)}")

    def clean(self) -> None:
        assert self.findings == [], _format(self.findings)

    def lacks(self, rule: str) -> None:
        matching = [f for f in self.findings if f.rule == rule]
        assert matching == [], _format(matching)


@pytest.fixture
def verdict() -> Callable[[Any], Verdict]:
    return Verdict
