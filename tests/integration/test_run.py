"""`harness run` end to end with real containers: the reference algorithm passes, and each
broken fixture fails exactly the check it breaks.

Each algorithm is copied to a temporary folder, built on the fixtures' base image, pushed to the
session's loopback registry, and its request rewritten to point there.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker
import jsonschema
import pytest

from harness.cli import main
from harness.engine.labels import RUN_ID
from harness.errors import ExitCode

from .conftest import FIXTURES, TEST_LABEL, build_fixture_image, push

pytestmark = pytest.mark.docker
REPORT_SCHEMA = json.loads(
    importlib.resources.files("harness").joinpath("schemas/report.schema.json").read_text()
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def published(docker_client, base_image, registry, tmp_path_factory):
    """published(name) -> plan path of fixture `name` (reference or broken/<x>), pushed."""
    cache: dict[str, Path] = {}
    # A copy of fixtures/algorithms, so relative paths such as ../../reference/data still work.
    base = tmp_path_factory.mktemp("algorithms")
    shutil.copytree(FIXTURES / "algorithms" / "reference" / "data", base / "reference" / "data")

    def publish(name: str) -> Path:
        if name in cache:
            return cache[name]
        folder = base / name
        shutil.copytree(FIXTURES / "algorithms" / name, folder, dirs_exist_ok=True)
        repository = f"harness/{name.replace('/', '-')}"
        tag = f"{registry.host}/{repository}"
        build_fixture_image(docker_client, base_image, folder, f"{tag}:1.0")
        push(docker_client, registry, repository, "1.0")
        request = folder / "algorithm.json"
        text = request.read_text()
        for old in _image_references(json.loads(text)):
            text = text.replace(old, f"{tag}:1.0")
        request.write_text(text)
        cache[name] = folder / "harness.yaml"
        return cache[name]

    return publish


def _image_references(request: dict[str, Any]) -> set[str]:
    found = {request["TrainingSpecification"]["TrainingImage"]}
    for container in (request.get("InferenceSpecification") or {}).get("Containers", []):
        found.add(container["Image"])
    return found


def harness_run(capsys, plan: Path, out: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, report, _ = harness_run_with_stderr(capsys, plan, out, *args)
    return code, report


def harness_run_with_stderr(
    capsys, plan: Path, out: Path, *args: str
) -> tuple[int, dict[str, Any], str]:
    code = main(["run", str(plan), "--out", str(out), *args])
    stdout, stderr = capsys.readouterr()
    assert (out / "report.json").is_file(), f"exit {code}\n{stdout}\n{stderr}"
    report = json.loads((out / "report.json").read_text())
    jsonschema.validate(report, REPORT_SCHEMA)  # every real report follows the shipped schema
    assert (out / "summary.md").read_text().startswith("## harness: ")
    assert (out / "report.html").read_text().startswith("<!doctype html>")
    return code, report, stderr


def result(
    report: dict[str, Any],
    check_id: str,
    instance_type: str | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    for check in report["checks"]:
        if (
            check["id"] == check_id
            and (instance_type is None or check["instance_type"] == instance_type)
            and (profile is None or check["profile"] == profile)
        ):
            return dict(check)
    raise AssertionError(f"no {check_id} in {[c['id'] for c in report['checks']]}")


def assert_nothing_left(client: docker.DockerClient, report: dict[str, Any], out: Path) -> None:
    mine = f"{RUN_ID}={report['run_id']}"  # other runs may be going on beside this one
    assert not client.containers.list(all=True, filters={"label": mine})
    assert not client.networks.list(filters={"label": mine})
    assert not list(out.rglob(".work"))


def test_reference_algorithm_passes_on_two_types_in_file_mode(
    docker_client, published, tmp_path, capsys
):
    plan = published("reference")
    out = tmp_path / "report"
    code, report, stderr = harness_run_with_stderr(
        capsys, plan, out, "--only", "SPEC-", "--only", "IMAGE-", "--only", "TRAIN-"
    )
    # Not a terminal: one line per phase started and ended, in run order, and no notes.
    events = [
        line.split("] ", 1)[1] for line in stderr.splitlines() if re.match(r"\[ *\d+\.\ds\] ", line)
    ]
    ends = [re.sub(r" \(\d+\.\d s\)$", "", e) for e in events if " started" not in e]
    assert ends[:3] == [
        "validate passed",
        "images passed",
        "smoke/ml.m5.large training passed",
    ], stderr
    assert "smoke/ml.m5.large sigterm-probe passed" in ends
    started = "smoke/ml.t3.medium training started: (exact|scaled) emulation, 1 host"
    assert [e for e in events if re.fullmatch(started + r"\(s\)", e)]
    assert not [e for e in events if "host(s)" in e and "started" not in e]  # notes: --verbose
    smoke = [r for r in report["runs"] if r["profile"] == "smoke"]
    assert {r["instance_type"] for r in smoke} == {"ml.m5.large", "ml.t3.medium"}
    for check in report["checks"]:
        assert check["status"] in ("pass", "skip"), check
    assert code == ExitCode.OK
    assert report["verdict"] == "pass"
    for instance_type in ("ml.m5.large", "ml.t3.medium"):
        assert result(report, "TRAIN-COMPLETES", instance_type, "smoke")["status"] == "pass"
        assert result(report, "TRAIN-MODEL", instance_type, "smoke")["status"] == "pass"
        assert result(report, "TRAIN-GPU-USED", instance_type, "smoke")["status"] == "skip"
        # The plan's sigterm_probe slows the probe run down enough to interrupt it.
        assert result(report, "TRAIN-SIGTERM", instance_type, "smoke")["status"] == "pass"
    run = smoke[0]
    assert result(report, "TRAIN-METRICS", "ml.m5.large", "smoke")["status"] == "pass"
    assert result(report, "TRAIN-OBJECTIVE", "ml.m5.large", "smoke")["status"] == "pass"
    metrics = run["training"]["metrics"]
    assert len(metrics["train:loss"]) == 5  # one per epoch
    assert 0.0 <= metrics["validation:accuracy"][-1] <= 1.0
    assert metrics["validation:loss"]  # printed on stderr only
    assert run["training"]["metrics_detail"]["train:loss"]["engine"] == "re2"
    assert run["training"]["model_artifact"]["sha256"]
    assert (out / run["training"]["model_artifact"]["path"]).is_file()
    assert (out / "junit.xml").is_file()
    for pipe in (r for r in report["runs"] if r["profile"] == "pipe"):
        assert pipe["training"]["status"] == "Completed"
    pipe_types = {r["instance_type"] for r in report["runs"] if r["profile"] == "pipe"}
    assert pipe_types == {"ml.m5.large", "ml.t3.medium"}
    distributed = next(r for r in report["runs"] if r["profile"] == "distributed")
    assert len(distributed["training"]["hosts"]) == 2
    assert distributed["training"]["status"] == "Completed"
    for host in ("algo-1", "algo-2"):  # ShardedByS3Key: one of the two training files each
        assert distributed["training"]["channels"][host]["training"]["files"] == 1
    assert_nothing_left(docker_client, report, out)


@pytest.mark.parametrize(
    ("fixture", "check_id", "status", "words", "extra"),
    [
        ("broken/crash", "TRAIN-COMPLETES", "fail", "algo-1 exited 2", ()),
        (
            "broken/crash",
            "TRAIN-FAILURE-REASON",
            "fail",
            "without writing /opt/ml/output/failure",
            (),
        ),
        (
            "broken/crash-with-reason",
            "TRAIN-FAILURE-REASON",
            "pass",
            "/opt/ml/output/failure says",
            (),
        ),
        ("broken/no-model", "TRAIN-MODEL", "fail", "/opt/ml/model is empty", ()),
        ("broken/model-link-escape", "TRAIN-MODEL", "fail", "cannot be packaged", ()),
        (
            "broken/ignores-sigterm",
            "TRAIN-SIGTERM",
            "fail",
            "still running 3 s after SIGTERM",
            ("--sigterm-grace", "3"),
        ),
        ("broken/slow-but-graceful", "TRAIN-SIGTERM", "pass", "exited", ()),
        (
            "broken/memory-hog",
            "TRAIN-RESOURCES",
            "fail",
            "ran out of memory",
            ("--instance-type", "ml.t3.medium"),
        ),
        ("broken/bad-metrics", "TRAIN-METRICS", "fail", "train:f1", ()),
        ("broken/bad-metrics", "TRAIN-OBJECTIVE", "pass", "validation:accuracy", ()),
    ],
    ids=[
        "crash-completes",
        "crash-reason",
        "reason-given",
        "no-model",
        "link-escape",
        "ignores-sigterm",
        "graceful-sigterm",
        "memory-hog",
        "bad-metrics",
        "objective-on-stderr",
    ],
)
def test_broken_fixture_fails_its_check(
    docker_client, published, tmp_path, capsys, fixture, check_id, status, words, extra
):
    out = tmp_path / "report"
    only: tuple[str, ...] = ("--only", check_id)
    if check_id != "TRAIN-SIGTERM":
        only += ("--skip", "TRAIN-SIGTERM")
    code, report = harness_run(capsys, published(fixture), out, *only, *extra)
    check = result(report, check_id)
    assert check["status"] == status, check
    assert words in check["message"], check
    assert code == (ExitCode.OK if status == "pass" else ExitCode.CHECKS_FAILED)
    assert_nothing_left(docker_client, report, out)


def test_max_runtime_stops_the_job_and_still_packages_the_model(published, tmp_path, capsys):
    # The fixture trains for 30 s; its plan's max_runtime_seconds is 5.
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, published("broken/slow-but-graceful"), out, "--skip", "TRAIN-SIGTERM"
    )
    assert code == ExitCode.CHECKS_FAILED
    completes = result(report, "TRAIN-COMPLETES")
    assert completes["status"] == "fail"
    assert "MaxRuntimeExceeded" in completes["message"]
    training = report["runs"][0]["training"]
    assert training["status"] == "MaxRuntimeExceeded"
    assert training["model_artifact"]["files"] >= 1
    assert result(report, "TRAIN-MODEL")["status"] == "pass"


def test_a_container_sees_exactly_the_emulated_type_and_no_network(published, tmp_path, capsys):
    plan = published("broken/env-probe")
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, plan, out, "--only", "TRAIN-COMPLETES", "--instance-type", "ml.m5.large"
    )
    assert code == ExitCode.OK, report
    probe = _probe_json(out, report)
    assert len(probe["sched_getaffinity"]) == 2  # ml.m5.large: 2 vCPUs, pinned by cpuset
    limit = probe["cgroup"]["memory/memory.limit_in_bytes"] or probe["cgroup"]["memory.max"]
    assert int(limit) == 8 * 1024**3
    assert probe["interfaces"] == ["lo"]
    assert probe["routes"]["outside_routable"] is False
    assert probe["resolved_hosts"] == {"algo-1": "127.0.0.1"}
    environment = probe["environment"]
    assert environment["TRAINING_JOB_NAME"]
    assert environment["TRAINING_JOB_ARN"].startswith("arn:aws:sagemaker:")
    assert environment["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert not any(name.startswith(("AWS_", "SM_")) for name in environment)
    assert probe["config"]["resourceconfig.json"]["current_instance_type"] == "ml.m5.large"
    assert probe["config_writable"].startswith("no")


def test_a_rerun_into_the_same_out_holds_only_its_files_and_records_its_data(
    docker_client, published, tmp_path, capsys
):
    from harness.plan import ChannelPlan
    from harness.sagemaker.channels import data_digest, list_channel

    plan = published("reference")
    out = tmp_path / "report"
    folder = out / "smoke" / "ml.m5.large"
    stale = ("transform/stale.csv.out", "logs/algo-2.log", "serve.log", "sigterm-probe/x.log")
    for name in stale:  # what an earlier run (two hosts, serving, the probe) left here
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("an earlier run")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the run's")
    (folder / "logs" / "escape").symlink_to(outside)
    code, report = harness_run(
        capsys,
        plan,
        out,
        *("--profile", "smoke", "--profile", "smoke"),
        *("--instance-type", "ml.m5.large", "--instance-type", "ml.m5.large"),
        *("--only", "TRAIN-COMPLETES", "--only", "TRANSFORM-OUTPUT"),
    )
    assert code == ExitCode.OK, report
    (run,) = report["runs"]  # the same row given twice runs once
    assert [c["id"] for c in report["checks"]] == ["TRAIN-COMPLETES", "TRANSFORM-OUTPUT"]
    for name in stale:
        assert not (folder / name).exists(), name
    assert not (folder / "logs" / "escape").exists()
    assert (outside / "keep.txt").read_text() == "not the run's"
    assert sorted(p.name for p in (folder / "transform").iterdir()) == [
        "batch-000.csv.out",
        "batch-001.csv.out",
    ]
    assert sorted(p.name for p in (folder / "logs").iterdir()) == ["algo-1.log"]
    data = plan.parent / "data"
    assert run["training"]["data_sha256"] == {
        name: data_digest(list_channel(ChannelPlan(name, data / name)).files)
        for name in ("training", "validation")
    }
    batch = list_channel(ChannelPlan("transform input", data / "batch")).files
    assert run["transform"]["input_sha256"] == data_digest(batch)
    assert_nothing_left(docker_client, report, out)


PIPE_RECORDIO_GZIP = """\
algorithm: algorithm.json
profiles:
  - name: pipe-recordio-gzip
    instance_types: [ml.m5.large]
    training:
      hyperparameters: {epochs: "3", model_kind: linear}
      input_mode: Pipe
      channels:
        training: {path: data/training-gz, content_type: text/csv, compression: Gzip,
                   record_wrapper: RecordIO}
        validation: {path: data/validation, content_type: text/csv}
