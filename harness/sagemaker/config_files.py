"""The three files SageMaker writes to /opt/ml/input/config, and the training environment.

Everything is built as plain data by pure functions (contract §1.2, §1.3); `write_config_files`
is the one function that touches the disk. Only what SageMaker documents is written: local mode
writes less, and inventing more would let a container pass here that fails in SageMaker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.algorithm.hyperparameters import with_defaults
from harness.errors import UsageError
from harness.plan import TrainingPlan

HYPERPARAMETERS_FILE = "hyperparameters.json"
INPUTDATACONFIG_FILE = "inputdataconfig.json"
RESOURCECONFIG_FILE = "resourceconfig.json"
# The training toolkit's default for `current_group_name`: a homogeneous job is one group.
GROUP_NAME = "homogeneousCluster"
_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")  # API shape TrainingJobName


def host_names(count: int) -> tuple[str, ...]:
    """`algo-1` .. `algo-N`, in host order (not the lexicographic order of resourceconfig)."""
    if count < 1:
        raise UsageError(f"a training job needs at least one host, not {count}")
    return tuple(f"algo-{index}" for index in range(1, count + 1))


def hyperparameters_json(request: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """The job's values plus every DefaultValue of the algorithm not given (as the SDK fills them).

    `request` is the CreateAlgorithm request; its SupportedHyperParameters supply the defaults.
    All values are strings, as SageMaker passes them.
    """
    specification = request.get("TrainingSpecification")
    specs = (
        specification.get("SupportedHyperParameters") if isinstance(specification, dict) else None
    )
    return with_defaults(specs, given)


def inputdataconfig_json(training: TrainingPlan) -> dict[str, dict[str, str]]:
    """One entry per channel with exactly the four documented keys (ContentType only when set)."""
    config: dict[str, dict[str, str]] = {}
    for channel in training.channels:
        entry: dict[str, str] = {}
        if channel.content_type is not None:
            entry["ContentType"] = channel.content_type
        entry["TrainingInputMode"] = channel.input_mode or training.input_mode
        entry["S3DistributionType"] = channel.distribution
        entry["RecordWrapperType"] = channel.record_wrapper
        config[channel.name] = entry
    return config


def resourceconfig_json(
    current_host: str,
    hosts: Sequence[str],
    instance_type: str,
    network_interface: str = "eth0",
) -> dict[str, Any]:
    """resourceconfig.json of one host of a homogeneous cluster.

    `hosts` is sorted lexicographically as SageMaker documents, so `algo-10` comes before
    `algo-2`; containers that index hosts by position must cope with that.
    """
    ordered = sorted(hosts)
    if len(set(ordered)) != len(ordered):
        raise UsageError(f"host names repeat: {', '.join(ordered)}")
    if current_host not in ordered:
        raise UsageError(f"current host {current_host!r} is not one of {', '.join(ordered)}")
    return {
        "current_host": current_host,
        "current_instance_type": instance_type,
        "current_group_name": GROUP_NAME,
        "hosts": ordered,
        "instance_groups": [
            {
                "instance_group_name": GROUP_NAME,
                "instance_type": instance_type,
                "hosts": list(ordered),
            }
        ],
        "network_interface_name": network_interface,
    }


def training_environment(
    job_name: str, region: str = "us-east-1", account: str = "123456789012"
) -> dict[str, str]:
    """The only variables the platform sets for an algorithm resource's job (contract §1.3)."""
    if not _JOB_NAME.fullmatch(job_name):
        raise UsageError(
            f"{job_name!r} is not a valid training job name",
            hint="1-63 letters, digits and hyphens, starting and ending with a letter or digit",
        )
    if not re.fullmatch(r"[0-9]{12}", account):
        raise UsageError(f"{account!r} is not a 12-digit AWS account id")
    if not re.fullmatch(r"[a-z0-9\-]+", region):
        raise UsageError(f"{region!r} is not an AWS region name")
    return {
        "TRAINING_JOB_NAME": job_name,
        "TRAINING_JOB_ARN": f"arn:aws:sagemaker:{region}:{account}:training-job/{job_name}",
    }


def write_config_files(
    config_dir: Path,
    *,
    hyperparameters: Mapping[str, str],
    inputdataconfig: Mapping[str, Any],
    resourceconfig: Mapping[str, Any],
) -> tuple[Path, Path, Path]:
    """Write the three files into `config_dir` (created if missing) and return their paths.

    Keys keep their insertion order. The files are world-readable so that a container running
    as a non-root user can read them.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        (HYPERPARAMETERS_FILE, hyperparameters),
        (INPUTDATACONFIG_FILE, inputdataconfig),
        (RESOURCECONFIG_FILE, resourceconfig),
    ):
        path = config_dir / name
        path.write_text(json.dumps(dict(data)), encoding="utf-8")
        path.chmod(0o644)
        written.append(path)
    return written[0], written[1], written[2]
