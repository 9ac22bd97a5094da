"""HTTP to a serving container: /ping, /invocations and /execution-parameters (contract §2.2).

`EndpointClient` gives every thread its own keep-alive HTTP/1.1 connection, so a load worker or
a ping monitor never queues behind another thread. It never raises for HTTP or network
failures: each call returns an `InvocationResult`, and a failure to get any answer is status 0
with a short `error` text ("connection refused", "timed out after 2.0 s", ...).

    client = EndpointClient("http://172.18.0.2:8080")
    result = client.invoke(b"1,2,3\\n", "text/csv", accept="text/csv")
    result.status, result.content_type, result.body, result.latency_s, result.error
    client.close()

Plain sockets, not requests: DESIGN §3 allows the change when the load benchmark shows the
client is the bottleneck, and bench/bench_load.py does (a pooled requests.Session per worker
reached 0.20-0.37 of wrk's requests/s, GIL-bound at 0.7-0.95 CPU; http.client 0.35-0.5; this
client 0.6-0.86 at 0.3-0.45 CPU). It speaks only what the contract needs: HTTP/1.1 requests
with Content-Length or chunked bodies; answers framed by Content-Length, chunked or close.
A `FakeTransport` answers from a function instead, for tests of what uses a client.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from harness import __version__
from harness.errors import UsageError
from harness.serving.wire import CHUNK_BYTES, Connection, ProtocolFailure, Stale

__all__ = [
    "DEFAULT_PING_TIMEOUT",
    "EndpointClient",
    "FakeRequest",
    "FakeTransport",
    "InvocationResult",
    "SupportsInvoke",
    "SupportsPing",
    "describe_failure",
]

DEFAULT_PING_TIMEOUT = 2.0
"""SageMaker's timeout for one GET /ping (contract §2.2)."""
DEFAULT_INVOKE_TIMEOUT = 600.0
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass(frozen=True)
class InvocationResult:
    """One HTTP exchange as the harness saw it; status 0 means no HTTP answer (see `error`)."""

    status: int
    content_type: str | None
    body: bytes
    latency_s: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """An HTTP answer with a 2xx status."""
        return self.error is None and 200 <= self.status < 300


class SupportsPing(Protocol):
    def ping(self, timeout: float = DEFAULT_PING_TIMEOUT) -> InvocationResult: ...


@runtime_checkable
class SupportsInvoke(Protocol):
    def invoke(
        self,
        body: bytes | Iterable[bytes],
        content_type: str,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_INVOKE_TIMEOUT,
        chunked: bool = False,
    ) -> InvocationResult: ...


