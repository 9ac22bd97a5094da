from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.registry.reference import ecr_region, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("python", "docker.io", "library/python", "latest", None),
        ("python:3.11-slim", "docker.io", "library/python", "3.11-slim", None),
        ("user/app:1", "docker.io", "user/app", "1", None),
        ("127.0.0.1:5000/harness/ref:1.0", "127.0.0.1:5000", "harness/ref", "1.0", None),
        ("localhost/app", "localhost", "app", "latest", None),
        (f"ghcr.io/o/app@{DIGEST}", "ghcr.io", "o/app", None, DIGEST),
        (f"ghcr.io/o/app:2@{DIGEST}", "ghcr.io", "o/app", "2", DIGEST),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/algo:1.0",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "algo",
            "1.0",
            None,
        ),
    ],
    ids=[
        "hub-official",
        "hub-tag",
        "hub-user",
        "loopback-port",
        "localhost",
        "digest",
        "tag-and-digest",
        "ecr",
    ],
)
def test_references_parse_as_docker_does(text, registry, repository, tag, digest):
    reference = parse_reference(text)
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


def test_docker_hub_api_host_and_loopback():
    assert parse_reference("python").api_host == "registry-1.docker.io"
    assert parse_reference("127.0.0.1:5000/a").is_loopback
    assert parse_reference("localhost:5000/a").is_loopback
    assert not parse_reference("example.com:5000/a").is_loopback


def test_pinned_reference():
    reference = parse_reference("127.0.0.1:5000/a/b:1").with_digest(DIGEST)
    assert reference.pinned == f"127.0.0.1:5000/a/b@{DIGEST}"
    assert str(reference) == f"127.0.0.1:5000/a/b:1@{DIGEST}"


@pytest.mark.parametrize(
    "text",
    ["UPPER/case", "a/b:bad tag", "a@sha256:xyz", "a//b", ""],
    ids=["upper-case", "space-in-tag", "short-digest", "empty-component", "empty"],
)
def test_bad_references_are_usage_errors(text):
    with pytest.raises(UsageError, match="is not an image reference"):
        parse_reference(text)


def test_ecr_region():
    assert ecr_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "eu-west-1"
    assert ecr_region("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com") == "us-gov-west-1"
    assert ecr_region("ghcr.io") is None
