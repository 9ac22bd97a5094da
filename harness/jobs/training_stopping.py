"""The stopping condition of a training job, as SageMaker applies it.

MaxRuntimeInSeconds -> SIGTERM -> grace (120 s) -> SIGKILL; the TRAIN-SIGTERM probe sends the
SIGTERM early. One failed host stops the others, as SageMaker fails the whole job.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.jobs.training_job import TrainingJob

if TYPE_CHECKING:
    from harness.engine.containers import Containers


def watch_hosts(
    containers: Containers,
    job: TrainingJob,
    hosts: tuple[str, ...],
    created: list[str],
    started: float,
    progress: Callable[[str], None],
) -> tuple[str, dict[str, int], float | None, float | None, bool]:
    """Wait for every host, enforcing the stopping condition. Returns (status, exit codes,
    SIGTERM sent after s, exited s after SIGTERM, SIGKILL needed)."""
    exits: queue.Queue[tuple[str, int | None]] = queue.Queue()
    limit = job.max_runtime_seconds + job.sigterm_grace_seconds + 60

    def waiter(host: str, container_id: str) -> None:
        exits.put((host, containers.wait(container_id, limit)))

    for host, container_id in zip(hosts, created, strict=True):
        threading.Thread(
            target=waiter, args=(host, container_id), daemon=True, name=f"wait-{host}"
        ).start()
    probe = job.interrupt_after_seconds is not None
    stop_after = min(job.max_runtime_seconds, job.interrupt_after_seconds or float("inf"))
    codes: dict[str, int] = {}
    status, phase = "Completed", "running"
    sigterm_at: float | None = None
    kill_at = 0.0

    def signal_running(signal_name: str) -> None:
        for host, container_id in zip(hosts, created, strict=True):
            if host not in codes:
                containers.signal(container_id, signal_name)

    while len(codes) < len(hosts):
        if phase == "running":
            deadline = started + stop_after
        elif phase == "terminating":
            deadline = (sigterm_at or 0.0) + job.sigterm_grace_seconds
        else:
            deadline = kill_at + 30  # after SIGKILL the daemon answers within seconds
        try:
            host, code = exits.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            if phase == "running":
                status = (
                    "Interrupted"
                    if probe and stop_after < job.max_runtime_seconds
                    else "MaxRuntimeExceeded"
                )
                progress(f"{job.job_name}: {status}: SIGTERM")
                sigterm_at, phase = time.monotonic(), "terminating"
                signal_running("SIGTERM")
            elif phase == "terminating":
                progress(
                    f"{job.job_name}: still running "
                    f"{job.sigterm_grace_seconds:.0f} s after SIGTERM: SIGKILL"
                )
                kill_at, phase = time.monotonic(), "killing"
                signal_running("SIGKILL")
            else:
                break  # the daemon never reported the exit; the state says the rest
            continue
        codes[host] = -1 if code is None else code
        if code and phase == "running" and len(codes) < len(hosts):
            # One failed host fails the job: SageMaker stops the others.
            status, phase, sigterm_at = "Failed", "terminating", time.monotonic()
            signal_running("SIGTERM")
    if status == "Completed" and any(codes.values()):
        status = "Failed"
    sent = None if sigterm_at is None else sigterm_at - started
    after = None
    if sigterm_at is not None and phase == "terminating":
        after = time.monotonic() - sigterm_at
    return status, codes, sent, after, phase == "killing"
