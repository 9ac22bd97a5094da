"""Pure parts of `harness run`: job names, engine container specs, report.json and JUnit."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.checks.results import CheckResult, CheckStatus
from harness.engine.containers import ContainerSpec, Mount
from harness.jobs.run import job_name
from harness.report.json_report import render_report_json
from harness.report.junit import render_junit
from harness.report.model import RunRecord, RunReport

ENTITY = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def test_job_names_are_valid_training_job_names():
    name = job_name("ab12cd34", "smoke", "ml.m5.large")
    assert name == "ab12cd34-smoke-m5-large"
    long = job_name("ab12cd34", "p" * 80, "ml.p4d.24xlarge", "sigterm")
    for candidate in (name, long, job_name("x", "weird_name!", "ml.g5.xlarge", "sigterm")):
        assert ENTITY.fullmatch(candidate), candidate


def test_container_spec_without_network_and_with_limits():
    spec = ContainerSpec(
        image="reg/img@sha256:" + "a" * 64,
        command=("train",),
        name="n",
        hostname="algo-1",
        labels={"l": "1"},
        environment={"A": "1"},
        mounts=(Mount(Path("/w/in"), "/opt/ml/input"), Mount(Path("/w/c"), "/c", True)),
        extra_hosts={"algo-1": "127.0.0.1"},
        cpuset="0-1",
        memory_bytes=8 * 1024**3,
        shm_bytes=4 * 1024**3,
    )
    kwargs = spec.to_create_kwargs()
    assert kwargs["network_mode"] == "none"
    assert "network" not in kwargs
    assert kwargs["mem_limit"] == kwargs["memswap_limit"] == 8 * 1024**3
    assert kwargs["volumes"] == {
        "/w/in": {"bind": "/opt/ml/input", "mode": "rw"},
        "/w/c": {"bind": "/c", "mode": "ro"},
    }
    assert kwargs["cpuset_cpus"] == "0-1"
    assert "device_requests" not in kwargs


def test_container_spec_on_a_network_with_gpus():
    spec = ContainerSpec(
        image="i",
        command=("train",),
        name="n",
        hostname="algo-2",
        labels={},
        network="net",
        aliases=("algo-2",),
        gpu_uuids=("GPU-a", "GPU-b"),
        published_ports={8080: None},
    )
    kwargs = spec.to_create_kwargs()
    assert kwargs["network"] == "net"
    assert "network_mode" not in kwargs
    (request,) = kwargs["device_requests"]
    assert request["DeviceIDs"] == ["GPU-a", "GPU-b"]
    assert request["Capabilities"] == [["gpu"]]
    assert kwargs["ports"] == {"8080/tcp": ("127.0.0.1", None)}


def report(checks: tuple[CheckResult, ...], interrupted: bool = False) -> RunReport:
    return RunReport(
        "0.1.0",
        "2026-11-27T09:00:00+00:00",
        12.5,
        "algorithm.json",
        "harness.yaml",
        {"cpus": 2, "memory_mib": 24000},
        (
            {
                "role": "training",
                "image": "reg/a:1",
                "declared_digest": None,
                "resolved_digest": "sha256:x",
                "platform": "linux/amd64",
                "pinned_reference": "reg/a@sha256:x",
            },
        ),
        (RunRecord("smoke", "ml.m5.large", "exact"),),
        checks,
        interrupted,
    )


CHECKS = (
    CheckResult("SPEC-SCHEMA", CheckStatus.PASS, "ok"),
    CheckResult("IMAGE-DIGEST", CheckStatus.PASS, "matches", "training image"),
    CheckResult(
        "TRAIN-COMPLETES",
        CheckStatus.FAIL,
        "algo-1 exited 2",
        profile="smoke",
        instance_type="ml.m5.large",
    ),
    CheckResult(
        "TRAIN-GPU-USED",
        CheckStatus.SKIP,
        "no GPUs",
        profile="smoke",
        instance_type="ml.m5.large",
        warnings=("w",),
    ),
)


def test_report_json_has_the_design_keys_and_verdict():
    data = json.loads(render_report_json(report(CHECKS)))
    for key in (
        "schema_version",
        "harness_version",
        "started_at",
        "duration_s",
        "verdict",
        "summary",
        "host",
        "images",
        "runs",
        "checks",
    ):
        assert key in data
    assert data["verdict"] == "fail"
    assert data["summary"] == {"pass": 2, "fail": 1, "skip": 1, "error": 0}
    assert data["runs"][0]["emulation"] == "exact"
    assert data["checks"][2]["profile"] == "smoke"


def test_verdict_passes_only_when_nothing_failed_and_something_ran():
    assert report(CHECKS[:2]).verdict == "pass"
    assert report(()).verdict == "fail"
    assert report(CHECKS[:2], interrupted=True).verdict == "fail"


def test_junit_has_one_testcase_per_check():
    suite = ET.fromstring(render_junit(report(CHECKS)))
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == [
        "static",
        "images",
        "smoke.ml_m5_large",
        "smoke.ml_m5_large",
    ]
    assert cases[1].get("name") == "IMAGE-DIGEST (training image)"
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "algo-1 exited 2"
    assert cases[3].find("skipped") is not None
    names = {p.get("name") for p in suite.iter("property")}
    assert "image.training" in names


def test_report_json_matches_the_shipped_schema():
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("harness").joinpath("schemas/report.schema.json").read_text()
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(render_report_json(report(CHECKS)))
    jsonschema.validate(data, schema)
    data["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError, match="maybe"):
        jsonschema.validate(data, schema)


def test_report_schema_requires_the_1_1_keys_from_1_1_on():
    import importlib.resources

    import jsonschema

    schema = json.loads(
        importlib.resources.files("harness").joinpath("schemas/report.schema.json").read_text()
    )
    data = json.loads(render_report_json(report(CHECKS)))
    assert data["options"] == {"only": [], "skip": [], "instance_types": [], "profiles": []}
    assert data["plan_sha256"] is None
    assert data["request_sha256"] is None
    for key in ("options", "plan_sha256", "request_sha256"):
        without = {k: v for k, v in data.items() if k != key}
        with pytest.raises(jsonschema.ValidationError, match=key):
            jsonschema.validate(without, schema)
        jsonschema.validate({**without, "schema_version": "1.0"}, schema)  # older reports
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate({**data, "plan_sha256": "sha256:abc"}, schema)


def test_summary_markdown():
    from harness.report.summary import render_summary

    text = render_summary(report(CHECKS))
    assert text.startswith("## harness: ❌ FAIL\n")
    assert "2 passed · 1 failed · 1 skipped · 0 errors" in text
    assert "| smoke | ml.m5.large |  |  | ❌ 1 fail |  |  |" in text
    assert "| — | — | ✅ 1 | ✅ 1 |  |  |  |" in text
    assert "- **TRAIN-COMPLETES** smoke/ml.m5.large: algo-1 exited 2" in text
    assert "- training: `reg/a@sha256:x`" in text


def test_html_report_is_self_contained_and_shows_the_run():
    from harness.report.html import line_chart, render_html

    run = RunRecord(
        "smoke",
        "ml.m5.large",
        "exact",
        serving={"load": {"latency_ms": {"p99": 9.5}, "requests_per_second": 812.0}},
        training={
            "status": "Completed",
            "duration_s": 1.2,
            "exit_code": 0,
            "failure_reason": None,
            "metrics_detail": {
                "train:loss": {
                    "points": [
                        {"t": 10.0, "value": 0.9},
                        {"t": 11.0, "value": 0.5},
                        {"t": 12.0, "value": 0.3},
                    ]
                }
            },
            "hosts": [
                {
                    "host": "algo-1",
                    "usage": {
                        "samples": [
                            {"t": 0.0, "memory_bytes": 10 * 2**20, "cpu_seconds": 0.1},
                            {"t": 1.0, "memory_bytes": 30 * 2**20, "cpu_seconds": 0.6},
                        ]
                    },
                }
            ],
        },
    )
    checks = (
        *CHECKS,
        CheckResult(
            "SERVE-INVOKE",
            CheckStatus.FAIL,
            "<script>x</script>",
            profile="smoke",
            instance_type="ml.m5.large",
        ),
    )
    base = report(checks)
    html = render_html(RunReport(**{**base.__dict__, "runs": (run,)}))
    assert html.startswith("<!doctype html>")
    assert '<div class="banner fail">' in html
    assert "<h2>Matrix</h2>" in html
    assert html.count("<details>") == len(checks)
    assert "&lt;script&gt;x&lt;/script&gt;" in html  # messages are escaped
    assert "<script" not in html
    assert "<link" not in html
    assert "src=" not in html
    assert 'aria-label="train:loss"' in html
    assert 'aria-label="algo-1 memory"' in html
    assert "reg/a:1" in html
    assert "serving p99 9.5 ms, 812.0 req/s" in html
    assert line_chart("one point", [(0.0, 1.0)]) == ""


def test_paths_in_records_and_evidence_are_relative_to_out(tmp_path):
    from harness.jobs.run_parts import phase_dict, relative_path, relative_paths

    out = tmp_path / "report"
    log = out / "smoke" / "ml.m5.large" / "transform.log"
    assert relative_path(log, out) == "smoke/ml.m5.large/transform.log"
    assert relative_path(Path("/elsewhere/x.log"), out) == "/elsewhere/x.log"
    record = {"records": 100, "outputs": ["batch-000.csv.out"]}
    assert phase_dict(record, log, out) == {
        "records": 100,
        "outputs": ["batch-000.csv.out"],
        "log": "smoke/ml.m5.large/transform.log",
    }
    assert "log" not in record  # the runner's record (a check's evidence too) is left alone
    assert phase_dict(record, None, out) == record
    evidence = {
        "path": str(out / "smoke/ml.m5.large/model.tar.gz"),
        "found": "/opt/program/train",
        "message": "/ping answered 200",
        "nested": [{"log": str(log)}, (str(out / "a"), 3)],
        "bytes": 10,
    }
    assert relative_paths(evidence, out) == {
        "path": "smoke/ml.m5.large/model.tar.gz",
        "found": "/opt/program/train",
        "message": "/ping answered 200",
        "nested": [{"log": "smoke/ml.m5.large/transform.log"}, ("a", 3)],
        "bytes": 10,
    }


def test_the_sigterm_probe_job_is_the_job_with_the_probe_settings(tmp_path):
    from harness.jobs.run_parts import sigterm_probe_job
    from harness.jobs.training import TrainingJob
    from harness.plan import load_plan

    plan = load_plan(
        Path(__file__).resolve().parents[2] / "fixtures/algorithms/reference/harness.yaml"
    )
    profile = plan.profile("smoke")
    job = TrainingJob(
        "ab12cd34",
        job_name("ab12cd34", "smoke", "ml.m5.large"),
        "reg/a@sha256:" + "a" * 64,
        {},
        profile,
        "ml.m5.large",
        (),
        tmp_path / "smoke/ml.m5.large",
        600,
        120.0,
    )
    probe = sigterm_probe_job(job)
    assert probe.job_name == "ab12cd34-smoke-m5-large-sigterm"
    assert probe.out_dir == job.out_dir / "sigterm-probe"
    assert probe.interrupt_after_seconds == 2
    hyperparameters = probe.profile.training.hyperparameter_map
    assert hyperparameters == {
        **profile.training.hyperparameter_map,
        "sleep_per_epoch_seconds": "1",
    }
    assert (probe.image, probe.max_runtime_seconds, probe.sigterm_grace_seconds) == (
        job.image,
        600,
        120.0,
    )
    assert job.interrupt_after_seconds is None  # the job itself is unchanged
