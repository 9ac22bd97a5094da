"""The load probe (SERVE-LATENCY): a closed loop of POST /invocations at a fixed concurrency.

`concurrency` worker threads share one counter; each takes the next request number, sends
`requests[number % len(requests)]` (round-robin over the specs), waits for the answer and
takes the next, until `total` requests have been sent. Each worker has its own keep-alive
connection (EndpointClient's per-thread connection, or a client of its own from a factory).

    report = run_load(client, [RequestSpec(payload, "text/csv")], concurrency=4, total=200,
                      timeout=60)
    report.requests_per_second, report.p99_ms, report.errors
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import UsageError
from harness.serving.http import InvocationResult, SupportsInvoke

__all__ = ["LoadReport", "LoadSample", "RequestSpec", "percentile", "run_load", "summarize"]

MAX_ERROR_SAMPLES = 5
ERROR_BODY_CHARS = 200


@dataclass(frozen=True)
class RequestSpec:
    """One request the load sends: body, Content-Type, Accept and extra headers."""

    body: bytes
    content_type: str
    accept: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False


@dataclass(frozen=True)
class LoadSample:
    """One request of a load run; times in seconds, `started_s` from the start of the run."""

    number: int
    worker: int
    started_s: float
    latency_s: float
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass(frozen=True)
class LoadReport:
    """What the load probe measured; `errors` counts requests without a 2xx answer."""

    concurrency: int
    requests: int
    errors: int
    duration_s: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_counts: Mapping[int, int]
    """HTTP status -> count; 0 counts requests that got no HTTP answer."""
    error_samples: tuple[str, ...]
    samples: tuple[LoadSample, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 4),
            "requests_per_second": round(self.requests_per_second, 2),
            "latency_ms": {
                "p50": round(self.p50_ms, 3),
                "p90": round(self.p90_ms, 3),
                "p99": round(self.p99_ms, 3),
                "max": round(self.max_ms, 3),
            },
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "error_samples": list(self.error_samples),
        }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of ascending values, interpolated between closest ranks
    (numpy's default "linear" method)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    rank = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def summarize(
    samples: Sequence[LoadSample],
    *,
    concurrency: int,
    duration_s: float,
    error_texts: Mapping[int, str] | None = None,
) -> LoadReport:
    """The report for `samples` (any order); `error_texts` maps a request number to the text
    of its failure (an HTTP error's body) for the error samples."""
    ordered = sorted(samples, key=lambda sample: sample.number)
    latencies_ms = sorted(sample.latency_s * 1000 for sample in ordered)
    failed = [sample for sample in ordered if not sample.ok]
    texts = error_texts or {}
    seen: set[str] = set()
    error_samples: list[str] = []
    for sample in failed:
        kind = sample.error or f"HTTP {sample.status}"
        if kind in seen or len(error_samples) >= MAX_ERROR_SAMPLES:
            continue
        seen.add(kind)
        detail = texts.get(sample.number, "")
        error_samples.append(f"request {sample.number}: {kind}" + (f": {detail}" if detail else ""))
    count = len(ordered)
    return LoadReport(
        concurrency=concurrency,
        requests=count,
        errors=len(failed),
        duration_s=duration_s,
        requests_per_second=count / duration_s if duration_s > 0 else 0.0,
        p50_ms=percentile(latencies_ms, 50) if count else 0.0,
        p90_ms=percentile(latencies_ms, 90) if count else 0.0,
        p99_ms=percentile(latencies_ms, 99) if count else 0.0,
        max_ms=latencies_ms[-1] if count else 0.0,
        status_counts=dict(Counter(sample.status for sample in ordered)),
        error_samples=tuple(error_samples),
        samples=tuple(ordered),
    )


def run_load(
    client: SupportsInvoke | Callable[[], SupportsInvoke],
    requests: Sequence[RequestSpec],
    *,
    concurrency: int,
    total: int,
    timeout: float,
    clock: Callable[[], float] = time.perf_counter,
) -> LoadReport:
    """Send `total` requests, `concurrency` at a time, round-robin over `requests`.

    `client` is shared by the workers (it must be thread-safe, as EndpointClient is), or is a
    factory called once per worker; clients from a factory are closed at the end when they
    have a `close()`. `timeout` bounds each request. An exception a client raises (a bug, not
    an HTTP failure) stops the run and is raised here.
    """
    if not requests:
        raise UsageError("the load probe needs at least one request")
    if concurrency < 1 or total < 1:
        raise UsageError(f"load concurrency ({concurrency}) and total ({total}) must be >= 1")
    workers = min(concurrency, total)
    factory = None if isinstance(client, SupportsInvoke) else client
    clients = [factory() if factory is not None else client for _ in range(workers)]
    calls = [(r.body, r.content_type, r.accept, r.headers or None, r.chunked) for r in requests]
    # next() on a count is atomic under the GIL; a lock around it would cost every request.
    numbers = itertools.count()
    go, abort = threading.Event(), threading.Event()
    results: list[list[tuple[int, float, InvocationResult]]] = [[] for _ in range(workers)]
    raised: list[BaseException] = []

    def work(worker: int) -> None:
        own = clients[worker]
        assert isinstance(own, SupportsInvoke)
        record = results[worker].append
        go.wait()
        try:
            while not abort.is_set():
                number = next(numbers)
                if number >= total:
                    break
                body, content_type, accept, headers, chunked = calls[number % len(calls)]
                began = clock()
                result = own.invoke(body, content_type, accept, headers, timeout, chunked)
                record((number, began, result))
        except BaseException as exc:
            raised.append(exc)
            abort.set()

    threads = [
        threading.Thread(target=work, args=(worker,), name=f"load-{worker}", daemon=True)
        for worker in range(workers)
    ]
    try:
        for thread in threads:
            thread.start()
        origin = clock()
        go.set()
        for thread in threads:
            thread.join()
        duration = clock() - origin
    finally:
        abort.set()
        go.set()
        if factory is not None:
            for own in clients:
                close = getattr(own, "close", None)
                if callable(close):
                    close()
    if raised:
        raise raised[0]
    samples = [
        LoadSample(number, worker, began - origin, r.latency_s, r.status, r.error)
        for worker, per_worker in enumerate(results)
        for number, began, r in per_worker
    ]
    error_texts = {
        number: _body_text(r)
        for per_worker in results
        for number, _, r in per_worker
        if r.error is None and not r.ok
    }
    return summarize(samples, concurrency=concurrency, duration_s=duration, error_texts=error_texts)


def _body_text(result: InvocationResult) -> str:
    return result.body[:ERROR_BODY_CHARS].decode("utf-8", "replace").strip()
