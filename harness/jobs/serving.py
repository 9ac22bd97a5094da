"""Real-time serving of a trained model: readiness, invocations, load, and shutdown.

SageMaker's own validation never tests real-time endpoints; buyers deploy them anyway. The
harness serves the model exactly as an endpoint would and checks:

    SERVE-PING     /ping answers 200 within the startup window, each probe within 2 s, also
                   while the load runs
    SERVE-INVOKE   every request of the plan (or one built from the transform input) answers
                   200 with a declared response type; an unknown X-Amzn-SageMaker-* header is
                   ignored; a ~6 MB payload (SageMaker's real-time limit) is handled
    SERVE-LATENCY  percentiles and throughput under the plan's load, within its bounds
    SERVE-SIGTERM  the server exits within 30 s of SIGTERM
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.checks.results import CheckResult
from harness.checks.serving import (
    Invocation,
    check_invoke,
    check_latency,
    check_ping,
    check_sigterm,
)
from harness.hardware.emulation import Emulation
from harness.jobs.endpoint import EndpointRunner
from harness.plan import LoadPlan, ProfilePlan, ServingPlan
from harness.sagemaker.transform import read_input, transform_inputs
from harness.serving.http import EndpointClient, InvocationResult
from harness.serving.load import RequestSpec, run_load
from harness.serving.ping import PingMonitor, wait_until_healthy
from harness.serving.pipeline import PipelineClient, endpoint_client

UNKNOWN_HEADER = "X-Amzn-SageMaker-Harness-Probe"
REALTIME_PAYLOAD_LIMIT = 6 * 1024 * 1024
LINE_TYPES = ("text/csv", "text/plain", "application/jsonlines", "application/x-jsonlines")


@dataclass(frozen=True)
class ServingOutcome:
    checks: tuple[CheckResult, ...]
    record: dict[str, Any]
    """The `serving` record of report.json, but for `log` (the caller makes it relative to
    `--out`: jobs/run_parts.py `phase_dict`)."""
    log_path: Path | None = None
    """The endpoint's container log (absolute)."""


def serving_requests(profile: ProfilePlan) -> list[RequestSpec]:
    """The plan's requests, or one built from the transform input's first lines."""
    serving = profile.serving
    if serving is not None and serving.requests:
        return [
            RequestSpec(r.body.read_bytes(), r.content_type, r.accept) for r in serving.requests
        ]
    transform = profile.transform
    if transform is None or transform.content_type is None:
        return []
    inputs = transform_inputs(transform.input, transform.compression)
    if not inputs:
        return []
    # The same listing (S3 key order) and reading (gzip) as the batch transform uses.
    body = read_input(inputs[0])
    if transform.split_type == "Line":
        body = b"".join(body.splitlines(keepends=True)[:10])
    return [RequestSpec(body, transform.content_type, transform.accept)]


def _large_payload(spec: RequestSpec) -> RequestSpec | None:
    """About 6 MB of the request's own lines, for line-oriented types only."""
    if spec.content_type not in LINE_TYPES or not spec.body.strip():
        return None
    lines = spec.body if spec.body.endswith(b"\n") else spec.body + b"\n"
    repeat = max(1, (REALTIME_PAYLOAD_LIMIT - 64 * 1024) // len(lines))
    return RequestSpec(lines * repeat, spec.content_type, spec.accept)


def _invocation(purpose: str, spec: RequestSpec, result: InvocationResult) -> Invocation:
    response_type = (result.content_type or "").split(";")[0].strip() or None
    excerpt = "" if result.status == 200 else result.body[:200].decode("utf-8", "replace")
    return Invocation(
        purpose,
        spec.content_type,
        spec.accept,
        len(spec.body),
        result.status,
        response_type,
        round(result.latency_s, 4),
        result.error,
        excerpt,
    )


class ServingRun:
    """One endpoint's checks for one profile under one emulated instance type."""

    def __init__(self, endpoints: EndpointRunner, *, progress: Any = lambda _: None):
        self._endpoints = endpoints
        self._progress = progress

    def run(
        self,
        images: tuple[str, ...],
        model_archive: Path,
        work: Path,
        emulation: Emulation,
        profile: ProfilePlan,
        inference: dict[str, Any],
        name: str,
    ) -> ServingOutcome:
        plan = profile.serving or ServingPlan()
        specs = serving_requests(profile)
        response_types = [
            t for t in inference.get("SupportedResponseMIMETypes") or [] if isinstance(t, str)
        ]
        declared = [t for t in inference.get("SupportedContentTypes") or [] if isinstance(t, str)]
        uncovered = [t for t in declared if t not in {s.content_type for s in specs}]
        with self._endpoints.serve(
            images, model_archive, work, emulation, name=name, role="serve"
        ) as endpoint:
            client = endpoint_client(endpoint.urls, pool_maxsize=max(plan.load.concurrency, 2))
            try:
                self._progress(f"{name}: waiting for /ping")
                ping = wait_until_healthy(
                    client,
                    startup_timeout=plan.startup_timeout_seconds,
                    is_alive=lambda: self._endpoints.is_alive(endpoint),
                )
                invocations: list[Invocation] = []
                load_report = None
                monitor_report = None
                if ping.healthy:
                    invocations = self._invoke(client, specs)
                    if specs:
                        self._progress(
                            f"{name}: load {plan.load.concurrency} x {plan.load.requests}"
                        )
                        monitor = PingMonitor(client)
                        monitor.start()
                        try:
                            load_report = run_load(
                                client,
                                specs,
                                concurrency=plan.load.concurrency,
                                total=plan.load.requests,
                                timeout=60.0,
                            )
                        finally:
                            monitor_report = monitor.stop()
                exited_after, exit_code = self._endpoints.stop(endpoint)
            finally:
                client.close()
        checks = (
            check_ping(ping, monitor_report, plan.startup_timeout_seconds),
            check_invoke(invocations, response_types, uncovered),
            check_latency(load_report, plan.load if profile.serving else LoadPlan()),
            check_sigterm(exited_after, exit_code, self._endpoints.sigterm_grace),
        )
        record = {
            "containers": len(endpoint.urls),
            "healthy_after_s": ping.healthy_after_s,
            "invocations": [vars(i) for i in invocations],
            "load": load_report.to_dict() if load_report else None,
            "sigterm_exit_s": exited_after,
        }
        return ServingOutcome(checks, record, endpoint.log_path)

    def _invoke(
        self, client: EndpointClient | PipelineClient, specs: Sequence[RequestSpec]
    ) -> list[Invocation]:
        invocations = []
        for spec in specs:
            purpose = f"{spec.content_type} -> {spec.accept or '*/*'}"
            invocations.append(
                _invocation(
                    purpose,
                    spec,
                    client.invoke(spec.body, spec.content_type, spec.accept, timeout=60.0),
                )
            )
        if specs:
            first = specs[0]
            invocations.append(
                _invocation(
                    f"unknown {UNKNOWN_HEADER} header",
                    first,
                    client.invoke(
                        first.body,
                        first.content_type,
                        first.accept,
                        headers={UNKNOWN_HEADER: "1"},
                        timeout=60.0,
                    ),
                )
            )
            large = next((big for big in map(_large_payload, specs) if big is not None), None)
            if large is not None:
                invocations.append(
                    _invocation(
                        f"{len(large.body) / 2**20:.1f} MB payload",
                        large,
                        client.invoke(large.body, large.content_type, large.accept, timeout=60.0),
                    )
                )
        return invocations
