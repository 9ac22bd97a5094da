"""The bundled reference algorithm honours the training contract in a real container.

These tests run the container by hand, as SageMaker would (`IMAGE train`, /opt/ml mounted,
no network); they prove the fixture that the harness's own training runner is tested against.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docker
import pytest

from .conftest import FIXTURES, TEST_LABEL

pytestmark = pytest.mark.docker

DATA = FIXTURES / "algorithms/reference/data"


def make_opt_ml(root: Path, hyperparameters: dict[str, str]) -> Path:
    config = root / "input/config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    (config / "inputdataconfig.json").write_text(
        json.dumps(
            {
                "training": {
                    "ContentType": "text/csv",
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                },
            }
        )
    )
    (config / "resourceconfig.json").write_text(
        json.dumps(
            {
                "current_host": "algo-1",
                "hosts": ["algo-1"],
                "current_instance_type": "ml.m5.large",
                "current_group_name": "homogeneousCluster",
                "network_interface_name": "eth0",
                "instance_groups": [
                    {
                        "instance_group_name": "homogeneousCluster",
                        "instance_type": "ml.m5.large",
                        "hosts": ["algo-1"],
                    }
                ],
            }
        )
    )
    shutil.copytree(DATA / "training", root / "input/data/training")
    for folder in ("model", "output/data"):
        (root / folder).mkdir(parents=True)
    return root


def run_train(client: docker.DockerClient, image: str, opt_ml: Path) -> tuple[int, str]:
    container = client.containers.run(
        image,
        ["train"],
        detach=True,
        network_mode="none",
        hostname="algo-1",
        extra_hosts={"algo-1": "127.0.0.1"},
        labels={TEST_LABEL: "1"},
        environment={"TRAINING_JOB_NAME": "test-job"},
        volumes={
            str(opt_ml / "input"): {"bind": "/opt/ml/input", "mode": "ro"},
            str(opt_ml / "model"): {"bind": "/opt/ml/model", "mode": "rw"},
            str(opt_ml / "output"): {"bind": "/opt/ml/output", "mode": "rw"},
        },
    )
    try:
        status = container.wait(timeout=120)
        logs = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    return int(status["StatusCode"]), logs


def test_reference_algorithm_trains_without_network(docker_client, reference_image, tmp_path):
    opt_ml = make_opt_ml(tmp_path / "opt_ml", {"epochs": "3", "learning_rate": "0.1"})
    code, logs = run_train(docker_client, reference_image, opt_ml)
    assert code == 0, logs
    assert any((opt_ml / "model").iterdir()), logs
    assert "train_loss=" in logs
    assert not (opt_ml / "output/failure").exists()


def test_reference_algorithm_explains_a_failure(docker_client, reference_image, tmp_path):
    opt_ml = make_opt_ml(tmp_path / "opt_ml", {"epochs": "-1"})
    code, logs = run_train(docker_client, reference_image, opt_ml)
    assert code != 0, logs
    reason = (opt_ml / "output/failure").read_text()
    assert "epochs" in reason
    assert len(reason) <= 1024
