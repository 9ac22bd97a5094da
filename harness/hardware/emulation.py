"""How to run a container "as if" on an ml.* instance type on this host: a pure plan.

`plan_emulation` maps an InstanceType onto a HostInventory (docs/hardware-emulation.md §3, §5):

- CPUs: a cpuset of exactly `vcpu` logical CPUs, which is what `nproc` and
  `os.sched_getaffinity` report inside the container; concurrent hosts of one job get disjoint
  sets while the host has the CPUs. With fewer CPUs than vCPUs the container gets all of them
  plus a CFS quota (`nano_cpus`), and the plan says it is scaled.
- Memory: a limit of the type's memory with swap equal to it (no swap). A host that cannot hold
  that (times the number of hosts, keeping HOST_RESERVE_MIB for the OS and the daemon) gets
  what fits, and the plan says so.
- /dev/shm: SageMaker documents no size (§3.3, §6), so the harness chooses one: half of the
  container's memory limit (SHM_PERCENT). That is what Linux gives a tmpfs by default, so what
  /dev/shm is on a plain EC2 instance of that size, and the one public (anecdotal) report of a
  SageMaker size agrees: 32 GiB on a 64 GiB ml.g4dn.4xlarge notebook instance. tmpfs pages count
  against the memory cgroup, so this lets shared memory grow to half the limit without adding
  memory; Docker's own 64 MiB default is what the shared-memory issues in §6 run into.
- GPUs: `accelerator_count` GPUs chosen by UUID (same model and enough memory first), through
  Docker's nvidia runtime; a different model or less memory per GPU is scaled, too few GPUs or
  no nvidia runtime is unavailable. Trainium and Inferentia cannot be emulated.
- CPU types get NVIDIA_VISIBLE_DEVICES=void, so a daemon whose default runtime is nvidia does not
  hand every GPU to a CUDA image (the toolkit then behaves as runc: no GPUs, no driver files).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from harness.errors import UsageError
from harness.hardware.catalogue import InstanceType
from harness.hardware.host import GpuInfo, HostInventory

MIB = 2**20
GIB = 2**30
SHM_PERCENT = 50
"""/dev/shm size as a share of the container's memory limit (Linux tmpfs default)."""
HOST_RESERVE_MIB = 1024
"""Memory left to the host's OS and the Docker daemon when sizing memory limits."""
MIN_MEMORY_MIB = 256
"""Below this a scaled memory limit would only test the out-of-memory path."""
GPU_MEMORY_TOLERANCE = 0.05
"""NVML's total for a GPU is a little under EC2's figure for the same card (§2 caveats)."""


class Fidelity(StrEnum):
    EXACT = "exact"
    SCALED = "scaled"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Emulation:
    """The container settings that stand in for one instance type on this host, and why.

    >>> e = plan_emulation(lookup_instance_type("ml.m5.large"), host)
    >>> e.describe()
    'ml.m5.large: exact: CPUs 0-1, 8 GiB memory, 4 GiB /dev/shm'
    """

    instance_type: InstanceType
    fidelity: Fidelity
    reasons: tuple[str, ...]
    """Each difference from the instance type (scaled) and each missing piece (unavailable)."""
    cpuset: str | None
    nano_cpus: int | None
    memory_bytes: int
    shm_bytes: int
    gpu_uuids: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict, hash=False)

    def describe(self) -> str:
        """One line: the type, the fidelity and the settings, or why it cannot run."""
        head = f"{self.instance_type.name}: {self.fidelity.value}"
        if self.fidelity is Fidelity.UNAVAILABLE:
            return f"{head}: " + "; ".join(self.reasons)
        parts = [f"CPUs {self.cpuset}"]
        if self.nano_cpus is not None:
            parts[0] += f" (quota {self.nano_cpus / 1e9:g})"
        parts += [f"{gib_text(self.memory_bytes)} memory", f"{gib_text(self.shm_bytes)} /dev/shm"]
        if self.gpu_uuids:
            parts.append("GPUs " + ",".join(self.gpu_uuids))
        text = f"{head}: " + ", ".join(parts)
        return text + (" (" + "; ".join(self.reasons) + ")" if self.reasons else "")

    def docker_limits(self) -> dict[str, Any]:
        """The Docker SDK `containers.run` keywords for CPUs, memory and /dev/shm (GPUs are a
        DeviceRequest for `gpu_uuids`, which the engine builds)."""
        limits: dict[str, Any] = {
            "mem_limit": self.memory_bytes,
            "memswap_limit": self.memory_bytes,
            "shm_size": self.shm_bytes,
        }
        if self.cpuset is not None:
            limits["cpuset_cpus"] = self.cpuset
        if self.nano_cpus is not None:
            limits["nano_cpus"] = self.nano_cpus
        return limits

    def to_dict(self) -> dict[str, Any]:
        """One `instance_types[]` entry of `harness doctor --format json`."""
        it = self.instance_type
        accelerators = None
        if it.accelerator_kind != "none":
            accelerators = {
                "kind": it.accelerator_kind,
                "count": it.accelerator_count,
                "model": it.accelerator_model,
                "memory_mib_each": it.accelerator_memory_mib_each,
            }
        return {
            "name": it.name,
            "vcpu": it.vcpu,
            "memory_mib": it.memory_mib,
            "accelerators": accelerators,
            "fidelity": self.fidelity.value,
            "reasons": list(self.reasons),
            "cpuset": self.cpuset,
            "nano_cpus": self.nano_cpus,
            "memory_bytes": self.memory_bytes,
            "shm_bytes": self.shm_bytes,
            "gpus": list(self.gpu_uuids),
        }


