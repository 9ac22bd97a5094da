"""Fixture data to and from S3, over real HTTP against a moto server on loopback."""

from __future__ import annotations

import hashlib
import os
from pathlib import PurePosixPath

import pytest

from harness.algorithm.s3_data import (
    MIB,
    SHA256_METADATA,
    FileDigest,
    TransferEvent,
    check_no_file_folder_clash,
    download_prefix,
    etag_matches,
    file_digest,
    parse_s3_uri,
    relative_local_path,
    s3_client,
    upload_tree,
)
from harness.errors import (
    AwsAuthError,
    AwsUnreachable,
    ExitCode,
    S3NotFound,
    UsageError,
)
from tests.support import free_port
from tests.unit.algorithm.s3_support import bucket, s3
from tests.unit.algorithm.s3_support import list_keys as _keys
from tests.unit.algorithm.s3_support import make_tree as _tree

# ---- pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://my-bucket", ("my-bucket", "")),
        ("s3://my-bucket/", ("my-bucket", "")),
        ("s3://my-bucket/data/train/", ("my-bucket", "data/train/")),
        ("s3://my.bucket.01/data/tr", ("my.bucket.01", "data/tr")),
    ],
)
def test_parse_s3_uri(uri, expected):
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "my-bucket/data",
        "s3:/my-bucket/data",
        "S3://my-bucket/data",
        "https://my-bucket.s3.amazonaws.com/data",
        "s3://",
        "s3:///data",
        "s3://ab/data",
        "s3://My_Bucket/data",
        "s3://-bucket/data",
        "s3://my..bucket/data",
        "s3://my-bucket/" + "k" * 1025,
        "s3://my-bucket/line\nbreak",
    ],
)
def test_bad_s3_uris_are_usage_errors(uri):
    with pytest.raises(UsageError) as caught:
        parse_s3_uri(uri)
    assert caught.value.exit_code == ExitCode.USAGE_ERROR
    assert "\n" not in caught.value.one_line()
    assert "s3://BUCKET/PREFIX" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("key", "prefix", "expected"),
    [
        ("data/train/a.csv", "data/train/", "a.csv"),
        ("data/train/sub/b.csv", "data/train/", "sub/b.csv"),
        # S3Prefix is a prefix of the key string: paths are relative to its last '/'.
        ("data/train/a.csv", "data/tr", "train/a.csv"),
        ("data/train2.csv", "data/tr", "train2.csv"),
        # A prefix naming one object gives that file by its base name.
        ("data/train2.csv", "data/train2.csv", "train2.csv"),
        ("top.csv", "", "top.csv"),
        ("top.csv", "to", "top.csv"),
    ],
)
def test_relative_local_path(key, prefix, expected):
    assert relative_local_path(key, prefix) == PurePosixPath(expected)


@pytest.mark.parametrize(
    "key", ["data/../../evil.txt", "data/./x", "data//y", "data/sub/", "data/..", "data/"]
)
def test_keys_that_cannot_be_files_below_dest_are_refused(key):
    with pytest.raises(UsageError, match="cannot be stored safely"):
        relative_local_path(key, "data/")


def test_a_key_that_is_the_folder_of_another_is_refused():
    check_no_file_folder_clash([PurePosixPath("a.csv"), PurePosixPath("sub/b.csv")])
    with pytest.raises(UsageError, match="cannot both be files"):
        check_no_file_folder_clash([PurePosixPath("sub"), PurePosixPath("sub/b.csv")])


def test_file_digest_and_etags(tmp_path):
    data = bytes(range(256)) * (24 * 1024 + 7)  # 6 MiB + 1792 bytes
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    # Below the threshold: no multipart ETag.
    small = file_digest(path, multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    assert small == FileDigest(
        len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), None
    )
    # Above it: parts of 5 MiB (s3transfer raises the 1 MiB asked for to S3's minimum).
    big = file_digest(path, multipart_threshold=1 * MIB, multipart_chunksize=1 * MIB)
    parts = [data[: 5 * MIB], data[5 * MIB :]]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert big.multipart_etag == f"{expected}-2"
    assert etag_matches(f'"{expected}-2"', big)
    assert etag_matches(f'"{big.md5}"', big)
    assert not etag_matches('"0123456789abcdef0123456789abcdef"', big)


# ---- over HTTP ------------------------------------------------------------------------------


def test_upload_keeps_relative_paths_and_reports_progress(s3, bucket, tmp_path):
    local = _tree(tmp_path / "train", {"a.csv": b"1,2\n", "sub/b.csv": b"3,4,5\n"})
    events: list[TransferEvent] = []
    result = upload_tree(s3, local, f"s3://{bucket}/data/train", events.append)
    assert result.prefix_uri == f"s3://{bucket}/data/train/"
    assert result.uploaded == ("data/train/a.csv", "data/train/sub/b.csv")
    assert result.skipped == ()
    assert result.bytes_uploaded == 10
    assert _keys(s3, bucket) == ["data/train/a.csv", "data/train/sub/b.csv"]
    body = s3.get_object(Bucket=bucket, Key="data/train/sub/b.csv")["Body"].read()
    assert body == b"3,4,5\n"
    head = s3.head_object(Bucket=bucket, Key="data/train/a.csv")
    assert head["Metadata"] == {SHA256_METADATA: hashlib.sha256(b"1,2\n").hexdigest()}
    assert events[0] == TransferEvent("upload", "data/train/a.csv", 0, 4)
    assert TransferEvent("upload", "data/train/a.csv", 4, 4) in events
    assert events[-1] == TransferEvent("upload", "data/train/sub/b.csv", 6, 6)


