"""summary.md: a short Markdown summary for a CI job summary or a pull-request comment.

Messages quote what containers wrote (newlines, `|`, escape sequences, Markdown and HTML):
each goes through `markdown_inline`, so it stays on its list item, cannot tear the table apart
and shows as the text it is (no link, image, comment or @mention); image references and
options go into code spans (`markdown_code`).

The counts line counts what stopped the run beside the checks (`N harness errors`,
`interrupted`): a FAIL caused by a lost Docker daemon never reads as "0 errors" alone.
"""

from __future__ import annotations

from harness.checks.results import CheckStatus
from harness.report.model import CHECK_GROUPS, RunReport, check_matrix
from harness.report.text import markdown_code, markdown_inline

_GROUPS = CHECK_GROUPS
_MARK = {"pass": "✅", "fail": "❌", "error": "💥", "skip": "➖"}


def _cell(statuses: list[str]) -> str:
    if not statuses:
        return ""
    for status in ("error", "fail"):
        if status in statuses:
            return f"{_MARK[status]} {statuses.count(status)} {status}"
    if "pass" in statuses:
        return f"{_MARK['pass']} {statuses.count('pass')}"
    return f"{_MARK['skip']} skipped"


def render_summary(report: RunReport) -> str:
    summary = report.summary
    verdict = "PASS" if report.verdict == "pass" else "FAIL"
    counts = [
        f"{summary['pass']} passed",
        f"{summary['fail']} failed",
        f"{summary['skip']} skipped",
        f"{summary['error']} errors",
    ]
    if report.errors:
        errors = len(report.errors)
        counts.append(f"{errors} harness error{'' if errors == 1 else 's'}")
    if report.interrupted:
        counts.append("interrupted")
    counts += [f"{report.duration_s:.1f} s", f"harness {report.harness_version}"]
    if report.run_id:
        counts.append(f"run {markdown_code(report.run_id)}")
    lines = [f"## harness: {_MARK[report.verdict]} {verdict}", "", " · ".join(counts)]
    narrowed = _narrowed(report)
    if narrowed:
        lines += ["", narrowed]
    if report.interrupted:
        lines += ["", "**Interrupted**: the report holds what was done before."]
    if report.errors:
        lines.append("")  # a list right after a paragraph line would join it
    lines += [f"- {markdown_inline(error)}" for error in report.errors]
    lines += [
        "",
        "| profile | instance type | " + " | ".join(_GROUPS) + " |",
        "|---|---|" + "---|" * len(_GROUPS),
    ]
    for (profile, instance_type), groups in check_matrix(report):
        lines.append(
            f"| {markdown_inline(profile)} | {markdown_inline(instance_type)} | "
            + " | ".join(_cell(groups[group]) for group in _GROUPS)
            + " |"
        )
    failed = [c for c in report.checks if c.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
    if failed:
        lines += ["", "### What failed", ""]
        for check in failed[:20]:
            where = "/".join(p for p in (check.profile, check.instance_type) if p)
            subject = f"({check.subject})" if check.subject else ""
            prefix = " ".join(p for p in (subject, where) if p)
            if prefix:
                lines.append(f"- **{check.id}** {markdown_inline(f'{prefix}: {check.message}')}")
            else:
                lines.append(f"- **{check.id}**: {markdown_inline(check.message)}")
        if len(failed) > 20:
            lines.append(f"- … and {len(failed) - 20} more (see report.json)")
    if report.images:
        lines += ["", "### Images", ""]
        for image in report.images:
            pinned = image.get("pinned_reference") or image.get("image")
            lines.append(
                f"- {markdown_inline(str(image.get('role')))}: {markdown_code(str(pinned))}"
            )
    return "\n".join(lines) + "\n"


def _narrowed(report: RunReport) -> str:
    """A line saying that options narrowed the run (a pass then proves less), or ""."""
    options = report.options
    parts = []
    flags = [markdown_code(f"--only {o}") for o in options.only]
    flags += [markdown_code(f"--skip {s}") for s in options.skip]
    if flags:
        parts.append("Checks limited by " + " ".join(flags) + ".")
    if options.instance_types:
        types = " ".join(markdown_code(f"--instance-type {t}") for t in options.instance_types)
        parts.append(f"Instance types from {types} instead of the plan's.")
    return " ".join(parts)
