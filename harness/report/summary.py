"""summary.md: a short Markdown summary for a CI job summary or a pull-request comment.

Messages quote what containers wrote (newlines, `|`, escape sequences): each goes through
`markdown_inline`, so it stays on its list item and cannot tear the table apart.
"""

from __future__ import annotations

from harness.checks.results import CheckStatus
from harness.report.model import CHECK_GROUPS, RunReport, check_matrix
from harness.report.text import markdown_inline, plain_text

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
    lines = [
        f"## harness: {_MARK[report.verdict]} {verdict}",
        "",
        f"{summary['pass']} passed · {summary['fail']} failed · {summary['skip']} skipped · "
        f"{summary['error']} errors · {report.duration_s:.1f} s · harness "
        f"{report.harness_version} · run `{report.run_id}`",
    ]
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
            subject = f" ({check.subject})" if check.subject else ""
            text = markdown_inline(f"{subject} {where}: {check.message}")
            lines.append(f"- **{check.id}**{text}")
        if len(failed) > 20:
            lines.append(f"- … and {len(failed) - 20} more (see report.json)")
    if report.images:
        lines += ["", "### Images", ""]
        for image in report.images:
            pinned = image.get("pinned_reference") or image.get("image")
            lines.append(
                f"- {markdown_inline(str(image.get('role')))}: `{plain_text(str(pinned))}`"
            )
    return "\n".join(lines) + "\n"


def _narrowed(report: RunReport) -> str:
    """A line saying that options narrowed the run (a pass then proves less), or ""."""
    options = report.options
    parts = []
    flags = [f"`--only {o}`" for o in options.only] + [f"`--skip {s}`" for s in options.skip]
    if flags:
        parts.append("Checks limited by " + " ".join(flags) + ".")
    if options.instance_types:
        types = " ".join(f"`--instance-type {t}`" for t in options.instance_types)
        parts.append(f"Instance types from {types} instead of the plan's.")
    return plain_text(" ".join(parts))
