"""The last steps of the flow on the real reference algorithm: a run with `--bundle`, the bundle
verified, `harness spec` (S3 on a moto server), the generated request run again from its S3
data, and `harness submit --wait` against moto extended with algorithms."""

from __future__ import annotations

import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import ExitCode

from .test_run import harness_run, published, result

pytestmark = pytest.mark.docker
__all__ = ["published"]  # the session fixture, shared with test_run

ROLE = "arn:aws:iam::123456789012:role/SageMakerValidation"


def test_run_bundle_spec_rerun_from_s3_and_submit(
    published: Any,
    aws_env: None,
    moto_endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    plan = published("reference")
    out = tmp_path / "local"
    one_type = ("--profile", "smoke", "--instance-type", "ml.m5.large")
    code, report = harness_run(capsys, plan, out, *one_type, "--bundle")
    assert code == ExitCode.OK, [c for c in report["checks"] if c["status"] != "pass"]
    assert {run["profile"] for run in report["runs"]} == {"smoke"}

    # The bundle holds the reports, the host logs and the inputs, and verifies.
    bundle = out / "harness-report.tar.gz"
    with tarfile.open(bundle) as archive:
        names = set(archive.getnames())
    assert {"harness-report/report.json", "harness-report/MANIFEST.sha256"} <= names
    assert "harness-report/inputs/algorithm.json" in names
    assert "harness-report/inputs/harness.yaml" in names
    assert "harness-report/smoke/ml.m5.large/logs/algo-1.log" in names
    assert main(["report", "verify", str(bundle)]) == ExitCode.OK
    assert "OK:" in capsys.readouterr().out
    html = (out / "report.html").read_text()
    assert 'class="log"' in html, "the host logs are excerpted into report.html"

    # harness spec: upload and write the request.
    bucket = f"harness-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    request_file = tmp_path / "request.json"
    spec = [
        "spec",
        str(plan),
        "--profile",
        "smoke",
        "--report",
        str(out / "report.json"),
        "--s3-prefix",
        f"s3://{bucket}/seller",
        "--role",
        ROLE,
        "--out",
        str(request_file),
        "--endpoint-url",
        moto_endpoint,
    ]
    assert main(spec) == ExitCode.OK, capsys.readouterr()
    capsys.readouterr()
    request = json.loads(request_file.read_text())
    verified = {image["role"]: image["resolved_digest"] for image in report["images"]}
    assert request["TrainingSpecification"]["TrainingImageDigest"] == verified["training"]
    assert main(["validate", str(request_file)]) == ExitCode.OK
    capsys.readouterr()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.startswith("seller/smoke/channels/training/") for k in keys)
    assert any(k.startswith("seller/smoke/transform-input/") for k in keys)

    # The request runs again locally from its S3 data.
    again = tmp_path / "from-s3"
    code, rerun = harness_run(capsys, request_file, again, "--endpoint-url", moto_endpoint)
    assert code == ExitCode.OK, [c for c in rerun["checks"] if c["status"] != "pass"]
    assert [(r["profile"], r["instance_type"]) for r in rerun["runs"]] == [("smoke", "ml.m5.large")]
    assert result(rerun, "TRANSFORM-OUTPUT")["status"] == "pass"
    assert result(rerun, "SERVE-INVOKE")["status"] == "pass"
    fetched = again / "s3-data" / "smoke"
    for remote, local in (
        ("channels/training", "training"),
        ("channels/validation", "validation"),
        ("transform-input", "batch"),
    ):
        want = {
            p.relative_to(plan.parent / "data" / local): p.read_bytes()
            for p in (plan.parent / "data" / local).rglob("*")
            if p.is_file()
        }
        got = {
            p.relative_to(fetched / remote): p.read_bytes()
            for p in (fetched / remote).rglob("*")
            if p.is_file()
        }
        assert got == want, remote

    # And it is submitted and followed until SageMaker (moto) completes the validation.
    request["AlgorithmName"] = f"reference-{uuid.uuid4().hex[:8]}"
    request_file.write_text(json.dumps(request, indent=2))
    submit = ["submit", str(request_file), "--endpoint-url", moto_endpoint, "--wait"]
    assert main([*submit, "--poll-interval", "0.01"]) == ExitCode.OK
    assert "AlgorithmStatus: InProgress -> Completed" in capsys.readouterr().out
