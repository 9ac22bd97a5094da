"""`harness spec`'s S3 upload (s3_data.upload_tree) against a plain boto3 loop, in one run.

The server is moto on 127.0.0.1, in its own process. Two data sets: 200 small files of 4 KiB
and 4 files of 24 MiB (multipart: threshold and part size 8 MiB). Baseline: what a seller's
script does, `client.upload_file` for every file with the same TransferConfig. The harness also
hashes every file (MD5, SHA-256, multipart ETag) and sends its SHA-256 as metadata: the first
ratio says what that costs. Uploading the same data again, the harness lists the prefix, hashes
and skips; the baseline sends everything again: the second ratio says what skipping saves.
Over loopback there is no network to save, so on real S3 the skip is worth far more.
Times are the best of 3 runs; every harness first upload goes to a fresh prefix.
Run: .venv/bin/python bench/bench_s3.py
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from harness.algorithm import s3_data

# The benches share the tests' loopback helpers: the repository root is importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support import free_port, wait_for_http

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
THRESHOLD = 8 * MIB
REPEAT = 3
DATA_SETS = (("small", 200, 4 * 1024), ("large", 4, 24 * MIB))
T = TypeVar("T")


def aws_environment(folder: Path) -> None:
    """Fake credentials only: no profile, config file or endpoint of this machine's user."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(folder / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(folder / "no-credentials"),
    )


def make_data(root: Path) -> dict[str, tuple[Path, int, int]]:
    """{name: (folder, files, bytes)}; random bytes, so nothing compresses or dedupes."""
    out = {}
    for name, count, size in DATA_SETS:
        folder = root / name
        folder.mkdir()
        for i in range(count):
            (folder / f"part-{i:04d}.bin").write_bytes(os.urandom(size))
        out[name] = (folder, count, count * size)
    return out


def best(function: Callable[[int], T], repeat: int = REPEAT) -> tuple[T, float]:
    """The last result and the best wall-clock time; `function` gets the attempt's number."""
    fastest, result = math.inf, None
    for attempt in range(repeat):
        start = time.perf_counter()
        result = function(attempt)
        fastest = min(fastest, time.perf_counter() - start)
    assert result is not None
    return result, fastest


def baseline_upload(client: S3Client, folder: Path, bucket: str, prefix: str) -> int:
    """A seller's script: every file, one `upload_file` each, same TransferConfig."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=THRESHOLD, multipart_chunksize=THRESHOLD, max_concurrency=4
    )
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    for path in files:
        key = f"{prefix}{path.relative_to(folder).as_posix()}"
        client.upload_file(str(path), bucket, key, Config=config)
    return len(files)


def digest_all(folder: Path) -> int:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    for path in files:
        s3_data.file_digest(path, multipart_threshold=THRESHOLD, multipart_chunksize=THRESHOLD)
    return len(files)


def rate(size: int, count: int, seconds: float) -> str:
    return (
        f"{seconds * 1000:7.1f} ms {size / 1e6 / seconds:6.1f} MB/s {count / seconds:6.0f} files/s"
    )


def bench_set(
    name: str, folder: Path, count: int, size: int, harness: S3Client, plain: S3Client, bucket: str
) -> None:
    run = uuid.uuid4().hex[:6]
    uri = f"s3://{bucket}/harness-{run}/{name}"

    def harness_first(attempt: int) -> s3_data.UploadResult:
        return s3_data.upload_tree(
            harness, folder, f"{uri}-{attempt}", multipart_threshold=THRESHOLD
        )

    first, harness_s = best(harness_first)
    assert (len(first.uploaded), len(first.skipped)) == (count, 0), first
    prefix = f"baseline-{run}/{name}"
    sent, baseline_s = best(lambda n: baseline_upload(plain, folder, bucket, f"{prefix}-{n}/"))
    assert sent == count
    # Unchanged data: the harness skips every file; the baseline sends them all again.
    again, skip_s = best(
        lambda _: s3_data.upload_tree(harness, folder, f"{uri}-0", multipart_threshold=THRESHOLD)
    )
    assert (len(again.skipped), len(again.uploaded)) == (count, 0), again
    _, resend_s = best(lambda _: baseline_upload(plain, folder, bucket, f"{prefix}-0/"))
    _, digest_s = best(lambda _: digest_all(folder))

    each = size // count
    each_text = f"{each // MIB} MiB" if each >= MIB else f"{each // 1024} KiB"
    print(f"{name}: {count} files of {each_text}, {size / 1e6:.1f} MB")
    print(f"  boto3 upload_file loop (baseline):  {rate(size, count, baseline_s)}")
    print(
        f"  harness upload_tree, first upload:  {rate(size, count, harness_s)}  "
        f"({harness_s / baseline_s:.2f}x the baseline's time)"
    )
    print(f"  boto3 loop again, sends everything: {rate(size, count, resend_s)}")
    print(
        f"  harness upload_tree, unchanged:     {rate(size, count, skip_s)}  "
        f"({skip_s / resend_s:.2f}x the baseline's; {count} skipped)"
    )
    print(
        f"  file_digest alone (md5+sha256+ETag): {rate(size, count, digest_s)}  "
        f"({digest_s / skip_s:.0%} of the unchanged upload)"
    )


def main() -> None:
    import boto3

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        aws_environment(root)
        data = make_data(root)
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_http(f"{endpoint}/moto-api/")
            harness = s3_data.s3_client(endpoint_url=endpoint)
            plain = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            bucket = f"bench-{uuid.uuid4().hex[:12]}"
            plain.create_bucket(Bucket=bucket)
            print(f"moto {endpoint}; best of {REPEAT}; multipart threshold and part 8 MiB")
            for name, (folder, count, size) in data.items():
                bench_set(name, folder, count, size, harness, plain, bucket)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
