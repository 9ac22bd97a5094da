"""Shared by the S3 transfer tests: a bucket of each test's own on the session's moto server,
local trees written from literals, and the keys under a prefix."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.algorithm.s3_data import s3_client


@pytest.fixture
def s3(aws_env: None, moto_endpoint: str) -> Any:
    return s3_client(region="us-east-1", endpoint_url=moto_endpoint, max_attempts=1)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A bucket of this test's own (the moto server lives for the whole session)."""
    name = f"harness-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def list_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))
