"""junit.xml: one testcase per check result, so any CI system shows the run's checks.

classname is `profile.instance_type` (or `static` / `images` for run-wide checks); failures
and errors carry the message, skips their reason, and properties name the host and digests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.checks.results import CheckResult, CheckStatus
from harness.report.model import RunReport


def _classname(check: CheckResult) -> str:
    if check.profile and check.instance_type:
        return f"{check.profile}.{check.instance_type}"
    return "images" if check.id.startswith("IMAGE-") else "static"


def _name(check: CheckResult) -> str:
    return f"{check.id} ({check.subject})" if check.subject else check.id


def render_junit(report: RunReport) -> str:
    summary = report.summary
    suite = ET.Element(
        "testsuite",
        {
            "name": "harness",
            "tests": str(len(report.checks)),
            "failures": str(summary["fail"]),
            "errors": str(summary["error"]),
            "skipped": str(summary["skip"]),
            "time": f"{report.duration_s:.3f}",
            "timestamp": report.started_at,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("harness_version", report.harness_version),
        ("request", report.request),
        ("verdict", report.verdict),
        ("host.cpus", str(report.host.get("cpus", ""))),
        ("host.memory_mib", str(report.host.get("memory_mib", ""))),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for image in report.images:
        ET.SubElement(
            properties,
            "property",
            {
                "name": f"image.{image.get('role')}",
                "value": str(image.get("pinned_reference") or image.get("image")),
            },
        )
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", {"classname": _classname(check), "name": _name(check)}
        )
        if check.status is CheckStatus.FAIL:
            ET.SubElement(case, "failure", {"message": check.message}).text = check.message
        elif check.status is CheckStatus.ERROR:
            ET.SubElement(case, "error", {"message": check.message}).text = check.message
        elif check.status is CheckStatus.SKIP:
            ET.SubElement(case, "skipped", {"message": check.message})
        if check.warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"warning: {w}" for w in check.warnings
            )
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
