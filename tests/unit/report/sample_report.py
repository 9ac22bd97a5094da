"""One literal result model of `harness run`, the input of every renderer's golden file and of the
HTML screenshot test.

Two plan profiles on two instance types each, shaped as harness/jobs/run.py records them:

    smoke / ml.m5.large         exact: training, serving under load and batch transform all pass
    smoke / ml.p4d.24xlarge     unavailable on this host: every training check skipped
    distributed / ml.m5.4xlarge scaled, two hosts: algo-2 fails, metrics and objective missing,
                                serving skipped (no model to serve)
    distributed / ml.c5.2xlarge exact, two hosts: training passes, serving errors (Docker)

The failed TRAIN-METRICS quotes log lines as containers write them: ANSI colors, a progress
bar's `|` and carriage return, which junit.xml and summary.md must survive (NEAR_MISSES).
Everything is fixed (times, durations, digests), so renderer output is byte-for-byte stable.
"""

from __future__ import annotations

from typing import Any

from harness.checks.results import CheckResult, CheckStatus
from harness.report.model import ReportOptions, RunRecord, RunReport

FAIL, PASS, SKIP, ERROR = CheckStatus.FAIL, CheckStatus.PASS, CheckStatus.SKIP, CheckStatus.ERROR
T0 = 1768469400.0  # 2026-01-15T09:30:00Z: metric points carry wall-clock times
TRAINING_DIGEST = "sha256:bc6403ffeefaa1aa32e7f960363212f7f5904e24e70291622a59642c37354f17"
INFERENCE_INDEX = "sha256:5d41402abc4b2a76b9719d911017c592ae0e1f3b8f8c1d2e3a4b5c6d7e8f9a0b"
INFERENCE_AMD64 = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
INFERENCE_ARM64 = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

HOST: dict[str, Any] = {
    "cpus": 16,
    "usable_cpu_ids": list(range(16)),
    "memory_mib": 192000,
    "gpus": [
        {
            "index": 0,
            "uuid": "GPU-6c1e0f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
            "name": "NVIDIA A10G",
            "memory_total_mib": 23028,
        }
    ],
    "gpu_note": None,
    "cgroup_version": 2,
    "docker": {
        "version": "20.10.24+dfsg1",
        "runtimes": ["io.containerd.runc.v2", "nvidia", "runc"],
        "default_runtime": "runc",
        "nvidia_runtime": True,
    },
}

IMAGES: tuple[dict[str, Any], ...] = (
    {
        "role": "training",
        "image": f"{REGISTRY}/tabular-gbm:1.4.0",
        "declared_digest": TRAINING_DIGEST,
        "resolved_digest": TRAINING_DIGEST,
        "kind": "manifest",
        "platform": "linux/amd64",
        "platform_manifests": {},
        "pinned_reference": f"{REGISTRY}/tabular-gbm@{TRAINING_DIGEST}",
        "local_image_id": "sha256:2a23f670a856852b88a2bfe03a9457af2071c2cdaf277fc03b854a232b042de0",
        "pull": "pulled by digest",
    },
    {
        "role": "inference[0]",
        "image": f"{REGISTRY}/tabular-gbm-serve:1.4.0",
        "declared_digest": None,
        "resolved_digest": INFERENCE_INDEX,
        "kind": "index",
        "platform": "linux/amd64, linux/arm64",
        "platform_manifests": {
            "linux/amd64": INFERENCE_AMD64,
            "linux/arm64": INFERENCE_ARM64,
        },
        "pinned_reference": f"{REGISTRY}/tabular-gbm-serve@{INFERENCE_INDEX}",
        "local_image_id": "sha256:e3b98a4da31a127d4bde6e43033f66ba274cab0eb7eb1c70ec41402bf6273dd8",
        "pull": "pulled by digest",
    },
)


def _emulation(
    name: str,
    vcpu: int,
    memory_mib: int,
    fidelity: str,
    cpuset: str | None,
    reasons: tuple[str, ...] = (),
    accelerators: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "vcpu": vcpu,
        "memory_mib": memory_mib,
        "accelerators": accelerators,
        "fidelity": fidelity,
        "reasons": list(reasons),
        "cpuset": cpuset,
        "nano_cpus": None,
        "memory_bytes": memory_mib * 2**20 if fidelity != "unavailable" else None,
        "shm_bytes": memory_mib * 2**19 if fidelity != "unavailable" else None,
        "gpus": [],
    }


