from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.sagemaker import artifacts
from harness.sagemaker.artifacts import ArtifactInfo, extract_model, pack_folder, pack_model

# tarfile's data filter exists from Python 3.11.4 (Debian 12 ships 3.11.2): test what exists.
FILTER_MODES = [True, False] if hasattr(tarfile, "data_filter") else [False]
FILTER_IDS = ["data-filter", "own-checks"] if len(FILTER_MODES) == 2 else ["own-checks"]
MTIME = 1_700_000_000


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (MTIME, MTIME))
    return root


def _members(archive: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.getmembers()


def _contents(archive: Path) -> dict[str, bytes | str | None]:
    """name -> file bytes, `-> target` for a link, None for a folder."""
    found: dict[str, bytes | str | None] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if member.issym():
                found[member.name] = f"-> {member.linkname}"
            elif member.isdir():
                found[member.name] = None
            else:
                handle = tar.extractfile(member)
                assert handle is not None
                found[member.name] = handle.read()
    return found


def test_pack_writes_a_reproducible_archive(tmp_path):
    model = _tree(tmp_path / "model", {"model.bin": b"weights", "sub/b.txt": b"b", "a.txt": b""})
    (model / "model.bin").chmod(0o600)
    info = pack_model([model], tmp_path / "out" / "model.tar.gz")
    assert info.path == tmp_path / "out" / "model.tar.gz"
    assert info.bytes == info.path.stat().st_size
    assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert (info.files, info.problems, info.conflicts) == (3, (), ())
    members = _members(info.path)
    assert [m.name for m in members] == ["a.txt", "model.bin", "sub", "sub/b.txt"]
    by_name = {m.name: m for m in members}
    assert by_name["model.bin"].mode == 0o600
    assert by_name["model.bin"].mtime == MTIME
    assert by_name["sub"].isdir()
    assert all((m.uid, m.gid, m.uname, m.gname) == (0, 0, "root", "root") for m in members)
    assert _contents(info.path)["model.bin"] == b"weights"
    assert info.path.read_bytes()[4:8] == b"\0\0\0\0"  # no gzip timestamp
    assert not (tmp_path / "out" / "model.tar.gz.partial").exists()

    again = pack_model([model], tmp_path / "again.tar.gz")
    assert again.sha256 == info.sha256


def test_to_dict_is_plain_data(tmp_path):
    info = ArtifactInfo(tmp_path / "m.tar.gz", 10, "ab", 2, ("p",), ("c",))
    assert info.to_dict() == {
        "path": str(tmp_path / "m.tar.gz"),
        "bytes": 10,
        "sha256": "ab",
        "files": 2,
        "problems": ["p"],
        "conflicts": ["c"],
    }


def test_an_empty_folder_packs_into_an_empty_archive(tmp_path):
    (tmp_path / "model").mkdir()
    info = pack_model([tmp_path / "model"], tmp_path / "model.tar.gz")
    assert info.files == 0
    assert _members(info.path) == []


def test_links_inside_are_stored_and_links_leaving_are_reported(tmp_path):
    model = _tree(tmp_path / "model", {"real.bin": b"r", "sub/x": b"x"})
    (tmp_path / "outside").write_bytes(b"secret")
    (model / "alias.bin").symlink_to("real.bin")
    (model / "sub" / "up").symlink_to("../real.bin")
    (model / "sub" / "dir").symlink_to(".")
    (model / "dangling").symlink_to("nothing-here")
    (model / "abs").symlink_to(tmp_path / "outside")
    (model / "escape").symlink_to("../outside")
    (model / "sub" / "escape2").symlink_to("../../outside")
    (model / "sneaky").symlink_to("sub/../..")
    info = pack_model([model], tmp_path / "model.tar.gz")
    contents = _contents(info.path)
    assert contents["alias.bin"] == "-> real.bin"
    assert contents["sub/up"] == "-> ../real.bin"
    assert contents["sub/dir"] == "-> ."
    assert contents["dangling"] == "-> nothing-here"
    assert not {"abs", "escape", "sub/escape2", "sneaky"} & set(contents)
    assert info.files == 6
    assert sorted(info.problems) == [
        f"host 1: abs: symbolic link to {tmp_path / 'outside'} leaves the folder",
        "host 1: escape: symbolic link to ../outside leaves the folder",
        "host 1: sneaky: symbolic link to sub/../.. leaves the folder",
        "host 1: sub/escape2: symbolic link to ../../outside leaves the folder",
    ]


def test_special_files_are_skipped_and_reported(tmp_path):
    model = _tree(tmp_path / "model", {"ok": b"1"})
    os.mkfifo(model / "fifo")
    info = pack_model([model], tmp_path / "model.tar.gz")
    assert list(_contents(info.path)) == ["ok"]
    assert info.problems == ("host 1: fifo: not a regular file (FIFO, socket or device)",)


def test_an_unreadable_file_is_skipped_and_reported(tmp_path, monkeypatch):
    model = _tree(tmp_path / "model", {"locked": b"1", "ok": b"2"})
    real_open = os.open

    def refuse_locked(path, flags, *args):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse_locked)
    info = pack_model([model], tmp_path / "model.tar.gz")
    assert list(_contents(info.path)) == ["ok"]
    assert info.problems == ("host 1: locked: cannot be read (Permission denied)",)
    assert info.files == 1


