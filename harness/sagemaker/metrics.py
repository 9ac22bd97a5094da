"""MetricDefinitions applied to training logs, as SageMaker does, in linear time and bounded memory.

The rules (docs/sagemaker-contract.md §1.7; SageMaker documents no engine, so these are choices):
- Each regex is searched (not full-matched) in each log line of every host, stdout and stderr
  alike. A line is the text between newlines; a `\\r\\n` ending counts as `\\n`. A line may carry
  several metrics; a definition takes at most one value per line, from its leftmost match, as
  `re.search` would.
- A tab reads as `#011`, as SageMaker's log pipeline shows it: its own XGBoost definitions match
  `#011train-rmse:(...)` in XGBoost's tab-separated lines (inferred; not documented).
- The value is the text of the first capture group, stripped of whitespace, read as a decimal
  number: integers, `+`/`-` signs, fractions (`.5`, `5.`) and exponents (`1e-05`, `2.5E+3`).
  Anything else counts as a non-numeric capture: `93%` (put the `%` outside the group), `1,234`,
  `1_000`, `nan`, `inf`, an overflow, an empty group, a regex without a group. A metric is a
  `Float`: only these forms read alike in every float parser, and CloudWatch takes no NaN or
  infinity.
- Values in exponent notation are kept, and sampled for a warning: a report says SageMaker
  dropped their exponent (aws/sagemaker-python-sdk#4263).
- Engines: RE2 (google-re2) wherever it accepts the pattern, so matching takes linear time.
  Lookarounds, backreferences, possessive and atomic parts go to the `regex` package with a time
  limit per line; a pattern that exceeds it, or averages slower than 1 MB/s of log, is abandoned
  and reported as unsafe, and the other definitions carry on.
- Speed: one RE2 search over a block of lines for the literal text of every definition (each
  match must contain its literal) finds the few lines worth searching; only there do the
  definitions run. Definitions without such a literal are searched over the whole block by RE2.
- Memory: no log text is kept beyond a few sample lines. Each series keeps at most `max_points`
  points: the first, last, lowest and highest values and an evenly thinned sample of the rest.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import regex

from harness.sagemaker.metric_regex import (
    UNANCHORED,
    LiteralIndex,
    MetricPattern,
    choose_literals,
    compile_metric_regex,
)

_MIN_LITERAL = 3  # shorter literals occur on most lines: a block search per pattern beats them
_SAMPLES = 3
_SAMPLE_CHARS = 200
# A `regex`-engine pattern is abandoned once it has spent more than this floor plus one second
# per MB of log read so far: far above what a sane pattern needs.
_BUDGET_FLOOR_S = 2.0
_MIN_BYTES_PER_S = 1e6
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_TAB = "#011"
_NO_GROUP = "(the regex has no capture group)"
_NO_CAPTURE = "(group 1 took no part in the match)"


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str


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


def _encode(text: str) -> bytes:
    """Lines as the extractor searches them: UTF-8, `\\n` ends, tabs as SageMaker shows them."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\t" in text:
        text = text.replace("\t", _TAB)
    return text.encode("utf-8", "replace")


def _sample(text: str) -> str:
    return text if len(text) <= _SAMPLE_CHARS else text[:_SAMPLE_CHARS] + "…"


_Item = tuple[int, float, str, str, float]  # a sequence number, then MetricPoint's fields


class _Series:
    """The running state of one definition (guarded by the extractor's lock)."""

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
            if len(self.non_numeric_samples) < _SAMPLES and sample not in self.non_numeric_samples:
                self.non_numeric_samples.append(sample)
            return
        if ("e" in text or "E" in text) and len(self.exponent_samples) < _SAMPLES:
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
        if len(self.near_misses) < _SAMPLES and text not in self.near_misses:
            self.near_misses.append(text)

    def points(self) -> tuple[MetricPoint, ...]:
        chosen = {item[0]: item for item in self.kept}
        for extra in (self.last, self.low, self.high):
            if extra is not None:
                chosen[extra[0]] = extra
        return tuple(MetricPoint(*chosen[seq][1:]) for seq in sorted(chosen))


