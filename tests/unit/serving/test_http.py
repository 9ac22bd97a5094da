"""EndpointClient against loopback servers (stdlib and scripted raw bytes); failure texts."""

from __future__ import annotations

import errno
import socket
import threading

import pytest

from harness.errors import UsageError
from harness.serving.http import EndpointClient, InvocationResult, describe_failure
from tests.support import free_port
from tests.unit.serving.fakes import FakeClient

OK_CSV = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 2\r\n\r\n1\n"


def test_invoke_sends_content_type_and_accept_and_returns_the_answer(fake_container):
    with EndpointClient(fake_container.url + "/") as client:
        result = client.invoke(
            b"1,2\n", "text/csv", accept="application/json", headers={"X-Amzn-Unknown": "x"}
        )
    assert result.status == 200
    assert result.ok
    assert result.error is None
    assert result.body == b"1,2\n".upper()
    assert result.content_type == "application/json"
    assert result.latency_s > 0
    (seen,) = fake_container.seen
    assert (seen.method, seen.path) == ("POST", "/invocations")
    assert seen.headers["Content-Type"] == "text/csv"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["X-Amzn-Unknown"] == "x"
    assert seen.headers["Content-Length"] == "4"
    assert seen.headers["Host"] == fake_container.url.removeprefix("http://")


def test_no_accept_header_unless_asked_and_caller_headers_cannot_duplicate(fake_container):
    with EndpointClient(fake_container.url) as client:
        client.invoke(b"a", "text/csv", headers={"content-type": "x/y", "X-A": "1"})
    headers = fake_container.seen[0].headers
    assert "Accept" not in headers
    assert headers["Content-Type"] == "text/csv"
    assert fake_container.seen[0].body == b"a"


@pytest.mark.parametrize(
    "body",
    [b"x" * 600_000, [b"ab", b"", b"cd"], (part for part in [b"ef", b"gh"])],
    ids=["bytes", "list", "generator"],
)
def test_chunked_bodies_use_transfer_encoding(fake_container, body):
    expected = body if isinstance(body, bytes) else None
    with EndpointClient(fake_container.url) as client:
        result = client.invoke(body, "text/csv", chunked=True)
    seen = fake_container.seen[0]
    assert seen.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in seen.headers
    assert seen.body in ((expected,) if expected else (b"abcd", b"efgh"))
    assert result.status == 200
    assert result.body == seen.body.upper()


def test_an_iterable_body_is_joined_when_not_chunked(fake_container):
    with EndpointClient(fake_container.url) as client:
        client.invoke([b"ab", b"cd"], "text/csv")
    assert fake_container.seen[0].body == b"abcd"
    assert fake_container.seen[0].headers["Content-Length"] == "4"


def test_http_errors_are_results_not_exceptions(fake_container):
    with EndpointClient(fake_container.url) as client:
        result = client.invoke(b"fail", "text/csv")
        again = client.invoke(b"a", "text/csv")
    assert (result.status, result.error, result.ok) == (500, None, False)
    assert result.body == b'{"error": "boom"}'
    assert again.ok


def test_ping_and_execution_parameters(fake_container):
    with EndpointClient(fake_container.url) as client:
        ping = client.ping()
        params = client.execution_parameters()
    assert (ping.status, ping.body) == (200, b"\n")
    assert params.status == 200
    assert params.content_type == "application/json"
    assert [s.path for s in fake_container.seen] == ["/ping", "/execution-parameters"]
    assert [s.method for s in fake_container.seen] == ["GET", "GET"]


def test_one_keep_alive_connection_per_thread(fake_container):
    client = EndpointClient(fake_container.url)
    try:
        for _ in range(3):
            client.ping()

        def other_thread() -> None:
            client.ping()
            client.invoke(b"x", "text/csv")

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    finally:
        client.close()
    ports = [seen.client_port for seen in fake_container.seen]
    assert len(set(ports[:3])) == 1
    assert len(set(ports[3:])) == 1
    assert ports[0] != ports[3]


def test_a_base_path_prefixes_every_request(fake_container):
    with EndpointClient(fake_container.url + "/prefix/") as client:
        client.ping()
    assert fake_container.seen[0].path == "/prefix/ping"


