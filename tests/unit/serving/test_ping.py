"""Readiness polling with a fake clock and literal /ping answers; the monitor in a thread."""

from __future__ import annotations

import threading

import pytest

from harness.serving.http import FakeRequest, InvocationResult
from harness.serving.ping import (
    DEFAULT_INTERVAL,
    PingMonitor,
    PingProbe,
    PingReport,
    poll,
    wait_until_healthy,
)
from tests.unit.serving.fakes import FakeClient


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def container(clock: FakeClock, *, port_open_at: float, healthy_at: float, latency=0.002):
    """A /ping that refuses connections, then answers 503, then 200 "\\n" (times from 100.0)."""

    def answer(request: FakeRequest) -> InvocationResult:
        t = clock.now - 100.0
        clock.now += latency
        if t < port_open_at:
            return InvocationResult(0, None, b"", latency, "connection refused")
        if t < healthy_at:
            return InvocationResult(503, "text/plain", b"loading\n", latency)
        return InvocationResult(200, "text/plain", b"\n", latency)

    return FakeClient(answer)


@pytest.mark.parametrize("healthy_at", [0.0, 0.013, 1.0, 2.37, 30.049])
def test_healthy_is_seen_within_0_2_s_of_the_container_turning_healthy(healthy_at):
    clock = FakeClock()
    endpoint = container(clock, port_open_at=min(healthy_at, 0.5), healthy_at=healthy_at)
    report = wait_until_healthy(
        endpoint, startup_timeout=60, clock=clock, sleep=clock.sleep, started=100.0
    )
    assert report.healthy
    assert report.reason is None
    assert report.healthy_after_s is not None
    assert healthy_at <= report.healthy_after_s <= healthy_at + 0.2
    assert report.healthy_after_s - healthy_at <= DEFAULT_INTERVAL + 0.002 + 1e-9
    assert report.probes[-1].status == 200
    assert all(not p.healthy for p in report.probes[:-1])
    assert all(r.timeout == 2.0 for r in endpoint.requests)


def test_probes_start_interval_apart_and_are_all_recorded():
    clock = FakeClock()
    endpoint = container(clock, port_open_at=0.09, healthy_at=0.19, latency=0.01)
    report = wait_until_healthy(
        endpoint, startup_timeout=5, interval=0.05, clock=clock, sleep=clock.sleep
    )
    starts = [round(p.t_s, 6) for p in report.probes]
    assert starts == [0.0, 0.05, 0.1, 0.15, 0.2]
    assert [p.status for p in report.probes] == [0, 0, 503, 503, 200]
    assert report.probes[0].error == "connection refused"
    assert clock.sleeps == pytest.approx([0.04] * 4)
    assert report.healthy_after_s == pytest.approx(0.21)


def test_a_slow_probe_is_followed_at_once_and_reported_slow():
    clock = FakeClock()
    answers = iter([(0, "timed out after 2.0 s", 2.0005), (200, None, 0.001)])

    def answer(request: FakeRequest) -> InvocationResult:
        status, error, latency = next(answers)
        clock.now += latency
        return InvocationResult(status, None, b"", latency, error)

    report = wait_until_healthy(
        FakeClient(answer), startup_timeout=10, clock=clock, sleep=clock.sleep
    )
    assert report.healthy
    assert clock.sleeps == []
    assert report.slow_probes == (report.probes[0],)
    assert report.to_dict()["slow_probes"][0]["error"] == "timed out after 2.0 s"


def test_never_healthy_gives_up_at_the_window_and_says_why():
    clock = FakeClock()
    endpoint = container(clock, port_open_at=0.0, healthy_at=1e9)
    report = wait_until_healthy(
        endpoint, startup_timeout=3, clock=clock, sleep=clock.sleep, started=100.0
    )
    assert not report.healthy
    assert report.healthy_after_s is None
    assert report.reason == "/ping did not answer 200 within 3.0 s; last probe: HTTP 503"
    assert clock.now <= 100.0 + 3 + 0.01
    assert 55 <= len(report.probes) <= 61
    # no probe may wait past the window
    assert all(r.timeout <= 2.0 for r in endpoint.requests)
    assert endpoint.requests[-1].timeout < 0.06


