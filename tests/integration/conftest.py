"""Session fixtures for tests that need a real Docker engine: the client and fixture images.

Images are built from fixtures/ on the base image named by HARNESS_FIXTURE_BASE (built by
scripts/build-base-image.sh where Docker Hub is unreachable; `python:3.11-slim` elsewhere).
Every container a test starts carries the label `harness.test` and is removed by the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.images import Image

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
TEST_LABEL = "harness.test"


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    name = os.environ.get("HARNESS_FIXTURE_BASE", "harness-fixture-base:bookworm")
    try:
        docker_client.images.get(name)
    except docker.errors.ImageNotFound:
        pytest.fail(
            f"base image {name} is missing: run scripts/build-base-image.sh "
            "(or set HARNESS_FIXTURE_BASE=python:3.11-slim where Docker Hub is reachable)"
        )
    return name


def build_fixture_image(client: docker.DockerClient, base: str, folder: Path, tag: str) -> Image:
    image, _logs = client.images.build(
        path=str(folder),
        tag=tag,
        buildargs={"BASE_IMAGE": base},
        rm=True,
        forcerm=True,
        labels={TEST_LABEL: "1"},
        timeout=600,
    )
    return image


@pytest.fixture(scope="session")
def reference_image(docker_client: docker.DockerClient, base_image: str) -> str:
    tag = "harness-test/reference-algorithm:dev"
    build_fixture_image(docker_client, base_image, FIXTURES / "algorithms/reference", tag)
    return tag
