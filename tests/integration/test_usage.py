"""Usage sampling through the real cgroup of a real container, and emulation limits applied.

The sampler reads /proc and /sys/fs/cgroup of this machine, so these tests need the Docker
daemon to be local (the CI machines: cgroup v1, cgroupfs driver, running as root).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from harness.hardware.catalogue import lookup_instance_type
from harness.hardware.emulation import Fidelity, plan_emulation
from harness.hardware.host import take_inventory
from harness.hardware.nvml import RecordedNvml
from harness.hardware.usage import UsageSampler

from .conftest import TEST_LABEL

pytestmark = pytest.mark.docker

MIB = 2**20

# Touch 200 MiB (every page written), burn ~1.2 s of CPU, then idle so the sampler reads the
# cgroup once more before the container exits and Docker removes it.
ALLOCATE_AND_BURN = """\
import time
data = bytearray(b"x") * (200 * 2**20)
end = time.process_time() + 1.2
while time.process_time() < end:
    pass
time.sleep(1.5)
print(len(data))
"""


@contextmanager
def started(
    client: docker.DockerClient, image: str, command: list[str], **options: Any
) -> Iterator[Container]:
    container = client.containers.run(
        image, command, detach=True, network_disabled=True, labels={TEST_LABEL: "1"}, **options
    )
    try:
        yield container
    finally:
        container.remove(force=True)


def test_sampler_reads_a_real_container(docker_client, base_image):
    with started(
        docker_client,
        base_image,
        ["python3", "-c", ALLOCATE_AND_BURN],
        mem_limit="512m",
        memswap_limit="512m",
    ) as container:
        container.reload()
        pid = int(container.attrs["State"]["Pid"])
        assert pid > 0, "the container exited before it could be sampled"
        sampler = UsageSampler(pid, interval=0.1)
        sampler.start()
        try:
            result = container.wait(timeout=60)
        finally:
            summary = sampler.stop(timeout=10)
        logs = container.logs().decode()
    assert result["StatusCode"] == 0, logs
    assert summary.note is None, summary.note
    assert summary.peak_memory_bytes is not None
    assert summary.peak_memory_bytes >= 150 * 10**6
    assert summary.cpu_seconds is not None
    assert summary.cpu_seconds > 0.5
    assert summary.memory_limit_bytes == 512 * MIB
    assert summary.oom_kills == 0
    assert len(summary.samples) >= 5
    assert max(s.memory_bytes for s in summary.samples) <= summary.peak_memory_bytes
    assert summary.gpu is None
    json.dumps(summary.to_dict())  # report.json must be able to hold it


def test_an_emulation_plan_is_what_the_container_gets(docker_client, base_image):
    host = take_inventory(docker_client.info(), nvml=RecordedNvml())
    emulation = plan_emulation(lookup_instance_type("ml.m5.large"), host)
    if emulation.fidelity is not Fidelity.EXACT:
        pytest.skip(f"this host cannot hold ml.m5.large exactly: {emulation.reasons}")
    probe = (
        "import json, os\n"
        "s = os.statvfs('/dev/shm')\n"
        "print(json.dumps({'cpus': sorted(os.sched_getaffinity(0)), "
        "'shm': s.f_blocks * s.f_frsize, 'gpus': os.environ.get('NVIDIA_VISIBLE_DEVICES')}))\n"
        "import time; time.sleep(1)\n"
    )
    with started(
        docker_client,
        base_image,
        ["python3", "-c", probe],
        environment=emulation.environment,
        **emulation.docker_limits(),
    ) as container:
        container.reload()
        sampler = UsageSampler(int(container.attrs["State"]["Pid"]), interval=0.2)
        sampler.start()
        try:
            result = container.wait(timeout=60)
        finally:
            summary = sampler.stop(timeout=10)
        seen = json.loads(container.logs().decode().strip().splitlines()[-1])
    assert result["StatusCode"] == 0
    assert seen == {
        "cpus": list(host.usable_cpu_ids[:2]),
        "shm": emulation.shm_bytes,
        "gpus": "void",
    }
    assert summary.memory_limit_bytes == emulation.memory_bytes == 8 * 2**30
