"""The certification bundle holds this run only (not earlier runs' folders nor the seller's
fetched data), and `report verify` reports a hand-edited bundle.json or report.json of the
wrong shape as problems instead of crashing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import ExitCode
from harness.report.bundle import verify_bundle, write_bundle
from tests.unit.report.bundle_support import (
    JOB,
    bundle,
    contents,
    forged,
    inputs,
    problems_of,
    relisted,
    replaced,
    rewrite,
    run_dir,
    write,
)


def _put(root: Path, relative: str, data: bytes = b"x\n") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# -- only this run ---------------------------------------------------------------------------


def test_only_this_runs_folders_are_bundled(run_dir, inputs):
    _put(run_dir, "s3-data/smoke/channels/training/train.csv", b"seller's data\n")
    _put(run_dir, "smoke/ml.c5.xlarge/logs/algo-1.log")  # an earlier run of another type
    _put(run_dir, "other/ml.m5.large/model.tar.gz")  # an earlier run of another profile
    _put(run_dir, "notes.txt")
    _put(run_dir, "inputs/algorithm.json")
    summary = write(run_dir, inputs)
    files = contents(summary.path)
    assert not [name for name in files if name.startswith(("s3-data", "other", "notes"))]
    assert not [name for name in files if "ml.c5.xlarge" in name]
    assert f"{JOB}/logs/algo-1.log" in files
    reasons = {item.path: item.reason for item in summary.left_out}
    for name in ("s3-data/", "smoke/ml.c5.xlarge/", "other/", "notes.txt", "inputs/"):
        assert reasons[name] == "not part of this run"
    info = json.loads(files["bundle.json"])
    assert info["run_folders"] == [f"{JOB}/"]
    assert "Only this run is bundled" in info["notes"][0]
    assert verify_bundle(summary.path).ok


def test_a_run_folder_is_also_where_report_json_puts_its_files(run_dir, inputs):
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    report["runs"][0]["training"]["hosts"][0]["log"] = "moved/here/logs/algo-1.log"
    report["runs"][0]["serving"] = {"log": "serve-top.log"}
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    _put(run_dir, "moved/here/logs/algo-1.log")
    _put(run_dir, "moved/here/model-extra.bin")
    _put(run_dir, "serve-top.log")
    summary = write(run_dir, inputs)
    files = contents(summary.path)
    assert {"moved/here/logs/algo-1.log", "moved/here/model-extra.bin", "serve-top.log"} <= set(
        files
    )
    assert json.loads(files["bundle.json"])["run_folders"] == ["moved/here/", f"{JOB}/"]
    assert verify_bundle(summary.path).ok


def test_a_report_with_runs_of_the_wrong_shape_still_bundles(run_dir, inputs):
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    report["runs"] = 5
    (run_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    summary = write(run_dir, inputs)
    assert not [name for name in contents(summary.path) if name.startswith("smoke/")]
    assert "report.json: runs: 5 is not of type 'array'" in problems_of(summary.path)


# -- verify: every value type-checked ----------------------------------------------------------


def _set(key: str, value: Any) -> Any:
    return lambda info: info.__setitem__(key, value)


def _left_out_item(key: str, value: Any) -> Any:
    return lambda info: info["left_out"][0].__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda info: info["inputs"].__setitem__("request", ["x"]),
            "bundle.json: inputs.request is a list, not a string or null",
            id="input-list",
        ),
        pytest.param(
            lambda info: info["inputs"].__setitem__("plan", {"a": 1}),
            "bundle.json: inputs.plan is an object, not a string or null",
            id="input-object",
        ),
        pytest.param(_set("inputs", "x"), "inputs is a string, not an object", id="inputs-text"),
        pytest.param(lambda info: info.pop("inputs"), "inputs is null", id="inputs-missing"),
        pytest.param(_set("left_out", 5), "left_out is a number, not a list", id="left-out-num"),
        pytest.param(
            _set("left_out", [5, None]),
            "left_out[0] is a number, not an object",
            id="left-out-item-number",
        ),
        pytest.param(
            _left_out_item("path", ["a"]),
            "left_out[0].path is a list, not a string",
            id="left-out-path-list",
        ),
        pytest.param(
            _left_out_item("bytes", "5"),
            "left_out[0].bytes is a string, not a whole number or null",
            id="left-out-bytes-text",
        ),
        pytest.param(_set("limits", []), "limits is a list, not an object", id="limits-list"),
        pytest.param(
            lambda info: info["limits"].__setitem__("max_file_bytes", True),
            "limits.max_file_bytes is a boolean, not a whole number",
            id="limit-bool",
        ),
        pytest.param(_set("created_at", 5), "created_at is a number", id="created-at-number"),
        pytest.param(_set("run_folders", "x"), "run_folders is a string", id="run-folders-text"),
        pytest.param(_set("notes", [1]), "notes is a list, not a list of strings", id="notes"),
        pytest.param(_set("format", ["x"]), "format ['x'] is not", id="format-list"),
    ],
)
def test_a_malformed_bundle_json_is_a_problem_not_a_crash(bundle, change, expected):
    assert expected in problems_of(forged(bundle, "bundle.json", change))


def test_cli_verify_of_a_malformed_bundle_json_exits_1(bundle, capsys):
    tampered = forged(bundle, "bundle.json", lambda i: i["inputs"].update(request=["x"]))
    code = main(["report", "verify", str(tampered)])
    out, err = capsys.readouterr()
    assert (code, err) == (ExitCode.CHECKS_FAILED, "")
    assert "bundle.json: inputs.request is a list, not a string or null" in out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda report: report.__setitem__("runs", 5), "runs: 5 is not of type", id="runs"
        ),
        pytest.param(
            lambda report: report["runs"].__setitem__(0, "x"), "'x' is not of type", id="run"
        ),
    ],
)
def test_a_malformed_report_json_is_a_problem_not_a_crash(bundle, change, expected):
    assert expected in problems_of(forged(bundle, "report.json", change))


def test_hosts_of_the_wrong_shape_are_not_a_crash(bundle):
    hosts = forged(bundle, "report.json", lambda r: r["runs"][0]["training"].update(hosts=5))
    # The schema leaves a training record's hosts open; the files it names are then none.
    assert "algo-1.log" not in "\n".join(verify_bundle(hosts).problems)


@pytest.mark.parametrize("name", ["bundle.json", "report.json"])
def test_json_nested_too_deeply_is_a_problem(bundle, name):
    text = contents(bundle)[name].rstrip().removesuffix(b"}")
    text += b', "deep": ' + b"[" * 50000 + b"]" * 50000 + b"}"
    nested = rewrite(bundle, lambda e: relisted(replaced(name, text)(e)))
    assert f"{name}: nested too deeply to be read" in problems_of(nested)


def test_write_bundle_accepts_a_folder_without_runs(tmp_path, inputs):
    out = tmp_path / "bare"
    out.mkdir()
    (out / "report.json").write_text('{"runs": [{"profile": "../x"}]}', encoding="utf-8")
    _put(out, "x/y.log")
    summary = write_bundle(out, inputs[0], None, tmp_path / "b.tar.gz")
    assert set(contents(summary.path)) == {
        "report.json",
        "inputs/algorithm.json",
        "bundle.json",
        "MANIFEST.sha256",
    }
    assert {item.path for item in summary.left_out} == {"x/"}


__all__ = ["bundle", "inputs", "run_dir"]  # the fixtures, from bundle_support
