"""Fake /proc and /sys/fs/cgroup trees with the files the kernel writes, for both versions."""

from __future__ import annotations

from pathlib import Path

from harness.hardware.cgroup import CgroupReader

CONTAINER = "551ac7876323a8b6eb2f50e07c586c2d25aab6214d463ee3bdc5972c906480d8"

# /proc/PID/cgroup of a container on the CI machine (Docker 20.10, cgroupfs driver, cgroup v1).
PROC_CGROUP_V1 = f"""\
9:name=systemd:/docker/{CONTAINER}
8:pids:/docker/{CONTAINER}
4:memory:/docker/{CONTAINER}
3:cpuset:/docker/{CONTAINER}
2:cpuacct:/docker/{CONTAINER}
1:cpu:/docker/{CONTAINER}
0::/docker/{CONTAINER}
"""
# The same on a systemd host with cgroup v2 (Docker's systemd cgroup driver).
PROC_CGROUP_V2 = f"0::/system.slice/docker-{CONTAINER}.scope\n"

V1_MEMORY = {
    "memory.usage_in_bytes": "210862080\n",
    "memory.max_usage_in_bytes": "221511680\n",
    "memory.limit_in_bytes": "536870912\n",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    "cgroup.procs": "338\n",
}
V1_CPUACCT = {"cpuacct.usage": "1032956974\n"}
V2_FILES = {
    "memory.current": "210862080\n",
    "memory.peak": "221511680\n",
    "memory.max": "536870912\n",
    "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    "cpu.stat": "usage_usec 1032956\nuser_usec 1000000\nsystem_usec 32956\n"
    "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    "cgroup.procs": "338\n",
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def v1_tree(root: Path, pid: int = 338, cpu_mount: str = "cpuacct") -> CgroupReader:
    """cgroup v1 as Docker's cgroupfs driver lays it out; `cpu_mount` may be `cpu,cpuacct`."""
    text = PROC_CGROUP_V1
    if cpu_mount != "cpuacct":
        text = text.replace("2:cpuacct:", f"2:{cpu_mount}:").replace("1:cpu:/docker", "1:x:/y")
    write(root / "proc" / str(pid), {"cgroup": text})
    write(root / "sys/memory/docker" / CONTAINER, V1_MEMORY)
    write(root / "sys" / cpu_mount / "docker" / CONTAINER, V1_CPUACCT)
    return CgroupReader(root / "sys", root / "proc")


def v2_folder(root: Path) -> Path:
    return root / "sys/system.slice" / f"docker-{CONTAINER}.scope"


def v2_tree(root: Path, pid: int = 338) -> CgroupReader:
    write(root / "proc" / str(pid), {"cgroup": PROC_CGROUP_V2})
    write(root / "sys", {"cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n"})
    write(v2_folder(root), V2_FILES)
    return CgroupReader(root / "sys", root / "proc")
