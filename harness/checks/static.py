"""SPEC-SCHEMA and SPEC-SEMANTICS as run-time check results: `harness run` reports the static
findings of `harness validate` (harness/algorithm) in its checks, one result per check."""

from __future__ import annotations

from harness.algorithm.findings import CheckId, Finding, Severity
from harness.checks.results import CheckResult, CheckStatus


def static_checks(findings: list[Finding]) -> list[CheckResult]:
    results = []
    for check_id, ids in (
        (CheckId.SPEC_SCHEMA, {CheckId.SPEC_PARSE, CheckId.SPEC_SCHEMA}),
        (CheckId.SPEC_SEMANTICS, {CheckId.SPEC_SEMANTICS}),
    ):
        mine = [f for f in findings if f.check_id in ids]
        errors = [f for f in mine if f.severity is Severity.ERROR]
        warnings = tuple(
            f"{f.json_path}: {f.message}" for f in mine if f.severity is Severity.WARNING
        )
        evidence = {
            "findings": [
                {
                    "severity": f.severity.value,
                    "rule": f.rule,
                    "path": f.json_path,
                    "message": f.message,
                    "file": str(f.file) if f.file else None,
                    "line": f.position.line if f.position else None,
                }
                for f in mine
            ]
        }
        if errors:
            first = errors[0]
            results.append(
                CheckResult(
                    check_id.value,
                    CheckStatus.FAIL,
                    f"{len(errors)} error(s), first: {first.json_path}: {first.message}",
                    evidence=evidence,
                    warnings=warnings,
                )
            )
        else:
            results.append(
                CheckResult(
                    check_id.value,
                    CheckStatus.PASS,
                    "the request satisfies every rule"
                    if check_id is CheckId.SPEC_SCHEMA
                    else "no cross-field rule is broken",
                    evidence=evidence,
                    warnings=warnings,
                )
            )
    return results
