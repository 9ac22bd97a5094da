"""Literal report.json contents for `harness spec`'s tests: what a run of the reference plan
records, in the parts `harness spec` reads (images, runs, checks, options, plan digest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).parents[3] / "fixtures" / "algorithms" / "reference"
DIGEST = "sha256:" + "ab" * 32
ROLE = "arn:aws:iam::123456789012:role/SageMakerValidation"


def reference_request(folder: Path = REFERENCE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "algorithm.json").read_text())
    return data


def passing_checks(profile: str, instance_type: str) -> list[dict[str, Any]]:
    ids = ["TRAIN-COMPLETES", "TRAIN-MODEL", "TRAIN-METRICS", "SERVE-PING", "TRANSFORM-OUTPUT"]
    checks = [
        {
            "id": check_id,
            "status": "pass",
            "profile": profile,
            "instance_type": instance_type,
            "message": "ok",
        }
        for check_id in ids
    ]
    checks.append(
        {
            "id": "TRAIN-GPU-USED",
            "status": "skip",
            "profile": profile,
            "instance_type": instance_type,
            "message": f"{instance_type} has no GPUs",
        }
    )
    return checks


def passing_report(request: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The smoke profile passed on ml.m5.large (130 s) and ml.t3.medium (250 s)."""
    image = request["TrainingSpecification"]["TrainingImage"]
    runs = [
        ("ml.m5.large", 130.2, 700),
        ("ml.t3.medium", 250.0, 900),
    ]
    report: dict[str, Any] = {
        "interrupted": False,
        "errors": [],
        "options": {"only": [], "skip": [], "instance_types": [], "profiles": ["smoke"]},
        "images": [
            {"role": "training", "image": image, "resolved_digest": DIGEST},
            {"role": "inference[0]", "image": image, "resolved_digest": DIGEST},
        ],
        "runs": [
            {
                "profile": "smoke",
                "instance_type": instance_type,
                "emulation": "exact",
                "training": {
                    "duration_s": seconds,
                    "model_artifact": {"bytes": model},
                    "output_artifact": {"bytes": 100},
                },
            }
            for instance_type, seconds, model in runs
        ],
        "checks": [{"id": "SPEC-SCHEMA", "status": "pass", "profile": None, "message": "ok"}]
        + [c for instance_type, _, _ in runs for c in passing_checks("smoke", instance_type)],
    }
    report.update(changes)
    return report
