"""Text the container wrote (a failure file, a log line) reaches junit.xml and summary.md
verbatim in check messages: neither may break (invalid XML, a torn Markdown table)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.checks.results import CheckResult, CheckStatus
from harness.report.junit import render_junit
from harness.report.model import ReportOptions, RunRecord, RunReport
from harness.report.summary import render_summary

# What a Python program with colored logging writes to /opt/ml/output/failure, and worse.
NASTY = (
    "\x1b[31mTraceback\x1b[0m (most recent call last):\n"
    "  col | value\r\n\x1b]0;title\x07\x00\x08\x0b\x0c\udc80\ufffe\x7f end\tok"
)


def _report(message: str = NASTY, **overrides: object) -> RunReport:
    check = CheckResult(
        "TRAIN-FAILURE-REASON",
        CheckStatus.FAIL,
        message,
        subject="algo-1\x1b[0m",
        warnings=("warn\x1b[1m|\x00",),
        profile="smoke",
        instance_type="ml.m5.large",
    )
    fields: dict[str, object] = {
        "harness_version": "0.1.0",
        "started_at": "2026-01-15T09:30:00+00:00",
        "duration_s": 1.0,
        "request": "algorithm\x01.json",
        "plan": "harness.yaml",
        "host": {"cpus": 2, "memory_mib": 1024},
        "images": ({"role": "training", "image": "reg/a:1\x1b[0m"},),
        "runs": (RunRecord("smoke", "ml.m5.large", "exact"),),
        "checks": (check, CheckResult("SPEC-SCHEMA", CheckStatus.ERROR, "x\x1b[2Ky")),
        "errors": ("Docker said\nno | way\x1b[0m",),
    }
    fields.update(overrides)
    return RunReport(**fields)  # type: ignore[arg-type]


def _xml_legal(text: str) -> bool:
    return all(
        c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) > 0xFFFF
        for c in text
    )


def test_junit_stays_valid_xml_and_drops_ansi_escapes():
    text = render_junit(_report())
    assert _xml_legal(text)
    assert "\x1b" not in text
    suite = ET.fromstring(text.encode("utf-8"))  # the parser CI systems use would choke too
    failure = suite.find("testcase/failure")
    assert failure is not None
    message = failure.get("message") or ""
    # \r\n becomes \n: in element text an XML parser would make it \n anyway.
    assert message.startswith("Traceback (most recent call last):\n  col | value\n")
    assert "title" not in message  # an OSC sequence (terminal title) is noise too
    assert message.endswith("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd end\tok")
    assert failure.text == message
    case = suite.find("testcase")
    assert case is not None
    assert case.get("name") == "TRAIN-FAILURE-REASON (algo-1)"
    assert suite.findtext("testcase/system-out") == "warning: warn|\ufffd"
    error = suite.find("testcase[2]/error")
    assert error is not None
    assert error.get("message") == "xy"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["request"] == "algorithm\ufffd.json"
    assert properties["image.training"] == "reg/a:1"


def test_junit_classname_is_profile_then_instance_type_without_dots():
    suite = ET.fromstring(render_junit(_report()))
    assert [c.get("classname") for c in suite.iter("testcase")] == ["smoke.ml_m5_large", "static"]


def test_summary_keeps_one_line_per_message_and_its_table_intact():
    text = render_summary(_report())
    assert "\x1b" not in text
    assert _xml_legal(text)
    lines = text.splitlines()
    failed = [line for line in lines if line.startswith("- **TRAIN-FAILURE-REASON**")]
    assert failed == [
        "- **TRAIN-FAILURE-REASON** (algo-1) smoke/ml.m5.large: Traceback (most recent call "
        "last): ⏎   col \\| value ⏎ \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd end ok"
    ]
    assert "- Docker said ⏎ no \\| way" in lines
    table = [line for line in lines if line.startswith("|")]
    columns = {len(re.split(r"(?<!\\)\|", line)) for line in table}
    assert len(columns) == 1, table


def test_a_profile_name_cannot_tear_the_summary_table():
    run = RunRecord("a|b", "ml.m5.large", "exact")
    check = CheckResult("TRAIN-MODEL", CheckStatus.PASS, "ok", profile="a|b\nc")
    text = render_summary(_report(runs=(run,), checks=(check,), errors=()))
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[-1].startswith("| a\\|b ⏎ c | — |")
    assert len({len(re.split(r"(?<!\\)\|", line)) for line in table}) == 1


def test_summary_says_when_options_narrowed_the_run():
    narrowed = _report(options=ReportOptions(only=("TRAIN-",), skip=("TRAIN-SIGTERM",)))
    assert "Checks limited by `--only TRAIN-` `--skip TRAIN-SIGTERM`" in render_summary(narrowed)
    assert "limited by" not in render_summary(_report())
    other = _report(options=ReportOptions(instance_types=("ml.c5.xlarge",)))
    assert "Instance types from `--instance-type ml.c5.xlarge`" in render_summary(other)


def test_the_html_banner_says_when_options_narrowed_the_run():
    from harness.report.html import render_html

    narrowed = _report(options=ReportOptions(only=("TRAIN-",), instance_types=("ml.c5.xlarge",)))
    assert "<dt>narrowed by</dt><dd>--only TRAIN- --instance-type ml.c5.xlarge</dd>" in (
        render_html(narrowed)
    )
    assert "narrowed by" not in render_html(_report())
