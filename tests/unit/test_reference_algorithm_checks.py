"""The reference algorithm's own checks (stdlib unittest, run on the host without Docker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "fixtures/algorithms/reference"


def test_reference_algorithm_host_checks_pass():
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "checks/check_refalgo.py"],
        cwd=REFERENCE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stderr
