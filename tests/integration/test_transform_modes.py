"""Batch transform split types, strategies, payload limits and concurrency against a container
that echoes each request: the .out files show exactly what the harness sent, and in which
order."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ExitCode
from harness.sagemaker.recordio import encode_record
from harness.sagemaker.transform_records import encode_tfrecord

from .test_run import harness_run, published, result

pytestmark = pytest.mark.docker
__all__ = ["published"]

PLAN = """\
algorithm: algorithm.json
profiles:
  - name: {name}
    instance_types: [ml.m5.large]
    training:
      channels:
        training: {{path: ../reference/data/training, content_type: text/csv}}
    transform:
      input: {input}
      content_type: {content_type}
      split_type: {split}
      batch_strategy: {strategy}
      max_payload_mb: {payload_mb}
      max_concurrent_transforms: {concurrency}
      accept: {content_type}
      assemble_with: {assemble}
      compression: {compression}
"""

PAYLOADS = [f"record-{i:03d}-".encode() * (i % 7 + 1) for i in range(40)]


def write_inputs(folder: Path, name: str, encode) -> list[bytes]:
    folder.mkdir(parents=True)
    files = []
    for part, records in enumerate((PAYLOADS[:25], PAYLOADS[25:])):
        data = b"".join(encode(r) for r in records)
        (folder / f"part-{part}.bin").write_bytes(data)
        files.append(data)
    return files


@pytest.mark.parametrize(
    ("split", "strategy", "encode", "expect"),
    [
        ("RecordIO", "SingleRecord", encode_record, "payloads"),
        ("RecordIO", "MultiRecord", encode_record, "input"),
        ("TFRecord", "SingleRecord", encode_tfrecord, "payloads"),
        ("TFRecord", "MultiRecord", encode_tfrecord, "input"),
    ],
    ids=["recordio-single", "recordio-multi", "tfrecord-single", "tfrecord-multi"],
)
def test_binary_records_are_split_and_batched(
    published, tmp_path, capsys, split, strategy, encode, expect
):
    folder = published("echo").parent
    name = f"{split}-{strategy}".lower()
    inputs = write_inputs(folder / f"inputs-{name}", name, encode)
    plan = folder / f"{name}.yaml"
    plan.write_text(
        PLAN.format(
            name=name,
            input=f"inputs-{name}",
            content_type="application/octet-stream",
            split=split,
            strategy=strategy,
            payload_mb=6,
            concurrency=2,
            assemble="None",
            compression="None",
        )
    )
    out = tmp_path / "report"
    code, report = harness_run(capsys, plan, out, "--only", "TRANSFORM-OUTPUT")
    assert result(report, "TRANSFORM-OUTPUT")["status"] == "pass"
    assert code == ExitCode.OK
    outputs = out / name / "ml.m5.large" / "transform"
    for part, (data, records) in enumerate(
        zip(inputs, (PAYLOADS[:25], PAYLOADS[25:]), strict=True)
    ):
        written = (outputs / f"part-{part}.bin.out").read_bytes()
        # SingleRecord sends each record without its framing; MultiRecord keeps the framing.
        assert written == (b"".join(records) if expect == "payloads" else data)
    transform = report["runs"][0]["transform"]
    assert transform["records"] == 40
    assert transform["requests"] == (40 if strategy == "SingleRecord" else 2)


def test_concurrent_single_records_keep_their_order(published, tmp_path, capsys):
    folder = published("echo").parent
    lines = [f"{i},{i * 2}\n".encode() for i in range(300)]
    source = folder / "lines.csv"
    source.write_bytes(b"".join(lines))
    plan = folder / "concurrent.yaml"
    plan.write_text(
        PLAN.format(
            name="concurrent",
            input="lines.csv",
            content_type="text/csv",
            split="Line",
            strategy="SingleRecord",
            payload_mb=6,
            concurrency=8,
            assemble="Line",
            compression="None",
        )
    )
    out = tmp_path / "report"
    code, report = harness_run(capsys, plan, out, "--only", "TRANSFORM-OUTPUT")
    assert code == ExitCode.OK, report["checks"]
    written = (out / "concurrent" / "ml.m5.large" / "transform" / "lines.csv.out").read_bytes()
    assert written == b"".join(lines)  # 300 requests, 8 in flight, assembled in input order
    assert report["runs"][0]["transform"]["settings"]["max_concurrent_transforms"] == [8, "plan"]


def test_payload_zero_sends_each_object_whole_with_chunked_encoding(published, tmp_path, capsys):
    folder = published("echo").parent
    data = b"".join(f"{i}\n".encode() for i in range(1000))
    (folder / "whole.csv").write_bytes(data)
    plan = folder / "chunked.yaml"
    plan.write_text(
        PLAN.format(
            name="chunked",
            input="whole.csv",
            content_type="text/csv",
            split="None",
            strategy="MultiRecord",
            payload_mb=0,
            concurrency=1,
            assemble="None",
            compression="None",
        )
    )
    out = tmp_path / "report"
    code, report = harness_run(capsys, plan, out, "--only", "TRANSFORM-OUTPUT")
    assert code == ExitCode.OK, report["checks"]
    written = (out / "chunked" / "ml.m5.large" / "transform" / "whole.csv.out").read_bytes()
    assert written == data
    assert report["runs"][0]["transform"]["requests"] == 1


def test_gzip_objects_are_decompressed_before_splitting(published, tmp_path, capsys):
    import gzip

    folder = published("echo").parent
    lines = [f"{i},{i % 3}\n".encode() for i in range(120)]
    inputs = folder / "gzipped"
    inputs.mkdir()
    (inputs / "part.csv.gz").write_bytes(gzip.compress(b"".join(lines)))
    plan = folder / "gzip.yaml"
    plan.write_text(
        PLAN.format(
            name="gzip",
            input="gzipped",
            content_type="text/csv",
            split="Line",
            strategy="MultiRecord",
            payload_mb=6,
            concurrency=1,
            assemble="Line",
            compression="Gzip",
        )
    )
    out = tmp_path / "report"
    code, report = harness_run(capsys, plan, out, "--only", "TRANSFORM-OUTPUT")
    assert code == ExitCode.OK, report["checks"]
    written = (out / "gzip" / "ml.m5.large" / "transform" / "part.csv.gz.out").read_bytes()
    assert written == b"".join(lines)
    assert report["runs"][0]["transform"]["records"] == 120
