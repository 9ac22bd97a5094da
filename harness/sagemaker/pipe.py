"""Pipe input mode: feed each channel through FIFOs `<channel>_<epoch>`, one epoch at a time.

SageMaker gives a Pipe-mode channel as FIFOs named `/opt/ml/input/data/<channel>_<epoch>`,
epoch 0, 1, 2... The container reads one, may close it early, and must close it before reading
the next (contract §1.2). `PipeFeeder` plays SageMaker's side for one channel of one host: the
folder it is given is the one the caller bind-mounts at /opt/ml/input/data.

Compression: SageMaker documents CompressionType=Gzip as "used only in Pipe input mode" but not
whether it decompresses before the data reaches the FIFO (unsourced). The feeder decompresses
on the fly, so the container reads the plain bytes; the reference algorithm accepts both plain
and gzip data in a pipe, so it passes either way.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import select
import threading
import zlib
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UsageError
from harness.plan import COMPRESSIONS, RECORD_WRAPPERS
from harness.sagemaker.channels import ChannelFile
from harness.sagemaker.recordio import encode_record

POLL_SECONDS = 0.02
CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class PipeStats:
    channel: str
    epochs_served: int = 0
    """Epochs a reader opened and the feeder closed: to the end, or early by the reader."""
    epochs_closed_early: int = 0
    """Of those, the epochs the reader closed before reading everything."""
    bytes_written: int = 0
    """Bytes written into the FIFOs (after decompression, with RecordIO framing)."""


class _SourceError(Exception):
    """A channel file could not be read or decompressed (private: it never leaves the thread)."""


class PipeFeeder:
    """The background writer of one Pipe-mode channel of one host.

    A thread creates `<folder>/<channel>_<epoch>`, waits for a reader, streams every file in
    the order given (key order; decompressed when Gzip; each file one record when RecordIO),
    closes the FIFO and only then creates the next epoch's; earlier FIFOs stay. Errors are
    collected in `errors`, never raised from the thread.

        feeder = PipeFeeder(host_data_folder, "train", files, "Gzip", "None")
        feeder.start()
        ...run the container...
        feeder.stop(timeout=5)
        feeder.stats, feeder.errors

    The FIFO is written through a non-blocking descriptor and every wait (for a reader, for
    room in the pipe) lasts at most `poll_seconds` before the stop flag is looked at again, so
    `stop` never hangs, whether nobody reads or the reader is stuck.
    """

    def __init__(
        self,
        folder: Path,
        channel: str,
        files: Sequence[ChannelFile],
        compression: str = "None",
        record_wrapper: str = "None",
        *,
        poll_seconds: float = POLL_SECONDS,
        chunk_bytes: int = CHUNK_BYTES,
    ):
        if compression not in COMPRESSIONS:
            raise UsageError(f"channel {channel!r}: unknown CompressionType {compression!r}")
        if record_wrapper not in RECORD_WRAPPERS:
            raise UsageError(f"channel {channel!r}: unknown RecordWrapperType {record_wrapper!r}")
        self.folder = folder
        self.channel = channel
        self.files = tuple(files)
        self.compression = compression
        self.record_wrapper = record_wrapper
        self._poll_seconds = poll_seconds
        self._chunk_bytes = chunk_bytes
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stats = PipeStats(channel)
        self._errors: list[str] = []
        self._thread: threading.Thread | None = None

    @property
    def stats(self) -> PipeStats:
        with self._lock:
            return self._stats

    @property
    def errors(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._errors)

    def start(self) -> None:
        if self._thread is not None:
            raise UsageError(f"the Pipe-mode feeder of {self.channel!r} has already been started")
        if not self.folder.is_dir():
            raise UsageError(f"Pipe-mode folder {self.folder} does not exist")
        self._thread = threading.Thread(target=self._run, name=f"pipe-{self.channel}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the writer and wait at most `timeout` seconds; True when it has ended.

        An epoch in progress is cut short: its reader sees the end of the data.
        """
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._error(f"writer did not stop within {timeout:g} s")
            return False
        return True

    def __enter__(self) -> PipeFeeder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _error(self, message: str) -> None:
        with self._lock:
            self._errors.append(f"channel {self.channel!r}: {message}")

    def _count(self, *, epochs: int = 0, early: int = 0, written: int = 0) -> None:
        with self._lock:
            old = self._stats
            self._stats = PipeStats(
                self.channel,
                old.epochs_served + epochs,
                old.epochs_closed_early + early,
                old.bytes_written + written,
            )

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # a thread has nobody to raise to: keep it for the caller
            self._error(f"{type(exc).__name__}: {exc}")

    def _serve(self) -> None:
        epoch = 0
        while not self._stop.is_set():
            path = self._make_fifo(f"{self.channel}_{epoch}")
            fd = self._wait_for_reader(path)
            if fd is None:
                return
            try:
                finished = self._stream(fd)
            except BrokenPipeError:
                self._count(epochs=1, early=1)  # the reader closed early: allowed
            except _SourceError as exc:
                self._error(f"epoch {epoch}: {exc}")
                return  # every later epoch would fail the same way
            else:
                if not finished:
                    return
                self._count(epochs=1)
            finally:
                os.close(fd)
            epoch += 1

    def _make_fifo(self, name: str) -> Path:
        """Create the FIFO `name`, readable and writable by every user, in one step.

        mkfifo applies the umask, so the mode is set afterwards, under a hidden name: a reader
        polling for `name` never finds it with the wrong mode (a non-root user could not open it).
        """
        path = self.folder / name
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"{path} already exists")
        hidden = self.folder / f".{name}.creating"
        os.mkfifo(hidden)
        hidden.chmod(0o666)
        hidden.rename(path)
        return path

    def _wait_for_reader(self, path: Path) -> int | None:
        """A write descriptor once a reader has the FIFO open; None when stopped first."""
        while not self._stop.is_set():
            try:
                return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                    raise
            self._stop.wait(self._poll_seconds)
        return None

    def _stream(self, fd: int) -> bool:
        """Write one epoch; False when stopped before the end."""
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        chunks = self._epoch_chunks()
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    if self._stop.is_set():
                        return False
                    try:
                        written = os.write(fd, view)
                    except BlockingIOError:  # the pipe is full: wait for the reader
                        poller.poll(int(self._poll_seconds * 1000))
                        continue
                    view = view[written:]
                    self._count(written=written)
        finally:
            chunks.close()
        return True

    def _epoch_chunks(self) -> Generator[bytes, None, None]:
        for item in self.files:
            try:
                with _open_source(item.path, self.compression) as source:
                    if self.record_wrapper == "RecordIO":
                        # The header needs the length, so the whole (decompressed) file is read.
                        yield encode_record(source.read())
                        continue
                    while chunk := source.read(self._chunk_bytes):
                        yield chunk
            except (OSError, EOFError, zlib.error) as exc:
                raise _SourceError(f"{item.key}: {exc}") from exc


def _open_source(path: Path, compression: str) -> io.BufferedIOBase:
    if compression == "Gzip":
        return gzip.open(path, "rb")
    return path.open("rb")
