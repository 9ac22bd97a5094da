"""report.html: one self-contained page (no scripts, fonts or images from anywhere) a seller can
attach to a submission: verdict, what needs attention, the profile × instance type matrix, every
check with its evidence, per run its facts, metric curves and memory/CPU over time as inline SVG
and the tails of its logs (collapsed), then image digests and the host.

`render_html` is a pure function of the report and, optionally, the log excerpts
(`harness.report.log_excerpts.read_log_excerpts`) keyed by the log path the run record names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.checks.results import CheckResult
from harness.report.html_charts import line_chart, number, run_charts
from harness.report.log_excerpts import run_logs
from harness.report.model import CHECK_GROUPS, RunRecord, RunReport, check_matrix
from harness.report.text import html_text as escape

__all__ = ["line_chart", "render_html"]

_GROUPS = CHECK_GROUPS
_ORDER = ("error", "fail", "pass", "skip")
_STYLE = """
*{box-sizing:border-box}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
margin:0;color:#1d2430;background:#f4f5f7}
main{max-width:1200px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:28px;margin:0;letter-spacing:.04em}h2{font-size:17px;margin:32px 0 10px}
h3{font-size:15px;margin:0}a{color:#1d4ed8}
code,pre,.cid{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
code{font-size:12px;word-break:break-all}
.muted{color:#6b7280}
.banner{padding:20px 26px;color:#fff;border-radius:10px;display:flex;gap:24px;
justify-content:space-between;align-items:center}
.pass{background:#1f7a3f}.fail{background:#b42318}
.banner p{margin:4px 0 0;font-size:15px}
.meta{display:grid;grid-template-columns:auto auto;gap:2px 14px;margin:0;font-size:13px}
.meta dt{opacity:.8;text-align:right}.meta dd{margin:0;font-weight:600}
.box{background:#fff;border:1px solid #e3e6ea;border-radius:8px}
table{border-collapse:separate;border-spacing:0;width:100%;background:#fff;
border:1px solid #e3e6ea;border-radius:8px;overflow:hidden}
th,td{padding:8px 12px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:middle}
tr:last-child td{border-bottom:0}
th{background:#f0f2f5;font-size:12px;font-weight:600;color:#4b5563;text-transform:uppercase;
letter-spacing:.04em}
.pill{display:inline-block;padding:0 9px;border-radius:999px;font-size:12px;font-weight:600;
line-height:20px;white-space:nowrap;text-align:center}
.p-pass{background:#e3f4e8;color:#1f7a3f}.p-fail{background:#fde8e6;color:#b42318}
.p-error{background:#f3e8fb;color:#7a1fa2}.p-skip{background:#eef0f3;color:#5b6472}
.p-exact{background:#e3f4e8;color:#1f7a3f}.p-scaled{background:#fff4d6;color:#8a5a00}
.p-unavailable{background:#eef0f3;color:#5b6472}
.attention{border-left:4px solid #b42318;padding:6px 16px}
.attention ul{list-style:none;margin:0;padding:0}
.attention li{padding:7px 0;border-bottom:1px solid #eceef1;display:grid;gap:10px;
grid-template-columns:72px 196px 1fr;align-items:baseline}
.attention li:last-child{border-bottom:0}.attention .ids{display:flex;flex-direction:column}
.cid{font-size:13px;font-weight:600;white-space:nowrap}
.msg-skip{color:#5b6472}
.checks{margin-bottom:14px}.checks h3{margin:18px 0 8px}
.checks details{border-bottom:1px solid #eceef1}.checks details:last-child{border-bottom:0}
summary{display:grid;grid-template-columns:12px 58px 196px 1fr;gap:10px;align-items:baseline;
padding:8px 14px;cursor:pointer;list-style:none}
summary::-webkit-details-marker{display:none}
summary::before{content:"▸";color:#9aa1ab}details[open]>summary::before{content:"▾"}
summary:hover{background:#f8f9fb}
.warn{margin:0 14px 6px 94px;color:#8a5a00}
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;line-height:1.45;
margin:0 14px 12px 94px;background:#f4f5f7;padding:10px 12px;border-radius:6px;
max-height:360px;overflow:auto}
.run{padding:16px 20px;margin:0 0 14px}
.run header{display:flex;gap:10px;align-items:center;margin-bottom:8px}
.facts{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
.fact{background:#f0f2f5;border-radius:6px;padding:2px 9px;font-size:13px}
.fact.bad{background:#fde8e6;color:#b42318}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px;
margin:12px 0 4px}
.chart{margin:0;border:1px solid #eceef1;border-radius:8px;padding:8px 8px 4px}
.chart svg{display:block;width:100%;height:auto}
.chart figcaption{display:flex;justify-content:space-between;font-size:13px;font-weight:600;
padding:0 4px 2px}.chart .last{color:#2563eb}
.legend{display:flex;flex-wrap:wrap;gap:2px 12px;font-size:12px;font-weight:600;padding:0 4px 2px}
.logs{margin-top:10px}
details.log{border:1px solid #eceef1;border-radius:8px;margin:6px 0}
details.log summary{grid-template-columns:12px auto 1fr}
details.log pre{margin:0 12px 12px;max-height:420px;background:#1e222a;color:#e6e8eb}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0;padding:12px 16px}
.kv dt{color:#6b7280}.kv dd{margin:0}
footer{margin-top:28px;font-size:12px}
"""


def _pill(status: str, text: str | None = None, title: str = "") -> str:
    hint = f' title="{escape(title)}"' if title else ""
    return f'<span class="pill p-{escape(status)}"{hint}>{escape(text or status)}</span>'


def _bytes(value: Any) -> str:
    if not isinstance(value, int | float):
        return "—"
    size, unit = float(value), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            break
        size /= 1024
    return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"


def _row_title(profile: str, instance_type: str) -> str:
    if profile == "—" and instance_type == "—":
        return "Request and images"
    return f"{profile} · {instance_type}"


def _banner(report: RunReport) -> str:
    summary, verdict = report.summary, report.verdict
    meta: tuple[tuple[str, str], ...] = (
        ("run", report.run_id or "—"),
        ("started", report.started_at),
        ("duration", f"{report.duration_s:.1f} s"),
        ("harness", report.harness_version),
    )
    options = report.options
    narrowed = [f"--only {o}" for o in options.only] + [f"--skip {o}" for o in options.skip]
    narrowed += [f"--instance-type {t}" for t in options.instance_types]
    if narrowed:  # a pass of a narrowed run proves less: the reader must see it
        meta += (("narrowed by", " ".join(narrowed)),)
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in meta)
    # What stopped the run counts beside the checks: a FAIL for a lost Docker daemon must not
    # read as "0 errors" alone.
    stopped = ""
    if report.errors:
        errors = len(report.errors)
        stopped += f" · <b>{errors} harness error{'' if errors == 1 else 's'}</b>"
    if report.interrupted:
        stopped += " · <b>interrupted</b>"
    return (
        f'<div class="banner {escape(verdict)}"><div><h1>{verdict.upper()}</h1>'
        f"<p>{summary['pass']} passed · {summary['fail']} failed · {summary['skip']} skipped · "
        f"{summary['error']} errors, of {len(report.checks)} checks{stopped}</p></div>"
        f'<dl class="meta">{facts}</dl></div>'
    )


def _attention(report: RunReport) -> str:
    items = []
    if report.interrupted:
        items.append((_pill("fail", "interrupted"), "", "this report holds what was done before"))
    items += [(_pill("error", "harness"), "", escape(e)) for e in report.errors]
    if not report.checks:
        items.append((_pill("fail", "no checks"), "", "nothing was checked"))
    # Checks that failed alike (one cause, several IDs) are one item.
    alike: dict[tuple[str, str, str], list[tuple[int, CheckResult]]] = {}
    for index, check in enumerate(report.checks):
        if check.status.value in ("fail", "error"):
            where = " · ".join(p for p in (check.profile, check.instance_type) if p)
            key = (check.status.value, where, check.message)
            alike.setdefault(key, []).append((index, check))
    for (status, where, message), checks in alike.items():
        ids = "".join(
            f"<a class='cid' href='#check-{index}'>{escape(check.id)}</a>"
            + (f" <span class='muted'>({escape(check.subject)})</span>" if check.subject else "")
            for index, check in checks
        )
        items.append(
            (
                _pill(status),
                f"<span class='ids'>{ids}</span>",
                f"<span class='muted'>{escape(where)}</span> — {escape(message)}"
                if where
                else escape(message),
            )
        )
    if not items:
        return ""
    rows = "".join(
        f"<li>{pill}{ids or '<span></span>'}<span>{text}</span></li>" for pill, ids, text in items
    )
    return f'<h2>What needs attention</h2><div class="box attention"><ul>{rows}</ul></div>'


def _matrix(report: RunReport) -> str:
    emulation = {(r.profile, r.instance_type): r.emulation for r in report.runs}
    head = "".join(f"<th>{group}</th>" for group in _GROUPS)
    body = []
    for (profile, instance_type), groups in check_matrix(report):
        tds = []
        for group in _GROUPS:
            statuses = groups[group]
            worst = next((s for s in _ORDER if s in statuses), "")
            cell = ""
            if worst:
                breakdown = ", ".join(f"{statuses.count(s)} {s}" for s in _ORDER if s in statuses)
                cell = _pill(worst, f"{statuses.count(worst)} {worst}", breakdown)
                if statuses.count(worst) != len(statuses):
                    cell += f" <span class='muted'>of {len(statuses)}</span>"
            tds.append(f"<td>{cell}</td>")
        fidelity = emulation.get((profile, instance_type))
        name = (
            "<td colspan='3' class='muted'>request and images</td>"
            if (profile, instance_type) == ("—", "—")
            else f"<td>{escape(profile)}</td><td>{escape(instance_type)}</td>"
            f"<td>{_pill(fidelity) if fidelity else ''}</td>"
        )
        body.append(f"<tr>{name}{''.join(tds)}</tr>")
    return (
        '<table class="matrix"><tr><th>profile</th><th>instance type</th><th>emulation</th>'
        f"{head}</tr>{''.join(body)}</table>"
    )


def _check(index: int, check: CheckResult) -> str:
    subject = f"<span class='muted'>{escape(check.subject)}:</span> " if check.subject else ""
    warnings = "".join(f"<div class='warn'>warning: {escape(w)}</div>" for w in check.warnings)
    evidence = escape(json.dumps(check.evidence, indent=2, default=str)[:20000])
    return (
        f"<details><summary id='check-{index}'>{_pill(check.status.value)}"
        f"<span class='cid'>{escape(check.id)}</span>"
        f"<span class='msg-{escape(check.status.value)}'>{subject}{escape(check.message)}"
        f"</span></summary>{warnings}<pre>{evidence}</pre></details>"
    )


def _checks(report: RunReport) -> str:
    groups: dict[tuple[str, str], list[str]] = {}
    for index, check in enumerate(report.checks):
        key = (check.profile or "—", check.instance_type or "—")
        groups.setdefault(key, []).append(_check(index, check))
    return "".join(
        f'<div class="checks"><h3>{escape(_row_title(*key))}</h3>'
        f'<div class="box">{"".join(items)}</div></div>'
        for key, items in groups.items()
    )


def _facts(run: RunRecord) -> list[tuple[str, bool]]:
    """(text, bad) of what the run did, in the order it happened."""
    facts: list[tuple[str, bool]] = []
    training = run.training or {}
    if training:
        status = training.get("status")
        facts.append(
            (
                f"training {status} in {training.get('duration_s')} s, "
                f"exit {training.get('exit_code')}",
                status not in (None, "Completed"),
            )
        )
        if training.get("failure_reason"):
            facts.append((f"failure: {training['failure_reason']}", True))
        if training.get("peak_memory_bytes") is not None:
            facts.append((f"peak memory {_bytes(training['peak_memory_bytes'])}", False))
        model = training.get("model_artifact") or {}
        if model.get("bytes") is not None:
            digest = str(model.get("sha256") or "")[:12]
            facts.append((f"model.tar.gz {_bytes(model['bytes'])}, sha256 {digest}…", False))
    else:
        reasons = [
            r for h in run.emulation_detail.get("hosts") or [] for r in h.get("reasons") or []
        ]
        facts.append(
            ("not run" + (": " + "; ".join(dict.fromkeys(reasons)) if reasons else ""), False)
        )
    serving = run.serving or {}
    if serving.get("healthy_after_s") is not None:
        facts.append((f"serving ready after {number(serving['healthy_after_s'])} s", False))
    if serving.get("load"):
        load = serving["load"]
        latency = load.get("latency_ms") or {}
        facts.append(
            (f"serving p99 {latency.get('p99')} ms, {load.get('requests_per_second')} req/s", False)
        )
    transform = run.transform or {}
    if transform:
        facts.append(
            (
                f"transform {transform.get('records')} records, "
                f"{transform.get('records_per_second')} records/s",
                bool(transform.get("failed_files")),
            )
        )
    return facts


def _logs(run: RunRecord, excerpts: Mapping[str, str]) -> str:
    parts, unread = [], []
    for label, path, failed in run_logs(run):
        text = excerpts.get(path)
        if text is None:
            unread.append(path)
            continue
        count = len(text.splitlines())
        parts.append(
            f'<details class="log"{" open" if failed else ""}><summary><b>{escape(label)}</b>'
            f"<span class='muted'>last {count} line{'' if count == 1 else 's'} · "
            f"<code>{escape(path)}</code></span></summary>"
            f"<pre>{escape(text) or '(empty)'}</pre></details>"
        )
    if unread:
        names = ", ".join(f"<code>{escape(p)}</code>" for p in unread)
        parts.append(f"<p class='muted'>Full logs: {names}</p>")
    return f"<div class='logs'>{''.join(parts)}</div>" if parts else ""


def _runs(report: RunReport, excerpts: Mapping[str, str]) -> str:
    parts = []
    for run in report.runs:
        facts = "".join(
            f"<span class='fact{' bad' if bad else ''}'>{escape(text)}</span>"
            for text, bad in _facts(run)
        )
        parts.append(
            f'<section class="box run"><header><h3>{escape(run.profile)} · '
            f"{escape(run.instance_type)}</h3>{_pill(run.emulation)}</header>"
            f"<div class='facts'>{facts}</div>{run_charts(run)}{_logs(run, excerpts)}</section>"
        )
    return "".join(parts)


def _images(report: RunReport) -> str:
    rows = []
    for image in report.images:
        declared, resolved = image.get("declared_digest"), image.get("resolved_digest")
        note = ""
        if declared and declared != resolved:
            note = f"<br><span class='muted'>declared <code>{escape(str(declared))}</code></span>"
        elif not declared and resolved:
            note = " <span class='muted'>(undeclared: pinned by the harness)</span>"
        rows.append(
            f"<tr><td>{escape(str(image.get('role')))}</td>"
            f"<td><code>{escape(str(image.get('image')))}</code><br>"
            f"<code class='muted'>{escape(str(resolved or 'not resolved'))}</code>{note}</td>"
            f"<td>{escape(str(image.get('platform') or '—'))}</td></tr>"
        )
    return (
        "<table class='images'><tr><th style='width:130px'>role</th><th>image and digest</th>"
        f"<th style='width:200px'>platform</th></tr>{''.join(rows)}</table>"
    )


def _host(report: RunReport) -> str:
    host = report.host
    docker = host.get("docker") or {}
    runtimes = ", ".join(docker.get("runtimes") or []) or "—"
    gpus = ", ".join(
        f"{g.get('name')} ({_bytes((g.get('memory_total_mib') or 0) * 2**20)})"
        for g in host.get("gpus") or []
    )
    rows = (
        ("CPUs", str(host.get("cpus", "—"))),
        ("memory", _bytes((host.get("memory_mib") or 0) * 2**20) if "memory_mib" in host else "—"),
        ("GPUs", gpus or f"none{' — ' + host['gpu_note'] if host.get('gpu_note') else ''}"),
        ("cgroup", f"v{host.get('cgroup_version', '—')}"),
        (
            "Docker",
            f"{docker.get('version', '—')} (runtimes: {runtimes})",
        ),
    )
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="box kv">{items}</dl>'


def render_html(report: RunReport, log_excerpts: Mapping[str, str] | None = None) -> str:
    """The page for `report`; `log_excerpts` ({log path as the run record names it: its last
    lines}) adds a collapsed excerpt under each run for every log it covers."""
    verdict = report.verdict
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness report: {escape(verdict)}</title><style>{_STYLE}</style></head>
<body><main>
{_banner(report)}
{_attention(report)}
<h2>Matrix</h2>{_matrix(report)}
<h2>Checks</h2>{_checks(report)}
<h2>Runs</h2>{_runs(report, log_excerpts or {})}
<h2>Images</h2>{_images(report)}
<h2>Host</h2>{_host(report)}
<footer class="muted">Request <code>{escape(report.request)}</code> · plan
<code>{escape(str(report.plan))}</code> · harness {escape(report.harness_version)}</footer>
</main></body></html>
"""
