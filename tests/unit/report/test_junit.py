"""junit.xml details a CI system shows: the evidence behind a failure, a timestamp the JUnit
XSD accepts, and the host's Docker version and GPUs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import PurePosixPath

import pytest

from harness.checks.results import CheckResult, CheckStatus
from harness.report.junit import EVIDENCE_LIMIT, render_junit
from harness.report.model import RunReport
from tests.unit.report.sample_report import INTERRUPTED_REPORT, SAMPLE_REPORT

XSD_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
"""The JUnit XSD's ISO8601_DATETIME_PATTERN: no fraction, no offset."""


def _suite(report: RunReport = SAMPLE_REPORT) -> ET.Element:
    return ET.fromstring(render_junit(report))


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    case = suite.find(f"testcase[@classname='{classname}'][@name='{name}']")
    assert case is not None, (classname, name)
    return case


def test_a_failure_carries_its_evidence_as_compact_json_after_the_message() -> None:
    case = _case(_suite(), "distributed.ml_m5_4xlarge", "TRAIN-COMPLETES")
    failure = case.find("failure")
    assert failure is not None
    message = "algo-2 exited 1 after 9.9 s (algo-1 was stopped: exit 143)"
    assert failure.get("message") == message
    assert failure.text == (
        f"{message}\n\nevidence: "
        '{"status":"Failed","duration_s":9.87,"exit_codes":{"algo-1":143,"algo-2":1}}'
    )


def test_an_error_carries_its_evidence_and_a_check_without_evidence_only_its_message() -> None:
    error = CheckResult(
        "SERVE-PING",
        CheckStatus.ERROR,
        "Docker engine: gone",
        evidence={"container": "harness-x-serve", "log": "<tail>\x1b[0m"},
        profile="smoke",
        instance_type="ml.m5.large",
    )
    suite = _suite(replace(SAMPLE_REPORT, checks=(error, *SAMPLE_REPORT.checks)))
    body = _case(suite, "smoke.ml_m5_large", "SERVE-PING").findtext("error")
    assert body == (
        'Docker engine: gone\n\nevidence: {"container":"harness-x-serve","log":"<tail>"}'
    )
    failure = _case(suite, "distributed.ml_m5_4xlarge", "TRAIN-MODEL").find("failure")
    assert failure is not None
    assert failure.text == failure.get("message")


def test_evidence_is_truncated_to_about_four_kilobytes() -> None:
    big = CheckResult(
        "TRAIN-METRICS",
        CheckStatus.FAIL,
        "no number",
        evidence={"near_misses": ["é" * 1000 + str(i) for i in range(20)]},
        profile="smoke",
        instance_type="ml.m5.large",
    )
    suite = _suite(replace(SAMPLE_REPORT, checks=(big,)))
    body = suite.findtext("testcase/failure") or ""
    head, evidence = body.split("\n\nevidence: ", 1)
    assert head == "no number"
    assert evidence.endswith("… (truncated: report.json has all of it)")
    assert EVIDENCE_LIMIT - 4 < len(evidence.encode("utf-8")) <= EVIDENCE_LIMIT
    assert evidence.startswith('{"near_misses":["éé')  # UTF-8 as it is, not \\u escapes
    assert EVIDENCE_LIMIT == 4096


def test_evidence_that_is_not_json_is_shown_as_text() -> None:
    odd = CheckResult(
        "TRAIN-MODEL",
        CheckStatus.FAIL,
        "bad",
        evidence={"path": PurePosixPath("/x")},
    )
    body = _suite(replace(SAMPLE_REPORT, checks=(odd,))).findtext("testcase/failure")
    assert body == 'bad\n\nevidence: {"path":"/x"}'


@pytest.mark.parametrize(
    ("started_at", "timestamp"),
    [
        ("2026-01-15T09:30:00+00:00", "2026-01-15T09:30:00"),
        ("2026-01-15T10:30:00+01:00", "2026-01-15T09:30:00"),
        ("2026-01-15T00:30:00-02:00", "2026-01-15T02:30:00"),
        ("2026-01-15T09:30:00Z", "2026-01-15T09:30:00"),
        ("2026-01-15T09:30:00.123456+00:00", "2026-01-15T09:30:00"),
        ("2026-01-15T09:30:00", "2026-01-15T09:30:00"),
        ("yesterday", None),
        ("", None),
    ],
)
def test_the_timestamp_is_utc_without_an_offset(started_at: str, timestamp: str | None) -> None:
    suite = _suite(replace(SAMPLE_REPORT, started_at=started_at))
    assert suite.get("timestamp") == timestamp
    if timestamp is not None:
        assert XSD_TIMESTAMP.fullmatch(timestamp)


def test_properties_name_the_docker_version_and_the_gpus() -> None:
    properties = {p.get("name"): p.get("value") for p in _suite().iter("property")}
    assert properties["host.docker_version"] == "20.10.24+dfsg1"
    assert properties["host.gpus"] == "1"
    assert properties["host.gpu.0"] == (
        "NVIDIA A10G, 23028 MiB, GPU-6c1e0f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
    )
    assert "host.gpu_note" not in properties


def test_properties_say_why_there_are_no_gpus_and_leave_out_what_the_host_lacks() -> None:
    properties = {
        p.get("name"): p.get("value") for p in _suite(INTERRUPTED_REPORT).iter("property")
    }
    assert properties["host.gpus"] == "0"
    assert properties["host.gpu_note"] == "NVML not found"
    assert not any(str(name).startswith("host.gpu.") for name in properties)
    bare = replace(SAMPLE_REPORT, host={})  # Docker never answered: no inventory
    names = {p.get("name") for p in _suite(bare).iter("property")}
    assert not {"host.docker_version", "host.gpus", "host.gpu_note"} & names
    no_daemon = replace(SAMPLE_REPORT, host={**SAMPLE_REPORT.host, "docker": {"version": None}})
    names = {p.get("name") for p in _suite(no_daemon).iter("property")}
    assert "host.docker_version" not in names
