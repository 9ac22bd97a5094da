from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.hardware.catalogue import load_catalogue, lookup_instance_type
from harness.hardware.emulation import (
    Emulation,
    Fidelity,
    format_cpuset,
    gib_text,
    parse_cpuset,
    plan_emulation,
    same_gpu_model,
)
from harness.hardware.host import GpuInfo

from .conftest import gpus, make_gpu_host, make_host

GIB = 2**30
MIB = 2**20


def plan(name, host, **kwargs) -> Emulation:
    return plan_emulation(lookup_instance_type(name), host, **kwargs)


# -- CPU types ----------------------------------------------------------------------------------


def test_a_type_the_host_can_hold_is_exact(small_host):
    emulation = plan("ml.m5.large", small_host)
    assert emulation.fidelity is Fidelity.EXACT
    assert emulation.reasons == ()
    assert (emulation.cpuset, emulation.nano_cpus) == ("0-1", None)
    assert emulation.memory_bytes == 8 * GIB
    assert emulation.shm_bytes == 4 * GIB
    assert emulation.gpu_uuids == ()
    assert emulation.environment == {"NVIDIA_VISIBLE_DEVICES": "void"}
    assert emulation.describe() == "ml.m5.large: exact: CPUs 0-1, 8 GiB memory, 4 GiB /dev/shm"


def test_more_vcpus_than_the_host_has_is_scaled(small_host):
    emulation = plan("ml.m5.4xlarge", small_host)
    assert emulation.fidelity is Fidelity.SCALED
    assert emulation.cpuset == "0-1"
    assert emulation.nano_cpus == 2_000_000_000
    assert emulation.reasons == (
        "ml.m5.4xlarge has 16 vCPUs; this host has 2: running on 2",
        "ml.m5.4xlarge has 64 GiB of memory; this host has 23.5 GiB: limited to 22.5 GiB",
    )
    assert emulation.memory_bytes == (24105 - 1024) * MIB
    assert emulation.shm_bytes == (24105 - 1024) // 2 * MIB


def test_a_restricted_affinity_says_usable():
    host = make_host(logical_cpus=8, usable_cpu_ids=(2, 3))
    emulation = plan("ml.m5.xlarge", host)
    assert emulation.cpuset == "2-3"
    assert emulation.reasons[0] == "ml.m5.xlarge has 4 vCPUs; this host has 2 usable: running on 2"


def test_exactly_vcpu_cpus_on_a_big_host(gpu_host):
    emulation = plan("ml.c5.9xlarge", gpu_host)
    assert emulation.fidelity is Fidelity.EXACT
    assert parse_cpuset(emulation.cpuset or "") == tuple(range(36))
    assert emulation.nano_cpus is None


def test_cpu_types_hide_gpus_from_a_default_nvidia_runtime():
    host = make_gpu_host(docker_default_runtime="nvidia")
    assert plan("ml.m5.large", host).environment == {"NVIDIA_VISIBLE_DEVICES": "void"}
    assert plan("ml.m5.large", host).gpu_uuids == ()


# -- hosts of one job ---------------------------------------------------------------------------


@pytest.mark.parametrize("hosts", [2, 4, 8, 16], ids=lambda n: f"{n}-hosts")
def test_concurrent_hosts_get_disjoint_cpus_and_gpus(gpu_host, hosts):
    plans = [plan("ml.g5.xlarge", gpu_host, hosts=hosts, slot=s) for s in range(hosts)]
    if hosts > 8:  # 16 x 1 GPU on an 8-GPU host: shared, and said so
        assert all(p.fidelity is Fidelity.SCALED for p in plans)
        assert (
            "16 hosts of 1 GPU need 16; this host has 8: the hosts share GPUs" in plans[0].reasons
        )
        return
    cpusets = [set(parse_cpuset(p.cpuset or "")) for p in plans]
    assert all(len(cpus) == 4 for cpus in cpusets)
    assert len(set().union(*cpusets)) == 4 * hosts  # pairwise disjoint
    uuids = [u for p in plans for u in p.gpu_uuids]
    assert len(uuids) == len(set(uuids)) == hosts
    assert all(p.fidelity is Fidelity.EXACT for p in plans)


