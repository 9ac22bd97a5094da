"""`harness validate` on a 1 MB request, against botocore's own ParamValidator in the same run.

botocore checks only required members, types and minimums; the harness checks everything
(maxima, patterns, enums, cross-field rules). The ratio says what the extra checking costs.
Target (DESIGN §5): a typical request well under 1 s; here a 1 MB one.
Run: .venv/bin/python bench/bench_validate.py
"""

from __future__ import annotations

import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def one_megabyte_request() -> dict[str, Any]:
    request: dict[str, Any] = yaml.safe_load((ROOT / "fixtures/requests/complete.yaml").read_text())
    spec = request["TrainingSpecification"]
    # Fill the request to the API's list maxima with long but valid values, then pad with
    # descriptions until the JSON is about 1 MB.
    spec["SupportedHyperParameters"] += [
        {
            **copy.deepcopy(spec["SupportedHyperParameters"][i % 2]),
            "Name": f"hp_{i}",
            "Description": "d" * 1000,
        }
        for i in range(96)
    ]
    spec["MetricDefinitions"] += [
        {"Name": f"metric:{i}", "Regex": f"metric_{i}=([-+]?[0-9]*\\.?[0-9]+)" + " " * 400}
        for i in range(38)
    ]
    request["InferenceSpecification"]["Containers"] = [
        {
            **request["InferenceSpecification"]["Containers"][0],
            "Environment": {f"VAR_{j}": "v" * 1000 for j in range(100)},
        }
        for _ in range(9)
    ]
    request["Tags"] = [{"Key": f"k{i}", "Value": "v" * 250} for i in range(50)]
    return request


def timed(function: Callable[[], object], repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    from botocore.validate import ParamValidator

    from harness.algorithm.service_model import create_algorithm_input
    from harness.algorithm.validate import validate_file, validate_request

    request = one_megabyte_request()
    text = json.dumps(request, indent=2)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "request.json"
        path.write_text(text)
        shape = create_algorithm_input()
        assert validate_request(request) == [], validate_request(request)[:3]
        botocore_s = timed(lambda: ParamValidator().validate(request, shape))
        harness_s = timed(lambda: validate_request(request))
        file_s = timed(lambda: validate_file(path))
        start = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "harness", "validate", str(path)],
            capture_output=True,
            check=False,
        )
        cli_s = time.perf_counter() - start
        assert cli.returncode == 0, cli.stdout
    print(f"request size:                      {len(text) / 1e6:.2f} MB")
    print(f"botocore ParamValidator (baseline): {botocore_s * 1000:8.1f} ms")
    print(
        f"harness validate_request:           {harness_s * 1000:8.1f} ms "
        f"({harness_s / botocore_s:.1f}x baseline)"
    )
    print(f"harness validate_file (parse too):  {file_s * 1000:8.1f} ms")
    print(f"`python -m harness validate` total: {cli_s * 1000:8.1f} ms (process, imports, model)")


if __name__ == "__main__":
    main()
