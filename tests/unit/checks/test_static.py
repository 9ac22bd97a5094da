"""SPEC-SCHEMA / SPEC-SEMANTICS as run-time check results."""

from __future__ import annotations

from harness.algorithm.findings import CheckId, error, warning
from harness.checks.results import CheckStatus
from harness.checks.static import static_checks


def test_no_findings_pass_both_checks():
    assert [(c.id, c.status) for c in static_checks([])] == [
        ("SPEC-SCHEMA", CheckStatus.PASS),
        ("SPEC-SEMANTICS", CheckStatus.PASS),
    ]


def test_errors_fail_their_check_and_warnings_stay_warnings():
    findings = [
        error(CheckId.SPEC_PARSE, "syntax", (), "invalid JSON"),
        warning(CheckId.SPEC_SEMANTICS, "transform-profile", ("V",), "no transform"),
    ]
    schema, semantics = static_checks(findings)
    assert schema.status is CheckStatus.FAIL
    assert "invalid JSON" in schema.message  # a parse error counts against SPEC-SCHEMA
    assert semantics.status is CheckStatus.PASS
    assert semantics.warnings == ("V: no transform",)
