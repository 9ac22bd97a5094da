"""Renderers for `harness validate`: readable text grouped by check, and stable JSON.

The JSON form is documented in docs/validate-json.md; bump VALIDATION_SCHEMA_VERSION on any
change that could break a reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from harness import __version__
from harness.algorithm.findings import Finding
from harness.algorithm.validate import ValidationResult

VALIDATION_SCHEMA_VERSION = "1"


def _where(finding: Finding) -> str:
    text = str(finding.file) if finding.file else ""
    if finding.position is not None:
        text += f":{finding.position.line}:{finding.position.column}"
    return text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(result: ValidationResult) -> str:
    errors, warnings = len(result.errors), len(result.warnings)
    subject = str(result.plan_file or result.request_file)
    if result.plan_file:
        subject += f" (request {result.request_file})"
    verdict = "valid" if result.ok else "invalid"
    lines = [
        f"{subject}: {verdict}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')} "
        f"(SageMaker model of botocore {result.botocore_version})"
    ]
    for check_id, group in _grouped(result.findings):
        lines += ["", f"{check_id} ({len(group)})"]
        for finding in group:
            lines.append(f"  {finding.severity.value:<7} {_where(finding)}  {finding.json_path}")
            lines.append(f"          {finding.message}")
            if finding.hint:
                lines.append(f"          hint: {finding.hint}")
    return "\n".join(lines) + "\n"


def _grouped(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.check_id.value, []).append(finding)
    order = ["SPEC-PARSE", "SPEC-SCHEMA", "SPEC-SEMANTICS"]
    return [
        (check_id, sorted(groups[check_id], key=_reading_order))
        for check_id in sorted(groups, key=lambda c: order.index(c) if c in order else 99)
    ]


def _reading_order(finding: Finding) -> tuple[str, int, int]:
    position = finding.position
    return (
        str(finding.file or ""),
        position.line if position else 0,
        position.column if position else 0,
    )


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    position = finding.position
    return {
        "severity": finding.severity.value,
        "check_id": finding.check_id.value,
        "rule": finding.rule,
        "path": finding.json_path,
        "file": str(finding.file) if finding.file else None,
        "line": position.line if position else None,
        "column": position.column if position else None,
        "message": finding.message,
        "hint": finding.hint,
    }


def render_json(result: ValidationResult) -> str:
    document = {
        "schema_version": VALIDATION_SCHEMA_VERSION,
        "harness_version": __version__,
        "botocore_version": result.botocore_version,
        "request": str(result.request_file),
        "plan": str(result.plan_file) if result.plan_file else None,
        "valid": result.ok,
        "summary": {"errors": len(result.errors), "warnings": len(result.warnings)},
        "findings": [finding_to_dict(f) for _, group in _grouped(result.findings) for f in group],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
