"""The wire level of the serving client: one keep-alive HTTP/1.1 connection on a plain socket.

Only what the SageMaker contract needs: requests with Content-Length or chunked bodies, answers
framed by Content-Length, chunked encoding or connection close; every read and write bounded by
one deadline for the whole exchange. harness/serving/http.py builds the client on it.
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Iterator

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024 * 1024
RECV_BYTES = 64 * 1024
"""Below glibc's mmap threshold: a larger recv() buffer costs an mmap per call."""
CHUNK_BYTES = 256 * 1024
"""Chunk size when a `bytes` body is sent with Transfer-Encoding: chunked."""
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) (\d\d\d)")
_USED_HEADERS = re.compile(
    rb"\r\n(content-length|content-type|transfer-encoding|connection)[ \t]*:([^\r\n]*)", re.I
)


class ProtocolFailure(Exception):
    """An answer that is not the HTTP we can read, or one cut short; the text is the reason."""


class Stale(Exception):
    """A reused connection closed before any byte of the answer: the request may be resent."""


class Connection:
    """One keep-alive HTTP/1.1 connection; used by one thread at a time."""

    def __init__(self, address: tuple[str, int]) -> None:
        self._address = address
        self._sock: socket.socket | None = None
        self._buffer = bytearray()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buffer.clear()

    def exchange(
        self, head: bytes, body: bytes | Iterator[bytes] | None, deadline: float
    ) -> tuple[int, str | None, bytes]:
        """Send one request, read its answer: (status, Content-Type, body)."""
        # A closed idle connection shows when a bytes body is sent (resent once, see Stale);
        # a streamed body cannot be resent, so check first.
        replayable = body is None or isinstance(body, bytes)
        reused = self._sock is not None and (replayable or not self._dropped())
        if not reused:
            self.close()
            try:
                self._sock = socket.create_connection(self._address, _remaining(deadline))
            except TimeoutError as exc:
                raise TimeoutError("connect") from exc
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self._sock is not None
        try:
            self._write(head, body, deadline)
        except (BrokenPipeError, ConnectionResetError) as exc:
            if reused and replayable:
                self.close()
                raise Stale from exc
            # The container may have answered early (413) before closing: read it if so.
            write_error: OSError | None = exc
        else:
            write_error = None
        try:
            status, headers, keep_alive = self._read_head(deadline, stale_ok=reused)
            answer = self._read_body(status, headers, deadline)
        except (OSError, ProtocolFailure) as exc:
            raise (write_error or exc) from None
        except Stale:
            if write_error is not None or not replayable:
                raise ProtocolFailure("connection closed without a response") from None
            raise
        if not keep_alive:
            self.close()
        return status, headers.get("content-type"), answer

    def _dropped(self) -> bool:
        """The container closed the idle connection (or sent bytes nobody asked for)."""
        assert self._sock is not None
        readable, _, _ = select.select([self._sock], [], [], 0)
        return bool(readable)

    def _write(self, head: bytes, body: bytes | Iterator[bytes] | None, deadline: float) -> None:
        sock = self._sock
        assert sock is not None
        self._set_timeout(deadline)
        if body is None or (isinstance(body, bytes) and len(body) <= CHUNK_BYTES):
            sock.sendall(head + (body or b""))
            return
        sock.sendall(head)
        if isinstance(body, bytes):
            sock.sendall(body)
            return
        for chunk in body:
            self._set_timeout(deadline)
            sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")

    def _set_timeout(self, deadline: float) -> None:
        """Each socket call may wait only until the deadline (within 10 ms: settimeout is a
        system call, not worth making before every recv)."""
        assert self._sock is not None
        left = _remaining(deadline)
        current = self._sock.gettimeout()
        if current is None or abs(current - left) > 0.01:
            self._sock.settimeout(left)

    def _fill(self, deadline: float) -> None:
        assert self._sock is not None
        self._set_timeout(deadline)
        data = self._sock.recv(RECV_BYTES)
        if not data:
            raise EOFError
        self._buffer += data

    def _read_until(self, marker: bytes, limit: int, deadline: float) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise ProtocolFailure(f"bad response: no end of line within {limit} bytes")
            self._fill(deadline)
        return self._take(end, len(marker))

    def _read_exact(self, size: int, deadline: float) -> bytes:
        while len(self._buffer) < size:
            self._fill(deadline)
        return self._take(size, 0)

    def _take(self, size: int, skip: int) -> bytes:
        """The first `size` bytes of the buffer, dropping `skip` more."""
        if size <= RECV_BYTES:
            data = bytes(self._buffer[:size])
        else:  # one copy, not two
            with memoryview(self._buffer) as view:
                data = bytes(view[:size])
        del self._buffer[: size + skip]
        return data

    def _read_head(self, deadline: float, *, stale_ok: bool) -> tuple[int, dict[str, str], bool]:
        """Status, the headers we use (lower-case names) and whether the connection stays."""
        while True:
            try:
                head = self._read_until(b"\r\n\r\n", MAX_HEAD_BYTES, deadline)
            except (EOFError, ConnectionResetError) as exc:
                if stale_ok and not self._buffer:
                    self.close()
                    raise Stale from exc
                raise ProtocolFailure("connection closed without a response") from exc
            status_line = _STATUS_LINE.match(head)
            if status_line is None:
                first = head.split(b"\r\n", 1)[0].decode("latin-1")
                raise ProtocolFailure(f"bad response: status line {first[:80]!r}")
            status = int(status_line[2])
            if not 100 <= status < 200:  # skip "100 Continue" and other interim answers
                break
        headers: dict[str, str] = {}
        for name, value in _USED_HEADERS.findall(head):
            key, text = name.lower().decode(), value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (
            status_line[1] == b"1" or "keep-alive" in connection
        )
        return status, headers, keep_alive

    def _read_body(self, status: int, headers: dict[str, str], deadline: float) -> bytes:
        if status in (204, 304):
            return b""
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                return self._read_chunked(deadline)
            if "content-length" in headers:
                try:
                    size = int(headers["content-length"].split(",")[0])
                except ValueError:
                    raise ProtocolFailure(
                        f"bad Content-Length {headers['content-length']!r}"
                    ) from None
                if size > MAX_BODY_BYTES:
                    raise ProtocolFailure(f"response of {size} bytes is over {MAX_BODY_BYTES}")
                return self._read_exact(size, deadline)
            while len(self._buffer) <= MAX_BODY_BYTES:  # no length: the body ends at close
                self._fill(deadline)
            raise ProtocolFailure(f"response is over {MAX_BODY_BYTES} bytes")
        except EOFError:
            if "content-length" in headers or "transfer-encoding" in headers:
                raise ProtocolFailure("response cut short: the connection closed") from None
            body = bytes(self._buffer)
            self.close()  # the connection ended the body
            return body

    def _read_chunked(self, deadline: float) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self._read_until(b"\r\n", 4096, deadline)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise ProtocolFailure(f"bad response: chunk size line {line[:40]!r}") from None
            if size == 0:
                while self._read_until(b"\r\n", MAX_HEAD_BYTES, deadline):  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise ProtocolFailure(f"response is over {MAX_BODY_BYTES} bytes")
            parts.append(self._read_exact(size, deadline))
            self._read_exact(2, deadline)


def _remaining(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError("deadline")
    return left