@pytest.mark.parametrize("url", ["https://10.0.0.1:8080", "10.0.0.1:8080", "http://"])
def test_only_http_urls(url):
    with pytest.raises(UsageError, match="not an http:// URL"):
        EndpointClient(url)


@pytest.mark.parametrize(
    "headers",
    [{"Content-Length": "3"}, {"Host": "x"}, {"X-A": "a\r\nX-B: b"}, {"X: Y": "z"}, {"X-A": "é€"}],
    ids=["content-length", "host", "crlf", "colon", "not-latin-1"],
)
def test_bad_caller_headers_are_usage_errors(headers):
    with EndpointClient("http://127.0.0.1:9") as client, pytest.raises(UsageError):
        client.invoke(b"x", "text/csv", headers=headers)


# --- answers in every framing, from a scripted server --------------------------------------


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        (OK_CSV, 200, b"1\n"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n1\n\r\n3;x=y\r\nabc\r\n"
            b"0\r\nX-Trailer: t\r\n\r\n",
            200,
            b"1\nabc",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK_CSV, 200, b"1\n"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
        (b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: 3\r\n\r\nabc", 200, b"abc"),
    ],
    ids=["content-length", "chunked", "100-continue", "no-content", "lower-case"],
)
def test_answers_are_read_and_the_connection_kept(scripted, answer, status, body):
    server = scripted([(answer, False), (OK_CSV, False)])
    with EndpointClient(server.url) as client:
        first = client.invoke(b"x", "text/csv")
        second = client.ping()
    assert (first.status, first.body, first.error) == (status, body, None)
    assert second.body == b"1\n"
    assert server.connections == 1


def test_an_answer_without_length_ends_at_close(scripted):
    server = scripted(
        [(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", True), (OK_CSV, False)]
    )
    with EndpointClient(server.url) as client:
        first = client.ping()
        second = client.ping()
    assert (first.status, first.body, first.content_type) == (200, b"all of it", "text/plain")
    assert second.ok
    assert server.connections == 2


def test_connection_close_is_honoured(scripted):
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nA"
    server = scripted([(answer, True), (OK_CSV, False)])
    with EndpointClient(server.url) as client:
        assert client.ping().body == b"A"
        assert client.ping().body == b"1\n"
    assert server.connections == 2


def test_a_kept_connection_the_container_closed_is_reopened(scripted):
    server = scripted([(OK_CSV, True), (OK_CSV, False)])  # closes without saying so
    with EndpointClient(server.url) as client:
        assert client.invoke(b"x", "text/csv").ok
        threading.Event().wait(0.05)
        assert client.invoke(b"y", "text/csv").ok
    assert server.connections == 2


def test_a_request_the_container_drops_is_resent_once_on_a_new_connection(scripted):
    # The second request reaches a connection the server closes without answering (a race
    # between keep-alive timeout and reuse); the client resends it on a fresh connection.
    server = scripted([(OK_CSV, False), (None, False), (OK_CSV, False)])
    with EndpointClient(server.url) as client:
        assert client.ping().ok
        assert client.ping().ok
    assert server.connections == 2
    assert len(server.requests) == 3


def test_a_new_connection_closed_without_answer_is_an_error(scripted):
    server = scripted([(None, False)])
    with EndpointClient(server.url) as client:
        result = client.invoke(b"x", "text/csv")
    assert (result.status, result.error) == (0, "connection closed without a response")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            "response cut short: the connection closed",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            "response cut short: the connection closed",
        ),
        (b"SSH-2.0-OpenSSH\r\n\r\n", "bad response: status line 'SSH-2.0-OpenSSH'"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "bad response: chunk size line b'zz'",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length 'x'"),
    ],
    ids=["short-length", "short-chunked", "not-http", "bad-chunk", "bad-length"],
)
def test_broken_answers_are_error_texts(scripted, answer, error):
    server = scripted([(answer, True)])
    with EndpointClient(server.url) as client:
        result = client.ping()
    assert (result.status, result.error) == (0, error)


def test_connection_refused_is_an_error_text():
    with EndpointClient(f"http://127.0.0.1:{free_port()}") as client:
        result = client.ping(timeout=2.0)
    assert result == InvocationResult(0, None, b"", result.latency_s, "connection refused")


