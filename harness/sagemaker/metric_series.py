"""What a MetricDefinition extracts: values read from captures, series kept in bounded memory.

The rules (docs/sagemaker-contract.md §1.7; SageMaker documents no engine, so these are choices):
- The value is the text of the first capture group, stripped of whitespace, read as a decimal
  number: integers, `+`/`-` signs, fractions (`.5`, `5.`) and exponents (`1e-05`, `2.5E+3`).
  Anything else counts as a non-numeric capture: `93%` (put the `%` outside the group), `1,234`,
  `1_000`, `nan`, `inf`, an overflow, an empty group, a regex without a group. A metric is a
  `Float`: only these forms read alike in every float parser, and CloudWatch takes no NaN or
  infinity.
- Values in exponent notation are kept, and sampled for a warning: a report says SageMaker
  dropped their exponent (aws/sagemaker-python-sdk#4263).
- Memory: no log text is kept beyond a few sample lines. Each series keeps at most `max_points`
  points: the first, last, lowest and highest values and an evenly thinned sample of the rest.

The extractor that searches the logs and feeds these series is in metrics.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.sagemaker.metric_regex import MetricPattern

MAX_SAMPLES = 3
"""Sample lines kept per kind: non-numeric captures, exponents, near misses."""
_SAMPLE_CHARS = 200
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NO_GROUP = "(the regex has no capture group)"
_NO_CAPTURE = "(group 1 took no part in the match)"


@dataclass(frozen=True)
class MetricPoint:
    t: float
    host: str
    stream: str
    value: float


@dataclass(frozen=True)
class HostMetric:
    host: str
    count: int
    final: float


@dataclass(frozen=True)
class MetricSeries:
    """What one MetricDefinition extracted from every host's logs.

    `points` is thinned past `max_points`; `matches` counts every matching line, numeric or not.
    """

    name: str
    regex: str
    engine: str
    """`re2`, `regex`, or `none` when neither engine compiles the pattern (see `unsafe`)."""
    points: tuple[MetricPoint, ...]
    matches: int
    non_numeric: int
    non_numeric_samples: tuple[str, ...]
    near_misses: tuple[str, ...]
    """Lines sharing the pattern's literal text, given only when nothing matched."""
    unsafe: str | None
    hosts: tuple[str, ...]
    """Hosts that emitted at least one value."""
    exponent_samples: tuple[str, ...] = ()
    per_host: tuple[HostMetric, ...] = ()
    hosts_seen: tuple[str, ...] = ()
    """Hosts whose logs were read, whether or not they emitted this metric."""

    @property
    def count(self) -> int:
        """Numeric values extracted, including those thinned out of `points`."""
        return self.matches - self.non_numeric

    @property
    def final(self) -> float | None:
        return self.points[-1].value if self.points else None

    def values(self) -> list[float]:
        return [point.value for point in self.points]

    def to_dict(self) -> dict[str, Any]:
        per_host = self.per_host or _per_host(self.points)
        return {
            "name": self.name,
            "regex": self.regex,
            "engine": self.engine,
            "values": self.values(),
            "final": self.final,
            "count": self.count,
            "matches": self.matches,
            "non_numeric": self.non_numeric,
            "non_numeric_samples": list(self.non_numeric_samples),
            "exponent_samples": list(self.exponent_samples),
            "hosts": list(self.hosts),
            "per_host": {h.host: {"count": h.count, "final": h.final} for h in per_host},
            "points": [
                {"t": p.t, "host": p.host, "stream": p.stream, "value": p.value}
                for p in self.points
            ],
            "unsafe": self.unsafe,
            "near_misses": list(self.near_misses),
        }


def metric_values(series: Iterable[MetricSeries]) -> dict[str, list[float]]:
    """report.json's `runs[].training.metrics`: {name: [values...]}."""
    return {s.name: s.values() for s in series}


def parse_metric_value(text: str) -> float | None:
    """The captured text as a finite float, or None (rules in the module docstring)."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _per_host(points: Sequence[MetricPoint]) -> tuple[HostMetric, ...]:
    counts: dict[str, tuple[int, float]] = {}
    for point in points:
        counts[point.host] = (counts.get(point.host, (0, 0.0))[0] + 1, point.value)
    return tuple(HostMetric(host, n, final) for host, (n, final) in sorted(counts.items()))


def _sample(text: str) -> str:
    return text if len(text) <= _SAMPLE_CHARS else text[:_SAMPLE_CHARS] + "…"


_Item = tuple[int, float, str, str, float]  # a sequence number, then MetricPoint's fields


class RunningSeries:
    """The running state of one definition (guarded by MetricExtractor's lock, metrics.py)."""

    def __init__(self, capacity: int, pattern: MetricPattern) -> None:
        self.capacity = capacity
        self.missing = _NO_CAPTURE if pattern.groups else _NO_GROUP
        self.kept: list[_Item] = []
        self.stride = 1
        self.count = 0
        self.matches = 0
        self.non_numeric = 0
        self.non_numeric_samples: list[str] = []
        self.exponent_samples: list[str] = []
        self.near_misses: list[str] = []
        self.last: _Item | None = None
        self.low: _Item | None = None
        self.high: _Item | None = None
        self.per_host: dict[str, tuple[int, float]] = {}
        self.unsafe = f"the regex does not compile: {pattern.error}" if pattern.error else None
        self.spent = 0.0

    def record(self, host: str, stream: str, t: float, text: str | None) -> None:
        self.matches += 1
        value = None if text is None else parse_metric_value(text)
        if text is None or value is None:
            self.non_numeric += 1
            sample = self.missing if text is None else repr(_sample(text))
            if (
                len(self.non_numeric_samples) < MAX_SAMPLES
                and sample not in self.non_numeric_samples
            ):
                self.non_numeric_samples.append(sample)
            return
        if ("e" in text or "E" in text) and len(self.exponent_samples) < MAX_SAMPLES:
            self.exponent_samples.append(text.strip())
        # Plain tuples: a frozen dataclass per value would cost as much as the regex search.
        count = self.count
        item = (count, t, host, stream, value)
        self.count = count + 1
        self.last = item
        low, high = self.low, self.high
        if low is None or value < low[4]:
            self.low = item
        if high is None or value > high[4]:
            self.high = item
        seen = self.per_host.get(host)
        self.per_host[host] = (seen[0] + 1, value) if seen else (1, value)
        if count % self.stride == 0:  # so the first value (number 0) always stays
            kept = self.kept
            kept.append(item)
            if len(kept) > self.capacity:
                self.stride *= 2
                self.kept = [k for k in kept if k[0] % self.stride == 0]

    def near_miss(self, line: bytes) -> None:
        text = _sample(line.decode("utf-8", "replace"))
        if len(self.near_misses) < MAX_SAMPLES and text not in self.near_misses:
            self.near_misses.append(text)

    def points(self) -> tuple[MetricPoint, ...]:
        chosen = {item[0]: item for item in self.kept}
        for extra in (self.last, self.low, self.high):
            if extra is not None:
                chosen[extra[0]] = extra
        return tuple(MetricPoint(*chosen[seq][1:]) for seq in sorted(chosen))
