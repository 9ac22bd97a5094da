"""`data_digest`: one sha256 that says which data a run used (report.json `data_sha256`,
`input_sha256`), so that `harness spec` can refuse data changed since."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.plan import ChannelPlan
from harness.sagemaker.channels import ChannelFile, data_digest, list_channel


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _digest(root: Path) -> str:
    return data_digest(list_channel(ChannelPlan("training", root)).files)


def test_the_digest_is_the_documented_lines_sorted_by_key(tmp_path: Path) -> None:
    root = _tree(tmp_path / "data", {"b.csv": b"2,3\n", "a/x.csv": b"1\n", "a.csv": b""})
    expected = hashlib.sha256()
    for key, data in sorted({"b.csv": b"2,3\n", "a/x.csv": b"1\n", "a.csv": b""}.items()):
        expected.update(f"{key}\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    assert _digest(root) == expected.hexdigest()
    files = list(list_channel(ChannelPlan("training", root)).files)
    assert data_digest(list(reversed(files))) == expected.hexdigest()  # order given: no matter


def test_the_same_data_elsewhere_has_the_same_digest(tmp_path: Path) -> None:
    files = {"part-1.csv": b"1,2\n" * 1000, "sub/part-2.csv": b"3,4\n"}
    assert _digest(_tree(tmp_path / "one", files)) == _digest(_tree(tmp_path / "two", files))


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "part-1.csv").write_bytes(b"1,2\n" * 999 + b"1,3\n"),  # same size
        lambda root: (root / "part-1.csv").rename(root / "part-0.csv"),  # another key
        lambda root: (root / "extra.csv").write_bytes(b""),  # one more (empty) object
        lambda root: (root / "sub" / "part-2.csv").unlink(),  # one fewer
    ],
    ids=["bytes", "key", "added", "removed"],
)
def test_any_change_of_the_data_changes_the_digest(tmp_path: Path, change) -> None:
    root = _tree(tmp_path / "data", {"part-1.csv": b"1,2\n" * 1000, "sub/part-2.csv": b"3,4\n"})
    before = _digest(root)
    change(root)
    assert _digest(root) != before


def test_files_larger_than_a_chunk_are_read_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * (5 * 4096 + 7)  # about 5 MiB: several 1 MiB chunks
    root = _tree(tmp_path / "data", {"big.bin": data})
    line = f"big.bin\0{len(data)}\0{hashlib.sha256(data).hexdigest()}\n".encode()
    assert _digest(root) == hashlib.sha256(line).hexdigest()


def test_no_files_is_the_digest_of_nothing() -> None:
    assert data_digest([]) == hashlib.sha256(b"").hexdigest()


def test_the_size_is_the_listing_s(tmp_path: Path) -> None:
    path = _tree(tmp_path, {"a": b"xy"}) / "a"
    assert data_digest([ChannelFile("a", path, 2)]) != data_digest([ChannelFile("a", path, 3)])


def test_an_unreadable_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        data_digest([ChannelFile("gone", tmp_path / "gone", 1)])