def test_hosts_merge_with_the_first_writer_winning(tmp_path):
    host1 = _tree(tmp_path / "h1", {"model.bin": b"one", "same.txt": b"s", "shared/a": b"a"})
    host2 = _tree(
        tmp_path / "h2",
        {"model.bin": b"two", "same.txt": b"s", "shared/b": b"b", "extra": b"e"},
    )
    info = pack_model([host1, host2], tmp_path / "model.tar.gz")
    assert _contents(info.path) == {
        "extra": b"e",
        "model.bin": b"one",
        "same.txt": b"s",
        "shared": None,
        "shared/a": b"a",
        "shared/b": b"b",
    }
    assert sorted(info.conflicts) == [
        "model.bin: written by host 1 and host 2 (different); host 1's kept",
        "same.txt: written by host 1 and host 2 (identical); host 1's kept",
    ]
    assert info.files == 5


def test_a_file_and_a_folder_of_the_same_name_clash(tmp_path):
    host1 = _tree(tmp_path / "h1", {"x": b"file", "d/in": b"1"})
    host2 = _tree(tmp_path / "h2", {"x/deep/y": b"2", "d": b"file"})
    host3 = _tree(tmp_path / "h3", {"link-or-file": b"3"})
    (host2 / "link-or-file").symlink_to("d")
    info = pack_model([host1, host2, host3], tmp_path / "model.tar.gz")
    assert _contents(info.path) == {
        "d": None,
        "d/in": b"1",
        "link-or-file": "-> d",
        "x": b"file",
    }
    assert sorted(info.conflicts) == [
        "d: written by host 1 and host 2 (different); host 1's kept",
        "link-or-file: written by host 2 and host 3 (different); host 2's kept",
        "x: written by host 1 and host 2 (different); host 1's kept",
    ]


def test_pack_needs_existing_folders(tmp_path):
    with pytest.raises(UsageError, match="no model folder"):
        pack_model([], tmp_path / "model.tar.gz")
    with pytest.raises(UsageError, match="is not a folder"):
        pack_model([tmp_path / "missing"], tmp_path / "model.tar.gz")


def test_a_destination_that_cannot_be_written_is_a_usage_error(tmp_path):
    model = _tree(tmp_path / "model", {"a": b"1"})
    (tmp_path / "taken").mkdir()
    with pytest.raises(UsageError, match="cannot write"):
        pack_model([model], tmp_path / "taken")
    assert not (tmp_path / "taken.partial").exists()


def test_pack_folder_packs_output_data_the_same_way(tmp_path):
    data = _tree(tmp_path / "output" / "data", {"report.txt": b"r"})
    (data / "out").symlink_to("/etc")
    info = pack_folder(data, tmp_path / "output.tar.gz")
    assert _contents(info.path) == {"report.txt": b"r"}
    assert info.problems == ("host 1: out: symbolic link to /etc leaves the folder",)


def test_extract_round_trips_a_packed_model(tmp_path):
    model = _tree(tmp_path / "model", {"model.bin": b"w", "sub/x": b"x"})
    (model / "link").symlink_to("sub/x")
    info = pack_model([model], tmp_path / "model.tar.gz")
    served = tmp_path / "serve" / "model"
    extract_model(info.path, served)
    assert (served / "model.bin").read_bytes() == b"w"
    assert (served / "sub" / "x").read_bytes() == b"x"
    assert os.readlink(served / "link") == "sub/x"
    assert (served / "model.bin").stat().st_mtime == MTIME
    assert not (tmp_path / "serve" / "model.partial").exists()


