"""The load probe (harness.serving.load.run_load) against `wrk`, same container and concurrency.

Starts the reference algorithm's `serve` container on an internal bridge network (a model
trained by a detached `train` container first), then for each concurrency N: `wrk -t2 -cN
-d10s` POSTing data/payload.csv (text/csv), run_load with about as many requests, wrk again
(the host is shared: the mean of the two is the reference), and run_load through a pooled
requests.Session per worker, the client DESIGN §3 started from. Prints requests/s, the ratios
(DESIGN §5 wants run_load >= 0.80 of wrk) and the client's CPU use (1.0 = the GIL-bound client
is the limit); first, how long after `docker run` began the harness saw /ping healthy.
Run: .venv/bin/python bench/bench_load.py [N ...]   (needs Docker, wrk and the fixtures' base image)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from harness.serving.http import EndpointClient, InvocationResult, SupportsInvoke
from harness.serving.load import LoadReport, RequestSpec, run_load
from harness.serving.ping import wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "fixtures/algorithms/reference"
PAYLOAD = REFERENCE / "data/payload.csv"
BASE = os.environ.get("HARNESS_FIXTURE_BASE", "harness-fixture-base:bookworm")
IMAGE = "harness-test/reference-serve:dev"
LABEL = "harness.bench=bench_load"
SECONDS = 10
CONCURRENCIES = (1, 4, 16)
TARGET = 0.8

WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/csv"
local f = assert(io.open("{payload}", "rb"))
wrk.body = f:read("*a")
f:close()
"""


def sh(*args: str, timeout: float = 600) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


def train_model(folder: Path) -> Path:
    """A model in folder/model, trained by a detached `IMAGE train` without network."""
    config = folder / "input/config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps({"epochs": "3"}))
    (config / "inputdataconfig.json").write_text(
        json.dumps({"training": {"ContentType": "text/csv", "TrainingInputMode": "File"}})
    )
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
    )
    shutil.copytree(REFERENCE / "data/training", folder / "input/data/training")
    (folder / "model").mkdir()
    (folder / "output").mkdir()
    name = f"bench-load-train-{uuid.uuid4().hex[:8]}"
    sh(
        "docker", "run", "-d", "--name", name, "--label", LABEL, "--network", "none",
        "--hostname", "algo-1", "--add-host", "algo-1:127.0.0.1",
        "-v", f"{folder / 'input'}:/opt/ml/input:ro",
        "-v", f"{folder / 'model'}:/opt/ml/model",
        "-v", f"{folder / 'output'}:/opt/ml/output",
        IMAGE, "train",
    )  # fmt: skip
    try:
        code = sh("docker", "wait", name, timeout=120).strip()
        if code != "0":
            raise SystemExit(f"training failed ({code}):\n{sh('docker', 'logs', name)}")
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    return folder / "model"


def wrk(url: str, script: Path, concurrency: int, seconds: int) -> tuple[float, str]:
    threads = min(2, concurrency)
    out = sh(
        "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "-s", str(script), url,
        timeout=seconds + 60,
    )  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    if "Non-2xx" in out or "Socket errors" in out:
        print(f"  wrk saw errors:\n{out}")
    return float(match.group(1)), out


class RequestsClient:
    """The client DESIGN §3 started from: a pooled requests.Session per worker (baseline)."""

    def __init__(self, base: str) -> None:
        self.url = base + "/invocations"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=1))

    def invoke(
        self,
        body: bytes | Iterable[bytes],
        content_type: str,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 600.0,
        chunked: bool = False,
    ) -> InvocationResult:
        started = time.perf_counter()
        response = self.session.post(
            self.url, data=body, headers={"Content-Type": content_type}, timeout=timeout
        )
        return InvocationResult(
            response.status_code,
            response.headers.get("Content-Type"),
            response.content,
            time.perf_counter() - started,
        )

    def close(self) -> None:
        self.session.close()


def harness_load(
    client: SupportsInvoke | Callable[[], SupportsInvoke],
    spec: RequestSpec,
    concurrency: int,
    total: int,
) -> tuple[LoadReport, float]:
    cpu = time.process_time()
    report = run_load(client, [spec], concurrency=concurrency, total=total, timeout=60)
    return report, (time.process_time() - cpu) / report.duration_s


def compare(base: str, script: Path, client: EndpointClient, concurrency: int) -> float:
    """wrk before and after run_load (the machine is shared: the mean is the reference), then
    the requests.Session baseline on a third as many requests; prints and returns the ratio."""
    spec = RequestSpec(PAYLOAD.read_bytes(), "text/csv")
    url = base + "/invocations"
    wrk_before, _ = wrk(url, script, concurrency, SECONDS)
    report, cpu = harness_load(client, spec, concurrency, max(100, int(wrk_before * SECONDS)))
    wrk_after, _ = wrk(url, script, concurrency, SECONDS)
    baseline, baseline_cpu = harness_load(
        lambda: RequestsClient(base), spec, concurrency, max(100, report.requests // 3)
    )
    reference = (wrk_before + wrk_after) / 2
    ratio = report.requests_per_second / reference
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(
        f"c={concurrency:<3} wrk {wrk_before:6.0f} / {wrk_after:6.0f} req/s (before / after)\n"
        f"      run_load {report.requests_per_second:6.0f} req/s: ratio {ratio:.2f} "
        f"(target >= {TARGET}: {verdict}); {report.requests} requests, {report.errors} errors, "
        f"p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms, client CPU {cpu:.2f}\n"
        f"      requests.Session per worker (DESIGN §3's first choice) "
        f"{baseline.requests_per_second:6.0f} req/s: ratio "
        f"{baseline.requests_per_second / reference:.2f}; client CPU {baseline_cpu:.2f}"
    )
    return ratio


def main(concurrencies: tuple[int, ...]) -> None:
    suffix = uuid.uuid4().hex[:8]
    network, container = f"bench-load-net-{suffix}", f"bench-load-serve-{suffix}"
    sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE}", "-t", IMAGE, str(REFERENCE))
    with tempfile.TemporaryDirectory() as temporary:
        model = train_model(Path(temporary))
        script = Path(temporary) / "post.lua"
        script.write_text(WRK_SCRIPT.format(payload=PAYLOAD))
        try:
            sh("docker", "network", "create", "--internal", "--label", LABEL, network)
            started = time.monotonic()
            sh(
                "docker", "run", "-d", "--name", container, "--label", LABEL,
                "--network", network, "-v", f"{model}:/opt/ml/model:ro", IMAGE, "serve",
            )  # fmt: skip
            after_run = time.monotonic() - started
            ip = sh(
                "docker", "inspect", "-f",
                f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}', container,
            ).strip()  # fmt: skip
            base = f"http://{ip}:8080"
            with EndpointClient(base) as client:
                ping = wait_until_healthy(client, startup_timeout=60, started=started)
                if not ping.healthy:
                    raise SystemExit(f"/ping never healthy: {ping.reason}")
                print(
                    f"/ping healthy {ping.healthy_after_s:.3f} s after `docker run` began "
                    f"({after_run:.3f} s for docker run itself; {len(ping.probes)} probes)"
                )
                wrk(base + "/invocations", script, 4, 2)  # warm the server up
                ratios = [compare(base, script, client, c) for c in concurrencies]
        finally:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)
    print(f"load probe / wrk: worst ratio {min(ratios):.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main(tuple(int(arg) for arg in sys.argv[1:]) or CONCURRENCIES)
