from __future__ import annotations

import shutil
import threading
import time

import pytest

from harness.hardware.cgroup import CgroupLocation, CgroupReader, CgroupReading
from harness.hardware.nvml import (
    RecordedGpu,
    RecordedNvml,
    RecordedProcess,
    RecordedUtilization,
)
from harness.hardware.usage import SampleSeries, UsageSample, UsageSampler, UsageSummary

from .cgroup_trees import v1_tree, v2_folder, v2_tree

MIB = 2**20


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sampler(reader: CgroupReader, **kwargs) -> UsageSampler:
    # An interval of an hour: the thread never samples on its own, the test calls sample().
    return UsageSampler(338, reader=reader, interval=3600, **kwargs)


def test_a_v2_container_from_start_to_exit(tmp_path):
    clock = Clock()
    reader = v2_tree(tmp_path)
    folder = v2_folder(tmp_path)
    usage = sampler(reader, clock=clock)
    usage.start()
    clock.now += 0.5
    (folder / "memory.current").write_text(f"{300 * MIB}\n")
    (folder / "memory.peak").write_text(f"{320 * MIB}\n")
    (folder / "cpu.stat").write_text("usage_usec 2500000\n")
    usage.sample()
    clock.now += 0.5
    shutil.rmtree(folder)  # Docker removes the cgroup when the container exits
    summary = usage.stop()
    assert summary.peak_memory_bytes == 320 * MIB
    assert summary.peak_memory_polled is False
    assert summary.cpu_seconds == 2.5
    assert summary.memory_limit_bytes == 512 * MIB
    assert summary.oom_kills == 0
    assert summary.note is None  # a cgroup gone after readings is the normal end
    assert summary.gpu is None
    assert summary.samples == (
        UsageSample(0.0, 210862080, pytest.approx(1.032956)),  # type: ignore[arg-type]
        UsageSample(0.5, 300 * MIB, 2.5),
    )


def test_a_v1_container(tmp_path):
    usage = sampler(v1_tree(tmp_path))
    usage.start()
    summary = usage.stop()
    assert summary.peak_memory_bytes == 221511680
    assert summary.cpu_seconds == pytest.approx(1.032956974)
    assert summary.memory_limit_bytes == 512 * MIB
    assert len(summary.samples) == 2  # at start and at stop


def test_without_a_kernel_peak_the_largest_sample_is_the_peak(tmp_path):
    reader = v2_tree(tmp_path)
    folder = v2_folder(tmp_path)
    (folder / "memory.peak").unlink()
    usage = sampler(reader)
    usage.start()
    for size in (400, 150):
        (folder / "memory.current").write_text(f"{size * MIB}\n")
        usage.sample()
    summary = usage.stop()
    assert summary.peak_memory_bytes == 400 * MIB
    assert summary.peak_memory_polled is True


def test_an_oom_kill_is_counted(tmp_path):
    reader = v2_tree(tmp_path)
    usage = sampler(reader)
    usage.start()
    (v2_folder(tmp_path) / "memory.events").write_text("oom 1\noom_kill 1\n")
    assert usage.stop().oom_kills == 1


def test_a_process_already_gone_is_a_note(tmp_path):
    usage = UsageSampler(999, reader=v2_tree(tmp_path), interval=3600)
    usage.start()
    summary = usage.stop()
    assert summary.note is not None
    assert summary.note.startswith("no memory or CPU figures: no process 999")
    assert (summary.peak_memory_bytes, summary.cpu_seconds, summary.samples) == (None, None, ())


def test_an_unreadable_cgroup_is_a_note(tmp_path):
    reader = v2_tree(tmp_path)
    folder = v2_folder(tmp_path)
    (folder / "cpu.stat").unlink()
    (folder / "cpu.stat").mkdir()
    usage = sampler(reader)
    usage.start()
    summary = usage.stop()
    assert summary.note is not None
    assert "cannot read" in summary.note


def test_an_unexpected_failure_is_a_note_not_a_crash(tmp_path):
    class Broken(CgroupReader):
        def read(self, location: CgroupLocation) -> CgroupReading:
            raise RuntimeError("disk on fire")

    usage = UsageSampler(338, reader=Broken(tmp_path / "sys", tmp_path / "proc"), interval=0.01)
    v2_tree(tmp_path)
    usage.start()
    time.sleep(0.05)
    summary = usage.stop()
    assert summary.note == "sampling failed: RuntimeError: disk on fire"


def test_the_thread_samples_until_stopped(tmp_path):
    usage = UsageSampler(338, reader=v2_tree(tmp_path), interval=0.01)
    usage.start()
    deadline = time.monotonic() + 5
    while len(usage.snapshot().samples) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    summary = usage.stop()
    assert len(summary.samples) >= 4
    assert not any(t.name.startswith("usage-sampler") for t in threading.enumerate())


def test_the_series_is_capped(tmp_path):
    clock = Clock()
    usage = sampler(v2_tree(tmp_path), clock=clock, max_samples=8)
    usage.start()
    for _ in range(100):
        clock.now += 1
        usage.sample()
    summary = usage.stop()
    assert len(summary.samples) <= 9
    times = [s.t for s in summary.samples]
    assert times[0] == 0
    assert times[-1] == 100
    assert times == sorted(times)


