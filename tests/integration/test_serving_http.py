"""harness.serving against the reference algorithm's real `serve` container.

The container runs as the harness runs it for SageMaker hosting: `IMAGE serve` on an internal
bridge network (no egress), the trained model mounted read-only at /opt/ml/model, reached from
the host at its network IP. Timing figures go to the tests' user_properties (junit XML).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from harness.serving.http import EndpointClient
from harness.serving.load import RequestSpec, run_load
from harness.serving.ping import PingMonitor, wait_until_healthy

from .conftest import FIXTURES, TEST_LABEL
from .test_reference_algorithm import make_opt_ml, run_train

pytestmark = pytest.mark.docker

DATA = FIXTURES / "algorithms/reference/data"
STARTUP_DELAY_S = 1.0
"""The reference server answers 503 this long before loading its model: /ping must see the
turn from 503 to 200, not only a port that opens."""


@dataclass(frozen=True)
class Served:
    container: Container
    url: str
    started_monotonic: float
    """time.monotonic() when `containers.run` returned (the container is running)."""
    started_wall: float


@pytest.fixture(scope="module")
def model_dir(docker_client, reference_image, tmp_path_factory) -> Path:
    opt_ml = make_opt_ml(tmp_path_factory.mktemp("serving") / "opt_ml", {"epochs": "3"})
    code, logs = run_train(docker_client, reference_image, opt_ml)
    assert code == 0, logs
    return opt_ml / "model"


@pytest.fixture
def network(docker_client: docker.DockerClient) -> Iterator[str]:
    created = docker_client.networks.create(
        f"harness-test-serving-{time.monotonic_ns()}", internal=True, labels={TEST_LABEL: "1"}
    )
    try:
        yield str(created.name)
    finally:
        created.remove()


def serve(client: docker.DockerClient, image: str, model: Path, network: str, **extra) -> Served:
    container = client.containers.run(
        image,
        ["serve"],
        detach=True,
        network=network,
        labels={TEST_LABEL: "1"},
        volumes={str(model): {"bind": "/opt/ml/model", "mode": "ro"}},
        **extra,
    )
    started_monotonic, started_wall = time.monotonic(), time.time()
    container.reload()
    ip = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    return Served(container, f"http://{ip}:8080", started_monotonic, started_wall)


def is_running(container: Container) -> bool:
    try:
        container.reload()
    except docker.errors.NotFound:
        return False
    return container.status == "running"


def log_time(container: Container, needle: str) -> float:
    """Epoch seconds at which the daemon received the first log line containing `needle`."""
    for line in container.logs(timestamps=True).decode().splitlines():
        stamp, _, text = line.partition(" ")
        if needle in text:
            whole, _, fraction = stamp.rstrip("Z").partition(".")
            moment = datetime.fromisoformat(f"{whole}+00:00")
            return moment.timestamp() + float(f"0.{fraction or 0}")
    raise AssertionError(f"no log line with {needle!r}")


@pytest.fixture
def served(docker_client, reference_image, model_dir, network) -> Iterator[Served]:
    running = serve(
        docker_client,
        reference_image,
        model_dir,
        network,
        environment={"REFALGO_STARTUP_DELAY_SECONDS": str(STARTUP_DELAY_S)},
    )
    try:
        yield running
    finally:
        running.container.remove(force=True)


def test_ping_invoke_and_load(served: Served, request: pytest.FixtureRequest) -> None:
    def record_property(name: str, value: object) -> None:
        request.node.user_properties.append((name, value))

    with EndpointClient(served.url) as client:
        ping = wait_until_healthy(
            client,
            startup_timeout=60,
            started=served.started_monotonic,
            is_alive=lambda: is_running(served.container),
        )
        assert ping.healthy, ping.reason
        assert ping.healthy_after_s is not None
        seen_healthy_wall = served.started_wall + ping.healthy_after_s
        ready_wall = log_time(served.container, "model loaded")
        detection_s = seen_healthy_wall - ready_wall
        record_property("healthy_after_container_start_s", round(ping.healthy_after_s, 4))
        record_property("ping_detection_latency_s", round(detection_s, 4))
        record_property("ping_probes", len(ping.probes))
        # DESIGN §5: /ping seen healthy within 0.2 s of the container becoming healthy. The
        # log timestamp is when dockerd read the line, a little after the model was ready.
        assert detection_s < 0.2, (detection_s, ping.to_dict())
        assert ping.healthy_after_s > STARTUP_DELAY_S / 2  # not healthy before the model loaded
        assert {p.status for p in ping.probes[:-1]} <= {0, 503}
        assert 503 in {p.status for p in ping.probes}
        assert not ping.slow_probes

        csv = client.invoke(
            (DATA / "payload.csv").read_bytes(),
            "text/csv",
            accept="text/csv",
            headers={"X-Amzn-SageMaker-Custom-Attributes": "a=1", "X-Amzn-Harness-Unknown": "x"},
        )
        assert (csv.status, csv.content_type, csv.error) == (200, "text/csv", None), csv
        labels = csv.body.decode().splitlines()
        assert len(labels) == 6

        as_json = client.invoke(
            (DATA / "payload.json").read_bytes(), "application/json", accept="application/json"
        )
        assert (as_json.status, as_json.content_type) == (200, "application/json"), as_json
        predictions = json.loads(as_json.body)["predictions"]
        assert [str(p) for p in predictions] == labels

        chunked = client.invoke(
            [line + b"\n" for line in (DATA / "payload.csv").read_bytes().splitlines()],
            "text/csv",
            chunked=True,
        )
        assert (chunked.status, chunked.body) == (200, csv.body)

        unsupported = client.invoke(b"<x/>", "application/xml")
        assert unsupported.status == 415
        params = client.execution_parameters()
        assert params.status == 200
        assert json.loads(params.body)["MaxPayloadInMB"] == 6

        specs = [
            RequestSpec((DATA / "payload.csv").read_bytes(), "text/csv", "text/csv"),
            RequestSpec((DATA / "payload.json").read_bytes(), "application/json"),
        ]
        with PingMonitor(client, interval=0.05) as monitor:
            load = run_load(client, specs, concurrency=4, total=200, timeout=30)
        during = monitor.report()
        record_property("load", json.dumps(load.to_dict()))
        assert (load.requests, load.errors) == (200, 0), load.to_dict()
        assert load.status_counts == {200: 200}
        assert load.p50_ms <= load.p90_ms <= load.p99_ms <= load.max_ms
        assert during.probes, "no /ping during the load"
        assert during.ok, during.to_dict()


def test_a_container_that_dies_ends_the_wait(
    docker_client, reference_image, network, tmp_path
) -> None:
    empty_model = tmp_path / "model"
    empty_model.mkdir()
    running = serve(docker_client, reference_image, empty_model, network)
    try:
        with EndpointClient(running.url) as client:
            ping = wait_until_healthy(
                client,
                startup_timeout=60,
                started=running.started_monotonic,
                is_alive=lambda: is_running(running.container),
            )
        assert not ping.healthy
        assert ping.reason is not None
        assert ping.reason.startswith("the container exited before /ping answered 200")
        assert time.monotonic() - running.started_monotonic < 20
    finally:
        running.container.remove(force=True)
