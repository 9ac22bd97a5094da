"""MetricDefinitions applied to training logs, as SageMaker does, in linear time and bounded memory.

The rules (docs/sagemaker-contract.md §1.7; SageMaker documents no engine, so these are choices):
- Each regex is searched (not full-matched) in each log line of every host, stdout and stderr
  alike. A line is the text between newlines; a `\\r\\n` ending counts as `\\n`. A line may carry
  several metrics; a definition takes at most one value per line, from its leftmost match, as
  `re.search` would.
- A tab reads as `#011`, as SageMaker's log pipeline shows it: its own XGBoost definitions match
  `#011train-rmse:(...)` in XGBoost's tab-separated lines (inferred; not documented).
- Engines: RE2 (google-re2) wherever it accepts the pattern, so matching takes linear time.
  Lookarounds, backreferences, possessive and atomic parts go to the `regex` package with a time
  limit per line; a pattern that exceeds it, or averages slower than 1 MB/s of log, is abandoned
  and reported as unsafe, and the other definitions carry on.
- Speed: one RE2 search over a block of lines for the literal text of every definition (each
  match must contain its literal) finds the few lines worth searching; only there do the
  definitions run. Definitions without such a literal are searched over the whole block by RE2.
- Values: how a capture is read as a number, and how each series keeps at most `max_points`
  points, is in metric_series.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

from harness.sagemaker.metric_regex import (
    UNANCHORED,
    LiteralIndex,
    MetricPattern,
    choose_literals,
    compile_metric_regex,
)
from harness.sagemaker.metric_series import (
    MAX_SAMPLES,
    HostMetric,
    MetricPoint,
    MetricSeries,
    RunningSeries,
    metric_values,
    parse_metric_value,
)

__all__ = [
    "HostMetric",
    "MetricDefinition",
    "MetricExtractor",
    "MetricPoint",
    "MetricSeries",
    "metric_values",
    "parse_metric_value",
]

_MIN_LITERAL = 3  # shorter literals occur on most lines: a block search per pattern beats them
# A `regex`-engine pattern is abandoned once it has spent more than this floor plus one second
# per MB of log read so far: far above what a sane pattern needs.
_BUDGET_FLOOR_S = 2.0
_MIN_BYTES_PER_S = 1e6
_TAB = "#011"


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str


def _encode(text: str) -> bytes:
    """Lines as the extractor searches them: UTF-8, `\\n` ends, tabs as SageMaker shows them."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\t" in text:
        text = text.replace("\t", _TAB)
    return text.encode("utf-8", "replace")


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
        self._series = [RunningSeries(max_points - 3, p) for p in self._patterns]
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
        self, pattern: MetricPattern, series: RunningSeries, line: str
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
            and len(self._series[i].near_misses) < MAX_SAMPLES
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
    series: RunningSeries,
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
