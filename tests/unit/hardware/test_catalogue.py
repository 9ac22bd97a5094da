from __future__ import annotations

import re

import pytest

from harness.errors import HarnessError, UsageError
from harness.hardware.catalogue import (
    InstanceType,
    load_catalogue,
    lookup_instance_type,
    parse_catalogue,
)

HEADER = (
    "instance_type,family,vcpu,memory_gib,accelerator_kind,accelerator_count,accelerator_model,"
    "accelerator_memory_gib_each,source,memory_mib,accelerator_memory_mib_each,sagemaker_apis,"
    "notes\n"
)
G5 = "ml.g5.xlarge,ml.g5,4,16,nvidia,1,A10G,22.352,src,16384,22888,training|hosting,\n"
M5 = "ml.m5.large,ml.m5,2,8,none,0,,,src,8192,,training|hosting|processing|transform,\n"


def test_parse_reads_every_column():
    catalogue = parse_catalogue(HEADER + M5 + G5)
    assert list(catalogue) == ["ml.m5.large", "ml.g5.xlarge"]
    assert catalogue["ml.g5.xlarge"] == InstanceType(
        name="ml.g5.xlarge",
        family="ml.g5",
        vcpu=4,
        memory_mib=16384,
        accelerator_kind="nvidia",
        accelerator_count=1,
        accelerator_model="A10G",
        accelerator_memory_mib_each=22888,
        apis=frozenset({"training", "hosting"}),
    )
    m5 = catalogue["ml.m5.large"]
    assert (m5.accelerator_model, m5.accelerator_memory_mib_each) == (None, None)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (M5.replace("none", "tpu"), "accelerator_kind 'tpu'"),
        (M5.replace(",2,8,", ",two,8,"), "invalid literal"),
        (M5.replace("|transform", "|notebook"), "sagemaker_apis ['notebook']"),
    ],
    ids=["kind", "vcpu", "api"],
)
def test_parse_names_the_bad_line(row, message):
    with pytest.raises(HarnessError, match=re.escape(message)) as caught:
        parse_catalogue(HEADER + G5 + row)
    assert caught.value.where is not None
    assert caught.value.where.endswith(":3")


def test_parse_rejects_duplicates():
    with pytest.raises(HarnessError, match="listed twice"):
        parse_catalogue(HEADER + M5 + M5)


def test_properties():
    catalogue = parse_catalogue(HEADER + M5 + G5)
    g5, m5 = catalogue["ml.g5.xlarge"], catalogue["ml.m5.large"]
    assert (g5.is_gpu, g5.is_neuron, m5.is_gpu, m5.is_neuron) == (True, False, False, False)
    assert m5.memory_bytes == 8 * 2**30
    assert g5.accelerator_text() == "1 x NVIDIA A10G (22888 MiB)"
    assert m5.accelerator_text() == "none"


def test_shipped_catalogue():
    catalogue = load_catalogue()
    assert len(catalogue) == 124
    assert all(name.startswith("ml.") for name in catalogue)
    p4d = catalogue["ml.p4d.24xlarge"]
    assert (p4d.vcpu, p4d.memory_mib, p4d.accelerator_count, p4d.accelerator_model) == (
        96,
        1179648,
        8,
        "A100",
    )
    trn = catalogue["ml.trn1.32xlarge"]
    assert trn.is_neuron
    assert not trn.is_gpu
    assert trn.accelerator_count == 16
    assert catalogue["ml.inf2.xlarge"].apis == frozenset({"hosting", "transform"})
    assert catalogue["ml.c5n.xlarge"].memory_mib == 10752  # 10.5 GiB: MiB is exact
    assert all(t.accelerator_count == 0 for t in catalogue.values() if t.accelerator_kind == "none")
    assert all(t.accelerator_count > 0 for t in catalogue.values() if t.accelerator_kind != "none")


def test_load_returns_a_copy():
    first = load_catalogue()
    first.clear()
    assert len(load_catalogue()) == 124


def test_lookup_finds_a_type():
    assert lookup_instance_type("ml.g5.xlarge").accelerator_model == "A10G"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("ml.g5.xlarg", "did you mean 'ml.g5.xlarge'"),
        ("ML.M5.LARGE", "did you mean 'ml.m5.large'? (names are case-sensitive)"),
        ("g5.12xlarge", "did you mean 'ml.g5.12xlarge'"),
        ("ml.z9.huge", "`harness doctor` lists every catalogued instance type"),
    ],
    ids=["typo", "case", "no-prefix", "nothing-close"],
)
def test_lookup_hints(name, hint):
    with pytest.raises(UsageError, match=re.escape(f"unknown instance type '{name}'")) as caught:
        lookup_instance_type(name, where="plan.yaml:4")
    assert caught.value.hint is not None
    assert hint in caught.value.hint
    assert caught.value.where == "plan.yaml:4"
