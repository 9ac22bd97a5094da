"""The certification bundle (`harness run --bundle`, `harness report verify`) against a hand-made
tar.gz plus `sha256sum` of every file, in one run.

A synthetic run folder: report.json (rendered from a literal RunReport), 3 runs x 2 hosts of
text logs totalling ~200 MB, a small model.tar.gz per run, the other three reports. Writing:
harness.report.bundle.write_bundle (sorted members, a SHA-256 of every file taken from the bytes
it archives, gzip level 6) against `tarfile.open(dest, "w:gz")` adding the folder (tarfile's
default level 9) and then hashing every file in a second read, as `sha256sum` would; a third
line gives the baseline at level 6, like for like. Verifying: verify_bundle (stream, hash every
member, check the manifest, schema and artifact digests) against a `tar -tzf`-style pass that
reads every member of the archive with tarfile and checks nothing.
One run of each: the folder is large enough for the times to be stable.
Run: .venv/bin/python bench/bench_bundle.py [MB]
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from harness.checks.results import CheckResult, CheckStatus
from harness.report.bundle import verify_bundle, write_bundle
from harness.report.json_report import render_report_json
from harness.report.model import RunRecord, RunReport

RUNS = (("smoke", "ml.m5.large"), ("smoke", "ml.c5.2xlarge"), ("distributed", "ml.m5.4xlarge"))
HOSTS = ("algo-1", "algo-2")
STARTED = "2026-11-27T09:00:00+00:00"
BLOCK = 4 * 1024 * 1024  # unique text per block; repeats lie far beyond gzip's 32 KiB window
CHUNK = 1024 * 1024
T = TypeVar("T")

NOISE = (
    "[{ts} {host}:27 INFO training.py:{i}] Epoch {e}/50 - batch {i}/5000 - 0.{r}s/it",
    "[{ts} {host}:27 INFO training.py:{i}] train_loss={f:.6f} validation_accuracy=0.{r}",
    "{host}:45:99 [0] NCCL INFO Channel 00/02 : 0[0] -> 1[1] via P2P/IPC",
    "{ts} WARNING dataloader worker {e} is slow: 1.{r} s per batch (prefetch queue 2)",
    "Downloading shard s3://bucket/prefix/part-{i}.parquet ({r} bytes)",
    "  {e}%|#####     | {i}/5000 [00:{e}<01:40, 48.{r}it/s]",
    "[{ts}] memory: allocated {i} MiB, reserved {e}000 MiB, peak {r} MiB; loss scale 65536",
)


def log_block(host: str, seed: int) -> bytes:
    rng = random.Random(seed)
    lines, size, i = [], 0, 0
    while size < BLOCK:
        i += 1
        ts = f"2026-11-27 09:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}"
        line = rng.choice(NOISE).format(
            ts=ts, host=host, i=i, e=i // 1000 % 100, r=rng.randrange(10**6), f=rng.random()
        )
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def model_tar_gz(seed: int) -> bytes:
    """A small real model.tar.gz: two members, a few KiB of weights."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (
            ("model.json", b'{"kind": "linear", "features": 12}\n'),
            ("weights.bin", rng.randbytes(8192)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def run_record(profile: str, instance_type: str, model: bytes) -> RunRecord:
    folder = f"{profile}/{instance_type}"
    training: dict[str, Any] = {
        "status": "Completed",
        "exit_code": 0,
        "duration_s": 612.4,
        "failure_reason": None,
        "peak_memory_bytes": 412 * 2**20,
        "gpu": None,
        "metrics": {"train:loss": [0.72, 0.41], "validation:accuracy": [0.81, 0.84]},
        "model_artifact": {
            "path": f"{folder}/model.tar.gz",
            "bytes": len(model),
            "sha256": hashlib.sha256(model).hexdigest(),
            "files": 2,
            "problems": [],
        },
        "output_artifact": None,
        "hosts": [{"host": h, "exit_code": 0, "log": f"{folder}/logs/{h}.log"} for h in HOSTS],
    }
    return RunRecord(profile, instance_type, "exact", training=training)


def run_folder(out: Path, megabytes: int) -> int:
    """Write the run's folder; returns its size in bytes."""
    per_log = megabytes * 1_000_000 // (len(RUNS) * len(HOSTS))
    records, checks = [], [CheckResult("SPEC-SCHEMA", CheckStatus.PASS, "ok")]
    for index, (profile, instance_type) in enumerate(RUNS):
        folder = out / profile / instance_type
        (folder / "logs").mkdir(parents=True)
        model = model_tar_gz(index)
        (folder / "model.tar.gz").write_bytes(model)
        for number, host in enumerate(HOSTS):
            block = log_block(host, seed=index * 10 + number)
            with (folder / "logs" / f"{host}.log").open("wb") as log:
                for _ in range(-(-per_log // len(block))):
                    log.write(block)
        records.append(run_record(profile, instance_type, model))
        checks.append(
            CheckResult(
                "TRAIN-COMPLETES", CheckStatus.PASS, "exit 0", None, {}, (), profile, instance_type
            )
        )
    report = RunReport(
        "0.1.0",
        STARTED,
        1850.0,
        "algorithm.json",
        "harness.yaml",
        {"cpus": 2, "memory_mib": 24000},
        (),
        tuple(records),
        tuple(checks),
        run_id="be4c4b1e",
    )
    (out / "report.json").write_text(render_report_json(report), encoding="utf-8")
    (out / "junit.xml").write_text("<testsuites/>\n", encoding="utf-8")
    (out / "summary.md").write_text("## harness: PASS\n", encoding="utf-8")
    (out / "report.html").write_text("<!doctype html><title>r</title>\n", encoding="utf-8")
    return sum(path.stat().st_size for path in out.rglob("*") if path.is_file())


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def hand_made(out: Path, request: Path, plan: Path, dest: Path, level: int) -> int:
    """tar + gzip the folder and the inputs, then `sha256sum` every file (a second read)."""
    with tarfile.open(dest, "w:gz", compresslevel=level) as tar:
        tar.add(out, arcname="bundle")
        tar.add(request, arcname=f"bundle/inputs/{request.name}")
        tar.add(plan, arcname=f"bundle/inputs/{plan.name}")
    files = [*sorted(path for path in out.rglob("*") if path.is_file()), request, plan]
    manifest = []
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
        manifest.append(f"{digest.hexdigest()}  {path}")
    return len(manifest)


def read_all(dest: Path) -> int:
    """`tar -tzf`, but reading every member's bytes too: decompress and walk, check nothing."""
    members = 0
    with tarfile.open(dest, "r|gz") as tar:
        for member in tar:
            file = tar.extractfile(member)
            if file is not None:
                while file.read(CHUNK):
                    pass
            members += 1
    return members


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        out, bundles = root / "out", root / "bundles"
        out.mkdir()
        bundles.mkdir()
        request, plan = root / "algorithm.json", root / "harness.yaml"
        request.write_text('{"AlgorithmName": "bench"}\n', encoding="utf-8")
        plan.write_text("algorithm: algorithm.json\nprofiles: []\n", encoding="utf-8")
        size = run_folder(out, megabytes)
        mb = size / 1e6

        harness_path = bundles / "harness-report.tar.gz"
        summary, write_s = timed(lambda: write_bundle(out, request, plan, harness_path))
        assert not summary.left_out, summary.left_out
        level9_path, level6_path = bundles / "hand-9.tar.gz", bundles / "hand-6.tar.gz"
        _, hand9_s = timed(lambda: hand_made(out, request, plan, level9_path, 9))
        _, hand6_s = timed(lambda: hand_made(out, request, plan, level6_path, 6))
        result, verify_s = timed(lambda: verify_bundle(harness_path))
        assert result.ok, result.problems
        members, read_s = timed(lambda: read_all(harness_path))
        _, read9_s = timed(lambda: read_all(level9_path))

        files = sum(1 for path in out.rglob("*") if path.is_file())
        print(
            f"run folder: {mb:.1f} MB in {files} files "
            f"({len(RUNS)} runs x {len(HOSTS)} hosts of logs, {len(RUNS)} model.tar.gz, 4 reports)"
        )

        def row(label: str, seconds: float, note: str) -> None:
            print(f"  {label:<42} {seconds:6.2f} s {mb / seconds:6.1f} MB/s  {note}")

        def archive(path: Path) -> str:
            return f"-> {path.stat().st_size / 1e6:5.1f} MB"

        print("write (MB/s of the run folder):")
        row("tarfile w:gz level 9 + sha256 (baseline):", hand9_s, archive(level9_path))
        row("tarfile w:gz level 6 + sha256:", hand6_s, archive(level6_path))
        row(
            "harness write_bundle (level 6):",
            write_s,
            f"{archive(harness_path)}  ({write_s / hand9_s:.2f}x the baseline's time, "
            f"{write_s / hand6_s:.2f}x level 6's)",
        )
        print("verify (MB/s of the run folder):")
        row(
            "tarfile read of every member (baseline):",
            read_s,
            f"({members} members; of the level-9 archive: {read9_s:.2f} s)",
        )
        row(
            "harness verify_bundle:",
            verify_s,
            f"({verify_s / read_s:.2f}x the baseline's time; {result.files_verified} files "
            "verified)",
        )


if __name__ == "__main__":
    main()
