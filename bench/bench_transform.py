"""Batch transform records/s through the harness against a raw client, same container and
concurrency, in one run.

The reference algorithm's `serve` container (model trained first) gets a 10,000-line CSV as
SingleRecord requests (the per-record path: 10,000 requests), at MaxConcurrentTransforms 1 and
4. "harness" is harness.jobs.transform.transform_objects (split, batch, send with retries,
assemble in order, compare); "raw" is a thread pool of plain requests sessions posting the same
bodies. DESIGN §5 wants the harness at >= 90 % of the raw client (SDK local mode: 5 %).
Run: .venv/bin/python bench/bench_transform.py   (needs Docker and the fixtures' base image)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import BASE, IMAGE, LABEL, REFERENCE, sh, train_model

from harness.checks.results import CheckResult, CheckStatus
from harness.jobs.transform import transform_objects
from harness.plan import TransformPlan
from harness.sagemaker.transform import file_batches, resolve_settings, transform_inputs
from harness.serving.http import EndpointClient
from harness.serving.ping import wait_until_healthy

LINES = 10_000
TARGET = 0.9


def raw_client(url: str, bodies: list[bytes], concurrency: int) -> float:
    local = threading.local()

    def post(body: bytes) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        answer = session.post(
            url, data=body, headers={"Content-Type": "text/csv", "Accept": "text/csv"}, timeout=60
        )
        return answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(post, bodies))
    elapsed = time.perf_counter() - started
    assert all(s == 200 for s in statuses), set(statuses)
    return len(bodies) / elapsed


def main() -> None:
    suffix = uuid.uuid4().hex[:8]
    network, container = f"bench-transform-net-{suffix}", f"bench-transform-{suffix}"
    sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE}", "-t", IMAGE, str(REFERENCE))
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        model = train_model(folder / "train")
        rows = (REFERENCE / "data/batch/batch-000.csv").read_text().splitlines()
        source = folder / "batch.csv"
        source.write_text("".join(f"{rows[i % len(rows)]}\n" for i in range(LINES)))
        try:
            sh("docker", "network", "create", "--internal", "--label", LABEL, network)
            sh(
                "docker",
                "run",
                "-d",
                "--name",
                container,
                "--label",
                LABEL,
                "--network",
                network,
                "-v",
                f"{model}:/opt/ml/model:ro",
                IMAGE,
                "serve",
            )
            ip = sh(
                "docker",
                "inspect",
                "-f",
                f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}',
                container,
            ).strip()
            url = f"http://{ip}:8080"
            with EndpointClient(url) as client:
                if not wait_until_healthy(client, startup_timeout=60).healthy:
                    raise SystemExit("the container never became healthy")
            for concurrency in (1, 4):
                plan = TransformPlan(
                    input=source,
                    content_type="text/csv",
                    split_type="Line",
                    batch_strategy="SingleRecord",
                    max_payload_mb=6,
                    max_concurrent_transforms=concurrency,
                    accept="text/csv",
                    assemble_with="Line",
                )
                settings = resolve_settings(plan, None)
                bodies = [
                    p.body
                    for b in (file_batches(i, settings) for i in transform_inputs(source))
                    for p in b.payloads
                ]
                raw = raw_client(f"{url}/invocations", bodies, concurrency)
                with EndpointClient(url, pool_maxsize=concurrency) as client:
                    started = time.perf_counter()
                    outcome = transform_objects(
                        client,
                        settings,
                        plan,
                        folder / f"out-{concurrency}",
                        CheckResult("TRANSFORM-EXEC-PARAMS", CheckStatus.SKIP, "bench"),
                    )
                    elapsed = time.perf_counter() - started
                assert outcome.checks[0].status is CheckStatus.PASS, outcome.checks[0].message
                harness = LINES / elapsed
                print(
                    f"concurrency {concurrency}: raw client {raw:7.0f} records/s, harness "
                    f"{harness:7.0f} records/s ({harness / raw:.2f}x raw; target >= {TARGET})"
                    f"  [{LINES} SingleRecord requests, output verified]"
                )
        finally:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)


if __name__ == "__main__":
    main()