def test_second_upload_sends_nothing(s3, bucket, tmp_path):
    local = _tree(tmp_path / "train", {"a.csv": b"1,2\n", "sub/b.csv": b"3,4,5\n"})
    upload_tree(s3, local, f"s3://{bucket}/train/")
    events: list[TransferEvent] = []
    again = upload_tree(s3, local, f"s3://{bucket}/train/", events.append)
    assert again.uploaded == ()
    assert again.skipped == ("train/a.csv", "train/sub/b.csv")
    assert (again.bytes_uploaded, again.bytes_skipped) == (0, 10)
    assert {event.action for event in events} == {"skip"}


def test_changed_and_new_files_are_uploaded_again(s3, bucket, tmp_path):
    local = _tree(tmp_path / "train", {"a.csv": b"1,2\n", "b.csv": b"3,4\n"})
    upload_tree(s3, local, f"s3://{bucket}/train/")
    (local / "a.csv").write_bytes(b"9,9\n")  # same size, other bytes
    (local / "c.csv").write_bytes(b"5\n")
    result = upload_tree(s3, local, f"s3://{bucket}/train/")
    assert result.uploaded == ("train/a.csv", "train/c.csv")
    assert result.skipped == ("train/b.csv",)
    assert s3.get_object(Bucket=bucket, Key="train/a.csv")["Body"].read() == b"9,9\n"


def test_a_single_file_goes_under_the_prefix_by_its_name(s3, bucket, tmp_path):
    path = tmp_path / "payload.csv"
    path.write_bytes(b"1\n")
    result = upload_tree(s3, path, f"s3://{bucket}/serving/")
    assert result.uploaded == ("serving/payload.csv",)


def test_objects_uploaded_by_others_are_compared_by_etag(s3, bucket, tmp_path):
    local = _tree(tmp_path / "d", {"same.csv": b"1,2\n", "other.csv": b"3,4\n"})
    # No harness-sha256 metadata: an `aws s3 cp` upload, say.
    s3.put_object(Bucket=bucket, Key="d/same.csv", Body=b"1,2\n")
    s3.put_object(Bucket=bucket, Key="d/other.csv", Body=b"0,0\n")
    result = upload_tree(s3, local, f"s3://{bucket}/d")
    assert result.skipped == ("d/same.csv",)
    assert result.uploaded == ("d/other.csv",)


