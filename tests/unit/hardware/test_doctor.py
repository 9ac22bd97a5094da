from __future__ import annotations

import json

from harness import __version__
from harness.hardware.catalogue import load_catalogue, lookup_instance_type
from harness.hardware.emulation import plan_emulation
from harness.report.doctor import render_doctor_json, render_doctor_text

from .conftest import make_gpu_host, make_host

EXPECTED_TEXT = """\
host      2 logical CPUs (usable 0-1), 23.5 GiB memory, cgroup v1
GPUs      none (NVML: driver not loaded)
Docker    20.10.24+dfsg1, runtimes io.containerd.runc.v2, runc (default runc), no nvidia runtime
/dev/shm  50 % of each container's memory limit (SageMaker documents none)
reserve   1024 MiB of host memory left to the OS and Docker

exact: the container gets what the instance type has (1)
  instance type  vCPU  memory  accelerators                 CPUs  limit   shm
  ml.m5.large       2  8 GiB   none                         0-1   8 GiB   4 GiB

scaled: runs, with less (or other) hardware than the instance type has (1)
  instance type  vCPU  memory  accelerators                 CPUs  limit   shm
  ml.m5.xlarge      4  16 GiB  none                         0-1   16 GiB  8 GiB
      - ml.m5.xlarge has 4 vCPUs; this host has 2: running on 2

unavailable: cannot run on this host (1)
  instance type  vCPU  memory  accelerators                 CPUs  limit   shm
  ml.g5.xlarge      4  16 GiB  1 x NVIDIA A10G (22888 MiB)  -     -       -
      - ml.g5.xlarge needs 1 NVIDIA A10G GPU; this host has none (NVML: driver not loaded)
      - ml.g5.xlarge has 4 vCPUs; this host has 2: running on 2
"""


def plans(host, names):
    return [plan_emulation(lookup_instance_type(name), host) for name in names]


def test_text_on_the_ci_host():
    host = make_host()
    text = render_doctor_text(host, plans(host, ["ml.m5.large", "ml.m5.xlarge", "ml.g5.xlarge"]))
    assert text == EXPECTED_TEXT


def test_text_names_gpus_by_index_and_skips_empty_groups():
    host = make_gpu_host(2, "NVIDIA A10G")
    text = render_doctor_text(host, plans(host, ["ml.g5.xlarge"]))
    assert "GPU 0     NVIDIA A10G, 23028 MiB, GPU-00000000-0000" in text
    assert "nvidia runtime\n" in text
    assert "no nvidia runtime" not in text
    assert "0-3, GPU 0" in text
    assert "scaled:" not in text
    assert "unavailable:" not in text


def test_text_without_a_daemon():
    host = make_host(docker_version=None, docker_runtimes=(), docker_default_runtime=None)
    assert "Docker    no daemon answered\n" in render_doctor_text(host, [])


def test_json_has_the_stable_keys():
    host = make_gpu_host(1, "NVIDIA H100 80GB HBM3")
    document = json.loads(render_doctor_json(host, plans(host, ["ml.m5.large", "ml.g5.xlarge"])))
    assert document["schema_version"] == "1"
    assert document["harness_version"] == __version__
    assert set(document["host"]) == {
        "cpus",
        "usable_cpu_ids",
        "memory_mib",
        "gpus",
        "gpu_note",
        "cgroup_version",
        "docker",
    }
    assert set(document["host"]["docker"]) == {
        "version",
        "runtimes",
        "default_runtime",
        "nvidia_runtime",
    }
    assert document["host"]["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    assert document["policy"] == {"shm_percent_of_memory": 50, "host_reserve_mib": 1024}
    assert document["summary"] == {"exact": 1, "scaled": 1, "unavailable": 0}
    g5 = document["instance_types"][1]
    assert {
        "name",
        "vcpu",
        "memory_mib",
        "accelerators",
        "fidelity",
        "reasons",
        "cpuset",
        "memory_bytes",
        "shm_bytes",
        "gpus",
    } <= set(g5)
    assert (g5["name"], g5["fidelity"], g5["gpus"]) == (
        "ml.g5.xlarge",
        "scaled",
        ["GPU-00000000-0000"],
    )


def test_the_whole_catalogue_renders():
    host = make_host()
    emulations = [plan_emulation(t, host) for t in load_catalogue().values()]
    document = json.loads(render_doctor_json(host, emulations))
    assert len(document["instance_types"]) == 124
    assert sum(document["summary"].values()) == 124
    text = render_doctor_text(host, emulations)
    assert all(f"  {t.name} " in text for t in load_catalogue().values())
