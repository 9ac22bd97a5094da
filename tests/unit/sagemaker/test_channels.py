from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.plan import ChannelPlan
from harness.sagemaker.channels import (
    ChannelFile,
    channel_files,
    list_channel,
    shard,
    stage_file_channel,
)


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _files(*keys: str) -> list[ChannelFile]:
    return [ChannelFile(key, Path("/nowhere") / key, 1) for key in keys]


def test_a_file_is_a_channel_of_one_object(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(b"1,2\n")
    assert channel_files(ChannelPlan("train", path)) == [ChannelFile("train.csv", path, 4)]


def test_a_folder_lists_every_file_recursively_by_key(tmp_path):
    root = _tree(tmp_path / "ch", {"b.csv": b"bb", "a/z.csv": b"z", "a/b/c.csv": b"ccc", "A": b""})
    listing = list_channel(ChannelPlan("train", root))
    assert [(f.key, f.size) for f in listing.files] == [
        ("A", 0),
        ("a/b/c.csv", 3),
        ("a/z.csv", 1),
        ("b.csv", 2),
    ]
    assert listing.files[1].path == root / "a" / "b" / "c.csv"
    assert listing.skipped == ()


def test_keys_sort_in_s3_byte_order(tmp_path):
    root = _tree(tmp_path / "ch", {"é.csv": b"", "z.csv": b"", "a-b": b"", "a/b": b""})
    # "-" (0x2d) sorts before "/" (0x2f); "é" (UTF-8 0xc3..) after every ASCII letter.
    assert [f.key for f in channel_files(ChannelPlan("t", root))] == [
        "a-b",
        "a/b",
        "z.csv",
        "é.csv",
    ]


def test_links_inside_the_folder_count_as_files(tmp_path):
    root = _tree(tmp_path / "ch", {"data/real.csv": b"12345"})
    (root / "alias.csv").symlink_to("data/real.csv")
    files = channel_files(ChannelPlan("t", root))
    assert [(f.key, f.size) for f in files] == [("alias.csv", 5), ("data/real.csv", 5)]


def test_links_leaving_the_folder_and_odd_entries_are_skipped(tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_bytes(b"no")
    root = _tree(tmp_path / "ch", {"ok.csv": b"1", "sub/x": b"2"})
    (root / "out.csv").symlink_to(outside)
    (root / "up.csv").symlink_to("../secret.csv")
    (root / "gone.csv").symlink_to("missing.csv")
    (root / "dir-link").symlink_to("sub")
    os.mkfifo(root / "fifo")
    (root / "fifo-link").symlink_to("fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        listing = list_channel(ChannelPlan("t", root))
    assert [f.key for f in listing.files] == ["ok.csv", "sub/x"]
    reasons = {s.key: s.reason for s in listing.skipped}
    assert list(reasons) == sorted(reasons)
    assert "leaves the channel folder" in reasons["out.csv"]
    assert "leaves the channel folder" in reasons["up.csv"]
    assert reasons["gone.csv"] == "dangling symbolic link"
    assert "folder (not followed)" in reasons["dir-link"]
    assert "not a regular file" in reasons["fifo"]
    assert "special file" in reasons["fifo-link"]
    assert "not a regular file" in reasons["sock"]


def test_a_missing_channel_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="neither a file nor a folder"):
        list_channel(ChannelPlan("t", tmp_path / "missing"))


def test_an_empty_folder_has_no_files(tmp_path):
    (tmp_path / "ch").mkdir()
    assert channel_files(ChannelPlan("t", tmp_path / "ch")) == []


def test_fully_replicated_gives_every_host_all_files_sorted():
    files = _files("c", "a", "b")
    for host in range(3):
        assert [f.key for f in shard(files, 3, host, "FullyReplicated")] == ["a", "b", "c"]


def test_sharded_by_key_deals_sorted_keys_round_robin():
    files = _files("k4", "k0", "k3", "k1", "k2")
    shards = [[f.key for f in shard(files, 2, host, "ShardedByS3Key")] for host in range(2)]
    assert shards == [["k0", "k2", "k4"], ["k1", "k3"]]


def test_sharded_by_key_can_leave_a_host_empty():
    assert shard(_files("only"), 2, 1, "ShardedByS3Key") == []
    assert [f.key for f in shard(_files("only"), 1, 0, "ShardedByS3Key")] == ["only"]


@pytest.mark.parametrize(
    ("hosts", "index", "distribution", "message"),
    [
        (0, 0, "FullyReplicated", "host index"),
        (2, 2, "FullyReplicated", "host index"),
        (2, -1, "ShardedByS3Key", "host index"),
        (2, 0, "Sharded", "unknown S3DistributionType"),
    ],
    ids=["no-hosts", "index-too-high", "negative-index", "bad-distribution"],
)
def test_shard_refuses_bad_arguments(hosts, index, distribution, message):
    with pytest.raises(UsageError, match=message):
        shard(_files("a"), hosts, index, distribution)


def test_staging_copies_files_at_their_keys(tmp_path):
    root = _tree(tmp_path / "ch", {"a/b.csv": b"abc", "c.csv": b"12"})
    os.utime(root / "c.csv", (1_000_000, 1_000_000))
    (root / "c.csv").chmod(0o640)
    (root / "alias").symlink_to("c.csv")
    destination = tmp_path / "staged" / "train"
    copied = stage_file_channel(channel_files(ChannelPlan("t", root)), destination)
    assert copied == 3 + 2 + 2
    assert (destination / "a" / "b.csv").read_bytes() == b"abc"
    staged = destination / "c.csv"
    assert staged.read_bytes() == b"12"
    assert staged.stat().st_mtime == 1_000_000
    assert staged.stat().st_mode & 0o777 == 0o640
    assert not (destination / "alias").is_symlink()  # a link is staged as its file's copy
    assert (destination / "alias").read_bytes() == b"12"


def test_staged_copies_are_private(tmp_path):
    root = _tree(tmp_path / "ch", {"x.csv": b"original"})
    destination = tmp_path / "staged"
    stage_file_channel(channel_files(ChannelPlan("t", root)), destination)
    assert (destination / "x.csv").stat().st_ino != (root / "x.csv").stat().st_ino
    (destination / "x.csv").write_bytes(b"changed by the container")
    assert (root / "x.csv").read_bytes() == b"original"


def test_staging_a_sharded_file_list_copies_only_that_shard(tmp_path):
    root = _tree(tmp_path / "ch", {"k0": b"0", "k1": b"1", "k2": b"2"})
    files = shard(channel_files(ChannelPlan("t", root)), 2, 1, "ShardedByS3Key")
    stage_file_channel(files, tmp_path / "host2")
    assert sorted(p.name for p in (tmp_path / "host2").iterdir()) == ["k1"]


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", ""], ids=repr)
def test_staging_refuses_keys_outside_the_destination(tmp_path, key):
    source = tmp_path / "src"
    source.write_bytes(b"x")
    with pytest.raises(UsageError, match="outside"):
        stage_file_channel([ChannelFile(key, source, 1)], tmp_path / "dest")
