"""NVML, the NVIDIA driver's management library, as an injectable edge.

`NvmlApi` is the part of `pynvml` (package nvidia-ml-py) the harness calls; the module itself
satisfies it. `RecordedNvml` replays literal readings so the inventory and the usage sampler are
tested without a GPU, and `load_nvml` finds the real one, or says why there is none: a host
without the library or the driver has no GPUs, which is a fact to report, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class NvmlMemory(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def used(self) -> int: ...


class NvmlProcess(Protocol):
    @property
    def pid(self) -> int: ...
    @property
    def usedGpuMemory(self) -> int | None: ...


class NvmlUtilizationSample(Protocol):
    @property
    def pid(self) -> int: ...
    @property
    def timeStamp(self) -> int: ...
    @property
    def smUtil(self) -> int: ...
    @property
    def memUtil(self) -> int: ...


class NvmlApi(Protocol):
    """The functions of `pynvml` the harness uses (the module satisfies this protocol)."""

    NVMLError: type[Exception]

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int, /) -> object: ...
    def nvmlDeviceGetHandleByUUID(self, uuid: str, /) -> object: ...
    def nvmlDeviceGetUUID(self, handle: object, /) -> str | bytes: ...
    def nvmlDeviceGetName(self, handle: object, /) -> str | bytes: ...
    def nvmlDeviceGetMemoryInfo(self, handle: object, /) -> NvmlMemory: ...
    def nvmlDeviceGetComputeRunningProcesses(self, handle: object, /) -> Sequence[NvmlProcess]: ...
    def nvmlDeviceGetProcessUtilization(
        self, handle: object, timestamp: int, /
    ) -> Sequence[NvmlUtilizationSample]: ...


def load_nvml() -> tuple[NvmlApi | None, str | None]:
    """The real NVML binding, or None and why not. Does not initialise it."""
    try:
        import pynvml
    except ImportError:
        return None, "NVML: the nvidia-ml-py package is not installed"
    api: NvmlApi = pynvml
    return api, None


def nvml_error_text(exc: Exception) -> str:
    """`NVML: driver not loaded` from an NVMLError (pynvml's texts are Title Case)."""
    text = str(exc).strip() or type(exc).__name__
    if text == "NVML Shared Library Not Found":
        return "NVML: library not found (no NVIDIA driver installed)"
    return f"NVML: {text.lower()}"


def text_of(value: str | bytes) -> str:
    """Old pynvml versions return bytes for names and UUIDs."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# -- recorded readings ------------------------------------------------------------------------


class RecordedNvmlError(Exception):
    """What RecordedNvml raises where pynvml raises NVMLError."""


@dataclass(frozen=True)
class RecordedMemory:
    total: int
    used: int


@dataclass(frozen=True)
class RecordedProcess:
    pid: int
    usedGpuMemory: int | None


@dataclass(frozen=True)
class RecordedUtilization:
    pid: int
    timeStamp: int
    smUtil: int
    memUtil: int


@dataclass
class RecordedGpu:
    """One GPU's readings; tests change `processes` and `utilization` between samples."""

    uuid: str
    name: str
    memory_total_mib: int
    memory_used_bytes: int = 0
    processes: list[RecordedProcess] = field(default_factory=list)
    utilization: list[RecordedUtilization] = field(default_factory=list)


class RecordedNvml:
    """NVML replaying literal readings, for tests and for hosts without a GPU.

    `init_error` makes nvmlInit fail as a host without a driver does; `failing` names functions
    that raise NVMLError on every call (as NOT_SUPPORTED or NOT_FOUND do on real devices).
    """

    NVMLError: type[Exception] = RecordedNvmlError

    def __init__(
        self,
        gpus: Sequence[RecordedGpu] = (),
        *,
        init_error: str | None = None,
        failing: Sequence[str] = (),
    ) -> None:
        self.gpus = list(gpus)
        self.init_error = init_error
        self.failing = frozenset(failing)
        self.initialised = 0

    def _check(self, function: str) -> None:
        if function in self.failing:
            raise RecordedNvmlError("Not Supported")
        if self.initialised <= 0:
            raise RecordedNvmlError("Uninitialized")

    def _gpu(self, handle: object) -> RecordedGpu:
        if not isinstance(handle, RecordedGpu):
            raise RecordedNvmlError("Invalid Argument")
        return handle

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise RecordedNvmlError(self.init_error)
        self.initialised += 1

    def nvmlShutdown(self) -> None:
        self._check("nvmlShutdown")
        self.initialised -= 1

    def nvmlDeviceGetCount(self) -> int:
        self._check("nvmlDeviceGetCount")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int, /) -> object:
        self._check("nvmlDeviceGetHandleByIndex")
        if not 0 <= index < len(self.gpus):
            raise RecordedNvmlError("Invalid Argument")
        return self.gpus[index]

    def nvmlDeviceGetHandleByUUID(self, uuid: str, /) -> object:
        self._check("nvmlDeviceGetHandleByUUID")
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
        raise RecordedNvmlError("Not Found")

    def nvmlDeviceGetUUID(self, handle: object, /) -> str | bytes:
        self._check("nvmlDeviceGetUUID")
        return self._gpu(handle).uuid

    def nvmlDeviceGetName(self, handle: object, /) -> str | bytes:
        self._check("nvmlDeviceGetName")
        return self._gpu(handle).name

    def nvmlDeviceGetMemoryInfo(self, handle: object, /) -> NvmlMemory:
        self._check("nvmlDeviceGetMemoryInfo")
        gpu = self._gpu(handle)
        return RecordedMemory(gpu.memory_total_mib * 2**20, gpu.memory_used_bytes)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: object, /) -> Sequence[NvmlProcess]:
        self._check("nvmlDeviceGetComputeRunningProcesses")
        return list(self._gpu(handle).processes)

    def nvmlDeviceGetProcessUtilization(
        self, handle: object, timestamp: int, /
    ) -> Sequence[NvmlUtilizationSample]:
        self._check("nvmlDeviceGetProcessUtilization")
        samples = [s for s in self._gpu(handle).utilization if s.timeStamp > timestamp]
        if not samples:  # what the real binding does when there is nothing new
            raise RecordedNvmlError("Not Found")
        return samples
