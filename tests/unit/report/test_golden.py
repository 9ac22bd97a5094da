"""Golden files: each renderer's output for the one literal result model in sample_report.py,
compared byte for byte with tests/unit/report/golden/.

After an intended change to a renderer (or to the sample), regenerate the goldens and review
their diff like code:

    HARNESS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/report

With the variable set, the golden tests rewrite their files and pass; without it, a difference
fails with a unified diff of where the output and the golden file part. On CI (CI=true) the
variable is refused: a CI job that rewrote its goldens would pass whatever the renderers print.
"""

from __future__ import annotations

import difflib
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.checks.results import CheckStatus
from harness.report.html import render_html
from harness.report.json_report import render_report_json
from harness.report.junit import render_junit
from harness.report.summary import render_summary
from harness.report.text import plain_text
from tests.unit.report.sample_report import SAMPLE_LOG_EXCERPTS, SAMPLE_REPORT

GOLDEN = Path(__file__).parent / "golden"


def updating_goldens() -> bool:
    """Whether HARNESS_UPDATE_GOLDEN=1 asks to rewrite the goldens; fails the test on CI."""
    if os.environ.get("HARNESS_UPDATE_GOLDEN") != "1":
        return False
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(
            "HARNESS_UPDATE_GOLDEN=1 is refused on CI (CI=true): golden files are regenerated "
            "on a workstation and their diff reviewed and committed, never rewritten by CI"
        )
    return True


RENDERERS: dict[str, Callable[[], str]] = {
    "report.json": lambda: render_report_json(SAMPLE_REPORT),
    "junit.xml": lambda: render_junit(SAMPLE_REPORT),
    "summary.md": lambda: render_summary(SAMPLE_REPORT),
    "report.html": lambda: render_html(SAMPLE_REPORT, SAMPLE_LOG_EXCERPTS),
}


def _golden_text(name: str) -> str:
    return (GOLDEN / name).read_bytes().decode("utf-8")


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renderer_output_equals_its_golden_file(name: str) -> None:
    output = RENDERERS[name]()
    assert output == RENDERERS[name](), f"{name}: two renderings of one report differ"
    golden = GOLDEN / name
    if updating_goldens():
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(output.encode("utf-8"))
        return
    if not golden.exists():
        pytest.fail(f"{golden} is missing: HARNESS_UPDATE_GOLDEN=1 pytest tests/unit/report")
    expected = _golden_text(name)
    if output != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            output.splitlines(keepends=True),
            f"golden/{name}",
            f"{name} (rendered now)",
        )
        shown = "".join(list(diff)[:80])
        pytest.fail(
            f"{name} differs from its golden file; if the change is intended, run "
            f"HARNESS_UPDATE_GOLDEN=1 pytest tests/unit/report and review the diff:\n{shown}"
        )


def test_goldens_are_never_rewritten_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_UPDATE_GOLDEN", "1")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="refused on CI"):
        updating_goldens()
    monkeypatch.setenv("CI", "false")
    assert updating_goldens()
    monkeypatch.delenv("HARNESS_UPDATE_GOLDEN")
    monkeypatch.setenv("CI", "true")
    assert not updating_goldens()


def test_the_sample_covers_every_status_and_a_failing_verdict() -> None:
    assert SAMPLE_REPORT.summary == {"pass": 29, "fail": 4, "skip": 17, "error": 4}
    assert SAMPLE_REPORT.verdict == "fail"
    assert {(r.profile, r.emulation) for r in SAMPLE_REPORT.runs} == {
        ("smoke", "exact"),
        ("smoke", "unavailable"),
        ("distributed", "scaled"),
        ("distributed", "exact"),
    }