def _usage(peak_mib: float, limit_mib: int, cpu_rate: float, seconds: int) -> dict[str, Any]:
    """A host's usage: memory ramping up to `peak_mib`, CPU time growing at `cpu_rate`."""
    samples = [
        {
            "t": float(t),
            "memory_bytes": int(peak_mib * 2**20 * min(1.0, 0.35 + 0.65 * t / seconds)),
            "cpu_seconds": round(cpu_rate * t, 3),
            "gpu_memory_bytes": None,
        }
        for t in range(0, seconds + 1, max(1, seconds // 12))
    ]
    return {
        "peak_memory_bytes": int(peak_mib * 2**20),
        "peak_memory_polled": False,
        "cpu_seconds": samples[-1]["cpu_seconds"],
        "memory_limit_bytes": limit_mib * 2**20,
        "oom_kills": 0,
        "samples": samples,
        "gpu": None,
        "note": None,
    }


def _series(name: str, regex: str, values: list[float], host: str, stream: str) -> dict[str, Any]:
    """MetricSeries.to_dict() of `values` emitted 4 s apart from T0 + 2 s."""
    return {
        "name": name,
        "regex": regex,
        "engine": "re2",
        "values": values,
        "final": values[-1] if values else None,
        "count": len(values),
        "matches": len(values),
        "non_numeric": 0,
        "non_numeric_samples": [],
        "exponent_samples": [],
        "hosts": [host] if values else [],
        "per_host": {host: {"count": len(values), "final": values[-1]}} if values else {},
        "points": [
            {"t": T0 + 2.0 + 4.0 * i, "host": host, "stream": stream, "value": v}
            for i, v in enumerate(values)
        ],
        "unsafe": None,
        "near_misses": [],
    }


def _artifact(path: str, size: int, sha256: str, files: int) -> dict[str, Any]:
    return {
        "path": path,
        "bytes": size,
        "sha256": sha256,
        "files": files,
        "problems": [],
        "conflicts": [],
    }


def _host(
    name: str, folder: str, exit_code: int, usage: dict[str, Any], reason: str | None = None
) -> dict[str, Any]:
    return {
        "host": name,
        "exit_code": exit_code,
        "oom_killed": False,
        "failure_reason": reason,
        "log": f"{folder}/logs/{name}.log",
        "usage": usage,
    }


TRAIN_LOSS = [0.726, 0.5771, 0.4996, 0.4532, 0.4221, 0.4107]
VALIDATION_ACCURACY = [0.8011, 0.8222, 0.8356]

SMOKE_M5 = RunRecord(
    profile="smoke",
    instance_type="ml.m5.large",
    emulation="exact",
    emulation_detail={"hosts": [_emulation("ml.m5.large", 2, 8192, "exact", "0-1")]},
    training={
        "status": "Completed",
        "exit_code": 0,
        "duration_s": 24.318,
        "failure_reason": None,
        "peak_memory_bytes": 412 * 2**20,
        "gpu": None,
        "model_artifact": _artifact(
            "smoke/ml.m5.large/model.tar.gz",
            18944,
            "8f8357d92f952e56805e6509383ad8395758233f4c29e326875b62ca7ecba341",
            2,
        ),
        "output_artifact": _artifact(
            "smoke/ml.m5.large/output.tar.gz",
            435,
            "b761966e3f07298343a29d6a8c16a27180837fea22fb102e669724b260eeac4d",
            1,
        ),
        "hosts": [_host("algo-1", "smoke/ml.m5.large", 0, _usage(412, 8192, 1.7, 24))],
        "channels": {
            "algo-1": {
                "training": {"mode": "File", "files": 2, "bytes": 9315},
                "validation": {"mode": "File", "files": 1, "bytes": 2807},
            }
        },
        "metrics": {"train:loss": TRAIN_LOSS, "validation:accuracy": VALIDATION_ACCURACY},
        "metrics_detail": {
            "train:loss": _series(
                "train:loss", "train_loss=([0-9\\.eE+-]+)", TRAIN_LOSS, "algo-1", "stdout"
            ),
            "validation:accuracy": _series(
                "validation:accuracy",
                "validation_accuracy=([0-9\\.eE+-]+)",
                VALIDATION_ACCURACY,
                "algo-1",
                "stderr",
            ),
        },
    },
    serving={
        "containers": 1,
        "healthy_after_s": 1.284,
        "invocations": [
            {
                "purpose": "text/csv -> text/csv",
                "content_type": "text/csv",
                "accept": "text/csv",
                "request_bytes": 176,
                "status": 200,
                "response_type": "text/csv",
                "latency_s": 0.0061,
                "error": None,
                "body_excerpt": "",
            },
            {
                "purpose": "unknown X-Amzn-SageMaker-Harness-Probe header",
                "content_type": "text/csv",
                "accept": "text/csv",
                "request_bytes": 176,
                "status": 200,
                "response_type": "text/csv",
                "latency_s": 0.0048,
                "error": None,
                "body_excerpt": "",
            },
        ],
        "load": {
            "concurrency": 4,
            "requests": 200,
            "errors": 0,
            "duration_s": 1.7342,
            "requests_per_second": 115.33,
            "latency_ms": {"p50": 31.204, "p90": 48.77, "p99": 71.912, "max": 80.5},
            "status_counts": {"200": 200},
            "error_samples": [],
        },
        "sigterm_exit_s": 0.412,
        "log": "smoke/ml.m5.large/serve.log",
    },
    transform={
        "settings": {
            "split_type": "Line",
            "batch_strategy": ["MultiRecord", "plan"],
            "max_payload_mb": [6, "plan"],
            "max_concurrent_transforms": [1, "plan"],
            "assemble_with": "Line",
        },
        "files": 2,
        "records": 100,
        "requests": 2,
        "retries": 0,
        "duration_s": 0.875,
        "records_per_second": 114.3,
        "failed_files": [],
        "outputs": ["batch-000.csv.out", "batch-001.csv.out"],
    },
)

P4D_REASONS = (
    "ml.p4d.24xlarge needs 8 NVIDIA A100 GPUs; this host has 1",
    "ml.p4d.24xlarge has 96 vCPUs; this host has 16: running on 16",
)
SMOKE_P4D = RunRecord(
    profile="smoke",
    instance_type="ml.p4d.24xlarge",
    emulation="unavailable",
    emulation_detail={
        "hosts": [
            _emulation(
                "ml.p4d.24xlarge",
                96,
                1179648,
                "unavailable",
                None,
                P4D_REASONS,
                {"kind": "gpu", "count": 8, "model": "A100", "memory_mib_each": 40960},
            )
        ]
    },
)

ALGO2_FAILURE = "ValueError: column 7 of training/part-1.csv is not numeric: 'n/a'"
M5_4XL_SHARED = "2 hosts of 16 vCPUs need 32 CPUs; this host has 16: the hosts share CPUs"
DISTRIBUTED_M5 = RunRecord(
    profile="distributed",
    instance_type="ml.m5.4xlarge",
    emulation="scaled",
    emulation_detail={
        "hosts": [
            _emulation("ml.m5.4xlarge", 16, 65536, "scaled", "0-15", (M5_4XL_SHARED,)),
            _emulation("ml.m5.4xlarge", 16, 65536, "scaled", "0-15", (M5_4XL_SHARED,)),
        ]
    },
    training={
        "status": "Failed",
        "exit_code": 1,
        "duration_s": 9.87,
        "failure_reason": f"algo-2: {ALGO2_FAILURE}",
        "peak_memory_bytes": 268 * 2**20,
        "gpu": None,
        "model_artifact": None,
        "output_artifact": _artifact(
            "distributed/ml.m5.4xlarge/output.tar.gz",
            512,
            "0c5c2f6b2b1d5dd0a3aa8c4a4c1e9d71b4cf6d3f5b60e3f9a4fd7b4ad0e0f2c1",
            1,
        ),
        "hosts": [
            _host("algo-1", "distributed/ml.m5.4xlarge", 143, _usage(268, 65536, 1.1, 9)),
            _host(
                "algo-2",
                "distributed/ml.m5.4xlarge",
                1,
                _usage(141.5, 65536, 0.9, 9),
                ALGO2_FAILURE,
            ),
        ],
        "channels": {
            "algo-1": {"training": {"mode": "File", "files": 1, "bytes": 4657}},
            "algo-2": {"training": {"mode": "File", "files": 1, "bytes": 4658}},
        },
        "metrics": {"train:loss": [0.731, 0.6012], "validation:accuracy": []},
        "metrics_detail": {
            "train:loss": _series(
                "train:loss", "train_loss=([0-9\\.eE+-]+)", [0.731, 0.6012], "algo-1", "stdout"
            ),
            "validation:accuracy": _series(
                "validation:accuracy", "validation_accuracy=([0-9\\.eE+-]+)", [], "algo-1", "stderr"
            ),
        },
    },
)

DISTRIBUTED_C5 = RunRecord(
    profile="distributed",
    instance_type="ml.c5.2xlarge",
    emulation="exact",
    emulation_detail={
        "hosts": [
            _emulation("ml.c5.2xlarge", 8, 16384, "exact", "0-7"),
            _emulation("ml.c5.2xlarge", 8, 16384, "exact", "8-15"),
        ]
    },
    training={
        "status": "Completed",
        "exit_code": 0,
        "duration_s": 14.02,
        "failure_reason": None,
        "peak_memory_bytes": 305 * 2**20,
        "gpu": None,
        "model_artifact": _artifact(
            "distributed/ml.c5.2xlarge/model.tar.gz",
            20480,
            "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
            3,
        ),
        "output_artifact": None,
        "hosts": [
            _host("algo-1", "distributed/ml.c5.2xlarge", 0, _usage(305, 16384, 6.2, 14)),
            _host("algo-2", "distributed/ml.c5.2xlarge", 0, _usage(288, 16384, 5.8, 14)),
        ],
        "channels": {
            "algo-1": {"training": {"mode": "File", "files": 1, "bytes": 4657}},
            "algo-2": {"training": {"mode": "File", "files": 1, "bytes": 4658}},
        },
        "metrics": {"train:loss": TRAIN_LOSS[:4], "validation:accuracy": [0.8194]},
        "metrics_detail": {
            "train:loss": _series(
                "train:loss", "train_loss=([0-9\\.eE+-]+)", TRAIN_LOSS[:4], "algo-1", "stdout"
            ),
            "validation:accuracy": _series(
                "validation:accuracy",
                "validation_accuracy=([0-9\\.eE+-]+)",
                [0.8194],
                "algo-1",
                "stderr",
            ),
        },
    },
)

DOCKER_ERROR = (
    "Docker engine: cannot start container harness-3f9c2a1b-distributed-c5-2xlarge-serve: "
    "port 8080 is already allocated (hint: `harness clean` removes what a crashed run left)"
)


def _tag(run: RunRecord, *checks: CheckResult) -> list[CheckResult]:
    return [
        CheckResult(
            c.id,
            c.status,
            c.message,
            c.subject,
            c.evidence,
            c.warnings,
            run.profile,
            run.instance_type,
        )
        for c in checks
    ]


STATIC_CHECKS = [
    CheckResult("SPEC-SCHEMA", PASS, "the request satisfies every rule", evidence={"findings": []}),
    CheckResult(
        "SPEC-SEMANTICS",
        PASS,
        "no cross-field rule is broken",
        evidence={"findings": []},
        warnings=("ml.p4d.24xlarge is declared but no profile runs it with a GPU host",),
    ),
]

IMAGE_CHECKS = [
    CheckResult(
        "IMAGE-DIGEST",
        PASS,
        f"the declared digest is the image manifest digest of {REGISTRY}/tabular-gbm:1.4.0",
        "training image",
        {"declared_digest": TRAINING_DIGEST, "resolved_digest": TRAINING_DIGEST, "tag": "1.4.0"},
    ),
    CheckResult(
        "IMAGE-PLATFORM",
        PASS,
        "linux/amd64 available (linux/amd64 in the manifest)",
        "training image",
        {"required": ["linux/amd64"], "available": ["linux/amd64"]},
    ),
    CheckResult(
        "IMAGE-ENTRYPOINT",
        PASS,
        'exec-form ENTRYPOINT ["python3", "-m", "gbm"] reaches the program',
        "training image",
        {"entrypoint": ["python3", "-m", "gbm"], "cmd": None},
    ),
    CheckResult(
        "IMAGE-DIGEST",
        PASS,
        f"no digest declared: pinned to the index digest {INFERENCE_INDEX[:19]}…",
        "inference[0] image",
        {"declared_digest": None, "resolved_digest": INFERENCE_INDEX, "kind": "index"},
    ),
    CheckResult(
        "IMAGE-PLATFORM",
        PASS,
        "linux/amd64 available (linux/amd64, linux/arm64 in the index)",
        "inference[0] image",
        {"required": ["linux/amd64"], "available": ["linux/amd64", "linux/arm64"]},
    ),
    CheckResult(
        "IMAGE-ENTRYPOINT",
        PASS,
        "no ENTRYPOINT; `serve` is /opt/program/serve on PATH",
        "inference[0] image",
        {"entrypoint": None, "command": "serve", "found": "/opt/program/serve"},
        ("the image's CMD is shell-form: SIGTERM reaches /bin/sh, not the server",),
    ),
]

SMOKE_M5_CHECKS = _tag(
    SMOKE_M5,
    CheckResult(
        "TRAIN-COMPLETES",
        PASS,
        "1 host(s) exited 0 in 24.3 s",
        evidence={"status": "Completed", "duration_s": 24.318, "exit_codes": {"algo-1": 0}},
    ),
    CheckResult("TRAIN-MODEL", PASS, "model.tar.gz: 2 file(s), 18944 bytes"),
    CheckResult(
        "TRAIN-FAILURE-REASON", SKIP, "training succeeded: there was no failure to explain"
    ),
    CheckResult(
        "TRAIN-RESOURCES",
        PASS,
        "peak memory 412 MiB of 8.00 GiB (5%)",
        evidence={"peak_memory_bytes": 412 * 2**20, "memory_limit_bytes": 8 * 2**30},
    ),
    CheckResult("TRAIN-GPU-USED", SKIP, "ml.m5.large has no GPUs"),
    CheckResult(
        "TRAIN-METRICS",
        PASS,
        "every MetricDefinition yielded numbers (final values): train:loss=0.4107 (6 values), "
        "validation:accuracy=0.8356 (3 values)",
    ),
    CheckResult(
        "TRAIN-OBJECTIVE",
        PASS,
        "tuning objective(s) emitted: validation:accuracy (final 0.8356)",
        evidence={"objectives": {"validation:accuracy": {"count": 3, "final": 0.8356}}},
    ),
    CheckResult(
        "TRAIN-SIGTERM",
        PASS,
        "exited 0.4 s after SIGTERM and left its model (2 file(s))",
        evidence={"sigterm_after_s": 2.0, "exited_after_sigterm_s": 0.412, "grace_s": 120.0},
    ),
    CheckResult("SERVE-PING", PASS, "/ping answered 200 1.28 s after start"),
    CheckResult("SERVE-INVOKE", PASS, "2 request(s) answered 200 with a supported type"),
    CheckResult(
        "SERVE-LATENCY",
        PASS,
        "200 requests at concurrency 4: p50 31.2 ms, p90 48.8 ms, p99 71.9 ms, 115 req/s, 0 errors",
    ),
    CheckResult("SERVE-SIGTERM", PASS, "exited 0.4 s after SIGTERM (exit code 0)"),
    CheckResult("TRANSFORM-OUTPUT", PASS, "2 .out file(s) for 2 input(s), 100 records in order"),
    CheckResult(
        "TRANSFORM-EXEC-PARAMS",
        PASS,
        "/execution-parameters answered {'MaxConcurrentTransforms': 1, "
        "'BatchStrategy': 'MULTI_RECORD', 'MaxPayloadInMB': 6}",
    ),
)

UNAVAILABLE = "cannot be emulated on this host: " + "; ".join(P4D_REASONS)
SMOKE_P4D_CHECKS = _tag(
    SMOKE_P4D,
    *(
        CheckResult(check_id, SKIP, UNAVAILABLE)
        for check_id in (
            "TRAIN-COMPLETES",
            "TRAIN-MODEL",
            "TRAIN-FAILURE-REASON",
            "TRAIN-RESOURCES",
            "TRAIN-GPU-USED",
            "TRAIN-SIGTERM",
            "TRAIN-METRICS",
            "TRAIN-OBJECTIVE",
        )
    ),
)

NO_MODEL = "training left no model to serve"
NEAR_MISSES = [
    "\x1b[32m[eval]\x1b[0m validation accuracy: 0.79",
    "[eval] 100%|##########| 3/3\r[eval] validation acc=0.80",
]
DISTRIBUTED_M5_CHECKS = _tag(
    DISTRIBUTED_M5,
    CheckResult(
        "TRAIN-COMPLETES",
        FAIL,
        "algo-2 exited 1 after 9.9 s (algo-1 was stopped: exit 143)",
        evidence={
            "status": "Failed",
            "duration_s": 9.87,
            "exit_codes": {"algo-1": 143, "algo-2": 1},
        },
    ),
    CheckResult(
        "TRAIN-MODEL",
        FAIL,
        "/opt/ml/model is empty on every host: nothing to pack into model.tar.gz",
    ),
    CheckResult(
        "TRAIN-FAILURE-REASON",
        PASS,
        "algo-2 wrote /opt/ml/output/failure (70 characters)",
        evidence={"algo-2": ALGO2_FAILURE},
    ),
    CheckResult("TRAIN-RESOURCES", PASS, "peak memory 268 MiB of 64.00 GiB (0%)"),
    CheckResult("TRAIN-GPU-USED", SKIP, "ml.m5.4xlarge has no GPUs"),
    CheckResult(
        "TRAIN-SIGTERM",
        PASS,
        "exited 0.2 s after SIGTERM and left its model (1 file(s))",
    ),
    CheckResult(
        "TRAIN-METRICS",
        FAIL,
        "1 of 2 MetricDefinition(s) yielded no number: validation:accuracy: "
        "'validation_accuracy=([0-9\\\\.eE+-]+)' matched no line of any host's stdout or stderr; "
        "nearly: " + " | ".join(NEAR_MISSES),
        evidence={"missing": ["validation:accuracy"], "near_misses": NEAR_MISSES},
    ),
    CheckResult(
        "TRAIN-OBJECTIVE",
        FAIL,
        "tuning objective validation:accuracy was never emitted",
    ),
    *(
        CheckResult(check_id, SKIP, NO_MODEL)
        for check_id in ("SERVE-PING", "SERVE-INVOKE", "SERVE-LATENCY", "SERVE-SIGTERM")
    ),
)

DISTRIBUTED_C5_CHECKS = _tag(
    DISTRIBUTED_C5,
    CheckResult("TRAIN-COMPLETES", PASS, "2 host(s) exited 0 in 14.0 s"),
    CheckResult("TRAIN-MODEL", PASS, "model.tar.gz: 3 file(s), 20480 bytes"),
    CheckResult(
        "TRAIN-FAILURE-REASON", SKIP, "training succeeded: there was no failure to explain"
    ),
    CheckResult("TRAIN-RESOURCES", PASS, "peak memory 305 MiB of 16.00 GiB (2%)"),
    CheckResult("TRAIN-GPU-USED", SKIP, "ml.c5.2xlarge has no GPUs"),
    CheckResult("TRAIN-SIGTERM", PASS, "exited 0.3 s after SIGTERM and left its model (3 file(s))"),
    CheckResult(
        "TRAIN-METRICS",
        PASS,
        "every MetricDefinition yielded numbers (final values): train:loss=0.4532 (4 values), "
        "validation:accuracy=0.8194 (1 values)",
    ),
    CheckResult(
        "TRAIN-OBJECTIVE", PASS, "tuning objective(s) emitted: validation:accuracy (final 0.8194)"
    ),
    *(
        CheckResult(check_id, ERROR, DOCKER_ERROR)
        for check_id in ("SERVE-PING", "SERVE-INVOKE", "SERVE-LATENCY", "SERVE-SIGTERM")
    ),
)

SAMPLE_REPORT = RunReport(
    harness_version="0.1.0",
    started_at="2026-01-15T09:30:00+00:00",
    duration_s=187.4,
    request="fixtures/algorithms/reference/algorithm.json",
    plan="fixtures/algorithms/reference/harness.yaml",
    host=HOST,
    images=IMAGES,
    runs=(SMOKE_M5, SMOKE_P4D, DISTRIBUTED_M5, DISTRIBUTED_C5),
    checks=(
        *STATIC_CHECKS,
        *IMAGE_CHECKS,
        *SMOKE_M5_CHECKS,
        *SMOKE_P4D_CHECKS,
        *DISTRIBUTED_M5_CHECKS,
        *DISTRIBUTED_C5_CHECKS,
    ),
    errors=(DOCKER_ERROR,),
    run_id="3f9c2a1b",
    options=ReportOptions(profiles=("smoke", "distributed")),
    plan_sha256="6b2f0c2e9d0a4f1e8c3b7a5d9e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
    request_sha256="0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
)

LOST_DOCKER = (
    "Docker engine: lost the daemon at unix:///var/run/docker.sock while training "
    "distributed/ml.m5.4xlarge (hint: is dockerd running?)"
)
CLEANUP_INTERRUPTED = "cleanup interrupted (`harness clean` removes what the run left)"
LOST_RUN = RunRecord(
    profile="distributed",
    instance_type="ml.m5.4xlarge",
    emulation="scaled",
    emulation_detail=DISTRIBUTED_M5.emulation_detail,
)
"""A run the harness started (its record is there) but that produced no check: Docker went
away during its training, then Ctrl-C stopped the cleanup."""

INTERRUPTED_REPORT = RunReport(
    harness_version="0.1.0",
    started_at="2026-01-15T10:30:00+01:00",
    duration_s=42.0,
    request="fixtures/algorithms/reference/algorithm.json",
    plan="fixtures/algorithms/reference/harness.yaml",
    host={**HOST, "gpus": [], "gpu_note": "NVML not found", "docker": {**HOST["docker"]}},
    images=IMAGES,
    runs=(SMOKE_M5, LOST_RUN),
    checks=(*STATIC_CHECKS, *IMAGE_CHECKS, *SMOKE_M5_CHECKS[:2]),
    interrupted=True,
    errors=(LOST_DOCKER, CLEANUP_INTERRUPTED),
    run_id="7d1e0b2c",
    options=ReportOptions(profiles=("smoke", "distributed")),
)
"""Every check that ran passed, yet the run failed: Docker was lost and the run interrupted.
No renderer may show it as "0 errors"."""

SAMPLE_LOG_EXCERPTS: dict[str, str] = {
    "smoke/ml.m5.large/logs/algo-1.log": "\n".join(
        [
            "[train] reading /opt/ml/input/config/hyperparameters.json",
            "[train] hyperparameters: max_leaf_nodes=5 learning_rate=0.1 rounds=6",
            "[train] channel training: 2 file(s), 9315 bytes (File)",
            "[train] channel validation: 1 file(s), 2807 bytes (File)",
            *(f"[train] round {i + 1}/6 train_loss={v}" for i, v in enumerate(TRAIN_LOSS)),
            *(f"[eval] validation_accuracy={v}" for v in VALIDATION_ACCURACY),
            "[train] saving model to /opt/ml/model/model.json (2 files)",
            "[train] done in 24.1 s",
        ]
    ),
    "smoke/ml.m5.large/serve.log": "\n".join(
        [
            "[serve] loading /opt/ml/model/model.json",
            "[serve] listening on 0.0.0.0:8080 (4 workers)",
            'GET /ping 200 0.4ms "-"',
            'POST /invocations 200 6.1ms "text/csv"',
            "[serve] SIGTERM: draining 0 connection(s), bye",
        ]
    ),
    "distributed/ml.m5.4xlarge/logs/algo-1.log": "\n".join(
        [
            "[train] host algo-1 of algo-1,algo-2 (leader)",
            "[train] waiting for algo-2 on port 7777",
            "[train] round 1/6 train_loss=0.731",
            "[train] round 2/6 train_loss=0.6012",
            "[train] SIGTERM received: algo-2 left the ring, stopping",
        ]
    ),
    "distributed/ml.m5.4xlarge/logs/algo-2.log": "\n".join(
        [
            "[train] host algo-2 of algo-1,algo-2",
            "Traceback (most recent call last):",
            '  File "/opt/program/train", line 88, in <module>',
            "    rows = load_csv(channel)",
            '  File "/opt/program/gbm/io.py", line 41, in load_csv',
            '    raise ValueError(f"column {i} of {name} is not numeric: {cell!r}")',
            "ValueError: column 7 of training/part-1.csv is not numeric: 'n/a' <script>",
        ]
    ),
}
"""What `read_log_excerpts` would give for the logs the sample's runs name (one host's log
left out: the page then names it instead of showing it)."""
