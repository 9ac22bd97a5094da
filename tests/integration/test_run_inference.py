"""`harness run` serving and batch transform: the reference passes, each broken server fails
exactly the check it breaks."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ExitCode

from .test_run import assert_nothing_left, harness_run, published, result

pytestmark = pytest.mark.docker
__all__ = ["published"]  # the session fixture, shared with test_run

INFERENCE = ("--only", "SERVE-", "--only", "TRANSFORM-", "--serve-sigterm-grace", "3")


def test_reference_serves_and_transforms(docker_client, published, tmp_path, capsys):
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, published("reference"), out, *INFERENCE, "--instance-type", "ml.m5.large"
    )
    statuses = {c["id"]: c["status"] for c in report["checks"] if c["profile"] == "smoke"}
    assert statuses == {
        "SERVE-PING": "pass",
        "SERVE-INVOKE": "pass",
        "SERVE-LATENCY": "pass",
        "SERVE-SIGTERM": "pass",
        "TRANSFORM-OUTPUT": "pass",
        "TRANSFORM-EXEC-PARAMS": "pass",
    }, report["checks"]
    assert code == ExitCode.OK
    smoke = next(r for r in report["runs"] if r["profile"] == "smoke")
    assert smoke["serving"]["load"]["requests"] == 200
    invocations = smoke["serving"]["invocations"]
    assert any("X-Amzn-SageMaker" in i["purpose"] for i in invocations)
    assert any("MB payload" in i["purpose"] and i["status"] == 200 for i in invocations)
    transform = smoke["transform"]
    assert transform["records"] == 100
    assert transform["settings"]["max_payload_mb"] == [6, "plan"]
    outputs = out / "smoke" / "ml.m5.large" / "transform"
    assert sorted(p.name for p in outputs.iterdir()) == ["batch-000.csv.out", "batch-001.csv.out"]
    # Both containers' logs are recorded relative to --out (DESIGN §2), and report.html shows them.
    assert smoke["serving"]["log"] == "smoke/ml.m5.large/serve.log"
    assert transform["log"] == "smoke/ml.m5.large/transform.log"
    assert (out / transform["log"]).stat().st_size > 0
    assert (out / smoke["serving"]["log"]).stat().st_size > 0
    html = (out / "report.html").read_text()
    assert "<b>serving log</b>" in html
    assert "<b>transform log</b>" in html
    assert_nothing_left(docker_client, report, out)


@pytest.mark.parametrize(
    ("fixture", "check_id", "status", "words"),
    [
        ("broken/slow-ping", "SERVE-PING", "fail", "never answered 200"),
        ("broken/wrong-mime", "SERVE-INVOKE", "fail", "text/html"),
        ("broken/server-errors", "SERVE-INVOKE", "fail", "HTTP 500"),
        ("broken/rejects-unknown-headers", "SERVE-INVOKE", "fail", "X-Amzn-SageMaker"),
        ("broken/ignores-sigterm-serve", "SERVE-SIGTERM", "fail", "still serving 3 s"),
        ("broken/reorders-records", "TRANSFORM-OUTPUT", "fail", "line"),
        ("broken/drops-records", "TRANSFORM-OUTPUT", "fail", "output lines for"),
        ("broken/bad-exec-params", "TRANSFORM-EXEC-PARAMS", "fail", "MaxConcurrentTransforms"),
    ],
    ids=[
        "slow-ping",
        "wrong-mime",
        "server-errors",
        "unknown-headers",
        "ignores-sigterm",
        "reorders",
        "drops",
        "exec-params",
    ],
)
def test_broken_server_fails_its_check(
    docker_client, published, tmp_path, capsys, fixture, check_id, status, words
):
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, published(fixture), out, "--only", check_id, "--serve-sigterm-grace", "3"
    )
    check: dict[str, Any] = result(report, check_id)
    assert check["status"] == status, check
    assert words in check["message"], check
    assert code == ExitCode.CHECKS_FAILED
    assert_nothing_left(docker_client, report, out)


def test_inference_pipeline_chains_its_containers(
    docker_client, published, registry, tmp_path, capsys
):
    import json

    plan = published("reference")
    published("echo")
    folder = plan.parent
    request = json.loads((folder / "algorithm.json").read_text())
    first = request["InferenceSpecification"]["Containers"][0]
    request["InferenceSpecification"]["Containers"] = [
        first,
        {"Image": f"{registry.host}/harness/echo:1.0"},
    ]
    (folder / "pipeline.json").write_text(json.dumps(request, indent=2))
    text = plan.read_text().replace("algorithm: algorithm.json", "algorithm: pipeline.json")
    pipeline_plan = folder / "pipeline.yaml"
    pipeline_plan.write_text(text)
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, pipeline_plan, out, *INFERENCE, "--instance-type", "ml.m5.large"
    )
    smoke = [c for c in report["checks"] if c["profile"] == "smoke"]
    assert {c["id"]: c["status"] for c in smoke} == {
        "SERVE-PING": "pass",
        "SERVE-INVOKE": "pass",
        "SERVE-LATENCY": "pass",
        "SERVE-SIGTERM": "pass",
        "TRANSFORM-OUTPUT": "pass",
        "TRANSFORM-EXEC-PARAMS": "pass",
    }
    assert code == ExitCode.OK
    run = next(r for r in report["runs"] if r["profile"] == "smoke")
    assert run["serving"]["containers"] == 2
    # The echo container passes the reference's predictions through unchanged.
    single = (out / "smoke" / "ml.m5.large" / "transform" / "batch-000.csv.out").read_text()
    assert len(single.splitlines()) == 60
    assert_nothing_left(docker_client, report, out)
