"""A container's cgroup, read from the host: memory, its limit, OOM kills, CPU time, PIDs.

Pure parsers of the kernel's files (tested with literal contents of both cgroup versions) and
`CgroupReader`, the only part that touches /proc and /sys/fs/cgroup (its roots are arguments,
so tests point it at a fake tree). Docs: docs/hardware-emulation.md §4.2, §4.4.

    v1  /proc/PID/cgroup `4:memory:/docker/ID`   -> /sys/fs/cgroup/memory/docker/ID/memory.*
        `2:cpuacct:/docker/ID` (or cpu,cpuacct)  -> /sys/fs/cgroup/cpuacct/docker/ID/cpuacct.usage
    v2  /proc/PID/cgroup `0::/system.slice/docker-ID.scope` -> /sys/fs/cgroup/system.slice/...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_ROOT = Path("/proc")
V1_NO_LIMIT = 2**62
"""v1 writes "no limit" as its largest page count in bytes (9223372036854771712 with 4 KiB
pages); anything this large is no limit."""
MAX_CHILD_CGROUPS = 256
"""How many nested cgroups to visit for PIDs (systemd in a container makes a few)."""

V1_FILES = {
    "memory": (
        "memory.usage_in_bytes",
        "memory.max_usage_in_bytes",
        "memory.limit_in_bytes",
        "memory.oom_control",
    ),
    "cpu": ("cpuacct.usage",),
}
V2_FILES = (
    "memory.current",
    "memory.peak",
    "memory.max",
    "memory.events",
    "cpu.stat",
)
"""The files read each sample (cgroup.procs is read separately, in nested cgroups too)."""


class CgroupUnreadable(HarnessError):
    """The container's cgroup cannot be read: it is gone (the container exited), Docker runs on
    another machine, or permissions forbid it. Usage sampling turns this into a note."""

    def __init__(self, message: str, *, gone: bool = False, where: str | None = None):
        super().__init__(message, where=where)
        self.gone = gone


@dataclass(frozen=True)
class CgroupEntry:
    """One line of /proc/PID/cgroup: `hierarchy:controllers:path`."""

    hierarchy: int
    controllers: tuple[str, ...]
    """Empty for the v2 unified hierarchy (`0::/path`); `name=systemd` lines keep their name."""
    path: str


@dataclass(frozen=True)
class CgroupReading:
    """One reading of a cgroup's counters; None where the kernel has no such file."""

    memory_bytes: int | None
    peak_memory_bytes: int | None
    """The kernel's high-water mark (v1 max_usage_in_bytes, v2 memory.peak from Linux 5.19)."""
    memory_limit_bytes: int | None
    """None when unlimited."""
    oom_kills: int | None
    cpu_seconds: float | None
    pids: tuple[int, ...]


@dataclass(frozen=True)
class CgroupLocation:
    version: int
    memory_dir: Path
    cpu_dir: Path
    """The same folder as memory_dir on v2."""


# -- pure parsers -----------------------------------------------------------------------------


def parse_proc_cgroup(text: str) -> tuple[CgroupEntry, ...]:
    """The lines of /proc/PID/cgroup."""
    entries: list[CgroupEntry] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        hierarchy, controllers, path = line.split(":", 2)
        names = tuple(name for name in controllers.split(",") if name)
        entries.append(CgroupEntry(int(hierarchy), names, path))
    return tuple(entries)


def parse_number(text: str) -> int | None:
    """A file holding one number; None for v2's `max` (no limit)."""
    value = text.strip()
    return None if value == "max" else int(value)


def parse_keyed(text: str) -> dict[str, int]:
    """`key value` lines: memory.events, memory.oom_control, cpu.stat, memory.stat."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key and value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def parse_pids(text: str) -> tuple[int, ...]:
    """cgroup.procs: one PID a line."""
    return tuple(int(line) for line in text.split() if line.isdigit())


def _limit_v1(text: str | None) -> int | None:
    value = None if text is None else parse_number(text)
    return None if value is None or value >= V1_NO_LIMIT else value


def _number(text: str | None) -> int | None:
    return None if text is None else parse_number(text)


def reading_v1(files: Mapping[str, str], pids: tuple[int, ...] = ()) -> CgroupReading:
    """A reading from v1 files' texts by name (V1_FILES); absent names are unknown values."""
    usage = _number(files.get("cpuacct.usage"))  # nanoseconds
    oom = files.get("memory.oom_control")
    return CgroupReading(
        memory_bytes=_number(files.get("memory.usage_in_bytes")),
        peak_memory_bytes=_number(files.get("memory.max_usage_in_bytes")),
        memory_limit_bytes=_limit_v1(files.get("memory.limit_in_bytes")),
        # `oom_kill` appeared in Linux 4.13; older kernels only say `under_oom`.
        oom_kills=None if oom is None else parse_keyed(oom).get("oom_kill"),
        cpu_seconds=None if usage is None else usage / 1e9,
        pids=pids or parse_pids(files.get("cgroup.procs", "")),
    )


