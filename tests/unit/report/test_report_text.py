"""Text the container wrote (a failure file, a log line) reaches junit.xml and summary.md
verbatim in check messages: neither may break (invalid XML, a torn Markdown table)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

from harness.checks.results import CheckResult, CheckStatus
from harness.report.junit import render_junit
from harness.report.model import ReportOptions, RunRecord, RunReport
from harness.report.summary import render_summary
from harness.report.text import markdown_inline, plain_text

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
    assert [c.get("classname") for c in suite.iter("testcase")] == [
        "smoke.ml_m5_large",
        "static",
        "harness",  # the report's one harness error
    ]


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


# --- summary.md quotes container text: none of it may act as Markdown or HTML on GitHub -----

HOSTILE = (
    "<!-- hides the rest",
    "@team please look, cc @octo-org/reviewers and mail a@b.io",
    "![pixel](http://tracker.example/p.png)",
    "[click](http://evil.example) and <http://evil.example> and <b>bold</b> &amp; &#60;",
    "*em* **strong** _em_ __strong__ `code` ``two`` ~~gone~~ ~gone~ $x^2$ [^1] \\* \\",
    "fixes #12 and org/repo#34 (see #)",
    "- a list",
    "+ a list",
    "12. an ordered list",
    "3) an ordered list",
    "# a heading",
    "> a quote",
    "=== setext",
    "``` fence",
    "~~~ fence",
    "    indented code",
    "- [ ] task",
    "---",
    "_ _ _",
    "| a | b |",
    "snake_case_name stays as it is, a_b",
)
ZWJ = "\u200d"


def _markdown(source: str) -> str:
    """HTML as a CommonMark renderer with GFM tables and strikethrough makes it (raw HTML
    allowed, as GitHub allows its safe subset)."""
    from markdown_it import MarkdownIt

    rendered: str = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(source)
    return rendered


def _inline(text: str) -> str:
    """What markdown_inline must show: the plain text on one line."""
    return plain_text(text).replace("\n", " ⏎ ").replace("\t", " ").strip()


def test_markdown_inline_renders_as_the_text_itself() -> None:
    for text in HOSTILE:
        escaped = markdown_inline(text)
        rendered = _markdown(f"- {escaped}\n")
        assert rendered.startswith("<ul>\n<li>"), (text, rendered)
        assert rendered.endswith("</li>\n</ul>\n"), (text, rendered)
        inner = rendered[len("<ul>\n<li>") : -len("</li>\n</ul>\n")]
        assert "<" not in inner, (text, rendered)  # no element: no link, image, emphasis, code
        assert html.unescape(inner).replace(ZWJ, "") == _inline(text), (text, rendered)


def test_markdown_inline_is_inert_in_a_table_cell_and_mid_line() -> None:
    for text in HOSTILE:
        escaped = markdown_inline(text)
        rendered = _markdown(f"| a | b |\n|---|---|\n| {escaped} | x |\n")
        cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
        assert len(cells) == 2, (text, rendered)
        assert html.unescape(cells[0]).replace(ZWJ, "") == _inline(text), (text, rendered)
        rendered = _markdown(f"- **ID** {escaped}\n")
        assert html.unescape(rendered).replace(ZWJ, "") == (
            f"<ul>\n<li><strong>ID</strong> {_inline(text)}</li>\n</ul>\n"
        ), (text, rendered)


def test_markdown_inline_breaks_mentions_and_issue_references() -> None:
    """GitHub links @name and #123 in the HTML after Markdown (a backslash cannot stop
    that): a zero-width joiner after the @ or # keeps them from matching, invisibly."""
    escaped = markdown_inline(HOSTILE[1] + " " + HOSTILE[5])
    assert f"@{ZWJ}team" in escaped
    assert f"@{ZWJ}octo-org/reviewers" in escaped
    assert f"a@{ZWJ}b.io" in escaped
    assert f"#{ZWJ}12" in escaped
    assert f"repo#{ZWJ}34" in escaped
    assert "(see #)" in escaped  # nothing to break: left alone
    assert not re.search(r"[@#][A-Za-z0-9]", escaped)


def test_markdown_inline_escapes_little_that_is_harmless() -> None:
    """Identifiers, paths and sentences read in the raw file as they were written."""
    text = "train_loss=0.41 at /opt/ml/model: done! a > b, 100% (3/3) #tag"
    assert markdown_inline(text) == text
    assert markdown_inline("a|b") == "a\\|b"
    assert markdown_inline("a\\|b") == "a\\\\\\|b"  # the backslash shows: it was there


def test_summary_renders_hostile_container_text_inertly() -> None:
    message = " ".join(HOSTILE)
    check = CheckResult(
        "TRAIN-FAILURE-REASON",
        CheckStatus.FAIL,
        message,
        subject="@algo-1 <!--",
        profile="smoke",
        instance_type="ml.m5.large",
    )
    report = _report(
        checks=(check,),
        errors=("<!-- @team ![x](http://x/y.png)",),
        images=({"role": "training", "image": "reg/a:1", "pinned_reference": "a``b`"},),
        options=ReportOptions(only=("TRAIN-`x`",)),
    )
    rendered = _markdown(render_summary(report))
    assert "<!--" not in rendered
    for element in ("<a", "<img", "<em", "<del", "<h3>What", "<ol", "<blockquote", "<b>"):
        assert rendered.count(element) == (1 if element == "<h3>What" else 0), element
    # Code spans hold what contains backticks without ending early.
    assert re.findall(r"<code>(.*?)</code>", rendered) == ["--only TRAIN-`x`", "a``b`"]
    assert "@team" not in rendered
    assert "@algo-1" not in rendered
