"""The certification bundle: what it holds, that it is deterministic, and that verification
catches every kind of tampering with a useful message (harness/report/bundle*.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import tarfile
from datetime import datetime

import pytest

from harness.cli import main
from harness.errors import ExitCode, UsageError
from harness.report.bundle import verify_bundle, write_bundle
from tests.unit.report.bundle_support import (
    BIG,
    JOB,
    STARTED,
    bundle,
    contents,
    extra,
    inputs,
    link,
    members,
    problems_of,
    relisted,
    replaced,
    rewrite,
    run_dir,
    write,
)

# -- writing ---------------------------------------------------------------------------------


def test_bundle_holds_reports_logs_small_artifacts_and_inputs(run_dir, inputs, bundle):
    files = contents(bundle)
    assert set(files) == {
        "report.json",
        "junit.xml",
        "summary.md",
        "report.html",
        f"{JOB}/logs/algo-1.log",
        f"{JOB}/serve.log",
        f"{JOB}/model.tar.gz",
        f"{JOB}/transform/batch.csv.out",
        "inputs/algorithm.json",
        "inputs/harness.yaml",
        "bundle.json",
        "MANIFEST.sha256",
    }
    assert files["inputs/algorithm.json"] == inputs[0].read_bytes()
    assert files["inputs/harness.yaml"] == inputs[1].read_bytes()
    assert files[f"{JOB}/logs/algo-1.log"] == (run_dir / JOB / "logs/algo-1.log").read_bytes()
    assert files["report.json"] == (run_dir / "report.json").read_bytes()
    info = json.loads(files["bundle.json"])
    assert info["format"] == "harness-report-bundle/1"
    assert (info["run_id"], info["verdict"], info["started_at"]) == ("ab12cd34", "pass", STARTED)
    assert info["created_at"] == "2026-11-27T09:00:12+00:00"  # the run's end, not the clock
    assert info["inputs"] == {"request": "inputs/algorithm.json", "plan": "inputs/harness.yaml"}
    left_out = {item["path"]: item for item in info["left_out"]}
    assert set(left_out) == {
        f"{JOB}/output.tar.gz",
        f"{JOB}/escape",
        f"{JOB}/logs-link",
        f"{JOB}/.work",
        f"{JOB}/pipe",
    }
    assert left_out[f"{JOB}/output.tar.gz"]["bytes"] == len(BIG)
    assert "cap" in left_out[f"{JOB}/output.tar.gz"]["reason"]
    assert "symbolic link" in left_out[f"{JOB}/escape"]["reason"]
    assert "hidden" in left_out[f"{JOB}/.work"]["reason"]
    assert "not a regular file" in left_out[f"{JOB}/pipe"]["reason"]


def test_members_are_plain_files_owned_by_nobody_in_order(bundle):
    entries = [info for info, _ in members(bundle)]
    names = [info.name for info in entries]
    assert names[-2:] == ["harness-report/bundle.json", "harness-report/MANIFEST.sha256"]
    assert names[:-2] == sorted(names[:-2])
    started = int(datetime.fromisoformat(STARTED).timestamp())
    for info in entries:
        assert info.isreg()
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert (info.mtime, info.mode) == (started, 0o644)
    with gzip.open(bundle) as file:
        file.read(1)
    assert bundle.read_bytes()[4:8] == started.to_bytes(4, "little")  # gzip header mtime


def test_manifest_is_sha256sum_format(tmp_path, bundle):
    files = contents(bundle)
    lines = files["MANIFEST.sha256"].decode().splitlines()
    assert len(lines) == len(files) - 1
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(files[name]).hexdigest() == digest
    if shutil.which("sha256sum") is None:
        return
    with tarfile.open(bundle) as tar:
        if hasattr(tarfile, "data_filter"):  # 3.12+ warns without a filter; 3.11.2 has none
            tar.extractall(tmp_path / "x", filter="data")
        else:
            tar.extractall(tmp_path / "x")
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", "MANIFEST.sha256"],
        cwd=tmp_path / "x" / "harness-report",
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_same_run_bundles_to_the_same_bytes(run_dir, inputs, bundle):
    first = bundle.read_bytes()
    again = write(run_dir, inputs)  # the earlier bundle, inside the run's folder, is skipped
    assert bundle.read_bytes() == first
    elsewhere = write(run_dir, inputs, destination=run_dir.parent / "copy.tar.gz")
    assert (run_dir.parent / "copy.tar.gz").read_bytes() == first
    assert again.sha256 == elsewhere.sha256 == hashlib.sha256(first).hexdigest()
    assert again.files == len(contents(bundle)) - 1
    assert (again.run_id, again.verdict) == ("ab12cd34", "pass")
    assert not list(run_dir.glob(".*harness-tmp"))


def test_without_a_plan_and_with_clashing_names(tmp_path, run_dir, inputs):
    summary = write_bundle(run_dir, inputs[0], None, tmp_path / "b.tar.gz")
    assert "inputs/harness.yaml" not in contents(summary.path)
    assert json.loads(contents(summary.path)["bundle.json"])["inputs"]["plan"] is None
    other = tmp_path / "elsewhere" / "algorithm.json"
    other.parent.mkdir()
    other.write_text("plan: same name", encoding="utf-8")
    summary = write_bundle(run_dir, inputs[0], other, tmp_path / "c.tar.gz")
    files = contents(summary.path)
    assert files["inputs/algorithm.json"] == inputs[0].read_bytes()
    assert files["inputs/plan-algorithm.json"] == b"plan: same name"
    assert verify_bundle(summary.path).ok


def test_reserved_names_in_the_run_folder_are_left_out(run_dir, inputs, tmp_path):
    (run_dir / "bundle.json").write_text("{}", encoding="utf-8")
    (run_dir / "MANIFEST.sha256").write_text("", encoding="utf-8")
    summary = write(run_dir, inputs)
    assert {item.path for item in summary.left_out} >= {"bundle.json", "MANIFEST.sha256"}
    assert verify_bundle(summary.path).ok


def test_a_file_the_report_names_but_the_run_lacks_is_listed(run_dir, inputs):
    (run_dir / JOB / "model.tar.gz").unlink()
    summary = write(run_dir, inputs)
    reasons = {item.path: item.reason for item in summary.left_out}
    assert reasons[f"{JOB}/model.tar.gz"] == "named by report.json, absent from the run"
    assert verify_bundle(summary.path).ok


def test_write_refuses_a_folder_without_a_report(tmp_path, inputs):
    with pytest.raises(UsageError, match="the run's report is missing"):
        write_bundle(tmp_path, inputs[0], None, tmp_path / "b.tar.gz")
    (tmp_path / "report.json").write_text("[1", encoding="utf-8")
    with pytest.raises(UsageError, match="does not parse"):
        write_bundle(tmp_path, inputs[0], None, tmp_path / "b.tar.gz")


def test_write_refuses_a_missing_request_and_leaves_no_temporary(tmp_path, run_dir):
    with pytest.raises(UsageError, match="the request is missing"):
        write_bundle(run_dir, tmp_path / "nope.json", None, tmp_path / "b.tar.gz")
    with pytest.raises(UsageError, match="cannot write the bundle"):
        write_bundle(run_dir, run_dir / "report.json", None, tmp_path / "no" / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


# -- verifying -------------------------------------------------------------------------------


def test_an_intact_bundle_verifies(bundle):
    result = verify_bundle(bundle)
    assert result.problems == ()
    assert result.ok
    assert result.files_verified == len(contents(bundle)) - 1
    assert (result.run_id, result.verdict) == ("ab12cd34", "pass")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            replaced(f"{JOB}/logs/algo-1.log", b"accuracy=1.0\n"),
            f"{JOB}/logs/algo-1.log: sha256 ",
            id="modified-file",
        ),
        pytest.param(
            lambda e: [m for m in e if not m[0].name.endswith("junit.xml")],
            "junit.xml: listed in MANIFEST.sha256 but missing from the archive",
            id="deleted-file",
        ),
        pytest.param(
            extra(tarfile.TarInfo("harness-report/extra.txt"), b"hi"),
            "extra.txt: in the archive but not listed in MANIFEST.sha256",
            id="extra-file",
        ),
        pytest.param(
            lambda e: [m for m in e if not m[0].name.endswith("MANIFEST.sha256")],
            "MANIFEST.sha256 is missing",
            id="no-manifest",
        ),
        pytest.param(
            extra(tarfile.TarInfo("harness-report/../evil"), b"x"),
            "harness-report/../evil: path climbs out of the bundle with `..` (refused)",
            id="dot-dot-member",
        ),
        pytest.param(
            extra(tarfile.TarInfo("/etc/cron.d/evil"), b"x"),
            "/etc/cron.d/evil: absolute path (refused)",
            id="absolute-member",
        ),
        pytest.param(
            extra(tarfile.TarInfo("elsewhere"), b"x"),
            "elsewhere: outside the harness-report/ folder",
            id="outside-top",
        ),
        pytest.param(
            extra(link("harness-report/passwd", tarfile.SYMTYPE, "/etc/passwd")),
            "harness-report/passwd: symbolic link to '/etc/passwd' (refused",
            id="symlink-member",
        ),
        pytest.param(
            extra(link("harness-report/hard", tarfile.LNKTYPE, "harness-report/junit.xml")),
            "harness-report/hard: hard link",
            id="hardlink-member",
        ),
        pytest.param(
            extra(link("harness-report/null", tarfile.CHRTYPE)),
            "harness-report/null: device file (refused)",
            id="device-member",
        ),
        pytest.param(
            lambda e: [*e, next((i, d) for i, d in e if i.name.endswith("summary.md"))],
            "harness-report/summary.md: in the archive twice",
            id="duplicate-member",
        ),
    ],
)
def test_tampering_is_found(bundle, change, expected):
    assert expected in problems_of(rewrite(bundle, change))


def test_a_removed_manifest_line_is_found(bundle):
    manifest = contents(bundle)["MANIFEST.sha256"].decode()
    kept = "".join(line for line in manifest.splitlines(True) if "summary.md" not in line)
    tampered = rewrite(bundle, replaced("MANIFEST.sha256", kept.encode()))
    assert problems_of(tampered) == "summary.md: in the archive but not listed in MANIFEST.sha256"


def test_a_malformed_manifest_line_is_named(bundle):
    manifest = contents(bundle)["MANIFEST.sha256"] + b"deadbeef  x\n"
    tampered = rewrite(bundle, replaced("MANIFEST.sha256", manifest))
    assert "MANIFEST.sha256 line " in problems_of(tampered)


def test_a_swapped_artifact_is_found_even_with_a_recomputed_manifest(bundle):
    forged = rewrite(bundle, lambda e: relisted(replaced(f"{JOB}/model.tar.gz", b"evil")(e)))
    text = problems_of(forged)
    assert f"{JOB}/model.tar.gz: sha256 " in text
    assert "report.json records for it" in text


def test_bundle_json_must_agree_with_the_report(bundle):
    info = json.loads(contents(bundle)["bundle.json"])
    info["verdict"] = "fail"
    forged = rewrite(
        bundle, lambda e: relisted(replaced("bundle.json", json.dumps(info).encode())(e))
    )
    assert "bundle.json: verdict 'fail' disagrees with report.json's 'pass'" in problems_of(forged)


def test_report_json_must_follow_the_schema(bundle):
    report = json.loads(contents(bundle)["report.json"])
    del report["checks"]
    report["summary"]["pass"] = -1
    forged = rewrite(
        bundle, lambda e: relisted(replaced("report.json", json.dumps(report).encode())(e))
    )
    text = problems_of(forged)
    assert "report.json: $: 'checks' is a required property (report.schema.json)" in text
    assert "report.json: summary.pass: -1 is less than the minimum of 0" in text


def test_a_missing_report_artifact_must_be_listed_as_left_out(bundle):
    forged = rewrite(bundle, lambda e: relisted([m for m in e if "serve.log" not in m[0].name]))
    assert verify_bundle(forged).ok  # serve.log is not one report.json names
    forged = rewrite(bundle, lambda e: relisted([m for m in e if "algo-1.log" not in m[0].name]))
    assert "neither holds it nor lists it as left out" in problems_of(forged)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:20] + bytes(x ^ 0xFF for x in b[20:60]) + b[60:], id="flipped"),
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:-4], id="trailer-cut"),
        pytest.param(lambda b: b + b"garbage", id="appended"),
        pytest.param(lambda b: b"not a bundle at all\n", id="not-gzip"),
        pytest.param(lambda b: gzip.compress(b"not a tar" * 200), id="not-tar"),
    ],
)
def test_a_damaged_archive_is_one_clear_problem(tmp_path, bundle, damage):
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(damage(bundle.read_bytes()))
    result = verify_bundle(broken)
    assert not result.ok
    assert result.problems[0].startswith("not a readable gzip-compressed tar archive: ")


def test_an_unopenable_bundle_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        verify_bundle(tmp_path / "missing.tar.gz")
    with pytest.raises(UsageError, match="cannot read"):
        verify_bundle(tmp_path)


# -- the command line ------------------------------------------------------------------------


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verify_ok(bundle, capsys):
    code, out, err = cli(["report", "verify", str(bundle)], capsys)
    files = len(contents(bundle)) - 1
    assert (code, err) == (ExitCode.OK, "")
    assert out == f"OK: {files} files verified (sha256) — run ab12cd34, verdict pass\n"


def test_cli_verify_invalid_lists_each_problem(bundle, capsys):
    tampered = rewrite(bundle, extra(tarfile.TarInfo("harness-report/extra.txt"), b"hi"))
    code, out, _ = cli(["report", "verify", str(tampered)], capsys)
    assert code == ExitCode.CHECKS_FAILED
    assert out.splitlines() == [
        "extra.txt: in the archive but not listed in MANIFEST.sha256",
        f"INVALID: {tampered}: 1 problem(s)",
    ]


def test_cli_verify_json(bundle, capsys):
    code, out, _ = cli(["report", "verify", "--format", "json", str(bundle)], capsys)
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["ok"] is True
    assert data["problems"] == []
    assert data["run_id"] == "ab12cd34"


def test_cli_unreadable_or_missing_subcommand_exits_4(tmp_path, capsys):
    code, out, err = cli(["report", "verify", str(tmp_path / "none.tar.gz")], capsys)
    assert (code, out) == (ExitCode.USAGE_ERROR, "")
    hint = "(hint: give the path of a harness-report.tar.gz)"
    assert err == f"harness: error: {tmp_path / 'none.tar.gz'}: no such file {hint}\n"
    code, _, err = cli(["report"], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert "SUBCOMMAND" in err


def test_the_files_a_report_names_include_serving_and_transform_logs() -> None:
    from harness.report.bundle_format import files_named_by

    report = {
        "runs": [
            {
                "training": {
                    "model_artifact": {"path": "a/model.tar.gz", "sha256": "00"},
                    "hosts": [{"log": "a/logs/algo-1.log"}],
                },
                "serving": {"log": "a/serve.log"},
                "transform": {"log": "a/transform.log"},
            },
            {"training": None, "serving": {"log": "/abs/serve.log"}},  # not a run-folder path
        ]
    }
    assert sorted(files_named_by(report)) == [
        ("a/logs/algo-1.log", None),
        ("a/model.tar.gz", "00"),
        ("a/serve.log", None),
        ("a/transform.log", None),
    ]


__all__ = ["bundle", "inputs", "run_dir"]  # the fixtures, from bundle_support
