"""Containers and networks through the Docker SDK: create, start, watch, signal, sweep.

The harness runs containers detached and waits on them with bounds; a foreground run that
hangs would hang the harness. Everything created carries the run's labels, so an interrupted
run and `harness clean` can find and remove it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import requests

from harness.engine.boundary import LOST_CONNECTION, daemon_call
from harness.engine.labels import PREFIX, RUN_ID
from harness.engine.messages import short_message as _short
from harness.errors import DockerUnavailable, EngineError

# Docker's message when --gpus is asked of a daemon without the NVIDIA runtime.
NO_GPU_DRIVER = 'could not select device driver ""'


class GpusUnavailable(EngineError):
    """The daemon cannot hand GPUs to containers (no NVIDIA Container Toolkit)."""


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """Everything about one container the harness starts, as plain data."""

    image: str
    command: tuple[str, ...]
    name: str
    hostname: str
    labels: dict[str, str]
    environment: dict[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    network: str | None = None
    """None: no network at all (`--network none`); else a network's name."""
    aliases: tuple[str, ...] = ()
    extra_hosts: dict[str, str] = field(default_factory=dict)
    cpuset: str | None = None
    nano_cpus: int | None = None
    memory_bytes: int | None = None
    shm_bytes: int | None = None
    gpu_uuids: tuple[str, ...] = ()
    published_ports: dict[int, int | None] = field(default_factory=dict)
    """container port -> host port on 127.0.0.1 (None: any free port)."""
    dns_options: tuple[str, ...] = ()

    def to_create_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": list(self.command),
            "name": self.name,
            "hostname": self.hostname,
            "labels": self.labels,
            "environment": self.environment,
            "detach": True,
            "volumes": {
                str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                for m in self.mounts
            },
            "extra_hosts": self.extra_hosts or None,
            "network": self.network if self.network else None,
            "network_mode": None if self.network else "none",
            "ports": {
                f"{port}/tcp": ("127.0.0.1", host) for port, host in self.published_ports.items()
            }
            or None,
        }
        if self.dns_options:
            kwargs["dns_opt"] = list(self.dns_options)
        if self.cpuset:
            kwargs["cpuset_cpus"] = self.cpuset
        if self.nano_cpus:
            kwargs["nano_cpus"] = self.nano_cpus
        if self.memory_bytes:
            # memswap == memory: no swap, as on a SageMaker instance.
            kwargs["mem_limit"] = self.memory_bytes
            kwargs["memswap_limit"] = self.memory_bytes
        if self.shm_bytes:
            kwargs["shm_size"] = self.shm_bytes
        if self.gpu_uuids:
            kwargs["device_requests"] = [
                docker.types.DeviceRequest(device_ids=list(self.gpu_uuids), capabilities=[["gpu"]])
            ]
        return {key: value for key, value in kwargs.items() if value is not None}


@dataclass(frozen=True)
class ContainerState:
    status: str
    exit_code: int | None
    oom_killed: bool
    pid: int
    error: str
    ip_addresses: dict[str, str]
    host_ports: dict[int, int]


LineSink = Callable[[str, bytes], None]
"""Receives (stream name "stdout"|"stderr", raw bytes chunk) as the container writes them."""


