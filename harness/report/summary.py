"""summary.md: a short Markdown summary for a CI job summary or a pull-request comment."""

from __future__ import annotations

from harness.checks.results import CheckStatus
from harness.report.model import CHECK_GROUPS, RunReport, check_matrix

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
    if report.interrupted:
        lines += ["", "**Interrupted**: the report holds what was done before."]
    lines += [f"- {error}" for error in report.errors]
    lines += [
        "",
        "| profile | instance type | " + " | ".join(_GROUPS) + " |",
        "|---|---|" + "---|" * len(_GROUPS),
    ]
    for (profile, instance_type), groups in check_matrix(report):
        lines.append(
            f"| {profile} | {instance_type} | "
            + " | ".join(_cell(groups[group]) for group in _GROUPS)
            + " |"
        )
    failed = [c for c in report.checks if c.status in (CheckStatus.FAIL, CheckStatus.ERROR)]
    if failed:
        lines += ["", "### What failed", ""]
        for check in failed[:20]:
            where = "/".join(p for p in (check.profile, check.instance_type) if p)
            subject = f" ({check.subject})" if check.subject else ""
            lines.append(f"- **{check.id}**{subject} {where}: {check.message}")
        if len(failed) > 20:
            lines.append(f"- … and {len(failed) - 20} more (see report.json)")
    if report.images:
        lines += ["", "### Images", ""]
        for image in report.images:
            pinned = image.get("pinned_reference") or image.get("image")
            lines.append(f"- {image.get('role')}: `{pinned}`")
    return "\n".join(lines) + "\n"
