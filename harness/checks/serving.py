"""SERVE-* checks evaluated from what the serving run observed (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.checks.results import CheckResult, CheckStatus

if TYPE_CHECKING:
    from harness.plan import LoadPlan
    from harness.serving.load import LoadReport
    from harness.serving.ping import PingMonitorReport, PingReport

SERVE_PING = "SERVE-PING"
SERVE_INVOKE = "SERVE-INVOKE"
SERVE_LATENCY = "SERVE-LATENCY"
SERVE_SIGTERM = "SERVE-SIGTERM"
SERVING_CHECKS = (SERVE_PING, SERVE_INVOKE, SERVE_LATENCY, SERVE_SIGTERM)
SLOW_PROBE_SECONDS = 2.0


@dataclass(frozen=True)
class Invocation:
    """One request of SERVE-INVOKE and what came back."""

    purpose: str
    """`text/csv -> text/csv`, `unknown X-Amzn-SageMaker header`, `6 MB payload`, ..."""
    content_type: str
    accept: str | None
    request_bytes: int
    status: int
    response_type: str | None
    latency_s: float
    error: str | None
    body_excerpt: str


def check_ping(
    report: PingReport, during_load: PingMonitorReport | None, startup_timeout: float
) -> CheckResult:
    evidence = {
        "startup": report.to_dict(),
        "during_load": during_load.to_dict() if during_load else None,
    }
    if not report.healthy:
        return CheckResult(
            SERVE_PING,
            CheckStatus.FAIL,
            f"/ping never answered 200 within {startup_timeout:.0f} s: "
            f"{report.reason or 'no healthy answer'}",
            evidence=evidence,
        )
    slow = [*report.slow_probes, *(during_load.slow_probes if during_load else ())]
    failures = list(during_load.failures) if during_load else []
    if slow:
        return CheckResult(
            SERVE_PING,
            CheckStatus.FAIL,
            f"/ping took {max(p.latency_s for p in slow):.1f} s to answer; "
            f"SageMaker allows {SLOW_PROBE_SECONDS:.0f} s",
            evidence=evidence,
        )
    if failures:
        return CheckResult(
            SERVE_PING,
            CheckStatus.FAIL,
            f"/ping failed {len(failures)} time(s) under load: {failures[0].describe()}",
            evidence=evidence,
        )
    return CheckResult(
        SERVE_PING,
        CheckStatus.PASS,
        f"/ping answered 200 {report.healthy_after_s or 0:.2f} s after start",
        evidence=evidence,
    )


def check_invoke(
    invocations: Sequence[Invocation], response_types: Sequence[str], uncovered: Sequence[str]
) -> CheckResult:
    evidence = {
        "invocations": [vars(i) for i in invocations],
        "supported_response_types": list(response_types),
    }
    warnings = tuple(
        f"no request for supported content type {t}: add one under serving.requests"
        for t in uncovered
    )
    if not invocations:
        return CheckResult(
            SERVE_INVOKE,
            CheckStatus.SKIP,
            "no request to send: add serving.requests to the plan",
            evidence=evidence,
            warnings=warnings,
        )
    problems = []
    for item in invocations:
        if item.error or item.status != 200:
            what = item.error or f"HTTP {item.status}"
            problems.append(f"{item.purpose}: {what} {item.body_excerpt!r}".rstrip())
        elif response_types and item.response_type not in response_types:
            problems.append(
                f"{item.purpose}: answered Content-Type {item.response_type}, not "
                f"one of SupportedResponseMIMETypes ({', '.join(response_types)})"
            )
    if problems:
        return CheckResult(
            SERVE_INVOKE,
            CheckStatus.FAIL,
            "; ".join(problems[:3]),
            evidence=evidence,
            warnings=warnings,
        )
    return CheckResult(
        SERVE_INVOKE,
        CheckStatus.PASS,
        f"{len(invocations)} request(s) answered 200 with a supported type",
        evidence=evidence,
        warnings=warnings,
    )


def check_latency(report: LoadReport | None, plan: LoadPlan) -> CheckResult:
    if report is None:
        return CheckResult(SERVE_LATENCY, CheckStatus.SKIP, "no request to load the endpoint with")
    evidence = report.to_dict()
    summary = (
        f"{report.requests} requests at concurrency {plan.concurrency}: "
        f"p50 {report.p50_ms:.1f} ms, p90 {report.p90_ms:.1f} ms, p99 {report.p99_ms:.1f}"
        f" ms, {report.requests_per_second:.0f} req/s, {report.errors} errors"
    )
    problems = []
    if report.errors:
        problems.append(f"{report.errors} request(s) failed")
    if plan.max_p99_ms is not None and report.p99_ms > plan.max_p99_ms:
        problems.append(f"p99 {report.p99_ms:.1f} ms is above the plan's {plan.max_p99_ms} ms")
    if (
        plan.min_requests_per_second is not None
        and report.requests_per_second < plan.min_requests_per_second
    ):
        problems.append(
            f"{report.requests_per_second:.0f} req/s is below the plan's "
            f"{plan.min_requests_per_second}"
        )
    if problems:
        return CheckResult(
            SERVE_LATENCY, CheckStatus.FAIL, f"{'; '.join(problems)} ({summary})", evidence=evidence
        )
    return CheckResult(SERVE_LATENCY, CheckStatus.PASS, summary, evidence=evidence)


def check_sigterm(exited_after: float | None, exit_code: int | None, grace: float) -> CheckResult:
    evidence = {"exited_after_s": exited_after, "exit_code": exit_code, "grace_s": grace}
    if exited_after is None:
        return CheckResult(
            SERVE_SIGTERM,
            CheckStatus.FAIL,
            f"still serving {grace:.0f} s after SIGTERM: SageMaker SIGKILLs it "
            "then, cutting requests off",
            evidence=evidence,
        )
    return CheckResult(
        SERVE_SIGTERM,
        CheckStatus.PASS,
        f"exited {exited_after:.1f} s after SIGTERM (exit code {exit_code})",
        evidence=evidence,
    )
