"""S3 prefixes and local folders kept in step (stale objects and files removed) and the
progress events of a transfer, over real HTTP against a moto server on loopback."""

from __future__ import annotations

import itertools
import os

import pytest

from harness.algorithm import s3_data
from harness.algorithm.s3_data import (
    MIB,
    DownloadResult,
    TransferEvent,
    download_prefix,
    upload_files,
    upload_tree,
)
from harness.errors import AwsAuthError, UsageError
from tests.unit.algorithm.s3_support import bucket, s3
from tests.unit.algorithm.s3_support import list_keys as _keys
from tests.unit.algorithm.s3_support import make_tree as _tree

# ---- stale objects under the harness's prefix ------------------------------------------------


def test_a_file_deleted_locally_is_deleted_under_the_prefix(s3, bucket, tmp_path):
    local = _tree(tmp_path / "train", {"a.csv": b"1\n", "old.csv": b"2\n", "sub/c.csv": b"3\n"})
    upload_tree(s3, local, f"s3://{bucket}/p/train/")
    # Neighbours that share the key prefix but not the folder are not the channel's.
    s3.put_object(Bucket=bucket, Key="p/train2.csv", Body=b"x")
    s3.put_object(Bucket=bucket, Key="p/training/x.csv", Body=b"x")
    (local / "old.csv").unlink()
    (local / "sub" / "c.csv").unlink()
    events: list[TransferEvent] = []
    result = upload_tree(s3, local, f"s3://{bucket}/p/train", events.append)
    assert result.deleted == ("p/train/old.csv", "p/train/sub/c.csv")
    assert result.skipped == ("p/train/a.csv",)
    assert _keys(s3, bucket) == ["p/train/a.csv", "p/train2.csv", "p/training/x.csv"]
    assert [e for e in events if e.action == "delete"] == [
        TransferEvent("delete", "p/train/old.csv", 2, 2),
        TransferEvent("delete", "p/train/sub/c.csv", 2, 2),
    ]


def test_delete_stale_false_keeps_other_objects(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="p/keep.csv", Body=b"k")
    path = tmp_path / "a.csv"
    path.write_bytes(b"1\n")
    result = upload_files(s3, [("a.csv", path)], f"s3://{bucket}/p", delete_stale=False)
    assert (result.uploaded, result.deleted) == (("p/a.csv",), ())
    assert _keys(s3, bucket) == ["p/a.csv", "p/keep.csv"]


def test_upload_files_sends_exactly_the_pairs_given(s3, bucket, tmp_path):
    one = tmp_path / "one.bin"
    one.write_bytes(b"1")
    two = tmp_path / "elsewhere" / "two.bin"
    two.parent.mkdir()
    two.write_bytes(b"22")
    s3.put_object(Bucket=bucket, Key="p/x/folder-marker/", Body=b"")
    result = upload_files(s3, [("x/1.bin", one), ("y/2.bin", two)], f"s3://{bucket}/p/")
    assert result.uploaded == ("p/x/1.bin", "p/y/2.bin")
    assert result.deleted == ("p/x/folder-marker/",)
    assert _keys(s3, bucket) == ["p/x/1.bin", "p/y/2.bin"]
    assert s3.get_object(Bucket=bucket, Key="p/y/2.bin")["Body"].read() == b"22"


def test_stale_objects_are_deleted_in_batches(s3, bucket, tmp_path, monkeypatch):
    for number in range(5):
        s3.put_object(Bucket=bucket, Key=f"p/stale-{number}", Body=b"s")
    monkeypatch.setattr(s3_data, "DELETE_BATCH", 2)
    calls: list[int] = []
    delete_objects = s3.delete_objects

    def counting(**kwargs):
        calls.append(len(kwargs["Delete"]["Objects"]))
        return delete_objects(**kwargs)

    monkeypatch.setattr(s3, "delete_objects", counting)
    path = tmp_path / "a.csv"
    path.write_bytes(b"1\n")
    result = upload_files(s3, [("a.csv", path)], f"s3://{bucket}/p/")
    assert calls == [2, 2, 1]
    assert len(result.deleted) == 5
    assert _keys(s3, bucket) == ["p/a.csv"]


def test_a_refused_delete_is_one_line(s3, bucket, tmp_path, monkeypatch):
    s3.put_object(Bucket=bucket, Key="p/stale", Body=b"s")
    refused = {"Errors": [{"Key": "p/stale", "Code": "AccessDenied", "Message": "Access Denied"}]}
    monkeypatch.setattr(s3, "delete_objects", lambda **kwargs: refused)
    path = tmp_path / "a.csv"
    path.write_bytes(b"1\n")
    with pytest.raises(AwsAuthError) as caught:
        upload_files(s3, [("a.csv", path)], f"s3://{bucket}/p/")
    assert caught.value.one_line().startswith(
        f"s3://{bucket}/p/stale: DeleteObjects refused: AccessDenied: Access Denied"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "no files to upload"),
        ([("../x", "a")], "is not a relative key"),
        ([("a//b", "a")], "is not a relative key"),
        ([("/abs", "a")], "is not a relative key"),
        ([("a", "a"), ("a", "a")], "given twice"),
        ([("a", "missing")], "no such file"),
    ],
)
def test_bad_files_are_refused_before_anything_is_sent(s3, bucket, tmp_path, files, message):
    (tmp_path / "a").write_bytes(b"1")
    s3.put_object(Bucket=bucket, Key="p/keep", Body=b"k")
    pairs = [(key, tmp_path / name) for key, name in files]
    with pytest.raises(UsageError, match=message):
        upload_files(s3, pairs, f"s3://{bucket}/p/")
    assert _keys(s3, bucket) == ["p/keep"]


