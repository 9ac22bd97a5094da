"""A Docker daemon that goes away: every public engine method raises DockerUnavailable (the
DockerLost kind), never a `requests` exception the callers do not expect. No daemon needed."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
import urllib3

from harness.engine.boundary import DockerLost, connection_reason
from harness.engine.containers import Containers, ContainerSpec
from harness.engine.docker_engine import DockerEngine
from harness.errors import DockerUnavailable, ExitCode
from harness.registry.client import RegistryCredentials

SPEC = ContainerSpec(image="i", command=("train",), name="n", hostname="algo-1", labels={})

ENGINE_CALLS: dict[str, Callable[[DockerEngine], Any]] = {
    "version": lambda e: e.version(),
    "info": lambda e: e.info(),
    "local_image": lambda e: e.local_image("reg/a@sha256:" + "a" * 64),
    "pull": lambda e: e.pull("reg/a", "sha256:" + "a" * 64, RegistryCredentials("u", "p")),
    "inert_container": lambda e: e.inert_container("reg/a", "run1").__enter__(),
    "file_in_container": lambda e: e.file_in_container("c0ffee", "/usr/bin/train"),
}
CONTAINER_CALLS: dict[str, Callable[[Containers], Any]] = {
    "create_internal_network": lambda c: c.create_internal_network("net", {}),
    "remove_network": lambda c: c.remove_network("net"),
    "create": lambda c: c.create(SPEC),
    "start": lambda c: c.start("c0ffee"),
    "state": lambda c: c.state("c0ffee"),
    "signal": lambda c: c.signal("c0ffee", "SIGTERM"),
    "remove": lambda c: c.remove("c0ffee"),
    "sweep": lambda c: c.sweep("run1"),
}
NOT_RAISING = {
    "close",  # closes the client's sessions: no request
    "containers",  # a view, no request
    "wait",  # None (see its docstring): callers wait in threads
    "follow_output",  # its threads read; they end quietly
    "connect",  # a classmethod with its own translation (test below)
}


def _public(cls: type) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("_")}


def test_the_tables_name_every_public_method():
    assert _public(DockerEngine) == set(ENGINE_CALLS) | {"close", "containers", "connect"}
    assert _public(Containers) == set(CONTAINER_CALLS) | {"wait", "follow_output"}


class _Dead:
    """A DockerClient whose every request fails as docker-py fails on a vanished socket."""

    def __getattr__(self, _name: str) -> _Dead:
        return self

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        raise requests.exceptions.ConnectionError(
            urllib3.exceptions.ProtocolError(
                "Connection aborted.", FileNotFoundError(2, "No such file or directory")
            )
        )


@pytest.mark.parametrize("name", sorted(ENGINE_CALLS))
def test_engine_methods_translate_a_lost_connection(name):
    engine = DockerEngine(_Dead())  # type: ignore[arg-type]
    with pytest.raises(DockerLost) as caught:
        ENGINE_CALLS[name](engine)
    assert caught.value.exit_code == ExitCode.ENGINE_ERROR
    assert "the Docker daemon does not answer" in caught.value.one_line()


@pytest.mark.parametrize("name", sorted(CONTAINER_CALLS))
def test_container_methods_translate_a_lost_connection(name):
    with pytest.raises(DockerLost):
        CONTAINER_CALLS[name](Containers(_Dead()))  # type: ignore[arg-type]


def test_an_unexpected_docker_exception_is_docker_unavailable():
    class Broken(_Dead):
        def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
            raise docker.errors.DockerException("Error while fetching server API version")

    with pytest.raises(DockerUnavailable, match="server API version"):
        Containers(Broken()).state("c0ffee")  # type: ignore[arg-type]


def test_connection_reason_finds_the_root_cause():
    refused = ConnectionRefusedError(111, "Connection refused")
    wrapper = RuntimeError("HTTPConnection(host='x') <object at 0x7f00deadbeef> failed")
    wrapper.__cause__ = refused
    assert connection_reason(requests.exceptions.ConnectionError(wrapper)) == "Connection refused"
    assert connection_reason(RuntimeError("a <thing at 0x7f00aa> b\nmore")) == "a <thing> b"


@pytest.fixture
def dead_client() -> Iterator[docker.DockerClient]:
    """A real docker-py client of a TCP port nothing listens on (refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{port}", version="1.41", timeout=5)
    yield client
    client.close()


def test_a_real_client_of_a_dead_daemon_raises_docker_unavailable(dead_client):
    engine = DockerEngine(dead_client)
    for call in (
        lambda: engine.info(),
        lambda: engine.local_image("reg/a:1"),
        lambda: engine.containers.state("c0ffee"),
        lambda: engine.containers.create(SPEC),
        lambda: engine.containers.sweep("run1"),
    ):
        with pytest.raises(DockerLost, match="Connection refused"):
            call()
    assert engine.containers.wait("c0ffee", 1) is None


def test_connect_to_a_dead_daemon_is_docker_unavailable(monkeypatch, tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    with pytest.raises(DockerUnavailable, match="no Docker daemon answers"):
        DockerEngine.connect(timeout=5)
