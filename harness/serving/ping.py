"""Readiness and liveness of a serving container through GET /ping (SERVE-PING, contract §2.2).

`wait_until_healthy` polls /ping from container start until the first 200 (any body: AWS's own
sample answers "\\n") or the end of the startup window, and keeps every probe. `PingMonitor`
keeps probing in a thread while something else runs (the load probe), because SageMaker pings
throughout a container's life and each answer must come within 2 s.

    report = wait_until_healthy(client, startup_timeout=240, is_alive=container_is_running)
    with PingMonitor(client, interval=0.25) as monitor:
        run_load(...)
    monitor.report().failures

Time comes from injected `clock` / `sleep` so the polling is tested without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from harness.serving.http import DEFAULT_PING_TIMEOUT, InvocationResult, SupportsPing

__all__ = [
    "DEFAULT_INTERVAL",
    "SLOW_PING_S",
    "PingMonitor",
    "PingMonitorReport",
    "PingProbe",
    "PingReport",
    "poll",
    "wait_until_healthy",
]

DEFAULT_INTERVAL = 0.05
"""Seconds between the starts of two readiness probes. A probe of a local container takes a
millisecond or two, so a 200 is seen at most ~0.05 s after the container turns healthy
(DESIGN §5 wants 0.2 s); SageMaker local mode polls every 5 s."""
SLOW_PING_S = 2.0
"""An answer slower than this fails SERVE-PING: SageMaker's /ping timeout."""
MONITOR_INTERVAL = 0.25
MAX_REPORTED_PROBES = 50


@dataclass(frozen=True)
class PingProbe:
    """One GET /ping: when it started (seconds after the reference time) and what came back."""

    t_s: float
    status: int
    latency_s: float
    error: str | None = None

    @classmethod
    def from_result(cls, t_s: float, result: InvocationResult) -> PingProbe:
        return cls(t_s, result.status, result.latency_s, result.error)

    @property
    def healthy(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def slow(self) -> bool:
        return self.latency_s > SLOW_PING_S or (self.error or "").startswith(
            ("timed out", "connect timed out")
        )

    def describe(self) -> str:
        return self.error if self.error is not None else f"HTTP {self.status}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "t_s": round(self.t_s, 4),
            "status": self.status,
            "latency_ms": round(self.latency_s * 1000, 3),
            "error": self.error,
        }


@dataclass(frozen=True)
class PingReport:
    """The outcome of waiting for readiness; `healthy_after_s` counts from the reference time."""

    healthy: bool
    healthy_after_s: float | None
    probes: tuple[PingProbe, ...]
    reason: str | None = None

    @property
    def slow_probes(self) -> tuple[PingProbe, ...]:
        return tuple(probe for probe in self.probes if probe.slow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "healthy_after_s": None
            if self.healthy_after_s is None
            else round(self.healthy_after_s, 4),
            "reason": self.reason,
            "probe_count": len(self.probes),
            "slow_probes": [probe.to_dict() for probe in self.slow_probes],
            "probes": [probe.to_dict() for probe in _first_and_last(self.probes)],
        }


@dataclass(frozen=True)
class PollOutcome:
    done: bool
    """`attempt` returned True before the deadline."""
    elapsed_s: float
    """From the reference time to the end of the last attempt."""
    stopped: str | None = None
    """Why polling stopped early, from `stop_reason`."""


def poll(
    attempt: Callable[[float, float], bool],
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stop_reason: Callable[[], str | None] | None = None,
    started: float | None = None,
) -> PollOutcome:
    """The one polling loop: call `attempt(t, remaining)` every `interval` s until it is True.

    `t` is the seconds since `started` (default: now) and `remaining` what is left of `timeout`.
    Attempts start `interval` apart (a slow attempt is followed at once by the next one). After
    each failed attempt `stop_reason()` may end the wait early (a container that exited).
    """
    origin = clock() if started is None else started
    deadline = origin + timeout
    while True:
        began = clock()
        remaining = deadline - began
        if remaining <= 0:
            return PollOutcome(False, began - origin)
        if attempt(began - origin, remaining):
            return PollOutcome(True, clock() - origin)
        reason = stop_reason() if stop_reason is not None else None
        if reason is not None:
            return PollOutcome(False, clock() - origin, reason)
        pause = began + interval - clock()
        if pause > 0:
            sleep(min(pause, max(0.0, deadline - clock())))


