"""A stdlib HTTP server on loopback that plays a serving container (no Docker needed)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class FakeContainer:
    url: str
    seen: list[Seen] = field(default_factory=list)
    ping_status: int = 200


def _handler(container: FakeContainer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self, body: bytes) -> None:
            container.seen.append(
                Seen(self.command, self.path, dict(self.headers), body, self.client_address[1])
            )

        def do_GET(self):
            self._record(b"")
            if self.path == "/ping":
                self._answer(container.ping_status, b"\n", "text/plain")
            elif self.path == "/execution-parameters":
                self._answer(
                    200, json.dumps({"MaxConcurrentTransforms": 2}).encode(), "application/json"
                )
            else:
                self._answer(404, b"no", "text/plain")

        def do_POST(self):
            body = self._body()
            self._record(body)
            if body == b"fail":
                self._answer(500, b'{"error": "boom"}', "application/json")
            else:
                self._answer(200, body.upper(), self.headers.get("Accept") or "text/csv")

    return Handler


@pytest.fixture
def fake_container() -> Iterator[FakeContainer]:
    container = FakeContainer("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(container))
    server.daemon_threads = True
    container.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield container
    server.shutdown()
    server.server_close()
    thread.join()


class ScriptedServer:
    """Answers each request, in order, with raw bytes from `answers`; None closes instead.

    `close_after` answers close the connection after they are sent. Requests are kept as raw
    bytes in `requests`; `connections` counts accepted connections.
    """

    def __init__(self, answers: list[tuple[bytes | None, bool]]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                reader = connection.makefile("rb")
                while self.answers:
                    request = _read_request(reader)
                    if request is None:
                        break
                    self.requests.append(request)
                    answer, close_after = self.answers.pop(0)
                    if answer is None:
                        break
                    connection.sendall(answer)
                    if close_after:
                        break
                reader.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() on Linux
        self.listener.close()
        self.thread.join(5)


def _read_request(reader) -> bytes | None:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return None
        head += line
    body = b""
    lowered = head.lower()
    if b"transfer-encoding: chunked" in lowered:
        while True:
            size_line = reader.readline()
            size = int(size_line.split(b";")[0], 16)
            body += size_line + reader.read(size) + reader.readline()
            if size == 0:
                break
    elif b"content-length:" in lowered:
        length = int(lowered.split(b"content-length:")[1].split(b"\r\n")[0])
        body = reader.read(length)
    return head + body


@pytest.fixture
def scripted() -> Iterator[Callable[[list[tuple[bytes | None, bool]]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def make(answers: list[tuple[bytes | None, bool]]) -> ScriptedServer:
        servers.append(ScriptedServer(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
