"""Test-wide options: `--require-docker` turns a missing daemon into a failure instead of a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port, wait_for_http


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-docker",
        action="store_true",
        default=os.environ.get("CI") == "true",
        help="fail (instead of skip) the docker-marked tests when no Docker daemon answers; "
        "on by default when CI=true",
    )


def _docker_answers() -> str | None:
    """None when a daemon answers a ping, else why not."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_items = [item for item in items if item.get_closest_marker("docker")]
    if not docker_items:
        return
    problem = _docker_answers()
    if problem is None:
        return
    if config.getoption("--require-docker"):
        raise pytest.UsageError(f"--require-docker: no Docker daemon answers ({problem})")
    skip = pytest.mark.skip(reason=f"no Docker daemon answers ({problem})")
    for item in docker_items:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server in its own process on loopback: AWS APIs over real HTTP.

    Stock moto plus SageMaker's CreateAlgorithm/DescribeAlgorithm/DeleteAlgorithm, which moto
    lacks (tests/moto_algorithms.py).
    """
    import subprocess
    import sys

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_algorithms", "-H", "127.0.0.1", "-p", str(port)],
        cwd=Path(__file__).resolve().parents[1],  # where `tests` is importable
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/moto-api/")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, region us-east-1, and nothing from this machine's AWS set-up (its
    profiles, config files, endpoints or an instance role) reaching boto3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_SAGEMAKER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
