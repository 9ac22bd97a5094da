"""junit.xml: one testcase per check result, so any CI system shows the run's checks.

Failures and errors carry the message (attribute) and the message with the check's evidence as
compact JSON (body, up to EVIDENCE_LIMIT), skips their reason, and properties name the host,
the digests and what the run was asked to do. What stopped the run beside the checks is an
error too, so that the suite's counts never say 0 errors of a run that failed for it: one
testcase (classname `harness`) per report.errors entry and one for an interrupted run.
`timestamp` is the start in UTC without an offset, as the JUnit XSD wants it.

Every text and attribute goes through `plain_text`: messages quote what containers wrote, and
one ESC or NUL would make the file invalid XML.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from harness.checks.results import CheckResult, CheckStatus
from harness.report.model import RunReport
from harness.report.text import plain_text

INTERRUPTED_MESSAGE = "interrupted: the report holds what was done before"
EVIDENCE_LIMIT = 4096
"""The most bytes (UTF-8) of evidence JSON a failure or error body carries (report.json has all)."""
_TRUNCATED = "… (truncated: report.json has all of it)"


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


def _plain(value: Any) -> Any:
    """`value` with every string made plain, before JSON escapes its ESCs into `\\u001b`."""
    if isinstance(value, str):
        return plain_text(value)
    if isinstance(value, dict):
        return {plain_text(str(key)): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _body(check: CheckResult) -> str:
    """The message, then the evidence as compact JSON (what explains a failure: exit codes,
    the failure file, near misses), cut at EVIDENCE_LIMIT bytes of UTF-8."""
    if not check.evidence:
        return check.message
    evidence = json.dumps(
        _plain(check.evidence), ensure_ascii=False, separators=(",", ":"), default=str
    )
    encoded = evidence.encode("utf-8")
    if len(encoded) > EVIDENCE_LIMIT:
        kept = encoded[: EVIDENCE_LIMIT - len(_TRUNCATED.encode("utf-8"))]
        evidence = kept.decode("utf-8", errors="ignore") + _TRUNCATED
    return f"{check.message}\n\nevidence: {evidence}"


def _timestamp(started_at: str) -> str | None:
    """`started_at` as the JUnit XSD's timestamp: UTC, to the second, no offset (a time
    without an offset is taken as UTC, which is how the harness writes it); None if it is
    not an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _host_properties(host: dict[str, Any]) -> list[tuple[str, str]]:
    """CPUs and memory always (empty when unknown); the Docker version and the GPUs when the
    inventory has them (harness/hardware/host.py `HostInventory.to_dict`)."""
    pairs = [
        ("host.cpus", str(host.get("cpus", ""))),
        ("host.memory_mib", str(host.get("memory_mib", ""))),
    ]
    docker = host.get("docker")
    if isinstance(docker, dict) and docker.get("version"):
        pairs.append(("host.docker_version", str(docker["version"])))
    gpus = host.get("gpus")
    if isinstance(gpus, list):
        pairs.append(("host.gpus", str(len(gpus))))
        for position, gpu in enumerate(gpus):
            if isinstance(gpu, dict):
                facts = [
                    str(gpu.get("name") or "unknown GPU"),
                    f"{gpu['memory_total_mib']} MiB" if gpu.get("memory_total_mib") else "",
                    str(gpu.get("uuid") or ""),
                ]
                index = gpu.get("index", position)
                pairs.append((f"host.gpu.{index}", ", ".join(f for f in facts if f)))
    if host.get("gpu_note"):
        pairs.append(("host.gpu_note", str(host["gpu_note"])))
    return pairs


def _harness_errors(report: RunReport) -> list[tuple[str, str]]:
    """(testcase name, message) of what stopped the run beside the checks."""
    cases = [(f"error {number}", error) for number, error in enumerate(report.errors, 1)]
    if report.interrupted:
        cases.append(("interrupted", INTERRUPTED_MESSAGE))
    return cases


def _properties(report: RunReport) -> list[tuple[str, str]]:
    options = report.options
    pairs = [
        ("harness_version", report.harness_version),
        ("request", report.request),
        ("verdict", report.verdict),
        *_host_properties(report.host),
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
    harness_errors = _harness_errors(report)
    attributes = {
        "name": "harness",
        "tests": str(len(report.checks) + len(harness_errors)),
        "failures": str(summary["fail"]),
        "errors": str(summary["error"] + len(harness_errors)),
        "skipped": str(summary["skip"]),
        "time": f"{report.duration_s:.3f}",
    }
    timestamp = _timestamp(report.started_at)
    if timestamp is not None:
        attributes["timestamp"] = timestamp
    suite = ET.Element("testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", {"classname": _classname(check), "name": _name(check)}
        )
        if check.status is CheckStatus.FAIL:
            ET.SubElement(case, "failure", {"message": check.message}).text = _body(check)
        elif check.status is CheckStatus.ERROR:
            ET.SubElement(case, "error", {"message": check.message}).text = _body(check)
        elif check.status is CheckStatus.SKIP:
            ET.SubElement(case, "skipped", {"message": check.message})
        if check.warnings:
            ET.SubElement(case, "system-out").text = "\n".join(
                f"warning: {w}" for w in check.warnings
            )
    for name, message in harness_errors:
        case = ET.SubElement(suite, "testcase", {"classname": "harness", "name": name})
        ET.SubElement(case, "error", {"message": message}).text = message
    # One pass over everything written, so no text can miss it (ElementTree escapes <, &
    # and quotes, never control characters).
    for element in suite.iter():
        element.attrib = {key: plain_text(value) for key, value in element.attrib.items()}
        if element.text:
            element.text = plain_text(element.text)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
