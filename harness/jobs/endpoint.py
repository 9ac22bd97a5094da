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
    """One serving container, or several chained as an inference pipeline (in order)."""

    container_ids: tuple[str, ...]
    urls: tuple[str, ...]
    log_path: Path

    @property
    def url(self) -> str:
        """The first container's address: where a request enters the pipeline."""
        return self.urls[0]


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
        images: tuple[str, ...],
        model_archive: Path,
        work: Path,
        emulation: Emulation,
        *,
        name: str,
        role: str,
        environment: dict[str, str] | None = None,
    ) -> Iterator[Endpoint]:
        """Start `images` as one endpoint. Several images are an inference pipeline: each
        container is told its port through SAGEMAKER_BIND_TO_PORT (8080, 8081, ...), as
        SageMaker does, and every one gets the trained model read-only."""
        model = work / "model"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        extract_model(model_archive, model)
        network = f"{name}-net"
        created: list[str] = []
        log_path = work.parent / f"{role}.log"
        log_file = log_path.open("wb")
        pumps = []
        try:
            self._containers.create_internal_network(network, labels(self._run_id, "network"))
            urls = []
            for index, image in enumerate(images):
                port = SERVING_PORT + index
                extra = {"SAGEMAKER_BIND_TO_PORT": str(port)} if len(images) > 1 else {}
                spec = ContainerSpec(
                    image=image,
                    command=("serve",),
                    name=name if len(images) == 1 else f"{name}-{index}",
                    hostname=role,
                    labels=labels(self._run_id, role),
                    environment={**emulation.environment, **(environment or {}), **extra},
                    mounts=(Mount(model, "/opt/ml/model", read_only=True),),
                    network=network,
                    cpuset=emulation.cpuset,
                    nano_cpus=emulation.nano_cpus,
                    memory_bytes=emulation.memory_bytes,
                    shm_bytes=emulation.shm_bytes,
                    gpu_uuids=emulation.gpu_uuids,
                )
                container_id = self._containers.create(spec)
                created.append(container_id)
                self._containers.start(container_id)
                pumps += self._containers.follow_output(container_id, _writer(log_file))
                address = self._containers.state(container_id).ip_addresses.get(network)
                if not address:
                    raise DockerUnavailable(f"the {role} container got no address on {network}")
                urls.append(f"http://{address}:{port}")
            yield Endpoint(tuple(created), tuple(urls), log_path)
        finally:
            if not self._keep:
                for container_id in created:
                    self._containers.remove(container_id)
            for pump in pumps:
                pump.join(timeout=5)
            log_file.close()
            if not self._keep:
                self._containers.remove_network(network)
                shutil.rmtree(work, ignore_errors=True)

    def is_alive(self, endpoint: Endpoint) -> bool:
        return all(self._containers.state(c).exit_code is None for c in endpoint.container_ids)

    def stop(self, endpoint: Endpoint) -> tuple[float | None, int | None]:
        """SIGTERM to every container, then SIGKILL after the grace: (seconds until the last
        exited, or None when one had to be killed; the first non-zero exit code, else 0)."""
        grace = self.sigterm_grace
        started = time.monotonic()
        for container_id in endpoint.container_ids:
            self._containers.signal(container_id, "SIGTERM")
        codes: list[int | None] = []
        killed = False
        for container_id in endpoint.container_ids:
            remaining = max(1.0, grace - (time.monotonic() - started))
            code = self._containers.wait(container_id, remaining)
            if code is None:
                killed = True
                self._containers.signal(container_id, "SIGKILL")
                code = self._containers.wait(container_id, 30)
            codes.append(code)
        exit_code = next((c for c in codes if c), codes[0] if codes else None)
        return (None if killed else time.monotonic() - started), exit_code
