"""Test-wide options: `--require-docker` turns a missing daemon into a failure instead of a skip."""

from __future__ import annotations

import os
from collections.abc import Iterator

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
    from pathlib import Path

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