def test_multipart_upload_above_the_threshold_then_skipped(s3, bucket, tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(6 * MIB + 123)
    path.write_bytes(data)
    events: list[TransferEvent] = []
    result = upload_tree(
        s3,
        path,
        f"s3://{bucket}/big/",
        events.append,
        multipart_threshold=1 * MIB,
        multipart_chunksize=1 * MIB,
    )
    assert result.uploaded == ("big/big.bin",)
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ETag"].strip('"').endswith("-2")  # 5 MiB + the rest: S3's minimum part size
    assert head["ContentLength"] == len(data)
    assert events[-1] == TransferEvent("upload", "big/big.bin", len(data), len(data))
    dones = [event.bytes_done for event in events]
    assert dones == sorted(dones)
    # The same transfer settings: the multipart ETag alone proves the object unchanged.
    again = upload_tree(
        s3, path, f"s3://{bucket}/big/", multipart_threshold=1 * MIB, multipart_chunksize=1 * MIB
    )
    assert again.skipped == ("big/big.bin",)
    # Other settings (a single-part MD5 would not match): the sha256 metadata does.
    default = upload_tree(s3, path, f"s3://{bucket}/big/")
    assert default.skipped == ("big/big.bin",)


@pytest.fixture
def prefix_objects(s3, bucket):
    objects = {
        "data/train/a.csv": b"a\n",
        "data/train/sub/b.csv": b"bb\n",
        "data/train2.csv": b"t2\n",
        "data/other.csv": b"o\n",
        "data/train/folder-marker/": b"",  # what the S3 console's "create folder" leaves
    }
    for key, body in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return bucket


def _relative(paths, root):
    return [path.relative_to(root.resolve()).as_posix() for path in paths]


def test_download_follows_s3prefix_string_semantics(s3, prefix_objects, tmp_path):
    bucket = prefix_objects
    dest = tmp_path / "partial"
    files = download_prefix(s3, f"s3://{bucket}/data/train", dest).files
    assert _relative(files, dest) == ["train/a.csv", "train/sub/b.csv", "train2.csv"]
    assert (dest / "train" / "sub" / "b.csv").read_bytes() == b"bb\n"
    folder = tmp_path / "folder"
    files = download_prefix(s3, f"s3://{bucket}/data/train/", folder).files
    assert _relative(files, folder) == ["a.csv", "sub/b.csv"]


def test_download_of_one_object(s3, prefix_objects, tmp_path):
    bucket = prefix_objects
    files = download_prefix(
        s3, f"s3://{bucket}/data/train2.csv", tmp_path, data_type="S3Object"
    ).files
    assert _relative(files, tmp_path) == ["train2.csv"]
    assert (tmp_path / "train2.csv").read_bytes() == b"t2\n"
    with pytest.raises(S3NotFound, match="no such object"):
        download_prefix(s3, f"s3://{bucket}/data/nope.csv", tmp_path, data_type="S3Object")


def test_second_download_keeps_unchanged_files(s3, prefix_objects, tmp_path):
    bucket = prefix_objects
    download_prefix(s3, f"s3://{bucket}/data/train/", tmp_path)
    (tmp_path / "a.csv").write_bytes(b"x\n")  # same size, other bytes
    events: list[TransferEvent] = []
    download_prefix(s3, f"s3://{bucket}/data/train/", tmp_path, events.append)
    assert {(event.action, event.key) for event in events} == {
        ("download", "data/train/a.csv"),
        ("skip", "data/train/sub/b.csv"),
    }
    assert (tmp_path / "a.csv").read_bytes() == b"a\n"


def test_download_refuses_keys_escaping_dest_before_writing_anything(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="data/ok.csv", Body=b"1\n")
    s3.put_object(Bucket=bucket, Key="data/../../evil.txt", Body=b"x")
    dest = tmp_path / "dest"
    with pytest.raises(UsageError, match="cannot be stored safely") as caught:
        download_prefix(s3, f"s3://{bucket}/data/", dest)
    assert caught.value.exit_code == ExitCode.USAGE_ERROR
    assert not dest.exists()
    assert not (tmp_path / "evil.txt").exists()


def test_download_refuses_a_symlink_in_dest_leading_out(s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="data/sub/x.csv", Body=b"1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    with pytest.raises(UsageError, match="leads outside"):
        download_prefix(s3, f"s3://{bucket}/data/", dest)
    assert list(outside.iterdir()) == []


def test_empty_prefix_is_an_error(s3, bucket, tmp_path):
    with pytest.raises(S3NotFound, match="no objects under this prefix"):
        download_prefix(s3, f"s3://{bucket}/nothing/", tmp_path)


def test_missing_bucket_is_one_line(s3, tmp_path):
    _tree(tmp_path / "d", {"a.csv": b"1\n"})
    for call in (
        lambda: upload_tree(s3, tmp_path / "d", "s3://no-such-bucket-here/d/"),
        lambda: download_prefix(s3, "s3://no-such-bucket-here/d/", tmp_path / "out"),
    ):
        with pytest.raises(S3NotFound) as caught:
            call()
        error = caught.value
        assert error.exit_code == ExitCode.USAGE_ERROR
        assert error.one_line().startswith("s3://no-such-bucket-here/d/: no such bucket")
        assert "\n" not in error.one_line()
        assert error.__suppress_context__  # raised `from None`: no botocore chain to print


def test_bad_uri_and_missing_local_data(s3, tmp_path):
    with pytest.raises(UsageError, match="not an S3 URI"):
        upload_tree(s3, tmp_path, "bucket/prefix")
    with pytest.raises(UsageError, match="no such file or folder"):
        upload_tree(s3, tmp_path / "absent", "s3://some-bucket/p/")
    with pytest.raises(UsageError, match="no files to upload"):
        upload_tree(s3, tmp_path, "s3://some-bucket/p/")


def test_unreachable_endpoint(aws_env, tmp_path):
    client = s3_client(
        region="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1
    )
    with pytest.raises(AwsUnreachable) as caught:
        download_prefix(client, "s3://some-bucket/p/", tmp_path)
    assert caught.value.exit_code == ExitCode.ENGINE_ERROR
    assert "cannot reach AWS" in caught.value.one_line()


def test_no_credentials(aws_env, monkeypatch, moto_endpoint, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = s3_client(region="us-east-1", endpoint_url=moto_endpoint, max_attempts=1)
    with pytest.raises(AwsAuthError) as caught:
        download_prefix(client, "s3://some-bucket/p/", tmp_path)
    assert caught.value.exit_code == ExitCode.ENGINE_ERROR
    assert "aws configure" in (caught.value.hint or "")


def test_access_denied_is_an_auth_error(s3, tmp_path):
    from botocore.stub import Stubber

    with Stubber(s3) as stub:
        stub.add_client_error(
            "list_objects_v2", service_error_code="AccessDenied", http_status_code=403
        )
        with pytest.raises(AwsAuthError) as caught:
            download_prefix(s3, "s3://some-bucket/p/", tmp_path)
    assert caught.value.one_line().startswith(
        "s3://some-bucket/p/: ListObjectsV2 refused: AccessDenied"
    )
    assert "IAM" in (caught.value.hint or "")


__all__ = ["bucket", "s3"]  # the fixtures, shared with the other S3 tests