def test_extract_into_an_existing_empty_folder(tmp_path):
    info = pack_model([_tree(tmp_path / "model", {"a": b"1"})], tmp_path / "m.tar.gz")
    (tmp_path / "dest").mkdir()
    extract_model(info.path, tmp_path / "dest")
    assert (tmp_path / "dest" / "a").read_bytes() == b"1"


def test_extract_refuses_a_used_destination(tmp_path):
    info = pack_model([_tree(tmp_path / "model", {"a": b"1"})], tmp_path / "m.tar.gz")
    _tree(tmp_path / "dest", {"old": b"x"})
    with pytest.raises(UsageError, match="new or empty folder"):
        extract_model(info.path, tmp_path / "dest")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UsageError, match="new or empty folder"):
        extract_model(info.path, tmp_path / "file")


def _archive(tmp_path: Path, *members: tuple[str, bytes, str]) -> Path:
    """A hand-made tar.gz: (name, type, linkname) per member; regular files hold b"x"."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, linkname in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = linkname
            if kind == tarfile.REGTYPE:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            else:
                tar.addfile(info)
    path = tmp_path / "evil.tar.gz"
    path.write_bytes(buffer.getvalue())
    return path


REG, SYM, LNK = tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
BAD_MEMBERS = [
    (("/etc/cron.d/x", REG, ""), "lands outside"),
    (("../x", REG, ""), "lands outside"),
    (("a/../../x", REG, ""), "lands outside"),
    (("abs-link", SYM, "/etc/passwd"), "links outside"),
    (("sub/up", SYM, "../../x"), "links outside"),
    (("hard", LNK, "../x"), "links outside"),
    (("hard-abs", LNK, "/etc/passwd"), "links outside"),
    (("dev", tarfile.CHRTYPE, ""), "device, FIFO"),
    (("blk", tarfile.BLKTYPE, ""), "device, FIFO"),
    (("fifo", tarfile.FIFOTYPE, ""), "device, FIFO"),
]
BAD_IDS = [
    "absolute",
    "dotdot",
    "dotdot-inside",
    "absolute-link",
    "link-up",
    "hardlink-up",
    "hardlink-absolute",
    "char-device",
    "block-device",
    "fifo",
]


@pytest.mark.parametrize(("member", "message"), BAD_MEMBERS, ids=BAD_IDS)
@pytest.mark.parametrize("data_filter", FILTER_MODES, ids=FILTER_IDS)
def test_extract_refuses_unsafe_members(tmp_path, monkeypatch, member, message, data_filter):
    monkeypatch.setattr(artifacts, "_HAS_DATA_FILTER", data_filter)
    archive = _archive(tmp_path, ("fine", REG, ""), member)
    with pytest.raises(UsageError, match=message) as caught:
        extract_model(archive, tmp_path / "dest")
    assert repr(member[0]) in str(caught.value)
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / "dest.partial").exists()


@pytest.mark.parametrize("data_filter", FILTER_MODES, ids=FILTER_IDS)
def test_extract_accepts_links_that_stay_inside(tmp_path, monkeypatch, data_filter):
    monkeypatch.setattr(artifacts, "_HAS_DATA_FILTER", data_filter)
    archive = _archive(
        tmp_path,
        ("./a", REG, ""),
        ("sub/b", REG, ""),
        ("sub/up", SYM, "../a"),
        ("hard", LNK, "sub/b"),
    )
    extract_model(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "sub" / "up").read_bytes() == b"x"
    assert (tmp_path / "dest" / "hard").read_bytes() == b"x"


@pytest.mark.parametrize("data_filter", FILTER_MODES, ids=FILTER_IDS)
def test_links_escaping_through_other_links_are_refused(tmp_path, monkeypatch, data_filter):
    monkeypatch.setattr(artifacts, "_HAS_DATA_FILTER", data_filter)
    # Each link alone stays inside; followed one after the other they leave the folder.
    archive = _archive(tmp_path, ("here", SYM, "."), ("there", SYM, "here/.."))
    with pytest.raises(UsageError, match="'there' refused") as caught:
        extract_model(archive, tmp_path / "dest")
    assert caught.value.where == str(archive)
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / "dest.partial").exists()


@pytest.mark.parametrize(
    "data",
    [b"not a tar file at all", gzip.compress(b"\0" * 100)[:-12]],
    ids=["garbage", "truncated-gzip"],
)
def test_extract_refuses_unreadable_archives(tmp_path, data):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(data)
    with pytest.raises(UsageError, match="cannot extract"):
        extract_model(archive, tmp_path / "dest")
    assert not (tmp_path / "dest.partial").exists()