@given(
    host_cpus=st.integers(1, 128),
    vcpu=st.sampled_from([2, 4, 8, 16, 32, 48, 64, 96]),
    hosts=st.integers(1, 8),
)
def test_cpusets_are_exact_and_disjoint_whenever_the_host_has_the_cpus(host_cpus, vcpu, hosts):
    it = next(t for t in load_catalogue().values() if t.vcpu == vcpu and not t.is_gpu)
    host = make_host(logical_cpus=host_cpus, usable_cpu_ids=tuple(range(host_cpus)))
    plans = [plan_emulation(it, host, hosts=hosts, slot=s) for s in range(hosts)]
    sets = [parse_cpuset(p.cpuset or "") for p in plans]
    if vcpu * hosts <= host_cpus:
        assert all(len(s) == vcpu for s in sets)
        assert len(set().union(*map(set, sets))) == vcpu * hosts
        assert all(p.nano_cpus is None for p in plans)
    elif vcpu <= host_cpus:
        assert all(len(s) == vcpu for s in sets)
        assert all(any("share CPUs" in r for r in p.reasons) for p in plans)
    else:
        assert all(s == tuple(range(host_cpus)) for s in sets)
        assert all(p.nano_cpus == host_cpus * 10**9 for p in plans)
    assert all(set(s) <= set(range(host_cpus)) for s in sets)


def test_too_few_cpus_for_disjoint_sets_overlap_evenly():
    host = make_host(logical_cpus=8, usable_cpu_ids=tuple(range(8)))
    plans = [plan("ml.m5.xlarge", host, hosts=3, slot=s) for s in range(3)]
    assert [p.cpuset for p in plans] == ["0-3", "4-7", "0-3"]
    assert plans[0].fidelity is Fidelity.SCALED
    assert "3 hosts of 4 vCPUs need 12 CPUs; this host has 8: the hosts share CPUs" in (
        plans[0].reasons
    )


def test_memory_is_split_between_hosts():
    host = make_host(logical_cpus=64, usable_cpu_ids=tuple(range(64)), memory_mib=100 * 1024)
    emulation = plan("ml.m5.4xlarge", host, hosts=2, slot=1)
    assert emulation.memory_bytes == (100 * 1024 - 1024) // 2 * MIB
    assert emulation.reasons == (
        "ml.m5.4xlarge has 64 GiB of memory; this host has 100 GiB: limited to 49.5 GiB "
        "per host (2 hosts)",
    )
    assert plan("ml.m5.4xlarge", host).fidelity is Fidelity.EXACT


def test_a_host_with_almost_no_memory_cannot_emulate():
    emulation = plan("ml.m5.large", make_host(memory_mib=1200))
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert "under 256 MiB would be left" in emulation.reasons[0]


@pytest.mark.parametrize(("hosts", "slot"), [(0, 0), (2, 2), (1, -1)])
def test_bad_slots_are_usage_errors(small_host, hosts, slot):
    with pytest.raises(UsageError, match="host slot"):
        plan("ml.m5.large", small_host, hosts=hosts, slot=slot)


# -- GPUs ---------------------------------------------------------------------------------------


def test_a_gpu_type_on_a_gpu_host_is_exact(gpu_host):
    emulation = plan("ml.g5.12xlarge", gpu_host)
    assert emulation.fidelity is Fidelity.EXACT, emulation.reasons
    assert emulation.cpuset == "0-47"
    assert emulation.memory_bytes == 192 * GIB
    assert emulation.gpu_uuids == tuple(g.uuid for g in gpu_host.gpus[:4])
    assert emulation.environment == {}


def test_no_gpus_is_unavailable(small_host):
    emulation = plan("ml.g5.xlarge", small_host)
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert emulation.reasons[0] == (
        "ml.g5.xlarge needs 1 NVIDIA A10G GPU; this host has none (NVML: driver not loaded)"
    )
    assert emulation.gpu_uuids == ()
    assert emulation.describe().startswith("ml.g5.xlarge: unavailable: ml.g5.xlarge needs 1")