def plan_emulation(
    instance_type: InstanceType, host: HostInventory, *, hosts: int = 1, slot: int = 0
) -> Emulation:
    """Plan host `slot` (0-based) of `hosts` concurrent containers of `instance_type`."""
    if hosts < 1 or not 0 <= slot < hosts:
        raise UsageError(f"host slot {slot} is not one of {hosts} hosts")
    missing: list[str] = []
    scaled: list[str] = []
    if host.docker_version is None:
        missing.append("no Docker daemon answered")
    cpuset, nano_cpus = _plan_cpus(instance_type, host, hosts, slot, scaled)
    memory = _plan_memory(instance_type, host, hosts, missing, scaled)
    gpu_uuids: tuple[str, ...] = ()
    environment: dict[str, str] = {}
    if instance_type.is_gpu:
        gpu_uuids = _plan_gpus(instance_type, host, hosts, slot, missing, scaled)
    elif instance_type.is_neuron:
        count = instance_type.accelerator_count
        missing.append(
            f"{instance_type.name} needs {count} AWS {instance_type.accelerator_model} "
            f"device{_s(count)}; the harness cannot give containers Neuron devices"
        )
    else:
        environment["NVIDIA_VISIBLE_DEVICES"] = "void"
    fidelity = Fidelity.EXACT
    if missing:
        fidelity, gpu_uuids = Fidelity.UNAVAILABLE, ()
    elif scaled:
        fidelity = Fidelity.SCALED
    return Emulation(
        instance_type=instance_type,
        fidelity=fidelity,
        reasons=(*missing, *scaled),
        cpuset=cpuset,
        nano_cpus=nano_cpus,
        memory_bytes=memory,
        shm_bytes=memory * SHM_PERCENT // 100 // MIB * MIB,
        gpu_uuids=gpu_uuids,
        environment=environment,
    )


def _plan_cpus(
    it: InstanceType, host: HostInventory, hosts: int, slot: int, scaled: list[str]
) -> tuple[str | None, int | None]:
    cpus = sorted(host.usable_cpu_ids)
    have, want = len(cpus), it.vcpu
    if have == 0:  # an inventory without affinity data: let Docker decide, say so
        scaled.append("the host's usable CPUs are unknown: no cpuset")
        return None, None
    if want > have:
        usable = "" if have == host.logical_cpus else " usable"
        shared = f", shared by {hosts} hosts" if hosts > 1 else ""
        scaled.append(
            f"{it.name} has {want} vCPUs; this host has {have}{usable}: running on {have}{shared}"
        )
        return format_cpuset(cpus), have * 10**9
    if want * hosts <= have:
        return format_cpuset(cpus[slot * want : (slot + 1) * want]), None
    # Not enough for disjoint sets: each host still gets exactly `want` CPUs, spread so that
    # the overlap is as even as it can be.
    start = slot * want % have
    scaled.append(
        f"{hosts} hosts of {want} vCPUs need {want * hosts} CPUs; this host has {have}: "
        "the hosts share CPUs"
    )
    return format_cpuset(cpus[(start + k) % have] for k in range(want)), None