class MetricExtractor:
    """Applies MetricDefinitions to log lines as they arrive; thread-safe.

    >>> extractor = MetricExtractor([MetricDefinition("loss", r"loss=([0-9.]+)")])
    >>> extractor.feed("algo-1", "stdout", 0.0, "epoch 1 loss=0.25")
    >>> extractor.results()[0].final
    0.25
    """

    def __init__(
        self,
        definitions: Sequence[MetricDefinition],
        *,
        line_timeout: float = 0.05,
        max_points: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_points < 4:
            raise ValueError("max_points must leave room for the first, last, min and max")
        self._definitions = tuple(definitions)
        self._line_timeout = line_timeout
        self._clock = clock
        self._lock = threading.Lock()
        compiled = [compile_metric_regex(d.regex) for d in self._definitions]
        self._patterns = choose_literals(compiled, _MIN_LITERAL)
        self._series = [_Series(max_points - 3, p) for p in self._patterns]
        self._hosts: set[str] = set()
        self._bytes = 0
        rest = [i for i, p in enumerate(self._patterns) if p.literal is None and not p.error]
        self._blockwise = [i for i in rest if self._patterns[i].block_re2 is not None]
        self._linewise = [i for i in rest if self._patterns[i].block_re2 is None]
        literals = sorted({p.literal for p in self._patterns if p.literal is not None})
        self._owners = [
            [i for i, p in enumerate(self._patterns) if p.literal == literal]
            for literal in literals
        ]
        self._literals = LiteralIndex(literals) if literals else None
        self._waiting = [i for i, p in enumerate(self._patterns) if p.word and not p.error]
        self._near_key: tuple[int, ...] = ()
        self._near_index: LiteralIndex | None = None
        self._near_owners: list[list[int]] = []

    def feed(self, host: str, stream: str, t: float, line: str) -> None:
        """One log line (a trailing newline is dropped)."""
        data = _encode(line.rstrip("\r\n"))
        with self._lock:
            self._scan(host, stream, t, data)

    def feed_text(self, host: str, stream: str, t: float, text: str) -> None:
        """Many complete lines at once, all read at `t`: the fast path."""
        if not text:
            return
        data = _encode(text)
        with self._lock:
            self._scan(host, stream, t, data[:-1] if data.endswith(b"\n") else data)

    def results(self) -> tuple[MetricSeries, ...]:
        """One series per definition, in definition order; feeding may go on afterwards."""
        with self._lock:
            hosts_seen = tuple(sorted(self._hosts))
            return tuple(
                _snapshot(d, p, s, hosts_seen)
                for d, p, s in zip(self._definitions, self._patterns, self._series, strict=True)
            )

    def _scan(self, host: str, stream: str, t: float, data: bytes) -> None:
        self._hosts.add(host)
        self._bytes += len(data) + 1
        if self._literals is not None:
            owners, evaluate = self._owners, self._evaluate
            for line, hits in self._literals.lines(data):
                for hit in hits:
                    for index in owners[hit]:
                        evaluate(index, host, stream, t, line)
        for index in self._blockwise:
            self._scan_block(index, host, stream, t, data)
        if self._linewise:
            lines = data.split(b"\n")
            for index in self._linewise:
                for line in lines:
                    if self._series[index].unsafe:
                        break
                    self._evaluate(index, host, stream, t, line)
        if self._waiting:
            self._collect_near_misses(data)

    def _evaluate(self, index: int, host: str, stream: str, t: float, line: bytes) -> None:
        """One definition on one line (the hot path)."""
        pattern, series = self._patterns[index], self._series[index]
        for run in pattern.runs:
            if run not in line:
                return
        text: str | None = None
        if pattern.line_re2 is not None:
            spans = pattern.line_re2.Match(UNANCHORED, line, 0, len(line))
            if spans[0][0] < 0:
                if not series.matches and pattern.literal is not None:
                    series.near_miss(line)
                return
            if pattern.groups and spans[1][0] >= 0:
                text = line[spans[1][0] : spans[1][1]].decode("utf-8", "replace")
        elif series.unsafe is None:
            match = self._search_slowly(pattern, series, line.decode("utf-8", "replace"))
            if match is None:
                if not series.matches and not series.unsafe and pattern.literal is not None:
                    series.near_miss(line)
                return
            text = match.group(1) if pattern.groups else None
        else:
            return
        series.record(host, stream, t, text)

    def _search_slowly(
        self, pattern: MetricPattern, series: _Series, line: str
    ) -> regex.Match[str] | None:
        """The `regex` engine, within the time limit per line and the budget per pattern."""
        assert pattern.fallback is not None
        started = self._clock()
        try:
            return pattern.fallback.search(line, timeout=self._line_timeout)
        except TimeoutError:
            series.unsafe = (
                f"matching took over {self._line_timeout:g} s on one {len(line)}-character line "
                "(catastrophic backtracking); abandoned"
            )
            return None
        finally:
            series.spent += self._clock() - started
            budget = _BUDGET_FLOOR_S + self._bytes / _MIN_BYTES_PER_S
            if series.spent > budget and series.unsafe is None:
                series.unsafe = (
                    f"matching averaged slower than {_MIN_BYTES_PER_S / 1e6:g} MB/s of log "
                    f"({series.spent:.1f} s for {self._bytes / 1e6:.1f} MB); abandoned"
                )

    def _scan_block(self, index: int, host: str, stream: str, t: float, data: bytes) -> None:
        """The whole block in multi-line mode, taking each line's leftmost match only."""
        pattern, series = self._patterns[index], self._series[index]
        match, end, pos = pattern.block_re2.Match, len(data), 0
        while True:
            spans = match(UNANCHORED, data, pos, end)
            if spans[0][0] < 0:
                return
            text = None
            if pattern.groups and spans[1][0] >= 0:
                text = data[spans[1][0] : spans[1][1]].decode("utf-8", "replace")
            series.record(host, stream, t, text)
            pos = data.find(b"\n", spans[0][1], end) + 1
            if pos == 0:  # that was the last line
                return

    def _collect_near_misses(self, data: bytes) -> None:
        """Lines that share a word (in any case) with a definition that has not matched yet."""
        self._waiting = [
            i
            for i in self._waiting
            if not self._series[i].matches
            and not self._series[i].unsafe
            and len(self._series[i].near_misses) < _SAMPLES
        ]
        if not self._waiting:
            return
        key = tuple(self._waiting)
        if key != self._near_key:
            words = {i: (self._patterns[i].word or "").lower() for i in self._waiting}
            distinct = sorted(set(words.values()))
            self._near_key = key
            self._near_index = LiteralIndex([w.encode() for w in distinct], ignore_case=True)
            self._near_owners = [[i for i, w in words.items() if w == word] for word in distinct]
        assert self._near_index is not None
        for line, hits in self._near_index.lines(data):
            for hit in hits:
                for index in self._near_owners[hit]:
                    self._series[index].near_miss(line)


def _snapshot(
    definition: MetricDefinition,
    pattern: MetricPattern,
    series: _Series,
    hosts_seen: tuple[str, ...],
) -> MetricSeries:
    per_host = tuple(HostMetric(h, n, final) for h, (n, final) in sorted(series.per_host.items()))
    quiet = not series.matches and not series.unsafe
    return MetricSeries(
        name=definition.name,
        regex=definition.regex,
        engine=pattern.engine,
        points=series.points(),
        matches=series.matches,
        non_numeric=series.non_numeric,
        non_numeric_samples=tuple(series.non_numeric_samples),
        near_misses=tuple(series.near_misses) if quiet else (),
        unsafe=series.unsafe,
        hosts=tuple(h.host for h in per_host),
        exponent_samples=tuple(series.exponent_samples),
        per_host=per_host,
        hosts_seen=hosts_seen,
    )
