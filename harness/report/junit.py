"""junit.xml: one testcase per check result, so any CI system shows the run's checks.

Failures and errors carry the message, skips their reason, and properties name the host, the
digests and what the run was asked to do. Every text and attribute goes through `plain_text`:
messages quote what containers wrote, and one ESC or NUL would make the file invalid XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.checks.results import CheckResult, CheckStatus
from harness.report.model import RunReport
from harness.report.text import plain_text


def _classname(check: CheckResult) -> str:
    """`profile.instance_type` with the instance type's dots as underscores: smoke.ml_m5_large.

    CI systems read classname as a Java class name: Jenkins splits it at the last dot into
    package and class, so `smoke.ml.m5.large` would be package `smoke.ml.m5`, class `large`
    (and `smoke/ml.m5.large` package `smoke/ml.m5`). With the one dot between profile and
    instance type, Jenkins shows package `smoke`, class `ml_m5_large`; GitLab and the GitHub
    reporters show the classname as it is, which reads as well. Instance types never contain
    `_`, so the name stays recognisable (and profile names, ProfileName, never a dot).
    Run-wide checks are `static` (SPEC-*) or `images` (IMAGE-*): Jenkins's "(root)" package."""
    if check.profile and check.instance_type:
        profile = check.profile.replace(".", "_")
        return f"{profile}.{check.instance_type.replace('.', '_')}"
    return "images" if check.id.startswith("IMAGE-") else "static"


def _name(check: CheckResult) -> str:
    return f"{check.id} ({check.subject})" if check.subject else check.id


def _properties(report: RunReport) -> list[tuple[str, str]]:
    options = report.options
    pairs = [
        ("harness_version", report.harness_version),
        ("request", report.request),
        ("verdict", report.verdict),
        ("host.cpus", str(report.host.get("cpus", ""))),
        ("host.memory_mib", str(report.host.get("memory_mib", ""))),
    ]
    pairs += [
        (name, value)
        for name, value in (
            ("request_sha256", report.request_sha256),
            ("plan_sha256", report.plan_sha256),
            ("options.only", " ".join(options.only)),
            ("options.skip", " ".join(options.skip)),
            ("options.instance_types", " ".join(options.instance_types)),
        )
        if value
    ]
    pairs += [
        (f"image.{image.get('role')}", str(image.get("pinned_reference") or image.get("image")))
        for image in report.images
    ]
    return pairs


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
    for name, value in _properties(report):
        ET.SubElement(properties, "property", {"name": name, "value": value})
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
    # One pass over everything written, so no text can miss it (ElementTree escapes <, &
    # and quotes, never control characters).
    for element in suite.iter():
        element.attrib = {key: plain_text(value) for key, value in element.attrib.items()}
        if element.text:
            element.text = plain_text(element.text)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
