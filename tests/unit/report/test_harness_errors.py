"""A run can fail with no check failing: Docker went away (report.errors) or Ctrl-C stopped it
(report.interrupted). Every report must count those, so that nobody reads "0 errors" beside a
FAIL verdict (INTERRUPTED_REPORT: every check that ran passed, two harness errors,
interrupted), and a run that started but produced no check still has its matrix row."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from harness.report.html import render_html
from harness.report.junit import INTERRUPTED_MESSAGE, render_junit
from harness.report.model import check_matrix
from harness.report.summary import render_summary
from tests.unit.report.sample_report import (
    CLEANUP_INTERRUPTED,
    INTERRUPTED_REPORT,
    LOST_DOCKER,
    SAMPLE_REPORT,
)


def test_the_interrupted_report_fails_with_every_check_passed() -> None:
    assert INTERRUPTED_REPORT.verdict == "fail"
    assert INTERRUPTED_REPORT.summary["error"] == INTERRUPTED_REPORT.summary["fail"] == 0


def test_junit_has_an_error_testcase_per_harness_error_and_for_the_interruption() -> None:
    suite = ET.fromstring(render_junit(INTERRUPTED_REPORT))
    checks = len(INTERRUPTED_REPORT.checks)
    assert suite.get("tests") == str(checks + 3)
    assert suite.get("errors") == "3"
    assert suite.get("failures") == "0"
    harness = suite.findall("testcase[@classname='harness']")
    assert [case.get("name") for case in harness] == ["error 1", "error 2", "interrupted"]
    messages = [case.find("error") for case in harness]
    assert [e.get("message") if e is not None else None for e in messages] == [
        LOST_DOCKER,
        CLEANUP_INTERRUPTED,
        INTERRUPTED_MESSAGE,
    ]
    assert INTERRUPTED_MESSAGE == "interrupted: the report holds what was done before"
    assert len(suite.findall("testcase/error")) == int(suite.get("errors", -1))
    assert len(suite.findall("testcase")) == int(suite.get("tests", -1))


def test_junit_of_a_run_without_harness_errors_has_no_harness_testcase() -> None:
    clean = replace(SAMPLE_REPORT, errors=())
    suite = ET.fromstring(render_junit(clean))
    assert suite.findall("testcase[@classname='harness']") == []
    assert suite.get("errors") == str(clean.summary["error"])


def test_summary_counts_harness_errors_and_says_interrupted_beside_the_counts() -> None:
    text = render_summary(INTERRUPTED_REPORT)
    assert text.startswith("## harness: ❌ FAIL\n")
    counts = text.splitlines()[2]
    assert counts.startswith(
        "10 passed · 0 failed · 0 skipped · 0 errors · 2 harness errors · interrupted · 42.0 s"
    ), counts
    single = render_summary(SAMPLE_REPORT).splitlines()[2]
    assert "· 4 errors · 1 harness error · 187.4 s" in single, single
    assert "interrupted" not in single


def test_summary_table_keeps_a_run_that_has_no_checks() -> None:
    rows = [line for line in render_summary(INTERRUPTED_REPORT).splitlines() if line[:2] == "| "]
    assert rows[-1] == "| distributed | ml.m5.4xlarge |  |  |  |  |  |"


def test_the_matrix_has_a_row_for_every_run_record_in_run_order() -> None:
    assert [key for key, _ in check_matrix(INTERRUPTED_REPORT)] == [
        ("—", "—"),
        ("smoke", "ml.m5.large"),
        ("distributed", "ml.m5.4xlarge"),
    ]
    empty = dict(check_matrix(INTERRUPTED_REPORT))[("distributed", "ml.m5.4xlarge")]
    assert empty == {"SPEC": [], "IMAGE": [], "TRAIN": [], "SERVE": [], "TRANSFORM": []}
    assert [key for key, _ in check_matrix(SAMPLE_REPORT)] == [
        ("—", "—"),
        ("smoke", "ml.m5.large"),
        ("smoke", "ml.p4d.24xlarge"),
        ("distributed", "ml.m5.4xlarge"),
        ("distributed", "ml.c5.2xlarge"),
    ]


def test_html_banner_counts_harness_errors_and_says_interrupted() -> None:
    page = render_html(INTERRUPTED_REPORT)
    banner = re.search(r'<div class="banner fail">.*?</div>', page, re.S)
    assert banner is not None
    text = re.sub(r"<[^>]+>", "", banner.group(0))
    assert "10 passed · 0 failed · 0 skipped · 0 errors, of 10 checks" in text
    assert "2 harness errors" in text
    assert "interrupted" in text
    single = render_html(SAMPLE_REPORT)
    assert "1 harness error<" in single
    single_banner = re.search(r'<div class="banner.*?</div>', single, re.S)
    assert single_banner is not None
    assert "interrupted" not in single_banner.group(0)


def test_html_matrix_shows_a_run_without_checks_with_its_emulation() -> None:
    page = render_html(INTERRUPTED_REPORT)
    matrix = re.search(r'<table class="matrix">.*?</table>', page, re.S)
    assert matrix is not None
    rows = re.findall(r"<tr>.*?</tr>", matrix.group(0), re.S)
    assert len(rows) == 1 + 3  # the header, run-wide checks, two runs
    assert rows[-1] == (
        "<tr><td>distributed</td><td>ml.m5.4xlarge</td>"
        '<td><span class="pill p-scaled">scaled</span></td>' + "<td></td>" * 5 + "</tr>"
    )