def test_a_silent_server_times_out_within_the_timeout():
    with socket.socket() as listener:  # listens, never accepts: the handshake completes
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        with EndpointClient(f"http://127.0.0.1:{listener.getsockname()[1]}") as client:
            result = client.ping(timeout=0.2)
    assert (result.status, result.error) == (0, "timed out after 0.2 s")
    assert 0.2 <= result.latency_s < 1


def test_a_slow_drip_answer_still_times_out_at_the_deadline():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        stop = threading.Event()

        def drip() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                while not stop.wait(0.05):
                    connection.sendall(b"x")

        thread = threading.Thread(target=drip)
        thread.start()
        with EndpointClient(f"http://127.0.0.1:{listener.getsockname()[1]}") as client:
            result = client.ping(timeout=0.3)
        stop.set()
        thread.join()
    assert result.error == "timed out after 0.3 s"
    assert result.latency_s < 0.6


def test_an_early_answer_is_read_although_sending_failed(scripted):
    # A container that refuses a large body answers 413 and closes before reading it all.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)

        def refuse() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(
                    b"HTTP/1.1 413 Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig"
                )
                connection.shutdown(socket.SHUT_WR)
                threading.Event().wait(0.2)

        thread = threading.Thread(target=refuse)
        thread.start()
        with EndpointClient(f"http://127.0.0.1:{listener.getsockname()[1]}") as client:
            result = client.invoke(b"x" * 50_000_000, "text/csv", timeout=10)
        thread.join()
    assert (result.status, result.body, result.error) == (413, b"big", None)


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connection refused"),
        (ConnectionResetError(errno.ECONNRESET, "reset"), "connection reset by peer"),
        (BrokenPipeError(errno.EPIPE, "pipe"), "connection closed while sending"),
        (OSError(errno.EHOSTUNREACH, "No route"), "no route to host"),
        (OSError(errno.ENETUNREACH, "unreachable"), "network unreachable"),
        (
            socket.gaierror(-2, "Name or service not known"),
            "cannot resolve host: Name or service not known",
        ),
        (TimeoutError("connect"), "connect timed out after 2.0 s"),
        (TimeoutError("timed out"), "timed out after 2.0 s"),
        (TimeoutError(errno.ETIMEDOUT, "Connection timed out"), "connect timed out"),
        (OSError(errno.EMFILE, "Too many open files"), "OSError: [Errno 24] Too many open files"),
    ],
    ids=[
        "refused",
        "reset",
        "pipe",
        "no-route",
        "net-unreachable",
        "dns",
        "connect-timeout",
        "read-timeout",
        "os-connect-timeout",
        "other",
    ],
)
def test_describe_failure(exc, text):
    assert describe_failure(exc, 2) == text


def test_a_fake_transport_sees_the_requests_the_client_would_send():
    endpoint = FakeClient(lambda request: InvocationResult(200, "text/csv", request.body, 0.001))
    result = endpoint.invoke([b"a", b"b"], "text/csv", accept="text/csv", timeout=3, chunked=True)
    assert result.body == b"ab"
    (request,) = endpoint.requests
    assert request.headers == {"Content-Type": "text/csv", "Accept": "text/csv"}
    assert (request.method, request.path, request.timeout, request.chunked) == (
        "POST",
        "/invocations",
        3,
        True,
    )
    assert endpoint.ping().status == 200
    assert endpoint.requests[-1].path == "/ping"
    endpoint.close()
    assert endpoint.closed


def test_repeated_requests_reuse_the_head_but_not_its_length(fake_container):
    with EndpointClient(fake_container.url) as client:
        for body in (b"a", b"bcd", b"", b"efgh" * 1000):
            assert client.invoke(body, "text/csv", accept="text/csv").ok
        client.invoke(b"xy", "text/csv", headers={"X-A": "1"})
    seen = fake_container.seen
    assert [s.body for s in seen[:4]] == [b"a", b"bcd", b"", b"efgh" * 1000]
    assert [s.headers["Content-Length"] for s in seen] == ["1", "3", "0", "4000", "2"]
    assert all(s.headers["Accept"] == "text/csv" for s in seen[:4])
    assert seen[4].headers["X-A"] == "1"
    assert "Accept" not in seen[4].headers
