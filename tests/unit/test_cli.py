"""The command line: exit codes, output formats, one-line errors, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_request_exits_0(capsys, fixtures_dir):
    code, out, err = run(["validate", str(fixtures_dir / "requests/minimal.json")], capsys)
    assert code == ExitCode.OK
    assert ": valid: 0 errors, 0 warnings" in out
    assert err == ""


def test_invalid_request_exits_1_with_grouped_findings(capsys, fixtures_dir):
    template = fixtures_dir / "requests/aws-marketplace-template.json"
    code, out, _ = run(["validate", str(template)], capsys)
    assert code == ExitCode.CHECKS_FAILED
    assert "SPEC-SEMANTICS (2)" in out
    assert f"{template}:81:5  ValidationSpecification.ValidationOutputS3Prefix" in out


def test_json_format_is_stable(capsys, fixtures_dir):
    template = fixtures_dir / "requests/aws-marketplace-template.json"
    code, out, _ = run(["validate", "--format", "json", str(template)], capsys)
    assert code == ExitCode.CHECKS_FAILED
    report = json.loads(out)
    assert set(report) == {
        "schema_version",
        "harness_version",
        "botocore_version",
        "request",
        "plan",
        "valid",
        "summary",
        "findings",
    }
    assert report["valid"] is False
    assert report["summary"] == {"errors": 2, "warnings": 0}
    first = report["findings"][0]
    assert set(first) == {
        "severity",
        "check_id",
        "rule",
        "path",
        "file",
        "line",
        "column",
        "message",
        "hint",
    }
    assert (first["check_id"], first["rule"], first["path"], first["line"]) == (
        "SPEC-SEMANTICS",
        "stale-template-key",
        "ValidationSpecification.ValidationOutputS3Prefix",
        81,
    )


def test_unparsable_request_is_a_finding_with_line_and_column(capsys, write_file):
    path = write_file("broken.json", '{\n  "AlgorithmName": "x",\n  oops\n}\n')
    code, out, err = run(["validate", str(path)], capsys)
    assert code == ExitCode.CHECKS_FAILED
    assert f"{path}:3:3" in out
    assert "SPEC-PARSE" in out
    assert "Traceback" not in out + err


def test_missing_file_exits_4_with_one_line(capsys, tmp_path):
    code, out, err = run(["validate", str(tmp_path / "none.json")], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert out == ""
    assert err.count("\n") == 1
    assert "file not found" in err
    assert "hint:" in err


def test_bad_arguments_exit_4(capsys):
    code, _, err = run(["validate", "--format", "xml", "x.json"], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert "invalid choice" in err


def test_no_command_prints_help_and_exits_4(capsys):
    code, _, err = run([], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert "validate" in err


def test_plan_is_validated_with_its_request(capsys, tmp_path, fixtures_dir):
    request = json.loads((fixtures_dir / "requests/minimal.json").read_text())
    (tmp_path / "algorithm.json").write_text(json.dumps(request, indent=2))
    (tmp_path / "data").mkdir()
    plan = tmp_path / "harness.yaml"
    plan.write_text(
        "algorithm: algorithm.json\n"
        "profiles:\n"
        "  - name: smoke\n"
        "    instance_types: [ml.m5.large, ml.c5.xlarge]\n"
        "    training:\n"
        "      instance_count: 2\n"
        "      channels:\n"
        "        trainnig: {path: data, content_type: text/csv}\n"
    )
    code, out, _ = run(["validate", "--format", "json", str(plan)], capsys)
    assert code == ExitCode.CHECKS_FAILED
    report = json.loads(out)
    assert report["plan"] == str(plan)
    found = {(f["rule"], f["path"], f["line"]) for f in report["findings"]}
    assert ("channel-known", "profiles[0].training.channels.trainnig", 8) in found
    assert ("required-channel", "profiles[0].training.channels", 7) not in found  # not required
    assert ("instance-type-supported", "profiles[0].instance_types[1]", 4) in found
    assert ("instance-count", "profiles[0].training.instance_count", 6) in found
    assert all(f["file"] == str(plan) for f in report["findings"])


def test_invalid_plan_exits_4(capsys, write_file):
    write_file("algorithm.json", "{}")
    plan = write_file("harness.yaml", "algorithm: algorithm.json\nprofiles: []\nextra: 1\n")
    code, _, err = run(["validate", str(plan)], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert f"{plan}:3:1" in err
    assert "unknown key 'extra'" in err


def test_debug_shows_the_traceback(capsys, tmp_path):
    code, _, err = run(["--debug", "validate", str(tmp_path / "none.json")], capsys)
    assert code == ExitCode.USAGE_ERROR
    assert "Traceback" in err


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_help_imports_no_heavy_library():
    probe = _python(
        "import sys, contextlib, io\n"
        "from harness.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = sorted(m for m in ('botocore', 'boto3', 'docker', 'jinja2', 'regex', 'yaml',"
        " 'rich', 'jsonschema', 's3transfer')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == ""


def test_python_dash_m_harness_works():
    result = subprocess.run(
        [sys.executable, "-m", "harness", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("harness ")


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_grace_periods_must_be_finite_seconds(capsys, value):
    code = main(["run", "plan.yaml", "--sigterm-grace", value])
    assert code == ExitCode.USAGE_ERROR
    assert "--sigterm-grace" in capsys.readouterr().err
    assert main(["run", "plan.yaml", "--serve-sigterm-grace", value]) == ExitCode.USAGE_ERROR


def test_unknown_check_selectors_are_refused_before_anything_runs(capsys):
    code = main(["run", "plan.yaml", "--only", "NOPE", "--skip", "TRAIN-MODLE"])
    assert code == ExitCode.USAGE_ERROR
    err = capsys.readouterr().err
    assert "'NOPE'" in err
    assert "TRAIN-MODEL" in err  # did you mean
