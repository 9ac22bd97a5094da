"""report.json: the run's result model as stable JSON (schema in harness/schemas/)."""

from __future__ import annotations

import json
from typing import Any

from harness.report.model import REPORT_SCHEMA_VERSION, RunReport


def report_to_dict(report: RunReport) -> dict[str, Any]:
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "harness_version": report.harness_version,
        "run_id": report.run_id,
        "started_at": report.started_at,
        "duration_s": round(report.duration_s, 3),
        "verdict": report.verdict,
        "summary": report.summary,
        "interrupted": report.interrupted,
        "errors": list(report.errors),
        "request": report.request,
        "plan": report.plan,
        "plan_sha256": report.plan_sha256,
        "request_sha256": report.request_sha256,
        "options": report.options.to_dict(),
        "host": report.host,
        "images": list(report.images),
        "runs": [run.to_dict() for run in report.runs],
        "checks": [check.to_dict() for check in report.checks],
    }


def render_report_json(report: RunReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"
