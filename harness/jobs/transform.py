"""Batch transform of the trained model, exactly as the plan's TransformJobDefinition says.

a fresh `serve` container with SAGEMAKER_BATCH=true and the documented variables
/ping, then /execution-parameters (TRANSFORM-EXEC-PARAMS), settings by precedence
every input object split, batched under MaxPayloadInMB, MaxConcurrentTransforms requests
in flight, each request retried up to 3 times and bounded by 600 s (SageMaker's defaults:
the validation profile cannot change them), responses assembled in order into
<input>.out; a request that still fails fails its object (no .out) and the job, and
the other objects are still transformed
TRANSFORM-OUTPUT: one .out per input, record counts, the plan's expected output
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.checks.results import CheckResult, CheckStatus
from harness.hardware.emulation import Emulation
from harness.jobs.endpoint import EndpointRunner
from harness.plan import TransformPlan
from harness.sagemaker.channels import ChannelFile, data_digest
from harness.sagemaker.transform import (
    FileBatches,
    Payload,
    TransformSettings,
    assemble,
    batch_environment,
    file_batches,
    resolve_settings,
    transform_inputs,
    validate_execution_parameters,
)
from harness.sagemaker.transform_compare import compare_outputs
from harness.serving.http import EndpointClient, InvocationResult
from harness.serving.ping import wait_until_healthy
from harness.serving.pipeline import PipelineClient, endpoint_client

TRANSFORM_OUTPUT = "TRANSFORM-OUTPUT"
TRANSFORM_EXEC_PARAMS = "TRANSFORM-EXEC-PARAMS"
TRANSFORM_CHECKS = (TRANSFORM_OUTPUT, TRANSFORM_EXEC_PARAMS)
INVOCATION_TIMEOUT_SECONDS = 600.0
INVOCATION_RETRIES = 3
STARTUP_TIMEOUT_SECONDS = 240.0


@dataclass(frozen=True)
class TransformOutcome:
    checks: tuple[CheckResult, ...]
    record: dict[str, Any]
    """The `transform` record of report.json, but for `log` (the caller makes it relative to
    `--out`: jobs/run_parts.py `phase_dict`)."""
    log_path: Path | None = None
    """The transform container's log (absolute), when a container ran."""


def _exec_params(
    client: EndpointClient | PipelineClient,
) -> tuple[CheckResult, dict[str, Any] | None]:
    answer = client.execution_parameters()
    if answer.status != 200:
        what = answer.error or f"HTTP {answer.status}"
        return CheckResult(
            TRANSFORM_EXEC_PARAMS,
            CheckStatus.SKIP,
            f"/execution-parameters is not implemented ({what}): the plan's "
            "settings and the defaults apply",
        ), None
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = answer.body.decode("utf-8", "replace")
    verdict = validate_execution_parameters(body)
    evidence = {"body": body, "problems": list(verdict.problems)}
    if verdict.problems:
        return CheckResult(
            TRANSFORM_EXEC_PARAMS,
            CheckStatus.FAIL,
            "/execution-parameters: " + "; ".join(verdict.problems),
            evidence=evidence,
            warnings=tuple(verdict.warnings),
        ), None
    return CheckResult(
        TRANSFORM_EXEC_PARAMS,
        CheckStatus.PASS,
        f"/execution-parameters answered {body}",
        evidence=evidence,
        warnings=tuple(verdict.warnings),
    ), body if isinstance(body, dict) else None


def _send(
    client: EndpointClient | PipelineClient, settings: TransformSettings, payload: Payload
) -> tuple[InvocationResult, int]:
    """One mini-batch with SageMaker's retries: (last answer, attempts)."""
    attempts = 0
    while True:
        attempts += 1
        result = client.invoke(
            payload.body,
            settings.content_type or "application/octet-stream",
            settings.accept,
            timeout=INVOCATION_TIMEOUT_SECONDS,
            chunked=payload.chunked,
        )
        if result.ok or attempts > INVOCATION_RETRIES:
            return result, attempts