def test_a_window_already_over_probes_nothing():
    clock = FakeClock()
    endpoint = container(clock, port_open_at=0, healthy_at=0)
    report = wait_until_healthy(
        endpoint, startup_timeout=1, clock=clock, sleep=clock.sleep, started=50.0
    )
    assert report == PingReport(False, None, (), "/ping did not answer 200 within 1.0 s")


def test_a_dead_container_ends_the_wait_early():
    clock = FakeClock()
    endpoint = container(clock, port_open_at=1e9, healthy_at=1e9)
    alive = iter([True, True, False])
    report = wait_until_healthy(
        endpoint, startup_timeout=240, clock=clock, sleep=clock.sleep, is_alive=lambda: next(alive)
    )
    assert not report.healthy
    assert len(report.probes) == 3
    assert report.reason == (
        "the container exited before /ping answered 200; last probe: connection refused"
    )


def test_is_alive_is_not_asked_once_healthy():
    clock = FakeClock()
    endpoint = container(clock, port_open_at=0, healthy_at=0)

    def never() -> bool:
        raise AssertionError("asked")

    assert wait_until_healthy(
        endpoint, startup_timeout=5, clock=clock, sleep=clock.sleep, is_alive=never
    ).healthy


def test_poll_passes_elapsed_and_remaining_time():
    clock = FakeClock(10.0)
    seen: list[tuple[float, float]] = []

    def attempt(t: float, remaining: float) -> bool:
        seen.append((round(t, 6), round(remaining, 6)))
        return len(seen) == 3

    outcome = poll(attempt, timeout=1.0, interval=0.25, clock=clock, sleep=clock.sleep)
    assert outcome.done
    assert seen == [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5)]


def test_probe_and_report_to_dict():
    probe = PingProbe(0.12345, 200, 0.0015)
    assert probe.to_dict() == {"t_s": 0.1235, "status": 200, "latency_ms": 1.5, "error": None}
    report = PingReport(True, 0.5, tuple(PingProbe(i / 10, 503, 0.001) for i in range(80)))
    data = report.to_dict()
    assert data["probe_count"] == 80
    assert len(data["probes"]) == 50
    assert data["probes"][-1]["t_s"] == 7.9


def test_monitor_probes_until_stopped():
    calls = threading.Semaphore(0)
    answers = [
        InvocationResult(200, None, b"\n", 0.001),
        InvocationResult(503, None, b"", 0.001),
        InvocationResult(0, None, b"", 2.001, "timed out after 2.0 s"),
    ]
    count = [0]

    def answer(request: FakeRequest) -> InvocationResult:
        result = answers[count[0] % 3]
        count[0] += 1
        calls.release()
        return result

    endpoint = FakeClient(answer)
    with PingMonitor(endpoint, interval=0.001) as monitor:
        for _ in range(6):
            assert calls.acquire(timeout=5)
    report = monitor.report()
    assert len(report.probes) >= 6
    assert len(endpoint.requests) == len(report.probes)
    assert [p.status for p in report.probes[:3]] == [200, 503, 0]
    assert not report.ok
    assert len(report.failures) >= 4
    assert report.slow_probes[0].error == "timed out after 2.0 s"
    assert report.max_latency_s == 2.001
    assert report.to_dict()["max_latency_ms"] == 2001.0
    frozen = len(monitor.report().probes)
    assert frozen == len(report.probes)  # stopped: no probe after stop()


def test_monitor_of_a_healthy_endpoint_is_ok():
    endpoint = FakeClient(lambda r: InvocationResult(200, None, b"", 0.0005))
    monitor = PingMonitor(endpoint, interval=0.01)
    monitor.start()
    while len(endpoint.requests) < 3:
        threading.Event().wait(0.01)
    report = monitor.stop()
    assert report.ok
    assert report.to_dict()["failure_count"] == 0
