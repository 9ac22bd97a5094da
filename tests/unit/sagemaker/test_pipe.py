"""PipeFeeder against real FIFOs; every wait in these tests is bounded."""

from __future__ import annotations

import gzip
import io
import os
import select
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.sagemaker.channels import ChannelFile
from harness.sagemaker.pipe import PipeFeeder
from harness.sagemaker.recordio import iter_records

LIMIT = 10.0  # seconds any single wait in a test may take before it fails


def _wait(condition, what: str, timeout: float = LIMIT) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _read_fifo(
    path: Path, *, limit: int | None = None, pause: threading.Event | None = None
) -> bytes:
    """Read a FIFO to its end, or close it after `limit` bytes, within LIMIT seconds.

    With `pause`, read one small chunk and then nothing until the event is set (a reader that
    got stuck), then read the rest.
    """
    _wait(path.exists, str(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # never blocks, unlike a plain open
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        data = bytearray()
        end = time.monotonic() + LIMIT
        while limit is None or len(data) < limit:
            if time.monotonic() > end:
                raise AssertionError(f"timed out reading {path}")
            if pause is not None and data and not pause.is_set():
                time.sleep(0.01)
                continue
            if not poller.poll(100):
                continue
            try:
                chunk = os.read(fd, 4096 if pause is not None else 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                break
            data += chunk
        return bytes(data)
    finally:
        os.close(fd)


def _file(root: Path, key: str, data: bytes) -> ChannelFile:
    path = root / "src" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return ChannelFile(key, path, len(data))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def feeders():
    started: list[PipeFeeder] = []
    yield started.append
    for feeder in started:
        assert feeder.stop(timeout=LIMIT)


def _start(feeders, folder: Path, *args, **kwargs) -> PipeFeeder:
    feeder = PipeFeeder(folder, *args, **kwargs)
    feeders(feeder)
    feeder.start()
    return feeder


def test_two_epochs_each_carry_every_file_in_key_order(tmp_path, data_dir, feeders):
    files = (_file(tmp_path, "a.csv", b"1,2\n"), _file(tmp_path, "b/c.csv", b"3,4\n"))
    feeder = _start(feeders, data_dir, "train", files)
    _wait((data_dir / "train_0").exists, "train_0")
    mode = (data_dir / "train_0").stat().st_mode
    assert stat.S_ISFIFO(mode)
    assert stat.S_IMODE(mode) == 0o666
    time.sleep(0.1)
    assert not (data_dir / "train_1").exists()  # the next epoch waits for this one to close

    assert _read_fifo(data_dir / "train_0") == b"1,2\n3,4\n"
    assert _read_fifo(data_dir / "train_1") == b"1,2\n3,4\n"
    _wait((data_dir / "train_2").exists, "train_2")
    assert (data_dir / "train_0").exists()  # earlier FIFOs stay
    assert feeder.stop(timeout=LIMIT)
    stats = feeder.stats
    assert (stats.epochs_served, stats.epochs_closed_early, stats.bytes_written) == (2, 0, 16)
    assert feeder.errors == ()


def test_a_reader_blocked_in_open_is_served(tmp_path, data_dir, feeders):
    files = (_file(tmp_path, "x", b"hello"),)
    _start(feeders, data_dir, "train", files)
    # A plain open() of a FIFO blocks until a writer comes, as most containers read it.
    script = "import sys; sys.stdout.write(open(sys.argv[1], 'rb').read().decode())"
    result = subprocess.run(
        [sys.executable, "-c", script, str(data_dir / "train_0")],
        capture_output=True,
        timeout=LIMIT,
        check=True,
        text=True,
    )
    assert result.stdout == "hello"


def test_a_reader_may_close_early(tmp_path, data_dir, feeders):
    big = bytes(range(256)) * 4096  # 1 MiB: more than a pipe holds
    feeder = _start(feeders, data_dir, "train", (_file(tmp_path, "big", big),))
    assert _read_fifo(data_dir / "train_0", limit=10)[:10] == big[:10]
    assert _read_fifo(data_dir / "train_1") == big
    assert feeder.stop(timeout=LIMIT)
    stats = feeder.stats
    assert (stats.epochs_served, stats.epochs_closed_early) == (2, 1)
    assert feeder.errors == ()


def test_gzip_files_are_decompressed_on_the_way(tmp_path, data_dir, feeders):
    files = (
        _file(tmp_path, "a.csv.gz", gzip.compress(b"1,2\n" * 1000)),
        _file(tmp_path, "b.csv.gz", gzip.compress(b"3,4\n")),
    )
    feeder = _start(feeders, data_dir, "train", files, compression="Gzip")
    assert _read_fifo(data_dir / "train_0") == b"1,2\n" * 1000 + b"3,4\n"
    assert feeder.stop(timeout=LIMIT)
    assert feeder.stats.bytes_written == 4004
    assert feeder.errors == ()


def test_gzip_files_are_sent_as_they_are_without_gzip_compression(tmp_path, data_dir, feeders):
    packed = gzip.compress(b"1,2\n")
    files = (_file(tmp_path, "a.csv.gz", packed),)
    _start(feeders, data_dir, "train", files)
    assert _read_fifo(data_dir / "train_0") == packed


def test_a_file_that_is_not_gzip_ends_the_channel_with_an_error(tmp_path, data_dir, feeders):
    files = (_file(tmp_path, "plain.csv", b"1,2\n"),)
    feeder = _start(feeders, data_dir, "train", files, compression="Gzip")
    _read_fifo(data_dir / "train_0")  # the epoch ends where the bad file starts
    _wait(lambda: feeder.errors, "the error")
    assert "epoch 0: plain.csv" in feeder.errors[0]
    time.sleep(0.1)
    assert not (data_dir / "train_1").exists()


def test_recordio_wraps_each_file_as_one_record(tmp_path, data_dir, feeders):
    files = (_file(tmp_path, "a", b"1,2\n3,4\n"), _file(tmp_path, "b", b"5,6\n"))
    _start(feeders, data_dir, "train", files, record_wrapper="RecordIO")
    stream = io.BytesIO(_read_fifo(data_dir / "train_0"))
    assert list(iter_records(stream)) == [b"1,2\n3,4\n", b"5,6\n"]


def test_recordio_records_hold_decompressed_gzip_files(tmp_path, data_dir, feeders):
    files = (_file(tmp_path, "a.gz", gzip.compress(b"1,2\n")),)
    _start(feeders, data_dir, "train", files, compression="Gzip", record_wrapper="RecordIO")
    assert list(iter_records(io.BytesIO(_read_fifo(data_dir / "train_0")))) == [b"1,2\n"]


def test_channels_are_fed_independently(tmp_path, data_dir, feeders):
    train = _start(feeders, data_dir, "train", [_file(tmp_path, "t", b"T")])
    validation = _start(feeders, data_dir, "validation", [_file(tmp_path, "v", b"V")])
    assert _read_fifo(data_dir / "validation_0") == b"V"
    assert _read_fifo(data_dir / "validation_1") == b"V"
    assert _read_fifo(data_dir / "train_0") == b"T"
    assert train.stop(timeout=LIMIT)
    assert validation.stop(timeout=LIMIT)
    assert validation.stats.epochs_served == 2
    assert train.stats.epochs_served == 1


def test_stop_while_nobody_reads_returns_promptly(tmp_path, data_dir, feeders):
    feeder = _start(feeders, data_dir, "train", (_file(tmp_path, "x", b"x"),))
    _wait((data_dir / "train_0").exists, "train_0")
    began = time.monotonic()
    assert feeder.stop(timeout=LIMIT)
    assert time.monotonic() - began < 1.0
    assert feeder.stats.epochs_served == 0
    assert feeder.errors == ()


def test_stop_while_the_reader_is_stuck_cuts_the_epoch_short(tmp_path, data_dir, feeders):
    big = b"x" * (4 << 20)
    feeder = _start(feeders, data_dir, "train", (_file(tmp_path, "big", big),))
    received: list[bytes] = []
    resume = threading.Event()
    reader = threading.Thread(
        target=lambda: received.append(_read_fifo(data_dir / "train_0", pause=resume)),
        daemon=True,
    )
    reader.start()
    _wait(lambda: feeder.stats.bytes_written > 0, "the first bytes")
    time.sleep(0.1)  # the pipe fills up and the writer waits for room
    began = time.monotonic()
    assert feeder.stop(timeout=LIMIT)
    assert time.monotonic() - began < 1.0
    resume.set()
    reader.join(LIMIT)
    assert not reader.is_alive()
    assert 0 < len(received[0]) < len(big)  # the reader saw the end of a shortened epoch
    assert feeder.stats.epochs_served == 0
    assert not (data_dir / "train_1").exists()


def test_stop_reports_a_writer_that_does_not_end(tmp_path, data_dir, feeders):
    # A channel "file" that is itself a FIFO blocks the feeder in open(): the one way a
    # writer thread can hang, and one that list_channel rules out by skipping FIFOs.
    trap = tmp_path / "trap"
    os.mkfifo(trap)
    feeder = _start(feeders, data_dir, "train", (ChannelFile("trap", trap, 0),))
    _wait((data_dir / "train_0").exists, "train_0")
    reader = os.open(data_dir / "train_0", os.O_RDONLY | os.O_NONBLOCK)
    try:
        time.sleep(0.3)  # the writer opens train_0, then blocks opening the trap
        assert not feeder.stop(timeout=0.1)
        assert feeder.errors == ("channel 'train': writer did not stop within 0.1 s",)
    finally:
        _wait(lambda: _release(trap), "the blocked writer")
        os.close(reader)
    assert feeder.stop(timeout=LIMIT)


def _release(fifo: Path) -> bool:
    """Open and close `fifo` for writing if someone waits to read it: they then read nothing."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        return False
    return True


def test_an_existing_path_in_the_way_is_an_error(tmp_path, data_dir, feeders):
    (data_dir / "train_0").write_bytes(b"left over")
    feeder = _start(feeders, data_dir, "train", (_file(tmp_path, "x", b"x"),))
    _wait(lambda: feeder.errors, "the error")
    assert feeder.stop(timeout=LIMIT)
    assert "FileExistsError" in feeder.errors[0]


def test_a_fifo_removed_while_waiting_is_an_error(tmp_path, data_dir, feeders):
    feeder = _start(feeders, data_dir, "train", (_file(tmp_path, "x", b"x"),))
    _wait((data_dir / "train_0").exists, "train_0")
    (data_dir / "train_0").unlink()
    _wait(lambda: feeder.errors, "the error")
    assert feeder.stop(timeout=LIMIT)
    assert "FileNotFoundError" in feeder.errors[0]


def test_context_manager_starts_and_stops(tmp_path, data_dir):
    with PipeFeeder(data_dir, "train", [_file(tmp_path, "x", b"abc")]) as feeder:
        assert _read_fifo(data_dir / "train_0") == b"abc"
    assert all(
        not thread.is_alive() for thread in threading.enumerate() if thread.name == "pipe-train"
    )
    assert feeder.stats.epochs_served == 1


def test_stop_before_start_is_harmless(data_dir):
    assert PipeFeeder(data_dir, "train", []).stop(timeout=0.1)


def test_start_twice_is_refused(data_dir, feeders):
    feeder = _start(feeders, data_dir, "train", ())
    with pytest.raises(UsageError, match="already been started"):
        feeder.start()


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        PipeFeeder(tmp_path / "missing", "train", []).start()


@pytest.mark.parametrize(
    ("compression", "record_wrapper", "message"),
    [
        ("gzip", "None", "unknown CompressionType 'gzip'"),
        ("None", "Recordio", "unknown RecordWrapperType 'Recordio'"),
    ],
    ids=["compression", "record-wrapper"],
)
def test_bad_settings_are_refused(data_dir, compression, record_wrapper, message):
    with pytest.raises(UsageError, match=message):
        PipeFeeder(data_dir, "train", [], compression, record_wrapper)


def test_an_empty_channel_gives_empty_epochs(data_dir, feeders):
    _start(feeders, data_dir, "train", ())
    assert _read_fifo(data_dir / "train_0") == b""
    assert _read_fifo(data_dir / "train_1") == b""