def test_sample_series_halves_when_full():
    series = SampleSeries(cap=4)
    for t in range(10):
        series.add(UsageSample(float(t), t, 0.0))
    # 0..3 fill it -> 0,2 kept, stride 2; 4 -> 0,2,4; 6 -> 0,2,4,6 full -> 0,4, stride 4; 8 -> 0,4,8
    assert [s.t for s in series.samples()] == [0, 4, 8, 9]
    assert series.stride == 4
    with pytest.raises(ValueError):
        SampleSeries(cap=1)


def test_context_manager(tmp_path):
    with UsageSampler(338, reader=v2_tree(tmp_path), interval=3600) as usage:
        pass
    assert usage.stop().peak_memory_bytes == 221511680


# -- GPUs ---------------------------------------------------------------------------------------


def a10g() -> RecordedGpu:
    return RecordedGpu(
        "GPU-a10g",
        "NVIDIA A10G",
        23028,
        memory_used_bytes=3000 * MIB,
        processes=[RecordedProcess(338, 2048 * MIB), RecordedProcess(7777, 900 * MIB)],
        utilization=[
            RecordedUtilization(338, 1000, 80, 30),
            RecordedUtilization(7777, 1001, 99, 99),  # another container's process
        ],
    )


def test_gpu_use_of_the_containers_processes(tmp_path):
    gpu = a10g()
    nvml = RecordedNvml([gpu])
    usage = sampler(v2_tree(tmp_path), nvml=nvml, gpu_uuids=["GPU-a10g"])
    usage.start()
    gpu.processes = [RecordedProcess(338, 4096 * MIB)]
    gpu.utilization.append(RecordedUtilization(338, 2000, 40, 10))
    usage.sample()
    summary = usage.stop()
    assert summary.gpu == {
        "devices": [
            {
                "uuid": "GPU-a10g",
                "peak_memory_bytes": 4096 * MIB,
                "peak_device_memory_used_bytes": 3000 * MIB,
                "max_sm_util_percent": 80,
                "mean_sm_util_percent": 60.0,
                "max_memory_util_percent": 30,
                "pids": [338],
            }
        ],
        "notes": [],
    }
    assert [s.gpu_memory_bytes for s in summary.samples] == [2048 * MIB, 4096 * MIB, 4096 * MIB]
    assert nvml.initialised == 0


def test_failing_nvml_calls_are_notes(tmp_path):
    nvml = RecordedNvml(
        [a10g()], failing=["nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetMemoryInfo"]
    )
    usage = sampler(v2_tree(tmp_path), nvml=nvml, gpu_uuids=["GPU-a10g", "GPU-missing"])
    usage.start()
    usage.sample()
    summary = usage.stop()
    assert summary.gpu is not None
    assert summary.gpu["notes"] == [
        "GPU GPU-missing: NVML: not found",
        "GPU GPU-a10g: NVML: not supported",
    ]
    assert summary.gpu["devices"][0]["peak_memory_bytes"] == 0
    assert summary.gpu["devices"][0]["max_sm_util_percent"] == 80  # that call still worked
    assert summary.peak_memory_bytes == 221511680


def test_nvml_without_a_driver(tmp_path):
    nvml = RecordedNvml(init_error="Driver Not Loaded")
    usage = sampler(v2_tree(tmp_path), nvml=nvml, gpu_uuids=["GPU-a10g"])
    usage.start()
    summary = usage.stop()
    assert summary.gpu == {"devices": [], "notes": ["NVML: driver not loaded"]}


def test_gpus_without_nvml(tmp_path):
    usage = sampler(v2_tree(tmp_path), gpu_uuids=["GPU-a10g"])
    usage.start()
    summary = usage.stop()
    assert summary.gpu == {
        "devices": [],
        "notes": ["NVML is not available: GPU use was not sampled"],
    }


def test_to_dict():
    summary = UsageSummary(
        peak_memory_bytes=221511680,
        cpu_seconds=1.0329569,
        memory_limit_bytes=536870912,
        oom_kills=0,
        samples=(UsageSample(0.12345, 1, 0.5),),
        note=None,
    )
    assert summary.to_dict() == {
        "peak_memory_bytes": 221511680,
        "peak_memory_polled": False,
        "cpu_seconds": 1.033,
        "memory_limit_bytes": 536870912,
        "oom_kills": 0,
        "samples": [{"t": 0.123, "memory_bytes": 1, "cpu_seconds": 0.5, "gpu_memory_bytes": None}],
        "gpu": None,
        "note": None,
    }


def test_a_sampler_never_started_says_so(tmp_path):
    summary = sampler(v2_tree(tmp_path)).stop()
    assert summary.note == "the cgroup was never read"
    assert summary.samples == ()


def test_a_read_that_hangs_does_not_hang_stop(tmp_path):
    release = threading.Event()

    class Hanging(CgroupReader):
        calls = 0

        def read(self, location: CgroupLocation) -> CgroupReading:
            Hanging.calls += 1
            if Hanging.calls > 1:  # the thread's first sample never returns (until released)
                release.wait(10)
            return super().read(location)

    v2_tree(tmp_path)
    usage = UsageSampler(338, reader=Hanging(tmp_path / "sys", tmp_path / "proc"), interval=0.01)
    usage.start()
    time.sleep(0.05)
    started = time.monotonic()
    summary = usage.stop(timeout=0.2)
    release.set()
    assert time.monotonic() - started < 2
    assert summary.note == "the sampler did not stop within 0.2 s"
    assert summary.peak_memory_bytes == 221511680  # the first sample's
