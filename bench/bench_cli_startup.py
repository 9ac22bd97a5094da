"""`harness --help` start-up time against a bare `python -c pass` in the same run.

Target (DESIGN §5): under 0.3 s; boto3, docker and jinja2 must be imported lazily.
Run: .venv/bin/python bench/bench_cli_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def timed(args: list[str], repeat: int = 9) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    bare = timed([sys.executable, "-c", "pass"])
    help_s = timed([sys.executable, "-m", "harness", "--help"])
    print(f"python -c pass (baseline): {bare * 1000:6.1f} ms")
    print(
        f"harness --help:            {help_s * 1000:6.1f} ms "
        f"({help_s / bare:.1f}x baseline, +{(help_s - bare) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
