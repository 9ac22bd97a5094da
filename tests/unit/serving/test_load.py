"""The load probe with literal fakes: round-robin, counting, percentiles, errors."""

from __future__ import annotations

import threading
import time

import pytest

from harness.errors import UsageError
from harness.serving.http import EndpointClient, FakeRequest, InvocationResult
from harness.serving.load import (
    LoadSample,
    RequestSpec,
    percentile,
    run_load,
    summarize,
)
from tests.unit.serving.fakes import FakeClient

CSV = RequestSpec(b"1,2\n", "text/csv", accept="text/csv")
JSON = RequestSpec(b'{"instances": [[1, 2]]}', "application/json", headers={"X-Amzn-A": "1"})


def echo(request: FakeRequest) -> InvocationResult:
    return InvocationResult(200, request.headers["Content-Type"], request.body, 0.001)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0], 50, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([float(i) for i in range(1, 101)], 90, 90.1),
        ([float(i) for i in range(1, 101)], 99, 99.01),
        ([float(i) for i in range(1, 11)], 90, 9.1),
    ],
)
def test_percentile_interpolates_like_numpy(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_round_robin_over_the_specs_and_exactly_total_requests():
    endpoint = FakeClient(echo)
    report = run_load(endpoint, [CSV, JSON], concurrency=3, total=11, timeout=7)
    assert report.requests == len(endpoint.requests) == 11
    assert report.errors == 0
    assert sorted(s.number for s in report.samples) == list(range(11))
    bodies = [r.body for r in endpoint.requests]
    assert bodies.count(CSV.body) == 6
    assert bodies.count(JSON.body) == 5
    for request in endpoint.requests:
        assert request.timeout == 7
    json_request = next(r for r in endpoint.requests if r.body == JSON.body)
    assert json_request.headers == {"X-Amzn-A": "1", "Content-Type": "application/json"}
    csv_request = next(r for r in endpoint.requests if r.body == CSV.body)
    assert csv_request.headers["Accept"] == "text/csv"
    assert report.status_counts == {200: 11}


def test_workers_run_concurrently_up_to_the_limit():
    active = [0]
    peak = [0]
    lock = threading.Lock()

    def slow(request: FakeRequest) -> InvocationResult:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return InvocationResult(200, None, b"", 0.01)

    report = run_load(FakeClient(slow), [CSV], concurrency=4, total=40, timeout=1)
    assert peak[0] == 4
    assert {s.worker for s in report.samples} == {0, 1, 2, 3}
    assert report.duration_s >= 0.1  # 40 requests of 10 ms, 4 at a time
    assert report.requests_per_second == pytest.approx(40 / report.duration_s)


def test_fewer_requests_than_workers():
    endpoint = FakeClient(echo)
    report = run_load(endpoint, [CSV], concurrency=8, total=2, timeout=1)
    assert report.requests == 2
    assert report.concurrency == 8


def test_a_factory_gives_each_worker_its_own_client_and_closes_it():
    made: list[FakeClient] = []

    def factory() -> FakeClient:
        made.append(FakeClient(echo))
        return made[-1]

    report = run_load(factory, [CSV], concurrency=3, total=30, timeout=1)
    assert report.requests == 30
    assert len(made) == 3
    assert all(endpoint.closed for endpoint in made)
    assert sum(len(endpoint.requests) for endpoint in made) == 30


def test_errors_are_counted_classified_and_sampled():
    def flaky(request: FakeRequest) -> InvocationResult:
        number = flaky.calls  # type: ignore[attr-defined]
        flaky.calls += 1  # type: ignore[attr-defined]
        if number % 5 == 1:
            return InvocationResult(0, None, b"", 2.0, "timed out after 2.0 s")
        if number % 5 == 2:
            return InvocationResult(500, "application/json", b'{"error": "boom"}\n', 0.004)
        return InvocationResult(200, "text/csv", b"1\n", 0.002)

    flaky.calls = 0  # type: ignore[attr-defined]
    report = run_load(FakeClient(flaky), [CSV], concurrency=1, total=10, timeout=2)
    assert report.errors == 4
    assert report.status_counts == {200: 6, 0: 2, 500: 2}
    assert report.error_samples == (
        "request 1: timed out after 2.0 s",
        'request 2: HTTP 500: {"error": "boom"}',
    )
    assert report.max_ms == pytest.approx(2000.0)


def test_summarize_literal_samples():
    samples = [
        LoadSample(number, 0, number * 0.01, latency, status, error)
        for number, latency, status, error in [
            (3, 0.004, 200, None),
            (0, 0.001, 200, None),
            (1, 0.002, 503, None),
            (2, 0.003, 0, "connection refused"),
            (4, 0.010, 0, "connection refused"),
        ]
    ]
    report = summarize(samples, concurrency=2, duration_s=0.5, error_texts={1: "loading"})
    assert (report.requests, report.errors) == (5, 3)
    assert report.requests_per_second == 10.0
    assert report.p50_ms == pytest.approx(3.0)
    assert report.max_ms == pytest.approx(10.0)
    assert report.p90_ms == pytest.approx(7.6)
    assert report.error_samples == ("request 1: HTTP 503: loading", "request 2: connection refused")
    assert report.to_dict() == {
        "concurrency": 2,
        "requests": 5,
        "errors": 3,
        "duration_s": 0.5,
        "requests_per_second": 10.0,
        "latency_ms": {"p50": 3.0, "p90": 7.6, "p99": 9.76, "max": 10.0},
        "status_counts": {"0": 2, "200": 2, "503": 1},
        "error_samples": ["request 1: HTTP 503: loading", "request 2: connection refused"],
    }


def test_error_samples_are_capped():
    samples = [LoadSample(n, 0, 0.0, 0.001, 0, f"reason {n}") for n in range(20)]
    assert len(summarize(samples, concurrency=1, duration_s=1).error_samples) == 5


def test_a_client_bug_is_raised_not_hidden():
    def broken(request: FakeRequest) -> InvocationResult:
        raise KeyError("bug")

    with pytest.raises(KeyError, match="bug"):
        run_load(FakeClient(broken), [CSV], concurrency=2, total=10, timeout=1)


@pytest.mark.parametrize(
    ("specs", "concurrency", "total"),
    [([], 1, 1), ([CSV], 0, 1), ([CSV], 1, 0)],
    ids=["no-requests", "no-concurrency", "no-total"],
)
def test_bad_arguments(specs, concurrency, total):
    with pytest.raises(UsageError):
        run_load(FakeClient(echo), specs, concurrency=concurrency, total=total, timeout=1)


def test_real_client_against_a_loopback_server(fake_container):
    with EndpointClient(fake_container.url) as client:
        report = run_load(client, [CSV, JSON], concurrency=4, total=100, timeout=5)
    assert report.requests == 100
    assert report.errors == 0
    assert report.p50_ms > 0
    assert len({seen.client_port for seen in fake_container.seen}) == 4  # one connection each