"""


def test_reference_trains_from_gzip_files_wrapped_in_recordio_through_pipes(
    published, tmp_path, capsys
):
    plan = published("reference").with_name("pipe-recordio-gzip.yaml")
    plan.write_text(PIPE_RECORDIO_GZIP)
    out = tmp_path / "report"
    code, report = harness_run(
        capsys, plan, out, "--only", "TRAIN-COMPLETES", "--only", "TRAIN-MODEL"
    )
    assert code == ExitCode.OK, report
    training = report["runs"][0]["training"]
    assert training["channels"]["algo-1"]["training"] == {
        "mode": "Pipe",
        "files": 2,
        "bytes": training["channels"]["algo-1"]["training"]["bytes"],
    }
    log = (out / "pipe-recordio-gzip" / "ml.m5.large" / "logs" / "algo-1.log").read_text()
    assert "train_loss=" in log


TWO_HOSTS = """\
algorithm: algorithm.json
profiles:
  - name: two-hosts
    instance_types: [ml.m5.large]
    training:
      input_mode: File
      instance_count: 2
      max_runtime_seconds: 60
      channels:
        training: {path: ../../reference/data/training, content_type: text/csv,
                   distribution: ShardedByS3Key, input_mode: FastFile}
        validation: {path: ../../reference/data/validation, content_type: text/csv,
                     input_mode: Pipe}
