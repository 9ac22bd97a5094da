"""One training job, run as SageMaker runs it, under one emulated instance type.

    prepare   /opt/ml per host: config files, channels (File copy, FastFile read-only, Pipe FIFOs)
    start     N containers `IMAGE train` together: one host has no network at all; several share
              an internal network without a gateway and resolve each other as algo-1..algo-N
    watch     logs per host, resource use sampled from the host, the stopping condition:
              MaxRuntimeInSeconds -> SIGTERM -> grace (120 s) -> SIGKILL; one failed host stops
              the others, as SageMaker fails the whole job (training_stopping.py)
    collect   exit codes, OOM kills, /opt/ml/output/failure, model.tar.gz and output.tar.gz

Everything created is removed at the end, also on Ctrl-C and errors, unless `keep` is set.
The job and its outcome are data in training_job.py; their names are re-exported here.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.engine.containers import ContainerSpec, Mount
from harness.engine.labels import labels
from harness.errors import UsageError
from harness.hardware.nvml import load_nvml
from harness.hardware.usage import UsageSampler
from harness.jobs.training_job import (
    FAILURE_REASON_LIMIT,
    SIGTERM_GRACE_SECONDS,
    HostResult,
    TrainingJob,
    TrainingOutcome,
)
from harness.jobs.training_stopping import watch_hosts
from harness.sagemaker import config_files
from harness.sagemaker.artifacts import pack_model
from harness.sagemaker.channels import (
    ChannelFile,
    channel_files,
    data_digest,
    shard,
    stage_file_channel,
)
from harness.sagemaker.pipe import PipeFeeder

if TYPE_CHECKING:
    from harness.engine.containers import Containers

__all__ = [
    "SIGTERM_GRACE_SECONDS",
    "HostResult",
    "LogListener",
    "TrainingJob",
    "TrainingOutcome",
    "TrainingRunner",
]

LogListener = Callable[[str, str, float, str], None]
"""(host, stream, time, text): complete lines ("\n"-terminated) as a container writes them."""
MAX_LINE_BYTES = 1 << 20


class _HostLog:
    """Writes one host's output to its log file and splits it into lines for listeners."""

    def __init__(self, host: str, path: Path, listeners: list[LogListener]):
        self.host = host
        self.path = path
        self._file = path.open("wb")
        self._partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._listeners = listeners
        self.tail: deque[str] = deque(maxlen=200)
        self._lock = threading.Lock()

    def __call__(self, stream: str, chunk: bytes) -> None:
        with self._lock:
            self._file.write(chunk)
            self._file.flush()
            data = self._partial[stream] + chunk
            cut = data.rfind(b"\n")
            if cut < 0 and len(data) > MAX_LINE_BYTES:
                cut = len(data) - 1  # a line that never ends is cut, not kept in memory
            if cut < 0:
                self._partial[stream] = data
                return
            self._partial[stream] = data[cut + 1 :]
            self._emit(stream, time.time(), data[: cut + 1])

    def _emit(self, stream: str, now: float, block: bytes) -> None:
        text = block.decode("utf-8", "replace")
        self.tail.extend(text.splitlines())  # the deque keeps the last 200
        for listener in self._listeners:
            listener(self.host, stream, now, text)

    def close(self) -> None:
        with self._lock:
            now = time.time()
            for stream, rest in self._partial.items():
                if rest:
                    self._emit(stream, now, rest + b"\n")
            self._partial = {"stdout": b"", "stderr": b""}
            self._file.close()


