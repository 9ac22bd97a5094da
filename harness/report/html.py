"""report.html: one self-contained page (no scripts, fonts or images from anywhere) a seller can
attach to a submission: verdict, the profile × instance type matrix, every check with its
evidence, metric curves and memory/CPU over time as inline SVG, host and image digests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from harness.checks.results import CheckResult
from harness.report.model import CHECK_GROUPS, RunRecord, RunReport, check_matrix

_GROUPS = CHECK_GROUPS
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;
background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:16px 0 6px}
.banner{padding:18px 24px;color:#fff;border-radius:8px;display:flex;justify-content:space-between;
align-items:center}.pass{background:#1f7a3f}.fail{background:#b42318}
.banner small{opacity:.9}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden}
th,td{padding:7px 10px;border-bottom:1px solid #e6e8eb;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}
.s-pass{color:#1f7a3f;font-weight:600}.s-fail{color:#b42318;font-weight:600}
.s-error{color:#7a1fa2;font-weight:600}.s-skip{color:#6b7280}
details{background:#fff;border-radius:6px;margin:4px 0;padding:6px 10px}
summary{cursor:pointer}pre{white-space:pre-wrap;word-break:break-all;font-size:12px;
background:#f0f2f5;padding:8px;border-radius:4px;max-height:320px;overflow:auto}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border-radius:8px;padding:8px}
.chart h4{margin:0 0 4px;font-size:13px}.muted{color:#6b7280}
code{font-size:12px}
"""


def _status(status: str) -> str:
    return f'<span class="s-{escape(status)}">{escape(status)}</span>'


def line_chart(
    title: str,
    series: Sequence[tuple[float, float]],
    unit: str = "",
    width: int = 320,
    height: int = 140,
) -> str:
    """An inline SVG line chart of (x, y) points; empty when there are fewer than two."""
    if len(series) < 2:
        return ""
    xs, ys = [p[0] for p in series], [p[1] for p in series]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    pad = 28

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - pad - 6)

    def sy(y: float) -> float:
        return height - 18 - (y - y0) / (y1 - y0) * (height - 30)

    points = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in series)
    return (
        f'<div class="chart"><h4>{escape(title)}</h4>'
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">'
        f'<line x1="{pad}" y1="{height - 18}" x2="{width - 6}" y2="{height - 18}" '
        'stroke="#c7cbd1"/>'
        f'<line x1="{pad}" y1="8" x2="{pad}" y2="{height - 18}" stroke="#c7cbd1"/>'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{points}"/>'
        f'<text x="2" y="14" font-size="10" fill="#6b7280">{y1:.4g}{escape(unit)}</text>'
        f'<text x="2" y="{height - 20}" font-size="10" fill="#6b7280">{y0:.4g}</text>'
        f'<text x="{pad}" y="{height - 4}" font-size="10" fill="#6b7280">{x0:.4g} s</text>'
        f'<text x="{width - 6}" y="{height - 4}" font-size="10" fill="#6b7280" '
        f'text-anchor="end">{x1:.3g} s</text></svg></div>'
    )


def _matrix(report: RunReport) -> str:
    head = "".join(f"<th>{group}</th>" for group in _GROUPS)
    body = []
    for (profile, instance_type), groups in check_matrix(report):
        tds = []
        for group in _GROUPS:
            statuses = groups[group]
            worst = next((s for s in ("error", "fail", "pass", "skip") if s in statuses), "")
            text = f"{_status(worst)} {len(statuses)}" if worst else ""
            tds.append(f"<td>{text}</td>")
        body.append(
            f"<tr><td>{escape(profile)}</td><td>{escape(instance_type)}</td>{''.join(tds)}</tr>"
        )
    return f"<table><tr><th>profile</th><th>instance type</th>{head}</tr>{''.join(body)}</table>"


def _check(check: CheckResult) -> str:
    where = " · ".join(escape(p) for p in (check.profile, check.instance_type, check.subject) if p)
    warnings = "".join(f"<div class='muted'>warning: {escape(w)}</div>" for w in check.warnings)
    evidence = escape(json.dumps(check.evidence, indent=2, default=str)[:20000])
    return (
        f"<details><summary>{_status(check.status.value)} <b>{escape(check.id)}</b> "
        f"<span class='muted'>{where}</span> — {escape(check.message)}</summary>"
        f"{warnings}<pre>{evidence}</pre></details>"
    )