"""


def test_two_hosts_see_each_other_and_their_channels(published, tmp_path, capsys):
    plan = published("broken/env-probe").with_name("two-hosts.yaml")
    plan.write_text(TWO_HOSTS)
    out = tmp_path / "report"
    code, report = harness_run(capsys, plan, out, "--only", "TRAIN-COMPLETES")
    assert code == ExitCode.OK, report
    training = report["runs"][0]["training"]
    assert [h["host"] for h in training["hosts"]] == ["algo-1", "algo-2"]
    for host in ("algo-1", "algo-2"):
        assert training["channels"][host]["training"]["files"] == 1  # 2 files, sharded
        probe = _probe_from_log(out / "two-hosts" / "ml.m5.large" / "logs" / f"{host}.log")
        assert probe["config"]["resourceconfig.json"]["current_host"] == host
        assert probe["config"]["resourceconfig.json"]["hosts"] == ["algo-1", "algo-2"]
        assert "eth0" in probe["interfaces"]
        assert all(not ip.startswith("<error") for ip in probe["resolved_hosts"].values())
        entries = {e["path"]: e for e in probe["data"]["entries"]}
        assert entries["validation_0"]["fifo"] is True  # Pipe mode
        assert probe["data"]["writable"]["training"].startswith("no")  # FastFile: read-only
        assert len([p for p in entries if p.startswith("training/")]) == 1
        assert probe["config"]["inputdataconfig.json"]["validation"]["TrainingInputMode"] == "Pipe"


def _probe_from_log(log: Path) -> dict[str, Any]:
    for line in log.read_text().splitlines():
        if line.startswith("ENV-PROBE "):
            return dict(json.loads(line.removeprefix("ENV-PROBE ")))
    raise AssertionError(f"no ENV-PROBE line in {log}")


def _probe_json(out: Path, report: dict[str, Any]) -> dict[str, Any]:
    import tarfile

    artifact = out / report["runs"][0]["training"]["model_artifact"]["path"]
    with tarfile.open(artifact) as archive:
        member = archive.extractfile("probe.json")
        assert member is not None
        return dict(json.load(member))


def test_interrupt_leaves_nothing_behind(docker_client, published, tmp_path):
    plan = published("broken/slow-but-graceful")
    out = tmp_path / "report"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            str(plan),
            "--out",
            str(out),
            "--skip",
            "TRAIN-SIGTERM",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if docker_client.containers.list(filters={"label": RUN_ID}):
            break
        time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("the training container never started")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True
    assert report["verdict"] == "fail"
    assert_nothing_left(docker_client, report, out)


def test_clean_removes_what_a_killed_run_left(docker_client, base_image, capsys):
    from harness.engine.labels import labels

    container = docker_client.containers.create(
        base_image, ["sleep", "600"], labels={**labels("leftover", "training"), TEST_LABEL: "1"}
    )
    network = docker_client.networks.create(
        "harness-leftover-net", labels=labels("leftover", "network"), internal=True
    )
    assert main(["clean", "--run-id", "leftover"]) == ExitCode.OK
    out, _ = capsys.readouterr()
    assert "removed 1 container(s) and 1 network(s)" in out
    with pytest.raises(docker.errors.NotFound):
        container.reload()
    with pytest.raises(docker.errors.NotFound):
        network.reload()


def test_doctor_reports_the_host_and_every_type(capsys):
    assert main(["doctor", "--format", "json"]) == ExitCode.OK
    report = json.loads(capsys.readouterr()[0])
    assert report["host"]["cpus"] >= 1
    by_name = {t["name"]: t for t in report["instance_types"]}
    assert by_name["ml.g5.xlarge"]["fidelity"] in ("unavailable", "exact", "scaled")
    if not report["host"]["gpus"]:
        assert by_name["ml.g5.xlarge"]["fidelity"] == "unavailable"
        assert by_name["ml.g5.xlarge"]["reasons"]


def test_unreachable_engine_is_exit_3(monkeypatch, capsys, published):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code = main(["run", str(published("reference")), "--out", "/tmp/unused"])
    _, err = capsys.readouterr()
    assert code == ExitCode.ENGINE_ERROR
    assert "no Docker daemon answers" in err
