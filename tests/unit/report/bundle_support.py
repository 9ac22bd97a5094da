"""A run's folder as `harness run` leaves it, and the tools to pick a bundle apart and forge
one, shared by the bundle tests."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.checks.results import CheckResult, CheckStatus
from harness.report.bundle import BundleSummary, verify_bundle, write_bundle
from harness.report.json_report import render_report_json
from harness.report.model import RunRecord, RunReport

JOB = "smoke/ml.m5.large"
MODEL = b"model bytes\n" * 10
BIG = b"x" * 5000
CAP = 4096
STARTED = "2026-11-27T09:00:00+00:00"

Member = tuple[tarfile.TarInfo, bytes]


def artifact(path: str, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    return {"path": path, "bytes": len(data), "sha256": digest, "files": 1, "problems": []}


def run_report() -> RunReport:
    training = {
        "status": "Completed",
        "exit_code": 0,
        "duration_s": 3.2,
        "failure_reason": None,
        "peak_memory_bytes": 1000,
        "gpu": None,
        "metrics": {"validation:accuracy": [0.9]},
        "model_artifact": artifact(f"{JOB}/model.tar.gz", MODEL),
        "output_artifact": artifact(f"{JOB}/output.tar.gz", BIG),
        "hosts": [{"host": "algo-1", "exit_code": 0, "log": f"{JOB}/logs/algo-1.log"}],
    }
    return RunReport(
        "0.1.0",
        STARTED,
        12.5,
        "algorithm.json",
        "harness.yaml",
        {"cpus": 2, "memory_mib": 24000},
        (),
        (RunRecord("smoke", "ml.m5.large", "exact", training=training),),
        (
            CheckResult("SPEC-SCHEMA", CheckStatus.PASS, "ok"),
            CheckResult(
                "TRAIN-COMPLETES", CheckStatus.PASS, "exit 0", None, {}, (), "smoke", "ml.m5.large"
            ),
        ),
        run_id="ab12cd34",
    )


def make_run_dir(tmp_path: Path) -> Path:
    """A run's --out folder as `harness run` leaves it, plus what must never be bundled."""
    out = tmp_path / "out"
    job = out / JOB
    (job / "logs").mkdir(parents=True)
    (job / "transform").mkdir()
    (out / "report.json").write_text(render_report_json(run_report()), encoding="utf-8")
    (out / "junit.xml").write_text("<testsuites/>\n", encoding="utf-8")
    (out / "summary.md").write_text("## harness: ✅ PASS\n", encoding="utf-8")
    (out / "report.html").write_text("<!doctype html><title>r</title>\n", encoding="utf-8")
    (job / "logs" / "algo-1.log").write_bytes(b"epoch 1 accuracy=0.9\n" * 400)  # > CAP: a log
    (job / "serve.log").write_text("serving\n", encoding="utf-8")
    (job / "model.tar.gz").write_bytes(MODEL)
    (job / "output.tar.gz").write_bytes(BIG)  # above the lowered cap
    (job / "transform" / "batch.csv.out").write_text("1\n2\n", encoding="utf-8")
    (job / ".work" / "algo-1").mkdir(parents=True)  # a --keep run's scratch
    (job / ".work" / "algo-1" / "secret").write_text("scratch", encoding="utf-8")
    (job / "escape").symlink_to("/etc/passwd")
    (job / "logs-link").symlink_to(job / "logs")
    os.mkfifo(job / "pipe")
    return out


def make_inputs(tmp_path: Path) -> tuple[Path, Path]:
    request = tmp_path / "algorithm.json"
    request.write_bytes(b'{"AlgorithmName": "x"}\r\n')  # CRLF: byte for byte, not re-encoded
    plan = tmp_path / "harness.yaml"
    plan.write_bytes(b"algorithm: algorithm.json\nprofiles: []  # comment\n")
    return request, plan


def write(
    run_dir: Path, inputs: tuple[Path, Path], destination: Path | None = None
) -> BundleSummary:
    destination = destination or run_dir / "harness-report.tar.gz"
    return write_bundle(run_dir, inputs[0], inputs[1], destination, max_file_bytes=CAP)


def members(path: Path) -> list[Member]:
    with tarfile.open(path, "r:gz") as tar:
        return [
            (m, tar.extractfile(m).read() if m.isreg() else b"")  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]


def contents(path: Path) -> dict[str, bytes]:
    return {m.name.removeprefix("harness-report/"): data for m, data in members(path)}


def rewrite(path: Path, change: Callable[[list[Member]], list[Member]]) -> Path:
    """The bundle repacked after `change` (what someone editing a bundle would do)."""
    changed = path.with_name("tampered.tar.gz")
    with tarfile.open(changed, "w:gz") as tar:
        for info, data in change(members(path)):
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return changed


def replaced(name: str, data: bytes) -> Callable[[list[Member]], list[Member]]:
    def change(entries: list[Member]) -> list[Member]:
        result = []
        for info, old in entries:
            if info.name == f"harness-report/{name}":
                info.size = len(data)
                old = data
            result.append((info, old))
        return result

    return change


def relisted(entries: list[Member]) -> list[Member]:
    """MANIFEST.sha256 recomputed, as a careful forger would."""
    files = {
        i.name.removeprefix("harness-report/"): hashlib.sha256(d).hexdigest()
        for i, d in entries
        if not i.name.endswith("MANIFEST.sha256")
    }
    text = "".join(f"{files[n]}  {n}\n" for n in sorted(files)).encode()
    return replaced("MANIFEST.sha256", text)(entries)


def extra(info: tarfile.TarInfo, data: bytes = b"") -> Callable[[list[Member]], list[Member]]:
    info.size = len(data) if info.isreg() else 0
    return lambda entries: [*entries, (info, data)]


def link(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def problems_of(path: Path) -> str:
    result = verify_bundle(path)
    assert not result.ok
    return "\n".join(result.problems)


def forged(bundle: Path, name: str, change: Callable[[dict[str, Any]], Any]) -> Path:
    """The bundle with the JSON file `name` edited by `change` and MANIFEST.sha256 recomputed,
    so that only what the edit itself breaks is found."""
    data = json.loads(contents(bundle)[name])
    change(data)
    return rewrite(bundle, lambda e: relisted(replaced(name, json.dumps(data).encode())(e)))


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run_dir(tmp_path)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return make_inputs(tmp_path)


@pytest.fixture
def bundle(run_dir: Path, inputs: tuple[Path, Path]) -> Path:
    write(run_dir, inputs)
    return run_dir / "harness-report.tar.gz"
