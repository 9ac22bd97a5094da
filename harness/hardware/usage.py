"""Sampling a running container's resource use from the host, for TRAIN-RESOURCES and the report.

`UsageSampler` reads the container's cgroup (cgroup.py) every `interval` seconds in a background
thread, and, for the GPUs the container was given, NVML's per-process memory and utilisation
filtered to the container's PIDs (§4.3, §4.4). It never raises once started: a cgroup that
cannot be read (Docker on another machine, permissions, the container already gone) or an NVML
call that fails becomes a note in the summary.

    sampler = UsageSampler(state_pid, interval=0.5)
    sampler.start()
    ...                      # wait for the container
    summary = sampler.stop() # UsageSummary; summary.to_dict() goes into report.json
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from harness.hardware.cgroup import (
    CgroupLocation,
    CgroupReader,
    CgroupReading,
    CgroupUnreadable,
)
from harness.hardware.nvml import NvmlApi, nvml_error_text

__all__ = ["CgroupReader", "UsageSample", "UsageSampler", "UsageSummary"]

MAX_SAMPLES = 512
"""Longest time series kept; a longer run keeps every 2nd, 4th... sample (peaks are kept apart)."""


@dataclass(frozen=True)
class UsageSample:
    t: float
    """Seconds since sampling started."""
    memory_bytes: int
    cpu_seconds: float
    """CPU time used since the container started (all its CPUs together)."""
    gpu_memory_bytes: int | None = None
    """GPU memory of the container's processes on its GPUs, when it was given GPUs."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 3),
            "memory_bytes": self.memory_bytes,
            "cpu_seconds": round(self.cpu_seconds, 3),
            "gpu_memory_bytes": self.gpu_memory_bytes,
        }


