"""Literal hosts for the hardware tests: no GPU, CPU or daemon of this machine is consulted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.hardware.host import GpuInfo, HostInventory

HostFactory = Callable[..., HostInventory]


def gpus(count: int, name: str = "NVIDIA A10G", memory_mib: int = 23028) -> tuple[GpuInfo, ...]:
    return tuple(GpuInfo(i, f"GPU-{i:08d}-0000", name, memory_mib) for i in range(count))


def make_host(**changes: Any) -> HostInventory:
    """A 2-CPU, 24 GiB host with Docker 20.10, runc only, no GPUs (like the CI machines)."""
    values: dict[str, Any] = {
        "logical_cpus": 2,
        "usable_cpu_ids": (0, 1),
        "memory_mib": 24105,
        "gpus": (),
        "gpu_note": "NVML: driver not loaded",
        "cgroup_version": 1,
        "docker_runtimes": ("io.containerd.runc.v2", "runc"),
        "docker_default_runtime": "runc",
        "docker_version": "20.10.24+dfsg1",
        "nvidia_runtime": False,
    }
    values.update(changes)
    return HostInventory(**values)


def make_gpu_host(count: int = 8, name: str = "NVIDIA A10G", **changes: Any) -> HostInventory:
    """A 64-CPU, 512 GiB host with `count` GPUs and Docker's nvidia runtime."""
    values: dict[str, Any] = {
        "logical_cpus": 64,
        "usable_cpu_ids": tuple(range(64)),
        "memory_mib": 512 * 1024,
        "gpus": gpus(count, name),
        "gpu_note": None,
        "docker_runtimes": ("nvidia", "runc"),
        "nvidia_runtime": True,
    }
    values.update(changes)
    return make_host(**values)


@pytest.fixture
def small_host() -> HostInventory:
    return make_host()


@pytest.fixture
def gpu_host() -> HostInventory:
    return make_gpu_host()
