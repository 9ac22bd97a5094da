from __future__ import annotations

from pathlib import Path

import pytest

from harness.hardware.host import (
    GpuInfo,
    cgroup_version,
    docker_facts,
    read_gpus,
    take_inventory,
)
from harness.hardware.nvml import RecordedGpu, RecordedNvml, nvml_error_text, text_of

# `docker info` of the CI machine (Debian 12, docker.io 20.10), trimmed to what is read.
DOCKER_INFO = {
    "ServerVersion": "20.10.24+dfsg1",
    "CgroupVersion": "1",
    "CgroupDriver": "cgroupfs",
    "DefaultRuntime": "runc",
    "Runtimes": {
        "io.containerd.runc.v2": {"path": "runc"},
        "io.containerd.runtime.v1.linux": {"path": "runc"},
        "runc": {"path": "runc"},
    },
}
# A GPU workstation with the NVIDIA Container Toolkit registered (`nvidia-ctk runtime configure`).
NVIDIA_INFO = {
    "ServerVersion": "27.3.1",
    "CgroupVersion": "2",
    "DefaultRuntime": "runc",
    "Runtimes": {"nvidia": {"path": "nvidia-container-runtime"}, "runc": {"path": "runc"}},
}

H100 = RecordedGpu("GPU-5f2d7a3c-1b2e-4c1d-9f00-0123456789ab", "NVIDIA H100 80GB HBM3", 81559)
A10G = RecordedGpu("GPU-0a1b2c3d-0000-0000-0000-000000000001", "NVIDIA A10G", 23028)


def inventory(docker_info, nvml, tmp_path: Path, cpus=frozenset({0, 1}), memory=24 * 2**30):
    return take_inventory(
        docker_info,
        nvml=nvml,
        cpu_ids=lambda: set(cpus),
        memory_bytes=lambda: memory,
        cgroup_root=tmp_path,
    )


def test_a_host_without_gpus_or_nvidia_runtime(tmp_path):
    nvml = RecordedNvml(init_error="Driver Not Loaded")
    host = inventory(DOCKER_INFO, nvml, tmp_path, cpus={1, 0})
    assert host.usable_cpu_ids == (0, 1)
    assert host.memory_mib == 24 * 1024
    assert host.gpus == ()
    assert host.gpu_note == "NVML: driver not loaded"
    assert host.cgroup_version == 1
    assert host.docker_version == "20.10.24+dfsg1"
    assert host.docker_default_runtime == "runc"
    assert host.docker_runtimes == (
        "io.containerd.runc.v2",
        "io.containerd.runtime.v1.linux",
        "runc",
    )
    assert host.nvidia_runtime is False
    assert host.logical_cpus >= 1


def test_a_gpu_workstation(tmp_path):
    nvml = RecordedNvml([H100, A10G])
    host = inventory(NVIDIA_INFO, nvml, tmp_path)
    assert host.gpus == (
        GpuInfo(0, H100.uuid, "NVIDIA H100 80GB HBM3", 81559),
        GpuInfo(1, A10G.uuid, "NVIDIA A10G", 23028),
    )
    assert host.gpu_note is None
    assert host.nvidia_runtime is True
    assert host.cgroup_version == 2
    assert nvml.initialised == 0  # shut down again


def test_nvidia_as_the_default_runtime_counts():
    runtimes, default, _version, _cgroup = docker_facts(
        {"DefaultRuntime": "nvidia", "Runtimes": {"runc": {}}}
    )
    assert default == "nvidia"
    assert runtimes == ("runc",)


def test_no_daemon(tmp_path):
    host = inventory(None, RecordedNvml(), tmp_path)
    assert (host.docker_version, host.docker_runtimes, host.docker_default_runtime) == (
        None,
        (),
        None,
    )
    assert host.nvidia_runtime is False
    assert host.gpu_note == "NVML: the driver lists no GPUs"


def test_cgroup_version_from_the_file_when_docker_does_not_say(tmp_path):
    assert docker_facts({"ServerVersion": "19.03"})[3] is None
    assert cgroup_version(tmp_path) == 1
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert cgroup_version(tmp_path) == 2
    assert inventory({"ServerVersion": "19.03"}, RecordedNvml(), tmp_path).cgroup_version == 2


def test_one_unreadable_gpu_does_not_hide_the_others():
    class LostSecondGpu(RecordedNvml):
        def nvmlDeviceGetMemoryInfo(self, handle, /):
            if handle is self.gpus[1]:
                raise self.NVMLError("GPU is lost")
            return super().nvmlDeviceGetMemoryInfo(handle)

    found, note = read_gpus(LostSecondGpu([H100, A10G]))
    assert [g.uuid for g in found] == [H100.uuid]
    assert note == "GPU 1: NVML: gpu is lost"


def test_a_failing_count_is_a_note():
    found, note = read_gpus(RecordedNvml([H100], failing=["nvmlDeviceGetCount"]))
    assert found == ()
    assert note == "NVML: not supported"


def test_the_real_binding_without_a_driver(tmp_path):
    """On a machine without the NVIDIA driver, the real pynvml gives a note, not an error."""
    pynvml = pytest.importorskip("pynvml")
    found, note = read_gpus(pynvml)
    if found:
        pytest.skip("this machine has NVIDIA GPUs")
    assert note is not None
    assert note.startswith("NVML: ")


def test_text_helpers():
    assert text_of(b"NVIDIA A10G") == "NVIDIA A10G"
    assert nvml_error_text(Exception("NVML Shared Library Not Found")) == (
        "NVML: library not found (no NVIDIA driver installed)"
    )
    assert nvml_error_text(Exception("Driver Not Loaded")) == "NVML: driver not loaded"


def test_to_dict_has_the_stable_keys(tmp_path):
    host = inventory(NVIDIA_INFO, RecordedNvml([A10G]), tmp_path)
    assert host.to_dict() == {
        "cpus": host.logical_cpus,
        "usable_cpu_ids": [0, 1],
        "memory_mib": 24576,
        "gpus": [{"index": 0, "uuid": A10G.uuid, "name": "NVIDIA A10G", "memory_total_mib": 23028}],
        "gpu_note": None,
        "cgroup_version": 2,
        "docker": {
            "version": "27.3.1",
            "runtimes": ["nvidia", "runc"],
            "default_runtime": "runc",
            "nvidia_runtime": True,
        },
    }