class Containers:
    """Containers and networks of one Docker daemon (see `DockerEngine.containers`)."""

    def __init__(self, client: docker.DockerClient):
        self._client = client

    # -- networks ----------------------------------------------------------------------------

    @daemon_call("create a network")
    def create_internal_network(self, name: str, labels: dict[str, str]) -> None:
        """A bridge network without a gateway to the outside: peers reach each other by name,
        nothing else is reachable, and the host can still reach the containers' addresses."""
        try:
            self._client.networks.create(
                name, driver="bridge", internal=True, labels=labels, check_duplicate=True
            )
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot create network {name}: {_short(exc)}") from None

    @daemon_call("remove a network")
    def remove_network(self, name: str) -> None:
        try:
            self._client.networks.get(name).remove()
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot remove network {name}: {_short(exc)}") from None

    # -- containers --------------------------------------------------------------------------

    @daemon_call("create a container")
    def create(self, spec: ContainerSpec) -> str:
        kwargs = spec.to_create_kwargs()
        try:
            container = self._client.containers.create(**kwargs)
            if spec.network and spec.aliases:
                # Aliases make `algo-2` resolve on the network; create() cannot set them.
                network = self._client.networks.get(spec.network)
                network.disconnect(container)
                network.connect(container, aliases=list(spec.aliases))
        except docker.errors.ImageNotFound as exc:
            raise DockerUnavailable(f"image {spec.image} is not present: {_short(exc)}") from None
        except docker.errors.APIError as exc:
            raise _translate(exc, spec) from None
        return str(container.id)

    @daemon_call("start a container")
    def start(self, container_id: str) -> None:
        try:
            self._client.api.start(container_id)
        except docker.errors.APIError as exc:
            raise _translate(exc, None) from None

    @daemon_call("inspect a container")
    def state(self, container_id: str) -> ContainerState:
        try:
            attrs = self._client.api.inspect_container(container_id)
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot inspect container: {_short(exc)}") from None
        state = attrs.get("State") or {}
        networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
        ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
        host_ports = {}
        for key, bindings in ports.items():
            if bindings:
                host_ports[int(key.split("/")[0])] = int(bindings[0]["HostPort"])
        running = state.get("Running") or state.get("Status") in ("created", "restarting")
        return ContainerState(
            status=str(state.get("Status", "")),
            exit_code=None if running else int(state.get("ExitCode", 0)),
            oom_killed=bool(state.get("OOMKilled")),
            pid=int(state.get("Pid") or 0),
            error=str(state.get("Error") or ""),
            ip_addresses={name: str(n.get("IPAddress") or "") for name, n in networks.items()},
            host_ports=host_ports,
        )

    def wait(self, container_id: str, timeout: float) -> int | None:
        """The exit code, or None when the container still runs after `timeout` seconds, or
        when the daemon stopped answering.

        Not a daemon_call, on purpose: docker-py reports a timed-out wait as a ConnectionError
        too, so the two cannot be told apart here; and callers wait in threads of their own,
        where an exception would only end the thread. The caller's next call (signal, state,
        remove) runs in its main thread and raises DockerLost there."""
        try:
            # The daemon answers the moment the container exits; the timeout only bounds it.
            result = self._client.api.wait(container_id, timeout=max(1, math.ceil(timeout)))
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            return None
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot wait for container: {_short(exc)}") from None
        except LOST_CONNECTION:
            return None
        return int(result.get("StatusCode", -1))

    @daemon_call("signal a container")
    def signal(self, container_id: str, signal_name: str) -> None:
        try:
            self._client.api.kill(container_id, signal=signal_name)
        except docker.errors.APIError as exc:
            # A container that already exited cannot be signalled: that is no error here.
            if "is not running" not in str(exc):
                raise DockerUnavailable(f"cannot send {signal_name}: {_short(exc)}") from None

    @daemon_call("remove a container")
    def remove(self, container_id: str) -> None:
        try:
            self._client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot remove container: {_short(exc)}") from None

    def follow_output(self, container_id: str, sink: LineSink) -> list[threading.Thread]:
        """Stream the container's stdout and stderr (from its start) into `sink`, one thread
        per stream; the threads end when the container does (join them before using the
        output)."""

        def pump(stream_name: str) -> None:
            try:
                stream = self._client.api.logs(
                    container_id,
                    stdout=stream_name == "stdout",
                    stderr=stream_name == "stderr",
                    stream=True,
                    follow=True,
                )
            except LOST_CONNECTION:  # APIError included (a DockerException)
                return  # a thread has nobody to raise to: the caller's next call says why
            try:
                for chunk in stream:
                    sink(stream_name, chunk)
            except (docker.errors.APIError, requests.exceptions.RequestException, OSError):
                pass  # the daemon dropped the stream: what arrived is kept
            finally:
                stream.close()  # releases the connection to the daemon

        threads = [
            threading.Thread(
                target=pump, args=(name,), daemon=True, name=f"{name}-{container_id[:12]}"
            )
            for name in ("stdout", "stderr")
        ]
        for thread in threads:
            thread.start()
        return threads

    # -- sweeping ----------------------------------------------------------------------------

    @daemon_call("sweep the run's containers and networks")
    def sweep(self, run_id: str | None = None) -> tuple[int, int]:
        """Remove every container and network labelled by the harness (or by one run).
        Returns (containers, networks) removed."""
        label = f"{RUN_ID}={run_id}" if run_id else RUN_ID
        try:
            containers = self._client.containers.list(all=True, filters={"label": label})
            for container in containers:
                with suppress(docker.errors.NotFound):
                    container.remove(force=True, v=True)
            networks = self._client.networks.list(filters={"label": label})
            for network in networks:
                with suppress(docker.errors.NotFound):
                    network.remove()
        except docker.errors.APIError as exc:
            raise DockerUnavailable(f"cannot sweep {PREFIX} resources: {_short(exc)}") from None
        return len(containers), len(networks)


def _translate(exc: docker.errors.APIError, spec: ContainerSpec | None) -> EngineError:
    text = _short(exc)
    if NO_GPU_DRIVER in text or "capabilities: [[gpu]]" in text:
        return GpusUnavailable(
            f"Docker cannot give GPUs to containers here (no NVIDIA Container Toolkit): {text}"
        )
    where = spec.name if spec else None
    return DockerUnavailable(f"Docker refused the container: {text}", where=where)