def _run_charts(run: RunRecord) -> str:
    training = run.training or {}
    charts = []
    for name, detail in (training.get("metrics_detail") or {}).items():
        points = [
            (p["t"], p["value"])
            for p in detail.get("points") or []
            if isinstance(p, dict) and "t" in p and "value" in p
        ]
        if points:
            start = points[0][0]
            charts.append(line_chart(f"{name}", [(t - start, v) for t, v in points]))
    for host in training.get("hosts") or []:
        samples = (host.get("usage") or {}).get("samples") or []
        memory = [(s["t"], s["memory_bytes"] / 2**20) for s in samples]
        cpu = [(s["t"], s["cpu_seconds"]) for s in samples]
        charts.append(line_chart(f"{host['host']} memory", memory, " MiB"))
        charts.append(line_chart(f"{host['host']} CPU time", cpu, " s"))
    shown = "".join(c for c in charts if c)
    return f"<div class='charts'>{shown}</div>" if shown else ""


def _runs(report: RunReport) -> str:
    parts = []
    for run in report.runs:
        training = run.training or {}
        facts = [f"emulation <b>{escape(run.emulation)}</b>"]
        if training:
            facts.append(
                f"training {escape(str(training.get('status')))} in "
                f"{training.get('duration_s')} s, exit {training.get('exit_code')}"
            )
            if training.get("failure_reason"):
                facts.append(f"failure: {escape(str(training['failure_reason']))}")
        serving = run.serving or {}
        if serving.get("load"):
            load = serving["load"]
            latency = load.get("latency_ms") or {}
            facts.append(
                f"serving p99 {latency.get('p99')} ms, {load.get('requests_per_second')} req/s"
            )
        transform = run.transform or {}
        if transform:
            facts.append(
                f"transform {transform.get('records')} records, "
                f"{transform.get('records_per_second')} records/s"
            )
        parts.append(
            f"<h3>{escape(run.profile)} on {escape(run.instance_type)}</h3>"
            f"<p>{' · '.join(facts)}</p>{_run_charts(run)}"
        )
    return "".join(parts)


def render_html(report: RunReport) -> str:
    summary = report.summary
    verdict = report.verdict
    images = "".join(
        f"<tr><td>{escape(str(i.get('role')))}</td><td><code>{escape(str(i.get('image')))}"
        f"</code></td><td><code>{escape(str(i.get('resolved_digest') or '—'))}</code></td>"
        f"<td>{escape(str(i.get('platform') or '—'))}</td></tr>"
        for i in report.images
    )
    host = report.host
    gpus = ", ".join(str(g.get("name")) for g in host.get("gpus") or []) or "none"
    errors = "".join(f"<p class='s-error'>{escape(e)}</p>" for e in report.errors)
    interrupted = (
        "<p class='s-fail'>Interrupted: this report holds what was done before.</p>"
        if report.interrupted
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness report: {escape(verdict)}</title><style>{_STYLE}</style></head>
<body><main>
<div class="banner {escape(verdict)}"><div><h1>{"PASS" if verdict == "pass" else "FAIL"}</h1>
<small>{summary["pass"]} passed · {summary["fail"]} failed · {summary["skip"]} skipped ·
{summary["error"]} errors</small></div>
<small>harness {escape(report.harness_version)} · run {escape(report.run_id)}<br>
{escape(report.started_at)} · {report.duration_s:.1f} s</small></div>
{interrupted}{errors}
<h2>Matrix</h2>{_matrix(report)}
<h2>Checks</h2>{"".join(_check(c) for c in report.checks)}
<h2>Runs</h2>{_runs(report)}
<h2>Images</h2><table><tr><th>role</th><th>image</th><th>digest</th><th>platform</th></tr>
{images}</table>
<h2>Host</h2><p>{host.get("cpus")} CPUs · {host.get("memory_mib")} MiB · GPUs: {escape(gpus)} ·
cgroup v{host.get("cgroup_version")} · Docker
{escape(str((host.get("docker") or {}).get("version")))}</p>
<p class="muted">Request {escape(report.request)} · plan {escape(str(report.plan))}</p>
</main></body></html>
"""