def _safe_name(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-")[:200]


def _digest(channel: str, files: list[ChannelFile]) -> str:
    try:
        return data_digest(files)
    except OSError as exc:
        raise UsageError(
            f"channel {channel!r}: cannot read {exc.filename}: {exc.strerror or exc}",
            where=str(exc.filename) if exc.filename else None,
        ) from None


class TrainingRunner:
    """Runs `TrainingJob`s on one engine; `listeners` see every log line (metrics, progress)."""

    def __init__(
        self,
        containers: Containers,
        *,
        progress: Callable[[str], None] = lambda _: None,
        listeners: list[LogListener] | None = None,
    ):
        self._containers = containers
        self._progress = progress
        self._listeners = listeners or []
        self._nvml = load_nvml()[0]  # None without an NVIDIA driver: no GPU sampling

    def run(self, job: TrainingJob, listeners: list[LogListener] | None = None) -> TrainingOutcome:
        """Run `job`; `listeners` (besides the runner's own) see this job's log lines."""
        every_listener = [*self._listeners, *(listeners or [])]
        hosts = config_files.host_names(len(job.emulations))
        job.out_dir.mkdir(parents=True, exist_ok=True)
        work = job.out_dir / ".work"
        if work.exists():
            shutil.rmtree(work)
        logs_dir = job.out_dir / "logs"
        logs_dir.mkdir(exist_ok=True)
        network = _safe_name(f"harness-{job.run_id}-{job.job_name}") if len(hosts) > 1 else None
        created: list[str] = []
        feeders: list[PipeFeeder] = []
        host_logs: list[_HostLog] = []
        samplers: dict[str, UsageSampler] = {}
        channels_info: dict[str, Any] = {}
        pumps: list[threading.Thread] = []
        try:
            # Each channel listed once: every host's shard, and the digest report.json keeps
            # of the data (`data_sha256`), come from this one listing.
            listings = {c.name: channel_files(c) for c in job.profile.training.channels}
            digests = {name: _digest(name, files) for name, files in listings.items()}
            specs = []
            for index, host in enumerate(hosts):
                root = work / host
                channels_info[host] = self._prepare_host(
                    job, hosts, index, root, feeders, listings, digests
                )
                specs.append(self._spec(job, hosts, index, root, network))
            if network:
                self._containers.create_internal_network(network, labels(job.run_id, "network"))
            for spec in specs:
                created.append(self._containers.create(spec))
            for feeder in feeders:
                feeder.start()
            started = time.monotonic()
            for container_id in created:
                self._containers.start(container_id)
            for index, (host, container_id) in enumerate(zip(hosts, created, strict=True)):
                log = _HostLog(host, logs_dir / f"{host}.log", every_listener)
                host_logs.append(log)
                pumps += self._containers.follow_output(container_id, log)
                pid = self._containers.state(container_id).pid
                if pid:
                    samplers[host] = UsageSampler(
                        pid, nvml=self._nvml, gpu_uuids=job.emulations[index].gpu_uuids
                    )
                    samplers[host].start()
            self._progress(f"{job.job_name}: training on {len(hosts)} host(s)")
            status, codes, sigterm_at, exit_after, killed = watch_hosts(
                self._containers, job, hosts, created, started, self._progress
            )
            duration = time.monotonic() - started
            for pump in pumps:
                pump.join(timeout=10)  # the log streams end right after the containers
            results = self._collect(job, hosts, created, codes, work, host_logs, samplers)
            model = pack_model([work / h / "model" for h in hosts], job.out_dir / "model.tar.gz")
            output = pack_model(
                [work / h / "output" / "data" for h in hosts], job.out_dir / "output.tar.gz"
            )
            return TrainingOutcome(
                job,
                status,
                results,
                duration,
                sigterm_at,
                exit_after,
                killed,
                model,
                output,
                channels_info,
            )
        finally:
            for sampler in samplers.values():
                sampler.stop()  # a second stop (after _collect) returns at once
            for feeder in feeders:
                feeder.stop(timeout=5)
            if not job.keep:
                for container_id in created:
                    self._containers.remove(container_id)
                if network:
                    self._containers.remove_network(network)
                shutil.rmtree(work, ignore_errors=True)
            for log in host_logs:
                log.close()

    # -- preparing -------------------------------------------------------------------------

    def _prepare_host(
        self,
        job: TrainingJob,
        hosts: tuple[str, ...],
        index: int,
        root: Path,
        feeders: list[PipeFeeder],
        listings: dict[str, list[ChannelFile]],
        digests: dict[str, str],
    ) -> dict[str, Any]:
        """Folders, config files and channels of one host; its channels' summary, each with
        `data_sha256`, the digest of the whole channel as listed (before sharding; the same
        on every host: jobs/run_parts.py `training_dict` lifts it out)."""
        training = job.profile.training
        config = root / "input" / "config"
        data = root / "input" / "data"
        for folder in (config, data, root / "model", root / "output" / "data"):
            folder.mkdir(parents=True, exist_ok=True)
        if training.checkpoints:
            (root / "checkpoints").mkdir()
        config_files.write_config_files(
            config,
            hyperparameters=config_files.hyperparameters_json(
                job.request, training.hyperparameter_map
            ),
            inputdataconfig=config_files.inputdataconfig_json(training),
            resourceconfig=config_files.resourceconfig_json(hosts[index], hosts, job.instance_type),
        )
        summary: dict[str, Any] = {}
        for channel in training.channels:
            mode = channel.input_mode or training.input_mode
            mine = shard(listings[channel.name], len(hosts), index, channel.distribution)
            summary[channel.name] = {
                "mode": mode,
                "files": len(mine),
                "bytes": sum(f.size for f in mine),
                "data_sha256": digests[channel.name],
            }
            if mode == "Pipe":
                feeders.append(
                    PipeFeeder(
                        data, channel.name, mine, channel.compression, channel.record_wrapper
                    )
                )
            else:
                stage_file_channel(mine, data / channel.name)
        return summary

    def _spec(
        self, job: TrainingJob, hosts: tuple[str, ...], index: int, root: Path, network: str | None
    ) -> ContainerSpec:
        host = hosts[index]
        emulation = job.emulations[index]
        training = job.profile.training
        mounts = [
            Mount(root / "input", "/opt/ml/input"),
            Mount(root / "input" / "config", "/opt/ml/input/config", read_only=True),
            Mount(root / "model", "/opt/ml/model"),
            Mount(root / "output", "/opt/ml/output"),
        ]
        for channel in training.channels:
            if (channel.input_mode or training.input_mode) == "FastFile":
                # FastFile channels are read-only for the container, as on SageMaker.
                folder = root / "input" / "data" / channel.name
                mounts.append(Mount(folder, f"/opt/ml/input/data/{channel.name}", True))
        if training.checkpoints:
            mounts.append(Mount(root / "checkpoints", "/opt/ml/checkpoints"))
        environment = {**config_files.training_environment(job.job_name), **emulation.environment}
        return ContainerSpec(
            image=job.image,
            command=("train",),
            name=_safe_name(f"harness-{job.run_id}-{job.job_name}-{host}"),
            hostname=host,
            labels=labels(job.run_id, "training"),
            environment=environment,
            mounts=tuple(mounts),
            network=network,
            aliases=(host,) if network else (),
            # Under --network none Docker writes no /etc/hosts entry for the container's own
            # name, and the SageMaker training toolkit waits 15 minutes for algo-1 to resolve.
            extra_hosts={} if network else {host: "127.0.0.1"},
            # Docker's DNS on an internal network forwards unknown names to resolvers it cannot
            # reach and hangs 10 s per lookup; SageMaker's VPC DNS answers at once. A peer not
            # yet started is such a name: fail fast so the algorithm's retries run.
            dns_options=("timeout:1", "attempts:1") if network else (),
            cpuset=emulation.cpuset,
            nano_cpus=emulation.nano_cpus,
            memory_bytes=emulation.memory_bytes,
            shm_bytes=emulation.shm_bytes,
            gpu_uuids=emulation.gpu_uuids,
        )

    # -- collecting ------------------------------------------------------------------------

    def _collect(
        self,
        job: TrainingJob,
        hosts: tuple[str, ...],
        created: list[str],
        codes: dict[str, int],
        work: Path,
        host_logs: list[_HostLog],
        samplers: dict[str, UsageSampler],
    ) -> tuple[HostResult, ...]:
        results = []
        for host, container_id, log in zip(hosts, created, host_logs, strict=True):
            state = self._containers.state(container_id)
            failure = work / host / "output" / "failure"
            reason = None
            if failure.is_file():
                reason = failure.read_text("utf-8", "replace")[:FAILURE_REASON_LIMIT].strip()
            usage = samplers[host].stop() if host in samplers else None
            results.append(
                HostResult(
                    host,
                    codes.get(host, state.exit_code),
                    state.oom_killed,
                    reason or None,
                    log.path,
                    tuple(log.tail),
                    usage,
                )
            )
        return tuple(results)