def test_too_few_gpus_is_unavailable():
    emulation = plan("ml.p4d.24xlarge", make_gpu_host(4, "NVIDIA A100-SXM4-40GB"))
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert emulation.reasons[0] == "ml.p4d.24xlarge needs 8 NVIDIA A100 GPUs; this host has 4"


def test_gpus_without_the_nvidia_runtime_are_unavailable():
    host = make_gpu_host(docker_runtimes=("runc",), nvidia_runtime=False)
    emulation = plan("ml.g5.xlarge", host)
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert "Docker has no nvidia runtime" in emulation.reasons[0]
    assert emulation.gpu_uuids == ()


def test_another_gpu_model_is_scaled():
    host = make_gpu_host(1, "NVIDIA H100 80GB HBM3")
    emulation = plan("ml.g5.xlarge", host)
    assert emulation.fidelity is Fidelity.SCALED
    assert emulation.gpu_uuids == (host.gpus[0].uuid,)
    assert emulation.reasons == (
        "ml.g5.xlarge has NVIDIA A10G GPUs; running on NVIDIA H100 80GB HBM3",
    )


def test_less_gpu_memory_is_scaled():
    host = make_gpu_host(gpus=gpus(8, "NVIDIA A100-SXM4-40GB", 40536))
    emulation = plan("ml.p4de.24xlarge", host)
    assert emulation.fidelity is Fidelity.SCALED
    assert len(emulation.gpu_uuids) == 8
    assert emulation.reasons[-1].startswith(
        "ml.p4de.24xlarge has 81920 MiB per GPU; this host's: GPU 0 40536 MiB, GPU 1 40536 MiB"
    )


def test_nvml_memory_a_little_under_ec2s_figure_is_still_exact():
    host = make_gpu_host(gpus=gpus(1, "NVIDIA A10G", 22731))  # 0.7 % under 22888
    assert plan("ml.g5.xlarge", host).fidelity is Fidelity.EXACT


def test_the_matching_model_is_chosen_first():
    host = make_gpu_host(
        gpus=(
            GpuInfo(0, "GPU-h100", "NVIDIA H100 80GB HBM3", 81559),
            GpuInfo(1, "GPU-a10g", "NVIDIA A10G", 23028),
        )
    )
    emulation = plan("ml.g5.xlarge", host)
    assert (emulation.gpu_uuids, emulation.fidelity) == (("GPU-a10g",), Fidelity.EXACT)
    assert plan("ml.p5.4xlarge", host).gpu_uuids == ("GPU-h100",)


def test_gpu_hosts_sharing_gpus_say_so(gpu_host):
    plans = [plan("ml.g5.12xlarge", gpu_host, hosts=3, slot=s) for s in range(3)]
    assert [len(p.gpu_uuids) for p in plans] == [4, 4, 4]
    assert plans[2].gpu_uuids == plans[0].gpu_uuids
    assert "3 hosts of 4 GPUs need 12; this host has 8: the hosts share GPUs" in plans[0].reasons


@pytest.mark.parametrize(
    ("device", "model", "same"),
    [
        ("NVIDIA A10G", "A10G", True),
        ("Tesla V100-SXM2-16GB", "V100", True),
        ("NVIDIA A100-SXM4-80GB", "A100", True),
        ("Tesla T4", "T4", True),
        ("NVIDIA L40S", "L4", False),
        ("NVIDIA L4", "L40S", False),
        ("NVIDIA H100 80GB HBM3", "H100", True),
        ("NVIDIA A10", "A10G", False),
    ],
)
def test_same_gpu_model(device, model, same):
    assert same_gpu_model(device, model) is same


# -- Neuron, no daemon, the whole catalogue -----------------------------------------------------


@pytest.mark.parametrize("name", ["ml.trn1.2xlarge", "ml.inf2.xlarge"])
def test_neuron_types_are_unavailable(gpu_host, name):
    emulation = plan(name, gpu_host)
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert emulation.reasons == (
        f"{name} needs 1 AWS {lookup_instance_type(name).accelerator_model} device; "
        "the harness cannot give containers Neuron devices",
    )


