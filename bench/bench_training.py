"""`harness run` (training only) against a plain `docker run` of the same job, in one run.

Both run the reference algorithm's smoke training on ml.m5.large with the same /opt/ml files;
the image is already present. The harness adds resolving the image in the registry, config and
channel staging, emulation limits, log capture, sampling and packaging: DESIGN §5 wants the
whole process within 1 s of the plain run.
Run: .venv/bin/python bench/bench_training.py   (needs Docker and the fixtures' base image)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The benches share the tests' loopback helpers: the repository root is importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "fixtures/algorithms/reference"
BASE = os.environ.get("HARNESS_FIXTURE_BASE", "harness-fixture-base:bookworm")
REPEAT = 5


def sh(*args: str, timeout: float = 600) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout).stdout


def opt_ml(root: Path) -> Path:
    config = root / "input/config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(
        json.dumps({"epochs": "5", "learning_rate": "0.1", "model_kind": "linear"})
    )
    (config / "inputdataconfig.json").write_text(
        json.dumps(
            {
                name: {
                    "ContentType": "text/csv",
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                }
                for name in ("training", "validation")
            }
        )
    )
    (config / "resourceconfig.json").write_text(
        json.dumps(
            {
                "current_host": "algo-1",
                "hosts": ["algo-1"],
                "current_instance_type": "ml.m5.large",
                "network_interface_name": "eth0",
            }
        )
    )
    for name in ("training", "validation"):
        shutil.copytree(REFERENCE / "data" / name, root / "input/data" / name)
    (root / "model").mkdir()
    (root / "output/data").mkdir(parents=True)
    return root


def plain_run(image: str, folder: Path) -> None:
    root = opt_ml(folder / f"plain-{time.monotonic_ns()}")
    name = f"bench-plain-{time.monotonic_ns()}"
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--hostname",
        "algo-1",
        "--add-host",
        "algo-1:127.0.0.1",
        "--cpuset-cpus",
        "0-1",
        "--memory",
        "8g",
        "--memory-swap",
        "8g",
        "-v",
        f"{root}/input:/opt/ml/input",
        "-v",
        f"{root}/model:/opt/ml/model",
        "-v",
        f"{root}/output:/opt/ml/output",
        image,
        "train",
    )
    sh("docker", "wait", name, timeout=120)
    sh("docker", "rm", "-f", name)


def harness_run(plan: Path, folder: Path) -> None:
    out = folder / f"report-{time.monotonic_ns()}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            str(plan),
            "--out",
            str(out),
            "--only",
            "TRAIN-COMPLETES",
            "--instance-type",
            "ml.m5.large",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )


def timed(function: Callable[[], None]) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        pidfile = folder / "registry.pid"
        sh(
            "bash",
            str(ROOT / "scripts/start-registry.sh"),
            str(port),
            "--pidfile",
            str(pidfile),
            "--log",
            str(folder / "registry.log"),
        )
        try:
            image = f"127.0.0.1:{port}/harness/reference-algorithm:1.0"
            sh(
                "docker",
                "build",
                "-q",
                "--build-arg",
                f"BASE_IMAGE={BASE}",
                "-t",
                image,
                str(REFERENCE),
            )
            sh("docker", "push", "-q", image)
            work = folder / "reference"
            shutil.copytree(REFERENCE, work)
            request = work / "algorithm.json"
            request.write_text(request.read_text().replace("127.0.0.1:5000/", f"127.0.0.1:{port}/"))
            plan = work / "bench.yaml"
            text = (work / "harness.yaml").read_text()
            plan.write_text(text.split("\n  - name: pipe")[0] + "\n")
            harness_run(plan, folder)  # warm: pull and page cache
            plain = timed(lambda: plain_run(image, folder))
            harness = timed(lambda: harness_run(plan, folder))
        finally:
            sh("bash", str(ROOT / "scripts/start-registry.sh"), "--stop", "--pidfile", str(pidfile))
    print(f"plain docker run (baseline):  {plain:6.2f} s")
    print(
        f"harness run, training only:   {harness:6.2f} s "
        f"({harness / plain:.2f}x baseline, +{harness - plain:.2f} s; target +1.00 s)"
    )


if __name__ == "__main__":
    main()
