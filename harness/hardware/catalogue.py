"""The catalogue of SageMaker ml.* instance types the harness can emulate.

The data ships inside the package (harness/profiles/instance-types.csv; provenance in the
README next to it): EC2's DescribeInstanceTypes figures for the EC2 type of the same name, and the
SageMaker APIs whose enums list the name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal, get_args

from harness.algorithm.suggest import did_you_mean
from harness.errors import HarnessError, UsageError

AcceleratorKind = Literal["none", "nvidia", "trainium", "inferentia"]
Api = Literal["training", "hosting", "processing", "transform"]

CATALOGUE_FILE = "profiles/instance-types.csv"
MIB = 2**20

# Looking the CSV's text up here both validates it and narrows it to the Literal type.
_KINDS: dict[str, AcceleratorKind] = {kind: kind for kind in get_args(AcceleratorKind)}
_APIS: frozenset[str] = frozenset(get_args(Api))


@dataclass(frozen=True)
class InstanceType:
    """One ml.* instance type: what a container gets on it.

    >>> t = lookup_instance_type("ml.g5.xlarge")
    >>> (t.vcpu, t.memory_mib, t.accelerator_count, t.accelerator_model)
    (4, 16384, 1, 'A10G')
    """

    name: str
    family: str
    vcpu: int
    memory_mib: int
    accelerator_kind: AcceleratorKind
    accelerator_count: int
    accelerator_model: str | None
    accelerator_memory_mib_each: int | None
    apis: frozenset[str]
    """The SageMaker APIs that accept the name: training, hosting, processing, transform."""

    @property
    def is_gpu(self) -> bool:
        return self.accelerator_kind == "nvidia" and self.accelerator_count > 0

    @property
    def is_neuron(self) -> bool:
        return self.accelerator_kind in ("trainium", "inferentia")

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * MIB

    def accelerator_text(self) -> str:
        """`1 x NVIDIA A10G (22888 MiB)`, or `none`."""
        if self.accelerator_kind == "none" or self.accelerator_count == 0:
            return "none"
        model = self.accelerator_model or self.accelerator_kind
        vendor = "NVIDIA " if self.accelerator_kind == "nvidia" else ""
        text = f"{self.accelerator_count} x {vendor}{model}"
        if self.accelerator_memory_mib_each:
            text += f" ({self.accelerator_memory_mib_each} MiB)"
        return text


def parse_catalogue(text: str, *, source: str = CATALOGUE_FILE) -> dict[str, InstanceType]:
    """The catalogue in `text` (the CSV's columns), keyed by name, in file order.

    A malformed row is a HarnessError naming the line: the file ships with the harness, so a bad
    row is a bug in the harness, not in the user's input.
    """
    reader = csv.DictReader(io.StringIO(text))
    catalogue: dict[str, InstanceType] = {}
    for row in reader:
        where = f"{source}:{reader.line_num}"
        try:
            instance_type = _instance_type(row)
        except (KeyError, ValueError) as exc:
            raise HarnessError(f"malformed instance type row: {exc}", where=where) from None
        if instance_type.name in catalogue:
            raise HarnessError(f"{instance_type.name} is listed twice", where=where)
        catalogue[instance_type.name] = instance_type
    return catalogue


def _instance_type(row: dict[str, str]) -> InstanceType:
    text = row["accelerator_kind"]
    kind = _KINDS.get(text)
    if kind is None:
        raise ValueError(f"accelerator_kind {text!r} is not one of {sorted(_KINDS)}")
    apis = frozenset(api for api in row["sagemaker_apis"].split("|") if api)
    if not apis <= _APIS:
        raise ValueError(f"sagemaker_apis {sorted(apis - _APIS)} unknown")
    memory_each = row["accelerator_memory_mib_each"]
    return InstanceType(
        name=row["instance_type"],
        family=row["family"],
        vcpu=int(row["vcpu"]),
        memory_mib=int(row["memory_mib"]),
        accelerator_kind=kind,
        accelerator_count=int(row["accelerator_count"]),
        accelerator_model=row["accelerator_model"] or None,
        accelerator_memory_mib_each=int(memory_each) if memory_each else None,
        apis=apis,
    )


@cache
def _shipped() -> tuple[tuple[str, InstanceType], ...]:
    text = resources.files("harness").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return tuple(parse_catalogue(text).items())


def load_catalogue() -> dict[str, InstanceType]:
    """Every catalogued instance type by name, in catalogue order (families, then sizes).

    The file is read once per process; each call returns a new dict, so callers may change it.
    """
    return dict(_shipped())


def lookup_instance_type(name: str, *, where: str | None = None) -> InstanceType:
    """The catalogued type called `name`; a UsageError with a did-you-mean hint otherwise."""
    catalogue = load_catalogue()
    found = catalogue.get(name)
    if found is not None:
        return found
    names = list(catalogue)
    hint = did_you_mean(name, names)
    if hint is None and not name.startswith("ml."):
        hint = did_you_mean(f"ml.{name}", names)
    raise UsageError(
        f"unknown instance type {name!r}",
        where=where,
        hint=hint or "`harness doctor` lists every catalogued instance type",
    )