def test_without_a_daemon_nothing_runs():
    emulation = plan("ml.m5.large", make_host(docker_version=None, docker_runtimes=()))
    assert emulation.fidelity is Fidelity.UNAVAILABLE
    assert emulation.reasons == ("no Docker daemon answered",)


def test_the_whole_catalogue_on_the_ci_host(small_host):
    plans = [plan_emulation(t, small_host) for t in load_catalogue().values()]
    by_fidelity = {f: [p.instance_type.name for p in plans if p.fidelity is f] for f in Fidelity}
    assert "ml.m5.large" in by_fidelity[Fidelity.EXACT]
    assert all(t.vcpu <= 2 for t in map(lookup_instance_type, by_fidelity[Fidelity.EXACT]))
    assert {t.name for t in load_catalogue().values() if t.accelerator_kind != "none"} == set(
        by_fidelity[Fidelity.UNAVAILABLE]
    )
    assert all(p.memory_bytes <= small_host.memory_bytes for p in plans)


def test_the_whole_catalogue_on_a_big_gpu_host():
    host = make_gpu_host(
        8,
        "NVIDIA A100-SXM4-80GB",
        usable_cpu_ids=tuple(range(192)),
        logical_cpus=192,
        memory_mib=2048 * 1024 + 4096,
        gpus=gpus(8, "NVIDIA A100-SXM4-80GB", 81920),
    )
    plans = {t.name: plan_emulation(t, host) for t in load_catalogue().values()}
    assert plans["ml.p4de.24xlarge"].fidelity is Fidelity.EXACT
    assert plans["ml.p4d.24xlarge"].fidelity is Fidelity.EXACT  # more memory per GPU is fine
    assert plans["ml.m7i.48xlarge"].fidelity is Fidelity.EXACT
    assert plans["ml.p5.48xlarge"].fidelity is Fidelity.SCALED  # A100s standing in for H100s
    assert plans["ml.trn1.32xlarge"].fidelity is Fidelity.UNAVAILABLE


# -- settings and helpers -----------------------------------------------------------------------


def test_docker_limits_mean_no_swap(small_host):
    assert plan("ml.m5.large", small_host).docker_limits() == {
        "mem_limit": 8 * GIB,
        "memswap_limit": 8 * GIB,
        "shm_size": 4 * GIB,
        "cpuset_cpus": "0-1",
    }
    assert plan("ml.m5.xlarge", small_host).docker_limits()["nano_cpus"] == 2 * 10**9


def test_to_dict(gpu_host):
    entry = plan("ml.g5.xlarge", gpu_host).to_dict()
    assert entry == {
        "name": "ml.g5.xlarge",
        "vcpu": 4,
        "memory_mib": 16384,
        "accelerators": {"kind": "nvidia", "count": 1, "model": "A10G", "memory_mib_each": 22888},
        "fidelity": "exact",
        "reasons": [],
        "cpuset": "0-3",
        "nano_cpus": None,
        "memory_bytes": 16 * GIB,
        "shm_bytes": 8 * GIB,
        "gpus": [gpu_host.gpus[0].uuid],
    }
    assert plan("ml.m5.large", gpu_host).to_dict()["accelerators"] is None


@pytest.mark.parametrize(
    ("ids", "text"),
    [([0, 1], "0-1"), ([0, 2], "0,2"), ([3, 0, 1, 2, 8, 10, 11], "0-3,8,10-11"), ([], "")],
)
def test_format_cpuset(ids, text):
    assert format_cpuset(ids) == text
    assert parse_cpuset(text) == tuple(sorted(ids))


@given(st.sets(st.integers(0, 300)))
def test_cpuset_round_trip(ids):
    assert parse_cpuset(format_cpuset(ids)) == tuple(sorted(ids))


@pytest.mark.parametrize(
    ("size", "text"),
    [(512 * MIB, "512 MiB"), (8 * GIB, "8 GiB"), (22 * GIB + 512 * MIB, "22.5 GiB")],
)
def test_gib_text(size, text):
    assert gib_text(size) == text
