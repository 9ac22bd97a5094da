"""SERVE-* checks from literal observations."""

from __future__ import annotations

from harness.checks.results import CheckStatus
from harness.checks.serving import Invocation, check_invoke, check_latency, check_sigterm
from harness.plan import LoadPlan
from harness.serving.load import LoadReport


def invocation(
    status: int = 200,
    response_type: str | None = "text/csv",
    error: str | None = None,
    purpose: str = "text/csv -> text/csv",
) -> Invocation:
    return Invocation(
        purpose,
        "text/csv",
        "text/csv",
        10,
        status,
        response_type,
        0.01,
        error,
        "" if status == 200 else "boom",
    )


def test_invoke_passes_with_supported_types():
    result = check_invoke([invocation(), invocation()], ["text/csv"], [])
    assert result.status is CheckStatus.PASS


def test_invoke_fails_on_wrong_type_status_or_error():
    wrong = check_invoke([invocation(response_type="text/html")], ["text/csv"], [])
    assert wrong.status is CheckStatus.FAIL
    assert "text/html" in wrong.message
    failed = check_invoke([invocation(status=500)], ["text/csv"], [])
    assert "HTTP 500 'boom'" in failed.message
    refused = check_invoke([invocation(status=0, error="connection refused")], ["text/csv"], [])
    assert "connection refused" in refused.message


def test_invoke_warns_about_uncovered_types_and_skips_without_requests():
    covered = check_invoke([invocation()], ["text/csv"], ["application/x-recordio"])
    assert "application/x-recordio" in covered.warnings[0]
    assert check_invoke([], ["text/csv"], []).status is CheckStatus.SKIP


def load(errors: int = 0, p99: float = 20.0, rps: float = 500.0) -> LoadReport:
    return LoadReport(4, 200, errors, 0.4, rps, 5.0, 10.0, p99, 30.0, {200: 200 - errors}, ())


def test_latency_within_and_outside_bounds():
    assert check_latency(load(), LoadPlan()).status is CheckStatus.PASS
    assert check_latency(load(errors=3), LoadPlan()).status is CheckStatus.FAIL
    slow = check_latency(load(p99=300.0), LoadPlan(max_p99_ms=250.0))
    assert slow.status is CheckStatus.FAIL
    assert "p99 300.0 ms is above the plan's 250.0 ms" in slow.message
    few = check_latency(load(rps=50.0), LoadPlan(min_requests_per_second=100.0))
    assert few.status is CheckStatus.FAIL
    assert check_latency(None, LoadPlan()).status is CheckStatus.SKIP


def test_sigterm():
    assert check_sigterm(0.2, 0, 30).status is CheckStatus.PASS
    killed = check_sigterm(None, 137, 30)
    assert killed.status is CheckStatus.FAIL
    assert "30 s after SIGTERM" in killed.message


def test_requests_derived_from_the_transform_input(tmp_path):
    import gzip
    from pathlib import Path

    from harness.jobs.serving import serving_requests
    from harness.plan import ChannelPlan, ProfilePlan, TrainingPlan, TransformPlan

    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "b.csv.gz").write_bytes(gzip.compress(b"".join(b"%d,1\n" % i for i in range(20))))
    transform = TransformPlan(
        folder, content_type="text/csv", split_type="Line", accept="text/csv", compression="Gzip"
    )
    profile = ProfilePlan(
        "p", ("ml.m5.large",), TrainingPlan((ChannelPlan("training", Path("/data")),)), transform
    )
    (spec,) = serving_requests(profile)
    assert spec.body == b"".join(b"%d,1\n" % i for i in range(10))  # decompressed, 10 lines
    assert (spec.content_type, spec.accept) == ("text/csv", "text/csv")
