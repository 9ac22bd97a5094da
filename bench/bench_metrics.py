"""Metric extraction: 40 MetricDefinitions over ~100 MB of synthetic training log, in one run.

Baseline: stdlib `re`, the 40 compiled patterns searched in every line (what a plain
implementation does). The harness: `MetricExtractor.feed_text` on 1 MiB blocks, as a log reader
hands them over. Target (DESIGN §5): at least 100 MB/s, and linear time whatever the regex: the
second part times catastrophic patterns on adversarial lines. Times are the best of 2-3 runs.
Run: .venv/bin/python bench/bench_metrics.py [MB]
"""

from __future__ import annotations

import math
import random
import re
import sys
import time
from collections.abc import Callable

from harness.sagemaker.metrics import MetricDefinition, MetricExtractor, parse_metric_value

SPLITS = ("train", "validation", "test", "eval")
KINDS = ("loss", "accuracy", "auc", "rmse", "mae", "f1", "precision", "recall", "ndcg", "lr")
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# (regex template, line template) in the styles of common frameworks' logs.
STYLES = (
    (r"{n}=" + NUMBER, "{n}={v}"),
    (r"{n}: ([0-9.eE+-]+)", "{n}: {v}"),
    (r"#quality_metric: host=\S+, epoch=\d+, {n} <score>=(\S+)", "{q}, {n} <score>={v}"),
    (r"\[\d+\]#011{n}:(\S+)", "[{i}]#011{n}:{v}"),
)
NOISE = (
    "[{ts} algo-1:27 INFO utils.py:27] RULE_JOB_STOP_SIGNAL_FILENAME: None",
    "[{ts} algo-1:27 INFO training.py:{i}] Epoch {e}/50 - batch {i}/5000 - 0.25s/it",
    "algo-1:45:99 [0] NCCL INFO Channel 00/02 : 0[0] -> 1[1] via P2P/IPC",
    "{ts} WARNING dataloader worker {e} is slow: 1.{i} s per batch (prefetch queue 2)",
    "Downloading shard s3://bucket/prefix/part-{i}.parquet (1048576 bytes)",
    "  {i}%|#####     | {i}/5000 [00:{e}<01:40, 48.31it/s]",
    "[{ts}] memory: allocated {i} MiB, reserved {e}000 MiB, peak {i} MiB; loss scale 65536",
)


def definitions() -> list[MetricDefinition]:
    out = []
    for index, (split, kind) in enumerate((s, k) for s in SPLITS for k in KINDS):
        name = f"{split}:{kind}"
        style = STYLES[index % len(STYLES)][0]
        out.append(MetricDefinition(name, style.format(n=re.escape(f"{split}_{kind}"))))
    return out


