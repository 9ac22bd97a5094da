"""A serving container started as SageMaker starts one: the trained model handed off through
model.tar.gz, `docker run IMAGE serve`, and no way out.

    model.tar.gz -> extracted safely into a fresh folder -> mounted read-only at /opt/ml/model
    the container joins an internal network of its own: it reaches nothing outside, and the
    harness reaches it at its address there, port 8080 (published ports do not work on
    internal networks; each run has its own network, so runs in parallel never collide)

Everything is removed when the `serve` context ends, unless `keep` is set.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from harness.engine.containers import ContainerSpec, LineSink, Mount
from harness.engine.labels import labels
from harness.errors import DockerUnavailable
from harness.hardware.emulation import Emulation
from harness.sagemaker.artifacts import extract_model

if TYPE_CHECKING:
    from harness.engine.containers import Containers

SERVING_PORT = 8080
SERVE_SIGTERM_GRACE_SECONDS = 30  # SageMaker: SIGTERM, then SIGKILL 30 s later


@dataclass(frozen=True)
class Endpoint:
    container_id: str
    url: str
    log_path: Path


def _writer(log_file: BinaryIO) -> LineSink:
    def write(_stream: str, chunk: bytes) -> None:
        log_file.write(chunk)

    return write


class EndpointRunner:
    def __init__(
        self,
        containers: Containers,
        run_id: str,
        *,
        keep: bool = False,
        sigterm_grace: float = SERVE_SIGTERM_GRACE_SECONDS,
    ):
        self._containers = containers
        self._run_id = run_id
        self._keep = keep
        self.sigterm_grace = sigterm_grace

    @contextmanager
    def serve(
        self,
        image: str,
        model_archive: Path,
        work: Path,
        emulation: Emulation,
        *,
        name: str,
        role: str,
        environment: dict[str, str] | None = None,
    ) -> Iterator[Endpoint]:
        model = work / "model"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        extract_model(model_archive, model)
        network = f"{name}-net"
        container_id = None
        log_path = work.parent / f"{role}.log"
        log_file = log_path.open("wb")
        pumps = []
        try:
            self._containers.create_internal_network(network, labels(self._run_id, "network"))
            spec = ContainerSpec(
                image=image,
                command=("serve",),
                name=name,
                hostname=role,
                labels=labels(self._run_id, role),
                environment={**emulation.environment, **(environment or {})},
                mounts=(Mount(model, "/opt/ml/model", read_only=True),),
                network=network,
                cpuset=emulation.cpuset,
                nano_cpus=emulation.nano_cpus,
                memory_bytes=emulation.memory_bytes,
                shm_bytes=emulation.shm_bytes,
                gpu_uuids=emulation.gpu_uuids,
            )
            container_id = self._containers.create(spec)
            self._containers.start(container_id)
            pumps = self._containers.follow_output(container_id, _writer(log_file))
            address = self._containers.state(container_id).ip_addresses.get(network)
            if not address:
                raise DockerUnavailable(f"the {role} container got no address on {network}")
            yield Endpoint(container_id, f"http://{address}:{SERVING_PORT}", log_path)
        finally:
            if container_id is not None and not self._keep:
                self._containers.remove(container_id)
            for pump in pumps:
                pump.join(timeout=5)
            log_file.close()
            if not self._keep:
                self._containers.remove_network(network)
                shutil.rmtree(work, ignore_errors=True)

    def is_alive(self, endpoint: Endpoint) -> bool:
        return self._containers.state(endpoint.container_id).exit_code is None

    def stop(self, endpoint: Endpoint) -> tuple[float | None, int | None]:
        """SIGTERM, then SIGKILL after `grace`: (seconds to exit after SIGTERM or None when it
        had to be killed, exit code)."""
        grace = self.sigterm_grace
        started = time.monotonic()
        self._containers.signal(endpoint.container_id, "SIGTERM")
        code = self._containers.wait(endpoint.container_id, grace)
        if code is not None:
            return time.monotonic() - started, code
        self._containers.signal(endpoint.container_id, "SIGKILL")
        return None, self._containers.wait(endpoint.container_id, 30)