class TransformRun:
    def __init__(
        self, endpoints: EndpointRunner, *, progress: Callable[[str], None] = lambda _: None
    ):
        self._endpoints = endpoints
        self._progress = progress

    def run(
        self,
        images: tuple[str, ...],
        model_archive: Path,
        folder: Path,
        emulation: Emulation,
        plan: TransformPlan,
        name: str,
    ) -> TransformOutcome:
        out = folder / "transform"
        out.mkdir(parents=True, exist_ok=True)
        with self._endpoints.serve(
            images,
            model_archive,
            folder / ".transform-work",
            emulation,
            name=name,
            role="transform",
            environment=batch_environment(plan),
        ) as endpoint:
            client = endpoint_client(endpoint.urls, pool_maxsize=8)
            try:
                ping = wait_until_healthy(
                    client,
                    startup_timeout=STARTUP_TIMEOUT_SECONDS,
                    is_alive=lambda: self._endpoints.is_alive(endpoint),
                )
                if not ping.healthy:
                    reason = f"the transform container never became healthy: {ping.reason}"
                    return TransformOutcome(
                        (
                            CheckResult(TRANSFORM_OUTPUT, CheckStatus.FAIL, reason),
                            CheckResult(TRANSFORM_EXEC_PARAMS, CheckStatus.SKIP, reason),
                        ),
                        {"healthy": False},
                        endpoint.log_path,
                    )
                exec_check, params = _exec_params(client)
                settings = resolve_settings(plan, params)
                # The environment took the plan's values; the container learns the resolved
                # ones only through the requests, as on SageMaker.
                outcome = transform_objects(client, settings, plan, out, exec_check)
                return replace(outcome, log_path=endpoint.log_path)
            finally:
                client.close()
                self._endpoints.stop(endpoint)


def transform_objects(
    client: EndpointClient | PipelineClient,
    settings: TransformSettings,
    plan: TransformPlan,
    out: Path,
    exec_check: CheckResult,
) -> TransformOutcome:
    """Send every input object of `plan` to a healthy endpoint; assemble and compare the .out
    files. Also what bench/bench_transform.py times against a raw client."""

    inputs = transform_inputs(plan.input, plan.compression)
    # What data this transform read, from the very listing it sends (`harness spec` compares).
    input_sha256 = data_digest([ChannelFile(i.key, i.path, i.size) for i in inputs])
    batches: list[FileBatches] = [file_batches(item, settings) for item in inputs]
    work = [(index, payload) for index, batch in enumerate(batches) for payload in batch.payloads]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, settings.max_concurrent_transforms)) as pool:
        answers = list(pool.map(lambda item: _send(client, settings, item[1]), work))
    duration = time.monotonic() - started
    responses: dict[int, list[bytes]] = {i: [] for i in range(len(batches))}
    failures: dict[int, str] = {}
    retries = 0
    for (index, _payload), (result, attempts) in zip(work, answers, strict=True):
        retries += attempts - 1
        if not result.ok:
            what = result.error or f"HTTP {result.status}: " + result.body[:200].decode(
                "utf-8", "replace"
            )
            failures.setdefault(index, what)
        responses[index].append(result.body)
    written: dict[str, bytes] = {}
    for index, batch in enumerate(batches):
        if index in failures:
            continue
        data = assemble(responses[index], settings.assemble_with)
        target = out / batch.output_key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[batch.output_key] = data
    counts = {b.input.key: b.record_count for b in batches} if settings.counts_output_lines else {}
    comparison = compare_outputs(written, plan.expected_output, inputs, counts)
    problems = [f"{batches[i].input.key}: {why}" for i, why in failures.items()]
    problems += list(comparison.problems)
    records = sum(b.record_count for b in batches)
    record = {
        "settings": {
            "split_type": settings.split_type,
            "batch_strategy": [settings.batch_strategy, settings.batch_strategy_source],
            "max_payload_mb": [settings.max_payload_mb, settings.max_payload_mb_source],
            "max_concurrent_transforms": [
                settings.max_concurrent_transforms,
                settings.max_concurrent_transforms_source,
            ],
            "assemble_with": settings.assemble_with,
        },
        "files": len(batches),
        "records": records,
        "requests": len(work),
        "retries": retries,
        "duration_s": round(duration, 3),
        "records_per_second": round(records / duration, 1) if duration else None,
        "failed_files": sorted(batches[i].input.key for i in failures),
        "outputs": sorted(written),
        "input_sha256": input_sha256,
    }
    if problems:
        output = CheckResult(
            TRANSFORM_OUTPUT, CheckStatus.FAIL, "; ".join(problems[:3]), evidence=record
        )
    else:
        against = " and equal the expected output" if plan.expected_output else ""
        output = CheckResult(
            TRANSFORM_OUTPUT,
            CheckStatus.PASS,
            f"{len(written)} .out file(s) for {len(inputs)} input(s), "
            f"{records} records in order{against}",
            evidence=record,
        )
    return TransformOutcome((output, exec_check), record)