class EndpointClient:
    """A serving container's HTTP API at `base_url` (http only), safe to share between threads.

    Each thread that uses the client gets one keep-alive connection of its own, opened on
    first use and reopened when the container closed it; `close()` closes them all.
    `pool_maxsize` is accepted for callers written against the pooled-session client; one
    connection per thread needs no pool. A `transport` (FakeTransport) replaces the network.
    """

    def __init__(
        self,
        base_url: str,
        *,
        pool_maxsize: int = 1,
        transport: Callable[[FakeRequest], InvocationResult] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise UsageError(f"not an http:// URL: {base_url!r}", hint="e.g. http://IP:8080")
        self.base_url = base_url.rstrip("/")
        self.closed = False
        self._address = (parts.hostname, parts.port or 80)
        self._prefix = parts.path.rstrip("/")
        self._host = f"Host: {parts.netloc}\r\nUser-Agent: harness/{__version__}\r\n"
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._transport = transport
        # Request heads by (content type, accept, headers): the load sends the same few again
        # and again, and building one costs as much as parsing the answer.
        self._heads: dict[tuple[str, str | None, tuple[tuple[str, str], ...]], bytes] = {}

    def ping(self, timeout: float = DEFAULT_PING_TIMEOUT) -> InvocationResult:
        return self._send("/ping", self._head("GET", "/ping", {}), None, timeout, {})

    def execution_parameters(self, timeout: float = DEFAULT_PING_TIMEOUT) -> InvocationResult:
        path = "/execution-parameters"
        return self._send(path, self._head("GET", path, {}), None, timeout, {})

    def invoke(
        self,
        body: bytes | Iterable[bytes],
        content_type: str,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_INVOKE_TIMEOUT,
        chunked: bool = False,
    ) -> InvocationResult:
        """POST /invocations; `chunked` sends the body with Transfer-Encoding: chunked."""
        key = (content_type, accept, tuple(headers.items()) if headers else ())
        head = self._heads.get(key)
        if head is None or self._transport is not None:
            sent = _merged(content_type, accept, headers)
            head = self._head("POST", "/invocations", sent)
            if len(self._heads) < 64:
                self._heads[key] = head
        else:
            sent = {}
        if chunked:
            return self._send("/invocations", head + _CHUNKED, _chunks(body), timeout, sent)
        data = _joined(body)
        head += b"Content-Length: %d\r\n\r\n" % len(data)
        return self._send("/invocations", head, data, timeout, sent)

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
            self.closed = True
        for connection in connections:
            connection.close()

    def __enter__(self) -> EndpointClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = Connection(self._address)
            with self._lock:
                self._local.connection = connection
                self._connections.append(connection)
        return connection

    def _send(
        self,
        path: str,
        head: bytes,
        body: bytes | Iterator[bytes] | None,
        timeout: float,
        sent: Mapping[str, str],
    ) -> InvocationResult:
        method = "GET" if body is None else "POST"
        if self._transport is not None:
            chunked = body is not None and not isinstance(body, bytes)
            request = FakeRequest(method, path, sent, _joined(body or b""), timeout, chunked)
            return self._transport(request)
        connection = self._connection()
        started = time.perf_counter()
        deadline = started + timeout
        try:
            try:
                status, content_type, answer = connection.exchange(head, body, deadline)
            except Stale:
                # A kept-alive connection the container had closed: once more on a new one.
                status, content_type, answer = connection.exchange(head, body, deadline)
        except (OSError, ProtocolFailure, Stale) as exc:
            connection.close()
            latency = time.perf_counter() - started
            return InvocationResult(0, None, b"", latency, describe_failure(exc, timeout))
        return InvocationResult(status, content_type, answer, time.perf_counter() - started)

    def _head(self, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        """The request line and headers, without the framing header and the empty line."""
        lines = [f"{method} {self._prefix}{path} HTTP/1.1\r\n{self._host}"]
        for name, value in headers.items():
            if name.lower() in _RESERVED_HEADERS:
                raise UsageError(f"header {name} is set by the client, not by the caller")
            if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
                raise UsageError(f"header {name!r}: {value!r} is not a valid HTTP header")
            lines.append(f"{name}: {value}\r\n")
        if method == "GET":
            lines.append("\r\n")
        try:
            return "".join(lines).encode("latin-1")
        except UnicodeEncodeError as exc:
            raise UsageError(f"HTTP headers must be Latin-1: {exc}") from exc


_CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"


def _merged(
    content_type: str, accept: str | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    """The caller's headers, then Content-Type and Accept (whatever case the caller used)."""
    sent = {name.lower(): (name, value) for name, value in (headers or {}).items()}
    sent["content-type"] = ("Content-Type", content_type)
    if accept is not None:
        sent["accept"] = ("Accept", accept)
    return dict(sent.values())


def _joined(body: bytes | Iterable[bytes]) -> bytes:
    return body if isinstance(body, bytes) else b"".join(body)


def _chunks(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    if isinstance(body, bytes):
        for start in range(0, len(body), CHUNK_BYTES):
            yield body[start : start + CHUNK_BYTES]
        return
    for chunk in body:
        if chunk:  # an empty chunk would end the chunked body early
            yield chunk


# --- turning an exception into a short reason --------------------------------------------------

_ERRNO_TEXT = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "connection closed while sending",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connect timed out",
}


def describe_failure(exc: BaseException, timeout: float) -> str:
    """A short reason for a request that got no HTTP answer, e.g. "connection refused"."""
    if isinstance(exc, Stale):
        return "connection closed without a response"
    if isinstance(exc, ProtocolFailure):
        return str(exc)
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host: {exc.strerror or exc}"
    if isinstance(exc, TimeoutError) and exc.errno is None:
        which = "connect " if exc.args == ("connect",) else ""
        return f"{which}timed out after {float(timeout)} s"
    if isinstance(exc, OSError) and exc.errno in _ERRNO_TEXT:
        return _ERRNO_TEXT[exc.errno]
    return f"{type(exc).__name__}: {exc}"[:300]


# --- a fake for tests of what uses a client ---------------------------------------------------


@dataclass(frozen=True)
class FakeRequest:
    """A request as an `EndpointClient` with a fake transport would have sent it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    timeout: float
    chunked: bool = False


@dataclass
class FakeTransport:
    """Answers every request with `handler(request)` and keeps the requests, in order:

    transport = FakeTransport(lambda r: InvocationResult(200, "text/csv", b"1\\n", 0.001))
    client = EndpointClient("http://container:8080", transport=transport)
    """

    handler: Callable[[FakeRequest], InvocationResult]
    requests: list[FakeRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, request: FakeRequest) -> InvocationResult:
        with self._lock:
            self.requests.append(request)
        return self.handler(request)
