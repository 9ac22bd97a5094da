"""What this host offers containers: CPUs, memory, GPUs (through NVML) and the Docker engine.

`take_inventory` reads the machine; everything it reads can be injected, so tests build a
HostInventory from literal values and `plan_emulation` (emulation.py) stays a pure function.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.hardware.nvml import NvmlApi, load_nvml, nvml_error_text, text_of

MIB = 2**20
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class GpuInfo:
    index: int
    """NVML's index (PCI bus order; CUDA's default order may differ: use the UUID)."""
    uuid: str
    name: str
    memory_total_mib: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "uuid": self.uuid,
            "name": self.name,
            "memory_total_mib": self.memory_total_mib,
        }


@dataclass(frozen=True)
class HostInventory:
    """The host as containers see it.

    `docker_version` is None when no Docker daemon answered; `gpu_note` says why there are no
    GPUs (or which ones NVML could not read).
    """

    logical_cpus: int
    usable_cpu_ids: tuple[int, ...]
    """The CPUs this process may run on (its affinity): what a cpuset can pin."""
    memory_mib: int
    gpus: tuple[GpuInfo, ...]
    gpu_note: str | None
    cgroup_version: int
    docker_runtimes: tuple[str, ...]
    docker_default_runtime: str | None
    docker_version: str | None
    nvidia_runtime: bool
    """Docker can hand GPUs to containers: an `nvidia` runtime is registered or the default."""

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * MIB

    def to_dict(self) -> dict[str, Any]:
        """The `host` object of report.json and `harness doctor --format json`."""
        return {
            "cpus": self.logical_cpus,
            "usable_cpu_ids": list(self.usable_cpu_ids),
            "memory_mib": self.memory_mib,
            "gpus": [gpu.to_dict() for gpu in self.gpus],
            "gpu_note": self.gpu_note,
            "cgroup_version": self.cgroup_version,
            "docker": {
                "version": self.docker_version,
                "runtimes": list(self.docker_runtimes),
                "default_runtime": self.docker_default_runtime,
                "nvidia_runtime": self.nvidia_runtime,
            },
        }


def take_inventory(
    docker_info: Mapping[str, Any] | None,
    *,
    nvml: NvmlApi | None = None,
    cpu_ids: Callable[[], set[int]] | None = None,
    memory_bytes: Callable[[], int] | None = None,
    cgroup_root: Path = CGROUP_ROOT,
) -> HostInventory:
    """Read this host. `docker_info` is the daemon's `GET /info`, None when no daemon answers.

    `nvml` defaults to the real binding; `cpu_ids` to this process's CPU affinity and
    `memory_bytes` to psutil's total. A host without NVML has no GPUs and a note, never an error.
    """
    usable = sorted((cpu_ids or _affinity)())
    total_memory = (memory_bytes or _total_memory)()
    note: str | None = None
    if nvml is None:
        nvml, note = load_nvml()
    gpus: tuple[GpuInfo, ...] = ()
    if nvml is not None:
        gpus, note = read_gpus(nvml)
    runtimes, default_runtime, version, info_cgroup = docker_facts(docker_info)
    return HostInventory(
        logical_cpus=os.cpu_count() or len(usable),
        usable_cpu_ids=tuple(usable),
        memory_mib=total_memory // MIB,
        gpus=gpus,
        gpu_note=note,
        # The daemon's own answer wins: with a remote daemon, this machine's /sys is not its.
        cgroup_version=info_cgroup or cgroup_version(cgroup_root),
        docker_runtimes=runtimes,
        docker_default_runtime=default_runtime,
        docker_version=version,
        nvidia_runtime="nvidia" in runtimes or default_runtime == "nvidia",
    )


def read_gpus(nvml: NvmlApi) -> tuple[tuple[GpuInfo, ...], str | None]:
    """Every GPU NVML lists, and a note when there are none or some could not be read."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as exc:
        return (), nvml_error_text(exc)
    gpus: list[GpuInfo] = []
    problems: list[str] = []
    try:
        count = nvml.nvmlDeviceGetCount()
        for index in range(count):
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                gpus.append(
                    GpuInfo(
                        index=index,
                        uuid=text_of(nvml.nvmlDeviceGetUUID(handle)),
                        name=text_of(nvml.nvmlDeviceGetName(handle)),
                        memory_total_mib=int(memory.total) // MIB,
                    )
                )
            except nvml.NVMLError as exc:  # one broken GPU (fallen off the bus) is not all
                problems.append(f"GPU {index}: {nvml_error_text(exc)}")
    except nvml.NVMLError as exc:
        problems.append(nvml_error_text(exc))
    finally:
        with suppress(nvml.NVMLError):  # nothing left to release
            nvml.nvmlShutdown()
    if not gpus and not problems:
        problems.append("NVML: the driver lists no GPUs")
    return tuple(gpus), "; ".join(problems) or None


def docker_facts(
    docker_info: Mapping[str, Any] | None,
) -> tuple[tuple[str, ...], str | None, str | None, int | None]:
    """(runtimes, default runtime, server version, cgroup version) from Docker's `GET /info`."""
    if docker_info is None:
        return (), None, None, None
    runtimes = docker_info.get("Runtimes")
    names = tuple(sorted(runtimes)) if isinstance(runtimes, Mapping) else ()
    default = docker_info.get("DefaultRuntime")
    version = docker_info.get("ServerVersion")
    cgroup = str(docker_info.get("CgroupVersion") or "")
    return (
        names,
        str(default) if default else None,
        str(version) if version else "unknown",
        int(cgroup) if cgroup in ("1", "2") else None,
    )


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    """2 when `root` is the unified hierarchy (it has cgroup.controllers), else 1."""
    return 2 if (root / "cgroup.controllers").exists() else 1


def _affinity() -> set[int]:
    return set(os.sched_getaffinity(0))


def _total_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)