def reading_v2(files: Mapping[str, str], pids: tuple[int, ...] = ()) -> CgroupReading:
    """A reading from v2 files' texts by name (V2_FILES); absent names are unknown values."""
    events = files.get("memory.events")
    cpu = files.get("cpu.stat")
    usage = None if cpu is None else parse_keyed(cpu).get("usage_usec")
    return CgroupReading(
        memory_bytes=_number(files.get("memory.current")),
        peak_memory_bytes=_number(files.get("memory.peak")),
        memory_limit_bytes=_number(files.get("memory.max")),
        oom_kills=None if events is None else parse_keyed(events).get("oom_kill"),
        cpu_seconds=None if usage is None else usage / 1e6,
        pids=pids or parse_pids(files.get("cgroup.procs", "")),
    )


def locate(entries: tuple[CgroupEntry, ...], version: int, root: Path) -> CgroupLocation:
    """Where a process's cgroup lives under `root`, from its /proc/PID/cgroup entries.

    Raises CgroupUnreadable when the entries lack the hierarchy this version needs.
    """
    if version == 2:
        for entry in entries:
            if entry.hierarchy == 0 and not entry.controllers:
                folder = root / entry.path.lstrip("/")
                return CgroupLocation(2, folder, folder)
        raise CgroupUnreadable("the process is in no cgroup v2 hierarchy")
    memory = _v1_entry(entries, "memory")
    cpu = _v1_entry(entries, "cpuacct")
    # The cpuacct hierarchy is often mounted together with cpu as `cpu,cpuacct` (a `cpuacct`
    # symlink usually exists too); the controller list names that folder.
    cpu_mount = root / "cpuacct"
    if not cpu_mount.exists():
        cpu_mount = root / ",".join(cpu.controllers)
    return CgroupLocation(
        1, root / "memory" / memory.path.lstrip("/"), cpu_mount / cpu.path.lstrip("/")
    )


def _v1_entry(entries: tuple[CgroupEntry, ...], controller: str) -> CgroupEntry:
    for entry in entries:
        if controller in entry.controllers:
            return entry
    raise CgroupUnreadable(f"the process is in no cgroup v1 {controller} hierarchy")


# -- file I/O ---------------------------------------------------------------------------------


class CgroupReader:
    """Reads cgroups under `root` (default /sys/fs/cgroup) for PIDs under `proc` (/proc)."""

    def __init__(self, root: Path = CGROUP_ROOT, proc: Path = PROC_ROOT) -> None:
        self.root = root
        self.proc = proc

    def version(self) -> int:
        """2 when `root` is the unified hierarchy (it has cgroup.controllers), else 1."""
        return 2 if (self.root / "cgroup.controllers").exists() else 1

    def locate(self, pid: int) -> CgroupLocation:
        """The cgroup of process `pid` (a container's State.Pid, a host PID)."""
        source = self.proc / str(pid) / "cgroup"
        try:
            text = source.read_text()
        except FileNotFoundError:
            raise CgroupUnreadable(
                f"no process {pid} on this machine (it has exited, or Docker runs elsewhere)",
                gone=True,
            ) from None
        except OSError as exc:
            raise CgroupUnreadable(f"cannot read {source}: {exc.strerror}") from None
        try:
            entries = parse_proc_cgroup(text)
        except ValueError:
            raise CgroupUnreadable(f"{source} is not in the cgroup format") from None
        location = locate(entries, self.version(), self.root)
        if not location.memory_dir.is_dir():
            # A relative path (cgroup namespace) or a daemon in another machine or VM.
            raise CgroupUnreadable(
                f"process {pid}'s cgroup {location.memory_dir} is not on this machine"
            )
        return location

    def read(self, location: CgroupLocation) -> CgroupReading:
        """Read every counter; CgroupUnreadable(gone=True) once the cgroup has been removed."""
        pids = self._pids(location.memory_dir)
        if location.version == 2:
            return reading_v2(self._files(location.memory_dir, V2_FILES), pids)
        files = {
            **self._files(location.memory_dir, V1_FILES["memory"]),
            **self._files(location.cpu_dir, V1_FILES["cpu"]),
        }
        return reading_v1(files, pids)

    def _files(self, folder: Path, names: tuple[str, ...]) -> dict[str, str]:
        texts: dict[str, str] = {}
        for name in names:
            try:
                texts[name] = (folder / name).read_text()
            except FileNotFoundError:
                if not folder.is_dir():
                    raise CgroupUnreadable(
                        f"{folder} is gone (the container exited)", gone=True
                    ) from None
                # This kernel lacks the file (memory.peak before 5.19): the value is unknown.
            except OSError as exc:
                raise CgroupUnreadable(f"cannot read {folder / name}: {exc.strerror}") from None
        return texts

    def _pids(self, folder: Path) -> tuple[int, ...]:
        """PIDs of the cgroup and of the cgroups nested in it (re-read each time: workers fork)."""
        pids: list[int] = []
        for visited, (current, _dirs, files) in enumerate(os.walk(folder)):
            if visited >= MAX_CHILD_CGROUPS:
                break
            if "cgroup.procs" in files:
                try:
                    pids += parse_pids((Path(current) / "cgroup.procs").read_text())
                except OSError:
                    continue  # a nested cgroup removed while walking
        return tuple(sorted(set(pids)))