def test_golden_report_json_satisfies_the_shipped_schema() -> None:
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("harness").joinpath("schemas/report.schema.json").read_text()
    )
    data = json.loads(_golden_text("report.json"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []
    assert data["summary"] == SAMPLE_REPORT.summary
    assert data["schema_version"] == "1.1"
    assert data["options"] == {
        "only": [],
        "skip": [],
        "instance_types": [],
        "profiles": ["smoke", "distributed"],
    }
    assert data["plan_sha256"] == SAMPLE_REPORT.plan_sha256
    assert [c["id"] for c in data["checks"]] == [c.id for c in SAMPLE_REPORT.checks]


def test_golden_junit_has_one_testcase_per_check_with_failures_errors_and_skips() -> None:
    suite = ET.fromstring(_golden_text("junit.xml"))
    assert suite.tag == "testsuite"
    cases = [c for c in suite.findall("testcase") if c.get("classname") != "harness"]
    assert len(cases) == len(SAMPLE_REPORT.checks)
    # The report's one harness error is one more testcase, an error.
    (harness,) = suite.findall("testcase[@classname='harness']")
    assert harness.get("name") == "error 1"
    assert harness.find("error") is not None
    assert suite.get("tests") == str(len(SAMPLE_REPORT.checks) + 1)
    for case, check in zip(cases, SAMPLE_REPORT.checks, strict=True):
        assert case.get("name", "").startswith(check.id)
        children = {child.tag for child in case if child.tag != "system-out"}
        expected = {
            CheckStatus.PASS: set(),
            CheckStatus.FAIL: {"failure"},
            CheckStatus.ERROR: {"error"},
            CheckStatus.SKIP: {"skipped"},
        }[check.status]
        assert children == expected, check
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                assert child.get("message") == plain_text(check.message)
    summary = SAMPLE_REPORT.summary
    assert (
        len(suite.findall("testcase/failure")) == summary["fail"] == int(suite.get("failures", 0))
    )
    errors = summary["error"] + len(SAMPLE_REPORT.errors)
    assert len(suite.findall("testcase/error")) == errors == int(suite.get("errors", 0))
    assert len(suite.findall("testcase/skipped")) == summary["skip"] == int(suite.get("skipped", 0))
    assert {c.get("classname") for c in cases} >= {
        "static",
        "images",
        "smoke.ml_m5_large",
        "distributed.ml_m5_4xlarge",
    }


def test_golden_junit_and_summary_survive_what_containers_write() -> None:
    """The sample's TRAIN-METRICS message quotes colored log lines and a progress bar."""
    junit, summary = _golden_text("junit.xml"), _golden_text("summary.md")
    for text in (junit, summary):
        assert "\x1b" not in text
        assert "\r" not in text
    suite = ET.fromstring(junit)
    metrics = suite.find("testcase[@classname='distributed.ml_m5_4xlarge'][@name='TRAIN-METRICS']")
    assert metrics is not None
    message = metrics.findtext("failure") or ""
    assert "nearly: [eval] validation accuracy: 0.79 | [eval] 100%|###" in message
    assert "3/3\n[eval] validation acc=0.80" in message
    (line,) = [line for line in summary.splitlines() if line.startswith("- **TRAIN-METRICS**")]
    assert line.endswith(
        "0.79 \\| \\[eval\\] 100%\\|##########\\| 3/3 ⏎ \\[eval\\] validation acc=0.80"
    )


def test_golden_summary_names_what_failed() -> None:
    text = _golden_text("summary.md")
    assert text.startswith("## harness: ❌ FAIL\n")
    assert "**TRAIN-COMPLETES** distributed/ml.m5.4xlarge" in text
    assert "| distributed | ml.c5.2xlarge |" in text


def test_golden_html_is_self_contained_and_escapes_what_it_shows() -> None:
    html = _golden_text("report.html")
    for outside in ("<script", "<link", "src=", "@import", "url(", "http://", "https://"):
        assert outside not in html
    assert "&lt;script&gt;" in html  # from a log excerpt
    for check in SAMPLE_REPORT.checks:
        assert f"<span class='cid'>{check.id}</span>" in html
    assert html.count("<details>") == len(SAMPLE_REPORT.checks)
    assert html.count('<details class="log"') == len(SAMPLE_LOG_EXCERPTS)
    assert html.count('<details class="log" open>') == 2  # the failed run's two hosts
    assert "<svg" in html
    assert "Full logs: <code>distributed/ml.c5.2xlarge/logs/algo-1.log</code>" in html


def test_html_without_excerpts_names_each_log() -> None:
    html = render_html(SAMPLE_REPORT)
    assert '<details class="log"' not in html
    for path in SAMPLE_LOG_EXCERPTS:
        assert f"<code>{path}</code>" in html