def wait_until_healthy(
    client: SupportsPing,
    *,
    startup_timeout: float,
    probe_timeout: float = DEFAULT_PING_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    is_alive: Callable[[], bool] | None = None,
    started: float | None = None,
) -> PingReport:
    """Poll /ping until it answers 200 within `startup_timeout` s of `started` (a `clock()`
    reading taken when the container started; default: now).

    No probe waits past the end of the window. `is_alive()`, when given, is asked after each
    failed probe; False ends the wait at once.
    """
    probes: list[PingProbe] = []

    def attempt(t: float, remaining: float) -> bool:
        probe = PingProbe.from_result(t, client.ping(timeout=min(probe_timeout, remaining)))
        probes.append(probe)
        return probe.healthy

    def stop_reason() -> str | None:
        if is_alive is None or is_alive():
            return None
        return "the container exited before /ping answered 200"

    outcome = poll(
        attempt,
        timeout=startup_timeout,
        interval=interval,
        clock=clock,
        sleep=sleep,
        stop_reason=stop_reason,
        started=started,
    )
    if outcome.done:
        return PingReport(True, outcome.elapsed_s, tuple(probes))
    last = f"; last probe: {probes[-1].describe()}" if probes else ""
    reason = outcome.stopped or f"/ping did not answer 200 within {float(startup_timeout)} s"
    return PingReport(False, None, tuple(probes), reason + last)


# --- probing while something else runs ---------------------------------------------------------


@dataclass(frozen=True)
class PingMonitorReport:
    """Every probe a `PingMonitor` made; SERVE-PING wants each one healthy and fast."""

    probes: tuple[PingProbe, ...]

    @property
    def failures(self) -> tuple[PingProbe, ...]:
        return tuple(probe for probe in self.probes if not probe.healthy)

    @property
    def slow_probes(self) -> tuple[PingProbe, ...]:
        return tuple(probe for probe in self.probes if probe.slow)

    @property
    def max_latency_s(self) -> float | None:
        return max((probe.latency_s for probe in self.probes), default=None)

    @property
    def ok(self) -> bool:
        return bool(self.probes) and not self.failures and not self.slow_probes

    def to_dict(self) -> dict[str, Any]:
        top = self.max_latency_s
        return {
            "probe_count": len(self.probes),
            "failure_count": len(self.failures),
            "slow_count": len(self.slow_probes),
            "max_latency_ms": None if top is None else round(top * 1000, 3),
            "failures": [probe.to_dict() for probe in self.failures[:MAX_REPORTED_PROBES]],
        }


class PingMonitor:
    """Probes /ping every `interval` s in a daemon thread between `start()` and `stop()`.

    The client must be safe to use from another thread (EndpointClient gives the monitor its
    own connection). Probe times count from `start()`.
    """

    def __init__(
        self,
        client: SupportsPing,
        *,
        interval: float = MONITOR_INTERVAL,
        probe_timeout: float = DEFAULT_PING_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._interval = interval
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._probes: list[PingProbe] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ping-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> PingMonitorReport:
        """Stop probing (waits for a probe in flight, at most `probe_timeout` s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._probe_timeout + 1.0)
        return self.report()

    def report(self) -> PingMonitorReport:
        with self._lock:
            return PingMonitorReport(tuple(self._probes))

    def __enter__(self) -> PingMonitor:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        origin = self._clock()
        while not self._stop.is_set():
            began = self._clock()
            result = self._client.ping(timeout=self._probe_timeout)
            with self._lock:
                self._probes.append(PingProbe.from_result(began - origin, result))
            self._stop.wait(max(0.0, began + self._interval - self._clock()))


def _first_and_last(probes: tuple[PingProbe, ...]) -> tuple[PingProbe, ...]:
    """At most MAX_REPORTED_PROBES, keeping both ends (the start and the turn to healthy)."""
    if len(probes) <= MAX_REPORTED_PROBES:
        return probes
    half = MAX_REPORTED_PROBES // 2
    return probes[:half] + probes[-half:]
