"""`harness spec` and `harness submit` end to end over real HTTP: S3 and SageMaker are a moto
server on loopback (moto extended with algorithms by tests/moto_algorithms.py)."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import regex
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape
from botocore.validate import ParamValidator

from harness.algorithm.service_model import create_algorithm_input
from harness.cli import main
from harness.errors import ExitCode
from tests.unit.algorithm.spec_reports import DIGEST, ROLE, passing_report, reference_request

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "algorithms" / "reference"


@pytest.fixture
def bucket(aws_env: None, moto_endpoint: str) -> str:
    import boto3

    name = f"harness-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A copy of the reference algorithm, its plan at harness.yaml."""
    folder = tmp_path / "reference"
    shutil.copytree(REFERENCE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _report(folder: Path, *, failing: bool = False) -> Path:
    """A report.json of a run of the reference plan (the parts `harness spec` reads)."""
    report = passing_report(reference_request(folder))
    if failing:
        report["checks"].append(
            {
                "id": "TRAIN-METRICS",
                "status": "fail",
                "profile": "smoke",
                "instance_type": "ml.m5.large",
                "message": "metric loss never matched",
            }
        )
    path = folder / "report.json"
    path.write_text(json.dumps(report))
    return path


def _spec(
    folder: Path, bucket: str, endpoint: str, *extra: str, report: Path | None = None
) -> list[str]:
    return [
        "spec",
        str(folder / "harness.yaml"),
        "--s3-prefix",
        f"s3://{bucket}/seller",
        "--role",
        ROLE,
        "--report",
        str(report or folder / "report.json"),
        "--profile",
        "smoke",
        "--out",
        str(folder / "request.json"),
        "--endpoint-url",
        endpoint,
        "--region",
        "us-east-1",
        *extra,
    ]


def _keys(endpoint: str, bucket: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _independent_walk(value: Any, shape: Shape, path: str = "") -> list[str]:
    """A check of the API model's constraints written apart from harness/algorithm/schema.py:
    required members, unknown members, enums, min/max and full-match patterns."""
    problems: list[str] = []
    if isinstance(shape, StructureShape):
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required")
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: unknown")
            else:
                problems += _independent_walk(member, shape.members[name], f"{path}.{name}")
    elif isinstance(shape, ListShape):
        bounds = shape.metadata
        if len(value) < bounds.get("min", 0) or len(value) > bounds.get("max", 1 << 30):
            problems.append(f"{path}: {len(value)} items")
        for index, item in enumerate(value):
            problems += _independent_walk(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            problems += _independent_walk(key, shape.key, f"{path}<key>")
            problems += _independent_walk(item, shape.value, f"{path}.{key}")
    elif isinstance(shape, StringShape):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in enum")
        meta = shape.metadata
        if len(value) < meta.get("min", 0) or len(value) > meta.get("max", 1 << 30):
            problems.append(f"{path}: length {len(value)}")
        if "pattern" in meta and not regex.fullmatch(meta["pattern"], value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif shape.type_name == "integer":
        meta = shape.metadata
        if value < meta.get("min", -(1 << 62)) or value > meta.get("max", 1 << 62):
            problems.append(f"{path}: {value} out of range")
    return problems


def test_spec_uploads_the_data_and_writes_a_request_that_passes_every_check(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.OK
    out, err = capsys.readouterr()
    local = sorted(
        p.relative_to(reference / "data").as_posix()
        for folder in ("training", "validation", "batch")
        for p in (reference / "data" / folder).rglob("*")
        if p.is_file()
    )
    assert "object(s) uploaded" in out
    assert "next: harness submit" in out
    assert "uploaded seller/smoke/channels/training/" in err
    keys = _keys(moto_endpoint, bucket)
    renamed = [
        k.replace("seller/smoke/channels/", "").replace("transform-input", "batch") for k in keys
    ]
    assert sorted(k.removeprefix("seller/smoke/") for k in renamed) == local

    request = json.loads((reference / "request.json").read_text())
    assert request["TrainingSpecification"]["TrainingImageDigest"] == DIGEST
    assert request["ValidationSpecification"]["ValidationRole"] == ROLE
    assert main(["validate", str(reference / "request.json")]) == ExitCode.OK
    shape = create_algorithm_input()
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    assert _independent_walk(request, shape) == []

    # Again: every object is already there with the same bytes.
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.OK
    out, err = capsys.readouterr()
    assert f"0 object(s) uploaded (0 bytes), {len(local)} unchanged" in out
    assert "unchanged seller/smoke/channels/training/" in err


def test_spec_refuses_a_profile_that_did_not_pass_and_says_why(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference, failing=True)
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.CHECKS_FAILED
    _, err = capsys.readouterr()
    assert "TRAIN-METRICS (fail) at smoke/ml.m5.large: metric loss never matched" in err
    assert "no request written" in err
    assert not (reference / "request.json").exists()
    assert _keys(moto_endpoint, bucket) == []

    assert main(_spec(reference, bucket, moto_endpoint, "--force")) == ExitCode.OK
    _, err = capsys.readouterr()
    assert "--force: writing the request although profile 'smoke' did not pass" in err
    assert (reference / "request.json").exists()


def test_spec_refuses_to_write_an_invalid_request(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    args = _spec(reference, bucket, moto_endpoint)
    args[args.index(ROLE)] = "SageMakerRole"
    assert main(args) == ExitCode.CHECKS_FAILED
    _, err = capsys.readouterr()
    assert "ValidationSpecification.ValidationRole" in err
    assert f"{reference / 'harness.yaml'} (request {reference / 'request.json'}): invalid" in err
    assert "nothing uploaded, nothing written" in err
    assert not (reference / "request.json").exists()
    assert _keys(moto_endpoint, bucket) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.remove("--profile") or a.remove("smoke"), "choose one with --profile"),
        (
            lambda a: a.__setitem__(a.index("--report") + 1, "/nonexistent/report.json"),
            "run `harness run PLAN` first",
        ),
        (lambda a: a.__setitem__(a.index("--s3-prefix") + 1, "bucket/prefix"), "s3://"),
    ],
)
def test_spec_usage_errors_are_one_line(
    reference: Path,
    bucket: str,
    moto_endpoint: str,
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    message: str,
) -> None:
    _report(reference)
    args = _spec(reference, bucket, moto_endpoint)
    edit(args)
    assert main(args) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_spec_into_a_missing_bucket_is_one_line(
    reference: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    assert main(_spec(reference, "no-such-bucket-here", moto_endpoint)) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "no-such-bucket-here" in err
    assert "Traceback" not in err
    assert not (reference / "request.json").exists()


def _request(tmp_path: Path, prefix: str) -> Path:
    request = json.loads((REFERENCE / "algorithm.json").read_text())
    request["AlgorithmName"] = f"{prefix}-{uuid.uuid4().hex[:10]}"
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request, indent=2))
    return path


def _submit(request: Path, endpoint: str, *extra: str) -> list[str]:
    return ["submit", str(request), "--endpoint-url", endpoint, "--region", "us-east-1", *extra]


def test_submit_dry_run_prints_the_exact_request_and_sends_nothing(
    tmp_path: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, "dry")
    assert main(_submit(request, moto_endpoint, "--dry-run")) == ExitCode.OK
    out, err = capsys.readouterr()
    assert json.loads(out) == json.loads(request.read_text())
    assert "was not sent" in err
    assert (
        "TrainingImage 127.0.0.1:5000/harness/reference-algorithm:1.0 is not in Amazon ECR" in err
    )
    import boto3
    from botocore.exceptions import ClientError

    sagemaker = boto3.client("sagemaker", endpoint_url=moto_endpoint, region_name="us-east-1")
    with pytest.raises(ClientError, match="ValidationException"):
        sagemaker.describe_algorithm(AlgorithmName=json.loads(out)["AlgorithmName"])


def test_submit_and_wait_until_completed(
    tmp_path: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, "algo")
    args = _submit(request, moto_endpoint, "--wait", "--poll-interval", "0.01")
    assert main(args) == ExitCode.OK
    out, _ = capsys.readouterr()
    assert re.search(r"created arn:aws:sagemaker:us-east-1:\d{12}:algorithm/algo-", out)
    assert "AlgorithmStatus: Pending" in out
    assert "AlgorithmStatus: InProgress -> Completed" in out
    assert "Completed: algo-" in out

    # The same name again is a clear error, not a traceback.
    assert main(args) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "already exist" in err
    assert "delete-algorithm" in err


def test_submit_and_wait_until_failed_shows_the_reason(
    tmp_path: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, "fail")
    args = _submit(request, moto_endpoint, "--wait", "--poll-interval", "0.01")
    assert main(args) == ExitCode.CHECKS_FAILED
    out, _ = capsys.readouterr()
    assert "Failed: fail-" in out
    assert "Algorithm exited with code 1" in out


def test_submit_refuses_an_invalid_request_without_sending_it(
    tmp_path: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, "bad")
    data = json.loads(request.read_text())
    data["TrainingSpecification"]["TrainingChannels"] = []
    request.write_text(json.dumps(data))
    assert main(_submit(request, moto_endpoint)) == ExitCode.CHECKS_FAILED
    _, err = capsys.readouterr()
    assert "TrainingSpecification.TrainingChannels" in err
    assert "nothing sent" in err


def test_submit_without_credentials_is_one_line(
    tmp_path: Path,
    aws_env: None,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(_submit(_request(tmp_path, "nocreds"), moto_endpoint)) == ExitCode.ENGINE_ERROR
    _, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1, err
    assert errors[0].startswith("harness: error: ")
    assert "credentials" in errors[0]


def test_spec_deletes_what_is_no_longer_in_the_local_data(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    extra = reference / "data" / "training" / "old-bad.csv"
    extra.write_text("1,2\n")
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.OK
    assert "seller/smoke/channels/training/old-bad.csv" in _keys(moto_endpoint, bucket)
    extra.unlink()
    capsys.readouterr()
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "1 stale deleted" in out
    assert "deleted seller/smoke/channels/training/old-bad.csv" in err
    assert "seller/smoke/channels/training/old-bad.csv" not in _keys(moto_endpoint, bucket)


def test_spec_checks_everything_local_before_uploading(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    for old in (reference / "data" / "validation").iterdir():
        old.unlink()
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "SageMaker fails a job whose channel is empty" in err
    assert _keys(moto_endpoint, bucket) == []

    args = _spec(reference, bucket, moto_endpoint)
    args[args.index("--out") + 1] = str(reference / "no-such-folder" / "request.json")
    shutil.copytree(
        REFERENCE / "data" / "validation", reference / "data" / "validation", dirs_exist_ok=True
    )
    assert main(args) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "cannot write the request here" in err
    assert _keys(moto_endpoint, bucket) == []


def test_spec_shows_the_warnings_of_the_request_it_writes(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = passing_report(reference_request(reference))
    for item in report["runs"] + report["checks"]:
        if item.get("profile") == "smoke":
            item["profile"] = "pipe"
    (reference / "report.json").write_text(json.dumps(report))
    args = _spec(reference, bucket, moto_endpoint)
    args[args.index("smoke")] = "pipe"
    assert main(args) == ExitCode.OK
    _, err = capsys.readouterr()
    assert "TransformJobDefinition" in err  # without one SageMaker never runs the inference image
    assert "warning" in err


@pytest.mark.parametrize("value", ["-1", "0", "nan", "soon"])
def test_submit_refuses_a_poll_interval_that_is_not_positive(
    tmp_path: Path,
    aws_env: None,
    moto_endpoint: str,
    capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    args = _submit(_request(tmp_path, "poll"), moto_endpoint, "--wait", "--poll-interval", value)
    assert main(args) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "--poll-interval" in err
    assert "created" not in err


def test_spec_refuses_a_bucket_in_another_region(
    reference: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    name = f"harness-eu-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="eu-west-1").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    _report(reference)
    assert main(_spec(reference, name, moto_endpoint)) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "the bucket is in eu-west-1, but SageMaker would validate in us-east-1" in err
    assert "--region eu-west-1" in err
    assert _keys(moto_endpoint, name) == []


def test_submit_wait_timeout_says_the_algorithm_goes_on(
    tmp_path: Path, aws_env: None, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, "stuck")
    args = _submit(request, moto_endpoint, "--wait", "--poll-interval", "0.01", "--timeout", "0.3")
    assert main(args) == ExitCode.ENGINE_ERROR
    out, err = capsys.readouterr()
    assert "created arn:" in out
    assert "SageMaker goes on validating it" in err
    assert "describe-algorithm --algorithm-name stuck-" in err
    assert err.strip().splitlines()[-1].startswith("harness: error: ")


def test_spec_refuses_a_report_with_numbers_json_does_not_allow(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(reference)
    report.write_text(report.read_text().replace('"duration_s": 250.0', '"duration_s": NaN'))
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "NaN is not a number JSON allows" in err


def test_spec_checks_every_key_before_the_first_upload(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    deep = reference / "data" / "batch"
    for _ in range(5):
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    (deep / "x.csv").write_text("1\n")  # the transform input: uploaded last
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert "S3 key longer than 1024 bytes" in err
    assert _keys(moto_endpoint, bucket) == []


def test_spec_refuses_an_out_that_is_a_folder_before_uploading(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(reference)
    args = _spec(reference, bucket, moto_endpoint)
    args[args.index("--out") + 1] = str(reference / "data")
    assert main(args) == ExitCode.USAGE_ERROR
    assert "cannot write the request here" in capsys.readouterr().err
    assert _keys(moto_endpoint, bucket) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--endpoint-url", "notaurl", "not a usable endpoint URL"),
        ("--region", "us east", "is not an AWS region name"),
    ],
)
def test_submit_bad_endpoint_or_region_is_a_usage_error(
    tmp_path: Path,
    aws_env: None,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    args = ["submit", str(_request(tmp_path, "bad")), option, value]
    assert main(args) == ExitCode.USAGE_ERROR
    _, err = capsys.readouterr()
    assert message in err
    assert "internal error" not in err


def test_spec_refuses_data_changed_since_the_run(
    reference: Path, bucket: str, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.plan import ChannelPlan
    from harness.sagemaker.channels import data_digest, list_channel

    def digest(folder: str) -> str:
        path = reference / "data" / folder
        return data_digest(list_channel(ChannelPlan(folder, path)).files)

    report_file = _report(reference)
    report = json.loads(report_file.read_text())
    report["runs"][0]["training"]["data_sha256"] = {
        "training": digest("training"),
        "validation": digest("validation"),
    }
    report["runs"][0]["transform"] = {"input_sha256": digest("batch")}
    report_file.write_text(json.dumps(report))
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.OK
    capsys.readouterr()

    with (reference / "data" / "training" / "part-0000.csv").open("a") as data:
        data.write("9,9,9\n")
    assert main(_spec(reference, bucket, moto_endpoint)) == ExitCode.CHECKS_FAILED
    _, err = capsys.readouterr()
    assert "the training data changed since the run: run it again" in err
