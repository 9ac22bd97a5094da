"""Session fixtures for tests that need a real Docker engine: the client and fixture images.

Images are built from fixtures/ on the base image named by HARNESS_FIXTURE_BASE (built by
scripts/build-base-image.sh where Docker Hub is unreachable; `python:3.11-slim` elsewhere).
Every container a test starts carries the label `harness.test` and is removed by the test.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import docker
import pytest
import requests
import yaml
from docker.models.images import Image

from tests.support import free_port, wait_for_http

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


# --- registries on loopback ----------------------------------------------------------------


@dataclass(frozen=True)
class Registry:
    """A Debian `docker-registry` (distribution 2.8) this test session started on loopback."""

    host: str  # 127.0.0.1:PORT
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.username and self.password else None

    @property
    def auth_config(self) -> dict[str, str] | None:
        if not self.username or not self.password:
            return None
        return {"username": self.username, "password": self.password}


def _start_registry(folder: Path, htpasswd: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {
            "filesystem": {"rootdirectory": str(folder / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if htpasswd is not None:
        config["auth"] = {"htpasswd": {"realm": "harness-test", "path": str(htpasswd)}}
    config_file = folder / "config.yml"
    config_file.write_text(yaml.safe_dump(config))
    with (folder / "registry.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config_file)], stdout=log, stderr=subprocess.STDOUT
        )
    wait_for_http(f"http://127.0.0.1:{port}/v2/", timeout=20)
    return process, f"127.0.0.1:{port}"


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    process, host = _start_registry(tmp_path_factory.mktemp("registry"), None)
    yield Registry(host)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("auth-registry")
    password = "s3cret-pass"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(f"seller:{hashed}\n")
    process, host = _start_registry(folder, htpasswd)
    yield Registry(host, "seller", password)
    process.terminate()
    process.wait(timeout=10)


# --- tiny images built FROM scratch (no base image, seconds to push) -------------------------


def build_scratch_image(
    client: docker.DockerClient,
    tag: str,
    dockerfile: str,
    files: dict[str, tuple[bytes, int]],
    symlinks: dict[str, str] | None = None,
) -> Image:
    """Build `dockerfile` with a context of `files` ({name: (content, mode)}) and `symlinks`
    ({name: target})."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, (content, mode) in {"Dockerfile": (dockerfile.encode(), 0o644), **files}.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), mode
            archive.addfile(info, io.BytesIO(content))
        for name, target in (symlinks or {}).items():
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            archive.addfile(link)
    buffer.seek(0)
    image, _ = client.images.build(
        fileobj=buffer, custom_context=True, tag=tag, rm=True, labels={TEST_LABEL: "1"}, timeout=300
    )
    return image


def push(client: docker.DockerClient, registry: Registry, repository: str, tag: str) -> str:
    """Push `registry/repository:tag` (already tagged locally); returns its manifest digest."""
    name = f"{registry.host}/{repository}"
    for line in client.images.push(
        name, tag=tag, stream=True, decode=True, auth_config=registry.auth_config
    ):
        if "error" in line:
            raise AssertionError(f"push of {name}:{tag} failed: {line['error']}")
    response = requests.head(
        f"{registry.url}/v2/{repository}/manifests/{tag}",
        auth=registry.auth,
        timeout=10,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    response.raise_for_status()
    return str(response.headers["Docker-Content-Digest"])
