"""Renderers for `harness doctor`: the host, then every instance type by emulation fidelity.

The JSON keys are part of the interface (DESIGN §2); bump DOCTOR_SCHEMA_VERSION on any change
that could break a reader.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from harness import __version__
from harness.hardware.emulation import (
    HOST_RESERVE_MIB,
    SHM_PERCENT,
    Emulation,
    Fidelity,
    format_cpuset,
    gib_text,
)
from harness.hardware.host import HostInventory

DOCTOR_SCHEMA_VERSION = "1"
_ORDER = (Fidelity.EXACT, Fidelity.SCALED, Fidelity.UNAVAILABLE)
_HEADINGS = {
    Fidelity.EXACT: "exact: the container gets what the instance type has",
    Fidelity.SCALED: "scaled: runs, with less (or other) hardware than the instance type has",
    Fidelity.UNAVAILABLE: "unavailable: cannot run on this host",
}


def policy() -> dict[str, Any]:
    """The sizing choices SageMaker does not document, reported with every plan."""
    return {"shm_percent_of_memory": SHM_PERCENT, "host_reserve_mib": HOST_RESERVE_MIB}


def render_doctor_json(host: HostInventory, emulations: Sequence[Emulation]) -> str:
    counts = {fidelity.value: 0 for fidelity in _ORDER}
    for emulation in emulations:
        counts[emulation.fidelity.value] += 1
    document = {
        "schema_version": DOCTOR_SCHEMA_VERSION,
        "harness_version": __version__,
        "host": host.to_dict(),
        "policy": policy(),
        "summary": counts,
        "instance_types": [emulation.to_dict() for emulation in emulations],
    }
    return json.dumps(document, indent=2) + "\n"


def render_doctor_text(host: HostInventory, emulations: Sequence[Emulation]) -> str:
    lines = _host_lines(host)
    lines += [
        f"/dev/shm  {SHM_PERCENT} % of each container's memory limit (SageMaker documents none)",
        f"reserve   {HOST_RESERVE_MIB} MiB of host memory left to the OS and Docker",
    ]
    gpu_index = {gpu.uuid: gpu.index for gpu in host.gpus}
    rows = {id(e): _row(e, gpu_index) for e in emulations}
    header = ("instance type", "vCPU", "memory", "accelerators", "CPUs", "limit", "shm")
    # One set of widths for every group, so the columns line up down the whole page.
    widths = [max(len(cells[i]) for cells in [header, *rows.values()]) for i in range(len(header))]
    for fidelity in _ORDER:
        group = [e for e in emulations if e.fidelity is fidelity]
        if not group:
            continue
        lines += ["", f"{_HEADINGS[fidelity]} ({len(group)})", "  " + _cells(header, widths)]
        for emulation in group:
            lines.append("  " + _cells(rows[id(emulation)], widths))
            lines += [f"      - {reason}" for reason in emulation.reasons]
    return "\n".join(lines) + "\n"


def _host_lines(host: HostInventory) -> list[str]:
    cpus = format_cpuset(host.usable_cpu_ids) or "unknown"
    lines = [
        f"host      {host.logical_cpus} logical CPUs (usable {cpus}), "
        f"{gib_text(host.memory_bytes)} memory, cgroup v{host.cgroup_version}"
    ]
    if not host.gpus:
        lines.append(f"GPUs      none ({host.gpu_note})" if host.gpu_note else "GPUs      none")
    for gpu in host.gpus:
        lines.append(f"GPU {gpu.index:<5} {gpu.name}, {gpu.memory_total_mib} MiB, {gpu.uuid}")
    if host.gpus and host.gpu_note:
        lines.append(f"          {host.gpu_note}")
    if host.docker_version is None:
        lines.append("Docker    no daemon answered")
    else:
        runtimes = ", ".join(host.docker_runtimes) or "none listed"
        nvidia = "nvidia runtime" if host.nvidia_runtime else "no nvidia runtime"
        lines.append(
            f"Docker    {host.docker_version}, runtimes {runtimes} "
            f"(default {host.docker_default_runtime or 'unknown'}), {nvidia}"
        )
    return lines


def _row(emulation: Emulation, gpu_index: dict[str, int]) -> tuple[str, ...]:
    it = emulation.instance_type
    plan: tuple[str, ...] = ("-", "-", "-")
    if emulation.fidelity is not Fidelity.UNAVAILABLE:
        cpus = emulation.cpuset or "any"
        if emulation.gpu_uuids:
            indices = (str(gpu_index.get(uuid, uuid)) for uuid in emulation.gpu_uuids)
            cpus += ", GPU " + ",".join(indices)
        plan = (cpus, gib_text(emulation.memory_bytes), gib_text(emulation.shm_bytes))
    return (it.name, str(it.vcpu), gib_text(it.memory_bytes), it.accelerator_text(), *plan)


def _cells(cells: Sequence[str], widths: Sequence[int]) -> str:
    text = "  ".join(
        cell.rjust(width) if index == 1 else cell.ljust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )
    return text.rstrip()