def synthetic_log(megabytes: int, seed: int = 7) -> str:
    """Mostly noise; one line in 20 carries 1-3 metrics, one value in 10 in exponent notation."""
    rng = random.Random(seed)
    names = [
        (f"{s}_{k}", i % len(STYLES))
        for i, (s, k) in enumerate((s, k) for s in SPLITS for k in KINDS)
    ]
    lines: list[str] = []
    size, i = 0, 0
    while size < megabytes * 1_000_000:
        i += 1
        ts = f"2024-05-01 12:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i % 1000:03d}"
        if rng.random() < 0.05:
            parts = []
            for name, style in rng.sample(names, rng.randint(1, 3)):
                value = rng.uniform(-1, 100)
                text = f"{value:.3e}" if rng.random() < 0.1 else f"{value:.6f}"
                q = f"#quality_metric: host=algo-1, epoch={i // 1000}"
                parts.append(STYLES[style][1].format(n=name, v=text, i=i, q=q))
            line = f"[{ts}] " + " ".join(parts)
        else:
            line = rng.choice(NOISE).format(ts=ts, i=i, e=i // 1000)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


def blocks(text: str, size: int = 1 << 20) -> list[str]:
    out, start = [], 0
    while start < len(text):
        end = text.find("\n", min(start + size, len(text) - 1)) + 1 or len(text)
        out.append(text[start:end])
        start = end
    return out


def baseline(defs: list[MetricDefinition], text: str) -> int:
    patterns = [re.compile(d.regex) for d in defs]
    found = 0
    for line in text.split("\n"):
        for pattern in patterns:
            match = pattern.search(line)
            if match and parse_metric_value(match.group(1)) is not None:
                found += 1
    return found


def harness(defs: list[MetricDefinition], chunks: list[str]) -> int:
    extractor = MetricExtractor(defs)
    for chunk in chunks:
        extractor.feed_text("algo-1", "stdout", 0.0, chunk)
    return sum(s.count for s in extractor.results())


def line_by_line(defs: list[MetricDefinition], text: str) -> int:
    extractor = MetricExtractor(defs)
    for line in text.split("\n"):
        extractor.feed("algo-1", "stdout", 0.0, line)
    return sum(s.count for s in extractor.results())


def timed(function: Callable[[], int], repeat: int) -> tuple[int, float]:
    """The result and the best of `repeat` wall-clock times (this machine is shared and noisy)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best


def catastrophic() -> None:
    print("\ncatastrophic patterns, 200 adversarial lines of 5000 'a's and '!':")
    lines = "\n".join(["a" * 5000 + "!"] * 200) + "\n"
    for name, pattern in (("nested (RE2)", r"(a+)+$"), ("nested+lookahead", r"(a+)+(?=b)")):
        defs = [MetricDefinition(name, pattern), MetricDefinition("ok", r"ok=(\d+)")]
        extractor = MetricExtractor(defs)
        start = time.perf_counter()
        extractor.feed_text("algo-1", "stdout", 0.0, lines + "ok=1\n")
        series = extractor.results()
        seconds = time.perf_counter() - start
        print(
            f"  {pattern:<14} engine={series[0].engine:<5} {seconds * 1000:7.1f} ms  "
            f"unsafe={series[0].unsafe!r}  ok={series[1].values()}"
        )
    nested = re.compile(r"(a+)+$")
    for n in (18, 20, 22):
        start = time.perf_counter()
        nested.search("a" * n + "!")
        print(f"  stdlib re, (a+)+$ on ONE line of {n} 'a's: {time.perf_counter() - start:.3f} s")
    print("  (stdlib re doubles with each 'a': 5000 of them would never finish)")


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    defs = definitions()
    text = synthetic_log(megabytes)
    chunks = blocks(text)
    size = len(text.encode()) / 1e6
    print(f"log: {size:.1f} MB, {text.count(chr(10))} lines, {len(defs)} definitions")
    found, harness_s = timed(lambda: harness(defs, chunks), 3)
    expected, baseline_s = timed(lambda: baseline(defs, text), 2)
    assert found == expected, (found, expected)
    # One definition that never matches keeps the near-miss search running over every block.
    silent = [*defs[:-1], MetricDefinition("silent", r"Train_error=(.*?);")]
    _, silent_s = timed(lambda: harness(silent, chunks), 3)
    subset = text[: len(text) // 10]
    _, line_s = timed(lambda: line_by_line(defs, subset), 3)
    print(f"values extracted: {found} (the same as the baseline's)")
    print(f"stdlib re, per line (baseline):  {size / baseline_s:6.1f} MB/s  ({baseline_s:.2f} s)")
    print(
        f"MetricExtractor.feed_text:       {size / harness_s:6.1f} MB/s  ({harness_s:.2f} s), "
        f"{baseline_s / harness_s:.1f}x the baseline"
    )
    print(f"  with one silent definition:    {size / silent_s:6.1f} MB/s  ({silent_s:.2f} s)")
    print(f"MetricExtractor.feed, line by line: {size / 10 / line_s:6.1f} MB/s  (on a tenth)")
    catastrophic()


if __name__ == "__main__":
    main()