def test_deleting_stale_objects_at_a_bucket_root_is_refused(s3, bucket, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"1\n")
    with pytest.raises(UsageError, match="bucket's root"):
        upload_files(s3, [("a.csv", path)], f"s3://{bucket}/")
    assert upload_files(s3, [("a.csv", path)], f"s3://{bucket}", delete_stale=False).uploaded


# ---- stale local files ----------------------------------------------------------------------


def test_a_file_deleted_in_s3_is_removed_locally(s3, bucket, tmp_path):
    for key in ("d/a.csv", "d/sub/b.csv", "d/gone/c.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    dest = tmp_path / "dest"
    download_prefix(s3, f"s3://{bucket}/d/", dest)
    s3.delete_object(Bucket=bucket, Key="d/gone/c.csv")
    s3.delete_object(Bucket=bucket, Key="d/sub/b.csv")
    s3.put_object(Bucket=bucket, Key="d/sub/new.csv", Body=b"n")
    (dest / "a.csv.6fA3b2c1").write_bytes(b"half")  # an interrupted download's temporary
    (dest / "empty" / "deeper").mkdir(parents=True)
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "file.csv").write_bytes(b"o")
    (outside / "dir" / "inner.csv").write_bytes(b"i")
    (dest / "file-link").symlink_to(outside / "file.csv")
    (dest / "dir-link").symlink_to(outside / "dir")
    events: list[TransferEvent] = []
    result = download_prefix(s3, f"s3://{bucket}/d/", dest, events.append)
    root = dest.resolve()
    assert isinstance(result, DownloadResult)
    assert result.removed == (root / "a.csv.6fA3b2c1", root / "gone/c.csv", root / "sub/b.csv")
    assert result.files == (root / "a.csv", root / "sub/new.csv")
    assert (result.downloaded, result.skipped) == (("d/sub/new.csv",), ("d/a.csv",))
    left = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    # Links are neither followed nor removed; nothing outside dest is touched.
    assert left == ["a.csv", "dir-link", "file-link", "sub", "sub/new.csv"]
    assert (outside / "file.csv").read_bytes() == b"o"
    assert (outside / "dir" / "inner.csv").read_bytes() == b"i"
    assert {e.action for e in events} == {"skip", "download"}


def test_a_stale_folder_where_an_object_now_goes_is_replaced(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="d/x/inner.csv", Body=b"1")
    dest = tmp_path / "dest"
    download_prefix(s3, f"s3://{bucket}/d/", dest)
    s3.delete_object(Bucket=bucket, Key="d/x/inner.csv")
    s3.put_object(Bucket=bucket, Key="d/x", Body=b"now a file")
    result = download_prefix(s3, f"s3://{bucket}/d/", dest)
    assert result.removed == (dest.resolve() / "x/inner.csv",)
    assert (dest / "x").read_bytes() == b"now a file"


def test_a_file_reached_through_a_link_inside_dest_is_not_stale(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="d/sub/x.csv", Body=b"1")
    dest = tmp_path / "dest"
    (dest / "real").mkdir(parents=True)
    (dest / "sub").symlink_to(dest / "real")
    download_prefix(s3, f"s3://{bucket}/d/", dest)
    again = download_prefix(s3, f"s3://{bucket}/d/", dest)
    assert (again.removed, again.skipped) == ((), ("d/sub/x.csv",))
    assert (dest / "real" / "x.csv").read_bytes() == b"1"


# ---- progress -------------------------------------------------------------------------------


def test_an_empty_file_has_one_event_after_it_was_sent(s3, bucket, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    seen: list[tuple[TransferEvent, bool]] = []

    def progress(event: TransferEvent) -> None:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=event.key).get("KeyCount", 0)
        seen.append((event, listed > 0))

    upload_files(s3, [("empty.csv", path)], f"s3://{bucket}/p/", progress)
    assert seen == [(TransferEvent("upload", "p/empty.csv", 0, 0), True)]
    dest = tmp_path / "dest"
    events: list[TransferEvent] = []
    download_prefix(s3, f"s3://{bucket}/p/", dest, events.append)
    assert events == [TransferEvent("download", "p/empty.csv", 0, 0)]
    assert (dest / "empty.csv").read_bytes() == b""


def _check_progress(events: list[TransferEvent], action: str, size: int) -> None:
    assert [e.action for e in events] == [action] * len(events)
    dones = [e.bytes_done for e in events]
    assert dones[0] == 0
    assert dones[-1] == size
    assert dones.count(size) == 1  # one final event
    middle = dones[1:-1]
    assert middle, "no intermediate event"
    step = min(size // 100, 8 * MIB)
    # Gaps between successive events but the final one (which comes however small the rest).
    steps = [later - earlier for earlier, later in itertools.pairwise(dones[:-1])]
    assert all(gap >= step for gap in steps), "events not throttled"
    assert len(middle) <= 100


def test_multipart_transfers_report_throttled_intermediate_progress(s3, bucket, tmp_path):
    size = 12 * MIB + 5
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(size))
    events: list[TransferEvent] = []
    upload_files(
        s3,
        [("big.bin", path)],
        f"s3://{bucket}/big/",
        events.append,
        multipart_threshold=5 * MIB,
        multipart_chunksize=5 * MIB,
    )
    assert s3.head_object(Bucket=bucket, Key="big/big.bin")["ETag"].strip('"').endswith("-3")
    _check_progress(events, "upload", size)
    events.clear()
    download_prefix(s3, f"s3://{bucket}/big/", tmp_path / "down", events.append)
    _check_progress(events, "download", size)
    assert (tmp_path / "down" / "big.bin").read_bytes() == path.read_bytes()


__all__ = ["bucket", "s3"]  # the fixtures, shared with the other S3 tests