@dataclass(frozen=True)
class UsageSummary:
    peak_memory_bytes: int | None
    cpu_seconds: float | None
    memory_limit_bytes: int | None
    oom_kills: int | None
    samples: tuple[UsageSample, ...]
    gpu: dict[str, Any] | None = field(default=None, hash=False)
    """{"devices": [{uuid, peak_memory_bytes, ...}], "notes": [...]}; None without GPUs."""
    note: str | None = None
    """Why values are missing (None when the cgroup was read)."""
    peak_memory_polled: bool = False
    """The peak is the largest sampled value (no kernel high-water mark): spikes may be missed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_memory_bytes": self.peak_memory_bytes,
            "peak_memory_polled": self.peak_memory_polled,
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 3),
            "memory_limit_bytes": self.memory_limit_bytes,
            "oom_kills": self.oom_kills,
            "samples": [sample.to_dict() for sample in self.samples],
            "gpu": self.gpu,
            "note": self.note,
        }


class SampleSeries:
    """A time series capped at `cap` entries: when full, every other entry is dropped and only
    every 2nd (then 4th...) new sample is kept, so a long run keeps an even spread."""

    def __init__(self, cap: int = MAX_SAMPLES) -> None:
        if cap < 2:
            raise ValueError("a series needs room for at least 2 samples")
        self.cap = cap
        self.stride = 1
        self._items: list[UsageSample] = []
        self._count = 0
        self._last: UsageSample | None = None

    def add(self, sample: UsageSample) -> None:
        if self._count % self.stride == 0:
            self._items.append(sample)
            if len(self._items) >= self.cap:
                self._items = self._items[::2]
                self.stride *= 2
        self._count += 1
        self._last = sample

    def samples(self) -> tuple[UsageSample, ...]:
        """The kept samples, always ending with the latest one."""
        items = self._items
        if self._last is not None and (not items or items[-1] is not self._last):
            items = [*items, self._last]
        return tuple(items)


@dataclass
class _GpuTrack:
    uuid: str
    handle: object
    peak_memory_bytes: int = 0
    peak_device_used_bytes: int | None = None
    pids: set[int] = field(default_factory=set)
    last_timestamp: int = 0
    sm_max: int | None = None
    sm_total: int = 0
    sm_count: int = 0
    mem_util_max: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "peak_memory_bytes": self.peak_memory_bytes,
            "peak_device_memory_used_bytes": self.peak_device_used_bytes,
            "max_sm_util_percent": self.sm_max,
            "mean_sm_util_percent": round(self.sm_total / self.sm_count, 1)
            if self.sm_count
            else None,
            "max_memory_util_percent": self.mem_util_max,
            "pids": sorted(self.pids),
        }


class UsageSampler:
    """Samples one container, given its init PID on this host (`docker inspect` State.Pid).

    `gpu_uuids` are the GPUs the container was given (Emulation.gpu_uuids); with none, or
    without `nvml`, no GPU use is sampled. `reader` and `nvml` are injectable for tests.
    """

    def __init__(
        self,
        pid: int,
        *,
        interval: float = 1.0,
        reader: CgroupReader | None = None,
        nvml: NvmlApi | None = None,
        gpu_uuids: Sequence[str] = (),
        max_samples: int = MAX_SAMPLES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pid = pid
        self.interval = interval
        self._reader = reader or CgroupReader()
        self._nvml = nvml
        self._gpu_uuids = tuple(gpu_uuids)
        self._clock = clock
        self._series = SampleSeries(max_samples)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._location: CgroupLocation | None = None
        self._gone = False
        self._note: str | None = None
        self._readings = 0
        self._peak: int | None = None
        self._polled = False
        self._last: CgroupReading | None = None
        self._gpus: list[_GpuTrack] = []
        self._gpu_notes: list[str] = []
        self._nvml_open = False

    def __enter__(self) -> UsageSampler:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Find the cgroup, take a first sample, and keep sampling in a daemon thread."""
        if self._thread is not None:
            return
        self._started_at = self._clock()
        try:
            self._location = self._reader.locate(self.pid)
        except CgroupUnreadable as exc:
            self._note = f"no memory or CPU figures: {exc.message}"
        self._open_gpus()
        self.sample()
        self._thread = threading.Thread(
            target=self._run, name=f"usage-sampler-{self.pid}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
            if self._gone and not self._gpus:
                return  # nothing left to watch

    def sample(self) -> None:
        """Take one sample now (the thread does this every `interval`)."""
        with self._lock:
            try:
                self._sample()
            except Exception as exc:  # a sampler must never take the run down with it
                self._note = self._note or f"sampling failed: {type(exc).__name__}: {exc}"
                self._gone = True

    def snapshot(self) -> UsageSummary:
        """The summary so far, while sampling goes on (for progress displays)."""
        with self._lock:
            return self._summary()

    def stop(self, *, timeout: float = 10.0) -> UsageSummary:
        """Stop sampling (a last sample first, while the cgroup may still exist) and summarise.

        Waits at most about `timeout` seconds twice, even if a read hangs in the kernel.
        """
        hung = False
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout)
            hung = self._thread.is_alive()
        if not hung:
            self.sample()
        locked = self._lock.acquire(timeout=timeout)
        try:
            if hung:
                self._note = self._note or f"the sampler did not stop within {timeout:g} s"
            self._close_gpus()
            return self._summary()
        finally:
            if locked:
                self._lock.release()

    # -- inside the lock ---------------------------------------------------------------------

    def _sample(self) -> None:
        reading = None
        if self._location is not None and not self._gone:
            try:
                reading = self._reader.read(self._location)
            except CgroupUnreadable as exc:
                self._gone = True
                if not exc.gone or self._readings == 0:
                    self._note = self._note or f"no memory or CPU figures: {exc.message}"
        pids = reading.pids if reading is not None else ()
        gpu_memory = self._sample_gpus(set(pids)) if self._gpus and pids else None
        if reading is None:
            return
        self._readings += 1
        self._last = reading
        current = reading.memory_bytes or 0
        if reading.peak_memory_bytes is None:
            self._polled = True
        self._peak = max(self._peak or 0, current, reading.peak_memory_bytes or 0)
        self._series.add(
            UsageSample(
                t=self._clock() - self._started_at,
                memory_bytes=current,
                cpu_seconds=reading.cpu_seconds or 0.0,
                gpu_memory_bytes=gpu_memory,
            )
        )

    def _open_gpus(self) -> None:
        nvml = self._nvml
        if nvml is None or not self._gpu_uuids:
            return
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            self._gpu_notes.append(nvml_error_text(exc))
            return
        self._nvml_open = True
        for uuid in self._gpu_uuids:
            try:
                self._gpus.append(_GpuTrack(uuid, nvml.nvmlDeviceGetHandleByUUID(uuid)))
            except nvml.NVMLError as exc:
                self._gpu_notes.append(f"GPU {uuid}: {nvml_error_text(exc)}")

    def _sample_gpus(self, pids: set[int]) -> int:
        nvml = self._nvml
        assert nvml is not None  # _gpus is only filled when there is an NVML
        total = 0
        for track in self._gpus:
            try:
                processes = nvml.nvmlDeviceGetComputeRunningProcesses(track.handle)
            except nvml.NVMLError as exc:
                self._gpu_note(track, exc)
                processes = []
            mine = [p for p in processes if p.pid in pids]
            used = sum(p.usedGpuMemory or 0 for p in mine)
            track.pids.update(p.pid for p in mine)
            track.peak_memory_bytes = max(track.peak_memory_bytes, used)
            total += used
            try:
                device_used = int(nvml.nvmlDeviceGetMemoryInfo(track.handle).used)
                track.peak_device_used_bytes = max(track.peak_device_used_bytes or 0, device_used)
            except nvml.NVMLError as exc:
                self._gpu_note(track, exc)
            try:
                samples = nvml.nvmlDeviceGetProcessUtilization(track.handle, track.last_timestamp)
            except nvml.NVMLError:
                samples = []  # NOT_FOUND: no new samples since the last call, the usual case
            for sample in samples:
                track.last_timestamp = max(track.last_timestamp, int(sample.timeStamp))
                if sample.pid in pids:
                    track.sm_max = max(track.sm_max or 0, int(sample.smUtil))
                    track.sm_total += int(sample.smUtil)
                    track.sm_count += 1
                    track.mem_util_max = max(track.mem_util_max or 0, int(sample.memUtil))
        return total

    def _gpu_note(self, track: _GpuTrack, exc: Exception) -> None:
        note = f"GPU {track.uuid}: {nvml_error_text(exc)}"
        if note not in self._gpu_notes:
            self._gpu_notes.append(note)

    def _close_gpus(self) -> None:
        nvml = self._nvml
        if nvml is None or not self._nvml_open:
            return
        self._nvml_open = False
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError as exc:
            self._gpu_notes.append(nvml_error_text(exc))

    def _summary(self) -> UsageSummary:
        last = self._last
        gpu = None
        if self._gpu_uuids:
            notes = list(self._gpu_notes)
            if self._nvml is None:
                notes.append("NVML is not available: GPU use was not sampled")
            elif self._gpus and self._readings == 0:
                notes.append("without the container's PIDs (its cgroup) no GPU use is known")
            gpu = {"devices": [track.to_dict() for track in self._gpus], "notes": notes}
        return UsageSummary(
            peak_memory_bytes=self._peak,
            cpu_seconds=None if last is None else last.cpu_seconds,
            memory_limit_bytes=None if last is None else last.memory_limit_bytes,
            oom_kills=None if last is None else last.oom_kills,
            samples=self._series.samples(),
            gpu=gpu,
            note=self._note or (None if self._readings else "the cgroup was never read"),
            peak_memory_polled=self._polled,
        )