def _plan_memory(
    it: InstanceType, host: HostInventory, hosts: int, missing: list[str], scaled: list[str]
) -> int:
    want = it.memory_bytes
    available = host.memory_bytes - HOST_RESERVE_MIB * MIB
    if want * hosts <= available:
        return want
    each = max(available // hosts, 0) // MIB * MIB
    per_host = f" per host ({hosts} hosts)" if hosts > 1 else ""
    if each < MIN_MEMORY_MIB * MIB:
        missing.append(
            f"{it.name} has {gib_text(want)} of memory; this host has "
            f"{gib_text(host.memory_bytes)}: under {MIN_MEMORY_MIB} MiB{per_host} would be left"
        )
        return max(each, 0)
    scaled.append(
        f"{it.name} has {gib_text(want)} of memory; this host has "
        f"{gib_text(host.memory_bytes)}: limited to {gib_text(each)}{per_host}"
    )
    return each


def _plan_gpus(
    it: InstanceType,
    host: HostInventory,
    hosts: int,
    slot: int,
    missing: list[str],
    scaled: list[str],
) -> tuple[str, ...]:
    need = it.accelerator_count
    model = it.accelerator_model or "unknown"
    wanted = f"{it.name} needs {need} NVIDIA {model} GPU{_s(need)}"
    if not host.gpus:
        why = f" ({host.gpu_note})" if host.gpu_note else ""
        missing.append(f"{wanted}; this host has none{why}")
        return ()
    if len(host.gpus) < need:
        missing.append(f"{wanted}; this host has {len(host.gpus)}")
        return ()
    if not host.nvidia_runtime and host.docker_version is not None:
        missing.append(
            f"{wanted}; Docker has no nvidia runtime (install the NVIDIA Container Toolkit, "
            "then `nvidia-ctk runtime configure --runtime=docker` and restart dockerd)"
        )
        return ()
    # Best GPUs first, so that a mixed host gives the closest match to slot 0 and beyond.
    ranked = sorted(
        host.gpus, key=lambda g: (not same_gpu_model(g.name, model), not _enough(g, it), g.index)
    )
    if need * hosts <= len(ranked):
        chosen = ranked[slot * need : (slot + 1) * need]
    else:
        start = slot * need % len(ranked)
        chosen = [ranked[(start + k) % len(ranked)] for k in range(need)]
        scaled.append(
            f"{hosts} hosts of {need} GPU{_s(need)} need {need * hosts}; this host has "
            f"{len(ranked)}: the hosts share GPUs"
        )
    others = sorted({g.name for g in chosen if not same_gpu_model(g.name, model)})
    if others:
        scaled.append(f"{it.name} has NVIDIA {model} GPUs; running on {', '.join(others)}")
    small = [g for g in chosen if not _enough(g, it)]
    if small:
        have = ", ".join(f"GPU {g.index} {g.memory_total_mib} MiB" for g in small)
        scaled.append(
            f"{it.name} has {it.accelerator_memory_mib_each} MiB per GPU; this host's: {have}"
        )
    return tuple(g.uuid for g in chosen)


def same_gpu_model(device_name: str, model: str) -> bool:
    """Whether NVML's name (`NVIDIA A10G`, `Tesla V100-SXM2-16GB`) is the catalogue's model.

    Whole words only: `L4` must not match `NVIDIA L40S`.
    """
    words = "".join(c if c.isalnum() else " " for c in device_name.upper()).split()
    return model.upper() in words


def _enough(gpu: GpuInfo, it: InstanceType) -> bool:
    each = it.accelerator_memory_mib_each
    return each is None or gpu.memory_total_mib >= each * (1 - GPU_MEMORY_TOLERANCE)


def format_cpuset(cpu_ids: Iterable[int]) -> str:
    """Docker's cpuset syntax: `0-3,8,10-11`."""
    ids = sorted(set(cpu_ids))
    ranges: list[str] = []
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        ranges.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(ranges)


def parse_cpuset(text: str) -> tuple[int, ...]:
    """The CPU ids of a cpuset list (`0-3,8`), sorted; the inverse of format_cpuset."""
    ids: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        ids.update(range(int(low), int(high or low) + 1))
    return tuple(sorted(ids))


def gib_text(size: int) -> str:
    """`8 GiB`, `22.5 GiB`, `512 MiB`."""
    if size < GIB:
        return f"{size // MIB} MiB"
    return f"{size / GIB:.1f}".removesuffix(".0") + " GiB"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
