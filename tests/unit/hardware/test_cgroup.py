from __future__ import annotations

import shutil

import pytest

from harness.hardware.cgroup import (
    CgroupEntry,
    CgroupReader,
    CgroupReading,
    CgroupUnreadable,
    parse_keyed,
    parse_number,
    parse_pids,
    parse_proc_cgroup,
    reading_v1,
    reading_v2,
)

from .cgroup_trees import (
    CONTAINER,
    PROC_CGROUP_V1,
    PROC_CGROUP_V2,
    V1_CPUACCT,
    V1_MEMORY,
    V2_FILES,
    v1_tree,
    v2_folder,
    v2_tree,
    write,
)

EXPECTED = CgroupReading(
    memory_bytes=210862080,
    peak_memory_bytes=221511680,
    memory_limit_bytes=536870912,
    oom_kills=0,
    cpu_seconds=pytest.approx(1.032956, abs=1e-6),  # type: ignore[arg-type]
    pids=(338,),
)


# -- parsers ------------------------------------------------------------------------------------


def test_parse_proc_cgroup_v1():
    entries = parse_proc_cgroup(PROC_CGROUP_V1)
    assert entries[0] == CgroupEntry(9, ("name=systemd",), f"/docker/{CONTAINER}")
    assert entries[2] == CgroupEntry(4, ("memory",), f"/docker/{CONTAINER}")
    assert entries[-1] == CgroupEntry(0, (), f"/docker/{CONTAINER}")


def test_parse_proc_cgroup_combined_controllers_and_v2():
    assert parse_proc_cgroup("3:cpu,cpuacct:/docker/x\n")[0].controllers == ("cpu", "cpuacct")
    assert parse_proc_cgroup(PROC_CGROUP_V2) == (
        CgroupEntry(0, (), f"/system.slice/docker-{CONTAINER}.scope"),
    )


def test_parse_proc_cgroup_rejects_other_text():
    with pytest.raises(ValueError):
        parse_proc_cgroup("not a cgroup file\n")


def test_small_parsers():
    assert parse_number("536870912\n") == 536870912
    assert parse_number("max\n") is None
    assert parse_keyed(V2_FILES["memory.events"])["oom_kill"] == 0
    assert parse_keyed("oom_kill_disable 0\nunder_oom 1\noom_kill 3\n") == {
        "oom_kill_disable": 0,
        "under_oom": 1,
        "oom_kill": 3,
    }
    assert parse_pids("338\n412\n\n") == (338, 412)


def test_reading_v1():
    assert reading_v1({**V1_MEMORY, **V1_CPUACCT}) == EXPECTED


def test_reading_v1_unlimited_and_old_kernels():
    files = {
        **V1_MEMORY,
        "memory.limit_in_bytes": "9223372036854771712\n",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n",  # before Linux 4.13
    }
    reading = reading_v1(files)
    assert reading.memory_limit_bytes is None
    assert reading.oom_kills is None
    assert reading.cpu_seconds is None


def test_reading_v2():
    assert reading_v2(V2_FILES) == EXPECTED


def test_reading_v2_without_peak_or_limit():
    files = dict(V2_FILES, **{"memory.max": "max\n", "memory.events": "oom 2\noom_kill 2\n"})
    del files["memory.peak"]  # Linux before 5.19
    reading = reading_v2(files)
    assert (reading.peak_memory_bytes, reading.memory_limit_bytes) == (None, None)
    assert reading.oom_kills == 2


# -- the reader on fake trees -------------------------------------------------------------------


def test_reader_v1(tmp_path):
    reader = v1_tree(tmp_path)
    assert reader.version() == 1
    location = reader.locate(338)
    assert location.memory_dir == tmp_path / "sys/memory/docker" / CONTAINER
    assert location.cpu_dir == tmp_path / "sys/cpuacct/docker" / CONTAINER
    assert reader.read(location) == EXPECTED


def test_reader_v1_with_cpu_and_cpuacct_mounted_together(tmp_path):
    reader = v1_tree(tmp_path, cpu_mount="cpu,cpuacct")
    location = reader.locate(338)
    assert location.cpu_dir == tmp_path / "sys/cpu,cpuacct/docker" / CONTAINER
    assert reader.read(location).cpu_seconds == pytest.approx(1.032956974)


def test_reader_v2(tmp_path):
    reader = v2_tree(tmp_path)
    assert reader.version() == 2
    location = reader.locate(338)
    assert location.memory_dir == location.cpu_dir == v2_folder(tmp_path)
    assert reader.read(location) == EXPECTED


def test_pids_of_nested_cgroups_count(tmp_path):
    reader = v2_tree(tmp_path)
    write(v2_folder(tmp_path) / "init.scope", {"cgroup.procs": "338\n"})
    write(v2_folder(tmp_path) / "workers", {"cgroup.procs": "401\n402\n"})
    (v2_folder(tmp_path) / "cgroup.procs").write_text("")  # v2: processes live in the leaves
    assert reader.read(reader.locate(338)).pids == (338, 401, 402)


def test_a_process_that_is_gone(tmp_path):
    reader = v2_tree(tmp_path)
    with pytest.raises(CgroupUnreadable, match="no process 999 on this machine") as caught:
        reader.locate(999)
    assert caught.value.gone


def test_a_cgroup_that_is_gone(tmp_path):
    reader = v1_tree(tmp_path)
    location = reader.locate(338)
    shutil.rmtree(location.memory_dir)
    with pytest.raises(CgroupUnreadable, match="the container exited") as caught:
        reader.read(location)
    assert caught.value.gone


def test_a_cgroup_of_another_machine(tmp_path):
    """Paths of a daemon in a VM, or relative ones under a cgroup namespace, are not here."""
    reader = v2_tree(tmp_path)
    (tmp_path / "proc/338/cgroup").write_text("0::/../../docker-elsewhere.scope\n")
    with pytest.raises(CgroupUnreadable, match="is not on this machine"):
        reader.locate(338)


def test_a_process_in_no_memory_hierarchy(tmp_path):
    reader = v1_tree(tmp_path)
    (tmp_path / "proc/338/cgroup").write_text("2:cpuacct:/docker/x\n")
    with pytest.raises(CgroupUnreadable, match="no cgroup v1 memory hierarchy"):
        reader.locate(338)


def test_an_unreadable_file_is_not_gone(tmp_path):
    reader = v2_tree(tmp_path)
    location = reader.locate(338)
    (location.memory_dir / "memory.current").unlink()
    (location.memory_dir / "memory.current").mkdir()  # reading it fails with EISDIR
    with pytest.raises(CgroupUnreadable, match="cannot read") as caught:
        reader.read(location)
    assert not caught.value.gone


def test_the_default_roots():
    reader = CgroupReader()
    assert (str(reader.root), str(reader.proc)) == ("/sys/fs/cgroup", "/proc")
